"""Checklists: data files of questions about an agreement or a law, and the engine that answers them.

A checklist (``nlp/checklists/{id}.yaml``, package data) is a list of items: a question in our own
words, why it matters, the ILO standard it comes from, the tag names and heading keywords that
signal it, a few exemplar sentences (``cues``) for semantic similarity, and the rules that make a
found provision only *partial*. :func:`run_checklist` answers every item of a checklist for one
document's clauses: ``present``, ``partial`` or ``absent``, with the evidence clauses, a confidence
and a reason a lawyer can check.

The package, one job per module:

* :mod:`~migralex.nlp.checklist.loader` — checklist YAML files -> frozen models (pydantic
  schema); the checklist ids are the files found (:func:`checklist_ids`);
* :mod:`~migralex.nlp.checklist.thresholds` — calibrated similarity thresholds per model;
* :mod:`~migralex.nlp.checklist.engine` — signals -> ranking -> status (:func:`run_checklist`);
* :mod:`~migralex.nlp.checklist.rules` — the clause-level partial rules;
* :mod:`~migralex.nlp.checklist.examples` — good-practice examples.

The result types live with the data model (:mod:`migralex.corpus.checklist_models`), the
clause-structure helpers in :mod:`migralex.nlp.structure`, the legal vocabulary in
``nlp/vocab/*.yaml`` (:mod:`migralex.nlp.vocabulary`). How to change them: ``nlp/README.md``.
"""

from __future__ import annotations

from migralex.corpus.checklist_models import (
    STATUSES,
    Checklist,
    ChecklistItem,
    ChecklistResult,
    Evidence,
    ItemResult,
    PartialRule,
    Status,
)
from migralex.nlp.checklist.engine import run_checklist
from migralex.nlp.checklist.examples import example_quality, rank_examples
from migralex.nlp.checklist.loader import (
    PARTIAL_RULES,
    checklist_ids,
    list_checklists,
    load_checklist,
    load_file,
)
from migralex.nlp.checklist.thresholds import (
    LEAD_CHARS,
    SEMANTIC_MARGIN,
    SEMANTIC_PARTIAL,
    SEMANTIC_PRESENT,
    SEMANTIC_UNTAGGED,
    TAG_FLOOR,
    TAG_SUPPORT,
    THRESHOLDS_BY_MODEL,
    Thresholds,
    thresholds_for,
)
from migralex.nlp.structure import is_preamble, structural_topics

__all__ = [
    "LEAD_CHARS",
    "PARTIAL_RULES",
    "SEMANTIC_MARGIN",
    "SEMANTIC_PARTIAL",
    "SEMANTIC_PRESENT",
    "SEMANTIC_UNTAGGED",
    "STATUSES",
    "TAG_FLOOR",
    "TAG_SUPPORT",
    "THRESHOLDS_BY_MODEL",
    "Checklist",
    "ChecklistItem",
    "ChecklistResult",
    "Evidence",
    "ItemResult",
    "PartialRule",
    "Status",
    "Thresholds",
    "checklist_ids",
    "example_quality",
    "is_preamble",
    "list_checklists",
    "load_checklist",
    "load_file",
    "rank_examples",
    "run_checklist",
    "structural_topics",
    "thresholds_for",
]


def __getattr__(name: str) -> tuple[str, ...]:
    # CHECKLIST_IDS (the shipped checklist ids, from the data files) is computed on first use.
    if name == "CHECKLIST_IDS":
        return checklist_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
