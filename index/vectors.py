"""The FAISS vector index over clause vectors, derived from the store and cached on disk.

The index maps clause rowids (the store's integer keys) to vectors. Up to :data:`FLAT_LIMIT`
clauses it is exact inner product (``IndexFlatIP``; vectors are L2-normalised, so scores are
cosine similarities in [-1, 1]), which measured p50 10 ms at 100k clauses on 2 cores
(DESIGN.md); above that HNSW32 (approximate, recall ≈ .96 at 1M). Filters are applied inside the search
with an ``IDSelectorBatch``, so a filtered query ranks among the allowed clauses only, never
after a truncated top-k.

The cache file ``vectors.faiss`` sits beside a JSON manifest (model, dimension, count, store
generation, faiss version); a manifest that does not match the store means the cache is stale and
it is rebuilt from the vectors in SQLite. The store's multilingual vector set
(:attr:`~migralex.corpus.store.Store.multilingual_model`) has its own index and cache files,
``vectors-<model>.faiss`` and ``.json``.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.errors import StoreError
from migralex.corpus.store import Store, atomic_write_bytes

INDEX_FILE = "vectors.faiss"
MANIFEST_FILE = "vectors.json"
#: Up to this many vectors the index is exact (flat); above it HNSW32 (DESIGN.md: flat p50 10 ms
#: at 100k on 2 cores; HNSW32 at 1M recall .96, p95 1.9 ms, 1.7 GB).
FLAT_LIMIT = 100_000
#: HNSW beam width at query time (faiss default 16 loses recall under filters).
HNSW_EF_SEARCH = 128


def index_type_for(count: int) -> str:
    """Return the FAISS factory string used for ``count`` vectors: "Flat" or "HNSW32,Flat"."""
    return "Flat" if count <= FLAT_LIMIT else "HNSW32,Flat"


def cache_names(model: str | None) -> tuple[str, str]:
    """The cache file names (index, manifest) of a vector set: :data:`INDEX_FILE` and
    :data:`MANIFEST_FILE` for the main model (None), ``vectors-<model>.faiss`` / ``.json``
    (model name reduced to ``[A-Za-z0-9._-]``) for the multilingual one."""
    if model is None:
        return INDEX_FILE, MANIFEST_FILE
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model)
    return f"vectors-{safe}.faiss", f"vectors-{safe}.json"


class VectorIndex:
    """Exact inner-product search over a store's clause vectors.

    Args:
        store: the store whose vectors are indexed.
        threads: FAISS OpenMP threads (1 keeps p95 low on a busy 2-core machine).
        model: the vector set: None for the main model, else the store's multilingual model.
    """

    def __init__(self, store: Store, threads: int = 1, model: str | None = None) -> None:
        import faiss

        faiss.omp_set_num_threads(max(1, threads))
        self.store = store
        self.model = model
        self._index: Any = None
        self._generation = -1
        self._manifest_type = ""

    def _manifest(self) -> dict[str, Any]:
        import faiss

        model = self.store.vector_model(self.model)
        count = self.store.count_vectors(self.model)
        return {
            "model": model[0] if model else None,
            "dimension": model[1] if model else None,
            "generation": self.store.generation,
            "count": count,
            "faiss": faiss.__version__,
            "type": f"IDMap2,{index_type_for(count)}",
        }

    def index(self) -> Any:
        """Return the FAISS index, loading the cache or rebuilding it when stale.

        Raises:
            StoreError: the store holds no vectors.
        """
        import faiss

        gen = self.store.generation
        if self._index is not None and self._generation == gen:
            return self._index
        manifest = self._manifest()
        if not manifest["count"]:
            raise StoreError(f"{self.store.root}: the store holds no clause vectors; ingest first")
        root = self.store.root
        index_file, manifest_file = cache_names(self.model)
        cached = None
        try:
            on_disk = json.loads((root / manifest_file).read_text())
            if on_disk == manifest:
                cached = faiss.read_index(str(root / index_file))
        except (OSError, ValueError, RuntimeError):
            cached = None
        if cached is None:
            cached = self._build()
            try:
                atomic_write_bytes(root / index_file, faiss.serialize_index(cached).tobytes())
                atomic_write_bytes(root / manifest_file, json.dumps(manifest).encode())
            except OSError:
                pass  # a read-only store still searches, from memory
        self._index, self._generation = cached, gen
        self._manifest_type = str(manifest["type"])
        return cached

    def _build(self) -> Any:
        import faiss

        ids, mat = self.store.vectors(self.model)
        model = self.store.vector_model(self.model)
        dim = model[1] if model else mat.shape[1]
        inner = faiss.index_factory(dim, index_type_for(len(ids)), faiss.METRIC_INNER_PRODUCT)
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(mat, ids)
        return index

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Return the ``k`` nearest clauses to one query vector.

        Args:
            query: float32 ``(dim,)`` or ``(1, dim)``, L2-normalised.
            k: how many results at most.
            allowed: sorted int64 rowids the search is restricted to; None for all.

        Returns:
            ``(rowid, cosine similarity)`` pairs, best first; ties in rowid order.
        """
        import faiss

        index = self.index()
        if allowed is not None and len(allowed) == 0:
            return []
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if q.shape[1] != index.d:
            raise StoreError(
                f"query vector has dimension {q.shape[1]}, the store's index {index.d}"
            )
        k = max(1, min(k, index.ntotal if allowed is None else len(allowed)))
        selector = None if allowed is None else faiss.IDSelectorBatch(allowed.astype(np.int64))
        params: Any = None
        if "HNSW" in self._manifest_type:
            # Filtered HNSW search walks past rejected ids; a wider beam keeps k results.
            hnsw_params: Any = getattr(faiss, "SearchParametersHNSW")  # noqa: B009 - untyped stub
            params = hnsw_params(sel=selector, efSearch=max(HNSW_EF_SEARCH, k))
        elif selector is not None:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = index.search(q, k, params=params)
        out = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        out.sort(key=lambda x: (-x[1], x[0]))
        return out

    def reconstruct(self, rowid: int) -> np.ndarray:
        """Return the stored vector of one clause, float32 ``(dim,)``."""
        return np.asarray(self.index().reconstruct(int(rowid)), dtype=np.float32)

    def reconstruct_many(self, rowids: Sequence[int]) -> np.ndarray:
        """Return the stored vectors of several clauses, float32 ``(len(rowids), dim)``.

        A rowid the index does not hold (its clause was written or replaced by another
        process between the ranking that named it and this call) is looked up in the index
        of the store's current generation; a clause that is gone by then gets a zero row.
        (A search during an ingest raised faiss's "key not found" here.)
        """
        index = self.index()
        out = np.zeros((len(rowids), index.d), dtype=np.float32)
        for i, rid in enumerate(rowids):
            try:
                out[i] = index.reconstruct(int(rid))
            except RuntimeError:
                current = self.index()
                with contextlib.suppress(RuntimeError):
                    out[i] = current.reconstruct(int(rid))
        return out


def index_files(root: Path) -> list[Path]:
    """Return the FAISS cache files of a store folder (those of every vector set present)."""
    extra = sorted(p for p in root.glob("vectors-*") if p.suffix in (".faiss", ".json"))
    return [root / INDEX_FILE, root / MANIFEST_FILE, *extra]
