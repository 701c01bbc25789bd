"""Speed benchmark: read + segment + tag throughput over a corpus, embedding throughput, and
query latency of every search mode over a store.

Usage::

    python -m migralex.evaluation.speed --corpus ../shared/corpus [--store store] [--model minilm]
        [--multilingual-model e5-small|none]
    python -m migralex.evaluation.speed --startup --store STORE [--document FILE]
    python -m migralex.evaluation.speed --ingest-ratio 20 [--corpus DIR]
    python -m migralex.evaluation.speed --scale N --source-store store-full [--scale-store DIR]
    python -m migralex.evaluation.speed --index-types 10000,100000 --source-store store-full

Prints a table and, with ``--json``, a JSON object. Timings are wall-clock on this machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from migralex.evaluation.retrieval import percentile

QUERIES = (
    "pension keeps being paid when the pensioner moves to the other country",
    "can periods of insurance in both countries be added together?",
    "which country's social security law applies to a posted worker?",
    "equal treatment of nationals of the other party",
    "mutual assistance between institutions and exchange of information",
    "égalité de traitement des ressortissants",
    "totalisation des périodes d'assurance",
    "who pays the travel costs of recruited workers?",
    "residence requirement for the old age pension",
    "settlement of disputes between the competent authorities",
)


def bench_pipeline(corpus: Path) -> dict[str, Any]:
    """Read, segment and tag every manifest document; return counts and seconds per stage."""
    from migralex.corpus.manifest import read_manifest
    from migralex.ingest.pipeline import collect_files, prepare
    from migralex.nlp.tagger import tag_clauses

    entries = read_manifest(corpus / "manifest.csv")
    files = collect_files([corpus], entries)
    t_read = t_tag = 0.0
    n_clauses = n_tags = 0
    pages = 0
    all_clauses = []
    for f in files:
        t0 = time.perf_counter()
        doc, seg = prepare(f, entries.get(f.resolve()))
        t1 = time.perf_counter()
        tags = tag_clauses(seg.clauses, doc.language)
        t2 = time.perf_counter()
        t_read += t1 - t0
        t_tag += t2 - t1
        n_clauses += len(seg.clauses)
        n_tags += len(tags)
        pages += doc.pages
        all_clauses.extend(seg.clauses)
    return {
        "documents": len(files),
        "pages": pages,
        "clauses": n_clauses,
        "tags": n_tags,
        "read_segment_seconds": round(t_read, 2),
        "tag_seconds": round(t_tag, 2),
        "tag_clauses_per_s": round(n_clauses / t_tag, 1) if t_tag else None,
        "_clauses": all_clauses,
    }


def bench_embedding(texts: list[str], model: str, multilingual: bool = False) -> dict[str, Any]:
    """Embed ``texts`` and return the throughput (load time excluded).

    Args:
        multilingual: embed as the multilingual vector set does (passages cut to
            :data:`~migralex.index.embedders.MULTILINGUAL_PASSAGE_CHARS`).
    """
    from migralex.index.embedders import Embedder, TruncatedPassages, get_embedder

    t0 = time.perf_counter()
    emb: Embedder = get_embedder(model, 2, 32)
    if multilingual:
        emb = TruncatedPassages(emb)
    emb.embed_passages(texts[:4])
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    emb.embed_passages(texts)
    t = time.perf_counter() - t1
    return {
        "model": model,
        "load_seconds": round(t_load, 2),
        "clauses": len(texts),
        "clauses_per_s": round(len(texts) / t, 1),
    }


def bench_queries(store_dir: Path, repeats: int = 3) -> dict[str, Any]:
    """Warm query latency (ms) per mode over a store, ``repeats`` passes over :data:`QUERIES`."""
    from migralex.corpus.store import Store
    from migralex.ui import service

    out: dict[str, Any] = {}
    with Store(store_dir) as store:
        searcher = service.searcher(store)
        searcher.search("warm up", k=10, mode="hybrid")
        for mode in ("lexical", "semantic", "hybrid"):
            times = []
            for _ in range(repeats):
                for q in QUERIES:
                    t0 = time.perf_counter()
                    searcher.search(q, k=10, mode=mode)
                    times.append((time.perf_counter() - t0) * 1000)
            out[mode] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
            }
        out["clauses"] = store.count_clauses()
    return out


def bench_ingest_ratio(
    corpus: Path, n_files: int, model: str = "minilm", multilingual: str = "e5-small"
) -> dict[str, Any]:
    """End-to-end ingest against encode-only throughput on the same clauses, in one run.

    Ingests the first ``n_files`` files of the corpus manifest into a fresh temporary store
    (read, segment, tag, embed with both vector sets, write; the models loaded before the
    clock starts), then embeds the stored clauses' passages again with the same embedders and
    batch size. The ratio is ingest clauses/s over encode-only clauses/s: 1 means reading,
    tagging and writing cost nothing beside the encoder.

    Returns:
        ``{"files", "clauses", "ingest_seconds", "encode_seconds", "ingest_clauses_per_s",
        "encode_clauses_per_s", "ratio"}``.
    """
    import tempfile

    from migralex.corpus.manifest import read_manifest
    from migralex.corpus.store import Store
    from migralex.index.embedders import TruncatedPassages, get_embedder
    from migralex.ingest.pipeline import collect_files, ingest_paths
    from migralex.nlp.tagger import tag_clauses
    from migralex.ui.service import clause_passage, settings

    entries = read_manifest(corpus / "manifest.csv")
    files = collect_files([corpus], entries)[:n_files]
    threads = settings().ingest_threads
    main_emb = get_embedder(model, threads, 32)
    extra = TruncatedPassages(get_embedder(multilingual, threads, 32)) if multilingual else None
    for e in (main_emb, extra):
        if e is not None:
            e.embed_passages(["warm up"])
    tag_clauses([], "en")
    with tempfile.TemporaryDirectory(prefix="migralex-ratio-") as tmp, Store(Path(tmp)) as store:
        t0 = time.perf_counter()
        ingest_paths(
            files, store, tagger=tag_clauses, embedder=lambda: main_emb,
            multilingual=(lambda: extra) if extra is not None else None,
            passage=clause_passage, manifest=corpus / "manifest.csv",
        )  # fmt: skip
        t_ingest = time.perf_counter() - t0
        passages = [clause_passage(c) for c in store.clauses()]
    t1 = time.perf_counter()
    for e in (main_emb, extra):
        if e is not None:
            e.embed_passages(passages)
    t_encode = time.perf_counter() - t1
    n = len(passages)
    ingest_rate, encode_rate = n / t_ingest, n / t_encode
    return {
        "files": len(files),
        "clauses": n,
        "ingest_seconds": round(t_ingest, 1),
        "encode_seconds": round(t_encode, 1),
        "ingest_clauses_per_s": round(ingest_rate, 2),
        "encode_clauses_per_s": round(encode_rate, 2),
        "ratio": round(ingest_rate / encode_rate, 3),
    }


#: Modules a command that needs no model should not import (each costs seconds cold).
HEAVY_MODULES = ("torch", "sentence_transformers", "transformers", "faiss", "spacy", "bm25s")

#: Run in a fresh interpreter by :func:`bench_startup`: the CLI with ``sys.argv[1:]``, then one
#: JSON line on stderr naming the heavy modules imported and the peak resident memory.
_STARTUP_PROBE = (
    f"HEAVY = {HEAVY_MODULES!r}\n"
    + """
