"""Distributed ingest on a Ray cluster: reading, segmentation, tagging and embedding run in Ray
Data workers (``map_batches`` over an actor pool, one model load per worker), the store is
written by this process alone, one transaction per document.

The single-writer rule of the store holds: workers never open it. This process plans the batch
(:func:`~migralex.ingest.pipeline.plan`), makes the store-side checks of each file
(:func:`~migralex.ingest.pipeline.check_file`: unchanged files are not sent), ships the files
still to process to the workers, which run :func:`~migralex.ingest.pipeline.process` (the same
function a plain ingest runs), and writes each result as it arrives
(:func:`~migralex.ingest.pipeline.write_processed`). A file a worker cannot read is a failed
result as in a plain ingest; a worker process that dies is restarted and its file retried
(``retries`` times, Ray's actor restarts and task retries), and a file whose worker still fails
is reported failed, never half-written. Workers read the files from the paths they are given:
on a real cluster, the corpus must be on a file system every node sees at the same path.

Vectors are computed by the workers for every clause (a plain re-ingest reuses stored vectors of
unchanged passages; a distributed one does not look into the store). Ray is an optional
dependency (``pip install migralex[ray]``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from migralex.corpus.errors import MigralexError, ValidationError
from migralex.corpus.models import Clause
from migralex.corpus.store import Store
from migralex.ingest.pipeline import (
    IngestResult,
    LanguageDetector,
    PassageEmbedder,
    Pending,
    Processed,
    Tagger,
    check_file,
    failure_reason,
    fill_multilingual,
    make_options,
    plain_reason,
    plan,
    process,
    resolved,
    write_processed,
)

#: Times a file is retried after its worker process died.
RETRIES = 2


class _Worker:
    """A Ray Data actor: the batch's options (its embedders load on first use, once per worker)
    and :func:`process` over a batch of pickled :class:`Pending` files."""

    def __init__(self, options_blob: bytes) -> None:
        import cloudpickle

        self.options = cloudpickle.loads(options_blob)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        import pickle

        import cloudpickle  # the frozen models hold mapping proxies, which pickle refuses

        out: dict[str, list[Any]] = {"i": [], "result": []}
        for i, blob in zip(batch["i"], batch["task"], strict=True):
            pending: Pending = pickle.loads(blob)
            try:
                value: tuple[str, Any] = ("ok", process(pending, self.options))
            except MigralexError as exc:
                value = ("failed", failure_reason(exc, pending.path))
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                value = ("failed", plain_reason(exc))
            out["i"].append(int(i))
            out["result"].append(cloudpickle.dumps(value))
        return out


def _require_ray(workers: int) -> None:
    """Refuse, before any work, a missing Ray or fewer than one worker.

    Raises:
        ValidationError: with what to install or the bad count.
    """
    if workers < 1:
        raise ValidationError(f"--ray-workers must be >= 1, got {workers}")
    try:
        import cloudpickle  # noqa: F401 - installed with Ray
        import ray  # noqa: F401
    except ImportError as exc:
        raise ValidationError(
            "distributed ingest needs Ray: pip install 'migralex[ray]' (ray[data])"
        ) from exc


def connect(address: str, workers: int) -> bool:
    """Connect to the Ray cluster at ``address``, or start a local one of ``workers`` CPUs
    (``address="local"``). Returns whether this call started it (then :func:`ingest_ray` shuts
    it down at the end).

    Raises:
        ValidationError: Ray is not installed, or ``workers`` < 1.
    """
    _require_ray(workers)
    import ray

    if ray.is_initialized():
        return False
    if address == "local":
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=address, log_to_driver=False)
    return True


def ingest_ray(  # noqa: PLR0913 - the options of ingest_paths, plus the cluster's
    paths: Sequence[Path],
    store: Store,
    *,
    tagger: Tagger,
    embedder: Callable[[], PassageEmbedder] | None,
    passage: Callable[[Clause], str],
    multilingual: Callable[[], PassageEmbedder] | None = None,
    manifest: Path | None = None,
    kind: str | None = None,
    language: str | None = None,
    detect: LanguageDetector | None = None,
    address: str = "local",
    workers: int = 2,
    on_result: Callable[[IngestResult], None] | None = None,
    strict: bool = False,
    retries: int = RETRIES,
) -> list[IngestResult]:
    """Ingest files and folders into ``store`` with Ray workers doing everything but the writes.

    Args:
        paths, store, tagger, embedder, passage, multilingual, manifest, kind, language,
            detect, on_result, strict: as for :func:`~migralex.ingest.pipeline.ingest_paths`;
            ``tagger``, ``embedder``, ``multilingual``, ``passage`` and ``detect`` are sent to
            the workers (cloudpickle), so they must be importable there.
        address: a Ray cluster address (``ray://host:10001``, ``auto``), or ``local`` for a
            cluster of ``workers`` CPUs in this machine.
        workers: Ray Data actors (one file at a time each, one CPU each).
        retries: restarts of a dead worker and retries of its file.

    Returns:
        As :func:`~migralex.ingest.pipeline.ingest_paths`: the refused manifest rows, then one
        result per file in file order (``seconds`` is the time until its write).

    Raises:
        ReadError: the manifest cannot be read.
        StoreError: the store is locked by another writer or holds another model's vectors.
        ValidationError: Ray is not installed, or ``workers`` < 1 (before any file is read).
    """
    _require_ray(workers)
    import cloudpickle

    entries, files, problems = plan(paths, manifest)
    options = make_options(tagger, embedder, passage, multilingual, kind, language, detect, strict)
    t0 = time.perf_counter()
    results: dict[int, IngestResult] = {}
    pending: dict[int, Pending] = {}
    with store.writer():
        for i, path in enumerate(files):
            entry = entries.get(resolved(path)) if entries else None
            try:
                checked = check_file(path, store, entry, strict)
            except MigralexError as exc:
                checked = IngestResult(str(path), "", "failed", error=failure_reason(exc, path))
            if isinstance(checked, IngestResult):
                results[i] = checked
            else:
                pending[i] = checked
        if pending:
            started = connect(address, workers)
            try:
                for i, value in _run(pending, cloudpickle.dumps(options), workers, retries):
                    results[i] = _write(store, pending[i], value, t0)
                    if on_result:
                        on_result(results[i])
            finally:
                if started:
                    import ray

                    ray.shutdown()
        if multilingual is not None:
            fill_multilingual(store, options.embedders[1], passage)
    for i in sorted(set(range(len(files))) - set(results)):
        results[i] = IngestResult(str(files[i]), "", "failed", error="no result from Ray")
    return problems + [results[i] for i in range(len(files))]


def _run(pending: dict[int, Pending], options_blob: bytes, workers: int, retries: int) -> Any:
    """Yield ``(file index, ("ok", Processed) | ("failed", reason))`` as the workers finish;
    a file whose worker failed ``retries`` times yields ``("failed", reason)``."""
    import pickle

    import ray
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    items = [{"i": i, "task": pickle.dumps(p)} for i, p in sorted(pending.items())]
    ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        _Worker,
        fn_constructor_args=(options_blob,),
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
        batch_format="numpy",
        max_restarts=retries,
        max_task_retries=retries,
    )
    seen: set[int] = set()
    try:
        for row in ds.iter_rows():
            seen.add(int(row["i"]))
            yield int(row["i"]), pickle.loads(row["result"])
    except Exception as exc:  # noqa: BLE001 - a cluster failure fails the files not yet written
        reason = f"Ray worker failed ({exc.__class__.__name__}): {str(exc).splitlines()[0][:200]}"
        for i in sorted(set(pending) - seen):
            yield i, ("failed", reason)


def _write(store: Store, pending: Pending, value: tuple[str, Any], t0: float) -> IngestResult:
    """Write one worker's result (or record its failure) in one transaction."""
    status, payload = value
    if status != "ok":
        result = IngestResult(str(pending.path), "", "failed", error=str(payload))
    else:
        done: Processed = payload
        try:
            result = write_processed(store, pending, done)
        except MigralexError as exc:
            result = IngestResult(
                str(pending.path),
                done.document.doc_id,
                "failed",
                error=failure_reason(exc, pending.path),
            )
    return replace(result, seconds=time.perf_counter() - t0)
