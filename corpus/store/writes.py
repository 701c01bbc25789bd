"""The store's write path: the single-writer lock and one transaction per document (the
document, its clauses, tags and vectors)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from migralex.corpus.errors import NotFoundError, StoreError
from migralex.corpus.models import Clause, Document, Tag
from migralex.corpus.store.schema import DOC_COLS, LOCK_NAME
from migralex.corpus.store.vectors import VectorSets


class Writes(VectorSets):
    """Writes of documents (mixed into :class:`~migralex.corpus.store.Store`)."""

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

    # One transaction takes every part of a document (clauses, tags, both vector sets, what it
    # replaces): each is documented under Args; splitting the call would split the transaction.
    def write_document(  # noqa: PLR0913
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
        self._check_document_vectors(doc, len(clauses), vectors, model, multilingual)
        status = self.status_of(doc.doc_id, doc.sha256, pipeline)
        tags = list(tags)
        with self._transaction() as conn:
            for old in (doc.doc_id, *replaces):
                conn.execute("DELETE FROM documents WHERE doc_id=?", (old,))
            self._insert_document(conn, doc, pipeline, tags)
            rowids = self._insert_clauses(conn, clauses)
            self._insert_tags(conn, tags)
            shas = list(passage_shas) or [""] * len(rowids)
            if vectors is not None and model is not None:
                self._insert_vectors(conn, model[0], rowids, vectors, shas)
                self._record_role(conn, "", model)
            if multilingual is not None:
                self._insert_vectors(conn, multilingual[0][0], rowids, multilingual[1], shas)
                self._record_role(conn, "multilingual_", multilingual[0])
            self._bump_generation(conn)
        return status

    def _check_document_vectors(
        self,
        doc: Document,
        n: int,
        vectors: np.ndarray | None,
        model: tuple[str, int] | None,
        multilingual: tuple[tuple[str, int], np.ndarray] | None,
    ) -> None:
        """Refuse vectors that do not fit ``n`` clauses or the store's models.

        Raises:
            StoreError: naming ``doc``'s source file.
        """
        if multilingual is not None:
            (ml_name, ml_dim), ml_vecs = multilingual
            if ml_vecs.shape != (n, ml_dim):
                raise StoreError(
                    f"{doc.source_path}: multilingual vectors of shape {ml_vecs.shape} for "
                    f"{n} clauses of dim {ml_dim}"
                )
            self.check_multilingual_model(ml_name, ml_dim)
        if vectors is not None:
            if model is None:
                raise StoreError(f"{doc.source_path}: vectors given without their model")
            if vectors.shape != (n, model[1]):
                raise StoreError(
                    f"{doc.source_path}: vectors of shape {vectors.shape} for "
                    f"{n} clauses of dim {model[1]}"
                )
            self.check_model(*model)

    @staticmethod
    def _insert_document(
        conn: sqlite3.Connection, doc: Document, pipeline: str, tags: Sequence[Tag]
    ) -> None:
        """Insert the document row with its tag summary (tagged clauses, tags by name)."""
        by_name: dict[str, int] = {}
        for t in tags:
            by_name[t.name] = by_name.get(t.name, 0) + 1
        summary = {"tagged": len({t.clause_id for t in tags}), "tags": by_name}
        conn.execute(
            f"INSERT INTO documents({DOC_COLS}, pipeline, tag_summary)"
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

    @staticmethod
    def _insert_clauses(conn: sqlite3.Connection, clauses: Sequence[Clause]) -> list[int]:
        """Insert the clauses in order; returns their rowids."""
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
        return rowids

    @staticmethod
    def _insert_tags(conn: sqlite3.Connection, tags: Sequence[Tag]) -> None:
        conn.executemany(
            'INSERT INTO tags(clause_id, name, start, "end", text, rule, exception, negated)'
            " VALUES (?,?,?,?,?,?,?,?)",
            [
                (t.clause_id, t.name, t.start, t.end, t.text, t.rule, t.exception, int(t.negated))
                for t in tags
            ],
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
