"""Shared fixtures: the real corpus beside the checkout, and small stores built with a fake embedder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from migralex.corpus.models import Clause

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
_REQUIRE_CORPUS = False


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-corpus",
        action="store_true",
        help="fail, not skip, the tests that read ../shared/corpus when it is missing"
        " (on by default where CI=true)",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _REQUIRE_CORPUS
    _REQUIRE_CORPUS = bool(config.getoption("--require-corpus")) or os.environ.get("CI") == "true"


def corpus_missing(reason: str) -> None:
    """Skip the calling test because the shared corpus is not there; fail under CI.

    The only reason a test may skip for: migralex's own modules are imported plainly, so a
    broken import fails the suite.
    """
    if _REQUIRE_CORPUS:
        pytest.fail(f"{reason} (the corpus is required here: CI=true or --require-corpus)")
    pytest.skip(reason)


def corpus_file(relative: str) -> Path:
    """Return a file of ../shared/corpus, skipping the test when the corpus is not there."""
    path = CORPUS / relative
    if not path.is_file():
        corpus_missing(f"real corpus file {relative} not found beside the checkout ({CORPUS})")
    return path


def make_clause(
    label: str,
    heading: str,
    text: str,
    *,
    doc_id: str = "d",
    ordinal: int = 0,
    start: int = 0,
    language: str = "en",
) -> Clause:
    """A clause for engine tests: id ``{doc_id}:{label slug}``, path ``(label,)``, page 1."""
    return Clause(
        clause_id=f"{doc_id}:{label.lower().replace(' ', '-')}",
        doc_id=doc_id,
        ordinal=ordinal,
        label=label,
        heading=heading,
        path=(label,),
        text=text,
        start=start,
        end=start + len(text),
        page_start=1,
        page_end=1,
        language=language,
    )


@pytest.fixture(autouse=True)
def _fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test uses the deterministic hash embedder unless it asks for a real model."""
    monkeypatch.setenv("MIGRALEX_MODEL", os.environ.get("MIGRALEX_TEST_MODEL", "hash"))


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Derived-file caches (``MIGRALEX_CACHE_DIR``) go to a folder of the session, not the
    user's cache."""
    folder = tmp_path_factory.mktemp("cache")
    before = os.environ.get("MIGRALEX_CACHE_DIR")
    os.environ["MIGRALEX_CACHE_DIR"] = str(folder)
    yield
    if before is None:
        os.environ.pop("MIGRALEX_CACHE_DIR", None)
    else:
        os.environ["MIGRALEX_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store with four real agreements (EN PDF, EN HTML, EN MD, FR MD), hash embedder."""
    from migralex.corpus.store import Store
    from migralex.ui import service

    files = [
        "ssa/ca-si-96-32.pdf",
        "ssa/ca-si-2006-122.html",
        "ssa/nl-bwbv0001745.md",
        "ssa/nl-bwbv0003682.md",
    ]
    paths = [corpus_file(f) for f in files]
    root = tmp_path_factory.mktemp("store")
    mp = pytest.MonkeyPatch()
    mp.setenv("MIGRALEX_MODEL", "hash")
    with Store(root) as store:
        results = service.ingest(paths, store, manifest=CORPUS / "manifest.csv")
    mp.undo()
    assert [r.status for r in results] == ["added"] * len(files)
    yield root


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT with random weights (seeded) and MiniLM's tokenizer: trains in seconds."""
    import torch
    from transformers import BertConfig, BertModel

    from migralex.index.embedders import minilm_path

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(folder)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_path() / name, folder / name)
    return folder
