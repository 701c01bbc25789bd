"""The FAISS vector index over clause vectors, derived from the store and cached on disk.

The index maps clause rowids (the store's integer keys) to vectors; vectors are L2-normalised,
so scores are cosine similarities in [-1, 1]. Its type follows the number of vectors
(:func:`index_type_for`):

- up to :data:`FLAT_LIMIT` exact inner product (``IDMap2,Flat``);
- above it an inverted file with 8-bit scalar-quantised residuals (``IVF<nlist>,SQ8``, about
  ``dim`` bytes a vector instead of ``4 * dim``), trained on the store's own vectors. The number
  of lists probed (``nprobe``) is calibrated at build time: the smallest power of two that
  reaches :data:`RECALL_TARGET` recall@10 against exact search on :data:`CALIBRATION_QUERIES`
  queries made of store vectors (:func:`calibration_queries`). The best candidates are then re-scored with the exact vectors from
  SQLite, so the scores returned are exact cosines whatever the index.

The choice between flat, IVF-Flat, IVF-SQ8 and HNSW and the crossover are measured by
``python -m migralex.evaluation.speed --index-types`` (see :data:`FLAT_LIMIT`).

Filters are applied inside the search with an ID selector (``IDSelectorBatch``; a rowid bitmap
for IVF), so a filtered query ranks
among the allowed clauses only, never after a truncated top-k. With an IVF index a filter that
keeps a share ``f`` of the clauses probes ``nprobe / f`` lists (the allowed clauses of the probed
lists are as many as unfiltered; up to every list), and one that keeps at most
:data:`SMALL_FILTER` clauses is searched exactly over those clauses' vectors.

The cache file ``vectors.faiss`` sits beside a JSON manifest (model, dimension, count, store
generation, faiss version, index type, nprobe); a manifest that does not match the store means
the cache is stale. A stale flat index is rebuilt from the vectors in SQLite; a stale IVF index
whose size is still within a factor 2 of the one it was trained on is extended in place: the
vectors that are gone or changed are removed and the new ones added, told apart by the rowid
fingerprints kept beside it (``vectors.ids.npz``, :meth:`Store.vector_fingerprints`). The
store's multilingual vector set (:attr:`~migralex.corpus.store.Store.multilingual_model`) has
its own index and cache files, ``vectors-<model>.faiss`` and ``.json``.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.errors import StoreError
from migralex.corpus.store import Store, atomic_write_bytes

INDEX_FILE = "vectors.faiss"
MANIFEST_FILE = "vectors.json"
IDS_FILE = "vectors.ids.npz"
#: Up to this many vectors the index is exact (flat); above it IVF-SQ8. Measured crossover
#: (``speed --index-types``, MiniLM clause vectors of the corpus varied, 1 thread, k=100): flat
#: p95 7.4 ms at 30k, 21 ms at 100k, IVF-SQ8 under 1 ms at both; flat is kept while its p95
#: stays near 10 ms (a hybrid query runs up to three vector searches).
FLAT_LIMIT = 50_000
#: Recall@10 against exact search the IVF ``nprobe`` is calibrated to reach on the calibration
#: queries: .98, a margin over the .97 wanted for real questions (at 100k, nprobe 32 gave the
#: calibration queries .9785 and the benchmark questions .964).
RECALL_TARGET = 0.98
#: The calibrated nprobe is multiplied by this (capped at nlist): on 100k vectors varied from the
#: full corpus's, the calibration reached .9975 at 64 lists where the benchmark questions got
#: .967; at 128 they got .984 (3.5 ms a query). More re-scored candidates did not help.
NPROBE_MARGIN = 2
#: Calibration queries (a seeded sample).
CALIBRATION_QUERIES = 200
#: A calibration query is the sum of this many random store vectors, renormalised: harder
#: for IVF than real questions (the English benchmark questions embedded by MiniLM) at both
#: sizes measured, so the nprobe it picks holds for questions. Recall@10 at nprobe 16 / 32 / 64:
#: 100k vectors varied from the corpus's (512 lists): questions .960 / .993 / 1.0, sums of 5
#: .902 / .968 / .994; 1M (2048 lists): questions .947 / .971 / .971, sums of 5 .957 / .987 /
#: .994, sums of 3 .993 / .998 / 1.0 (too easy at 1M: it picked 16). A store vector plus
#: isotropic noise was far too easy at any noise (.98 at nprobe 2 where questions got .62).
CALIBRATION_MIX = 5
#: A filter keeping at most this many clauses is searched exactly over their vectors (read
#: from SQLite: 14 ms for 1,839 at 100k, where probing every list took ~4); a larger one probes
#: ``nprobe / share`` lists.
SMALL_FILTER = 256
#: IVF candidates per requested result that are re-scored with the exact vectors.
RERANK_FACTOR = 2
#: The IVF training sample: this many vectors per list (faiss asks for >= 39).
TRAIN_PER_LIST = 40
#: Kept for evaluation/retrieval.py's older synthetic benchmark of HNSW.
HNSW_EF_SEARCH = 128


def nlist_for(count: int) -> int:
    """The number of IVF lists for ``count`` vectors: the power of two nearest to
    ``2 * sqrt(count)`` (1M -> 2048, 200k -> 1024), at least 16."""
    return max(16, 2 ** round(math.log2(2 * math.sqrt(max(1, count)))))


def index_type_for(count: int) -> str:
    """Return the FAISS factory string used for ``count`` vectors: "Flat" up to
    :data:`FLAT_LIMIT`, else ``"IVF<nlist>,SQ8"`` (:func:`nlist_for`)."""
    return "Flat" if count <= FLAT_LIMIT else f"IVF{nlist_for(count)},SQ8"


def cache_names(model: str | None) -> tuple[str, str]:
    """The cache file names (index, manifest) of a vector set: :data:`INDEX_FILE` and
    :data:`MANIFEST_FILE` for the main model (None), ``vectors-<model>.faiss`` / ``.json``
    (model name reduced to ``[A-Za-z0-9._-]``) for the multilingual one."""
    if model is None:
        return INDEX_FILE, MANIFEST_FILE
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model)
    return f"vectors-{safe}.faiss", f"vectors-{safe}.json"


def ids_name(model: str | None) -> str:
    """The fingerprint file of a vector set's IVF index (:data:`IDS_FILE` for the main one)."""
    return IDS_FILE if model is None else cache_names(model)[0].replace(".faiss", ".ids.npz")


