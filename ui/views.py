"""The views the three users came for, as plain data: the coverage matrix, the side-by-side
comparison of clauses, the corridors between countries and the good-practice gallery.

Each function takes a :class:`~migralex.corpus.store.Store` (and, for the checklist-based
views, an embedder's ``embed_queries``) and returns JSON-ready dicts: the CLI prints them
(``migralex matrix|compare|corridors|gallery --json``, shapes in README.md), the Streamlit app
renders them and :mod:`migralex.ui.view_exports` writes them as XLSX, PPTX or HTML. No
Streamlit here (STYLE.md rule 14).

Offsets are 0-based, end-exclusive character offsets into the text they name (``text`` of a
clause, ``quote`` of a cell); pages are 1-based.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.checklist_models import Checklist, ChecklistItem, ChecklistResult
from migralex.corpus.errors import NotFoundError, ValidationError
from migralex.corpus.models import Clause, Tag
from migralex.corpus.store import Store

#: Document kind -> the checklist that reads it (DESIGN.md checklist ids).
CHECKLIST_FOR_KIND: dict[str, str] = {
    "ssa": "ssa",
    "bla": "bla",
    "law": "national-law",
    "regulation": "national-law",
}
#: ``--kind`` values of ``migralex matrix`` -> the document kinds they take.
MATRIX_KINDS: dict[str, tuple[str, ...]] = {
    "ssa": ("ssa",),
    "bla": ("bla",),
    "law": ("law", "regulation"),
}
#: The ILO C102 branches (Parts II-X), as the ``branch_*`` tags name them, in C102 order.
BRANCHES: tuple[str, ...] = (
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
#: Folder in the store where checklist results of stored documents are cached.
CACHE_DIR = "views-cache"
#: Bumped when the cached cell shape or the way documents are checked changes (2: heading-less
#: articles read with the checklist's topic model).
CACHE_VERSION = 2
#: Characters of an evidence quote kept in a matrix cell (the clause id leads to the rest).
QUOTE_CHARS = 600

EmbedQueries = Callable[[list[str]], np.ndarray]


# --------------------------------------------------------------------------------------------
# Checking stored documents (cached)
# --------------------------------------------------------------------------------------------


def checklist_digest(checklist: Checklist) -> str:
    """Return 16 hex of the sha256 of a checklist's content (its items' questions, cues,
    headings, rules...), the "checklist version" of the result cache."""
    payload = json.dumps(
        [
            checklist.id,
            [
                [
                    i.id,
                    i.question,
                    i.reference,
                    list(i.tags),
                    list(i.headings),
                    list(i.cues),
                    [[p.when, p.reason] for p in i.partial],
                    i.nested,
                    list(i.openings),
                    sorted(i.ignore_rules),
                    list(i.terms),
                ]
                for i in checklist.items
            ],
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


class CachedQueries:
    """Wrap ``embed_queries`` so one list of texts is encoded once per process (the checklist
    engine encodes every cue of a checklist on each document)."""

    def __init__(self, embed_queries: EmbedQueries) -> None:
        self._embed = embed_queries
        self._memo: dict[tuple[str, ...], np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        key = tuple(texts)
        if key not in self._memo:
            self._memo[key] = np.asarray(self._embed(list(texts)), dtype=np.float32)
        return self._memo[key]


def _cell(result: Any, tags: Mapping[str, Sequence[Tag]]) -> dict[str, Any]:
    """One matrix cell from an ``ItemResult``: its status and its best evidence."""
    cell: dict[str, Any] = {
        "status": result.status,
        "confidence": round(float(result.confidence), 4),
        "reason": result.reason,
        "clause_id": None,
        "label": None,
        "heading": None,
        "citation": None,
        "quote": "",
        "page_start": None,
        "spans": [],
        "tags": [],
        "exceptions": [],
        "restrictions": [],
    }
    if not result.evidence:
        return cell
    ev = result.evidence[0]
    lo = ev.paragraph.start if ev.paragraph is not None else 0
    quote = ev.quote
    item_tags = set(result.item.tags)
    clause_tags = tags.get(ev.clause.clause_id, ())
    cell.update(
        clause_id=ev.clause.clause_id,
        label=ev.clause.label,
        heading=ev.clause.heading,
        citation=ev.citation,
        quote=quote,
        page_start=ev.clause.page_start,
        spans=[[a - lo, b - lo] for a, b in ev.spans if lo <= a and b - lo <= len(quote)],
        tags=list(ev.tags),
        exceptions=sorted(
            {t.exception for t in clause_tags if t.exception and t.name in item_tags}
        ),
        restrictions=sorted(
            {
                t.name
                for t in clause_tags
                if t.name in ("nationality_requirement", "residence_requirement") and not t.negated
            }
        ),
    )
    return cell


def check_stored_document(
    store: Store,
    doc_id: str,
    checklist: Checklist,
    embed_queries: EmbedQueries,
    model: str,
    embed_passages: EmbedQueries | None = None,
) -> dict[str, Any]:
    """Run a checklist on one stored document, from its stored clauses, tags and vectors.

    Paragraphs are read with their clause's similarity (the engine without
    ``embed_passages``), so a matrix over a hundred agreements needs no embedding beyond the
    checklist's cues; ``migralex checklist FILE`` embeds each paragraph too, and may differ
    on items whose provision is one paragraph of a long article.

    Args:
        store: the store holding the document.
        doc_id: the document.
        checklist: the checklist to run.
        embed_queries: the store model's query encoder (float32 ``(n, dim)``).
        model: the store's model name (calibrated thresholds,
            :func:`~migralex.nlp.checklist.thresholds.thresholds_for`).
        embed_passages: encodes clause passages when the document has no stored vectors.

    Returns:
        ``{"doc_id", "checklist", "summary": {status: n}, "cells": {item_id: cell},
        "branches": {branch_tag: clause_id | None}}``; a cell is ``{"status",
        "confidence", "reason", "clause_id", "label", "heading", "citation", "quote",
        "page_start", "spans", "tags", "exceptions", "restrictions"}`` (``spans``: the
        item's tag spans, offsets in ``quote``; ``restrictions``: nationality/residence
        requirement tags on the evidence clause, not negated).

    Raises:
        NotFoundError: no such document.
        ValidationError: the document has no stored vectors and no ``embed_passages``.
    """
    from migralex.nlp.checklist.engine import run_checklist
    from migralex.nlp.checklist.thresholds import thresholds_for
    from migralex.nlp.checklist.topics import shipped_model

    store.get_document(doc_id)  # NotFoundError in words
    clauses = store.clauses(doc_id)
    tags = store.tags_for(c.clause_id for c in clauses)
    vectors = store.clause_vectors(doc_id)
    if vectors is None:
        if embed_passages is None:
            raise ValidationError(f"{doc_id}: the store holds no vectors for this document")
        from migralex.ui.service import clause_passage

        vectors = np.asarray(embed_passages([clause_passage(c) for c in clauses]), dtype=np.float32)
    result: ChecklistResult = run_checklist(
        checklist,
        clauses,
        tags,
        vectors,
        embed_queries,
        thresholds=thresholds_for(model),
        topic_model=shipped_model(checklist.id, model),
    )
    branches: dict[str, str | None] = dict.fromkeys(BRANCHES)
    for c in clauses:
        for t in tags.get(c.clause_id, ()):
            if t.name in branches and branches[t.name] is None:
                branches[t.name] = c.clause_id
    return {
        "doc_id": doc_id,
        "checklist": checklist.id,
        "summary": result.summary(),
        "cells": {r.item.id: _cell(r, tags) for r in result.items},
        "branches": branches,
    }


def _cache_path(store: Store, doc: Mapping[str, Any], checklist: Checklist, model: str) -> Path:
    key = json.dumps(
        [
            CACHE_VERSION,
            doc["sha256"],
            store.document_pipeline(doc["doc_id"]),
            checklist_digest(checklist),
            model,
        ]
    )
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
    return store.root / CACHE_DIR / f"{checklist.id}-{digest}.json"


#: One lock per views-cache file: two threads of a process (the app's background fill and a
#: page) never compute the same document's check at once.
_COMPUTING: dict[Path, threading.Lock] = {}
_COMPUTING_GUARD = threading.Lock()


def _computing(path: Path) -> threading.Lock:
    with _COMPUTING_GUARD:
        return _COMPUTING.setdefault(path, threading.Lock())


def _read_cached(path: Path, doc: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return dict(data) if isinstance(data, dict) and data.get("doc_id") == doc["doc_id"] else None


def cached_check(
    store: Store,
    doc: Mapping[str, Any],
    checklist: Checklist,
    embed_queries: EmbedQueries,
    model: str,
    *,
    block: bool = True,
) -> dict[str, Any] | None:
    """:func:`check_stored_document`, cached in ``STORE/views-cache/`` under a key made of
    the document's sha256 and pipeline version, the checklist's content
    (:func:`checklist_digest`), the model and :data:`CACHE_VERSION`. A cache file that cannot
    be read is recomputed; one that cannot be written (read-only store) is skipped. Files
    are written through a temporary name and an atomic rename; the database is never
    written. While one thread of the process computes a document, another waits for its
    file instead of computing it again.

    Args:
        doc: ``{"doc_id", "sha256"}`` of the document.
        block: False: return None at once when another thread is computing this document.

    Returns:
        The check (:func:`check_stored_document`); None only with ``block=False``.
    """
    from migralex.corpus.store import atomic_write_bytes

    path = _cache_path(store, doc, checklist, model)
    data = _read_cached(path, doc)
    if data is not None:
        return data
    lock = _computing(path)
    if not lock.acquire(blocking=block):
        return None
    try:
        data = _read_cached(path, doc)  # written by the thread this one waited for
        if data is not None:
            return data
        data = check_stored_document(store, doc["doc_id"], checklist, embed_queries, model)
        try:
            path.parent.mkdir(exist_ok=True)
            atomic_write_bytes(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        except OSError:
            pass
        return data
    finally:
        lock.release()


# --------------------------------------------------------------------------------------------
# Coverage matrix
# --------------------------------------------------------------------------------------------


def _doc_rows(store: Store) -> list[dict[str, Any]]:
    """Document facts with sha256 (``document_summaries`` has no hash)."""
    summaries = {s["doc_id"]: s for s in store.document_summaries()}
    out = []
    for doc in store.documents():
        s = summaries[doc.doc_id]
        out.append({**s, "sha256": doc.sha256, "year": _year(doc.title, doc.meta)})
    return out


_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def _year(title: str, meta: Mapping[str, Any]) -> int | None:
    """The first year (1800-2099) in the title, else in the manifest's source column."""
    for text in (title, str(meta.get("source", ""))):
        found = _YEAR.search(text)
        if found:
            return int(found.group(1))
    return None


