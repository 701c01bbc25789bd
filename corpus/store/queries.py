"""Reads of the store: documents and clauses, search filters as SQL, FTS5, tags and stats."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from migralex.corpus.errors import NotFoundError, StoreError
from migralex.corpus.models import Clause, Document, Tag
from migralex.corpus.parties import party_key
from migralex.corpus.store.schema import (
    CLAUSE_COLS,
    DOC_COLS,
    chunks,
    clause_from_row,
    document_from_row,
)
from migralex.corpus.store.vectors import VectorSets

#: Largest ``LIMIT`` bound (SQLite integers are 64-bit; a larger k raised OverflowError).
MAX_LIMIT = 2**62
#: Filters whose rowids :meth:`Queries.filter_rowids` keeps.
FILTER_CACHE = 8


@dataclass(frozen=True, slots=True)
class Filters:
    """Search filters; an empty tuple means "any". Values within one field are OR-ed,
    fields are AND-ed. A party matches a document's party as a whole party, not a substring:
    countries by their ISO 3166-1 code (:func:`~migralex.corpus.parties.party_key`: "Latvia"
    matches "Republic of Latvia"; "Ireland" does not match "United Kingdom of Great Britain
    and Northern Ireland"), other names case-insensitively as whole names."""

    kinds: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    exclude_doc_ids: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        """True when no filter is set."""
        return not any(
            (
                self.kinds,
                self.languages,
                self.parties,
                self.tags,
                self.doc_ids,
                self.exclude_doc_ids,
            )
        )


def filter_sql(filters: Filters) -> tuple[str, list[Any]]:
    """The SQL condition (over ``clauses c JOIN documents d``) and its parameters for
    ``filters``; ``("1=1", [])`` when no filter is set.

    Party and tag filters are uncorrelated subqueries, run once: correlated EXISTS ran per
    clause (the tag one scanned every tag of that name for each clause: 1.6 s at 3k clauses).
    """
    conds: list[str] = ["1=1"]
    params: list[Any] = []

    def any_of(column: str, values: tuple[str, ...], negate: bool = False) -> None:
        conds.append(f"{column} {'NOT IN' if negate else 'IN'} ({','.join('?' * len(values))})")
        params.extend(values)

    if filters.kinds:
        any_of("d.kind", filters.kinds)
    if filters.languages:
        any_of("c.language", filters.languages)
    if filters.doc_ids:
        any_of("c.doc_id", filters.doc_ids)
    if filters.exclude_doc_ids:
        any_of("c.doc_id", filters.exclude_doc_ids, negate=True)
    if filters.parties:
        # Whole parties, one key per country (corpus.parties): "Ireland" must not match
        # "United Kingdom of Great Britain and Northern Ireland" (a substring of the JSON
        # text), while "Latvia" matches "Republic of Latvia".
        keys = sorted({party_key(p) for p in filters.parties})
        conds.append(
            "d.doc_id IN (SELECT d2.doc_id FROM documents d2, json_each(d2.parties) p"
            f" WHERE party_key(p.value) IN ({','.join('?' * len(keys))}))"
        )
        params.extend(keys)
    if filters.tags:
        marks = ",".join("?" * len(filters.tags))
        conds.append(f"c.clause_id IN (SELECT t.clause_id FROM tags t WHERE t.name IN ({marks}))")
        params.extend(filters.tags)
    return " AND ".join(conds), params


class Queries(VectorSets):
    """The store's reads (mixed into :class:`~migralex.corpus.store.Store`)."""

    # -- documents -----------------------------------------------------------------------
    def documents(self) -> list[Document]:
        """Return every document, ordered by doc_id."""
        rows = self._conn.execute(f"SELECT {DOC_COLS} FROM documents ORDER BY doc_id").fetchall()
        return [document_from_row(r) for r in rows]

    def document_summaries(self) -> list[dict[str, Any]]:
        """Return documents without their text, with their clause counts, ordered by doc_id."""
        rows = self._conn.execute(
            "SELECT d.doc_id, d.title, d.kind, d.language, d.parties, d.source_path, d.pages,"
            " (SELECT COUNT(*) FROM clauses c WHERE c.doc_id = d.doc_id), d.ocr_pages"
            " FROM documents d ORDER BY d.doc_id"
        ).fetchall()
        return [
            {
                "doc_id": r[0],
                "title": r[1],
                "kind": r[2],
                "language": r[3],
                "parties": json.loads(r[4]),
                "source_path": r[5],
                "pages": r[6],
                "clauses": r[7],
                "ocr_pages": json.loads(r[8]),
            }
            for r in rows
        ]

    def get_document(self, doc_id: str) -> Document:
        """Return one document.

        Raises:
            NotFoundError: no such document.
        """
        row = self._conn.execute(
            f"SELECT {DOC_COLS} FROM documents WHERE doc_id=?", (doc_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no document {doc_id!r} in {self.root}")
        return document_from_row(row)

    def document_pipeline(self, doc_id: str) -> str:
        """Return the version of the segmenter and tagger that made a document's clauses
        ("" when unrecorded).

        Raises:
            NotFoundError: no such document.
        """
        row = self._conn.execute(
            "SELECT pipeline FROM documents WHERE doc_id=?", (doc_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no document {doc_id!r} in {self.root}")
        return str(row[0])

    def doc_facts(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Return ``{doc_id: (title, kind)}`` for the given documents."""
        ids = list(dict.fromkeys(doc_ids))
        out: dict[str, tuple[str, str]] = {}
        for chunk, marks in chunks(ids):
            for r in self._conn.execute(
                f"SELECT doc_id, title, kind FROM documents WHERE doc_id IN ({marks})", chunk
            ):
                out[r[0]] = (r[1], r[2])
        return out

    def find_by_source(self, source_path: str) -> list[str]:
        """Return the ids of documents read from ``source_path``, sorted."""
        rows = self._conn.execute(
            "SELECT doc_id FROM documents WHERE source_path=? ORDER BY doc_id", (source_path,)
        ).fetchall()
        return [r[0] for r in rows]

    # -- clauses and tags ----------------------------------------------------------------
    def clauses(self, doc_id: str | None = None) -> list[Clause]:
        """Return the clauses of one document (or all), in document order."""
        if doc_id is None:
            rows = self._conn.execute(
                f"SELECT {CLAUSE_COLS} FROM clauses ORDER BY doc_id, ordinal"
            ).fetchall()
        else:
            rows = self._conn.execute(
                f"SELECT {CLAUSE_COLS} FROM clauses WHERE doc_id=? ORDER BY ordinal", (doc_id,)
            ).fetchall()
        return [clause_from_row(r) for r in rows]

    def count_clauses(self, doc_id: str | None = None) -> int:
        """Number of clauses of one document, or of the whole store."""
        if doc_id is None:
            return int(self._conn.execute("SELECT COUNT(*) FROM clauses").fetchone()[0])
        row = self._conn.execute("SELECT COUNT(*) FROM clauses WHERE doc_id=?", (doc_id,))
        return int(row.fetchone()[0])

    def get_clause(self, clause_id: str) -> Clause:
        """Return one clause.

        Raises:
            NotFoundError: no such clause.
        """
        row = self._conn.execute(
            f"SELECT {CLAUSE_COLS} FROM clauses WHERE clause_id=?", (clause_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no clause {clause_id!r} in {self.root}")
        return clause_from_row(row)

    def rowid_of(self, clause_id: str) -> int:
        """Return the integer key of a clause in the vector index.

        Raises:
            NotFoundError: no such clause.
        """
        row = self._conn.execute(
            "SELECT rowid FROM clauses WHERE clause_id=?", (clause_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no clause {clause_id!r} in {self.root}")
        return int(row[0])

    def clauses_by_rowid(self, rowids: Sequence[int]) -> dict[int, Clause]:
        """Return clauses keyed by their rowid (missing rowids are left out)."""
        out: dict[int, Clause] = {}
        ids = [int(r) for r in rowids]
        for chunk, marks in chunks(ids):
            for row in self._conn.execute(
                f"SELECT {CLAUSE_COLS} FROM clauses WHERE rowid IN ({marks})", chunk
            ):
                out[int(row[0])] = clause_from_row(row)
        return out

    def tags_for(self, clause_ids: Iterable[str]) -> dict[str, list[Tag]]:
        """Return the tags of the given clauses, keyed by clause id, in offset order."""
        ids = list(dict.fromkeys(clause_ids))
        out: dict[str, list[Tag]] = {cid: [] for cid in ids}
        for chunk, marks in chunks(ids):
            rows = self._conn.execute(
                'SELECT clause_id, name, start, "end", text, rule, exception, negated FROM tags'
                f' WHERE clause_id IN ({marks}) ORDER BY clause_id, start, "end", name',
                chunk,
            )
            for r in rows:
                out[r[0]].append(Tag(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])))
        return out

    def tag_names_by_rowid(self, rowids: Sequence[int]) -> dict[int, set[str]]:
        """Return the tag names of each of ``rowids`` (clauses without tags are left out)."""
        out: dict[int, set[str]] = {}
        for chunk, marks in chunks([int(r) for r in rowids]):
            rows = self._conn.execute(
                "SELECT DISTINCT c.rowid, t.name FROM clauses c JOIN tags t"
                f" ON t.clause_id = c.clause_id WHERE c.rowid IN ({marks})",
                chunk,
            )
            for rowid, name in rows:
                out.setdefault(int(rowid), set()).add(name)
        return out

    # -- filters and full text -----------------------------------------------------------
    def filter_rowids(self, filters: Filters) -> np.ndarray | None:
        """Return the sorted int64 rowids of clauses passing ``filters``; None if no filter.

        The array is read-only and cached per store generation (the last
        :data:`FILTER_CACHE` filters): one hybrid search asks for the same filter up to six
        times, and at 1M clauses a language filter is ~700k rowids."""
        if filters.is_empty():
            return None
        key = (self.generation, filters)
        cached = self._filter_cache.get(key)
        if cached is not None:
            return cached
        where, params = filter_sql(filters)
        rows = self._conn.execute(
            f"SELECT c.rowid FROM clauses c JOIN documents d ON d.doc_id = c.doc_id WHERE {where}"
            " ORDER BY c.rowid",
            params,
        )
        out = np.fromiter((r[0] for r in rows), dtype=np.int64)
        out.setflags(write=False)  # shared by every caller until the store changes
        if len(self._filter_cache) >= FILTER_CACHE:
            self._filter_cache.pop(next(iter(self._filter_cache)))
        self._filter_cache[key] = out
        return out

    def fts(self, match: str, k: int, filters: Filters) -> list[tuple[int, float]]:
        """Run an FTS5 MATCH query, best first.

        Args:
            match: an FTS5 query string (already escaped by the caller).
            k: how many rows at most.
            filters: applied in SQL before ranking.

        Returns:
            ``(rowid, score)`` pairs; score is the negated FTS5 ``bm25()`` (higher is better),
            with weights label 1, heading 4, text 1.

        Raises:
            StoreError: FTS5 refused the query.
        """
        where, params = filter_sql(filters)
        sql = (
            "SELECT c.rowid, -bm25(clauses_fts, 1.0, 4.0, 1.0) AS s FROM clauses_fts"
            " JOIN clauses c ON c.rowid = clauses_fts.rowid"
            " JOIN documents d ON d.doc_id = c.doc_id"
            f" WHERE clauses_fts MATCH ? AND {where} ORDER BY s DESC, c.rowid LIMIT ?"
        )
        try:
            rows = self._conn.execute(sql, [match, *params, min(k, MAX_LIMIT)]).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"lexical query {match!r} failed ({exc})") from exc
        return [(int(r[0]), float(r[1])) for r in rows]

    # -- statistics ----------------------------------------------------------------------
    def _tag_stats(self) -> tuple[dict[str, int], dict[str, int]]:
        """(tag counts by name, sorted; clauses with a tag by document language).

        From the per-document ``tag_summary`` written with each document (at 1M clauses the
        join over every tag took 7 s); a store with documents written before schema 4 is
        counted over the tags table as before."""
        q = self._conn.execute
        if q("SELECT 1 FROM documents WHERE tag_summary = '' LIMIT 1").fetchone() is None:
            # summed by SQLite's JSON functions (json.loads of 20k summaries took 0.3 s)
            by_name = q(
                "SELECT t.key, SUM(t.value) FROM documents d, json_each(d.tag_summary, '$.tags') t"
                " GROUP BY t.key ORDER BY t.key"
            ).fetchall()
            by_language = q(
                "SELECT language, SUM(json_extract(tag_summary, '$.tagged')) FROM documents"
                " GROUP BY language"
            ).fetchall()
            return {k: int(v) for k, v in by_name}, {k: int(v) for k, v in by_language}
        tagged = dict(
            q(
                "SELECT d.language, COUNT(DISTINCT t.clause_id) FROM tags t"
                " JOIN clauses c ON c.clause_id = t.clause_id"
                " JOIN documents d ON d.doc_id = c.doc_id GROUP BY d.language"
            ).fetchall()
        )
        counts = dict(q("SELECT name, COUNT(*) FROM tags GROUP BY name ORDER BY name").fetchall())
        return counts, tagged

    def stats(self) -> dict[str, Any]:
        """Return the DESIGN.md ``stats`` object (documents, clauses, tags, languages, ...)."""
        q = self._conn.execute
        model = self.model
        extra = self.multilingual_model
        langs = dict(q("SELECT language, COUNT(*) FROM documents GROUP BY language").fetchall())
        tag_counts, tagged = self._tag_stats()
        return {
            "documents": q("SELECT COUNT(*) FROM documents").fetchone()[0],
            "clauses": q("SELECT COUNT(*) FROM clauses").fetchone()[0],
            "vectors": self.count_vectors(),
            "tags": tag_counts,
            "languages": langs,
            "kinds": dict(q("SELECT kind, COUNT(*) FROM documents GROUP BY kind").fetchall()),
            "tagged_clauses_by_language": {lang: tagged.get(lang, 0) for lang in langs},
            "model": model[0] if model else None,
            "dimension": model[1] if model else None,
            "multilingual_model": extra[0] if extra else None,
            "multilingual_vectors": self.count_vectors(extra[0]) if extra else 0,
            "store": str(self.root),
        }