def _top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of one row of scores, best first, ties by id."""
    if len(scores) > k:
        part = np.argpartition(-scores, k - 1)[:k]
        scores, ids = scores[part], ids[part]
    order = np.lexsort((ids, -scores))
    return scores[order], ids[order]


def exact_knn(queries: np.ndarray, mat: np.ndarray, k: int, chunk: int = 65_536) -> np.ndarray:
    """Row positions of the ``k`` largest inner products of each query with ``mat``.

    Args:
        queries: float32 ``(q, dim)``.
        mat: float32 ``(n, dim)``.
        k: neighbours per query.
        chunk: rows of ``mat`` multiplied at once (bounds the memory to ``q * chunk`` floats).

    Returns:
        int64 ``(q, min(k, n))`` positions in ``mat``, best first.
    """
    k = min(k, len(mat))
    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 0), dtype=np.int64)
    for lo in range(0, len(mat), chunk):
        s = queries @ mat[lo : lo + chunk].T
        kk = min(k, s.shape[1])
        part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        best_s = np.concatenate([best_s, np.take_along_axis(s, part, 1)], axis=1)
        best_i = np.concatenate([best_i, part + lo], axis=1)
        keep = np.argsort(-best_s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(best_s, keep, 1), np.take_along_axis(best_i, keep, 1)
    return best_i


def calibration_queries(mat: np.ndarray, n: int = CALIBRATION_QUERIES, seed: int = 0) -> np.ndarray:
    """``n`` calibration queries: each the sum of :data:`CALIBRATION_MIX` store vectors drawn
    at random (seeded), renormalised: float32 ``(n, dim)``."""
    rng = np.random.default_rng(seed)
    q = mat[rng.integers(0, len(mat), (n, CALIBRATION_MIX))].sum(axis=1)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def ivf_search(
    index: Any,
    query: np.ndarray,
    k: int,
    nprobe: int,
    allowed: np.ndarray | None,
    exact: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Search an IVF index and re-score its candidates exactly.

    Args:
        index: a trained ``faiss.IndexIVF`` holding rowids as ids, with a direct map.
        query: float32 ``(1, dim)``.
        k: results wanted.
        nprobe: lists probed without a filter (scaled by the allowed share with one).
        allowed: sorted int64 rowids to restrict to, or None.
        exact: rowids -> their exact float32 vectors ``(len, dim)`` (zero rows for none).

    Returns:
        ``(scores, rowids)`` of at most ``k`` results, best first, ties by rowid; scores are
        exact inner products.
    """
    import faiss

    if allowed is not None and len(allowed) <= SMALL_FILTER:
        cand = allowed  # all of them, exactly (decoding 15k SQ8 vectors one by one: 45 ms)
    else:
        probe = nprobe
        sel = None
        bitmap = None
        if allowed is not None:
            probe = math.ceil(nprobe * index.ntotal / max(1, len(allowed)))
            # a bitmap over the rowids: building an IDSelectorBatch of 700k ids took 50 ms
            mask = np.zeros(int(allowed[-1]) + 1, dtype=bool)
            mask[allowed] = True
            bitmap = np.packbits(mask, bitorder="little")
            sel = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))  # bytes, bits
        ivf_params: Any = getattr(faiss, "SearchParametersIVF")  # noqa: B009 - untyped stub
        params = ivf_params(sel=sel, nprobe=min(index.nlist, probe))
        _, ids = index.search(query, min(index.ntotal, k * RERANK_FACTOR), params=params)
        del bitmap  # kept alive until here: the selector points into it
        cand = ids[0][ids[0] >= 0]
    if not len(cand):
        return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64)
    scores = exact(cand) @ query[0]
    return _top_k(scores, np.asarray(cand, dtype=np.int64), k)


