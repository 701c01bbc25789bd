"""Batch ingest: re-processing after an upgrade, vector reuse, manifests and folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS

from migralex.corpus.store import Store
from migralex.index.embedders import HashEmbedder
from migralex.ingest import pipeline
from migralex.ingest.pipeline import collect_files, ingest_paths

DOC = "# T\n\n### Article 1\n\n#### Scope\n\nThe Parties agree.\n\n### Article 2\n\nOther text.\n"


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(32)
        self.seen: list[str] = []

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().embed_passages(texts)


def _run(path: Path, store: Store, emb: CountingEmbedder) -> str:
    results = ingest_paths(
        [path], store, tagger=lambda c, lang: [], embedder=lambda: emb,
        passage=lambda c: c.text, detect=lambda t: "en",
    )  # fmt: skip
    return results[0].status


def test_new_pipeline_version_reprocesses_and_reuses_unchanged_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "a.md"
    doc.write_text(DOC, encoding="utf-8")
    emb = CountingEmbedder()
    with Store(tmp_path / "s") as store:
        assert _run(doc, store, emb) == "added"
        embedded_first = len(emb.seen)
        assert _run(doc, store, emb) == "unchanged"
        assert len(emb.seen) == embedded_first
        monkeypatch.setattr(pipeline, "pipeline_version", lambda: "another-version")
        assert _run(doc, store, emb) == "updated"
        assert len(emb.seen) == embedded_first, "unchanged clauses must reuse their vectors"
        doc.write_text(DOC.replace("Other text.", "Changed text."), encoding="utf-8")
        assert _run(doc, store, emb) == "updated"
        assert emb.seen[embedded_first:] == [
            c.text for c in store.clauses() if "Changed text" in c.text
        ]
        assert store.count_vectors() == store.count_clauses()


def test_folder_with_manifest_takes_only_listed_files() -> None:
    if not (CORPUS / "manifest.csv").is_file():
        pytest.skip("no corpus beside the checkout")
    from migralex.corpus.manifest import read_manifest

    files = collect_files([CORPUS], read_manifest(CORPUS / "manifest.csv"))
    assert len(files) == 105
    assert not any(f.name == "README.md" for f in files)


def test_pipeline_version_is_a_stable_fingerprint() -> None:
    v = pipeline.pipeline_version()
    assert len(v) == 16 and v == pipeline.pipeline_version()


def test_unknown_kind_fails_the_file(tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text(DOC, encoding="utf-8")
    with Store(tmp_path / "s") as store:
        results = ingest_paths(
            [doc], store, tagger=lambda c, lang: [], embedder=None,
            passage=lambda c: c.text, kind="treaty", detect=lambda t: "en",
        )  # fmt: skip
    assert results[0].status == "failed" and "valid:" in results[0].error


def test_missing_path_is_a_failed_result_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "a.md"
    good.write_text(DOC, encoding="utf-8")
    missing = tmp_path / "gone.md"
    assert collect_files([missing, good]) == [missing, good]
    with Store(tmp_path / "s") as store:
        results = ingest_paths(
            [missing, good], store, tagger=lambda c, lang: [], embedder=lambda: HashEmbedder(32),
            passage=lambda c: c.text, detect=lambda t: "en",
        )  # fmt: skip
    assert [(r.path, r.status) for r in results] == [(str(missing), "failed"), (str(good), "added")]
    assert results[0].error == "no such file or folder"


@pytest.mark.parametrize(
    ("exc", "words"),
    [(RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
     (__import__("zipfile").BadZipFile("File is not a zip file"), "zip container"),
     (ValueError("bad table"), "bad table"), (ValueError(), "without saying why"),
     (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "encoding")],
)  # fmt: skip
def test_plain_reason_says_it_in_words(exc: Exception, words: str) -> None:
    reason = pipeline.plain_reason(exc)
    assert words in reason and type(exc).__name__ not in reason


def test_reader_crash_becomes_read_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migralex.corpus.errors import ReadError

    def broken(path: Path) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(pipeline, "read_file", broken)
    doc = tmp_path / "a.html"
    doc.write_text("<html></html>", encoding="utf-8")
    with pytest.raises(ReadError, match="nested too deeply"):
        pipeline.prepare(doc, detect=lambda t: "en")