def uncached_documents(store: Store, model: str, kind: str | None = None) -> list[str]:
    """The ids of the documents :func:`matrix` (of ``kind``; None: all) would have to check
    because the views cache holds no file for them (a store ingested before the cache
    existed, or a new checklist); [] when every one is cached. Reads no file.

    Raises:
        ValidationError: unknown ``kind``.
    """
    from migralex.nlp.checklist.loader import load_checklist

    if kind is not None and kind not in MATRIX_KINDS:
        raise ValidationError(f"unknown kind {kind!r}; valid: {', '.join(MATRIX_KINDS)}")
    kinds = MATRIX_KINDS[kind] if kind else tuple(CHECKLIST_FOR_KIND)
    out = []
    for d in _doc_rows(store):
        if d["kind"] in kinds:
            checklist = load_checklist(CHECKLIST_FOR_KIND[d["kind"]])
            if not _cache_path(store, d, checklist, model).is_file():
                out.append(d["doc_id"])
    return out


def matrix(
    store: Store,
    embed_queries: EmbedQueries,
    model: str,
    *,
    kind: str | None = None,
    party: str | None = None,
    on_document: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """Agreements x checklist items: each cell present / partial / absent with its evidence.

    Every stored document of a kind a checklist reads (:data:`CHECKLIST_FOR_KIND`) is checked
    with its checklist (:func:`cached_check`), and its C102 branches are read from its
    ``branch_*`` tags.

    Args:
        store: the store.
        embed_queries: the store model's query encoder (wrapped in :class:`CachedQueries`).
        model: the store's model name.
        kind: ``ssa``, ``bla`` or ``law`` (laws and regulations; :data:`MATRIX_KINDS`);
            None: all three.
        party: keep documents naming this party
            (:func:`~migralex.corpus.parties.party_key`: "Canadá" is Canada).
        on_document: ``(done, total, doc_id)`` after each document.

    Returns:
        ``{"kind", "party", "checklists": {id: {"title", "items": [{"id", "question",
        "reference"}]}}, "branches": [branch tags], "documents": [{"doc_id", "title",
        "kind", "language", "parties", "year", "checklist", "summary", "cells",
        "branches"}]}``, documents ordered by kind, then title (cells:
        :func:`check_stored_document`).

    Raises:
        ValidationError: unknown ``kind``.
    """
    from migralex.corpus.parties import party_key
    from migralex.nlp.checklist.loader import load_checklist

    if kind is not None and kind not in MATRIX_KINDS:
        raise ValidationError(f"unknown kind {kind!r}; valid: {', '.join(MATRIX_KINDS)}")
    kinds = MATRIX_KINDS[kind] if kind else tuple(CHECKLIST_FOR_KIND)
    wanted = party_key(party) if party else None
    docs = [
        d
        for d in _doc_rows(store)
        if d["kind"] in kinds
        and (wanted is None or any(party_key(p) == wanted for p in d["parties"]))
    ]
    docs.sort(key=lambda d: (kinds.index(d["kind"]), str(d["title"]).lower(), d["doc_id"]))
    queries = (
        embed_queries if isinstance(embed_queries, CachedQueries) else CachedQueries(embed_queries)
    )
    checklists = {
        cid: load_checklist(cid)
        for cid in dict.fromkeys(CHECKLIST_FOR_KIND[d["kind"]] for d in docs)
    }
    checks: dict[str, dict[str, Any]] = {}
    # A document another thread is computing is left for later, so that two threads filling
    # the cache (the app's background fill and a page) share the work instead of queueing.
    for wait in (False, True):
        for d in docs:
            if d["doc_id"] in checks:
                continue
            got = cached_check(
                store, d, checklists[CHECKLIST_FOR_KIND[d["kind"]]], queries, model, block=wait
            )
            if got is None:
                continue
            checks[d["doc_id"]] = got
            if on_document is not None:
                on_document(len(checks), len(docs), d["doc_id"])
    rows = []
    for d in docs:
        cid = CHECKLIST_FOR_KIND[d["kind"]]
        checked = checks[d["doc_id"]]
        rows.append(
            {
                "doc_id": d["doc_id"],
                "title": d["title"],
                "kind": d["kind"],
                "language": d["language"],
                "parties": list(d["parties"]),
                "year": d["year"],
                "checklist": cid,
                "summary": checked["summary"],
                "cells": checked["cells"],
                "branches": checked["branches"],
            }
        )
    return {
        "kind": kind,
        "party": party,
        "checklists": {
            cid: {
                "title": c.title,
                "items": [
                    {"id": i.id, "question": i.question, "reference": i.reference} for i in c.items
                ],
            }
            for cid, c in checklists.items()
        },
        "branches": list(BRANCHES),
        "documents": rows,
    }


# --------------------------------------------------------------------------------------------
# Side-by-side comparison
# --------------------------------------------------------------------------------------------

_WORD = re.compile(r"\S+")
#: Shared runs shorter than this many words are not reported as shared model wording.
SHARED_MIN_WORDS = 4


def _words(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, folded word)`` of each run of non-space characters of ``text``; the
    folded word is lower-cased without surrounding punctuation, so "Party," matches "party"."""
    out = []
    for m in _WORD.finditer(text):
        word = m.group(0).casefold().strip(".,;:()[]\"'“”‘’")
        out.append((m.start(), m.end(), word or m.group(0)))
    return out


def _runs(flags: Sequence[bool], words: Sequence[tuple[int, int, str]]) -> list[list[int]]:
    """Character ``[start, end]`` runs of consecutive words whose flag is True."""
    runs: list[list[int]] = []
    i = 0
    while i < len(words):
        if not flags[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and flags[j + 1]:
            j += 1
        runs.append([words[i][0], words[j][1], j - i + 1])
        i = j + 1
    return runs


def _segments(
    text: str, flags: Sequence[bool], words: Sequence[tuple[int, int, str]]
) -> list[dict[str, Any]]:
    """The text cut into ``{"start", "end", "shared"}`` segments covering it all (white space
    between two shared words is shared)."""
    segments: list[dict[str, Any]] = []
    pos = 0
    for run in _runs(flags, words):
        if run[0] > pos:
            segments.append({"start": pos, "end": run[0], "shared": False})
        segments.append({"start": run[0], "end": run[1], "shared": True})
        pos = run[1]
    if pos < len(text):
        segments.append({"start": pos, "end": len(text), "shared": False})
    return segments


def compare(store: Store, clause_ids: Sequence[str]) -> dict[str, Any]:
    """Two to four clauses side by side: word-level diff against the first, shared wording,
    their tags, exceptions and restrictions aligned.

    Words are compared case-folded without surrounding punctuation with
    :class:`difflib.SequenceMatcher` (``autojunk=False``). The first clause is the base: a
    word of another clause is *shared* when it is in a matching block with the base; a word
    of the base is shared when every other clause matches it. Shared wording is a run of
    shared base words of at least :data:`SHARED_MIN_WORDS` words.

    Args:
        store: the store.
        clause_ids: 2-4 distinct clause ids.

    Returns:
        ``{"clauses": [{"clause_id", "doc_id", "doc_title", "kind", "language", "label",
        "heading", "citation", "page_start", "page_end", "text", "similarity",
        "segments": [{"start", "end", "shared"}], "tags": [tag names],
        "exceptions": [{"tag", "text"}], "restrictions": [tag names]}],
        "shared": [{"start", "end", "words", "text"}], "tags": [{"tag", "label",
        "clauses": [bool per clause]}]}``. ``similarity`` is
        ``SequenceMatcher.ratio()`` with the base in [0, 1] (1.0 for the base);
        segment offsets point into each clause's ``text``, shared runs into the base's.

    Raises:
        ValidationError: fewer than 2 or more than 4 ids, or an id given twice.
        NotFoundError: an id is not in the store.
    """

    ids = list(clause_ids)
    if not 2 <= len(ids) <= 4:
        raise ValidationError(f"compare takes 2 to 4 clause ids, got {len(ids)}")
    if len(set(ids)) != len(ids):
        raise ValidationError("compare: a clause id is given twice")
    clauses = [store.get_clause(cid) for cid in ids]
    return compare_clauses(clauses, store.doc_facts(c.doc_id for c in clauses), store.tags_for(ids))


def compare_clauses(
    clauses: Sequence[Clause],
    facts: Mapping[str, tuple[str, str]],
    tags: Mapping[str, Sequence[Tag]],
) -> dict[str, Any]:
    """:func:`compare` of clauses that need not be stored (a draft's evidence beside stored
    examples).

    Args:
        clauses: 2-4 clauses with distinct ids, the base first.
        facts: ``{doc_id: (title, kind)}`` (a missing document shows its id).
        tags: the clauses' tags by clause id (missing: none).
    """
    from migralex.ui.app_views import tag_label

    words = [_words(c.text) for c in clauses]
    base = [w[2] for w in words[0]]
    base_shared = [True] * len(base)
    out_clauses = []
    for k, (clause, ws) in enumerate(zip(clauses, words, strict=True)):
        if k == 0:
            flags, ratio = [True] * len(ws), 1.0
        else:
            matcher = difflib.SequenceMatcher(None, base, [w[2] for w in ws], autojunk=False)
            flags = [False] * len(ws)
            matched_base = [False] * len(base)
            for block in matcher.get_matching_blocks():
                for d in range(block.size):
                    flags[block.b + d] = True
                    matched_base[block.a + d] = True
            base_shared = [a and b for a, b in zip(base_shared, matched_base, strict=True)]
            ratio = matcher.ratio()
        out_clauses.append((clause, ws, flags, ratio))
    rows = []
    for k, (clause, ws, flags, ratio) in enumerate(out_clauses):
        if k == 0:
            flags = base_shared
        title, kind = facts.get(clause.doc_id, (clause.doc_id, ""))
        own = tags.get(clause.clause_id, [])
        rows.append(
            {
                "clause_id": clause.clause_id,
                "doc_id": clause.doc_id,
                "doc_title": title,
                "kind": kind,
                "language": clause.language,
                "label": clause.label,
                "heading": clause.heading,
                "citation": clause.citation,
                "page_start": clause.page_start,
                "page_end": clause.page_end,
                "text": clause.text,
                "similarity": round(ratio, 4),
                "segments": _segments(clause.text, flags, ws),
                "tags": sorted({t.name for t in own}),
                "exceptions": [
                    {"tag": name, "text": text}
                    for name, text in dict.fromkeys((t.name, t.exception) for t in own)
                    if text
                ],
                "restrictions": sorted(
                    {
                        t.name
                        for t in own
                        if t.name in ("nationality_requirement", "residence_requirement")
                        and not t.negated
                    }
                ),
            }
        )
    shared = [
        {"start": a, "end": b, "words": n, "text": clauses[0].text[a:b]}
        for a, b, n in _runs(base_shared, words[0])
        if n >= SHARED_MIN_WORDS
    ]
    names = sorted({t for r in rows for t in r["tags"]})
    return {
        "clauses": rows,
        "shared": shared,
        "tags": [
            {"tag": n, "label": tag_label(n), "clauses": [n in r["tags"] for r in rows]}
            for n in names
        ],
    }


# --------------------------------------------------------------------------------------------
# Corridors
# --------------------------------------------------------------------------------------------

#: Document kinds that link two countries in the corridor view.
CORRIDOR_KINDS: tuple[str, ...] = ("ssa", "bla")


@dataclass(frozen=True, slots=True)
class Party:
    """A party as the corridor view names it.

    Attributes:
        key: :func:`~migralex.corpus.parties.party_key` (ISO alpha-2 or the folded name).
        code: ISO 3166-1 alpha-2, None for a party that is not a current country.
        name: the ISO short name, else the first spelling seen.
    """

    key: str
    code: str | None
    name: str


def party_of(name: str) -> Party:
    """Return the :class:`Party` of a name as written ("Canadá" -> ``CA``, "Canada")."""
    import pycountry

    from migralex.corpus.parties import country_code, party_key

    code = country_code(name)
    if code is None:
        return Party(party_key(name), None, " ".join(name.split()))
    country = pycountry.countries.get(alpha_2=code)
    return Party(code, code, str(getattr(country, "name", code)))


def corridors(store: Store, country: str | None = None) -> dict[str, Any]:
    """Which countries are linked by a social security agreement (SSA), a bilateral labour
    agreement (BLA) or both; for one country, its partners and the corridors where a BLA
    sends workers without an SSA to keep their contributions.

    Parties come from the documents' ``parties`` (the manifest's column), normalised by
    :func:`party_of` when read (the store keeps them as written). An agreement with more
    than two parties links each pair of them.

    Args:
        store: the store.
        country: a party by any of its names ("Canadá", "Kingdom of the Netherlands");
            None: every corridor.

    Returns:
        ``{"country": {"key", "code", "name"} | null, "parties": [{"key", "code", "name",
        "spellings", "documents"}], "corridors": [{"a", "b", "a_name", "b_name", "status",
        "ssa": [doc], "bla": [doc]}], "partners": [{"key", "code", "name", "status",
        "ssa": [doc], "bla": [doc]}]}``; a doc is ``{"doc_id", "title", "language"}``,
        ``status`` is ``"both"``, ``"ssa_only"`` or ``"bla_without_ssa"``. ``partners`` is
        empty without ``country``. Corridors are sorted by party names, partners by status
        (BLA without SSA first), then name.

    Raises:
        NotFoundError: ``country`` is named by no SSA or BLA in the store (the message lists
            the parties that are).
    """
    parties, links = _corridor_links(store.document_summaries())
    rows = [
        {
            "a": a,
            "b": b,
            "a_name": parties[a]["name"],
            "b_name": parties[b]["name"],
            "status": _corridor_status(link),
            "ssa": link["ssa"],
            "bla": link["bla"],
        }
        for (a, b), link in links.items()
    ]
    rows.sort(key=lambda r: (r["a_name"], r["b_name"]))
    chosen = None
    partners: list[dict[str, Any]] = []
    if country is not None:
        key = party_of(country).key
        if key not in parties:
            known = ", ".join(sorted(p["name"] for p in parties.values())) or "none"
            raise NotFoundError(
                f"{country}: no SSA or BLA in the store names this party; parties: {known}"
            )
        chosen = {k: parties[key][k] for k in ("key", "code", "name")}
        partners = _partners(key, parties, rows)
    return {
        "country": chosen,
        "parties": sorted(parties.values(), key=lambda p: p["name"]),
        "corridors": rows,
        "partners": partners,
    }


def _corridor_links(
    summaries: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], dict[str, list[dict[str, Any]]]]]:
    """The parties of the SSAs and BLAs among ``summaries`` (by key, in first-seen order) and,
    for each pair of them (ordered by name), the ``{"ssa": [doc], "bla": [doc]}`` linking it."""
    parties: dict[str, dict[str, Any]] = {}
    links: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for d in summaries:
        if d["kind"] not in CORRIDOR_KINDS:
            continue
        named = _add_parties(d["parties"], parties)
        doc = {"doc_id": d["doc_id"], "title": d["title"], "language": d["language"]}
        for i, a in enumerate(named):
            for b in named[i + 1 :]:
                pair = (a, b) if parties[a]["name"] <= parties[b]["name"] else (b, a)
                link = links.setdefault(pair, {"ssa": [], "bla": []})
                link[d["kind"]].append(doc)
    return parties, links


def _add_parties(raws: Sequence[str], parties: dict[str, dict[str, Any]]) -> list[str]:
    """Count one document's parties (as written in ``raws``) into ``parties``: their spellings
    and number of documents; return their keys in order, each once."""
    named: list[str] = []
    for raw in raws:
        if not raw.strip():
            continue
        party = party_of(raw)
        entry = parties.setdefault(
            party.key,
            {"key": party.key, "code": party.code, "name": party.name, "spellings": [],
             "documents": 0},
        )  # fmt: skip
        if raw.strip() not in entry["spellings"]:
            entry["spellings"].append(raw.strip())
        if party.key not in named:
            named.append(party.key)
            entry["documents"] += 1
    return named


def _corridor_status(link: Mapping[str, Sequence[Any]]) -> str:
    """``"both"``, ``"ssa_only"`` or ``"bla_without_ssa"`` for a corridor's documents."""
    if link["ssa"] and link["bla"]:
        return "both"
    return "ssa_only" if link["ssa"] else "bla_without_ssa"


