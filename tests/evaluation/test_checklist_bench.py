"""The checklist benchmark: gold topic rules and expectations of drafts."""

from __future__ import annotations

import numpy as np
from conftest import make_clause

from migralex.corpus.models import Clause
from migralex.evaluation.checklist import (
    Draft,
    draft_blocks,
    draft_paragraphs,
    gold_articles,
    load_topics,
    regold,
    tally_keys,
)


def _clause(doc: str, label: str, heading: str, body: str, ordinal: int) -> Clause:
    return make_clause(
        label, heading, f"{label}\n{body}", doc_id=doc, ordinal=ordinal, start=ordinal * 1000,
        language="fr",
    )  # fmt: skip


ROWS = [
    (
        "Article 4",
        "",
        "- En vue de l'acquisition du droit aux prestations, les périodes sont totalisées.",
    ),
    (
        "Article 9",
        "",
        "Si la législation subordonne l'acquisition du droit à des périodes, "
        "l'institution tient compte des périodes accomplies dans l'autre Partie.",
    ),
    (
        "Article 30",
        "",
        "La présente Convention entrera en vigueur le premier jour du mois suivant.",
    ),
    (
        "Article 31",
        "",
        "Les travailleurs sont soumis aux législations en vigueur au lieu de travail.",
    ),
]


def _draft(fmt: str, labels: set[str]) -> Draft:
    clauses = tuple(
        _clause("d1", lab, h, b, i) for i, (lab, h, b) in enumerate(ROWS) if lab in labels
    )
    return Draft("d1", "fr", "ssa", "dev", fmt, (), clauses, {}, np.zeros((len(clauses), 4)), {})


def test_french_gold_rules_read_opening_formulas() -> None:
    gold = gold_articles(_draft("orig", {r[0] for r in ROWS}).clauses, load_topics()["ssa"])
    assert gold["ssa.totalisation"] == {("", "article 4"), ("", "article 9")}
    # "législations en vigueur" is not the agreement entering into force
    assert gold["ssa.entry_into_force_and_termination"] == {("", "article 30")}


def test_regold_expects_what_each_draft_still_holds() -> None:
    orig = _draft("orig", {r[0] for r in ROWS})
    partly = _draft("md", {"Article 9", "Article 30", "Article 31"})
    none = _draft("md", {"Article 31"})
    changed = regold([orig, partly, none], load_topics())
    assert changed == 3
    assert partly.expected["ssa.totalisation"] == "present"
    assert partly.gold["ssa.totalisation"] == {("", "article 9")}
    assert none.expected == {
        "ssa.totalisation": "absent",
        "ssa.entry_into_force_and_termination": "absent",
    }


def test_draftdraft_paragraphs_join_a_wrapped_heading() -> None:
    text = "ARTICLE 4 Equality of Treatment and Payment of Benefits\nAbroad\n1 Persons who\nreside"
    heading = "Equality of Treatment and Payment of Benefits Abroad"
    assert draft_paragraphs(text, "ARTICLE 4", heading) == [
        "ARTICLE 4 Equality of Treatment and Payment of Benefits Abroad",
        "1 Persons who reside",
    ]
    # a heading on its own line after the label stays apart, as the source has it
    assert draft_paragraphs("Article 4\nScope\n1 Text", "Article 4", "Scope") == [
        "Article 4",
        "Scope",
        "1 Text",
    ]
    # the body's first line does not swallow a heading printed under the label
    assert draft_paragraphs(
        "Article 3\nPersons covered\nThis Convention shall apply\nto all persons.",
        "Article 3",
        "Persons covered",
    ) == ["Article 3", "Persons covered", "This Convention shall apply to all persons."]


def test_stripped_drafts_keep_labels_and_bodies_but_no_titles() -> None:
    clauses = [
        make_clause("Article 4", "Equality of treatment", "Article 4 Equality of treatment\n"
                    "1. Nationals of either Party\nshall be treated equally.", ordinal=0),
        make_clause("Article 5", "Export of benefits", "Article 5\nExport of benefits\n"
                    "Benefits shall be paid abroad.", ordinal=1, start=100),
    ]  # fmt: skip
    headed = draft_blocks(clauses, [], lambda _c: True)
    bare = draft_blocks(clauses, [], lambda _c: True, strip_headings=True)
    assert (0, "Article 4 Equality of treatment") in headed
    assert (0, "Export of benefits") in headed
    assert bare == [
        (0, "Article 4"),
        (0, "1. Nationals of either Party shall be treated equally."),
        (0, "Article 5"),
        (0, "Benefits shall be paid abroad."),
    ]


def test_every_draft_counts_in_its_language_condition_and_pooled_tallies() -> None:
    d = _draft("md", {"Article 9"})
    d.condition = "stripped"
    keys = tally_keys(d)
    assert ("ssa", "fr", "stripped", "dev") in keys
    assert ("ssa", "*", "*", "all") in keys
    assert len(set(keys)) == 6
