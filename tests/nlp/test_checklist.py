"""Tests of the checklist data files and engine (nlp/checklist/), with a fake embedder."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, corpus_missing, make_clause

from migralex.corpus.errors import NotFoundError, ValidationError
from migralex.corpus.models import Clause, Hit, Tag
from migralex.nlp import checklist as ck
from migralex.nlp.checklist import (
    CHECKLIST_IDS,
    ChecklistItem,
    ChecklistResult,
    engine,
    list_checklists,
    load_checklist,
    run_checklist,
)

#: DESIGN.md "Checklist item ids".
DESIGN_ITEM_IDS: dict[str, tuple[str, ...]] = {
    "ssa": (
        "ssa.personal_scope",
        "ssa.material_scope",
        "ssa.equality_of_treatment",
        "ssa.export_of_benefits",
        "ssa.applicable_legislation",
        "ssa.totalisation",
        "ssa.administrative_assistance",
        "ssa.data_protection",
        "ssa.claims_and_appeals",
        "ssa.dispute_settlement",
        "ssa.entry_into_force_and_termination",
    ),
    "bla": (
        "bla.social_security",
        "bla.equality_of_treatment",
        "bla.references_ssa_or_law",
        "bla.joint_committee",
        "bla.complaint_mechanism",
        "bla.information_exchange",
        "bla.scope_of_workers",
        "bla.employment_contract",
        "bla.recruitment_costs",
        "bla.remittances",
        "bla.family_reunification",
        "bla.return_and_reintegration",
        "bla.gender",
        "bla.duration_and_termination",
    ),
    "national-law": (
        "law.nationality_requirement",
        "law.residence_requirement",
        "law.irregular_status_coverage",
        "law.employment_injury_regardless_of_status",
        "law.excluded_categories",
        "law.benefits_abroad",
        "law.reimbursement_of_contributions",
        "law.equality_of_treatment",
    ),
}

_STOP = frozenset(
    "the of and a an to in or is are be by for on as that this with any its it their his her "
    "which who shall les des de la le et du en un une aux par pour que qui est sont".split()
)


def fake_embed(texts: Sequence[str], dim: int = 256) -> np.ndarray:
    """Deterministic bag-of-words embedder: sha256 of each word's 6-letter stem -> ±1 in a bucket.

    Same words give overlapping vectors; float32 ``(n, dim)``, L2-normalised (zero rows stay 0).
    """
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            if len(word) < 3 or word in _STOP:
                continue
            digest = hashlib.sha256(word[:6].encode()).digest()
            out[i, digest[0] % dim] += 1.0 if digest[1] % 2 else -1.0
        norm = np.linalg.norm(out[i])
        if norm:
            out[i] /= norm
    return out


def make_clauses(rows: Sequence[tuple[str, str, str]], doc_id: str = "draft") -> list[Clause]:
    """Build clauses from (label, heading, body) with consistent offsets in a virtual text."""
    clauses, offset = [], 0
    for ordinal, (label, heading, body) in enumerate(rows):
        text = f"{label} {heading}\n{body}" if heading else f"{label}\n{body}"
        clauses.append(
            make_clause(label, heading, text, doc_id=doc_id, ordinal=ordinal, start=offset)
        )
        offset += len(text) + 2
    return clauses


def tag(clause: Clause, name: str, phrase: str, exception: str = "") -> Tag:
    """A tag on the first occurrence of ``phrase`` in ``clause``."""
    start = clause.text.index(phrase)
    return Tag(
        clause.clause_id, name, start, start + len(phrase), phrase, f"test.{name}", exception
    )


def run(
    name: str,
    clauses: Sequence[Clause],
    tags: dict[str, list[Tag]] | None = None,
    **kwargs: object,
) -> ChecklistResult:
    vectors = fake_embed([c.text for c in clauses])
    return run_checklist(
        load_checklist(name),
        clauses,
        tags or {},
        vectors,
        lambda cues: fake_embed(cues),
        **kwargs,  # type: ignore[arg-type]
    )


def by_id(result: ChecklistResult) -> dict[str, ck.ItemResult]:
    return {r.item.id: r for r in result.items}


SMALL_SSA = [
    ("Preamble", "", "The Parties, resolved to cooperate in the field of social security, agree:"),
    (
        "Article 1",
        "Definitions",
        "For the purposes of this Agreement, competent authority means the minister.",
    ),
    (
        "Article 2",
        "Equality of Treatment",
        "Any person who is or has been subject to the legislation of a Party shall receive "
        "benefits under the same conditions as nationals of the other Party.",
    ),
    (
        "Article 3",
        "Export of Benefits",
        "Benefits shall not be reduced or suspended because the beneficiary resides in the "
        "territory of the other Party.",
    ),
    (
        "Article 4",
        "Totalization",
        "Creditable periods completed under the legislation of both Parties shall be added "
        "together to determine entitlement to a benefit.",
    ),
]


# --------------------------------------------------------------------------------------------
# Data files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHECKLIST_IDS)
def test_every_design_item_id_exists(name: str) -> None:
    checklist = load_checklist(name)
    assert checklist.id == name
    ids = [item.id for item in checklist.items]
    assert set(DESIGN_ITEM_IDS[name]) <= set(ids)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", CHECKLIST_IDS)
def test_items_are_complete(name: str) -> None:
    for item in load_checklist(name).items:
        assert item.question.endswith("?"), item.id
        assert 3 <= len(item.cues) <= 6, item.id
        assert item.reference and item.why and item.present_when, item.id
        assert item.headings, item.id
        assert all(rule.when in ck.PARTIAL_RULES for rule in item.partial), item.id


def test_list_checklists_in_order_and_cached() -> None:
    assert [c.id for c in list_checklists()] == list(CHECKLIST_IDS)
    assert load_checklist("ssa") is load_checklist("ssa")


def test_checklist_ids_are_the_data_files_in_their_order() -> None:
    folder = Path(ck.loader.__file__).parent.parent / "checklists"
    assert sorted(CHECKLIST_IDS) == sorted(f.stem for f in folder.glob("*.yaml"))
    assert CHECKLIST_IDS[:2] == ("ssa", "bla")  # the order: keys of the files
    assert ck.CHECKLIST_IDS == ck.checklist_ids()


@pytest.mark.parametrize("name", ["", "SSA", "law", "national_law"])
def test_unknown_checklist_lists_valid_names(name: str) -> None:
    with pytest.raises(NotFoundError) as info:
        load_checklist(name)
    for valid in CHECKLIST_IDS:
        assert valid in str(info.value)


_GOOD_ITEM = """\
  - id: x.item
    question: Is it there?
    why: Because.
    reference: C118 Art. 3
    tags: [equality_of_treatment]
    headings: [equal treatment]
    cues: [one cue, two cue, three cue]
    partial:
      - when: tag_exception
        reason: limited
    present_when: It is there.
