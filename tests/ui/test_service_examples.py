"""Good-practice examples of a draft's checklist items come from documents of its kind and
language first, never from a preamble (``service.examples_in_order``)."""

from __future__ import annotations

import pytest
from conftest import make_clause

from migralex.corpus.checklist_models import ChecklistItem
from migralex.corpus.models import Hit
from migralex.nlp.checklist import load_checklist
from migralex.ui.service import examples_in_order

TEXT = (
    "Les travailleurs migrants bénéficient de l'égalité de traitement avec les nationaux en "
    "matière de salaires, de conditions de travail et de sécurité sociale. " * 3
)


def _hit(doc: str, label: str, kind: str, language: str, score: float = 0.6) -> Hit:
    clause = make_clause(label, "Égalité de traitement", TEXT, doc_id=doc, language=language)
    return Hit(1, score, clause, f"title {doc}", kind)


@pytest.fixture()
def item() -> ChecklistItem:
    return next(i for i in load_checklist("bla").items if i.id == "bla.equality_of_treatment")


def test_same_kind_and_language_first_then_others(item: ChecklistItem) -> None:
    near = [_hit("bla-fr", "Article 3", "bla", "fr", 0.3)]
    others = [
        _hit("ssa-en", "Article 4", "ssa", "en", 0.9),
        _hit("bla-fr", "Article 3", "bla", "fr"),
    ]
    got = examples_in_order(item, near, others, 2)
    assert [h.clause.doc_id for h in got] == ["bla-fr", "ssa-en"]  # one per document


def test_preambles_are_never_examples(item: ChecklistItem) -> None:
    near = [_hit("bla-fr", "Preamble", "bla", "fr", 0.9)]
    others = [_hit("ssa-en", "Article 4", "ssa", "en")]
    assert [h.clause.doc_id for h in examples_in_order(item, near, others, 3)] == ["ssa-en"]


@pytest.mark.parametrize("n", [0, -1])
def test_no_examples_asked_none_given(item: ChecklistItem, n: int) -> None:
    assert examples_in_order(item, [_hit("a", "Article 1", "bla", "fr")], [], n) == []
