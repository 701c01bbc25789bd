"""The torch-free MiniLM query encoder: the ONNX export gives sentence-transformers' vectors,
is tied to the weights it was made from, and is what search uses when the store has it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from migralex.corpus.store import Store
from migralex.index.embedders import get_embedder, minilm_path
from migralex.index.onnx_query import (
    CARD_FILE,
    ONNX_DIR,
    OnnxQueryEmbedder,
    current_export,
    export_minilm,
)
from migralex.ui import service

pytestmark = pytest.mark.integration

QUESTIONS = [
    "can a pensioner who moves abroad keep the pension?",
    "notice period to end the treaty",
    "a much longer question " * 80,  # beyond the 256-piece window: truncated alike
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    path = export_minilm(minilm_path(), root)
    assert path is not None and path.is_file()
    return root


def test_onnx_queries_are_sentence_transformers_vectors(exported: Path) -> None:
    onnx = OnnxQueryEmbedder(exported / ONNX_DIR / "minilm.onnx", minilm_path())
    got = onnx.embed_queries(QUESTIONS)
    want = get_embedder("minilm").embed_queries(QUESTIONS)
    assert got.shape == want.shape == (3, 384) and got.dtype == np.float32
    assert float(np.abs(got - want).max()) < 1e-4
    assert onnx.embed_queries([]).shape == (0, 384)


def test_the_export_is_tied_to_its_weights_and_reused(exported: Path, tmp_path: Path) -> None:
    assert current_export(minilm_path(), exported) == exported / ONNX_DIR / "minilm.onnx"
    mtime = (exported / ONNX_DIR / "minilm.onnx").stat().st_mtime_ns
    assert export_minilm(minilm_path(), exported) is not None  # same weights: not redone
    assert (exported / ONNX_DIR / "minilm.onnx").stat().st_mtime_ns == mtime
    card = exported / ONNX_DIR / CARD_FILE
    stale = tmp_path / "stale"
    (stale / ONNX_DIR).mkdir(parents=True)
    (stale / ONNX_DIR / "minilm.onnx").write_bytes(b"")
    (stale / ONNX_DIR / CARD_FILE).write_text(
        json.dumps(
            {**json.loads(card.read_text()), "weights_sha256": "0" * 64, "weights_stamp": [1, 2]}
        )
    )
    assert current_export(minilm_path(), stale) is None  # other weights: not used


def test_a_query_with_the_export_imports_no_torch(exported: Path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from migralex.index.onnx_query import OnnxQueryEmbedder\n"
        "from migralex.index.embedders import minilm_path\n"
        f"e = OnnxQueryEmbedder(Path({str(exported / ONNX_DIR / 'minilm.onnx')!r}), minilm_path())\n"
        "assert e.embed_queries(['x']).shape == (1, 384)\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_search_uses_the_export_when_the_store_has_one(
    exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(exported) as store:
        assert isinstance(service.query_embedder_factory(store, "minilm")(), OnnxQueryEmbedder)
        assert not isinstance(
            service.query_embedder_factory(store, "e5-small")(), OnnxQueryEmbedder
        )
        monkeypatch.setenv("MIGRALEX_ONNX_QUERIES", "0")
        assert not isinstance(service.query_embedder_factory(store, "minilm")(), OnnxQueryEmbedder)


def test_a_store_without_the_export_searches_with_sentence_transformers(tmp_path: Path) -> None:
    with Store(tmp_path / "plain") as store:
        assert not isinstance(service.query_embedder_factory(store, "minilm")(), OnnxQueryEmbedder)
