"""The store: one folder with ``migralex.sqlite`` (source of truth) and a FAISS cache file.

SQLite holds documents, clauses, tags, the clause vectors of every vector set (float32 BLOBs in
one table keyed by model), an FTS5 index over clause label, heading and text, and metadata
(schema version, embedding models and dimensions). The FAISS index (``vectors.faiss``) is
derived from the vectors in SQLite and stamped with the store's write generation; a stale or
missing file is rebuilt, so a crash can never leave the two out of step.

Writes happen one document per transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``): a crash or
kill mid-ingest leaves the store as it was before that document. SQLite runs in WAL mode, so
readers never see half a document. One writer at a time: :meth:`Store.writer` takes an
exclusive ``flock`` on ``.lock`` in the store folder.

Where a change goes:

* :mod:`~migralex.corpus.store.schema` — tables, indexes, migrations, row conversions;
* :mod:`~migralex.corpus.store.core` — opening the database, metadata, transactions;
* :mod:`~migralex.corpus.store.writes` — the writer lock and writing documents;
* :mod:`~migralex.corpus.store.vectors` — the vector sets (main, multilingual, adapted);
* :mod:`~migralex.corpus.store.queries` — reads, :class:`Filters` as SQL, FTS5, stats.
"""

from __future__ import annotations

import os
from pathlib import Path

from migralex.corpus.store.queries import Filters, Queries, filter_sql
from migralex.corpus.store.schema import DB_NAME, LOCK_NAME, SCHEMA_VERSION
from migralex.corpus.store.writes import Writes

__all__ = [
    "DB_NAME",
    "LOCK_NAME",
    "SCHEMA_VERSION",
    "Filters",
    "Store",
    "atomic_write_bytes",
    "filter_sql",
]


class Store(Writes, Queries):
    """A migralex store folder: its reads (:class:`~.queries.Queries`), writes
    (:class:`~.writes.Writes`) and vector sets (:class:`~.vectors.VectorSets`).

    Args:
        root: the store folder; created if missing.

    Raises:
        StoreError: the folder cannot be created, the database is not a migralex store, or its
            schema version is newer than this migralex.
    """

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename.

    Raises:
        OSError: the folder cannot be written; ``path`` is unchanged and the temporary file is
            removed.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
