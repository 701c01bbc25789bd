"""The store: one folder with ``migralex.sqlite`` (source of truth) and a FAISS cache file.

SQLite holds documents, clauses, tags, the clause vectors (float32 BLOBs), an FTS5 index over
clause label, heading and text, and metadata (schema version, embedding model and dimension).
The FAISS index (``vectors.faiss``) is derived from the vectors in SQLite and stamped with the
store's write generation; a stale or missing file is rebuilt, so a crash can never leave the two
out of step.

Writes happen one document per transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``): a crash or
kill mid-ingest leaves the store as it was before that document. SQLite runs in WAL mode, so
readers never see half a document. One writer at a time: :meth:`Store.writer` takes an
exclusive ``flock`` on ``.lock`` in the store folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.errors import NotFoundError, StoreError
from migralex.corpus.models import Clause, Document, Tag
from migralex.corpus.parties import party_key

SCHEMA_VERSION = 4
DB_NAME = "migralex.sqlite"
LOCK_NAME = ".lock"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    parties TEXT NOT NULL,          -- JSON list
    source_path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    pages INTEGER NOT NULL,
    text TEXT NOT NULL,
    page_starts TEXT NOT NULL,      -- JSON list of offsets
    ocr_pages TEXT NOT NULL,        -- JSON list of 1-based pages
    meta TEXT NOT NULL,             -- JSON object
    pipeline TEXT NOT NULL DEFAULT '', -- version of segmenter + tagger that made its clauses
    tag_summary TEXT NOT NULL DEFAULT '' -- JSON {"tagged": clauses with a tag, "tags": {name: n}}
);
CREATE TABLE IF NOT EXISTS clauses (
    rowid INTEGER PRIMARY KEY,
    clause_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    label TEXT NOT NULL,
    heading TEXT NOT NULL,
    path TEXT NOT NULL,             -- JSON list
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    page_start INTEGER NOT NULL,
    page_end INTEGER NOT NULL,
    language TEXT NOT NULL,
    context TEXT NOT NULL DEFAULT '[]'  -- JSON list of enclosing headings
);
CREATE INDEX IF NOT EXISTS clauses_doc ON clauses(doc_id, ordinal);
CREATE TABLE IF NOT EXISTS tags (
    clause_id TEXT NOT NULL REFERENCES clauses(clause_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    rule TEXT NOT NULL,
    exception TEXT NOT NULL DEFAULT '',
    negated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tags_clause ON tags(clause_id);
CREATE INDEX IF NOT EXISTS tags_name ON tags(name);
CREATE TABLE IF NOT EXISTS vectors (
    rowid INTEGER PRIMARY KEY REFERENCES clauses(rowid) ON DELETE CASCADE,
    vec BLOB NOT NULL,
    passage_sha TEXT NOT NULL DEFAULT ''  -- sha256 of the embedded text, for reuse
);
-- COUNT(*) of vectors reads this index, not every BLOB page (1.5 GB at 1M vectors)
CREATE INDEX IF NOT EXISTS vectors_count ON vectors(rowid);
CREATE TABLE IF NOT EXISTS extra_vectors (  -- vectors of the multilingual query model
    model TEXT NOT NULL,
    rowid INTEGER NOT NULL REFERENCES clauses(rowid) ON DELETE CASCADE,
    vec BLOB NOT NULL,
    passage_sha TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (model, rowid)
);
CREATE VIRTUAL TABLE IF NOT EXISTS clauses_fts USING fts5(
    label, heading, text, content='clauses', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS clauses_ai AFTER INSERT ON clauses BEGIN
    INSERT INTO clauses_fts(rowid, label, heading, text)
    VALUES (new.rowid, new.label, new.heading, new.text);
END;
CREATE TRIGGER IF NOT EXISTS clauses_ad AFTER DELETE ON clauses BEGIN
    INSERT INTO clauses_fts(clauses_fts, rowid, label, heading, text)
    VALUES ('delete', old.rowid, old.label, old.heading, old.text);
END;
"""

#: Indexes over columns added by migrations, created after them on every open (no-ops when
#: present). The per-document columns lie after the document text, so reading them from the
#: table follows the text's overflow pages: at 20k documents (1M clauses) 1.5 s for the tag
#: summaries and 1.2 s for the document list, against milliseconds from these covering indexes;
#: COUNT(*) of clauses reads the rowid index (0.32 s over clauses_doc at 1M).
_INDEXES = """
CREATE INDEX IF NOT EXISTS documents_tag_summary ON documents(language, tag_summary);
CREATE INDEX IF NOT EXISTS clauses_count ON clauses(rowid);
CREATE INDEX IF NOT EXISTS documents_list
    ON documents(doc_id, title, kind, language, parties, source_path, pages, ocr_pages);
"""