"""
_HEADER = "id: x\ntitle: X\ndescription: Test.\nitems:\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            _HEADER + _GOOD_ITEM.replace("    why:", "    colour: red\n    why:"),
            "unknown key(s) colour",
        ),
        (_HEADER + _GOOD_ITEM.replace("    why: Because.\n", ""), "missing field(s) why"),
        (_HEADER + _GOOD_ITEM.replace("tag_exception", "made_up_rule"), "unknown partial rule"),
        (_HEADER + _GOOD_ITEM.replace("[equality_of_treatment]", "[equality]"), "unknown tag(s)"),
        (_HEADER + _GOOD_ITEM.replace("[equal treatment]", "['equal (treatment']"), "bad heading"),
        (_HEADER + _GOOD_ITEM.replace(", three cue", ""), "cues must hold"),
        (
            _HEADER + _GOOD_ITEM.replace("reason: limited", "reason: limited\n        extra: 1"),
            "unknown key",
        ),
        (_HEADER + _GOOD_ITEM + _GOOD_ITEM, "duplicate item id"),
        (
            _HEADER + _GOOD_ITEM.replace("    cues:", "    ignore_rules: [made_up]\n    cues:"),
            "ignore_rules names no rule of the item's tags: made_up",
        ),
        (_HEADER + _GOOD_ITEM.replace("id: x.item", "id: Not An Id"), "id must look like"),
        ("id: x\ntitle: X\ndescription: Test.\nitems: []\nowner: me\n", "unknown key(s) owner"),
        ("id: x\ntitle: X\nitems: []\n", "missing field(s) description"),
        ("id: [x\n", "not valid YAML"),
    ],
)
def test_bad_yaml_raises_validation_error(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        ck.load_file(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    if "item" in text and "x.item" in text and "duplicate" not in expected:
        assert "'x.item'" in message


def test_good_yaml_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(_HEADER + _GOOD_ITEM, encoding="utf-8")
    checklist = ck.load_file(path)
    (item,) = checklist.items
    assert item.tags == ("equality_of_treatment",)
    assert item.partial == (ck.PartialRule("tag_exception", "limited"),)


# --------------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_id", "status", "label"),
    [
        ("ssa.equality_of_treatment", "present", "Article 2"),
        ("ssa.export_of_benefits", "present", "Article 3"),
        ("ssa.totalisation", "present", "Article 4"),
        ("ssa.data_protection", "absent", None),
        ("ssa.dispute_settlement", "absent", None),
        ("ssa.entry_into_force_and_termination", "absent", None),
    ],
)
def test_small_ssa(item_id: str, status: str, label: str | None) -> None:
    result = by_id(run("ssa", make_clauses(SMALL_SSA)))[item_id]
    assert result.status == status, result.reason
    if label is None:
        assert result.evidence == ()
    else:
        assert result.evidence[0].clause.label == label
        assert "heading" in result.evidence[0].via
        assert all(e.clause.label != "Preamble" for e in result.evidence)
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.parametrize(
    ("exception", "status"),
    [
        ("except for persons residing in a third State", "partial"),
        ("unless otherwise provided in this Agreement", "present"),  # cross-reference only
        ("", "present"),
    ],
)
def test_tag_exception_makes_partial(exception: str, status: str) -> None:
    clauses = make_clauses(SMALL_SSA)
    export = clauses[3]
    tags = {
        export.clause_id: [tag(export, "export_of_benefits", "shall not be reduced", exception)]
    }
    result = by_id(run("ssa", clauses, tags))["ssa.export_of_benefits"]
    assert result.status == status
    if status == "partial":
        assert exception in result.reason
        assert "Article 3" in result.reason


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            "Nationals of either Party shall enjoy the same rights as nationals of the other.",
            "partial",
        ),
        (
            "Any person covered shall receive benefits under the same conditions as nationals of the other Party.",
            "present",
        ),
        ("Les ressortissants de l'une des Parties bénéficient des mêmes droits.", "partial"),
    ],
)
def test_nationals_only_rule(body: str, status: str) -> None:
    rows = [("Article 1", "Equal Treatment", body)]
    assert by_id(run("ssa", make_clauses(rows)))["ssa.equality_of_treatment"].status == status


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("The competent authorities shall resolve difficulties by consultation.", "partial"),
        (
            "A dispute not resolved by consultation shall be submitted to an arbitral tribunal.",
            "present",
        ),
    ],
)
def test_no_binding_settlement_rule(body: str, status: str) -> None:
    rows = [("Article 9", "Settlement of Disputes", body)]
    assert by_id(run("ssa", make_clauses(rows)))["ssa.dispute_settlement"].status == status


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("Recruitment costs shall be borne by the worker.", "partial"),
        ("Recruitment costs shall not be borne by the worker but by the employer.", "present"),
    ],
)
def test_costs_on_worker_rule(body: str, status: str) -> None:
    rows = [("Article 5", "Recruitment Costs", body)]
    assert by_id(run("bla", make_clauses(rows)))["bla.recruitment_costs"].status == status


@pytest.mark.parametrize(
    ("name", "item_id", "heading", "body", "status"),
    [
        # lawful_status_only
        ("national-law", "law.irregular_status_coverage", "Workers Without a Permit",
         "Only workers lawfully resident in the country are insured.", "partial"),
        ("national-law", "law.irregular_status_coverage", "Workers Without a Permit",
         "Workers are insured whether or not they hold a valid permit.", "present"),
        # status_silent
        ("national-law", "law.employment_injury_regardless_of_status", "Employment Injury",
         "An insured person injured at work receives a benefit.", "partial"),
        ("national-law", "law.employment_injury_regardless_of_status", "Employment Injury",
         "Any worker injured at work receives a benefit, regardless of migration status.",
         "present"),
        # discretionary
        ("bla", "bla.family_reunification", "Family Reunification",
         "The receiving Party may allow the worker's spouse to join him or her.", "partial"),
        ("bla", "bla.family_reunification", "Family Reunification",
         "The receiving Party shall allow the worker's spouse to join him or her.", "present"),
    ],
)  # fmt: skip
def test_status_and_discretion_rules(
    name: str, item_id: str, heading: str, body: str, status: str
) -> None:
    result = by_id(run(name, make_clauses([("Section 4", heading, body)])))[item_id]
    assert result.status == status, result.reason


@pytest.mark.parametrize(
    ("export_branches", "status"),
    [
        (["branch_old_age"], "partial"),
        (["branch_old_age", "branch_invalidity"], "present"),
        ([], "present"),  # export clause names no branch: taken to cover all
    ],
)
def test_fewer_branches_rule(export_branches: list[str], status: str) -> None:
    rows = [
        (
            "Article 2",
            "Material Scope",
            "This Agreement applies to old age and invalidity pensions.",
        ),
        ("Article 5", "Export of Benefits", "Old age and invalidity pensions are paid abroad."),
    ]
    scope, export = make_clauses(rows)
    tags = {
        scope.clause_id: [
            tag(scope, "branch_old_age", "old age"),
            tag(scope, "branch_invalidity", "invalidity"),
        ],
        export.clause_id: [
            tag(export, n, {"branch_old_age": "Old age", "branch_invalidity": "invalidity"}[n])
            for n in export_branches
        ],
    }
    result = by_id(run("ssa", [scope, export], tags))["ssa.export_of_benefits"]
    assert result.status == status
    if status == "partial":
        assert "invalidity" in result.reason


def _one_direction_embedder(dim: int = 4) -> tuple[np.ndarray, object]:
    axis = np.zeros(dim, dtype=np.float32)
    axis[0] = 1.0
    return axis, lambda cues: np.tile(axis, (len(cues), 1))


@pytest.mark.parametrize(
    ("similarity", "status"),
    [
        (0.95, "present"),
        (0.62, "partial"),
        (0.3, "absent"),
    ],
)
def test_semantic_thresholds(similarity: float, status: str) -> None:
    (clause,) = make_clauses(
        [
            (
                "Article 7",
                "Miscellaneous",
                "Some text without a telling heading; see the arbitral tribunal.",
            )
        ]
    )
    vector = np.array([[similarity, np.sqrt(1 - similarity**2), 0.0, 0.0]], dtype=np.float32)
    _axis, embed = _one_direction_embedder()
    # Explicit band (the calibrated constants may close it: SEMANTIC_PARTIAL == PRESENT).
    th = ck.Thresholds(semantic_present=0.7, semantic_partial=0.55)
    result = run_checklist(
        load_checklist("ssa"),
        [clause],
        {},
        vector,
        embed,  # type: ignore[arg-type]
        thresholds=th,
    )
    for item in result.items:
        assert item.status == status, item.item.id
        if status != "absent":
            assert item.evidence[0].via == "semantic"
    confidences = [r.confidence for r in result.items]
    assert all(0.0 <= c <= 1.0 for c in confidences)


def test_preamble_is_evidence_only_when_nothing_else() -> None:
    rows = [
        (
            "Preamble",
            "",
            "Desiring to ensure equality of treatment: covered persons receive benefits under "
            "the same conditions as nationals of the other party.",
        ),
        ("Article 1", "Definitions", "Terms."),
    ]
    clauses = make_clauses(rows)
    tags = {
        clauses[0].clause_id: [tag(clauses[0], "equality_of_treatment", "equality of treatment")]
    }
    result = by_id(run("ssa", clauses, tags))["ssa.equality_of_treatment"]
    assert result.status == "partial"
    assert "preamble" in result.reason
    assert [e.clause.label for e in result.evidence] == ["Preamble"]


def test_to_json_has_design_keys() -> None:
    clauses = make_clauses(SMALL_SSA)
    example = Hit(rank=1, score=0.9, clause=clauses[2], doc_title="Model", kind="ssa")
    calls: list[tuple[str, int]] = []

    def find_examples(item: ChecklistItem, n: int) -> list[Hit]:
        calls.append((item.id, n))
        return [example]

    result = run("ssa", clauses, find_examples=find_examples, n_examples=2)
    assert calls == [(i, 2) for i in DESIGN_ITEM_IDS["ssa"]]
    document = {"path": "draft.pdf", "doc_id": "draft", "title": "Draft", "language": "en"}
    data = result.to_json(document)
    assert set(data) == {"checklist", "title", "document", "items", "summary"}
    assert data["checklist"] == "ssa" and data["document"] == document
    assert set(data["summary"]) == {"present", "partial", "absent"}
    for item in data["items"]:
        assert set(item) == {
            "id", "question", "reference", "status", "confidence", "evidence", "examples", "why", "reason",
        }  # fmt: skip
        assert item["status"] in ("present", "partial", "absent")
        for evidence in item["evidence"]:
            assert {"clause_id", "label", "heading", "text", "score", "tags"} <= set(evidence)
            assert {"page_start", "page_end", "spans", "via"} <= set(evidence)
        assert item["examples"] == [
            {
                "doc_id": "draft",
                "doc_title": "Model",
                "clause_id": clauses[2].clause_id,
                "label": "Article 2",
                "heading": clauses[2].heading,
                "kind": "ssa",
                "page_start": 1,
                "text": clauses[2].text,
            }
        ]


@pytest.mark.parametrize("name", CHECKLIST_IDS)
def test_summary_adds_up_and_is_deterministic(name: str) -> None:
    clauses = make_clauses(SMALL_SSA)
    first, second = run(name, clauses), run(name, clauses)
    summary = first.summary()
    assert sum(summary.values()) == len(first.items) == len(load_checklist(name).items)
    assert summary == {
        s: sum(r.status == s for r in first.items) for s in ("present", "partial", "absent")
    }
    assert first == second
    assert first.to_json({}) == second.to_json({})


def test_no_clauses_all_absent_without_embedding() -> None:
    def embed(cues: list[str]) -> np.ndarray:
        raise AssertionError("must not embed when there are no clauses")

    result = run_checklist(load_checklist("bla"), [], {}, np.zeros((0, 8), np.float32), embed)
    assert result.summary() == {"present": 0, "partial": 0, "absent": 14}


@pytest.mark.parametrize("shape", [(2, 8), (5, 8, 1)])
def test_bad_vector_shape(shape: tuple[int, ...]) -> None:
    clauses = make_clauses(SMALL_SSA)
    with pytest.raises(ValidationError):
        run_checklist(load_checklist("ssa"), clauses, {}, np.zeros(shape, np.float32), fake_embed)


# --------------------------------------------------------------------------------------------
# Real document: the Canada-Mexico social security agreement (SI/96-32)
# --------------------------------------------------------------------------------------------


def _tags_for(clauses: Sequence[Clause]) -> dict[str, list[Tag]]:
    from migralex.nlp import tagger

    grouped: dict[str, list[Tag]] = {}
    for t in tagger.tag_clauses(clauses, "en"):
        grouped.setdefault(t.clause_id, []).append(t)
    return grouped


@pytest.mark.parametrize(
    "use_tagger",
    [pytest.param(False, id="no-tags"), pytest.param(True, id="tagger", marks=pytest.mark.slow)],
)
def test_canada_mexico_agreement(use_tagger: bool) -> None:
    path = CORPUS / "ssa" / "ca-si-96-32.pdf"
    if not path.is_file():
        corpus_missing(
            f"real corpus file ssa/ca-si-96-32.pdf not found beside the checkout ({CORPUS})"
        )
    from migralex.ingest.base import read_file
    from migralex.ingest.segment import segment

    clauses = segment(read_file(path), "ca-si-96-32", "en", "ssa").clauses
    tags = _tags_for(clauses) if use_tagger else {}
    result = run("ssa", clauses, tags)
    results = by_id(result)
    assert tuple(results) == DESIGN_ITEM_IDS["ssa"]
    expected = {
        "ssa.equality_of_treatment": "ARTICLE 4",
        "ssa.export_of_benefits": "ARTICLE 5",  # "Payment of Benefits Abroad"
        "ssa.totalisation": "ARTICLE 12",  # chapter "Totalizing"
        "ssa.applicable_legislation": "ARTICLE 6",
    }
    for item_id, label in expected.items():
        r = results[item_id]
        assert r.status == "present", (item_id, r.reason)
        assert label in [e.clause.label for e in r.evidence], (item_id, r.evidence)
    assert results["ssa.equality_of_treatment"].evidence[0].clause.label == "ARTICLE 4"
    assert results["ssa.export_of_benefits"].evidence[0].clause.label == "ARTICLE 5"
    assert results["ssa.dispute_settlement"].evidence[0].clause.label == "ARTICLE 25"
    assert results["ssa.dispute_settlement"].status == "present"  # arbitral tribunal
    assert all(e.clause.label != "Preamble" for r in result.items for e in r.evidence)


# --------------------------------------------------------------------------------------------
# Structural cues, tag support, thresholds, examples
# --------------------------------------------------------------------------------------------


def _with_context(clause: Clause, *context: str) -> Clause:
    import dataclasses

    return dataclasses.replace(clause, context=context)


def test_context_heading_is_strong_evidence() -> None:
    clauses = make_clauses(
        [
            ("Article 1", "Definitions", "Terms used in this Agreement."),
            ("Article 12", "", "Periods completed under both legislations are counted."),
        ]
    )
    clauses[1] = _with_context(clauses[1], "Provisions on Benefits", "Totalizing")
    result = by_id(run("ssa", clauses))["ssa.totalisation"]
    assert result.status == "present", result.reason
    assert result.evidence[0].clause.label == "Article 12"
    assert "context" in result.evidence[0].via


@pytest.mark.parametrize(
    ("support", "status"),
    [(-1.0, "present"), (1.0, "partial")],
)
def test_tag_alone_needs_similarity_support(support: float, status: str) -> None:
    clauses = make_clauses(
        [
            (
                "Article 9",
                "",
                "The pension is calculated on totalized periods.",
            )
        ]
    )
    tags = {clauses[0].clause_id: [tag(clauses[0], "totalisation", "totalized periods")]}
    # lead_chars=0: the tag is not taken as the article's subject, so it needs support.
    th = ck.Thresholds(tag_support=support, tag_floor=-1.0, semantic_margin=2.0, lead_chars=0)
    result = by_id(run("ssa", clauses, tags, thresholds=th))["ssa.totalisation"]
    assert result.status == status, result.reason
    # Under a heading that names another subject, the tag is a passing mention.
    headed = make_clauses(
        [
            (
                "Article 9",
                "Calculation of Benefits",
                "The pension is calculated on totalized periods.",
            )
        ]
    )
    tags = {headed[0].clause_id: [tag(headed[0], "totalisation", "totalized periods")]}
    result2 = by_id(run("ssa", headed, tags, thresholds=th))["ssa.totalisation"]
    assert result2.status == "absent", result2.reason
    assert result.evidence[0].spans == (
        (clauses[0].text.index("totalized periods"),) * 1
        + (clauses[0].text.index("totalized periods") + len("totalized periods"),),
    )


def test_tag_below_floor_is_ignored() -> None:
    clauses = make_clauses([("Article 9", "Calculation", "Amounts are paid monthly.")])
    tags = {clauses[0].clause_id: [tag(clauses[0], "totalisation", "Amounts")]}
    th = ck.Thresholds(0.99, 0.99, 0.99, 0.99)
    result = by_id(run("ssa", clauses, tags, thresholds=th))["ssa.totalisation"]
    assert result.status == "absent"


def test_third_state_variant_ranks_after_core_article() -> None:
    clauses = make_clauses(
        [
            (
                "Article 11",
                "Totalization with Third States",
                "Periods completed in a third State bound to both Parties by an agreement are "
                "added together to determine entitlement to a benefit.",
            ),
            (
                "Article 12",
                "Totalization",
                "Creditable periods completed under the legislation of both Parties are added.",
            ),
        ]
    )
    result = by_id(run("ssa", clauses))["ssa.totalisation"]
    assert [e.clause.label for e in result.evidence][:2] == ["Article 12", "Article 11"]


@pytest.mark.parametrize(
    ("kwargs", "ok"),
    [
        ({}, True),
        ({"semantic_partial": 0.9, "semantic_present": 0.8}, False),
        ({"tag_floor": 0.6, "tag_support": 0.5}, False),
    ],
)
def test_thresholds_are_validated(kwargs: dict[str, float], ok: bool) -> None:
    if ok:
        ck.Thresholds(**kwargs)
    else:
        with pytest.raises(ValidationError):
            ck.Thresholds(**kwargs)


def _hit(label: str, heading: str, body: str, doc: str, kind: str, title: str, score: float,
         tags: tuple[str, ...] = ()) -> Hit:  # fmt: skip
    (clause,) = make_clauses([(label, heading, body)], doc_id=doc)
    return Hit(rank=1, score=score, clause=clause, doc_title=title, kind=kind, tags=tags)


def test_examples_prefer_clear_agreement_clauses_in_force() -> None:
    item = {i.id: i for i in load_checklist("ssa").items}["ssa.totalisation"]
    body = "Creditable periods completed under the legislation of both Parties are added. " * 4
    hits = [
        _hit("Article 2", "Definitions", "periods " * 10, "a", "ilo", "A convention", 0.9),
        _hit("Article 6", "Totalization", body, "b", "ssa", "Agreement B (repealed)", 0.8),
        _hit("Article 7", "Totalization", body, "c", "ssa", "Agreement C", 0.6, ("totalisation",)),
        _hit("Article 8", "Totalization", body, "c", "ssa", "Agreement C", 0.6),
        _hit("Article 9", "", "Periods are added.", "d", "regional", "Regional D", 0.7),
    ]
    ranked = ck.rank_examples(item, hits, 3)
    assert [h.clause.doc_id for h in ranked] == ["c", "a", "d"]
    assert ranked[0].clause.label == "Article 7"
    assert ck.example_quality(item, hits[1]) == 0.0


def test_to_json_evidence_has_pages_spans_and_via() -> None:
    clauses = make_clauses(SMALL_SSA)
    tags = {clauses[2].clause_id: [tag(clauses[2], "equality_of_treatment", "same conditions")]}
    data = run("ssa", clauses, tags).to_json(
        {"path": "x", "doc_id": "d", "title": "", "language": "en"}
    )
    item = next(i for i in data["items"] if i["id"] == "ssa.equality_of_treatment")
    ev = item["evidence"][0]
    assert ev["page_start"] == 1 and ev["page_end"] == 1
    start, end = ev["spans"][0]
    assert ev["text"][start:end] == "same conditions"
    assert ev["via"].startswith("heading")


def test_lead_tag_is_strong_without_heading() -> None:
    """Without a heading, a tag in the opening words is primary evidence; deep in the body it
    needs cue similarity."""
    opening = "Les périodes d'assurance accomplies dans les deux Parties sont totalisées."
    filler = " Les institutions compétentes appliquent leur législation." * 8
    for body, lead_chars, status in [
        (opening + filler, 200, "present"),
        (opening + filler, 0, "absent"),
        (filler + " " + opening, 200, "absent"),
    ]:
        clauses = make_clauses([("Article 12", "", body)])
        tags = {clauses[0].clause_id: [tag(clauses[0], "totalisation", "sont totalisées")]}
        th = ck.Thresholds(tag_support=1.0, tag_floor=1.0, lead_chars=lead_chars)
        result = by_id(run("ssa", clauses, tags, thresholds=th))["ssa.totalisation"]
        assert result.status == status, (lead_chars, result.reason)


def test_tag_ignored_under_another_items_heading() -> None:
    clauses = make_clauses(
        [("Article 4", "Equality of Treatment", "Benefits are paid abroad, see Article 9.")]
    )
    tags = {clauses[0].clause_id: [tag(clauses[0], "export_of_benefits", "paid abroad")]}
    th = ck.Thresholds(tag_support=-1.0, tag_floor=-1.0, semantic_margin=2.0)
    result = by_id(run("ssa", clauses, tags, thresholds=th))["ssa.export_of_benefits"]
    assert result.status == "absent", result.reason


def test_semantic_evidence_must_be_closest_to_the_item() -> None:
    """A clause as similar to another item's cues is no semantic evidence (margin < 0)."""
    clauses = make_clauses([("Article 2", "", "Generic wording about institutions.")])
    loose = ck.Thresholds(
        semantic_present=1.0,
        semantic_partial=-1.0,
        tag_support=1.0,
        tag_floor=1.0,
        semantic_margin=2.0,
    )
    strict = ck.Thresholds(
        semantic_present=1.0,
        semantic_partial=-1.0,
        tag_support=1.0,
        tag_floor=1.0,
        semantic_margin=-2.0,
    )
    assert {r.status for r in run("ssa", clauses, thresholds=loose).items} == {"partial"}
    assert {r.status for r in run("ssa", clauses, thresholds=strict).items} == {"absent"}


