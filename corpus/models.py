"""The one data model of migralex: documents, clauses, tags and search hits.

Every value is a frozen dataclass; new values are made with :func:`dataclasses.replace`.
Offsets are 0-based character offsets into :attr:`Document.text` (for clauses) or into
:attr:`Clause.text` (for tags), end-exclusive, so ``doc.text[c.start:c.end] == c.text`` and
``clause.text[t.start:t.end] == t.text``. Pages are 1-based.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from migralex.corpus.errors import ValidationError

#: Document kinds (DESIGN.md). ``draft`` is a document under review, not an instrument in force.
KINDS: tuple[str, ...] = (
    "ssa",
    "bla",
    "law",
    "regulation",
    "ilo",
    "regional",
    "un",
    "draft",
    "other",
)


#: Tag names (DESIGN.md "Tag names", in that order): coordination principles, requirements,
#: elements of labour migration agreements, and one tag per ILO C102 branch (C102 Parts II-X).
TAG_NAMES: tuple[str, ...] = (
    "equality_of_treatment",
    "export_of_benefits",
    "totalisation",
    "applicable_legislation",
    "administrative_assistance",
    "data_protection",
    "dispute_settlement",
    "claims_and_appeals",
    "nationality_requirement",
    "residence_requirement",
    "irregular_status",
    "recruitment",
    "recruitment_costs",
    "employment_contract",
    "wages_and_conditions",
    "remittances",
    "family_reunification",
    "return_and_reintegration",
    "complaint_mechanism",
    "joint_committee",
    "information_exchange",
    "gender",
    "branch_medical_care",
    "branch_sickness",
    "branch_unemployment",
    "branch_old_age",
    "branch_employment_injury",
    "branch_family",
    "branch_maternity",
    "branch_invalidity",
    "branch_survivors",
)


def slugify(label: str) -> str:
    """Return a lowercase ASCII slug of ``label`` ("ARTICLE IV" -> "article-iv").

    Accents are folded ("Artículo 3" -> "articulo-3"); any run of other characters becomes
    one hyphen. Deterministic, used to build :attr:`Clause.clause_id`.
    """
    folded = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "x"


def content_doc_id(stem: str, sha256: str) -> str:
    """Return the doc id for a file without a manifest entry: slug of the stem + 8 hex of sha256."""
    return f"{slugify(stem)}-{sha256[:8]}"


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Document:
    """A law, agreement or instrument as read from one file.

    Attributes:
        doc_id: manifest id, else ``{slug of file stem}-{8 hex of the sha256}``.
        title: the authentic title (manifest) or the first heading of the file.
        kind: one of :data:`KINDS`.
        language: ISO 639-1 code of the text ("en", "fr", "es", "nl", ...).
        parties: the states or bodies party to it (may be empty).
        source_path: the file it was read from, as given.
        sha256: hex sha256 of the file's bytes; same hash means unchanged.
        pages: number of pages (1 for formats without pages).
        text: the normalised document text that clause offsets point into.
        page_starts: offset in ``text`` where each page begins; ``page_starts[0] == 0``.
        ocr_pages: 1-based pages whose text came from OCR (empty if none).
        meta: other manifest columns (source, licence), read-only.
    """

    doc_id: str
    title: str
    kind: str
    language: str
    parties: tuple[str, ...]
    source_path: str
    sha256: str
    pages: int
    text: str = ""
    page_starts: tuple[int, ...] = (0,)
    ocr_pages: tuple[int, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not self.doc_id:
            raise ValidationError(f"{self.source_path}: empty doc_id")
        if self.kind not in KINDS:
            raise ValidationError(
                f"{self.source_path}: unknown kind {self.kind!r}; valid kinds: {', '.join(KINDS)}"
            )
        if self.pages < 1:
            raise ValidationError(f"{self.source_path}: pages must be >= 1, got {self.pages}")
        if not isinstance(self.meta, MappingProxyType):
            object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))


@dataclass(frozen=True, slots=True)
class Clause:
    """The smallest unit a lawyer cites that stands alone: an article, a section, a paragraph.

    Attributes:
        clause_id: ``{doc_id}:{slug of path joined by "/"}``; stable across re-ingests.
        doc_id: the owning document.
        ordinal: 0-based position of the clause in its document.
        label: the citation label as printed ("Article 4", "ARTICLE IV", "Section 3").
        heading: the article heading ("Equality of Treatment"), "" if none.
        path: ancestor labels ending with this clause's own, e.g. ("Part I", "Article 4");
            a paragraph of a long article ends with its number, e.g. ("Article 4", "2").
        text: the clause text, ``document.text[start:end]``.
        start: 0-based start offset in the document text.
        end: end offset (exclusive) in the document text.
        page_start: 1-based page of the first character.
        page_end: 1-based page of the last character.
        language: ISO 639-1 code.
        context: headings of the enclosing annex, parts, chapters and unnumbered groups,
            outermost first, e.g. ("Provisions Concerning Benefits", "Totalizing").
    """

    clause_id: str
    doc_id: str
    ordinal: int
    label: str
    heading: str
    path: tuple[str, ...]
    text: str
    start: int
    end: int
    page_start: int
    page_end: int
    language: str
    context: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end - self.start != len(self.text):
            raise ValidationError(
                f"{self.clause_id}: offsets {self.start}..{self.end} do not match "
                f"text length {len(self.text)}"
            )
        if not 1 <= self.page_start <= self.page_end:
            raise ValidationError(
                f"{self.clause_id}: bad pages {self.page_start}..{self.page_end} (1-based)"
            )

    def to_json(self) -> dict[str, Any]:
        """Return the clause fields shared by the DESIGN.md ``tag`` and ``search`` objects."""
        return {
            "clause_id": self.clause_id,
            "label": self.label,
            "heading": self.heading,
            "path": list(self.path),
            "context": list(self.context),
            "text": self.text,
            "page_start": self.page_start,
            "page_end": self.page_end,
        }

    @property
    def citation(self) -> str:
        """Human citation: label, heading in parentheses, e.g. "Article 5 (Export of Benefits)"."""
        return f"{self.label} ({self.heading})" if self.heading else self.label


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph of a clause (:func:`migralex.nlp.paragraphs.split_paragraphs`).

    Attributes:
        label: its number as printed without punctuation ("1", "2"), "" for a sentence group
            of an unnumbered body.
        start: offset of its first character in ``clause.text`` (0-based).
        end: offset just after its last non-blank character.
    """

    label: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Tag:
    """A rule-pattern tag on a clause, with the matched span and the rule that fired.

    Attributes:
        clause_id: the tagged clause.
        name: tag name from DESIGN.md ("equality_of_treatment", "branch_old_age", ...).
        start: 0-based start offset in the clause text.
        end: end offset (exclusive) in the clause text.
        text: the matched span, ``clause.text[start:end]``.
        rule: id of the pattern that fired, e.g. "en.equality_of_treatment.same_conditions".
        exception: the qualifying span ("subject to Article 7", "unless otherwise provided"),
            "" if none.
        negated: True when the match sits in a negated statement that keeps its meaning
            ("shall not be reduced ... by reason only of residence").
    """

    clause_id: str
    name: str
    start: int
    end: int
    text: str
    rule: str
    exception: str = ""
    negated: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValidationError(f"{self.clause_id}: bad tag span {self.start}..{self.end}")
        if self.end - self.start != len(self.text):
            raise ValidationError(f"{self.clause_id}: tag {self.name} span does not match its text")


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: a clause with its document facts, tags and score.

    Attributes:
        rank: 1-based rank.
        score: higher is better; cosine similarity in [-1, 1] for semantic mode, BM25 (>= 0)
            for lexical, for hybrid the fused score (min-max score fusion in [0, 1] or an RRF
            sum, per model) plus the intent boost (``migralex.index.intent``).
        clause: the clause.
        doc_title: title of its document.
        kind: kind of its document.
        tags: the clause's tag names, sorted, unique.
        similar_count: how many near-identical clauses of other documents were folded
            into this hit (0 when grouping is off).
    """

    rank: int
    score: float
    clause: Clause
    doc_title: str
    kind: str
    tags: tuple[str, ...] = ()
    similar_count: int = 0

    def to_json(self) -> dict[str, Any]:
        """Return the DESIGN.md search-result JSON object for this hit."""
        c = self.clause
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "doc_id": c.doc_id,
            "doc_title": self.doc_title,
            "kind": self.kind,
            "language": c.language,
            **c.to_json(),
            "tags": list(self.tags),
            "similar_count": self.similar_count,
        }


def page_of(page_starts: tuple[int, ...], offset: int) -> int:
    """Return the 1-based page of character ``offset`` given each page's start offset.

    Args:
        page_starts: sorted start offsets, ``page_starts[0] == 0``.
        offset: 0-based character offset.
    """
    import bisect

    return max(1, bisect.bisect_right(page_starts, offset))
