"""The store's SQLite schema, its migrations and the row <-> data model conversions.

Schema versions: 1 the first; 2-4 added columns (:data:`ADDED_COLUMNS`) and the per-document
tag summary; 5 keeps every vector set (main, multilingual, adapted) in one ``vectors`` table
keyed by ``(model, rowid)``, where schema 4 had the main set in ``vectors`` and the others in
``extra_vectors`` (:func:`migrate` moves the rows; the vectors themselves are not touched).
Migrations are additive and run in one transaction on open.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from migralex.corpus.models import Clause, Document

SCHEMA_VERSION = 5
DB_NAME = "migralex.sqlite"
LOCK_NAME = ".lock"

#: The vector table of schema 5: one row per (vector set, clause).
VECTORS_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    model TEXT NOT NULL,            -- the vector set: the name of the model that made it
    rowid INTEGER NOT NULL REFERENCES clauses(rowid) ON DELETE CASCADE,
    vec BLOB NOT NULL,              -- float32, L2-normalised
    passage_sha TEXT NOT NULL DEFAULT '',  -- sha256 of the embedded text, for reuse
    PRIMARY KEY (model, rowid)
);
"""

SCHEMA = (
    """
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
"""
    + VECTORS_TABLE.format(name="vectors")
    + """
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
)

#: Indexes over columns added by migrations, created after them on every open (no-ops when
#: present). The per-document columns lie after the document text, so reading them from the
#: table follows the text's overflow pages: at 20k documents (1M clauses) 1.5 s for the tag
#: summaries and 1.2 s for the document list, against milliseconds from these covering indexes;
#: COUNT(*) of clauses reads the rowid index (0.32 s over clauses_doc at 1M). ``vectors_clause``
#: serves the cascade from a deleted clause to its vectors (the primary key starts with the
#: model); COUNT(*) of one vector set reads the primary key, not every BLOB page.
INDEXES = """
CREATE INDEX IF NOT EXISTS documents_tag_summary ON documents(language, tag_summary);
CREATE INDEX IF NOT EXISTS clauses_count ON clauses(rowid);
CREATE INDEX IF NOT EXISTS documents_list
    ON documents(doc_id, title, kind, language, parties, source_path, pages, ocr_pages);
CREATE INDEX IF NOT EXISTS vectors_clause ON vectors(rowid);
"""

DOC_COLS = (
    "doc_id, title, kind, language, parties, source_path, sha256, pages, text, page_starts, "
    "ocr_pages, meta"
)
CLAUSE_COLS = (
    'rowid, clause_id, doc_id, ordinal, label, heading, path, text, start, "end", '
    "page_start, page_end, language, context"
)
#: Columns added after schema 1, created on open when missing (migrations are additive).
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("clauses", "context", "TEXT NOT NULL DEFAULT '[]'"),
    ("documents", "pipeline", "TEXT NOT NULL DEFAULT ''"),
    ("vectors", "passage_sha", "TEXT NOT NULL DEFAULT ''"),
    ("documents", "tag_summary", "TEXT NOT NULL DEFAULT ''"),
)

#: Most ids bound in one ``IN (...)`` list (SQLite's default limit on parameters is 999).
CHUNK = 900


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database of an older store to :data:`SCHEMA_VERSION`, inside the caller's
    open transaction: add missing columns, move the vector sets into one table, record the
    version.

    Raises:
        sqlite3.Error: the database cannot be changed (the caller rolls back).
    """
    for table, column, decl in ADDED_COLUMNS:
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
    _merge_vector_tables(conn)
    conn.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )


def _merge_vector_tables(conn: sqlite3.Connection) -> None:
    """Schema 4 -> 5: the main set's ``vectors(rowid, vec, passage_sha)`` rows get the main
    model's name, the ``extra_vectors`` rows keep theirs, all in one ``vectors`` table keyed
    by ``(model, rowid)``. A no-op on a schema-5 table."""
    if "model" in {r[1] for r in conn.execute("PRAGMA table_info(vectors)")}:
        return
    row = conn.execute("SELECT value FROM meta WHERE key='model'").fetchone()
    main = "" if row is None else str(row[0])
    conn.execute(VECTORS_TABLE.format(name="vectors_v5"))
    conn.execute(
        "INSERT INTO vectors_v5(model, rowid, vec, passage_sha)"
        " SELECT ?, rowid, vec, passage_sha FROM vectors",
        (main,),
    )
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "extra_vectors" in tables:
        conn.execute(
            "INSERT OR REPLACE INTO vectors_v5(model, rowid, vec, passage_sha)"
            " SELECT model, rowid, vec, passage_sha FROM extra_vectors"
        )
        conn.execute("DROP TABLE extra_vectors")
    conn.execute("DROP TABLE vectors")
    conn.execute("ALTER TABLE vectors_v5 RENAME TO vectors")


def chunks(ids: Sequence[Any]) -> Iterator[tuple[list[Any], str]]:
    """Yield ``(ids, "?,?,...")`` slices of at most :data:`CHUNK` ids for ``IN`` queries."""
    for i in range(0, len(ids), CHUNK):
        chunk = list(ids[i : i + CHUNK])
        yield chunk, ",".join("?" * len(chunk))


def clause_from_row(row: Sequence[Any]) -> Clause:
    """A :class:`Clause` from a row of :data:`CLAUSE_COLS`."""
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


def document_from_row(row: Sequence[Any]) -> Document:
    """A :class:`Document` from a row of :data:`DOC_COLS`."""
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