def test_nested_item_flag_is_loaded() -> None:
    from migralex.nlp.checklist import load_checklist

    item = next(i for i in load_checklist("ssa").items if i.id == "ssa.data_protection")
    assert item.nested is True
    assert not next(i for i in load_checklist("ssa").items if i.id == "ssa.totalisation").nested


def test_opening_formula_counts_as_heading_without_one() -> None:
    """An article printed without a heading is about what its opening formula says."""
    th = ck.Thresholds(semantic_present=1.0, semantic_partial=1.0, tag_support=1.0, tag_floor=1.0)
    final = "La présente Convention entrera en vigueur le premier jour du deuxième mois suivant."
    filler = " Les institutions compétentes appliquent leur législation." * 8
    for label, heading, body, status in [
        ("Article 45", "", final, "present"),
        ("Article 45", "", filler + " " + final, "absent"),  # not in the opening words
        ("Article 45", "Transitional Provisions", final, "absent"),  # the heading rules
    ]:
        clauses = make_clauses([(label, heading, body)])
        result = by_id(run("ssa", clauses, thresholds=th))["ssa.entry_into_force_and_termination"]
        assert result.status == status, (body[:40], result.reason)
        if status == "present":
            assert result.evidence[0].clause.label == "Article 45"


def test_openings_are_loaded_and_validated(tmp_path: Path) -> None:
    item = next(
        i for i in load_checklist("ssa").items if i.id == "ssa.entry_into_force_and_termination"
    )
    assert item.openings
    path = tmp_path / "bad.yaml"
    path.write_text(
        _HEADER + _GOOD_ITEM.replace("    cues:", "    openings:\n      - 'a(b'\n    cues:"),
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match="bad opening regex"):
        ck.load_file(path)