import atexit, json, resource, sys
def _report():
    heavy = [m for m in HEAVY if m in sys.modules]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    sys.stderr.write("\\nMIGRALEX-PROBE " + json.dumps({"heavy": heavy, "rss_mb": rss}) + "\\n")
atexit.register(_report)
sys.argv = ["migralex", *sys.argv[1:]]
from migralex.ui.cli import main
main()
"""
)


def startup_commands(store: Path, document: Path) -> dict[str, list[str]]:
    """The commands :func:`bench_startup` times: name -> CLI arguments."""
    s = ["--store", str(store)]
    return {
        "--help": ["--help"],
        "checklists": ["checklists"],
        "stats": ["stats", *s],
        "tag": ["tag", str(document)],
        "search lexical": ["search", "equal treatment", "--mode", "lexical", *s],
        "search hybrid": ["search", "equal treatment", *s],
    }


def bench_startup(store: Path, document: Path, repeats: int = 3) -> dict[str, Any]:
    """Cold-start wall time of CLI commands, each in a fresh Python process.

    Args:
        store: the store ``stats`` and ``search`` read.
        document: the file ``tag`` reads.
        repeats: runs per command; the median is reported.

    Returns:
        ``{command: {"seconds": median wall seconds, "min_seconds", "rss_mb": peak resident MB,
        "heavy": heavy modules imported (:data:`HEAVY_MODULES`), "exit": exit code}}``.
    """
    import os
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out: dict[str, Any] = {}
    for name, args in startup_commands(store, document).items():
        times: list[float] = []
        probe: dict[str, Any] = {}
        code = 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", _STARTUP_PROBE, *args],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            times.append(time.perf_counter() - t0)
            code = proc.returncode
            for line in proc.stderr.splitlines():
                if line.startswith("MIGRALEX-PROBE "):
                    probe = json.loads(line.split(" ", 1)[1])
        out[name] = {
            "seconds": round(statistics.median(times), 2),
            "min_seconds": round(min(times), 2),
            "rss_mb": probe.get("rss_mb"),
            "heavy": probe.get("heavy"),
            "exit": code,
        }
    return out


def print_startup(result: dict[str, Any]) -> None:
    """Print :func:`bench_startup`'s result as a table."""
    print(f"{'command':16} {'median s':>8} {'min s':>6} {'RSS MB':>7}  heavy imports")
    for name, r in result.items():
        heavy = ", ".join(r["heavy"] or []) or "-"
        flag = "" if r["exit"] == 0 else f"  (exit {r['exit']})"
        print(
            f"{name:16} {r['seconds']:8.2f} {r['min_seconds']:6.2f} {r['rss_mb']:7}  {heavy}{flag}"
        )


