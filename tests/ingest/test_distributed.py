"""Distributed ingest on a local Ray cluster of two worker processes: the same documents,
clauses, tags and vectors as a plain ingest, failures reported, a dead worker's file retried."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path

# The fakes below travel to the Ray workers by value: this test module is not importable there.
import cloudpickle  # noqa: E402
import pytest
import ray  # noqa: E402 - a dev dependency (make setup installs it): a missing one must fail

from migralex.corpus.models import Clause, Tag
from migralex.corpus.store import Store
from migralex.index.embedders import HashEmbedder
from migralex.ingest.distributed import ingest_ray
from migralex.ingest.pipeline import ingest_paths

cloudpickle.register_pickle_by_value(sys.modules[__name__])

DOCS = {
    "a.md": "# Agreement A\n\n### Article 1\n\n#### Equality of treatment\n\nNationals of the "
    "other Party shall receive equal treatment.\n\n### Article 2\n\n#### Export of benefits\n\n"
    "Benefits shall not be reduced because the beneficiary resides abroad.\n",
    "b.md": "# Accord B\n\n### Article 1\n\n#### Totalisation\n\nLes périodes d'assurance "
    "accomplies sont totalisées.\n\n### Article 2\n\n#### Différends\n\nLes différends sont "
    "réglés par négociation.\n",
    "c.txt": "AGREEMENT C\n\nArticle 1\nScope\nThis Agreement applies to employed persons.\n\n"
    "Article 2\nDisputes\nDisputes are settled by the competent authorities.\n",
}


def _tagger(clauses: Sequence[Clause], language: str) -> list[Tag]:
    """A tagger that tags 'benefit' and 'périodes' words (deterministic, no spaCy)."""
    out = []
    for c in clauses:
        for word in ("benefit", "périodes"):
            at = c.text.lower().find(word)
            if at >= 0:
                out.append(
                    Tag(c.clause_id, "test", at, at + len(word), c.text[at : at + len(word)], word)
                )
    return out


def _embedder() -> HashEmbedder:
    return HashEmbedder(16)


def _passage(clause: Clause) -> str:
    return clause.text


@pytest.fixture(scope="module")
def cluster() -> object:
    """One local Ray cluster of two CPUs for the module (started once: it takes seconds)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _corpus(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    return [folder]


def _snapshot(store: Store) -> tuple[list, list, dict[str, bytes]]:
    """Clauses, tags and main vectors of a store, keyed by clause id (rowids may differ)."""
    clauses = list(store.clauses())
    ids = [c.clause_id for c in clauses]
    rows = sorted((c.clause_id, c.label, c.heading, c.path, c.text, c.language) for c in clauses)
    tags = sorted(
        (t.clause_id, t.name, t.start, t.end, t.rule)
        for ts in store.tags_for(ids).values()
        for t in ts
    )
    rowids, vectors = store.vectors()
    by_rowid = store.clauses_by_rowid([int(r) for r in rowids])
    vecs = {by_rowid[int(r)].clause_id: v.tobytes() for r, v in zip(rowids, vectors, strict=True)}
    return rows, tags, vecs


def test_ray_ingest_matches_a_plain_ingest(tmp_path: Path, cluster: object) -> None:
    paths = _corpus(tmp_path)
    kwargs = {"tagger": _tagger, "embedder": _embedder, "passage": _passage}
    with Store(tmp_path / "plain") as plain:
        expected = ingest_paths(paths, plain, **kwargs)
        want = _snapshot(plain)
    with Store(tmp_path / "ray") as distributed:
        got = ingest_ray(paths, distributed, workers=2, **kwargs)
        have = _snapshot(distributed)
    assert [(r.path, r.doc_id, r.status, r.clauses, r.error) for r in got] == [
        (r.path, r.doc_id, r.status, r.clauses, r.error) for r in expected
    ]
    assert [r.status for r in got].count("added") == 3
    assert next(r for r in got if r.path.endswith("broken.pdf")).status == "failed"
    assert have == want  # same clauses, tags and (bitwise) vectors
    assert len(have[0]) == len(have[2]) >= 6


def _dying_tagger(
    marker: Path, always: bool, clauses: Sequence[Clause], language: str
) -> list[Tag]:
    """Kill the worker process on the French agreement: on its first attempt only (a marker
    file remembers it), or on every attempt."""
    if any("Accord B" in c.text for c in clauses) and (always or not marker.exists()):
        marker.touch()
        os._exit(1)
    return _tagger(clauses, language)


def test_a_dead_workers_file_is_retried(tmp_path: Path, cluster: object) -> None:
    tagger = functools.partial(_dying_tagger, tmp_path / "died-once", False)
    with Store(tmp_path / "ray") as store:
        results = ingest_ray(
            _corpus(tmp_path), store, tagger=tagger, embedder=_embedder, passage=_passage
        )
        assert (tmp_path / "died-once").exists()  # the worker did die
        assert [r.status for r in results].count("added") == 3
        assert len({c.doc_id for c in store.clauses()}) == 3


def test_a_file_that_kills_every_worker_is_reported_and_nothing_half_written(
    tmp_path: Path, cluster: object
) -> None:
    tagger = functools.partial(_dying_tagger, tmp_path / "died", True)
    with Store(tmp_path / "ray") as store:
        results = ingest_ray(
            _corpus(tmp_path), store, tagger=tagger, embedder=_embedder, passage=_passage,
            retries=1,
        )  # fmt: skip
        by_name = {Path(r.path).name: r for r in results}
        assert by_name["b.md"].status == "failed"
        assert "Ray worker failed" in by_name["b.md"].error
        written = {r.doc_id for r in results if r.status == "added"}
        stored = {c.doc_id for c in store.clauses()}
        assert stored == written and by_name["b.md"].doc_id not in stored
        for doc_id in stored:  # what was written is whole: every clause has its vector
            assert store.clause_vectors(doc_id) is not None