@pytest.mark.parametrize(
    ("body", "phrase", "status"),
    [
        (
            "Les périodes d'assurance sont totalisées pour l'ouverture du droit.",
            "sont totalisées",
            "present",
        ),
        # the tag's own span points to the article that holds the rule
        (
            "Le montant tient compte des périodes prises en compte, conformément aux "
            "dispositions de l'article 18, pour la détermination du droit.",
            "périodes prises en compte, conformément aux dispositions de l'article 18, pour la "
            "détermination du droit",
            "absent",
        ),
        # a pointer right after the tag
        (
            "La totalisation des périodes visée à l'article 4 s'applique.",
            "totalisation des périodes",
            "absent",
        ),
        # the tag's sentence implements another article (administrative arrangements)
        (
            "Les formulaires sont fixés d'un commun accord. Pour l'application de l'article 9 "
            "de la Convention, la totalisation des périodes est attestée par un formulaire.",
            "totalisation des périodes",
            "absent",
        ),
        # the whole article opens by implementing others: a later tag in it too
        (
            "1. For the purposes of Articles 7 to 11 of the Agreement, a form is issued. "
            "2. The form states the periods totalised by the competent institution.",
            "periods totalised",
            "absent",
        ),
        # "for the purposes of this Agreement" names no other article
        (
            "For the purposes of this Agreement, the insurance periods are totalised.",
            "insurance periods are totalised",
            "present",
        ),
        # a benefit calculation applying the rule "as provided in" another article ...
        (
            "Where a person qualifies for a pension only through the totalising of periods as "
            "provided in Article 9, the institution pays the portion due for its own periods.",
            "totalising of periods",
            "absent",
        ),
        # ... or in the agreement itself
        (
            "Where a person qualifies for a pension only through the totalizing of periods as "
            "provided in this Agreement, the institution pays the portion due for its periods.",
            "totalizing of periods",
            "absent",
        ),
        # Dutch and Spanish pointers, with their own article words
        (
            "De samentelling van tijdvakken als bedoeld in artikel 12 wordt toegepast.",
            "samentelling van tijdvakken",
            "absent",
        ),
        (
            "La totalización de periodos conforme al artículo 8 se aplica a la pensión.",
            "totalización de periodos",
            "absent",
        ),
        # a pro rata calculation uses the periods added together; it does not lay down the rule
        (
            "The institution first computes the theoretical amount of the pension that would be "
            "due if all the periods added together had been completed under its own law.",
            "periods added together",
            "absent",
        ),
        # "under this Agreement" is the legal basis of the clause's own rule
        (
            "Insurance periods shall be totalised under this Agreement where they do not overlap.",
            "Insurance periods shall be totalised",
            "present",
        ),
    ],
)
def test_tag_pointing_to_another_article_is_no_evidence(
    body: str, phrase: str, status: str
) -> None:
    clauses = make_clauses([("Article 19", "", body)])
    tags = {clauses[0].clause_id: [tag(clauses[0], "totalisation", phrase)]}
    th = ck.Thresholds(semantic_present=1.0, semantic_partial=1.0, tag_support=-1.0, tag_floor=-1.0)
    result = by_id(run("ssa", clauses, tags, thresholds=th))["ssa.totalisation"]
    assert result.status == status, result.reason


