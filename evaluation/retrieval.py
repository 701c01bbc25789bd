"""Retrieval benchmark: paraphrased negotiator questions against the clauses of ../shared/corpus.

Data (``evaluation/data/``, no corpus text):

* ``retrieval_queries.json`` — ``qid -> {text, language, topic, split}``: at least 60 questions in
  English and French (and 20 in Spanish, answered over the same mostly English clauses), written as negotiators and reviewers ask them, with a fixed dev/test split.
* ``retrieval_topics.json`` — article topics as heading and text patterns plus hand labels.
* ``retrieval_judgments.json`` — pooled relevance judgments (TREC pooling, Voorhees & Harman,
  "TREC: Experiment and Evaluation in Information Retrieval", 2005): the top 10 of every mode of
  both bundled models for every question (whole store and French clauses), and the top 2 of each
  within-agreement search, judged blind against ``retrieval_guidelines.md``. Judgments override
  the patterns, which stay the verdict for unjudged articles: patterns alone miss articles whose
  heading names a branch ("Old age benefits") while a paragraph sets the topic's rule, and
  headings in French.
* ``retrieval_qrels.json`` — the topics resolved against the corpus as clause references
  ``[doc_id, article label as printed]`` (``--build-qrels`` regenerates it from a store). A
  reference stands for every clause of that document with that label, so the benchmark survives
  segmenter changes that split or merge paragraphs.

Queries are ``dict[qid, str]`` and qrels ``dict[qid, set[clause_id]]`` (sentence-transformers
``InformationRetrievalEvaluator`` conventions), computed here in plain code with binary relevance:

* nDCG@10 — gain 1 per relevant clause, discount ``1/log2(rank + 1)``, divided by the ideal DCG.
* Recall@k — relevant clauses in the top k divided by all relevant clauses of the query (a topic
  with 60 relevant clauses caps Recall@10 at 10/60; compare modes, not absolute values).
* MRR@10 — reciprocal rank of the first relevant clause within the top 10, else 0.

Scenarios: ``all`` (every query over the whole store; ``en``, ``fr`` and ``es`` are its English,
French and Spanish questions), ``en->fr`` (English queries restricted to French clauses: cross-lingual), and ``within`` (the query with ``--doc`` restricted to one
agreement that has an answering article, up to :data:`WITHIN_DOCS` agreements per query; MRR is
the headline number). Latency is wall time of ``Searcher.search`` per query, warm (each mode runs
once before timing).

Usage::

    python -m migralex.evaluation.retrieval --store STORE [--corpus ../shared/corpus] [--json]
        [--no-routing]

A store with a multilingual vector set answers non-English questions from it (query-language
routing, :mod:`migralex.index.search`); ``--no-routing`` measures the main model alone on the
same store.

Trained ranker (:mod:`migralex.index.ranker`): the plain modes are measured without it; the modes
``hybrid+ranker`` and ``semantic+ranker`` add it (the store's own ``ranker/`` folder, or the one
named by ``--ranker DIR``, e.g. one trained with ``train-ranker --exclude-docs`` into another
folder: ``--heldout-docs FILE`` writes the documents of the test split's qrels for that).
``--rerank-depth`` and ``--rerank-weight`` override the search defaults (tuning on dev).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.store import Filters, Store

DATA = Path(__file__).resolve().parent / "data"
QUERIES_FILE = DATA / "retrieval_queries.json"
TOPICS_FILE = DATA / "retrieval_topics.json"
JUDGMENTS_FILE = DATA / "retrieval_judgments.json"
QRELS_FILE = DATA / "retrieval_qrels.json"
DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
MODES = ("lexical", "semantic", "hybrid")
#: Modes with the trained ranker after the first stage.
RANKER_MODES = ("semantic+ranker", "hybrid+ranker")
RANKER_SUFFIX = "+ranker"
DEPTH = 100
WITHIN_DOCS = 6
TEXT_WINDOW = 400

Ref = tuple[str, str]
#: The verdicts of a pooled judgment.
JUDGED = ("relevant", "nonrelevant")


@dataclass(frozen=True, slots=True)
class Query:
    """One benchmark question."""

    qid: str
    text: str
    language: str
    topic: str
    split: str


def load_queries(path: Path = QUERIES_FILE) -> dict[str, Query]:
    """Return the benchmark questions by qid (keys starting with ``_`` are comments)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        qid: Query(qid, q["text"], q["language"], q["topic"], q["split"])
        for qid, q in raw.items()
        if not qid.startswith("_")
    }