def _scale_main(args: argparse.Namespace) -> None:
    """``--scale`` / ``--index-types`` (:mod:`migralex.evaluation.scale`)."""
    from migralex.evaluation import scale

    if args.index_types:
        sizes = [int(x) for x in args.index_types.split(",")]
        rows = scale.bench_index_types(args.source_store, sizes)
        if args.json:
            print(json.dumps({"index_types": rows}, indent=2))
            return
        print(f"{'n':>8} {'type':16} {'build s':>8} {'MB':>7} {'nprobe':>6} "
              f"{'p50 ms':>7} {'p95 ms':>7} {'recall@10':>9} {'questions':>9}")  # fmt: skip
        for r in rows:
            print(f"{r['n']:8} {r['type']:16} {r['build_s']:8} {r['bytes'] / 2**20:7.1f} "
                  f"{r['nprobe'] or '-':>6} {r['p50_ms']:7.2f} {r['p95_ms']:7.2f} "
                  f"{r['recall@10']:9.3f} {r['recall@10_questions']:9.3f}")  # fmt: skip
        return
    target = args.scale_store or args.source_store.parent / f"scale-{args.scale}"
    result: dict[str, Any] = {"n": args.scale}
    if not args.reuse:
        result["build_store"] = scale.build_scale_store(args.source_store, target, args.scale)
    result.update(
        scale.bench_scale_store(target, repeats=args.repeats, text_search=not args.no_text_search)
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print_scale(result)


def print_scale(r: dict[str, Any]) -> None:
    """Print :func:`~migralex.evaluation.scale.bench_scale_store`'s result."""
    ix, v = r["index"], r["vector"]
    if "build_store" in r:
        b = r["build_store"]
        print(f"store: {b['clauses']} clauses, {b['documents']} documents, built in "
              f"{b['seconds']} s")  # fmt: skip
    print(f"store size {r['store_mb']} MB; index {ix['type']} nprobe {ix['nprobe']}, "
          f"{ix['bytes'] / 2**20:.1f} MB, built in {ix['build_seconds']} s "
          f"(train {ix['train_seconds']}, add {ix['add_seconds']}), loaded in "
          f"{ix['load_seconds']} s (+{ix['rss_loaded_mb']} MB RSS)")  # fmt: skip
    for key in ("k10", "k100"):
        x = v[key]
        print(f"vector {key:5} p50 {x['p50_ms']:7.2f}  p95 {x['p95_ms']:7.2f} ms  recall@10 "
              f"questions {x['recall@10_questions']}, calibration-like sums {x['recall@10_sums']}")  # fmt: skip
    for name in ("kind", "tag"):
        x = v[f"k100_filtered_{name}"]
        print(f"vector k100 filtered by {name} ({x['allowed']} clauses) p50 {x['p50_ms']:.2f}  "
              f"p95 {x['p95_ms']:.2f} ms")  # fmt: skip
    for key in ("lexical", "hybrid", "hybrid_filtered"):
        if key in r:
            print(f"{key:16} p50 {r[key]['p50_ms']:7.1f}  p95 {r[key]['p95_ms']:7.1f} ms (warm)")
    if "lexical_first_query_seconds" in r:
        print(
            f"first lexical query (BM25 index build or load) {r['lexical_first_query_seconds']} s"
        )
    print(f"stats: cold CLI {r['stats']['cold_cli_seconds']} s, in process "
          f"{r['stats']['in_process_seconds']} s; document list ({r['documents']['count']}) "
          f"{r['documents']['seconds']} s")  # fmt: skip
    print(f"memory: RSS {r['memory']['rss_mb']} MB, peak {r['memory']['peak_rss_mb']} MB")


def _first_document(corpus: Path) -> Path:
    """The first file listed in ``corpus``'s manifest."""
    from migralex.corpus.manifest import read_manifest

    return next(iter(read_manifest(corpus / "manifest.csv")))


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = _parser()
    args = parser.parse_args(argv)

    if args.scale or args.index_types:
        _scale_main(args)
        return
    if args.startup:
        if args.store is None or not args.store.exists():
            parser.error("--startup needs --store DIR, an existing store")
        document = args.document or _first_document(args.corpus)
        startup = bench_startup(args.store, document, args.repeats)
        if args.json:
            print(json.dumps({"startup": startup}, indent=2))
        else:
            print_startup(startup)
        return

    if args.ingest_ratio:
        ratio = bench_ingest_ratio(
            args.corpus, args.ingest_ratio, args.model, _model_or_none(args.multilingual_model)
        )
        print(json.dumps({"ingest_ratio": ratio}, indent=2))
        return

    from migralex.ui.service import clause_passage

    result: dict[str, Any] = {"pipeline": bench_pipeline(args.corpus)}
    clauses = result["pipeline"].pop("_clauses")
    step = max(1, len(clauses) // args.sample)
    texts = [clause_passage(c) for c in clauses[::step][: args.sample]]
    result["embedding"] = bench_embedding(texts, args.model)
    from migralex.ui.service import NO_MODEL

    if args.multilingual_model.strip().lower() not in NO_MODEL:
        result["multilingual_embedding"] = bench_embedding(texts, args.multilingual_model, True)
    if args.store is not None and args.store.exists():
        result["queries"] = bench_queries(args.store)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print_result(result)


def _parser() -> argparse.ArgumentParser:
    """The benchmark's command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    parser.add_argument("--store", type=Path, default=None, help="measure query latency here")
    parser.add_argument("--model", default="minilm")
    parser.add_argument(
        "--multilingual-model", default="e5-small", help="second vector set's model, or none"
    )
    parser.add_argument("--sample", type=int, default=300, help="clauses to embed")
    parser.add_argument(
        "--startup",
        action="store_true",
        help="only time cold starts of CLI commands (needs --store; tag reads --document)",
    )
    parser.add_argument(
        "--document",
        type=Path,
        default=None,
        help="file tagged by --startup (default: the first file of --corpus's manifest)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per --startup command")
    parser.add_argument(
        "--scale",
        type=int,
        default=None,
        metavar="N",
        help="only the scale benchmark: a store of N clauses varied from --source-store's",
    )
    parser.add_argument(
        "--index-types",
        default=None,
        metavar="N,N,...",
        help="only compare FAISS index types on this many varied vectors (--source-store)",
    )
    parser.add_argument("--source-store", type=Path, default=Path("store-full"))
    parser.add_argument(
        "--scale-store",
        type=Path,
        default=None,
        help="folder of the --scale store (default: scale-N beside --source-store); rebuilt",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="with --scale: measure an existing --scale-store"
    )
    parser.add_argument(
        "--no-text-search",
        action="store_true",
        help="with --scale: leave out lexical and hybrid search (and their BM25 index build)",
    )
    parser.add_argument(
        "--ingest-ratio",
        type=int,
        default=None,
        metavar="N",
        help="only ingest N corpus files into a temporary store and compare with encode-only",
    )
    parser.add_argument("--json", action="store_true")
    return parser


def _model_or_none(name: str) -> str:
    """``name``, or "" for a 'none' multilingual model."""
    from migralex.ui.service import NO_MODEL

    return "" if name.strip().lower() in NO_MODEL else name


def print_result(result: dict[str, Any]) -> None:
    """Print the pipeline, embedding and (when measured) query results as text."""
    p, e = result["pipeline"], result["embedding"]
    print(
        f"documents {p['documents']}, pages {p['pages']}, clauses {p['clauses']}, tags {p['tags']}"
    )
    print(f"read + segment {p['read_segment_seconds']} s; tag {p['tag_seconds']} s "
          f"({p['tag_clauses_per_s']} clauses/s)")  # fmt: skip
    print(f"embedding {e['model']}: {e['clauses_per_s']} clauses/s (load {e['load_seconds']} s)")
    if "multilingual_embedding" in result:
        m = result["multilingual_embedding"]
        print(f"multilingual set {m['model']}: {m['clauses_per_s']} clauses/s")
    if "queries" in result:
        q = result["queries"]
        print(f"queries over {q['clauses']} clauses (warm, ms):")
        for mode in ("lexical", "semantic", "hybrid"):
            print(f"  {mode:9} p50 {q[mode]['p50_ms']:7.1f}  p95 {q[mode]['p95_ms']:7.1f}")


if __name__ == "__main__":
    main()