def build_ivf(
    ids: np.ndarray,
    mat: np.ndarray,
    factory: str,
    threads: int = 2,
    target: float = RECALL_TARGET,
    seed: int = 0,
) -> tuple[Any, dict[str, Any]]:
    """Train and fill an IVF index on ``mat`` and calibrate its ``nprobe``.

    Args:
        ids: int64 ``(n,)`` rowids, sorted.
        mat: float32 ``(n, dim)`` L2-normalised vectors, rows matching ``ids``.
        factory: e.g. ``"IVF2048,SQ8"`` (any IVF factory string).
        threads: OpenMP threads for training and adding (search uses its own setting).
        target: recall@10 against exact the calibrated ``nprobe`` reaches.
        seed: training sample and calibration queries.

    Returns:
        ``(index, info)``: info has ``nprobe`` (the calibrated one times
        :data:`NPROBE_MARGIN`), ``recall`` (calibration recall@10 before the margin),
        ``train_seconds``, ``add_seconds``, ``trained_count``.
    """
    import faiss

    faiss.omp_set_num_threads(max(1, threads))
    t0 = time.perf_counter()
    index = faiss.index_factory(mat.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.seed = seed
    rng = np.random.default_rng(seed)
    n_train = min(len(mat), TRAIN_PER_LIST * ivf.nlist)
    sample = mat[np.sort(rng.choice(len(mat), n_train, replace=False))]
    index.train(sample)
    del sample
    t1 = time.perf_counter()
    for lo in range(0, len(mat), 100_000):
        index.add_with_ids(mat[lo : lo + 100_000], ids[lo : lo + 100_000])
    ivf.set_direct_map_type(getattr(faiss, "DirectMap").Hashtable)  # noqa: B009 - untyped stub
    t2 = time.perf_counter()
    queries = calibration_queries(mat, seed=seed)
    truth = ids[exact_knn(queries, mat, 10)]
    pos = {int(r): i for i, r in enumerate(ids)}

    def exact(rowids: np.ndarray) -> np.ndarray:
        return mat[[pos[int(r)] for r in rowids]]

    nprobe, recall = ivf.nlist, 1.0
    probe = 1
    while probe <= ivf.nlist:
        found = [ivf_search(index, q[None, :], 10, probe, None, exact)[1] for q in queries]
        got = float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))
        if got >= target:
            nprobe, recall = min(ivf.nlist, probe * NPROBE_MARGIN), got
            break
        probe *= 2
    faiss.omp_set_num_threads(1)
    info = {
        "nprobe": nprobe,
        "recall": round(recall, 4),
        "train_seconds": round(t1 - t0, 2),
        "add_seconds": round(t2 - t1, 2),
        "trained_count": len(mat),
    }
    return index, info