def load_topics(path: Path = TOPICS_FILE) -> dict[str, dict[str, Any]]:
    """Return the topic definitions (heading/text regexes, kinds, hand labels)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def load_judgments(path: Path = JUDGMENTS_FILE) -> dict[str, dict[str, set[Ref]]]:
    """Return the pooled judgments: ``topic -> {"relevant": refs, "nonrelevant": refs}``."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        topic: {verdict: {(e[0], e[1]) for e in v.get(verdict, [])} for verdict in JUDGED}
        for topic, v in raw.items()
        if not topic.startswith("_")
    }


def resolve_topics(
    store: Store,
    topics: Mapping[str, Mapping[str, Any]],
    judgments: Mapping[str, Mapping[str, set[Ref]]] | None = None,
) -> dict[str, set[Ref]]:
    """Return, per topic, the ``(doc_id, label)`` references of the store's answering articles.

    A clause matches when its heading matches a ``heading`` regex, or, when it has no heading,
    when the first ``window`` (default :data:`TEXT_WINDOW`) characters of its text match a ``text`` regex; only
    documents of the topic's ``kinds`` count. ``add``/``drop`` hand labels are applied next and
    the pooled ``judgments`` (:func:`load_judgments`) last: judged relevant is added, judged
    non-relevant removed.
    """
    kinds = {d["doc_id"]: d["kind"] for d in store.document_summaries()}
    compiled = {
        name: (
            [re.compile(p, re.I) for p in t.get("heading", [])],
            [re.compile(p, re.I) for p in t.get("text", [])],
            set(t.get("kinds", [])),
            int(t.get("window", TEXT_WINDOW)),
        )
        for name, t in topics.items()
    }
    out: dict[str, set[Ref]] = {name: set() for name in topics}
    for c in store.clauses():
        heading = c.heading.strip()
        for name, (heads, texts, allowed, width) in compiled.items():
            if allowed and kinds.get(c.doc_id) not in allowed:
                continue
            if heading:
                hit = any(p.search(heading) for p in heads)
            else:
                window = " ".join(c.text[:width].split())
                hit = any(p.search(window) for p in texts)
            if hit:
                out[name].add((c.doc_id, c.label))
    for name, t in topics.items():
        out[name] |= {(d, lab) for d, lab in t.get("add", [])}
        out[name] -= {(d, lab) for d, lab in t.get("drop", [])}
    for name, verdicts in (judgments or {}).items():
        if name in out:
            out[name] |= verdicts.get("relevant", set())
            out[name] -= verdicts.get("nonrelevant", set())
    return out


