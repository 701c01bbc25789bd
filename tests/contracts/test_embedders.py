"""One contract for every embedder of :data:`migralex.index.embedders.EMBEDDERS`: float32
``(n, dim)`` with L2-normalised rows, an empty batch, deterministic, cheap to build, and a
paraphrase nearer than an unrelated text. The real models run on one tiny batch."""

from __future__ import annotations

import numpy as np
import pytest

from migralex.index.embedders import EMBEDDERS, Embedder, get_embedder

#: The hash embedder always; the packaged models marked ``integration`` (they load a model).
NAMES = [
    name if name == "hash" else pytest.param(name, marks=pytest.mark.integration)
    for name in sorted(EMBEDDERS)
]
QUERY = "old-age pension paid abroad"
NEAR = "payment of old-age pensions abroad"
FAR = "protection of personal data"


@pytest.fixture(scope="module", params=NAMES)
def embedder(request: pytest.FixtureRequest) -> Embedder:
    emb = get_embedder(request.param, 1, 8)
    emb.warm_up()
    emb.warm_up()  # idempotent
    return emb


def test_name_is_the_recorded_one(embedder: Embedder) -> None:
    assert embedder.name in EMBEDDERS and embedder.dimension > 0


@pytest.mark.parametrize("side", ["embed_passages", "embed_queries"])
def test_rows_are_float32_and_normalised(embedder: Embedder, side: str) -> None:
    vecs = getattr(embedder, side)([QUERY, NEAR, FAR])
    assert vecs.dtype == np.float32 and vecs.shape == (3, embedder.dimension)
    assert vecs.flags["C_CONTIGUOUS"]
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    empty = getattr(embedder, side)([])
    assert empty.dtype == np.float32 and empty.shape == (0, embedder.dimension)


def test_same_text_same_vector(embedder: Embedder) -> None:
    a = embedder.embed_passages([NEAR, FAR])
    b = embedder.embed_passages([NEAR])
    assert np.allclose(a[0], b[0], atol=1e-5)


def test_a_paraphrase_is_nearer_than_an_unrelated_text(embedder: Embedder) -> None:
    q = embedder.embed_queries([QUERY])[0]
    near, far = embedder.embed_passages([NEAR, FAR])
    assert float(q @ near) > float(q @ far)
