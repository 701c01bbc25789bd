"""Scale benchmark: a store of N clauses made from the real clauses of a store, and the speed and
memory of every query path over it (issue #20).

The N clauses are copies of the source store's real clauses (copy 0 as it is, copy ``j`` with
the first sentence of another clause of the same document appended, ids suffixed ``~j``), with
their real tags and their real vectors mixed with the real vector of the clause they borrowed a
sentence from, plus noise (:func:`vary`): no random text and no re-encoding. Query vectors are the real question embeddings
of ``evaluation/data/retrieval_queries.json`` (English ones, by the store's model) plus
sums of random clause vectors (:func:`~migralex.index.vectors.calibration_queries`).

Also :func:`bench_index_types`: flat, IVF-Flat, IVF-SQ8 and HNSW32 compared on the same varied
vectors (the basis of :data:`~migralex.index.vectors.FLAT_LIMIT` and the IVF-SQ8 choice).

Usage::

    python -m migralex.evaluation.speed --scale 100000 --source-store store-full [--json]
    python -m migralex.evaluation.speed --index-types 10000,100000 --source-store store-full
"""

from __future__ import annotations

import gc
import json
import math
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.models import Clause, Document, Tag
from migralex.corpus.store import Filters, Store
from migralex.evaluation.retrieval import load_queries, percentile

#: A copied clause's vector: its own real vector, plus :data:`MIX` times the real vector of
#: the clause whose first sentence its text gained, plus isotropic noise of norm
#: :data:`VECTOR_NOISE`, renormalised (cosine ~ .93 to the original). Copies spread between real
#: clauses as recombined wording would, instead of sitting in tight clumps of near-duplicates
#: (isotropic noise alone made every index look better than on real data: nprobe 2 at 100k).
MIX = 0.3
VECTOR_NOISE = 0.25
#: Filters of the filtered hybrid queries, used in turn.
FILTERS = (
    Filters(kinds=("ssa",)),
    Filters(languages=("en",)),
    Filters(tags=("totalisation",)),
)


def _rss_mb() -> float:
    """The resident memory of this process now, MB (Linux ``/proc``)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _folder_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20


def _ms(times: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 95), 2),
    }


def vary(vec: np.ndarray, other: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Real vectors ``(n, dim)`` mixed with the real vectors ``other`` ``(n, dim)`` of the
    clauses their text borrowed from, plus noise (:data:`MIX`, :data:`VECTOR_NOISE`),
    renormalised: float32 ``(n, dim)``."""
    e = rng.standard_normal(vec.shape).astype(np.float32)
    e *= VECTOR_NOISE / np.linalg.norm(e, axis=1, keepdims=True)
    out = vec + MIX * other + e
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def _first_sentence(text: str) -> str:
    m = re.search(r"^(.{20,300}?[.;:])(\s|$)", " ".join(text.split()))
    return m.group(1) if m else " ".join(text.split())[:200]


def _copies(
    source: Store, n: int, seed: int
) -> Iterator[tuple[Document, list[Clause], list[Tag], np.ndarray, list[str]]]:
    """Yield varied copies of the source documents until ``n`` clauses are made."""
    rng = np.random.default_rng(seed)
    parts = []  # read once: (document, clauses, their tags, their vectors)
    for doc in source.documents():
        all_clauses = source.clauses(doc.doc_id)
        if all_clauses:
            rowids = [source.rowid_of(c.clause_id) for c in all_clauses]
            parts.append(
                (doc, all_clauses, source.tags_for(c.clause_id for c in all_clauses),
                 source.vectors_by_rowid(rowids))
            )  # fmt: skip
    made = 0
    copy = 0
    while made < n:
        for doc, all_clauses, tags, all_vecs in parts:
            clauses = all_clauses[: n - made]
            if not clauses:
                return
            vecs = all_vecs[: len(clauses)]
            suffix = f"~{copy}"
            doc_id = doc.doc_id + suffix
            texts = []
            borrowed = [(i + 1 + copy * 7) % len(all_clauses) for i in range(len(clauses))]
            for c, j in zip(clauses, borrowed, strict=True):
                if copy == 0:
                    texts.append(c.text)
                else:  # another clause's first sentence appended: new wording, same tags
                    texts.append(f"{c.text} {_first_sentence(all_clauses[j].text)}")
            new_clauses, new_tags, pos = [], [], 0
            for c, text in zip(clauses, texts, strict=True):
                cid = c.clause_id.replace(doc.doc_id, doc_id, 1)
                new_clauses.append(
                    Clause(
                        cid,
                        doc_id,
                        c.ordinal,
                        c.label,
                        c.heading,
                        c.path,
                        text,
                        pos,
                        pos + len(text),
                        1,
                        1,
                        c.language,
                        c.context,
                    )  # fmt: skip
                )
                new_tags += [
                    Tag(cid, t.name, t.start, t.end, t.text, t.rule, t.exception, t.negated)
                    for t in tags.get(c.clause_id, [])
                ]
                pos += len(text) + 2
            out = Document(
                doc_id, f"{doc.title} ({suffix})", doc.kind, doc.language, doc.parties,
                f"{doc.source_path}{suffix}", f"{copy:08x}{doc.sha256[8:]}", 1,
                "\n\n".join(texts),
            )  # fmt: skip
            vecs = vecs if copy == 0 else vary(vecs, all_vecs[borrowed], rng)
            shas = [f"scale{suffix}:{c.clause_id}" for c in new_clauses]
            made += len(new_clauses)
            yield out, new_clauses, new_tags, vecs, shas
            if made >= n:
                return
        copy += 1


