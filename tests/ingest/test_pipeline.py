"""Batch ingest: re-processing after an upgrade, vector reuse, manifests and folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CORPUS, corpus_missing

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
        corpus_missing("no corpus beside the checkout")
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


def _manifest_folder(root: Path, sha: str) -> Path:
    """A folder with one agreement and a manifest row that lists ``sha`` as its sha256."""
    import hashlib

    root.mkdir()
    (root / "a.md").write_text(DOC, encoding="utf-8")
    digest = sha or hashlib.sha256(DOC.encode("utf-8")).hexdigest()
    (root / "manifest.csv").write_text(
        "id,kind,language,title,parties,source,licence,path,sha256\n"
        f"doc-a,ssa,en,A,Canada; Italy,own,CC0,a.md,{digest}\n",
        encoding="utf-8",
    )
    return root


@pytest.mark.parametrize(
    ("listed", "strict", "status", "warned"),
    [
        ("", False, "added", False),  # digest matches
        ("0" * 64, False, "added", True),
        ("0" * 64, True, "failed", False),
    ],
)
def test_manifest_sha256_is_compared_with_the_file(
    tmp_path: Path, listed: str, strict: bool, status: str, warned: bool
) -> None:
    folder = _manifest_folder(tmp_path / "corpus", listed)
    with Store(tmp_path / "s") as store:
        (result,) = ingest_paths(
            [folder], store, tagger=lambda c, lang: [], embedder=lambda: CountingEmbedder(),
            passage=lambda c: c.text, detect=lambda t: "en", strict=strict,
        )  # fmt: skip
        assert result.status == status
        assert bool(result.warning) == warned
        if warned:
            assert "differs from the manifest's sha256" in result.warning
            assert result.to_json()["warning"] == result.warning
        if status == "failed":
            assert "--strict" in result.error and "sha256" in result.error
            assert store.stats()["documents"] == 0
        else:
            assert store.stats()["documents"] == 1


def test_pipeline_version_covers_what_makes_clauses_and_tags_only() -> None:
    import migralex

    root = Path(migralex.__file__).parent
    covered = {
        f.relative_to(root).as_posix() for p in pipeline.PIPELINE_FILES for f in root.glob(p)
    }
    assert {"ingest/segment.py", "ingest/pdf_reader.py", "nlp/tagger.py"} <= covered
    assert any(f.startswith("nlp/patterns/en/") for f in covered)
    engine = {f"nlp/checklist/{m}.py" for m in ("__init__", "engine", "loader", "rules")}
    engine |= {"nlp/structure.py", "nlp/vocabulary.py", "nlp/text.py", "nlp/vocab/structure.yaml"}
    engine |= {"nlp/vocab/partial_rules.yaml", "nlp/checklists/ssa.yaml"}
    assert (root / "nlp/vocab/partial_rules.yaml").is_file() and (
        root / "nlp/structure.py"
    ).is_file()
    assert not (engine | {"index/search.py", "ui/app.py"}) & covered
    assert not any(f.startswith(("nlp/checklist/", "nlp/vocab/")) for f in covered)


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


def test_manifest_rows_missing_or_outside_the_folder_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.md").write_text(DOC, encoding="utf-8")
    (tmp_path / "outside.md").write_text(DOC, encoding="utf-8")
    (folder / "manifest.csv").write_text(
        "id,kind,language,title,parties,source,licence,path,sha256\n"
        "doc-a,ssa,en,A,,own,CC0,a.md,\n"
        "doc-gone,ssa,en,G,,own,CC0,gone.md,\n"
        "doc-out,ssa,en,O,,own,CC0,../outside.md,\n",
        encoding="utf-8",
    )
    with Store(tmp_path / "s") as store:
        results = ingest_paths(
            [folder], store, tagger=lambda c, lang: [], embedder=lambda: HashEmbedder(32),
            passage=lambda c: c.text, detect=lambda t: "en",
        )  # fmt: skip
        assert store.stats()["documents"] == 1
    by_id = {r.doc_id: r for r in results}
    assert by_id["doc-a"].status == "added"
    assert by_id["doc-gone"].status == "failed" and "no such file" in by_id["doc-gone"].error
    assert by_id["doc-out"].status == "failed" and "outside its folder" in by_id["doc-out"].error


def test_files_are_read_and_tagged_beside_the_embedding_of_the_previous_one(
    tmp_path: Path,
) -> None:
    """Reading and tagging run in the reader thread, ahead of the encoder (up to
    :data:`~migralex.ingest.pipeline.LOOKAHEAD` files), embedding and writes in this one; the
    results keep the file order and a failed file does not stop the others."""
    import threading

    events: list[tuple[str, str]] = []
    second_read, first_embedding = threading.Event(), threading.Event()

    def tagger(clauses: Sequence[Any], language: str) -> list:
        events.append(("tag", threading.current_thread().name))
        if any("Text 1." in c.text for c in clauses):
            # read while the first file is being embedded (a serial ingest never gets here)
            assert first_embedding.wait(timeout=30), "the first file is not being embedded"
            second_read.set()
        return []

    class Recording(HashEmbedder):
        def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
            events.append(("embed", threading.current_thread().name))
            if any("Text 0." in t for t in texts):
                # the first file's embedding waits for the second file to be read, which
                # waits for this embedding to start: both at once, or neither
                first_embedding.set()
                assert second_read.wait(timeout=30), "the next file was not read meanwhile"
            return super().embed_passages(texts)

    paths = []
    for i in range(4):
        paths.append(tmp_path / f"d{i}.md")
        paths[-1].write_text(DOC.replace("The Parties agree.", f"Text {i}."), encoding="utf-8")
    (tmp_path / "bad.pdf").write_bytes(b"not a pdf")
    paths.insert(2, tmp_path / "bad.pdf")
    emb = Recording(16)
    with Store(tmp_path / "s") as store:
        results = ingest_paths(
            paths, store, tagger=tagger, embedder=lambda: emb, passage=lambda c: c.text,
            detect=lambda t: "en",
        )  # fmt: skip
    assert [Path(r.path).name for r in results] == [p.name for p in paths]
    assert [r.status for r in results] == ["added", "added", "failed", "added", "added"]
    assert {t for kind, t in events if kind == "tag"} == {"migralex-read_0"}
    assert {t for kind, t in events if kind == "embed"} == {threading.current_thread().name}
