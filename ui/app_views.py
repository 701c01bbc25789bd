"""Display data for the Streamlit app, built from what :mod:`migralex.ui.service` returns.

Every function here is importable and testable without Streamlit (STYLE.md rule 14): the app
(``ui/app.py``) only lays these values out. HTML produced here is escaped; tag spans become
``<mark>`` elements whose ``title`` (the browser tooltip) names the tag, the rule that fired and
any exception. Tag offsets are 0-based, end-exclusive character offsets into the clause text;
pages are 1-based.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from migralex.corpus.models import Clause, Hit, Tag, slugify
from migralex.corpus.store import Filters, Store

#: The app's pages, in sidebar order.
PAGES: tuple[str, ...] = (
    "Search",
    "Clause detail",
    "Checklist",
    "Documents",
    "Gallery",
    "Matrix",
    "Compare",
    "Corridors",
)

#: Draft formats the checklist page accepts (suffixes without the dot).
UPLOAD_TYPES: tuple[str, ...] = ("pdf", "docx", "html", "htm", "md", "markdown", "txt")

#: Status -> (icon, st.badge colour, words) for checklist items.
STATUS_STYLE: dict[str, tuple[str, str, str]] = {
    "present": ("✅", "green", "present"),
    "partial": ("🟡", "orange", "partial"),
    "absent": ("❌", "red", "absent"),
}

#: Report formats offered for download: suffix -> (button label, MIME type).
REPORT_FORMATS: dict[str, tuple[str, str]] = {
    ".md": ("Markdown", "text/markdown"),
    ".html": ("HTML", "text/html"),
    ".docx": (
        "Word",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ".xlsx": ("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}

#: Light background colours for tag highlights, chosen per tag name by sha256 (stable).
_PALETTE: tuple[str, ...] = (
    "#fff3b0",
    "#c7f0d8",
    "#cfe3ff",
    "#ffd6e0",
    "#e3d7ff",
    "#ffe0c2",
    "#d2f4f4",
    "#e8f0c0",
)

_CLAUSE_STYLE = (
    "white-space:pre-wrap;line-height:1.55;font-size:0.95rem;"
    "max-height:{height};overflow-y:auto;padding:0.25rem 0"
)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+|~$!:])")


def empty_store_message(root: Path | str) -> str:
    """Return the Markdown shown when the store holds no documents."""
    return (
        f"The store at `{root}` holds no documents yet.\n\n"
        "Add agreements and laws from a terminal, then reload this page:\n\n"
        f"```\nmigralex ingest PATH --store {root}\n```\n\n"
        "PATH may be files (PDF, DOCX, HTML, Markdown, text) or folders (recursed); a folder "
        "with a `manifest.csv` gets its titles, kinds, languages and parties from it."
    )


def upload_limit_mb(max_file_mb: float) -> int:
    """The upload limit in whole MB for Streamlit (``server.maxUploadSize`` and the
    uploader's ``max_upload_size``): ``max_file_mb`` rounded up, at least 1, so the uploader
    lets through every file the readers accept and stops bigger ones with its own message."""
    return max(1, math.ceil(max_file_mb))


def store_exists(root: Path | str) -> bool:
    """True when ``root`` is a folder holding a migralex database (the app never creates one)."""
    from migralex.corpus.store import DB_NAME

    return (Path(root) / DB_NAME).is_file()


def plain_failure(name: str, exc: BaseException) -> str:
    """``<name>: <reason>`` for an unexpected failure on an upload, in plain words
    (:func:`migralex.ingest.pipeline.plain_reason`: no class names, no traceback)."""
    from migralex.ingest.pipeline import plain_reason

    return f"{name}: {plain_reason(exc)}"


def md_escape(text: str) -> str:
    """Escape ``text`` so Streamlit Markdown shows it literally (no emphasis, links or LaTeX)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


#: Human names of the DESIGN.md tag names, shown instead of the ids ("Old-age benefits" for
#: ``branch_old_age``); C102 branch names follow C102 Parts II-X.
TAG_LABELS: dict[str, str] = {
    "equality_of_treatment": "Equality of treatment",
    "export_of_benefits": "Export of benefits",
    "totalisation": "Totalisation of periods",
    "applicable_legislation": "Applicable legislation",
    "administrative_assistance": "Administrative assistance",
    "data_protection": "Data protection",
    "dispute_settlement": "Dispute settlement",
    "claims_and_appeals": "Claims and appeals",
    "nationality_requirement": "Nationality condition",
    "residence_requirement": "Residence condition",
    "irregular_status": "Irregular status",
    "recruitment": "Recruitment",
    "recruitment_costs": "Recruitment costs",
    "employment_contract": "Employment contract",
    "wages_and_conditions": "Wages and conditions",
    "remittances": "Remittances",
    "family_reunification": "Family reunification",
    "return_and_reintegration": "Return and reintegration",
    "complaint_mechanism": "Complaint mechanism",
    "joint_committee": "Joint committee",
    "information_exchange": "Information exchange",
    "gender": "Gender",
    "branch_medical_care": "Medical care",
    "branch_sickness": "Sickness benefits",
    "branch_unemployment": "Unemployment benefits",
    "branch_old_age": "Old-age benefits",
    "branch_employment_injury": "Employment injury benefits",
    "branch_family": "Family benefits",
    "branch_maternity": "Maternity benefits",
    "branch_invalidity": "Invalidity benefits",
    "branch_survivors": "Survivors' benefits",
}


def tag_label(name: str) -> str:
    """Return the human name of a tag ("Old-age benefits" for ``branch_old_age``); an unknown
    name with its underscores as spaces, first letter upper case."""
    return TAG_LABELS.get(name) or name.replace("_", " ").capitalize()


def tag_color(name: str) -> str:
    """Return the highlight colour of a tag name (same name, same colour, in every process).

    The DESIGN.md tags get distinct light colours: hue ``137.5°`` (the golden angle) apart in
    :data:`~migralex.corpus.models.TAG_NAMES` order, so no two of them share one; other
    names a colour of :data:`_PALETTE` by sha256."""
    from migralex.corpus.models import TAG_NAMES

    if name in TAG_NAMES:
        hue = (TAG_NAMES.index(name) * 137.508) % 360
        light = 86 if TAG_NAMES.index(name) % 2 else 80
        return f"hsl({hue:.0f}, 75%, {light}%)"
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return _PALETTE[digest[0] % len(_PALETTE)]


def tag_tooltip(tag: Tag) -> str:
    """Return the hover text of one tag: name, rule, exception and negation."""
    parts = [tag.name, f"rule: {tag.rule}"]
    if tag.exception:
        parts.append(f"exception: {tag.exception}")
    if tag.negated:
        parts.append("negated statement")
    return " · ".join(parts)


def highlight_html(text: str, tags: Sequence[Tag], max_height: str = "none") -> str:
    """Return the clause text as escaped HTML with every tag span wrapped in ``<mark>``.

    Overlapping tags are cut at every span boundary; each piece is marked once, coloured by
    its first covering tag, and its ``title`` lists every covering tag (one per line).
    Spans outside the text or empty are ignored.

    Args:
        text: the clause text.
        tags: tags whose ``start``/``end`` are offsets into ``text``.
        max_height: CSS max-height of the block ("none", "16em", ...); taller text scrolls.

    Returns:
        One ``<div>`` element.
    """
    n = len(text)
    spans = [t for t in tags if 0 <= t.start < t.end <= n]
    bounds = sorted({0, n, *(t.start for t in spans), *(t.end for t in spans)})
    pieces: list[str] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        piece = html.escape(text[a:b])
        cover = [t for t in spans if t.start <= a and b <= t.end]
        if not cover:
            pieces.append(piece)
            continue
        title = html.escape("\n".join(tag_tooltip(t) for t in cover), quote=True)
        names = html.escape(" ".join(dict.fromkeys(t.name for t in cover)), quote=True)
        pieces.append(
            f'<mark class="mlx-tag" data-tags="{names}" title="{title}" '
            f'style="background:{tag_color(cover[0].name)};padding:0 1px;border-radius:2px">'
            f"{piece}</mark>"
        )
    style = _CLAUSE_STYLE.format(height=html.escape(max_height, quote=True))
    return f'<div class="mlx-clause" style="{style}">{"".join(pieces)}</div>'


def tag_chips_html(names: Iterable[str]) -> str:
    """Return the tags as coloured chips showing their human names (:func:`tag_label`; the
    tag id in ``data-tag`` and the tooltip), one ``<span>`` each; "" when there are none."""
    chips = [
        f'<span class="mlx-chip" data-tag="{html.escape(name, quote=True)}" '
        f'title="{html.escape(name, quote=True)}" style="background:{tag_color(name)};'
        f"border-radius:0.8em;padding:0.05em 0.6em;margin-right:0.3em;font-size:0.8rem;"
        f'white-space:nowrap">{html.escape(tag_label(name))}</span>'
        for name in dict.fromkeys(names)
    ]
    return f'<div class="mlx-chips">{"".join(chips)}</div>' if chips else ""


def pages_label(page_start: int | None, page_end: int | None = None) -> str:
    """Return "p. 3", "pp. 3–5", or "" when the page is unknown (pages are 1-based)."""
    if not page_start:
        return ""
    if page_end and page_end != page_start:
        return f"pp. {page_start}–{page_end}"
    return f"p. {page_start}"


def location_label(clause: Clause, paged: bool) -> str:
    """Where a clause is: its pages ("p. 3") in a paged source (PDF), else its section (the
    innermost enclosing heading, else its structural path): Markdown and HTML have no pages,
    so "p. 1" would say nothing."""
    if paged:
        return pages_label(clause.page_start, clause.page_end)
    if clause.context:
        return clause.context[-1]
    return " › ".join(clause.path[:-1])


def paged_documents(summaries: Sequence[Mapping[str, Any]]) -> frozenset[str]:
    """The ids of documents whose pages mean something: more than one page or a PDF."""
    return frozenset(
        s["doc_id"]
        for s in summaries
        if int(s.get("pages") or 1) > 1 or str(s.get("source_path", "")).lower().endswith(".pdf")
    )


def citation(label: str, heading: str) -> str:
    """Return "Article 5 — Export of Benefits" (or just the label without a heading)."""
    return f"{label} — {heading}" if heading else label


# --------------------------------------------------------------------------------------------
# Search and clause detail
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """The values the search filters offer, from the store.

    Attributes:
        kinds: document kinds present, sorted.
        languages: languages present, sorted.
        parties: parties named by any document, one spelling per case-insensitive name,
            sorted case-insensitively.
        tags: tag names present, sorted.
        documents: ``{doc_id: title}``, ordered by title.
    """

    kinds: tuple[str, ...]
    languages: tuple[str, ...]
    parties: tuple[str, ...]
    tags: tuple[str, ...]
    documents: dict[str, str]


def filter_options(
    summaries: Sequence[Mapping[str, Any]], stats: Mapping[str, Any]
) -> FilterOptions:
    """Return the filter choices from ``store.document_summaries()`` and ``store.stats()``."""
    parties: dict[str, str] = {}  # lowercase -> first spelling seen (the filter ignores case)
    for s in summaries:
        for p in s.get("parties") or ():
            if p.strip():
                parties.setdefault(p.strip().lower(), p.strip())
    docs = sorted(summaries, key=lambda s: (str(s["title"]).lower(), s["doc_id"]))
    return FilterOptions(
        kinds=tuple(sorted(stats.get("kinds", {}))),
        languages=tuple(sorted(stats.get("languages", {}))),
        parties=tuple(parties[k] for k in sorted(parties)),
        tags=tuple(sorted(stats.get("tags", {}))),
        documents={s["doc_id"]: str(s["title"]) for s in docs},
    )


def build_filters(
    kinds: Iterable[str] = (),
    languages: Iterable[str] = (),
    parties: Iterable[str] = (),
    tags: Iterable[str] = (),
    doc_ids: Iterable[str] = (),
) -> Filters:
    """Return the store filters for the chosen values (empty: any)."""
    return Filters(
        kinds=tuple(kinds),
        languages=tuple(languages),
        parties=tuple(parties),
        tags=tuple(tags),
        doc_ids=tuple(doc_ids),
    )


@dataclass(frozen=True, slots=True)
class HitView:
    """One search or similarity result, ready to display.

    Attributes:
        rank: 1-based rank.
        score: the hit's score (scale depends on the mode; see ``Hit``).
        doc_id: its document.
        doc_title: title of its document.
        kind: kind of its document.
        language: the clause language.
        clause_id: the clause.
        citation: "Article 5 — Export of Benefits".
        path: structural path joined with " › ".
        pages: "p. 3" or "pp. 3–5".
        tags: tag names, sorted, unique.
        html: the clause text with highlighted tags (:func:`highlight_html`).
        similar_count: near-identical clauses of other documents folded into this hit.
        paragraphs: other paragraphs of the same article among the results, folded into
            this hit (:func:`fold_paragraphs`).
    """

    rank: int
    score: float
    doc_id: str
    doc_title: str
    kind: str
    language: str
    clause_id: str
    citation: str
    path: str
    pages: str
    tags: tuple[str, ...]
    html: str
    similar_count: int
    paragraphs: int = 0


def article_key(clause: Clause) -> tuple[str, ...]:
    """What the paragraphs of one split article share: document, path without the paragraph
    number, label (DESIGN.md: a paragraph of a long article keeps the article's label and
    path, with its number last)."""
    path = clause.path[:-1] if len(clause.path) > 1 and clause.path[-1].isdigit() else clause.path
    return (clause.doc_id, *path, clause.label)


def fold_paragraphs(hits: Sequence[Hit]) -> list[tuple[Hit, int]]:
    """Keep the best-ranked hit of each article (:func:`article_key`) and count the other
    paragraphs of that article it stands for; rank order kept, ranks renumbered from 1."""
    best: dict[tuple[str, ...], int] = {}
    kept: list[list[Any]] = []
    for h in hits:
        key = article_key(h.clause)
        if key in best:
            kept[best[key]][1] += 1
            continue
        best[key] = len(kept)
        kept.append([h, 0])
    return [(replace(h, rank=i), n) for i, (h, n) in enumerate(kept, 1)]


#: Words a query may share with any clause without saying anything about its subject.
_STOP = frozenset(
    "the and for with that this from are was were what which who how does can may shall "
    "will when where into under other than there their have has not any all les des une "
    "pour dans par sur est que qui los las del para por con una".split()
)


def weak_match(query: str, hits: Sequence[Hit]) -> bool:
    """True when no content word of ``query`` (4+ letters, not a stop word; compared
    accent- and case-folded, by its first 5 letters so "pensions" meets "pension") occurs in
    any hit's heading or text: the hits are only the nearest of unrelated clauses, and the
    app says that nothing matches well instead of showing them as answers. False for a
    query without content words."""
    from migralex.nlp.text import fold

    words = {w[:5] for w in re.findall(r"\w{4,}", fold(query)) if w not in _STOP}
    if not words or not hits:
        return False
    for h in hits:
        text = fold(f"{h.clause.heading} {h.clause.text}")
        stems = {w[:5] for w in re.findall(r"\w{4,}", text)}
        if words & stems:
            return False
    return True


def hit_views(
    hits: Sequence[Hit],
    tags_by_clause: Mapping[str, Sequence[Tag]],
    max_height: str = "16em",
    paged: frozenset[str] | None = None,
    folded: Mapping[str, int] | None = None,
) -> list[HitView]:
    """Return the display form of ``hits`` (tags from ``store.tags_for``), in rank order.

    Args:
        paged: ids of documents with meaningful pages (:func:`paged_documents`); a clause of
            another document is located by its section (:func:`location_label`). None: pages
            for every clause.
        folded: ``{clause_id: n}`` paragraphs folded into a hit (:func:`fold_paragraphs`).
    """
    out = []
    for h in hits:
        c = h.clause
        out.append(
            HitView(
                rank=h.rank,
                score=float(h.score),
                doc_id=c.doc_id,
                doc_title=h.doc_title or c.doc_id,
                kind=h.kind,
                language=c.language,
                clause_id=c.clause_id,
                citation=citation(c.label, c.heading),
                path=" › ".join(c.path),
                pages=(
                    pages_label(c.page_start, c.page_end)
                    if paged is None
                    else location_label(c, c.doc_id in paged)
                ),
                tags=h.tags,
                html=highlight_html(c.text, tags_by_clause.get(c.clause_id, ()), max_height),
                similar_count=h.similar_count,
                paragraphs=(folded or {}).get(c.clause_id, 0),
            )
        )
    return out


def tag_rows(tags: Sequence[Tag]) -> list[dict[str, Any]]:
    """Return one table row per tag: tag, matched text, rule, exception, negated, offsets."""
    return [
        {
            "tag": t.name,
            "text": t.text,
            "rule": t.rule,
            "exception": t.exception,
            "negated": t.negated,
            "start": t.start,
            "end": t.end,
        }
        for t in tags
    ]


@dataclass(frozen=True, slots=True)
class ClauseDetail:
    """A stored clause with its document facts, tags and neighbours.

    Attributes:
        clause: the clause.
        doc_title, kind, language, parties, source_path: facts of its document.
        tags: its tags in offset order.
        html: the full clause text with highlighted tags.
        previous_id: the clause before it in its document ("" for the first).
        next_id: the clause after it ("" for the last).
        position: 1-based position and clause count of the document, e.g. "4 of 17".
    """

    clause: Clause
    doc_title: str
    kind: str
    language: str
    parties: tuple[str, ...]
    source_path: str
    tags: tuple[Tag, ...]
    html: str
    previous_id: str
    next_id: str
    position: str


def clause_detail(store: Store, clause_id: str) -> ClauseDetail:
    """Return the detail of one stored clause.

    Raises:
        NotFoundError: no such clause in the store.
    """
    clause = store.get_clause(clause_id)
    doc = store.get_document(clause.doc_id)
    tags = tuple(store.tags_for([clause_id]).get(clause_id, []))
    ids = [c.clause_id for c in store.clauses(clause.doc_id)]
    i = ids.index(clause_id)
    return ClauseDetail(
        clause=clause,
        doc_title=doc.title,
        kind=doc.kind,
        language=doc.language,
        parties=doc.parties,
        source_path=doc.source_path,
        tags=tags,
        html=highlight_html(clause.text, tags),
        previous_id=ids[i - 1] if i > 0 else "",
        next_id=ids[i + 1] if i + 1 < len(ids) else "",
        position=f"{i + 1} of {len(ids)}",
    )


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def document_rows(summaries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return one table row per document: title, kind, language, parties, pages, clauses, id."""
    return [
        {
            "title": s["title"],
            "kind": s["kind"],
            "language": s["language"],
            "parties": "; ".join(s.get("parties") or ()),
            "pages": s["pages"],
            "clauses": s["clauses"],
            "doc_id": s["doc_id"],
        }
        for s in summaries
    ]


def count_rows(counts: Mapping[str, int], key: str) -> list[dict[str, Any]]:
    """Return ``[{key: name, "count": n}]`` sorted by count (descending), then name."""
    return [
        {key: name, "count": n}
        for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


# --------------------------------------------------------------------------------------------
# Checklist
# --------------------------------------------------------------------------------------------


def available_checklists() -> tuple[list[Any], list[str]]:
    """Return the loadable checklists and a message per checklist that failed to load.

    Uses ``migralex.nlp.checklist.list_checklists``; if that fails, each id of
    ``checklist_ids()`` is loaded on its own so one broken file does not hide the others.
    """
    try:
        from migralex.nlp import checklist as engine
    except ImportError as exc:
        return [], [f"the checklist engine cannot be imported ({exc})"]
    try:
        return list(engine.list_checklists()), []
    except Exception:  # noqa: BLE001 - report per checklist below
        pass
    found: list[Any] = []
    problems: list[str] = []
    for name in engine.checklist_ids():
        try:
            found.append(engine.load_checklist(name))
        except Exception as exc:  # noqa: BLE001 - shown to the user, others still usable
            problems.append(f"checklist {name!r} cannot be loaded: {exc}")
    return found, problems


def status_label(status: str) -> str:
    """Return "✅ present", "🟡 partial" or "❌ absent" (unknown statuses unchanged)."""
    icon, _, words = STATUS_STYLE.get(status, ("", "", status))
    return f"{icon} {words}".strip()


@dataclass(frozen=True, slots=True)
class EvidenceView:
    """One evidence clause of a checklist item, from the checked draft.

    Attributes:
        clause_id: the draft clause.
        citation: "Article 5 — Export of Benefits", with the paragraph when one holds the
            provision ("Article 14 (5) — Equality of Treatment").
        pages: "p. 3" in a paged draft (PDF), else its section (:func:`location_label`).
        score: evidence score in [0, 1].
        tags: tag names on the clause.
        text: the text quoted: the paragraph that holds the provision, else the whole clause.
        html: that text with the draft's tags highlighted.
    """

    clause_id: str
    citation: str
    pages: str
    score: float
    tags: tuple[str, ...]
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class ExampleView:
    """A good-practice clause from a stored agreement."""

    doc_id: str
    doc_title: str
    clause_id: str
    label: str
    text: str


@dataclass(frozen=True, slots=True)
class ItemView:
    """One checklist item answered for the draft."""

    id: str
    question: str
    status: str
    status_label: str
    confidence: float
    reason: str
    why: str
    reference: str
    evidence: tuple[EvidenceView, ...]
    examples: tuple[ExampleView, ...]


@dataclass(frozen=True, slots=True)
class ChecklistView:
    """A checklist run on an uploaded draft, ready to display and download.

    Attributes:
        data: the DESIGN.md checklist JSON (``ChecklistResult.to_json``), input of the reports.
        items: one view per item, in checklist order.
        clauses: number of clauses found in the draft.
        language: the draft's language.
        tagged: whether the draft has any tag (False also when its language has no tagger).
        draft_clauses: the draft's clauses by id (for comparing its evidence with examples).
        draft_tags: the draft's tags by clause id.
    """

    data: dict[str, Any]
    items: tuple[ItemView, ...]
    clauses: int
    language: str
    tagged: bool
    draft_clauses: Mapping[str, Clause] = field(default_factory=dict)
    draft_tags: Mapping[str, Sequence[Tag]] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        """``{"present", "partial", "absent"}`` counts."""
        return dict(self.data["summary"])

    def rows(self) -> list[dict[str, Any]]:
        """Return one table row per item: status, item id, question, confidence (rounded to
        2 decimals), evidence (citation and where it is: page or section), examples."""
        return [
            {
                "status": i.status_label,
                "item": i.id,
                "question": i.question,
                "confidence": round(i.confidence, 2),
                "evidence": (
                    i.evidence[0].citation
                    + (f" ({i.evidence[0].pages})" if i.evidence[0].pages else "")
                    if i.evidence
                    else ""
                ),
                "examples": len(i.examples),
            }
            for i in self.items
        ]

    @property
    def label(self) -> str:
        """What this result is about: "<checklist title> on <file name>"."""
        return f"{self.data['title']} on {self.data['document']['path']}"


def _with_evidence_pages(data: dict[str, Any], clauses: Mapping[str, Clause]) -> dict[str, Any]:
    """Return ``data`` with ``page_start``/``page_end`` added to each evidence entry whose
    clause is known (the reports print the page when it is there)."""

    def pages(ev: dict[str, Any]) -> dict[str, Any]:
        c = clauses.get(ev["clause_id"])
        return {**ev, "page_start": c.page_start, "page_end": c.page_end} if c else ev

    items = [{**i, "evidence": [pages(ev) for ev in i["evidence"]]} for i in data["items"]]
    return {**data, "items": items}


def _shifted(tags: Sequence[Tag], lo: int, hi: int) -> list[Tag]:
    """The tags inside ``[lo, hi)`` of a clause text, offsets moved to a quote starting at
    ``lo``."""
    return [
        replace(t, start=t.start - lo, end=t.end - lo)
        for t in tags
        if lo <= t.start and t.end <= hi
    ]


def checklist_view(tagged: Any, result: Any, path: str) -> ChecklistView:
    """Build the display data of a checklist run.

    Args:
        tagged: the ``TaggedDocument`` from ``service.run_checklist``.
        result: the ``ChecklistResult`` from ``service.run_checklist``.
        path: the path to show for the draft (e.g. the uploaded file's name).
    """
    doc = tagged.document
    clauses = {c.clause_id: c for c in tagged.clauses}
    paged = doc.pages > 1 or str(doc.source_path).lower().endswith(".pdf")
    tags: Mapping[str, Sequence[Tag]] = tagged.tags
    data = _with_evidence_pages(
        result.to_json(
            {"path": path, "doc_id": doc.doc_id, "title": doc.title, "language": doc.language}
        ),
        clauses,
    )
    items = []
    for item in data["items"]:
        evidence = []
        for ev in item["evidence"]:
            lo, hi = ev.get("quote_start", 0), ev.get("quote_end", len(ev["text"]))
            label = ev["label"] + (f" ({ev['paragraph']})" if ev.get("paragraph") else "")
            evidence.append(
                EvidenceView(
                    clause_id=ev["clause_id"],
                    citation=citation(label, ev["heading"]),
                    pages=(
                        location_label(clauses[ev["clause_id"]], paged)
                        if ev["clause_id"] in clauses
                        else pages_label(ev.get("page_start"), ev.get("page_end"))
                    ),
                    score=float(ev["score"]),
                    tags=tuple(ev["tags"]),
                    text=ev["text"][lo:hi],
                    html=highlight_html(
                        ev["text"][lo:hi], _shifted(tags.get(ev["clause_id"], ()), lo, hi), "20em"
                    ),
                )
            )
        items.append(
            ItemView(
                id=item["id"],
                question=item["question"],
                status=item["status"],
                status_label=status_label(item["status"]),
                confidence=float(item["confidence"]),
                reason=item.get("reason", ""),
                why=item.get("why", ""),
                reference=item["reference"],
                evidence=tuple(evidence),
                examples=tuple(
                    ExampleView(e["doc_id"], e["doc_title"], e["clause_id"], e["label"], e["text"])
                    for e in item["examples"]
                ),
            )
        )
    return ChecklistView(
        data=data,
        items=tuple(items),
        clauses=len(tagged.clauses),
        language=doc.language,
        tagged=any(tags.get(c.clause_id) for c in tagged.clauses),
        draft_clauses=clauses,
        draft_tags={cid: tuple(ts) for cid, ts in tags.items()},
    )


def upload_path(name: str, folder: Path) -> Path:
    """Return where to save an upload called ``name`` in ``folder``: its base name, with
    characters other than letters, digits, ``.-_`` replaced, and its suffix kept."""
    base = Path(name).name or "draft.txt"
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    safe = re.sub(r"[^\w.-]+", "_", stem).strip("._") or "draft"
    return folder / f"{safe}{suffix}"


def run_checklist_on_path(
    path: Path,
    checklist_id: str,
    store: Store | None,
    display_path: str | None = None,
    on_stage: Callable[[str, float], None] | None = None,
) -> ChecklistView:
    """Run a checklist on a draft file and return its display data; ``on_stage`` as for
    :func:`migralex.ui.service.run_checklist` (progress by stage).

    Raises:
        NotFoundError: unknown checklist.
        ReadError: the draft cannot be read.
    """
    from migralex.ui import service

    tagged, result = service.run_checklist(path, checklist_id, store, on_stage=on_stage)
    return checklist_view(tagged, result, display_path or str(path))


def run_checklist_on_upload(
    name: str,
    content: bytes,
    checklist_id: str,
    store: Store | None,
    on_stage: Callable[[str, float], None] | None = None,
) -> ChecklistView:
    """Save an uploaded draft to a temporary folder (keeping its name and suffix, so the
    reader and the title fall-back see them), run the checklist, and delete the copy.

    Raises:
        NotFoundError: unknown checklist.
        ReadError: the draft cannot be read (unknown format, corrupt, no text).
    """
    with tempfile.TemporaryDirectory(prefix="migralex-draft-") as tmp:
        path = upload_path(name, Path(tmp))
        path.write_bytes(content)
        return run_checklist_on_path(path, checklist_id, store, name, on_stage)


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A report ready for ``st.download_button``."""

    suffix: str
    label: str
    file_name: str
    mime: str
    data: bytes


def report_file_name(data: Mapping[str, Any], suffix: str) -> str:
    """Return e.g. "migralex-ssa-my-draft.docx" for a checklist JSON object."""
    doc = data.get("document", {})
    stem = Path(str(doc.get("path") or "draft")).stem or str(doc.get("title") or "draft")
    return f"migralex-{data['checklist']}-{slugify(stem)[:60]}{suffix}"


def report_files(data: dict[str, Any]) -> list[ReportFile]:
    """Render the checklist JSON in every report format of :data:`REPORT_FORMATS`.

    DOCX and XLSX are written to a temporary file and read back.
    """
    from migralex.ui import reports

    out = []
    for suffix, (label, mime) in REPORT_FORMATS.items():
        if suffix == ".md":
            content = reports.to_markdown(data).encode("utf-8")
        elif suffix == ".html":
            content = reports.to_html(data).encode("utf-8")
        else:
            with tempfile.TemporaryDirectory(prefix="migralex-report-") as tmp:
                target = Path(tmp) / f"report{suffix}"
                reports.write_report(data, target)
                content = target.read_bytes()
        out.append(ReportFile(suffix, label, report_file_name(data, suffix), mime, content))
    return out


# --------------------------------------------------------------------------------------------
# Filters shown as chips; views of ui/views.py
# --------------------------------------------------------------------------------------------


def active_filters(
    kinds: Iterable[str] = (),
    languages: Iterable[str] = (),
    parties: Iterable[str] = (),
    tags: Iterable[str] = (),
    doc_ids: Iterable[str] = (),
    documents: Mapping[str, str] | None = None,
) -> list[str]:
    """The search filters in force as chip labels ("Language: fr", "Tag: Export of benefits",
    "Document: <title>"), in filter order; empty when none is set."""
    out = [f"Kind: {k}" for k in kinds]
    out += [f"Language: {x}" for x in languages]
    out += [f"Party: {x}" for x in parties]
    out += [f"Tag: {tag_label(x)}" for x in tags]
    out += [f"Document: {(documents or {}).get(d, d)}" for d in doc_ids]
    return out


def filter_chips_html(labels: Sequence[str]) -> str:
    """The active filters as grey chips in one ``<div class="mlx-filters">``; "" for none."""
    if not labels:
        return ""
    chips = "".join(
        '<span class="mlx-filter" style="background:#e8eaf0;border-radius:0.8em;'
        'padding:0.1em 0.7em;margin-right:0.3em;font-size:0.85rem;white-space:nowrap">'
        f"{html.escape(label)}</span>"
        for label in labels
    )
    return f'<div class="mlx-filters">Filters in force: {chips}</div>'


#: Background of a status cell in the app's tables (present green, partial amber, absent red).
STATUS_BACKGROUND: dict[str, str] = {
    "present": "#c6efce",
    "partial": "#ffeb9c",
    "absent": "#ffc7ce",
}
#: One character per status for the matrix heatmap cells.
STATUS_MARK: dict[str, str] = {"present": "✅", "partial": "🟡", "absent": "❌"}


def status_style(value: Any) -> str:
    """CSS for a table cell whose text starts with a status icon or word (pandas Styler)."""
    text = str(value)
    for status, (icon, _color, words) in STATUS_STYLE.items():
        if text.startswith(icon) or text.startswith(words):
            return f"background-color: {STATUS_BACKGROUND[status]}"
    return ""


def matrix_rows(data: Mapping[str, Any], checklist_id: str) -> list[dict[str, Any]]:
    """One row per agreement of a :func:`~migralex.ui.views.matrix` result read with
    ``checklist_id``: title, one status icon per item (:data:`STATUS_MARK`; column named by
    the item id without its checklist prefix), then parties, language and year ("" when
    unknown), so the heatmap fits beside the titles."""
    items = [i["id"] for i in data["checklists"].get(checklist_id, {}).get("items", [])]
    rows = []
    for doc in data["documents"]:
        if doc["checklist"] != checklist_id:
            continue
        row: dict[str, Any] = {"agreement": doc["title"]}
        for item in items:
            row[item.split(".", 1)[-1]] = STATUS_MARK[doc["cells"][item]["status"]]
        row.update(
            parties="; ".join(doc["parties"]),
            language=doc["language"],
            year=str(doc["year"] or ""),
        )
        rows.append(row)
    return rows


def branch_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per agreement: title, then ✅/empty per C102 branch (human names)."""
    return [
        {
            "agreement": doc["title"],
            **{tag_label(b): "✅" if doc["branches"].get(b) else "" for b in data["branches"]},
        }
        for doc in data["documents"]
    ]


#: Edge colours of the corridor picture per status.
CORRIDOR_COLORS: dict[str, str] = {
    "both": "#2e7d32",
    "ssa_only": "#1565c0",
    "bla_without_ssa": "#c62828",
}
#: Words of each corridor status.
CORRIDOR_WORDS: dict[str, str] = {
    "both": "SSA and BLA",
    "ssa_only": "SSA only",
    "bla_without_ssa": "BLA without SSA",
}


def corridors_dot(data: Mapping[str, Any]) -> str:
    """The corridors of a :func:`~migralex.ui.views.corridors` result as a Graphviz DOT graph
    (countries linked by agreements, edges coloured by :data:`CORRIDOR_COLORS`, the chosen
    country bold); names are quoted and escaped."""

    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    chosen = (data.get("country") or {}).get("key")
    rows = data["corridors"]
    if chosen:
        rows = [r for r in rows if chosen in (r["a"], r["b"])]
    lines = ["graph corridors {", "  layout=neato; overlap=false; splines=true;",
             '  node [shape=box, style="rounded,filled", fillcolor="#f5f5f5", fontsize=10];']  # fmt: skip
    keys = {k for r in rows for k in (r["a"], r["b"])}
    names = {p["key"]: p["name"] for p in data["parties"]}
    for key in sorted(keys):
        extra = ', penwidth=2, fillcolor="#fff3b0"' if key == chosen else ""
        lines.append(f"  {q(key)} [label={q(names.get(key, key))}{extra}];")
    for r in rows:
        color = CORRIDOR_COLORS[r["status"]]
        n = len(r["ssa"]) + len(r["bla"])
        lines.append(
            f"  {q(r['a'])} -- {q(r['b'])} [color={q(color)}, penwidth={1 + min(n, 4) * 0.5},"
            f" tooltip={q(CORRIDOR_WORDS[r['status']])}];"
        )
    lines.append("}")
    return "\n".join(lines)


def draft_comparison(view: ChecklistView, item: ItemView, store: Store) -> dict[str, Any] | None:
    """The draft's first evidence clause of ``item`` beside its good-practice examples (at
    most 3), as :func:`migralex.ui.views.compare_clauses`; None when the item has no
    evidence or no example."""
    from migralex.ui.views import compare_clauses

    if not item.evidence or not item.examples:
        return None
    draft = view.draft_clauses.get(item.evidence[0].clause_id)
    if draft is None:
        return None
    examples = [store.get_clause(e.clause_id) for e in item.examples[:3]]
    facts = {draft.doc_id: ("This draft", "draft"), **store.doc_facts(c.doc_id for c in examples)}
    tags = {**store.tags_for(c.clause_id for c in examples), **view.draft_tags}
    return compare_clauses([draft, *examples], facts, tags)
