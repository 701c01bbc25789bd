"""The checklist's topic model: training, probabilities, saving, labels from headings, and
the engine reading a confident prediction as the heading of a heading-less article."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import make_clause

from migralex.corpus.errors import ValidationError
from migralex.nlp.checklist.engine import run_checklist
from migralex.nlp.checklist.loader import load_checklist
from migralex.nlp.checklist.topics import (
    NONE,
    TopicModel,
    article_label,
    body_text,
    model_path,
    shipped_model,
    train,
    training_data,
)

DIM = 8


def _data(seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Three classes, each around its own axis."""
    rng = np.random.default_rng(seed)
    labels = ["ssa.totalisation", "ssa.export_of_benefits", NONE] * 10
    vecs = np.zeros((len(labels), DIM), np.float32)
    for i, label in enumerate(labels):
        vecs[i, ["ssa.totalisation", "ssa.export_of_benefits", NONE].index(label)] = 1.0
    vecs += rng.normal(0, 0.05, vecs.shape).astype(np.float32)
    return vecs, labels


def test_training_separates_the_classes_and_round_trips(tmp_path: Path) -> None:
    vecs, labels = _data()
    tm = train("ssa", "hash", vecs, labels)
    assert set(tm.classes) == {"ssa.totalisation", "ssa.export_of_benefits", NONE}
    probs = tm.probabilities(vecs)
    assert probs.shape == (len(labels), 3)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert [tm.classes[i] for i in probs.argmax(axis=1)] == labels
    path = tmp_path / "ssa.hash.npz"
    tm.save(path)
    again = TopicModel.load(path)
    assert again.classes == tm.classes and again.examples == tm.examples
    assert np.allclose(again.probabilities(vecs), probs)
    # deterministic: the same data give the same weights
    assert np.allclose(train("ssa", "hash", vecs, labels).coef, tm.coef)


def test_virtual_headings_need_confidence() -> None:
    vecs, labels = _data()
    tm = train("ssa", "hash", vecs, labels)
    unsure = np.full((1, DIM), 1 / np.sqrt(DIM), np.float32)
    got = tm.virtual_headings(np.vstack([vecs[:3], unsure]), threshold=0.6)
    assert got[:2] == labels[:2]
    assert got[2] is None  # "no item" is no heading
    assert got[3] is None  # nothing is sure
    assert tm.virtual_headings(vecs[:1], threshold=1.01) == [None]


def test_bad_input_is_refused(tmp_path: Path) -> None:
    vecs, labels = _data()
    with pytest.raises(ValidationError):
        train("ssa", "hash", vecs, labels[:-1])
    with pytest.raises(ValidationError):
        train("ssa", "hash", vecs[:5], [NONE] * 5)  # one class
    tm = train("ssa", "hash", vecs, labels)
    with pytest.raises(ValidationError):
        tm.probabilities(np.zeros((2, DIM + 1), np.float32))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValidationError, match="bad.npz"):
        TopicModel.load(bad)


def test_labels_come_from_printed_headings() -> None:
    ssa = load_checklist("ssa")
    headed = make_clause("Article 9", "Totalisation of insurance periods", "Article 9 ...")
    other = make_clause("Article 2", "Old-age benefits", "Article 2 ...")
    bare = make_clause("Article 3", "", "Article 3 The periods shall be added.")
    assert article_label(ssa, headed) == "ssa.totalisation"
    assert article_label(ssa, other) == NONE
    assert article_label(ssa, bare) is None
    chosen, labels = training_data(ssa, [headed, other, bare])
    assert chosen == [headed, other] and labels == ["ssa.totalisation", NONE]
    assert body_text(headed) == "Article 9 ..."


def test_engine_reads_a_confident_prediction_as_the_heading() -> None:
    ssa = load_checklist("ssa")
    items = [i.id for i in ssa.items]
    body = "Article 7\nThe institutions shall take into account the periods completed."
    clauses = [make_clause("Article 7", "", body, doc_id="draft")]
    vectors = np.zeros((1, DIM), np.float32)
    vectors[0, 0] = 1.0

    def cues(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), np.float32)
        out[:, -1] = 1.0  # orthogonal to the clause: no similarity evidence
        return out

    coef = np.zeros((2, DIM), np.float32)
    coef[0, 0] = 20.0  # axis 0 -> totalisation
    tm = TopicModel("ssa", "hash", ("ssa.totalisation", NONE), coef, np.zeros(2, np.float32),
                    {"ssa.totalisation": 5, NONE: 5})  # fmt: skip
    without = {r.item.id: r for r in run_checklist(ssa, clauses, {}, vectors, cues).items}
    with_tm = {
        r.item.id: r for r in run_checklist(ssa, clauses, {}, vectors, cues, topic_model=tm).items
    }
    assert "ssa.totalisation" in items
    assert without["ssa.totalisation"].status == "absent"
    assert with_tm["ssa.totalisation"].status == "present"
    assert with_tm["ssa.totalisation"].evidence[0].clause.clause_id == clauses[0].clause_id
    # the prediction names one item: the others stay absent
    assert with_tm["ssa.export_of_benefits"].status == "absent"
    # vectors of another space are not read
    other = run_checklist(ssa, clauses, {}, np.ones((1, DIM + 2), np.float32) / 3,
                          lambda t: np.zeros((len(t), DIM + 2), np.float32), topic_model=tm)  # fmt: skip
    assert {r.item.id: r for r in other.items}["ssa.totalisation"].status == "absent"


def test_the_shipped_ssa_model_fits_its_checklist() -> None:
    assert model_path("ssa", "minilm").is_file()
    tm = shipped_model("ssa", "minilm")
    assert tm is not None and tm.model == "minilm" and tm.coef.shape[1] == 384
    ids = {i.id for i in load_checklist("ssa").items}
    assert set(tm.classes) - {NONE} <= ids
    assert NONE in tm.classes and len(tm.classes) >= 5
    assert shipped_model("ssa", "no-such-model") is None
