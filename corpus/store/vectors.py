"""The store's vector sets: one table keyed by the model that made each set.

A store has up to three sets, each named in the metadata by its role: the main set
(``model``/``dimension``: every clause, the default query model), the multilingual set
(``multilingual_model``: questions in languages the main model does not read, see
:mod:`migralex.index.search`) and the domain-adapted set (``adapted_model``,
:mod:`migralex.index.encoder`). The rows of all three live in ``vectors(model, rowid, vec,
passage_sha)``, so every read below takes the set's name and a new role needs no new table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from migralex.corpus.errors import StoreError
from migralex.corpus.store.core import StoreCore
from migralex.corpus.store.schema import chunks


class VectorSets(StoreCore):
    """Reads and writes of the store's vector sets (mixed into :class:`~migralex.corpus.store.Store`)."""

    def _role(self, role: str) -> tuple[str, int] | None:
        """(set name, dimension) recorded for ``role`` ("" main, "multilingual_",
        "adapted_"), or None."""
        name = self.get_meta(f"{role}model")
        dim = self.get_meta(f"{role}dimension")
        return None if name is None or dim is None else (name, int(dim))

    @property
    def model(self) -> tuple[str, int] | None:
        """The (model name, dimension) the stored vectors were made with, or None if empty."""
        return self._role("")

    @property
    def multilingual_model(self) -> tuple[str, int] | None:
        """The (model name, dimension) of the store's second vector set, made for questions in
        languages the main model does not read (see :mod:`migralex.index.search`), or None."""
        return self._role("multilingual_")

    @property
    def adapted_model(self) -> tuple[str, int] | None:
        """The (vector set name, dimension) of the store's domain-adapted English vector set
        (every clause embedded by the encoder trained on this store, see
        :mod:`migralex.index.encoder`), or None."""
        return self._role("adapted_")

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

    def _set_name(self, model: str | None) -> str | None:
        """The name the rows of vector set ``model`` (None: the main one) carry; None when
        the store has no such set."""
        found = self.vector_model(model)
        return None if found is None else found[0]

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

    # -- reads ---------------------------------------------------------------------------
    def count_vectors(self, model: str | None = None) -> int:
        """Number of stored clause vectors of ``model`` (default: the main model)."""
        name = self._set_name(model)
        if name is None:
            return 0
        row = self._conn.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", (name,))
        return int(row.fetchone()[0])

    def vectors(self, model: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return all stored vectors of ``model`` (default: the main model) as
        ``(rowids int64 (n,), matrix float32 (n, dim))``; empty when the store has none."""
        found = self.vector_model(model)
        name, dim = found if found is not None else (None, 0)
        n = self.count_vectors(model) if name is not None else 0
        ids = np.empty(n, dtype=np.int64)
        mat = np.empty((n, dim), dtype=np.float32)
        read = 0
        if n:  # row by row: a list of every BLOB first doubled the peak memory at 1M vectors
            cur = self._conn.execute(
                "SELECT rowid, vec FROM vectors WHERE model = ? ORDER BY rowid", (name,)
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
        found = self.vector_model(model)
        ids = [int(r) for r in rowids]
        out = np.zeros((len(ids), found[1] if found else 0), dtype=np.float32)
        if found is None or not ids:
            return out
        got: dict[int, bytes] = {}
        for chunk, marks in chunks(ids):
            for rid, vec in self._conn.execute(
                f"SELECT rowid, vec FROM vectors WHERE rowid IN ({marks}) AND model = ?",
                [*chunk, found[0]],
            ):
                got[int(rid)] = vec
        for i, rid in enumerate(ids):
            vec = got.get(rid)
            if vec is not None:
                out[i] = np.frombuffer(vec, dtype=np.float32)
        return out

    def vector_fingerprints(self, model: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(rowids int64 (n,), fingerprints uint64 (n, 2))`` of the stored vectors of
        ``model``, ordered by rowid: the first 16 bytes of each vector, enough to tell that a
        rowid now holds another vector (SQLite reuses the rowids of deleted trailing rows)
        without reading every vector. Used to extend a vector index in place."""
        name = self._set_name(model)
        if name is None:
            return np.empty(0, dtype=np.int64), np.empty((0, 2), dtype=np.uint64)
        rows = self._conn.execute(
            "SELECT rowid, substr(vec, 1, 16) FROM vectors WHERE model = ? ORDER BY rowid",
            (name,),
        ).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        heads = b"".join(bytes(r[1]).ljust(16, b"\0") for r in rows)
        return ids, np.frombuffer(heads, dtype=np.uint64).reshape(len(rows), 2)

    def clause_vectors(self, doc_id: str) -> np.ndarray | None:
        """Return the main-model vectors of one document's clauses in document order, float32
        ``(n_clauses, dim)``, or None when any of its clauses has no stored vector."""
        model = self.model
        rows = self._conn.execute(
            "SELECT v.vec FROM clauses c LEFT JOIN vectors v ON v.rowid = c.rowid"
            " AND v.model = ? WHERE c.doc_id=? ORDER BY c.ordinal",
            (model[0] if model else None, doc_id),
        ).fetchall()
        if model is None or any(r[0] is None for r in rows):
            return None
        mat = np.empty((len(rows), model[1]), dtype=np.float32)
        for i, r in enumerate(rows):
            mat[i] = np.frombuffer(r[0], dtype=np.float32)
        return mat

    def reusable_vectors(self, doc_ids: Sequence[str], model: str) -> dict[str, np.ndarray]:
        """Return stored vectors of the given documents keyed by the sha256 of their passage,
        if they were made with ``model`` (the name of one of the store's vector sets; else an
        empty dict)."""
        name = self._set_name(model)
        if not doc_ids or name is None:
            return {}
        marks = ",".join("?" * len(doc_ids))
        rows = self._conn.execute(
            "SELECT v.passage_sha, v.vec FROM vectors v JOIN clauses c ON c.rowid = v.rowid"
            f" WHERE c.doc_id IN ({marks}) AND v.passage_sha != '' AND v.model = ?",
            [*doc_ids, name],
        ).fetchall()
        return {r[0]: np.frombuffer(r[1], dtype=np.float32) for r in rows}

    def rowids_without_multilingual(self, model: str) -> list[int]:
        """The rowids of clauses that have no vector of the multilingual ``model``, ascending
        (clauses of documents stored before the store had a multilingual vector set)."""
        rows = self._conn.execute(
            "SELECT c.rowid FROM clauses c WHERE NOT EXISTS (SELECT 1 FROM vectors e"
            " WHERE e.model = ? AND e.rowid = c.rowid) ORDER BY c.rowid",
            (model,),
        ).fetchall()
        return [int(r[0]) for r in rows]

    # -- writes --------------------------------------------------------------------------
    @staticmethod
    def _insert_vectors(
        conn: sqlite3.Connection,
        model: str,
        rowids: Sequence[int],
        vectors: np.ndarray,
        shas: Sequence[str],
    ) -> None:
        """Write rows of vector set ``model`` inside the open transaction ``conn`` (a row of
        the same set and clause is replaced)."""
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        conn.executemany(
            "INSERT OR REPLACE INTO vectors(model, rowid, vec, passage_sha) VALUES (?, ?, ?, ?)",
            [(model, rid, vecs[i].tobytes(), shas[i]) for i, rid in enumerate(rowids)],
        )

    @staticmethod
    def _record_role(conn: sqlite3.Connection, role: str, model: tuple[str, int]) -> None:
        """Record ``model`` as the (name, dimension) of ``role`` ("" main, "multilingual_",
        "adapted_") inside the open transaction ``conn``."""
        conn.execute(
            f"INSERT OR REPLACE INTO meta(key, value) VALUES ('{role}model', ?),"
            f" ('{role}dimension', ?)",
            (model[0], str(model[1])),
        )

    def _check_shape(self, what: str, model: tuple[str, int], n: int, vectors: np.ndarray) -> None:
        if vectors.shape != (n, model[1]):
            raise StoreError(
                f"{self.root}: {what} vectors of shape {vectors.shape} for "
                f"{n} clauses of dim {model[1]}"
            )

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
        self._check_shape("multilingual", model, len(rowids), vectors)
        self.check_multilingual_model(*model)
        shas = list(passage_shas) or [""] * len(rowids)
        with self._transaction() as conn:
            self._insert_vectors(conn, model[0], rowids, vectors, shas)
            self._record_role(conn, "multilingual_", model)
            self._bump_generation(conn)

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
        self._check_shape("adapted", model, len(rowids), vectors)
        others = {m[0] for m in (self.model, self.multilingual_model) if m is not None}
        if model[0] in others:
            raise StoreError(f"{self.root}: vector set name {model[0]!r} is already in use")
        shas = list(passage_shas) or [""] * len(rowids)
        with self._transaction() as conn:
            old = self.get_meta("adapted_model")
            if old is not None:
                conn.execute("DELETE FROM vectors WHERE model = ?", (old,))
            self._insert_vectors(conn, model[0], rowids, vectors, shas)
            self._record_role(conn, "adapted_", model)
            self._bump_generation(conn)

    def drop_adapted_vectors(self) -> None:
        """Remove the adapted vector set (if any); bumps :attr:`generation`."""
        old = self.get_meta("adapted_model")
        if old is None:
            return
        with self._transaction() as conn:
            conn.execute("DELETE FROM vectors WHERE model = ?", (old,))
            conn.execute("DELETE FROM meta WHERE key IN ('adapted_model', 'adapted_dimension')")
            self._bump_generation(conn)