@pytest.mark.parametrize(
    ("tagged_document", "similarity", "status"),
    [
        (False, 0.75, "present"),  # no tagger read this document: similarity is all there is
        (True, 0.75, "absent"),  # the tagger read it and did not tag this clause
        (True, 0.85, "present"),
    ],
)
def test_untagged_clause_needs_more_similarity_in_a_tagged_document(
    tagged_document: bool, similarity: float, status: str
) -> None:
    clauses = make_clauses(
        [
            ("Article 7", "Miscellaneous", "Wording close to every item's cues."),
            ("Article 8", "Miscellaneous", "Another subject, tagged by a rule."),
        ]
    )
    vectors = np.array(
        [[similarity, np.sqrt(1 - similarity**2), 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]],
        dtype=np.float32,
    )
    _axis, embed = _one_direction_embedder()
    tags = {clauses[1].clause_id: [tag(clauses[1], "gender", "tagged")]} if tagged_document else {}
    th = ck.Thresholds(semantic_present=0.7, semantic_partial=0.7, semantic_untagged=0.8)
    result = run_checklist(
        load_checklist("ssa"),
        clauses,
        tags,
        vectors,
        embed,
        thresholds=th,  # type: ignore[arg-type]
    )
    items = by_id(result)
    assert items["ssa.totalisation"].status == status
    # items without tags (scope, final clauses) keep the plain semantic threshold
    assert items["ssa.material_scope"].status == "present"