def build_scale_store(source: Path, target: Path, n: int, seed: int = 0) -> dict[str, Any]:
    """Write a store of ``n`` clauses varied from ``source``'s (main vector set only).

    Returns:
        ``{"clauses", "documents", "seconds", "store_mb"}``.

    Raises:
        StoreError: the source store has no vectors.
    """
    if target.exists():
        shutil.rmtree(target)
    t0 = time.perf_counter()
    docs = 0
    with Store(source) as src, Store(target) as dst:
        model = src.model
        if model is None or not src.count_vectors():
            from migralex.corpus.errors import StoreError

            raise StoreError(f"{source}: no clause vectors to vary")
        for doc, clauses, tags, vecs, shas in _copies(src, n, seed):
            dst.write_document(doc, clauses, tags, vecs, model, passage_shas=shas)
            docs += 1
        count = dst.count_clauses()
    return {
        "clauses": count,
        "documents": docs,
        "seconds": round(time.perf_counter() - t0, 1),
        "store_mb": round(_folder_mb(target), 1),
    }


def question_vectors(store: Store) -> np.ndarray:
    """The English questions of ``evaluation/data/retrieval_queries.json`` embedded by the
    store's model as queries: float32 ``(q, dim)``."""
    from migralex.ui import service

    texts = [q.text for q in load_queries().values() if q.language == "en"]
    model = store.model
    assert model is not None
    return np.asarray(service.embedder_factory(model[0])().embed_queries(texts), np.float32)


def query_vectors(store: Store, extra: int = 100, seed: int = 1) -> tuple[np.ndarray, list[str]]:
    """The benchmark's query vectors: the English retrieval questions embedded by the store's
    model, then ``extra`` calibration queries (sums of random store vectors). Returns ``(float32 (q, dim), texts)``
    (texts: the questions, "" for the sums)."""
    from migralex.index.vectors import calibration_queries

    texts = [q.text for q in load_queries().values() if q.language == "en"]
    real = question_vectors(store)
    _, mat = store.vectors()
    fake = calibration_queries(mat, extra, seed=seed)
    return np.concatenate([real, fake]), texts + [""] * len(fake)


def _index_section(store: Store, root: Path) -> tuple[Any, dict[str, Any]]:
    """Build the vector index, then load it from its cache file; return the loaded index and
    the ``index`` section (type, nprobe, build and load seconds, bytes, RSS)."""
    from migralex.index.vectors import VectorIndex, index_summary

    rss0 = _rss_mb()
    vi = VectorIndex(store)
    vi.index()
    how, secs = vi.last_load
    summary = index_summary(store)
    rss_built = _rss_mb()
    vi = VectorIndex(store)
    vi.index()  # from the cache file
    manifest = json.loads((store.root / "vectors.json").read_text())
    return vi, {
        "type": summary["type"],
        "nprobe": summary["nprobe"],
        "calibration_recall": manifest.get("recall"),
        "build": how,
        "build_seconds": round(secs, 1),
        "train_seconds": manifest.get("train_seconds"),
        "add_seconds": manifest.get("add_seconds"),
        "load_seconds": round(vi.last_load[1], 2),
        "bytes": summary["bytes"],
        "rss_build_mb": round(rss_built - rss0, 1),
        "rss_loaded_mb": _load_rss_mb(root),
    }


