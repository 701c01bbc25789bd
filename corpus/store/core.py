"""The store's connection: opening (and migrating) the database, metadata, transactions."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from migralex.corpus.errors import StoreError
from migralex.corpus.parties import party_key
from migralex.corpus.store.schema import DB_NAME, INDEXES, SCHEMA, SCHEMA_VERSION, migrate

if TYPE_CHECKING:
    import numpy as np

    from migralex.corpus.store.queries import Filters


class StoreCore:
    """An open store database: the connection, its metadata and its transactions.

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
            self._conn.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.root}: cannot open store ({exc})") from exc
        version = self.get_meta("schema_version")
        if version is not None and int(version) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.root}: store schema {version} is newer than this migralex "
                f"({SCHEMA_VERSION}); upgrade migralex"
            )
        try:
            if version is None or int(version) < SCHEMA_VERSION:
                with self._transaction() as conn:
                    migrate(conn)
            self._conn.executescript(INDEXES)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.root}: cannot open store ({exc})") from exc

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back when the block raises."""
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