def test_thresholds_per_model() -> None:
    assert ck.thresholds_for("minilm") == ck.Thresholds()
    assert ck.thresholds_for("some/local-model") == ck.Thresholds()
    for model, th in ck.THRESHOLDS_BY_MODEL.items():
        assert ck.thresholds_for(model) is th
        assert th.semantic_partial <= th.semantic_present


@pytest.mark.parametrize(
    ("heading", "owns"),
    [
        ("Submitting Claims, Notices and Appeals", True),
        ("Demande de prestations", True),
        # checking a claimant's details is mutual assistance, not where a claim is lodged
        ("Verification of claims and payments", False),
        ("Vérification des demandes et des paiements", False),
    ],
)
def test_claims_heading(heading: str, owns: bool) -> None:
    clause = make_clause("Article 40", heading, f"Article 40\n{heading}\nText.")
    assert ("ssa.claims_and_appeals" in engine._owners(load_checklist("ssa"), clause)) is owns


@pytest.mark.parametrize(
    "body",
    [
        "Deze Overeenkomst zal vanaf de datum van ondertekening voorlopig worden toegepast.",
        "Elk der Partijen kan deze Overeenkomst met inachtneming van een termijn van zes maanden "
        "schriftelijk opzeggen.",
        "Zij treedt in werking op de eerste dag van de tweede maand na de kennisgeving.",
    ],
)
def test_dutch_final_clauses_open_with_their_subject(body: str) -> None:
    th = ck.Thresholds(semantic_present=1.0, semantic_partial=1.0, tag_support=1.0, tag_floor=1.0)
    clauses = make_clauses([("Artikel 12", "", body)])
    result = by_id(run("bla", clauses, thresholds=th))["bla.duration_and_termination"]
    assert result.status == "present", result.reason


def test_working_hours_are_not_a_duration_heading() -> None:
    clause = make_clause("Artikel 7", "Arbeidsduur", "Artikel 7\nArbeidsduur\nTekst.")
    assert "bla.duration_and_termination" not in engine._owners(load_checklist("bla"), clause)