def _vector_section(
    store: Store, vi: Any, queries: np.ndarray, texts: Sequence[str], repeats: int
) -> dict[str, Any]:
    """The ``vector`` section: p50/p95 at k=10 and k=100 with recall@10 against exact search
    (questions and sums apart), then k=100 under a kind and a tag filter."""
    from migralex.index.vectors import exact_knn

    n_real = sum(1 for t in texts if t)
    ids, mat = store.vectors()
    truth = ids[exact_knn(queries, mat, 10)]
    del mat
    gc.collect()
    vec: dict[str, Any] = {}
    for k in (10, 100):
        times, found = [], []
        for _ in range(repeats):
            for q in queries:
                t0 = time.perf_counter()
                hits = vi.search(q, k)
                times.append((time.perf_counter() - t0) * 1000)
                found.append([r for r, _ in hits[:10]])
        vec[f"k{k}"] = _ms(times)
        found = found[: len(queries)]
        rec = [len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]
        vec[f"k{k}"]["recall@10_questions"] = round(float(np.mean(rec[:n_real])), 3)
        vec[f"k{k}"]["recall@10_sums"] = round(float(np.mean(rec[n_real:])), 3)
    for name, filters in (("kind", FILTERS[0]), ("tag", FILTERS[2])):
        allowed = store.filter_rowids(filters)
        times = []
        for q in queries:
            t0 = time.perf_counter()
            vi.search(q, 100, allowed)
            times.append((time.perf_counter() - t0) * 1000)
        vec[f"k100_filtered_{name}"] = {
            **_ms(times),
            "allowed": 0 if allowed is None else len(allowed),
        }
    return vec


def _text_sections(store: Store, texts: Sequence[str], repeats: int) -> dict[str, Any]:
    """The first lexical query's seconds and the ``lexical``, ``hybrid`` and
    ``hybrid_filtered`` sections (p50/p95 ms, warm) over the questions among ``texts``."""
    from migralex.ui import service

    out: dict[str, Any] = {}
    searcher = service.searcher(store, use_ranker=False)
    questions = [t for t in texts if t]
    if questions:
        t0 = time.perf_counter()
        searcher.search(questions[0], k=10, mode="lexical")
        out["lexical_first_query_seconds"] = round(time.perf_counter() - t0, 2)
        searcher.search(questions[0], k=10, mode="hybrid")  # loads the query model
    for name, mode, filters in (
        ("lexical", "lexical", None),
        ("hybrid", "hybrid", None),
        ("hybrid_filtered", "hybrid", FILTERS),
    ):
        times = []
        for _ in range(repeats):
            for i, q in enumerate(questions):
                f = None if filters is None else filters[i % len(filters)]
                t0 = time.perf_counter()
                searcher.search(q, k=10, mode=mode, filters=f)
                times.append((time.perf_counter() - t0) * 1000)
        if times:
            out[name] = _ms(times)
    return out


def bench_scale_store(root: Path, repeats: int = 1, text_search: bool = True) -> dict[str, Any]:
    """Measure every query path over the store at ``root`` (1 thread), in this process.

    Returns:
        A dict of sections: ``index`` (type, nprobe, build and load seconds, bytes, RSS),
        ``vector`` (p50/p95 at k=10 and k=100, recall@10 against exact, on question vectors
        and sums of clause vectors), ``lexical``, ``hybrid``, ``hybrid_filtered``
        (p50/p95 ms, warm), ``stats`` (cold CLI seconds, in-process seconds), ``documents``
        (document list seconds), ``memory`` (RSS MB). ``text_search`` False leaves out the
        lexical and hybrid sections (their BM25 index is built on first use).
    """
    out: dict[str, Any] = {}
    with Store(root) as store:
        vi, out["index"] = _index_section(store, root)
        queries, texts = query_vectors(store)
        out["vector"] = _vector_section(store, vi, queries, texts, repeats)
        out.update(_text_sections(store, texts if text_search else [], repeats))
        t0 = time.perf_counter()
        store.stats()
        in_process = time.perf_counter() - t0
        t0 = time.perf_counter()
        n_docs = len(store.document_summaries())
        out["documents"] = {"count": n_docs, "seconds": round(time.perf_counter() - t0, 3)}
        out["memory"] = {"rss_mb": round(_rss_mb(), 1), "peak_rss_mb": _peak_mb()}
    cold = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "migralex.ui.cli", "stats", "--store", str(root), "--json"],
            capture_output=True,
            check=True,
        )
        cold.append(time.perf_counter() - t0)
    out["stats"] = {
        "cold_cli_seconds": round(statistics.median(cold), 2),
        "in_process_seconds": round(in_process, 3),
    }
    out["store_mb"] = round(_folder_mb(root), 1)
    return out