def save_qrels(refs: Mapping[str, set[Ref]], path: Path = QRELS_FILE) -> None:
    """Write topic references as JSON (sorted, one topic per key)."""
    obj = {
        "_about": "Generated by `python -m migralex.evaluation.retrieval --build-qrels` from "
        "retrieval_topics.json over a store of ../shared/corpus: topic -> [doc_id, label].",
        **{t: sorted([list(r) for r in refs[t]]) for t in sorted(refs)},
    }
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def load_topic_refs(path: Path = QRELS_FILE) -> dict[str, set[Ref]]:
    """Read the topic references written by :func:`save_qrels`."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {t: {(d, lab) for d, lab in v} for t, v in raw.items() if not t.startswith("_")}


def clause_index(store: Store) -> dict[Ref, list[str]]:
    """Map every ``(doc_id, label)`` of the store to its clause ids."""
    out: dict[Ref, list[str]] = {}
    for c in store.clauses():
        out.setdefault((c.doc_id, c.label), []).append(c.clause_id)
    return out


def build_qrels(
    queries: Mapping[str, Query],
    topic_refs: Mapping[str, set[Ref]],
    index: Mapping[Ref, list[str]],
    keep: Callable[[str], bool] = lambda _: True,
) -> dict[str, set[str]]:
    """Return ``qid -> set of relevant clause ids`` (refs resolved to all their clauses).

    Args:
        keep: predicate on clause ids (e.g. French clauses only); queries left without any
            relevant clause are dropped.
    """
    out: dict[str, set[str]] = {}
    for qid, q in queries.items():
        rel = {
            cid for ref in topic_refs.get(q.topic, ()) for cid in index.get(ref, ()) if keep(cid)
        }
        if rel:
            out[qid] = rel
    return out


#: Bootstrap resamples and confidence level of the intervals :func:`metrics` reports.
BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


def bootstrap_ci(values: Sequence[float], seed: int = 0) -> tuple[float, float]:
    """The :data:`CONFIDENCE` percentile bootstrap interval of the mean of per-query ``values``
    (:data:`BOOTSTRAP_RESAMPLES` resamples of the queries, ``scipy.stats.bootstrap``; Efron &
    Tibshirani, "An Introduction to the Bootstrap", 1993; for IR, Sakai, "Statistical
    Reform in Information Retrieval?", SIGIR Forum 2014), rounded to 4 places. A single value,
    or all values equal, gives ``(mean, mean)``."""
    if len(values) < 2 or min(values) == max(values):
        mean = round(sum(values) / max(1, len(values)), 4)
        return mean, mean
    from scipy.stats import bootstrap

    res = bootstrap(
        (np.asarray(values, dtype=float),), np.mean, n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=CONFIDENCE, method="percentile", rng=np.random.default_rng(seed),
    )  # fmt: skip
    low, high = res.confidence_interval
    return round(float(low), 4), round(float(high), 4)


def metrics(run: Mapping[str, Sequence[str]], qrels: Mapping[str, set[str]]) -> dict[str, Any]:
    """Mean nDCG@10, Recall@10, Recall@50 and MRR@10 of a run over the queries in ``qrels``,
    with the bootstrap interval of the mean nDCG@10 and MRR@10 (:func:`bootstrap_ci`, keys
    ``ndcg@10_ci`` and ``mrr@10_ci``: ``[low, high]``): on a few dozen questions, one question
    more or less answered moves a mean by several hundredths.

    Args:
        run: ``qid -> ranked clause ids`` (best first).
        qrels: ``qid -> relevant clause ids``.
    """
    per: dict[str, list[float]] = {"ndcg@10": [], "recall@10": [], "recall@50": [], "mrr@10": []}
    for qid, rel in qrels.items():
        ranked = list(run.get(qid, ()))
        gains = [1.0 if cid in rel else 0.0 for cid in ranked]
        dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:10]))
        ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(rel))))
        per["ndcg@10"].append(dcg / ideal)
        per["recall@10"].append(sum(gains[:10]) / len(rel))
        per["recall@50"].append(sum(gains[:50]) / len(rel))
        first = next((i for i, g in enumerate(gains[:10]) if g), None)
        per["mrr@10"].append(0.0 if first is None else 1.0 / (first + 1))
    n = max(1, len(qrels))
    out: dict[str, Any] = {k: round(sum(v) / n, 4) for k, v in per.items()}
    for key in ("ndcg@10", "mrr@10"):
        out[f"{key}_ci"] = list(bootstrap_ci(per[key]))
    return out


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def run_mode(
    search: Callable[[str, int, str, Filters], list[Any]],
    queries: Mapping[str, str],
    mode: str,
    filters: Filters | Mapping[str, Filters] | None = None,
    depth: int = DEPTH,
) -> tuple[dict[str, list[str]], list[float]]:
    """Run every query in one mode; return the run and the per-query latencies (ms)."""
    run: dict[str, list[str]] = {}
    times: list[float] = []
    for qid, text in queries.items():
        f = filters.get(qid, Filters()) if isinstance(filters, Mapping) else filters or Filters()
        t0 = time.perf_counter()
        hits = search(text, depth, mode, f)
        times.append((time.perf_counter() - t0) * 1000)
        run[qid] = [h.clause.clause_id for h in hits]
    return run, times


def _pick(items: Iterable[str], key: str, n: int) -> list[str]:
    return sorted(items, key=lambda d: hashlib.sha256(f"{key}:{d}".encode()).hexdigest())[:n]


def evaluate(
    store: Store,
    search: Callable[[str, int, str, Filters], list[Any]],
    queries: Mapping[str, Query],
    topic_refs: Mapping[str, set[Ref]],
    modes: Sequence[str] = MODES,
    within: bool = True,
) -> dict[str, Any]:
    """Run the benchmark; return ``{split: {scenario: {mode: metrics}}}`` plus latency.

    Args:
        search: ``(query, k, mode, filters) -> hits`` (``Searcher.search``).
    """
    index = clause_index(store)
    lang = {c.clause_id: c.language for c in store.clauses()}
    doc_of = {cid: ref[0] for ref, cids in index.items() for cid in cids}
    out: dict[str, Any] = {"splits": {}, "latency_ms": {}}
    all_times: dict[str, list[float]] = {m: [] for m in modes}
    for mode in modes:  # warm-up: model load, FAISS and lexical caches
        search("warm up", 10, mode, Filters())
    for split in ("dev", "test"):
        qs = {qid: q for qid, q in queries.items() if q.split == split}
        texts = {qid: q.text for qid, q in qs.items()}
        scen: dict[str, Any] = {}
        qrels = build_qrels(qs, topic_refs, index)
        en = {qid: q for qid, q in qs.items() if q.language == "en"}
        qrels_fr = build_qrels(en, topic_refs, index, keep=lambda c: lang.get(c) == "fr")
        within_q: dict[str, str] = {}
        within_f: dict[str, Filters] = {}
        within_rel: dict[str, set[str]] = {}
        for qid, rel in qrels.items():
            for doc in _pick({doc_of[c] for c in rel}, qid, WITHIN_DOCS):
                key = f"{qid}@{doc}"
                within_q[key] = texts[qid]
                within_f[key] = Filters(doc_ids=(doc,))
                within_rel[key] = {c for c in rel if doc_of[c] == doc}
        for mode in modes:
            run, times = run_mode(search, {q: texts[q] for q in qrels}, mode)
            all_times[mode] += times
            scen.setdefault("all", {})[mode] = metrics(run, qrels)
            for code in ("en", "fr", "es"):
                sub = {q: rel for q, rel in qrels.items() if qs[q].language == code}
                if sub:
                    scen.setdefault(code, {})[mode] = metrics(run, sub)
            fr_texts = {q: texts[q] for q in qrels_fr}
            run_fr, _ = run_mode(search, fr_texts, mode, Filters(languages=("fr",)))
            scen.setdefault("en->fr", {})[mode] = metrics(run_fr, qrels_fr)
            if within:
                run_w, _ = run_mode(search, within_q, mode, within_f, depth=10)
                scen.setdefault("within", {})[mode] = metrics(run_w, within_rel)
        scen["queries"] = {
            "all": len(qrels),
            "en->fr": len(qrels_fr),
            "within": len(within_rel),
            "fr": sum(1 for q in qrels if qs[q].language == "fr"),
            "es": sum(1 for q in qrels if qs[q].language == "es"),
        }
        out["splits"][split] = scen
    for mode, times in all_times.items():
        out["latency_ms"][mode] = {
            "p50": round(statistics.median(times), 1) if times else 0.0,
            "p95": round(percentile(times, 95), 1),
        }
    return out


def _search_top100(index: Any, kind: str, nprobe: int, base: Any, x: Any, allowed: Any) -> Any:
    """The top 100 ids of one query ``x`` ``(1, dim)`` as :class:`VectorIndex` searches them."""
    import faiss

    from migralex.index.vectors import ivf_search

    if kind != "Flat":
        return ivf_search(index, x, 100, nprobe, allowed, lambda r: base[r])[1]
    params = None
    if allowed is not None:
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))  # type: ignore[call-arg]
    return index.search(x, 100, params=params)[1][0]


def scale_benchmark(
    sizes: Sequence[int] = (10_000, 100_000, 1_000_000),
    dim: int = 384,
    queries: int = 200,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Vector-search latency on synthetic L2-normalised vectors, warm, 1 FAISS thread.

    Each size uses the index type :func:`migralex.index.vectors.index_type_for` picks (the store's
    own policy: flat, else IVF-SQ8 built and searched as ``VectorIndex`` does), searched for the
    top 100 with and without a filter that keeps 10 % of the ids (an ``IDSelectorBatch``, as the
    store does). Recall@10 of an approximate index is measured against exact search on the same
    vectors. (Synthetic vectors; ``speed --scale`` measures real clause vectors varied.)

    Returns:
        One row per size: ``{n, type, build_s, p50_ms, p95_ms, filtered_p95_ms, recall@10}``.
    """
    import faiss

    from migralex.index.vectors import build_ivf, exact_knn, index_type_for

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        # Clustered like real clause embeddings (model wording repeats across agreements):
        # n / 50 topic centres, each clause a centre plus noise.
        centres = rng.standard_normal((max(1, n // 50), dim), dtype=np.float32)
        base = centres[rng.integers(0, len(centres), n)]
        base += 0.7 * rng.standard_normal((n, dim), dtype=np.float32)
        base /= np.linalg.norm(base, axis=1, keepdims=True)
        q = base[rng.choice(n, queries, replace=False)] + 0.5 * rng.standard_normal(
            (queries, dim), dtype=np.float32
        ) / math.sqrt(dim)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        kind = index_type_for(n)
        ids = np.arange(n, dtype=np.int64)
        t0 = time.perf_counter()
        faiss.omp_set_num_threads(2)  # build on every core, search on one
        nprobe = 0
        if kind == "Flat":
            index = faiss.IndexIDMap2(faiss.index_factory(dim, kind, faiss.METRIC_INNER_PRODUCT))
            index.add_with_ids(base, ids)
        else:  # as VectorIndex builds it: trained on the vectors, nprobe calibrated
            index, info = build_ivf(ids, base, kind)
            nprobe = info["nprobe"]
        faiss.omp_set_num_threads(1)
        build = time.perf_counter() - t0
        allowed = np.sort(rng.choice(n, n // 10, replace=False)).astype(np.int64)

        times, ftimes, found = [], [], []
        for i in range(queries):
            t0 = time.perf_counter()
            got = _search_top100(index, kind, nprobe, base, q[i : i + 1], None)
            times.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            _search_top100(index, kind, nprobe, base, q[i : i + 1], allowed)
            ftimes.append((time.perf_counter() - t0) * 1000)
            found.append(got[:10])
        recall = 1.0
        if kind != "Flat":
            truth = exact_knn(q, base, 10)
            recall = float(
                np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
            )
        rows.append(
            {
                "n": n,
                "type": "IDMap2,Flat" if kind == "Flat" else kind,
                "build_s": round(build, 1),
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(percentile(times, 95), 2),
                "filtered_p95_ms": round(percentile(ftimes, 95), 2),
                "recall@10": round(recall, 3),
            }
        )
        del base, index
    return rows


#: Fusion settings tried by :func:`tune_fusion`: (fusion, semantic weight, lexical weight).
FUSION_GRID: tuple[tuple[str, float, float], ...] = (
    *(("scores", round(1 - a, 2), a) for a in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)),
    *(("rrf", 1.0, w) for w in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)),
)


def tune_fusion(
    store: Store, searcher: Any, queries: Mapping[str, Query], topic_refs: Mapping[str, set[Ref]]
) -> list[dict[str, Any]]:
    """Score every :data:`FUSION_GRID` setting on dev and test (nDCG@10, all queries).

    The two rankings of each query are computed once (top ``CANDIDATES``, as in hybrid search) and fused
    offline with :func:`migralex.index.search.score_fuse` / ``rrf_fuse``, without the intent boost
    of hybrid search (:mod:`migralex.index.intent`), so its numbers sit below the full benchmark's.
    Pick on dev; test is reported for the check.

    Returns:
        Rows ``{fusion, weights, dev, test}``, best dev first.
    """
    from migralex.index.search import CANDIDATES, rrf_fuse, score_fuse

    index = clause_index(store)
    cid = {r: c.clause_id for r, c in store.clauses_by_rowid(list(_all_rowids(store))).items()}
    cached: dict[str, tuple[dict[str, set[str]], dict[str, Any], dict[str, Any]]] = {}
    for split in ("dev", "test"):
        qs = {qid: q for qid, q in queries.items() if q.split == split}
        qrels = build_qrels(qs, topic_refs, index)
        sem = {q: searcher.semantic_ranking(qs[q].text, CANDIDATES, Filters()) for q in qrels}
        lex = {q: searcher.lexical_ranking(qs[q].text, CANDIDATES, Filters()) for q in qrels}
        cached[split] = (qrels, sem, lex)
    rows = []
    for fusion, ws, wl in FUSION_GRID:
        row: dict[str, Any] = {"fusion": fusion, "weights": [ws, wl]}
        for split, (qrels, sem, lex) in cached.items():
            run = {}
            for q in qrels:
                pair = [sem[q], lex[q]]
                fused = (
                    score_fuse(pair, (ws, wl))
                    if fusion == "scores"
                    else rrf_fuse(pair, 60, (ws, wl))
                )
                run[q] = [cid[r] for r, _ in fused[:DEPTH]]
            row[split] = metrics(run, qrels)["ndcg@10"]
        rows.append(row)
    return sorted(rows, key=lambda r: -r["dev"])


#: (depth, weight) settings of the trained ranker tried by :func:`tune_ranker`.
RANKER_GRID: tuple[tuple[int, float], ...] = (
    (10, 0.5),
    *((20, w) for w in (0.2, 0.35, 0.5, 0.8, 1.0)),
)


def tune_ranker(
    store: Store,
    ranked: Any,
    queries: Mapping[str, Query],
    topic_refs: Mapping[str, set[Ref]],
    grid: Sequence[tuple[int, float]] = RANKER_GRID,
) -> list[dict[str, Any]]:
    """Score hybrid+ranker for every ``(depth, weight)`` of ``grid``: nDCG@10 of all questions
    and within-agreement MRR, dev and test (the ranker's scores are cached, so a setting costs
    only the first stage once its depth was scored). Pick on dev.

    Returns:
        Rows ``{depth, weight, dev_ndcg, dev_within_mrr, test_ndcg, test_within_mrr}``, best
        dev (nDCG + MRR) first.
    """
    import dataclasses

    rows = []
    for depth, weight in grid:
        trial = dataclasses.replace(ranked, rerank_depth=depth, rerank_weight=weight)
        res = evaluate(store, trial.search, queries, topic_refs, modes=("hybrid",))
        row: dict[str, Any] = {"depth": depth, "weight": weight}
        for split, scen in res["splits"].items():
            row[f"{split}_ndcg"] = scen["all"]["hybrid"]["ndcg@10"]
            row[f"{split}_within_mrr"] = scen["within"]["hybrid"]["mrr@10"]
        rows.append(row)
    return sorted(rows, key=lambda r: -(r["dev_ndcg"] + r["dev_within_mrr"]))


def heldout_docs(
    store: Store, queries: Mapping[str, Query], topic_refs: Mapping[str, set[Ref]]
) -> list[str]:
    """The documents holding a relevant clause of a test-split question, sorted: the
    document-level hold-out of the ranker benchmark (train without them, measure on test)."""
    index = clause_index(store)
    test = {qid: q for qid, q in queries.items() if q.split == "test"}
    qrels = build_qrels(test, topic_refs, index)
    return sorted({cid.split(":", 1)[0] for rel in qrels.values() for cid in rel})


def _ranked_searcher(searcher: Any, store: Store, args: argparse.Namespace) -> Any:
    """A copy of ``searcher`` with the trained ranker (``--ranker`` or the store's), or None."""
    import dataclasses
    import functools

    from migralex.index.ranker import Reranker, load_card
    from migralex.nlp.language import CANDIDATES
    from migralex.ui import service

    folder = args.ranker
    if folder is None and load_card(store.root) is not None:
        folder = store.root / "ranker"
    if folder is None:
        return None
    every = tuple(CANDIDATES) if args.ranker_every_language else None
    reranker = Reranker(folder, service.settings().threads, languages=every)
    factory: Any = functools.partial(lambda r: r, reranker)
    from migralex.index.ranker import RERANK_DEPTH

    depth = args.rerank_depth or service.settings().rerank_depth or RERANK_DEPTH
    tuned: dict[str, Any] = {"rerank_depth": depth}
    if args.rerank_weight is not None:
        tuned["rerank_weight"] = args.rerank_weight
    return dataclasses.replace(searcher, ranker=factory, **tuned)


def _all_rowids(store: Store) -> list[int]:
    rowids = store.filter_rowids(Filters(exclude_doc_ids=("\x00",)))
    return [] if rowids is None else [int(r) for r in rowids]


def format_table(result: Mapping[str, Any]) -> str:
    """Render the result as a plain-text table."""
    lines = [
        f"{'split':5} {'scenario':8} {'mode':9} {'nDCG@10':>8} {'R@10':>6} {'R@50':>6} {'MRR':>6}"
        f"  {'95% CI (within: MRR)':>20}"
    ]
    for split, scen in result["splits"].items():
        for name, by_mode in scen.items():
            if name == "queries":
                continue
            for mode, m in by_mode.items():
                low, high = m.get("mrr@10_ci" if name == "within" else "ndcg@10_ci", ("", ""))
                ci = f"{low:.3f}-{high:.3f}" if low != "" else ""
                lines.append(
                    f"{split:5} {name:8} {mode:9} {m['ndcg@10']:8.3f} {m['recall@10']:6.3f} "
                    f"{m['recall@50']:6.3f} {m['mrr@10']:6.3f}  {ci:>20}"
                )
        lines.append(f"{split:5} queries  {scen['queries']}")
    for mode, t in result["latency_ms"].items():
        lines.append(f"latency {mode:9} p50 {t['p50']:.1f} ms  p95 {t['p95']:.1f} ms")
    for row in result.get("ranker_grid", []):
        lines.append(
            f"ranker depth {row['depth']:3} weight {row['weight']:.1f}: nDCG@10 dev "
            f"{row['dev_ndcg']:.3f} test {row['test_ndcg']:.3f}; within MRR dev "
            f"{row['dev_within_mrr']:.3f} test {row['test_within_mrr']:.3f}"
        )
    for row in result.get("fusion_grid", []):
        lines.append(
            f"fusion {row['fusion']:6} weights {row['weights']} dev {row['dev']:.3f} "
            f"test {row['test']:.3f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.scale is not None:
        rows = scale_benchmark(args.scale or (10_000, 100_000, 1_000_000))
        print(json.dumps(rows, indent=1) if args.json else "\n".join(map(str, rows)))
        return 0

    from migralex.ui import service

    if args.store is None:
        parser.error("--store is required (except with --scale)")
    with Store(args.store) as store:
        _fill_store(parser, args, store)
        if args.heldout_docs is not None:
            docs = heldout_docs(store, load_queries(), load_topic_refs())
            args.heldout_docs.write_text("".join(f"{d}\n" for d in docs), encoding="utf-8")
            print(f"{len(docs)} documents of the test qrels -> {args.heldout_docs}")
            return 0
        searcher = service.searcher(store, use_ranker=False, use_adapted=not args.no_adapted)
        if args.no_routing:
            searcher.multilingual = None
        ranked = None if args.no_ranker else _ranked_searcher(searcher, store, args)
        modes = tuple(args.mode or (MODES + (RANKER_MODES if ranked else ())))
        if any(m.endswith(RANKER_SUFFIX) for m in modes) and ranked is None:
            parser.error(f"{store.root}: no trained ranker (run migralex train-ranker or --ranker)")
        result = evaluate(
            store,
            _mode_search(searcher, ranked),
            load_queries(),
            load_topic_refs(),
            modes=modes,
            within=not args.no_within,
        )
        if args.tune_ranker and ranked is not None:
            result["ranker_grid"] = tune_ranker(store, ranked, load_queries(), load_topic_refs())
        result.update(_run_facts(store, searcher, ranked))
        if args.tune:
            result["fusion_grid"] = tune_fusion(store, searcher, load_queries(), load_topic_refs())
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(format_table(result))
    return 0


def _parser() -> argparse.ArgumentParser:
    """The benchmark's command line."""
    parser = argparse.ArgumentParser(prog="python -m migralex.evaluation.retrieval")
    parser.add_argument("--store", type=Path, help="store built from the corpus")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="corpus folder; ingested into an empty --store first",
    )
    parser.add_argument("--model", help="embedding model for a new store")
    parser.add_argument(
        "--mode",
        action="append",
        choices=(*MODES, *RANKER_MODES),
        help="modes (default: the plain ones, plus the +ranker ones when there is a ranker)",
    )
    parser.add_argument("--ranker", type=Path, help="ranker folder (default: STORE/ranker)")
    parser.add_argument("--no-ranker", action="store_true", help="measure the plain modes only")
    parser.add_argument(
        "--no-adapted",
        action="store_true",
        help="answer English questions from the main vectors even if the store has adapted ones",
    )
    parser.add_argument("--rerank-depth", type=int, help="candidates the ranker re-scores")
    parser.add_argument(
        "--ranker-every-language",
        action="store_true",
        help="apply the ranker to questions and clauses in every language (default: the "
        "languages of its card), to measure it on French",
    )
    parser.add_argument("--rerank-weight", type=float, help="the ranker's weight in [0, 1]")
    parser.add_argument(
        "--tune-ranker",
        action="store_true",
        help="also score hybrid+ranker for every (depth, weight) of RERANK_GRID on dev and test",
    )
    parser.add_argument(
        "--heldout-docs",
        type=Path,
        metavar="FILE",
        help="write the documents of the test split's relevant clauses, one a line (the "
        "hold-out for train-ranker --exclude-docs), and stop",
    )
    parser.add_argument("--no-within", action="store_true", help="skip the --doc scenario")
    parser.add_argument(
        "--no-routing",
        action="store_true",
        help="answer every question from the main vector set (no query-language routing)",
    )
    parser.add_argument(
        "--build-qrels",
        action="store_true",
        help="regenerate retrieval_qrels.json from --store: topic patterns, hand labels, "
        "then the pooled judgments",
    )
    parser.add_argument(
        "--scale",
        type=int,
        nargs="*",
        metavar="N",
        help="only the synthetic vector-search latency at these sizes (default 10k 100k 1M)",
    )
    parser.add_argument(
        "--tune", action="store_true", help="also score the fusion grid on dev and test"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _fill_store(parser: argparse.ArgumentParser, args: argparse.Namespace, store: Store) -> None:
    """Ingest the corpus into an empty store; with ``--build-qrels``, regenerate the qrels."""
    from migralex.ui import service

    if not store.count_vectors():
        if not args.corpus.is_dir():
            parser.error(f"{args.store} is empty and corpus {args.corpus} does not exist")
        service.ingest([args.corpus], store, model=args.model)
    if args.build_qrels:
        save_qrels(resolve_topics(store, load_topics(), load_judgments()))


def _mode_search(searcher: Any, ranked: Any) -> Callable[[str, int, str, Filters], list[Any]]:
    """The search of the benchmark: a ``+ranker`` mode by ``ranked``, the others by
    ``searcher``."""

    def search(text: str, k: int, mode: str, filters: Filters) -> list[Any]:
        if mode.endswith(RANKER_SUFFIX) and ranked is not None:
            return ranked.search(text, k, mode.removesuffix(RANKER_SUFFIX), filters)
        return searcher.search(text, k, mode, filters)

    return search


def _run_facts(store: Store, searcher: Any, ranked: Any) -> dict[str, Any]:
    """What the result records of the run: the ranker's card (when one is used), the models
    and vector sets, the number of clauses."""
    facts: dict[str, Any] = {}
    if ranked is not None and ranked.ranker is not None:
        card = ranked.ranker().card
        facts["ranker"] = {
            "path": str(ranked.ranker().folder),
            "steps": card.steps,
            "seconds": card.seconds,
            "excluded_docs": len(card.excluded_docs),
            "depth": ranked.rerank_depth,
            "weight": ranked.rerank_weight,
        }
    facts["model"] = store.model[0] if store.model else None
    facts["adapted"] = searcher.adapted_set()
    extra = store.multilingual_model if searcher.multilingual else None
    facts["multilingual_model"] = extra[0] if extra else None
    facts["clauses"] = store.stats()["clauses"]
    return facts


if __name__ == "__main__":
    sys.exit(main())
