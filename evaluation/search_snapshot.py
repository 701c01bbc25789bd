"""Search snapshot: the ids and scores of a fixed set of searches, to show a refactoring of the
search path changed no ranking.

Runs :data:`CASES` (60 questions in English, French and Spanish over the three modes, with and
without filters, grouped and not) and :data:`SIMILAR` clause comparisons against a store and
writes ``{case: [[clause_id, score repr], ...]}`` as sorted, indented JSON. Two runs over the
same store with the same code give byte-identical files; compare the files of the code before
and after a change (``cmp before.json after.json``).

Usage::

    python -m migralex.evaluation.search_snapshot --store STORE --out FILE.json [--no-adapted]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from migralex.corpus.store import Filters, Store

#: Questions, each asked in every mode: (text, filters as keyword arguments, group).
QUESTIONS: tuple[tuple[str, dict[str, tuple[str, ...]], bool], ...] = (
    ("export of pensions to the other country", {}, False),
    ("equal treatment of nationals of both states", {}, False),
    ("totalisation of insurance periods", {}, False),
    ("which legislation applies to posted workers", {}, False),
    ("recruitment fees charged to migrant workers", {}, False),
    ("joint committee to monitor the agreement", {}, False),
    ('"payment of benefits abroad"', {}, False),
    ("protection of personal data exchanged between institutions", {}, False),
    ("how are disputes between the parties settled", {}, False),
    ("family members joining the worker", {}, False),
    ("égalité de traitement des ressortissants", {}, False),
    ("totalisation des périodes d'assurance", {}, False),
    ("versement des prestations à l'étranger", {}, False),
    ("igualdad de trato de los trabajadores migrantes", {}, False),
    ("employment injury benefits for workers in irregular status", {"kinds": ("law",)}, False),
    ("old age pension", {"kinds": ("ssa",)}, False),
    ("old age pension", {"languages": ("fr",)}, False),
    ("wages and working conditions", {"kinds": ("bla",)}, False),
    ("entry into force and termination", {"parties": ("Canada",)}, False),
    ("detachment of employees", {"tags": ("applicable_legislation",)}, False),
    ("administrative assistance between competent authorities", {}, True),
    ("unemployment benefits", {"kinds": ("ssa", "regional")}, True),
)
MODES = ("hybrid", "semantic", "lexical")
#: Clause ordinals (document, ordinal) whose similar clauses are listed.
SIMILAR_PER_STORE = 6


def cases() -> list[tuple[str, str, str, Filters, bool]]:
    """Every case as ``(name, question, mode, filters, group)``: one per question and mode."""
    out = []
    for i, (text, filt, group) in enumerate(QUESTIONS):
        for mode in MODES:
            out.append((f"{i:02d}-{mode}", text, mode, Filters(**filt), group))
    return out


def snapshot(store: Store, use_adapted: bool = True) -> dict[str, list[list[str]]]:
    """Run every case and :data:`SIMILAR_PER_STORE` ``similar`` calls (clauses spread evenly
    over the store's documents) against ``store``.

    Returns:
        ``{case name: [[clause_id, repr(score)], ...]}``, 10 hits each at most.
    """
    from migralex.ui import service

    searcher = service.searcher(store, use_adapted=use_adapted)
    out: dict[str, list[list[str]]] = {}
    for name, text, mode, filters, group in cases():
        hits = searcher.search(text, k=10, mode=mode, filters=filters, group=group)
        out[name] = [[h.clause.clause_id, repr(h.score), str(h.similar_count)] for h in hits]
    docs = [d["doc_id"] for d in store.document_summaries()]
    step = max(1, len(docs) // SIMILAR_PER_STORE)
    for doc_id in docs[::step][:SIMILAR_PER_STORE]:
        clauses = store.clauses(doc_id)
        if not clauses:
            continue
        clause = clauses[len(clauses) // 2]
        hits = searcher.similar(clause.clause_id, k=10)
        out[f"similar-{clause.clause_id}"] = [[h.clause.clause_id, repr(h.score)] for h in hits]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m migralex.evaluation.search_snapshot")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-adapted", action="store_true", help="leave the adapted set out")
    args = parser.parse_args(argv)
    with Store(args.store) as store:
        result = snapshot(store, use_adapted=not args.no_adapted)
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"{len(result)} cases -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