class VectorIndex:
    """Nearest-neighbour search over a store's clause vectors (exact or IVF-SQ8 by size).

    Args:
        store: the store whose vectors are indexed.
        threads: FAISS OpenMP threads at query time (1 keeps p95 low on a busy 2-core
            machine); building an IVF index uses 2.
        model: the vector set: None for the main model, else the store's multilingual model.
    """

    def __init__(self, store: Store, threads: int = 1, model: str | None = None) -> None:
        import faiss

        faiss.omp_set_num_threads(max(1, threads))
        self.threads = max(1, threads)
        self.store = store
        self.model = model
        self._index: Any = None
        self._generation = -1
        self._manifest_type = ""
        self._nprobe = 0
        #: How the last :meth:`index` call got its index: "memory", "cache", "extended",
        #: "built"; and the seconds it took.
        self.last_load: tuple[str, float] = ("", 0.0)

    def _manifest(self) -> dict[str, Any]:
        """The manifest of a fresh index for the store as it is (type by size)."""
        import faiss

        model = self.store.vector_model(self.model)
        count = self.store.count_vectors(self.model)
        kind = index_type_for(count)
        return {
            "model": model[0] if model else None,
            "dimension": model[1] if model else None,
            "generation": self.store.generation,
            "count": count,
            "faiss": faiss.__version__,
            "type": "IDMap2,Flat" if kind == "Flat" else kind,
        }

    @staticmethod
    def _fits(on_disk: dict[str, Any], wanted: dict[str, Any]) -> bool:
        """Whether a cached index of ``on_disk``'s type may serve ``wanted``'s store: the same
        model, dimension and faiss, and a flat index up to :data:`FLAT_LIMIT`, an IVF one
        within a factor 2 of the count it was trained on."""
        if any(on_disk.get(k) != wanted[k] for k in ("model", "dimension", "faiss")):
            return False
        kind = str(on_disk.get("type", ""))
        if wanted["count"] <= FLAT_LIMIT:
            return kind == "IDMap2,Flat"
        trained = int(on_disk.get("trained_count") or 0)
        return kind.startswith("IVF") and trained / 2 <= wanted["count"] <= trained * 2

    def index(self) -> Any:
        """Return the FAISS index, loading the cache, extending it or rebuilding it when stale.

        Raises:
            StoreError: the store holds no vectors.
        """
        import faiss

        gen = self.store.generation
        if self._index is not None and self._generation == gen:
            self.last_load = ("memory", 0.0)
            return self._index
        t0 = time.perf_counter()
        manifest = self._manifest()
        if not manifest["count"]:
            raise StoreError(f"{self.store.root}: the store holds no clause vectors; ingest first")
        root = self.store.root
        index_file, manifest_file = cache_names(self.model)
        cached, how = None, "cache"
        try:
            on_disk = json.loads((root / manifest_file).read_text())
            if self._fits(on_disk, manifest):
                cached = faiss.read_index(str(root / index_file))
                same = all(on_disk.get(k) == manifest[k] for k in ("generation", "count"))
                if str(on_disk["type"]).startswith("IVF"):
                    manifest = {**manifest, **{k: on_disk[k] for k in _IVF_KEYS}}
                    if not same:
                        cached, how = self._extend(cached), "extended"
                elif not same:
                    cached = None
        except (OSError, ValueError, RuntimeError, KeyError):
            cached = None
        if cached is None:
            cached, extra = self._build(manifest["type"])
            manifest.update(extra)
            how = "built"
        if how != "cache":
            self._save(cached, manifest)
        self._index, self._generation = cached, gen
        self._manifest_type = str(manifest["type"])
        self._nprobe = int(manifest.get("nprobe") or 0)
        faiss.omp_set_num_threads(self.threads)
        self.last_load = (how, time.perf_counter() - t0)
        return cached

    def _save(self, index: Any, manifest: dict[str, Any]) -> None:
        """Write the index, its manifest and (IVF) its fingerprints; a read-only store skips."""
        import faiss

        root = self.store.root
        index_file, manifest_file = cache_names(self.model)
        try:
            if str(manifest["type"]).startswith("IVF"):
                ids, fps = self.store.vector_fingerprints(self.model)
                tmp = root / f".{ids_name(self.model)}.tmp.npz"
                np.savez(tmp, ids=ids, fps=fps)
                tmp.replace(root / ids_name(self.model))
            atomic_write_bytes(root / index_file, faiss.serialize_index(index).tobytes())
            atomic_write_bytes(root / manifest_file, json.dumps(manifest).encode())
        except OSError:
            pass  # a read-only store still searches, from memory

    def _build(self, kind: str) -> tuple[Any, dict[str, Any]]:
        """A new index of ``kind`` over every stored vector, and the manifest keys it adds."""
        import faiss

        t0 = time.perf_counter()
        ids, mat = self.store.vectors(self.model)
        model = self.store.vector_model(self.model)
        dim = model[1] if model else mat.shape[1]
        if kind.startswith("IVF"):
            index, info = build_ivf(ids, mat, kind, threads=2)
            info["build_seconds"] = round(time.perf_counter() - t0, 2)
            return index, info
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if len(ids):
            index.add_with_ids(mat, ids)
        return index, {"build_seconds": round(time.perf_counter() - t0, 2)}

    def _extend(self, index: Any) -> Any:
        """Bring a cached IVF index up to the store: remove the rowids that are gone or hold
        another vector now, add the new ones (by :meth:`Store.vector_fingerprints`). Returns
        None (rebuild) when the fingerprint file is missing or more than half the vectors
        changed."""
        import faiss

        old = np.load(self.store.root / ids_name(self.model))
        old_ids, old_fps = old["ids"], old["fps"]
        ids, fps = self.store.vector_fingerprints(self.model)
        common, io, inew = np.intersect1d(old_ids, ids, assume_unique=True, return_indices=True)
        changed = common[(old_fps[io] != fps[inew]).any(axis=1)]
        gone = np.union1d(np.setdiff1d(old_ids, ids, assume_unique=True), changed)
        new = np.union1d(np.setdiff1d(ids, old_ids, assume_unique=True), changed)
        if len(gone) + len(new) > len(ids) / 2:
            return None
        if len(gone):
            index.remove_ids(faiss.IDSelectorArray(gone.astype(np.int64)))
        for lo in range(0, len(new), 50_000):
            chunk = new[lo : lo + 50_000].astype(np.int64)
            index.add_with_ids(self.store.vectors_by_rowid(chunk, self.model), chunk)
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
            ``(rowid, cosine similarity)`` pairs, best first; ties in rowid order. Exact for a
            flat index; for an IVF index the exact scores of its best candidates.
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
        if self._manifest_type.startswith("IVF"):
            allowed_ids = None if allowed is None else allowed.astype(np.int64)
            exact = lambda r: self.store.vectors_by_rowid(r, self.model)  # noqa: E731
            scores, ids = ivf_search(index, q, k, self._nprobe, allowed_ids, exact)
            return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]
        selector = None if allowed is None else faiss.IDSelectorBatch(allowed.astype(np.int64))
        params: Any = None
        if selector is not None:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = index.search(q, k, params=params)
        out = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        out.sort(key=lambda x: (-x[1], x[0]))
        return out

    def reconstruct(self, rowid: int) -> np.ndarray:
        """Return the stored vector of one clause, float32 ``(dim,)``."""
        return self.reconstruct_many([rowid])[0]

    def reconstruct_many(self, rowids: Sequence[int]) -> np.ndarray:
        """Return the stored vectors of several clauses, float32 ``(len(rowids), dim)``.

        A rowid the index does not hold (its clause was written or replaced by another
        process between the ranking that named it and this call) is looked up in the index
        of the store's current generation; a clause that is gone by then gets a zero row.
        (A search during an ingest raised faiss's "key not found" here.) With an IVF index
        the exact vectors are read from the store.
        """
        index = self.index()
        if self._manifest_type.startswith("IVF"):
            return self.store.vectors_by_rowid(rowids, self.model)
        out = np.zeros((len(rowids), index.d), dtype=np.float32)
        for i, rid in enumerate(rowids):
            try:
                out[i] = index.reconstruct(int(rid))
            except RuntimeError:
                current = self.index()
                with contextlib.suppress(RuntimeError):
                    out[i] = current.reconstruct(int(rid))
        return out


