"""Checklist data model: items read from the checklist YAML files and the results of running
them on a document (all frozen; new values via :func:`dataclasses.replace`).

The loader is :mod:`migralex.nlp.checklist.loader`, the engine that fills the results
:mod:`migralex.nlp.checklist.engine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from migralex.corpus.models import Clause, Hit, Paragraph

__all__ = [
    "STATUSES",
    "Checklist",
    "ChecklistItem",
    "ChecklistResult",
    "Evidence",
    "ItemResult",
    "PartialRule",
    "Status",
    "cite",
]

#: The status of a checklist item.
Status = Literal["present", "partial", "absent"]
#: Statuses an item can have, from best to worst.
STATUSES: tuple[Status, ...] = ("present", "partial", "absent")


@dataclass(frozen=True, slots=True)
class PartialRule:
    """A rule that makes a found provision only partial.

    Attributes:
        when: rule id, one of ``migralex.nlp.checklist.PARTIAL_RULES``.
        reason: text shown to the user when the rule fires.
    """

    when: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One question of a checklist.

    Attributes:
        id: stable id from DESIGN.md ("ssa.export_of_benefits").
        question: the question, in our words.
        why: why it matters, one or two sentences.
        reference: the standards it comes from ("C118 Art. 5; C157; R167 Model Agreement").
        tags: tag names (DESIGN.md) whose presence on a clause signals the item; may be empty.
        headings: regexes searched in article headings (case- and accent-insensitive).
        cues: 3-6 exemplar sentences (English/French) for semantic similarity.
        partial: the rules that make a found provision only partial.
        present_when: what counts as present, for the user.
        nested: the provision is often a paragraph inside an article on another topic
            (confidentiality inside "Exchange of Information and Mutual Assistance"); its tag
            there is weak evidence (partial) instead of a passing mention.
        terms: regexes (folded text, one per wording and language) for the item's subject as
            the body of an article or paragraph words it ("sécurité sociale", "gezinsleden",
            "access to the competent administrative and judicial authorities"): found anywhere
            in a paragraph they are weak evidence, in its opening words strong; the way items
            without a tag, and agreements printed without headings, are read.
        openings: regexes searched in the opening words of articles printed without a
            heading (folded like headings); a match counts as a heading.
        ignore_rules: names of tag rules (the last part of the rule id, in every language)
            whose matches are no evidence for the item: they name the machinery around it
            ("modalities set out in an Administrative Arrangement; liaison agencies will be
            designated therein") rather than the commitment the item asks for.
    """

    id: str
    question: str
    why: str
    reference: str
    tags: tuple[str, ...]
    headings: tuple[str, ...]
    cues: tuple[str, ...]
    partial: tuple[PartialRule, ...]
    present_when: str
    nested: bool = False
    openings: tuple[str, ...] = ()
    ignore_rules: frozenset[str] = frozenset()
    terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Checklist:
    """A named list of checklist items (one YAML file).

    Attributes:
        id: the file stem for the shipped checklists (``nlp/checklists/{id}.yaml``).
        title: human title.
        description: what the checklist is for.
        items: the items, in file order.
    """

    id: str
    title: str
    description: str
    items: tuple[ChecklistItem, ...]


def cite(clause: Clause, paragraph: Paragraph | None) -> str:
    """A clause's citation with the paragraph number ("Article 14 (5)", "Article 14 (5),
    Equality of treatment" under a heading); the clause's own citation without a numbered
    paragraph."""
    if paragraph is None or not paragraph.label:
        return clause.citation
    cited = f"{clause.label} ({paragraph.label})"
    return f"{cited}, {clause.heading}" if clause.heading else cited