_DOC_COLS = (
    "doc_id, title, kind, language, parties, source_path, sha256, pages, text, page_starts, "
    "ocr_pages, meta"
)
#: Columns added after schema 1, created on open when missing (migrations are additive).
_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("clauses", "context", "TEXT NOT NULL DEFAULT '[]'"),
    ("documents", "pipeline", "TEXT NOT NULL DEFAULT ''"),
    ("vectors", "passage_sha", "TEXT NOT NULL DEFAULT ''"),
    ("documents", "tag_summary", "TEXT NOT NULL DEFAULT ''"),
)

_CLAUSE_COLS = (
    'rowid, clause_id, doc_id, ordinal, label, heading, path, text, start, "end", '
    "page_start, page_end, language, context"
)


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


#: Largest ``LIMIT`` bound (SQLite integers are 64-bit; a larger k raised OverflowError).
_MAX_LIMIT = 2**62

#: Filters whose rowids :meth:`Store.filter_rowids` keeps.
_FILTER_CACHE = 8

#: Most ids bound in one ``IN (...)`` list (SQLite's default limit on parameters is 999).
_CHUNK = 900


def _chunks(ids: Sequence[Any]) -> Iterator[tuple[list[Any], str]]:
    """Yield ``(ids, "?,?,...")`` slices of at most :data:`_CHUNK` ids for ``IN`` queries."""
    for i in range(0, len(ids), _CHUNK):
        chunk = list(ids[i : i + _CHUNK])
        yield chunk, ",".join("?" * len(chunk))


def _clause_from_row(row: Sequence[Any]) -> Clause:
    return Clause(
        clause_id=row[1],
        doc_id=row[2],
        ordinal=row[3],
        label=row[4],
        heading=row[5],
        path=tuple(json.loads(row[6])),
        text=row[7],
        start=row[8],
        end=row[9],
        page_start=row[10],
        page_end=row[11],
        language=row[12],
        context=tuple(json.loads(row[13])),
    )


def _document_from_row(row: Sequence[Any]) -> Document:
    return Document(
        doc_id=row[0],
        title=row[1],
        kind=row[2],
        language=row[3],
        parties=tuple(json.loads(row[4])),
        source_path=row[5],
        sha256=row[6],
        pages=row[7],
        text=row[8],
        page_starts=tuple(json.loads(row[9])),
        ocr_pages=tuple(json.loads(row[10])),
        meta=json.loads(row[11]),
    )