def _rule_tag(clause: Clause, phrase: str, rule: str) -> Tag:
    start = clause.text.index(phrase)
    return Tag(
        clause.clause_id, "administrative_assistance", start, start + len(phrase), phrase, rule
    )


@pytest.mark.parametrize(
    ("rule", "status"),
    [
        ("en.administrative_assistance.mutual_assistance", "present"),
        # setting up the arrangement and its liaison agencies is no commitment to assist
        ("en.administrative_assistance.liaison_agencies", "absent"),
        ("fr.administrative_assistance.administrative_arrangement", "absent"),
    ],
)
def test_ignored_tag_rules_are_no_evidence(rule: str, status: str) -> None:
    body = (
        "The modalities of application will be set out in an Administrative Arrangement. "
        "The liaison agencies will be designated therein."
    )
    clauses = make_clauses([("Article 14", "", body)])
    tags = {clauses[0].clause_id: [_rule_tag(clauses[0], "liaison agencies", rule)]}
    th = ck.Thresholds(semantic_present=1.0, semantic_partial=1.0, tag_support=-1.0, tag_floor=-1.0)
    result = by_id(run("ssa", clauses, tags, thresholds=th))["ssa.administrative_assistance"]
    assert result.status == status, result.reason
    item = next(i for i in load_checklist("ssa").items if i.id == "ssa.administrative_assistance")
    assert {"administrative_arrangement", "liaison_agencies"} <= item.ignore_rules


def _in(container: str, clause: Clause) -> Clause:
    return dataclasses.replace(clause, path=(container, clause.label))


@pytest.mark.parametrize(
    ("container", "with_agreement", "status"),
    [
        # the agreement has no such article; its bundled arrangement cannot stand in for it
        ("Administrative Arrangement", True, "absent"),
        ("Arrangement administratif", True, "absent"),
        # a final protocol is part of the agreement
        ("Final Protocol", True, "present"),
        # an arrangement read on its own is the document under review
        ("Administrative Arrangement", False, "present"),
    ],
)
def test_evidence_only_in_a_bundled_administrative_arrangement(
    container: str, with_agreement: bool, status: str
) -> None:
    rows = [("Article 1", "Definitions", "In this Agreement, institution means the body.")]
    rows = rows if with_agreement else []
    rows.append(("Article 2", "Mutual assistance", "Models of forms are drawn up jointly."))
    clauses = make_clauses(rows)
    clauses[-1] = _in(container, clauses[-1])
    if not with_agreement:  # the arrangement's own article 1 is all there is besides
        clauses.insert(0, _in(container, make_clause("Article 1", "", "Article 1\nText.")))
    th = ck.Thresholds(semantic_present=1.0, semantic_partial=1.0, tag_support=1.0, tag_floor=1.0)
    result = by_id(run("ssa", clauses, thresholds=th))["ssa.administrative_assistance"]
    assert result.status == status, result.reason
    assert result.evidence[0].clause.label == "Article 2"
    if status == "absent":
        assert "only its administrative arrangement does (Article 2" in result.reason


@pytest.mark.parametrize(
    ("heading", "status"),
    [
        ("Scope of Application", "present"),  # generic: the opening formula names the subject
        ("General Provisions", "present"),
        ("Transitional Provisions", "absent"),  # a heading with a subject of its own rules
    ],
)
def test_opening_formula_decides_under_a_generic_heading(heading: str, status: str) -> None:
    th = ck.Thresholds(semantic_present=1.0, semantic_partial=1.0, tag_support=1.0, tag_floor=1.0)
    body = "1 This Agreement shall apply to the following legislation: (a) the Pension Act."
    clauses = make_clauses([("Article 2", heading, body)])
    result = by_id(run("ssa", clauses, thresholds=th))["ssa.material_scope"]
    assert result.status == status, result.reason


# --------------------------------------------------------------------------------------------
# Paragraph-level evidence and terms
# --------------------------------------------------------------------------------------------

_STRICT = ck.Thresholds(semantic_present=1.0, semantic_partial=1.0, tag_support=1.0, tag_floor=1.0)


def test_one_article_is_the_evidence_for_several_items_each_in_its_paragraph() -> None:
    """An equality article whose paragraphs also grant the right of appeal and family
    allowances: each item is found in its paragraph, cited with the paragraph number."""
    body = (
        "1. Les travailleurs tunisiens bénéficient des mêmes conditions de travail que les "
        "travailleurs néerlandais.\n"
        "2. Ils ont accès aux autorités administratives et judiciaires compétentes dans les "
        "mêmes conditions que les nationaux.\n"
        "3. Les membres de leur famille qui les accompagnent reçoivent les documents nécessaires."
    )
    clauses = make_clauses([("Article 12", "", body)])
    result = by_id(run("bla", clauses, thresholds=_STRICT))
    complaint = result["bla.complaint_mechanism"]
    family = result["bla.family_reunification"]
    assert complaint.status == "present"
    assert complaint.evidence[0].citation == "Article 12 (2)"
    assert complaint.evidence[0].quote.startswith("2. Ils ont accès")
    assert family.status != "absent"
    assert family.evidence[0].paragraph is not None and family.evidence[0].paragraph.label == "3"
    assert "Article 12 (3)" in family.reason
    # the JSON names the paragraph and quotes it
    data = run("bla", clauses, thresholds=_STRICT).to_json({"path": "d"})
    ev = next(i for i in data["items"] if i["id"] == "bla.complaint_mechanism")["evidence"][0]
    assert ev["paragraph"] == "2" and ev["citation"] == "Article 12 (2)"
    assert ev["text"][ev["quote_start"] : ev["quote_end"]] == ev["quote"]


def test_terms_in_passing_are_weak_and_in_an_opening_strong() -> None:
    opening = make_clauses(
        [("Article 7", "", "Les travailleurs sont affiliés à la sécurité sociale.")]
    )
    passing = make_clauses(
        [("Article 7", "", "Les offres d'emploi indiquent le salaire. " * 9
          + "Elles précisent les retenues pour la sécurité sociale.")]
    )  # fmt: skip
    assert by_id(run("bla", opening, thresholds=_STRICT))["bla.social_security"].status == (
        "present"
    )
    weak = by_id(run("bla", passing, thresholds=_STRICT))["bla.social_security"]
    assert weak.status == "partial"
    assert "terms" in weak.evidence[0].via