@dataclass(frozen=True, slots=True)
class Evidence:
    """A clause supporting an item's status.

    Attributes:
        clause: the clause.
        score: evidence score in [0, 1] (see :mod:`migralex.nlp.checklist.engine`).
        tags: the clause's tag names, sorted, unique.
        via: the signals that found it, comma-joined in the order "heading", "opening",
            "context", "tag", "terms", "semantic".
        spans: (start, end) character offsets in ``clause.text`` of the item's tags, sorted,
            to highlight (empty when the clause was found by heading or similarity only).
        paragraph: the paragraph of the clause that holds the provision (offsets in
            ``clause.text``), ``None`` when the clause as a whole is the evidence (one
            paragraph, or none standing out).
    """

    clause: Clause
    score: float
    tags: tuple[str, ...]
    via: str
    spans: tuple[tuple[int, int], ...] = ()
    paragraph: Paragraph | None = None

    @property
    def citation(self) -> str:
        """The clause's citation with the paragraph number: "Article 14 (5)", or "Article 14
        (5), Equality of treatment" when the clause has a heading; the clause's own citation
        when the evidence is the whole clause or an unnumbered sentence group."""
        return cite(self.clause, self.paragraph)

    @property
    def quote(self) -> str:
        """The text to quote: the paragraph, else the whole clause text."""
        p = self.paragraph
        return self.clause.text[p.start : p.end] if p is not None else self.clause.text


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The answer to one checklist item.

    Attributes:
        item: the item.
        status: "present", "partial" or "absent" (:data:`Status`).
        confidence: in [0, 1], how sure the engine is of ``status`` (not of the item being
            present): see :func:`migralex.nlp.checklist.run_checklist`.
        reason: why this status, in words for the user (names the clause and rule).
        evidence: up to ``n_evidence`` clauses, best first (empty when absent).
        examples: good-practice clauses from agreements in force (from ``find_examples``).
    """

    item: ChecklistItem
    status: Status
    confidence: float
    reason: str
    evidence: tuple[Evidence, ...]
    examples: tuple[Hit, ...]


@dataclass(frozen=True, slots=True)
class ChecklistResult:
    """The answers to every item of a checklist for one document.

    Attributes:
        checklist: the checklist run.
        items: one result per item, in checklist order.
    """

    checklist: Checklist
    items: tuple[ItemResult, ...]

    def summary(self) -> dict[str, int]:
        """Return how many items are present, partial and absent (keys in that order)."""
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for result in self.items:
            counts[result.status] += 1
        return counts

    def to_json(self, document: dict[str, Any]) -> dict[str, Any]:
        """Return the DESIGN.md ``checklist --json`` object.

        Args:
            document: ``{"path", "doc_id", "title", "language"}`` of the checked document,
                included as given.

        Returns:
            ``{"checklist", "title", "document", "items", "summary"}``; each item has the
            DESIGN.md keys plus ``why`` and ``reason``; each evidence entry the DESIGN.md keys
            plus ``citation`` ("Article 14 (5)"), ``paragraph`` (its number, "" for a sentence
            group, null for the whole clause) and ``quote``/``quote_start``/``quote_end`` (the
            paragraph holding the provision, offsets in ``text``; the whole text when none).
            Scores are rounded to 6 decimals, confidences to 4.
        """
        items = []
        for r in self.items:
            items.append(
                {
                    "id": r.item.id,
                    "question": r.item.question,
                    "reference": r.item.reference,
                    "status": r.status,
                    "confidence": round(float(r.confidence), 4),
                    "evidence": [
                        {
                            "clause_id": e.clause.clause_id,
                            "label": e.clause.label,
                            "heading": e.clause.heading,
                            "text": e.clause.text,
                            "score": round(float(e.score), 6),
                            "tags": list(e.tags),
                            "via": e.via,
                            "page_start": e.clause.page_start,
                            "page_end": e.clause.page_end,
                            "spans": [list(span) for span in e.spans],
                            "citation": e.citation,
                            "paragraph": e.paragraph.label if e.paragraph else None,
                            "quote_start": e.paragraph.start if e.paragraph else 0,
                            "quote_end": e.paragraph.end if e.paragraph else len(e.clause.text),
                            "quote": e.quote,
                        }
                        for e in r.evidence
                    ],
                    "examples": [
                        {
                            "doc_id": h.clause.doc_id,
                            "doc_title": h.doc_title,
                            "clause_id": h.clause.clause_id,
                            "label": h.clause.label,
                            "heading": h.clause.heading,
                            "kind": h.kind,
                            "page_start": h.clause.page_start,
                            "text": h.clause.text,
                        }
                        for h in r.examples
                    ],
                    "why": r.item.why,
                    "reason": r.reason,
                }
            )
        return {
            "checklist": self.checklist.id,
            "title": self.checklist.title,
            "document": document,
            "items": items,
            "summary": self.summary(),
        }