def _partners(
    key: str, parties: Mapping[str, Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The partners of party ``key`` in the corridor ``rows``: BLA without SSA first, then
    both, then SSA only; by name within each."""
    partners: list[dict[str, Any]] = []
    for r in rows:
        if key in (r["a"], r["b"]):
            other = r["b"] if r["a"] == key else r["a"]
            partner = parties[other]
            partners.append(
                {
                    "key": other,
                    "code": partner["code"],
                    "name": partner["name"],
                    "status": r["status"],
                    "ssa": r["ssa"],
                    "bla": r["bla"],
                }
            )
    order = {"bla_without_ssa": 0, "both": 1, "ssa_only": 2}
    partners.sort(key=lambda p: (order[p["status"]], p["name"]))
    return partners


# --------------------------------------------------------------------------------------------
# Good-practice gallery
# --------------------------------------------------------------------------------------------

#: The quality criteria of a gallery provision, in ranking order, with their words. Sources:
#: C118 Art. 3 and 10 (no nationality condition), C118 Art. 5 / C157 Art. 9 and R167 Model
#: Agreement (no residence condition on benefits), the checklists' partial rules (no
#: exception, status present) and the lapsed-text vocabulary of ``nlp/vocab/examples.yaml``.
CRITERIA: dict[str, str] = {
    "present": "the provision is complete: no partial rule of the checklist fires",
    "no_nationality_restriction": "no nationality condition on the evidence clause",
    "no_residence_restriction": "no residence condition on the evidence clause",
    "no_exception": "no exception qualifies the item's wording",
    "in_force": "not repealed, lapsed or terminated (title and heading)",
    "own_article": "an article of its own: its heading names the item",
}


def _standard_rx(standard: str) -> re.Pattern[str]:
    """``C118`` matches "C118 Art. 5" but not "C1180"; case-insensitive."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(standard.strip())}(?![0-9])", re.I)


def gallery_items(
    principle: str | None = None, standard: str | None = None
) -> list[tuple[str, ChecklistItem]]:
    """The items of the SSA and BLA checklists a gallery shows, in checklist order.

    Args:
        principle: keep items whose id, tags or question name it ("export_of_benefits",
            "export", "ssa.totalisation"; case-insensitive, ``-`` and spaces read as ``_``).
        standard: keep items whose reference cites it ("C118", "R167", "C97").

    Raises:
        NotFoundError: no item matches (the message lists the item ids).
    """
    from migralex.nlp.checklist.loader import load_checklist

    items = [(cid, i) for cid in ("ssa", "bla") for i in load_checklist(cid).items]
    out = items
    if principle:
        want = re.sub(r"[\s-]+", "_", principle.strip().casefold())
        out = [
            (cid, i)
            for cid, i in out
            if want in i.id
            or any(want in t for t in i.tags)
            or want.replace("_", " ") in i.question.casefold()
        ]
    if standard:
        rx = _standard_rx(standard)
        out = [(cid, i) for cid, i in out if rx.search(i.reference)]
    if not out:
        what = " and ".join(
            x for x in (f"principle {principle!r}" if principle else "",
                        f"standard {standard!r}" if standard else "") if x
        )  # fmt: skip
        raise NotFoundError(
            f"no checklist item matches {what}; items: {', '.join(i.id for _, i in items)}"
        )
    return out


def _criteria(
    cell: Mapping[str, Any], title: str, heading: str, item: ChecklistItem
) -> dict[str, bool]:
    from migralex.nlp.structure import heading_regex
    from migralex.nlp.text import fold
    from migralex.nlp.vocabulary import regex

    lapsed = regex("lapsed")
    own = heading_regex(item.headings)
    restrictions = set(cell.get("restrictions") or ())
    return {
        "present": cell["status"] == "present",
        "no_nationality_restriction": "nationality_requirement" not in restrictions,
        "no_residence_restriction": "residence_requirement" not in restrictions,
        "no_exception": not cell.get("exceptions"),
        "in_force": not (lapsed.search(fold(title)) or lapsed.search(fold(heading or ""))),
        "own_article": bool(own and heading and own.search(fold(heading))),
    }


def gallery(
    store: Store,
    embed_queries: EmbedQueries,
    model: str,
    *,
    principle: str | None = None,
    standard: str | None = None,
    n: int = 3,
    on_document: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """Per checklist item, the best provisions of the stored agreements, ranked by explicit
    quality criteria (:data:`CRITERIA`).

    The candidates of an item are the evidence clauses of the SSAs (for ``ssa.*`` items) or
    BLAs (``bla.*``) where the item is present or partial (:func:`matrix`). They are ranked
    by the criteria met, compared in :data:`CRITERIA` order (a present provision first, then
    one without a nationality condition, ...), then by the engine's confidence, then title;
    one provision per document.

    Args:
        principle, standard: see :func:`gallery_items`.
        n: provisions per item (>= 1).

    Returns:
        ``{"principle", "standard", "criteria": {name: words}, "items": [{"id", "checklist",
        "question", "why", "reference", "provisions": [{"doc_id", "doc_title", "kind",
        "language", "parties", "clause_id", "citation", "page_start", "status",
        "confidence", "quote", "spans", "criteria": {name: bool}, "met": int,
        "reason"}]}]}``; ``spans`` are offsets in ``quote``.

    Raises:
        NotFoundError: no item matches ``principle`` / ``standard``.
        ValidationError: ``n`` < 1.
    """
    if n < 1:
        raise ValidationError(f"gallery: n must be >= 1, got {n}")
    chosen = gallery_items(principle, standard)
    kinds_needed = {cid for cid, _ in chosen}
    queries = CachedQueries(embed_queries)
    rows: list[dict[str, Any]] = []
    for cid in ("ssa", "bla"):
        if cid in kinds_needed:
            rows += matrix(store, queries, model, kind=cid, on_document=on_document)["documents"]
    items = []
    for cid, item in chosen:
        candidates = []
        for row in rows:
            cell = row["cells"].get(item.id)
            if row["checklist"] != cid or cell is None or cell["status"] == "absent":
                continue
            if not cell.get("clause_id"):
                continue
            crit = _criteria(cell, row["title"], cell.get("heading") or "", item)
            candidates.append(
                {
                    "doc_id": row["doc_id"],
                    "doc_title": row["title"],
                    "kind": row["kind"],
                    "language": row["language"],
                    "parties": row["parties"],
                    "clause_id": cell["clause_id"],
                    "citation": cell["citation"],
                    "page_start": cell["page_start"],
                    "status": cell["status"],
                    "confidence": cell["confidence"],
                    "quote": cell["quote"],
                    "spans": cell["spans"],
                    "criteria": crit,
                    "met": sum(crit.values()),
                    "reason": cell["reason"],
                }
            )
        candidates.sort(
            key=lambda c: (
                tuple(not c["criteria"][k] for k in CRITERIA),
                -c["confidence"],
                str(c["doc_title"]).lower(),
                c["doc_id"],
            )
        )
        items.append(
            {
                "id": item.id,
                "checklist": cid,
                "question": item.question,
                "why": item.why,
                "reference": item.reference,
                "provisions": candidates[:n],
            }
        )
    return {"principle": principle, "standard": standard, "criteria": dict(CRITERIA),
            "items": items}  # fmt: skip