def test_paragraph_vectors_are_asked_once_for_multi_paragraph_clauses_only() -> None:
    calls: list[list[str]] = []

    def embed_passages(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return fake_embed(texts)

    clauses = make_clauses(
        [("Article 1", "", "1. One rule.\n2. Another rule."), ("Article 2", "", "Single rule.")]
    )
    run("bla", clauses, embed_passages=embed_passages)
    assert calls == [["1. One rule.", "2. Another rule."]]


def test_a_passing_mention_in_the_preamble_alone_is_absent() -> None:
    rows = [
        ("Preamble", "", "Desiring to ease the situation of the workers and their family members,"),
        ("Article 1", "", "The workers are recruited by the employment services."),
    ]
    result = by_id(run("bla", make_clauses(rows), thresholds=_STRICT))["bla.family_reunification"]
    assert result.status == "absent"
    assert "preamble" in result.reason and not result.evidence


#: Plain wording of BLA provisions in four languages, with no heading and no tag: the item's
#: terms alone must find them (our own sentences, in the style of recruitment agreements).
_PLAIN_BLA_WORDING = [
    ("bla.references_ssa_or_law", "The agreement between the two countries on social security "
     "shall apply to the workers covered by this Memorandum."),
    ("bla.references_ssa_or_law", "El Convenio entre ambos países en materia de seguridad social "
     "se aplicará a estos trabajadores."),
    ("bla.joint_committee", "A committee composed of representatives of both Governments shall "
     "meet once a year."),
    ("bla.joint_committee", "Une commission composée de représentants des deux Gouvernements se "
     "réunit une fois par an."),
    ("bla.joint_committee", "Una comisión integrada por representantes de ambos Gobiernos se "
     "reunirá una vez al año."),
    ("bla.joint_committee", "Een commissie, samengesteld uit vertegenwoordigers van beide "
     "Regeringen, komt eenmaal per jaar bijeen."),
    ("bla.complaint_mechanism", "Any dispute between a worker and the employer shall be referred "
     "to the labour courts."),
    ("bla.complaint_mechanism", "Les différends entre les travailleurs et leurs employeurs sont "
     "portés devant les juridictions compétentes."),
    ("bla.complaint_mechanism", "Les travailleurs ont le droit d'ester en justice."),
    ("bla.complaint_mechanism", "Las controversias entre el trabajador y el empleador se "
     "someterán a los tribunales competentes."),
    ("bla.complaint_mechanism", "De werknemers genieten kosteloze rechtsbijstand."),
    ("bla.information_exchange", "The competent authorities shall inform each other of "
     "vacancies."),
    ("bla.information_exchange", "Las autoridades competentes se informarán mutuamente sobre "
     "las ofertas de empleo."),
    ("bla.scope_of_workers", "Le présent accord s'applique aux travailleurs recrutés dans le "
     "pays A."),
    ("bla.remittances", "Workers shall be free to send their savings to their home country."),
    ("bla.remittances", "Les travailleurs sont libres d'envoyer leurs économies dans leur pays."),
    ("bla.remittances", "Los trabajadores podrán enviar sus ahorros a su país de origen."),
    ("bla.remittances", "De werknemers mogen het deel van hun verdiensten dat zij niet nodig "
     "hebben naar hun land van herkomst overmaken."),
    ("bla.family_reunification", "Le travailleur peut être rejoint par sa femme et ses enfants."),
    ("bla.family_reunification", "El trabajador podrá ser acompañado por su esposa e hijos "
     "menores."),
    ("bla.return_and_reintegration", "The employer shall pay for the worker's journey back to "
     "his home town."),
    ("bla.return_and_reintegration", "El empleador pagará el viaje de vuelta del trabajador."),
]  # fmt: skip


@pytest.mark.parametrize(("item_id", "body"), _PLAIN_BLA_WORDING)
def test_bla_terms_find_plain_wording_without_heading_or_tag(item_id: str, body: str) -> None:
    rows = [("Article 1", "", "The Parties have agreed as follows."), ("Article 2", "", body)]
    result = by_id(run("bla", make_clauses(rows)))[item_id]
    assert result.status != "absent", result.reason
    assert result.evidence[0].clause.label == "Article 2"


@pytest.mark.parametrize(
    "body",
    [
        # French present tense states a right; "peuvent" is about someone else
        "1. Les travailleurs bénéficient des mêmes salaires que les travailleurs nationaux.\n"
        "2. Les autorités consulaires peuvent leur prêter assistance.",
        "1. Los trabajadores gozarán de las mismas condiciones que los trabajadores nacionales.\n"
        "2. Las autoridades consulares pueden prestarles asistencia.",
    ],
)
def test_entitlement_words_keep_a_right_from_reading_as_discretionary(body: str) -> None:
    rows = [("Article 4", "Égalité de traitement", body)]
    result = by_id(run("bla", make_clauses(rows)))["bla.equality_of_treatment"]
    assert result.status == "present", result.reason


def test_may_without_obligation_or_entitlement_is_still_discretionary() -> None:
    rows = [("Article 4", "Égalité de traitement", "Les Parties peuvent accorder aux "
             "travailleurs l'égalité de traitement avec les nationaux.")]  # fmt: skip
    result = by_id(run("bla", make_clauses(rows)))["bla.equality_of_treatment"]
    assert result.status == "partial", result.reason


@pytest.mark.parametrize(
    ("opening", "status"),
    [
        # the general rule of the agreement: lead evidence
        ("Where, under the legislation of a Party, the periods of insurance are totalised", "present"),
        ("Where, under the legislation of either Party, the periods of insurance are totalised", "present"),
        # a special provision for one named Party's scheme: not the article laying the rule down
        ("Where, under the legislation of Australia, the periods of insurance are totalised", "absent"),
        ("Where, under the legislation of the Republic of Estonia, the periods of insurance are "
         "totalised", "absent"),
    ],
)  # fmt: skip
def test_opening_that_names_one_party_is_no_lead_evidence(opening: str, status: str) -> None:
    body = opening + ". The competent institutions shall apply their legislation." * 3
    clauses = make_clauses([("Article 12", "", body)])
    tags = {clauses[0].clause_id: [tag(clauses[0], "totalisation", "are totalised")]}
    th = ck.Thresholds(tag_support=1.0, tag_floor=1.0, lead_chars=200)
    result = by_id(run("ssa", clauses, tags, thresholds=th))["ssa.totalisation"]
    assert result.status == status, result.reason