_LOAD_PROBE = """
import resource, sys
import faiss  # noqa: F401 - imported before the first reading
from migralex.corpus.store import Store
from migralex.index.vectors import VectorIndex
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20
store = Store(sys.argv[1])
store.count_vectors()
before = rss()
index = VectorIndex(store).index()  # kept: freed memory would not count
print(round(rss() - before, 1))
"""


def _load_rss_mb(root: Path) -> float:
    """Resident memory (MB) a fresh process gains by loading the store's cached vector index."""
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD_PROBE, str(root)], capture_output=True, text=True, check=True
    )
    return float(proc.stdout.split()[-1])


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def varied_matrix(source: Path, n: int, seed: int = 0) -> np.ndarray:
    """``n`` vectors varied from ``source``'s real clause vectors (copy 0 as is), float32."""
    with Store(source) as src:
        _, base = src.vectors()
    rng = np.random.default_rng(seed)
    reps = math.ceil(n / len(base))
    parts = [base] + [
        vary(base, base[rng.integers(0, len(base), len(base))], rng) for _ in range(reps - 1)
    ]
    return np.concatenate(parts)[:n]


def bench_index_types(
    source: Path, sizes: Sequence[int], kinds: Sequence[str] | None = None, queries: int = 200
) -> list[dict[str, Any]]:
    """Compare FAISS index types on vectors varied from ``source``'s (1 search thread).

    Args:
        source: a store with real clause vectors.
        sizes: numbers of vectors.
        kinds: factory strings; "IVF" strings get ``nlist`` from
            :func:`~migralex.index.vectors.nlist_for` when written ``IVF,SQ8`` / ``IVF,Flat``.
        queries: sums of random clause vectors used as queries (with the questions).

    Returns:
        One row per (size, kind): ``{n, type, build_s, bytes, nprobe, p50_ms, p95_ms (k=100),
        recall@10 (sums of clause vectors), recall@10_questions (the English benchmark
        questions embedded)}``; IVF rows re-score candidates exactly as
        :func:`~migralex.index.vectors.ivf_search`; HNSW at efSearch 128.
    """
    import faiss

    from migralex.index.vectors import (
        build_ivf,
        calibration_queries,
        exact_knn,
        ivf_search,
        nlist_for,
    )

    kinds = kinds or ("Flat", "IVF,Flat", "IVF,SQ8", "HNSW32,Flat")
    rows: list[dict[str, Any]] = []
    with Store(source) as src:
        questions = question_vectors(src)
    for n in sizes:
        mat = varied_matrix(source, n)
        ids = np.arange(n, dtype=np.int64)
        q = np.concatenate([questions, calibration_queries(mat, queries, seed=5)])
        truth = exact_knn(q, mat, 10)
        exact = mat.__getitem__  # rowids are row positions here
        for kind in kinds:
            factory = kind.replace("IVF,", f"IVF{nlist_for(n)},")
            t0 = time.perf_counter()
            nprobe: int | None = None
            if factory.startswith("IVF"):
                index, info = build_ivf(ids, mat, factory)
                nprobe = info["nprobe"]
            else:
                faiss.omp_set_num_threads(2)
                index = faiss.index_factory(mat.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
                index.add(mat)
                faiss.omp_set_num_threads(1)
            build = time.perf_counter() - t0
            size = len(faiss.serialize_index(index))
            times, found = [], []
            for x in q:
                t0 = time.perf_counter()
                if nprobe is not None:
                    got = ivf_search(index, x[None], 100, nprobe, None, exact)[1]
                else:
                    params: Any = None
                    if factory.startswith("HNSW"):
                        params = getattr(faiss, "SearchParametersHNSW")(efSearch=128)  # noqa: B009
                    got = index.search(x[None], 100, params=params)[1][0]
                times.append((time.perf_counter() - t0) * 1000)
                found.append(got[:10])
            rec = [len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]
            rows.append(
                {
                    "n": n,
                    "type": factory,
                    "build_s": round(build, 1),
                    "bytes": size,
                    "nprobe": nprobe,
                    **_ms(times),
                    "recall@10": round(float(np.mean(rec[len(questions) :])), 3),
                    "recall@10_questions": round(float(np.mean(rec[: len(questions)])), 3),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            del index
            gc.collect()
    return rows