class Store:
    """A migralex store folder.

    Args:
        root: the store folder; created if missing.

    Raises:
        StoreError: the folder cannot be created, the database is not a migralex store, or its
            schema version is newer than this migralex.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._filter_cache: dict[tuple[int, Filters], np.ndarray] = {}
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root}: is a file, not a store folder; use another --store")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.root / DB_NAME, isolation_level=None, check_same_thread=False
            )
            self._conn.create_function("party_key", 1, party_key, deterministic=True)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.root}: cannot open store ({exc})") from exc
        version = self.get_meta("schema_version")
        if version is not None and int(version) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.root}: store schema {version} is newer than this migralex "
                f"({SCHEMA_VERSION}); upgrade migralex"
            )
        if version is None or int(version) < SCHEMA_VERSION:
            self._migrate()
        try:
            self._conn.executescript(_INDEXES)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.root}: cannot open store ({exc})") from exc

    def _migrate(self) -> None:
        """Bring an older store to :data:`SCHEMA_VERSION` in one transaction."""
        with self._transaction() as conn:
            for table, column, decl in _ADDED_COLUMNS:
                have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the store's single-writer lock for the duration of the block.

        Raises:
            StoreError: another process holds the lock.
        """
        fh = open(self.root / LOCK_NAME, "a+")  # noqa: SIM115 - closed in finally
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreError(
                    f"{self.root}: another migralex process is writing to this store"
                ) from exc
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")

    # -- metadata ------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """Return the metadata value for ``key``, or None."""
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def generation(self) -> int:
        """A counter bumped by every write of documents; stamps the FAISS cache."""
        return int(self.get_meta("generation") or 0)

    @property
    def model(self) -> tuple[str, int] | None:
        """The (model name, dimension) the stored vectors were made with, or None if empty."""
        name, dim = self.get_meta("model"), self.get_meta("dimension")
        return None if name is None or dim is None else (name, int(dim))

    @property
    def multilingual_model(self) -> tuple[str, int] | None:
        """The (model name, dimension) of the store's second vector set, made for questions in
        languages the main model does not read (see :mod:`migralex.index.search`), or None."""
        name, dim = self.get_meta("multilingual_model"), self.get_meta("multilingual_dimension")
        return None if name is None or dim is None else (name, int(dim))

    @property
    def adapted_model(self) -> tuple[str, int] | None:
        """The (vector set name, dimension) of the store's domain-adapted English vector set
        (every clause embedded by the encoder trained on this store, see
        :mod:`migralex.index.encoder`), or None."""
        name, dim = self.get_meta("adapted_model"), self.get_meta("adapted_dimension")
        return None if name is None or dim is None else (name, int(dim))

    def set_adapted_vectors(
        self,
        model: tuple[str, int],
        rowids: Sequence[int],
        vectors: np.ndarray,
        passage_shas: Sequence[str] = (),
    ) -> None:
        """Replace the adapted vector set (:attr:`adapted_model`) in one transaction; bumps
        :attr:`generation`.

        Args:
            model: (vector set name, dim); not the name of the main or multilingual set.
            rowids: the clauses.
            vectors: float32 ``(len(rowids), dim)``, L2-normalised.
            passage_shas: sha256 of each embedded text ("" each when not given).

        Raises:
            StoreError: wrong shape, or a name the store's other vector sets use.
        """
        if vectors.shape != (len(rowids), model[1]):
            raise StoreError(
                f"{self.root}: adapted vectors of shape {vectors.shape} for "
                f"{len(rowids)} clauses of dim {model[1]}"
            )
        others = {m[0] for m in (self.model, self.multilingual_model) if m is not None}
        if model[0] in others:
            raise StoreError(f"{self.root}: vector set name {model[0]!r} is already in use")
        shas = list(passage_shas) or [""] * len(rowids)
        with self._transaction() as conn:
            old = self.get_meta("adapted_model")
            if old is not None:
                conn.execute("DELETE FROM extra_vectors WHERE model = ?", (old,))
            self._insert_extra(conn, model[0], rowids, vectors, shas)
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('adapted_model', ?),"
                " ('adapted_dimension', ?)",
                (model[0], str(model[1])),
            )
            self._bump_generation(conn)

    def drop_adapted_vectors(self) -> None:
        """Remove the adapted vector set (if any); bumps :attr:`generation`."""
        old = self.get_meta("adapted_model")
        if old is None:
            return
        with self._transaction() as conn:
            conn.execute("DELETE FROM extra_vectors WHERE model = ?", (old,))
            conn.execute("DELETE FROM meta WHERE key IN ('adapted_model', 'adapted_dimension')")
            self._bump_generation(conn)

    def check_multilingual_model(self, name: str, dimension: int) -> None:
        """Refuse a second vector set of another model than the one the store holds.

        Raises:
            StoreError: the store holds multilingual vectors of another model or dimension.
        """
        current = self.multilingual_model
        if current is not None and self.count_vectors(current[0]) and current != (name, dimension):
            raise StoreError(
                f"{self.root}: store holds multilingual vectors of model {current[0]!r} "
                f"(dim {current[1]}); cannot add vectors of {name!r} (dim {dimension})"
            )

    def check_model(self, name: str, dimension: int) -> None:
        """Refuse to mix vectors of different models.

        Raises:
            StoreError: the store holds vectors of another model or dimension.
        """
        current = self.model
        if current is not None and self.count_vectors() and current != (name, dimension):
            raise StoreError(
                f"{self.root}: store holds vectors of model {current[0]!r} (dim {current[1]}); "
                f"cannot add vectors of {name!r} (dim {dimension}). Use another --store or "
                f"the same model"
            )

    # -- writes --------------------------------------------------------------------------
    def status_of(self, doc_id: str, sha256: str, pipeline: str = "") -> str:
        """Return "added", "updated" or "unchanged" for a document about to be written.

        A document is unchanged only if both its file hash and the pipeline version that
        made its clauses and tags are the same.
        """
        row = self._conn.execute(
            "SELECT sha256, pipeline FROM documents WHERE doc_id=?", (doc_id,)
        ).fetchone()
        if row is None:
            return "added"
        return "unchanged" if (row[0], row[1]) == (sha256, pipeline) else "updated"

    def write_document(
        self,
        doc: Document,
        clauses: Sequence[Clause],
        tags: Iterable[Tag],
        vectors: np.ndarray | None,
        model: tuple[str, int] | None = None,
        replaces: Sequence[str] = (),
        pipeline: str = "",
        passage_shas: Sequence[str] = (),
        multilingual: tuple[tuple[str, int], np.ndarray] | None = None,
    ) -> str:
        """Write one document with its clauses, tags and vectors in one transaction.

        An existing document with the same ``doc_id`` is replaced (its clauses, tags and
        vectors removed); if anything fails, the store is left as it was.

        Args:
            doc: the document.
            clauses: its clauses, in order.
            tags: their tags.
            vectors: float32 ``(len(clauses), dim)`` L2-normalised, or None to store no vectors.
            model: (model name, dim) of ``vectors``; required with vectors.
            replaces: doc ids removed in the same transaction (an older version of the same
                file stored under another content-hash id).
            pipeline: version of the segmenter and tagger that made the clauses and tags.
            passage_shas: sha256 of the text embedded for each clause (lets a later
                re-ingest reuse vectors of unchanged clauses).
            multilingual: ``((model name, dim), float32 (len(clauses), dim))``: the clauses'
                vectors of the store's multilingual model (:attr:`multilingual_model`), or
                None.

        Returns:
            "added" or "updated".

        Raises:
            StoreError: vectors do not match the clauses or the store's models.
        """
        if multilingual is not None:
            (ml_name, ml_dim), ml_vecs = multilingual
            if ml_vecs.shape != (len(clauses), ml_dim):
                raise StoreError(
                    f"{doc.source_path}: multilingual vectors of shape {ml_vecs.shape} for "
                    f"{len(clauses)} clauses of dim {ml_dim}"
                )
            self.check_multilingual_model(ml_name, ml_dim)
        if vectors is not None:
            if model is None:
                raise StoreError(f"{doc.source_path}: vectors given without their model")
            if vectors.shape != (len(clauses), model[1]):
                raise StoreError(
                    f"{doc.source_path}: vectors of shape {vectors.shape} for "
                    f"{len(clauses)} clauses of dim {model[1]}"
                )
            self.check_model(*model)
        status = self.status_of(doc.doc_id, doc.sha256, pipeline)
        with self._transaction() as conn:
            for old in (doc.doc_id, *replaces):
                conn.execute("DELETE FROM documents WHERE doc_id=?", (old,))
            tags = list(tags)
            by_name: dict[str, int] = {}
            for t in tags:
                by_name[t.name] = by_name.get(t.name, 0) + 1
            summary = {"tagged": len({t.clause_id for t in tags}), "tags": by_name}
            conn.execute(
                f"INSERT INTO documents({_DOC_COLS}, pipeline, tag_summary)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    doc.doc_id,
                    doc.title,
                    doc.kind,
                    doc.language,
                    json.dumps(list(doc.parties)),
                    doc.source_path,
                    doc.sha256,
                    doc.pages,
                    doc.text,
                    json.dumps(list(doc.page_starts)),
                    json.dumps(list(doc.ocr_pages)),
                    json.dumps(dict(doc.meta)),
                    pipeline,
                    json.dumps(summary, sort_keys=True),
                ),
            )
            rowids: list[int] = []
            for c in clauses:
                cur = conn.execute(
                    "INSERT INTO clauses(clause_id, doc_id, ordinal, label, heading, path, text,"
                    ' start, "end", page_start, page_end, language, context)'
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        c.clause_id,
                        c.doc_id,
                        c.ordinal,
                        c.label,
                        c.heading,
                        json.dumps(list(c.path)),
                        c.text,
                        c.start,
                        c.end,
                        c.page_start,
                        c.page_end,
                        c.language,
                        json.dumps(list(c.context)),
                    ),
                )
                rowids.append(int(cur.lastrowid or 0))
            conn.executemany(
                'INSERT INTO tags(clause_id, name, start, "end", text, rule, exception, negated)'
                " VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        t.clause_id,
                        t.name,
                        t.start,
                        t.end,
                        t.text,
                        t.rule,
                        t.exception,
                        int(t.negated),
                    )
                    for t in tags
                ],
            )
            shas = list(passage_shas) or [""] * len(rowids)
            if vectors is not None and model is not None:
                vecs = np.ascontiguousarray(vectors, dtype=np.float32)
                conn.executemany(
                    "INSERT INTO vectors(rowid, vec, passage_sha) VALUES (?, ?, ?)",
                    [(rid, vecs[i].tobytes(), shas[i]) for i, rid in enumerate(rowids)],
                )
                conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('model', ?), ('dimension', ?)",
                    (model[0], str(model[1])),
                )
            if multilingual is not None:
                self._insert_multilingual(conn, multilingual[0], rowids, multilingual[1], shas)
            self._bump_generation(conn)
        return status

    @staticmethod
    def _insert_extra(
        conn: sqlite3.Connection,
        model: str,
        rowids: Sequence[int],
        vectors: np.ndarray,
        shas: Sequence[str],
    ) -> None:
        """Write rows of the ``extra_vectors`` table (a second or third vector set)."""
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        conn.executemany(
            "INSERT OR REPLACE INTO extra_vectors(model, rowid, vec, passage_sha)"
            " VALUES (?, ?, ?, ?)",
            [(model, rid, vecs[i].tobytes(), shas[i]) for i, rid in enumerate(rowids)],
        )

    @staticmethod
    def _insert_multilingual(
        conn: sqlite3.Connection,
        model: tuple[str, int],
        rowids: Sequence[int],
        vectors: np.ndarray,
        shas: Sequence[str],
    ) -> None:
        Store._insert_extra(conn, model[0], rowids, vectors, shas)
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('multilingual_model', ?),"
            " ('multilingual_dimension', ?)",
            (model[0], str(model[1])),
        )

    def rowids_without_multilingual(self, model: str) -> list[int]:
        """The rowids of clauses that have no vector of the multilingual ``model``, ascending
        (clauses of documents stored before the store had a multilingual vector set)."""
        rows = self._conn.execute(
            "SELECT c.rowid FROM clauses c WHERE NOT EXISTS (SELECT 1 FROM extra_vectors e"
            " WHERE e.model = ? AND e.rowid = c.rowid) ORDER BY c.rowid",
            (model,),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def add_multilingual_vectors(
        self,
        model: tuple[str, int],
        rowids: Sequence[int],
        vectors: np.ndarray,
        passage_shas: Sequence[str] = (),
    ) -> None:
        """Store multilingual vectors of existing clauses in one transaction (filling in a
        store made before it had them); bumps :attr:`generation`.

        Args:
            model: (model name, dim).
            rowids: the clauses.
            vectors: float32 ``(len(rowids), dim)``, L2-normalised.
            passage_shas: sha256 of each embedded text ("" each when not given).

        Raises:
            StoreError: wrong shape, or the store holds another multilingual model.
        """
        if vectors.shape != (len(rowids), model[1]):
            raise StoreError(
                f"{self.root}: multilingual vectors of shape {vectors.shape} for "
                f"{len(rowids)} clauses of dim {model[1]}"
            )
        self.check_multilingual_model(*model)
        shas = list(passage_shas) or [""] * len(rowids)
        with self._transaction() as conn:
            self._insert_multilingual(conn, model, rowids, vectors, shas)
            self._bump_generation(conn)

    @classmethod
    def _bump_generation(cls, conn: sqlite3.Connection) -> None:
        """Advance :attr:`generation` inside the open transaction ``conn``."""
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('generation', ?)",
            (str(cls._generation_in(conn) + 1),),
        )

    @staticmethod
    def _generation_in(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def reusable_vectors(self, doc_ids: Sequence[str], model: str) -> dict[str, np.ndarray]:
        """Return stored vectors of the given documents keyed by the sha256 of their passage,
        if they were made with ``model`` (the main or the multilingual model; else an empty
        dict)."""
        if not doc_ids:
            return {}
        table, params = self._vector_source(model)
        if not table:
            return {}
        marks = ",".join("?" * len(doc_ids))
        rows = self._conn.execute(
            f"SELECT v.passage_sha, v.vec FROM {table} v JOIN clauses c ON c.rowid = v.rowid"
            f" WHERE c.doc_id IN ({marks}) AND v.passage_sha != ''"
            + (" AND v.model = ?" if params else ""),
            [*doc_ids, *params],
        ).fetchall()
        return {r[0]: np.frombuffer(r[1], dtype=np.float32) for r in rows}

    def find_by_source(self, source_path: str) -> list[str]:
        """Return the ids of documents read from ``source_path``, sorted."""
        rows = self._conn.execute(
            "SELECT doc_id FROM documents WHERE source_path=? ORDER BY doc_id", (source_path,)
        ).fetchall()
        return [r[0] for r in rows]

    def count_clauses(self, doc_id: str | None = None) -> int:
        """Number of clauses of one document, or of the whole store."""
        if doc_id is None:
            return int(self._conn.execute("SELECT COUNT(*) FROM clauses").fetchone()[0])
        return int(
            self._conn.execute("SELECT COUNT(*) FROM clauses WHERE doc_id=?", (doc_id,)).fetchone()[
                0
            ]
        )

    def delete_document(self, doc_id: str) -> None:
        """Remove a document with its clauses, tags and vectors.

        Raises:
            NotFoundError: no such document.
        """
        with self._transaction() as conn:
            cur = conn.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            if cur.rowcount == 0:
                raise NotFoundError(f"no document {doc_id!r} in {self.root}")
            self._bump_generation(conn)

    # -- reads ---------------------------------------------------------------------------
    def documents(self) -> list[Document]:
        """Return every document, ordered by doc_id."""
        rows = self._conn.execute(f"SELECT {_DOC_COLS} FROM documents ORDER BY doc_id").fetchall()
        return [_document_from_row(r) for r in rows]

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
            f"SELECT {_DOC_COLS} FROM documents WHERE doc_id=?", (doc_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no document {doc_id!r} in {self.root}")
        return _document_from_row(row)

    def clauses(self, doc_id: str | None = None) -> list[Clause]:
        """Return the clauses of one document (or all), in document order."""
        if doc_id is None:
            rows = self._conn.execute(
                f"SELECT {_CLAUSE_COLS} FROM clauses ORDER BY doc_id, ordinal"
            ).fetchall()
        else:
            rows = self._conn.execute(
                f"SELECT {_CLAUSE_COLS} FROM clauses WHERE doc_id=? ORDER BY ordinal", (doc_id,)
            ).fetchall()
        return [_clause_from_row(r) for r in rows]

    def get_clause(self, clause_id: str) -> Clause:
        """Return one clause.

        Raises:
            NotFoundError: no such clause.
        """
        row = self._conn.execute(
            f"SELECT {_CLAUSE_COLS} FROM clauses WHERE clause_id=?", (clause_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no clause {clause_id!r} in {self.root}")
        return _clause_from_row(row)

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
        for chunk, marks in _chunks(ids):
            for row in self._conn.execute(
                f"SELECT {_CLAUSE_COLS} FROM clauses WHERE rowid IN ({marks})", chunk
            ):
                out[int(row[0])] = _clause_from_row(row)
        return out

    def tags_for(self, clause_ids: Iterable[str]) -> dict[str, list[Tag]]:
        """Return the tags of the given clauses, keyed by clause id, in offset order."""
        ids = list(dict.fromkeys(clause_ids))
        out: dict[str, list[Tag]] = {cid: [] for cid in ids}
        for chunk, marks in _chunks(ids):
            rows = self._conn.execute(
                'SELECT clause_id, name, start, "end", text, rule, exception, negated FROM tags'
                f' WHERE clause_id IN ({marks}) ORDER BY clause_id, start, "end", name',
                chunk,
            )
            for r in rows:
                out[r[0]].append(Tag(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])))
        return out

    def doc_facts(self, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Return ``{doc_id: (title, kind)}`` for the given documents."""
        ids = list(dict.fromkeys(doc_ids))
        out: dict[str, tuple[str, str]] = {}
        for chunk, marks in _chunks(ids):
            for r in self._conn.execute(
                f"SELECT doc_id, title, kind FROM documents WHERE doc_id IN ({marks})", chunk
            ):
                out[r[0]] = (r[1], r[2])
        return out

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

    def clause_vectors(self, doc_id: str) -> np.ndarray | None:
        """Return the main-model vectors of one document's clauses in document order, float32
        ``(n_clauses, dim)``, or None when any of its clauses has no stored vector."""
        model = self.model
        rows = self._conn.execute(
            "SELECT v.vec FROM clauses c LEFT JOIN vectors v ON v.rowid = c.rowid"
            " WHERE c.doc_id=? ORDER BY c.ordinal",
            (doc_id,),
        ).fetchall()
        if model is None or any(r[0] is None for r in rows):
            return None
        mat = np.empty((len(rows), model[1]), dtype=np.float32)
        for i, r in enumerate(rows):
            mat[i] = np.frombuffer(r[0], dtype=np.float32)
        return mat

    def filter_rowids(self, filters: Filters) -> np.ndarray | None:
        """Return the sorted int64 rowids of clauses passing ``filters``; None if no filter.

        The array is read-only and cached per store generation (the last
        :data:`_FILTER_CACHE` filters): one hybrid search asks for the same filter up to six
        times, and at 1M clauses a language filter is ~700k rowids."""
        if filters.is_empty():
            return None
        key = (self.generation, filters)
        cached = self._filter_cache.get(key)
        if cached is not None:
            return cached
        where, params = self._filter_sql(filters)
        rows = self._conn.execute(
            f"SELECT c.rowid FROM clauses c JOIN documents d ON d.doc_id = c.doc_id WHERE {where}"
            " ORDER BY c.rowid",
            params,
        )
        out = np.fromiter((r[0] for r in rows), dtype=np.int64)
        out.setflags(write=False)  # shared by every caller until the store changes
        if len(self._filter_cache) >= _FILTER_CACHE:
            self._filter_cache.pop(next(iter(self._filter_cache)))
        self._filter_cache[key] = out
        return out

    @staticmethod
    def _filter_sql(filters: Filters) -> tuple[str, list[Any]]:
        conds: list[str] = ["1=1"]
        params: list[Any] = []

        def any_of(column: str, values: tuple[str, ...]) -> None:
            conds.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)

        if filters.kinds:
            any_of("d.kind", filters.kinds)
        if filters.languages:
            any_of("c.language", filters.languages)
        if filters.doc_ids:
            any_of("c.doc_id", filters.doc_ids)
        if filters.exclude_doc_ids:
            conds.append(f"c.doc_id NOT IN ({','.join('?' * len(filters.exclude_doc_ids))})")
            params.extend(filters.exclude_doc_ids)
        if filters.parties:
            # Whole parties, one key per country (corpus.parties): "Ireland" must not match
            # "United Kingdom of Great Britain and Northern Ireland" (a substring of the JSON
            # text), while "Latvia" matches "Republic of Latvia".
            # Both as uncorrelated subqueries, run once: correlated EXISTS ran per clause (the
            # tag one scanned every tag of that name for each clause: 1.6 s at 3k clauses).
            keys = sorted({party_key(p) for p in filters.parties})
            conds.append(
                "d.doc_id IN (SELECT d2.doc_id FROM documents d2, json_each(d2.parties) p"
                f" WHERE party_key(p.value) IN ({','.join('?' * len(keys))}))"
            )
            params.extend(keys)
        if filters.tags:
            marks = ",".join("?" * len(filters.tags))
            conds.append(
                f"c.clause_id IN (SELECT t.clause_id FROM tags t WHERE t.name IN ({marks}))"
            )
            params.extend(filters.tags)
        return " AND ".join(conds), params

    def fts(self, match: str, k: int, filters: Filters) -> list[tuple[int, float]]:
        """Run an FTS5 MATCH query, best first.

        Args:
            match: an FTS5 query string (already escaped by the caller).
            k: how many rows at most.
            filters: applied in SQL before ranking.

        Returns:
            ``(rowid, score)`` pairs; score is the negated FTS5 ``bm25()`` (higher is better),
            with weights label 1, heading 4, text 1.
        """
        where, params = self._filter_sql(filters)
        sql = (
            "SELECT c.rowid, -bm25(clauses_fts, 1.0, 4.0, 1.0) AS s FROM clauses_fts"
            " JOIN clauses c ON c.rowid = clauses_fts.rowid"
            " JOIN documents d ON d.doc_id = c.doc_id"
            f" WHERE clauses_fts MATCH ? AND {where} ORDER BY s DESC, c.rowid LIMIT ?"
        )
        try:
            rows = self._conn.execute(sql, [match, *params, min(k, _MAX_LIMIT)]).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"lexical query {match!r} failed ({exc})") from exc
        return [(int(r[0]), float(r[1])) for r in rows]

    def tag_names_by_rowid(self, rowids: Sequence[int]) -> dict[int, set[str]]:
        """Return the tag names of each of ``rowids`` (clauses without tags are left out)."""
        out: dict[int, set[str]] = {}
        for chunk, marks in _chunks([int(r) for r in rowids]):
            rows = self._conn.execute(
                "SELECT DISTINCT c.rowid, t.name FROM clauses c JOIN tags t"
                f" ON t.clause_id = c.clause_id WHERE c.rowid IN ({marks})",
                chunk,
            )
            for rowid, name in rows:
                out.setdefault(int(rowid), set()).add(name)
        return out

    def vector_model(self, model: str | None = None) -> tuple[str, int] | None:
        """The (model name, dimension) of a vector set: the main one (``model`` None or the
        main model's name), the multilingual or the adapted one; None when the store has no
        such set."""
        main = self.model
        if model is None or (main is not None and main[0] == model):
            return main
        for extra in (self.multilingual_model, self.adapted_model):
            if extra is not None and extra[0] == model:
                return extra
        return None

    def _vector_source(self, model: str | None) -> tuple[str, tuple[str, ...]]:
        """The table holding the vectors of ``model`` (None: the main model) and the model
        parameter its queries filter on; ``("", ())`` when the store has no such vectors."""
        main = self.model
        if model is None or (main is not None and main[0] == model):
            return "vectors", ()
        if self.vector_model(model) is not None:
            return "extra_vectors", (model,)
        return "", ()

    def count_vectors(self, model: str | None = None) -> int:
        """Number of stored clause vectors of ``model`` (default: the main model)."""
        table, params = self._vector_source(model)
        if not table:
            return 0
        where = " WHERE model = ?" if params else ""
        return int(self._conn.execute(f"SELECT COUNT(*) FROM {table}{where}", params).fetchone()[0])

    def vectors(self, model: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return all stored vectors of ``model`` (default: the main model) as
        ``(rowids int64 (n,), matrix float32 (n, dim))``; empty when the store has none."""
        table, params = self._vector_source(model)
        dim = (self.vector_model(model) or ("", 0))[1]
        where = " WHERE model = ?" if params else ""
        n = self.count_vectors(model) if table else 0
        ids = np.empty(n, dtype=np.int64)
        mat = np.empty((n, dim), dtype=np.float32)
        read = 0
        if n:  # row by row: a list of every BLOB first doubled the peak memory at 1M vectors
            cur = self._conn.execute(
                f"SELECT rowid, vec FROM {table}{where} ORDER BY rowid", params
            )
            for rid, vec in cur:
                if read == n:  # rows written since the count: a newer generation, read then
                    break
                ids[read] = rid
                mat[read] = np.frombuffer(vec, dtype=np.float32)
                read += 1
        return ids[:read], mat[:read]

    def vectors_by_rowid(self, rowids: Sequence[int], model: str | None = None) -> np.ndarray:
        """Return the stored vectors of ``rowids`` (in that order) of ``model`` (default: the
        main model), float32 ``(len(rowids), dim)``; a rowid without a vector gets a zero row."""
        table, params = self._vector_source(model)
        dim = (self.vector_model(model) or ("", 0))[1]
        ids = [int(r) for r in rowids]
        out = np.zeros((len(ids), dim), dtype=np.float32)
        if not table or not ids:
            return out
        where = " AND model = ?" if params else ""
        found: dict[int, bytes] = {}
        for chunk, marks in _chunks(ids):
            for rid, vec in self._conn.execute(
                f"SELECT rowid, vec FROM {table} WHERE rowid IN ({marks}){where}",
                [*chunk, *params],
            ):
                found[int(rid)] = vec
        for i, rid in enumerate(ids):
            vec = found.get(rid)
            if vec is not None:
                out[i] = np.frombuffer(vec, dtype=np.float32)
        return out

    def vector_fingerprints(self, model: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(rowids int64 (n,), fingerprints uint64 (n, 2))`` of the stored vectors of
        ``model``, ordered by rowid: the first 16 bytes of each vector, enough to tell that a
        rowid now holds another vector (SQLite reuses the rowids of deleted trailing rows)
        without reading every vector. Used to extend a vector index in place."""
        table, params = self._vector_source(model)
        if not table:
            return np.empty(0, dtype=np.int64), np.empty((0, 2), dtype=np.uint64)
        where = " WHERE model = ?" if params else ""
        rows = self._conn.execute(
            f"SELECT rowid, substr(vec, 1, 16) FROM {table}{where} ORDER BY rowid", params
        ).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        heads = b"".join(bytes(r[1]).ljust(16, b"\0") for r in rows)
        return ids, np.frombuffer(heads, dtype=np.uint64).reshape(len(rows), 2)

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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