#: Manifest keys an IVF index keeps from its build while it is extended.
_IVF_KEYS = ("type", "nprobe", "recall", "trained_count", "train_seconds", "add_seconds")


def index_summary(store: Store, model: str | None = None) -> dict[str, Any]:
    """Describe a vector set's index without loading FAISS (for ``migralex stats``).

    Args:
        store: the store.
        model: the vector set (None: the main one).

    Returns:
        ``{}`` when the store has no such vectors, else ``{"type", "vectors", "nprobe",
        "bytes", "cached", "current"}``: the cached index's type and nprobe (None for flat),
        ``bytes`` the size of its file, which is the vectors' memory once loaded (an IVF index
        adds a rowid hash map of some 40 bytes a vector); without a cache (``cached`` false)
        the type :func:`index_type_for` would build and its estimated size. ``current``: the
        cache is of the store's present generation (else the next search extends or rebuilds
        it).
    """
    vm = store.vector_model(model)
    count = store.count_vectors(model) if vm else 0
    if vm is None or not count:
        return {}
    index_file, manifest_file = cache_names(model)
    try:
        manifest = json.loads((store.root / manifest_file).read_text())
        return {
            "type": manifest.get("type"),
            "vectors": manifest.get("count"),
            "nprobe": manifest.get("nprobe"),
            "bytes": (store.root / index_file).stat().st_size,
            "cached": True,
            "current": manifest.get("generation") == store.generation,
        }
    except (OSError, ValueError):
        pass
    kind = index_type_for(count)
    dim = vm[1]
    if kind == "Flat":
        size = count * (4 * dim + 8)
    else:
        size = count * (dim + 8) + nlist_for(count) * 4 * dim
    return {
        "type": "IDMap2,Flat" if kind == "Flat" else kind,
        "vectors": count,
        "nprobe": None,
        "bytes": size,
        "cached": False,
        "current": False,
    }


def index_files(root: Path) -> list[Path]:
    """Return the FAISS cache files of a store folder (those of every vector set present, with
    the IVF fingerprint files)."""
    extra = sorted(p for p in root.glob("vectors-*") if p.suffix in (".faiss", ".json", ".npz"))
    return [root / INDEX_FILE, root / MANIFEST_FILE, root / IDS_FILE, *extra]
