"""The search stages as pure functions, and the pipeline that names and composes them."""

from __future__ import annotations

import numpy as np
import pytest

from migralex.corpus.store import Filters
from migralex.index.rerank import (
    Pipeline,
    Request,
    Stage,
    best_per_document,
    boost_intent,
    by_score,
    fuse,
    intent_of,
    lower_preambles,
    merge_language_groups,
    near_duplicate_groups,
    rocchio,
    rrf_fuse,
    score_fuse,
    spread_documents,
)

RANKED = [(3, 0.9), (1, 0.6), (2, 0.6), (4, 0.1)]


def test_by_score_breaks_ties_by_rowid() -> None:
    assert by_score([(5, 0.2), (2, 0.5), (1, 0.2)]) == [(2, 0.5), (1, 0.2), (5, 0.2)]


@pytest.mark.parametrize(
    ("method", "expect"),
    [
        ("scores", score_fuse([[(1, 2.0), (2, 1.0)], [(2, 9.0), (3, 1.0)]], weights=[0.4, 0.6])),
        ("rrf", rrf_fuse([[(1, 2.0), (2, 1.0)], [(2, 9.0), (3, 1.0)]], k=60, weights=[0.4, 0.6])),
    ],
)
def test_fuse_dispatches_on_the_method(method: str, expect: list[tuple[int, float]]) -> None:
    assert fuse([[(1, 2.0), (2, 1.0)], [(2, 9.0), (3, 1.0)]], method, (0.4, 0.6), 60) == expect


def test_score_fuse_normalises_each_ranking() -> None:
    fused = dict(score_fuse([[(1, 2.0), (2, 1.0)], [(2, 9.0), (3, 1.0)]], weights=[0.4, 0.6]))
    assert fused == pytest.approx({1: 0.4, 2: 0.6, 3: 0.0})


@pytest.mark.parametrize(
    ("preambles", "prior", "expect"),
    [
        ({3}, 0.5, [(1, 0.6), (2, 0.6), (3, 0.45), (4, 0.1)]),
        ({3}, 1.0, RANKED),
        (set(), 0.5, RANKED),
    ],
)
def test_lower_preambles(preambles: set[int], prior: float, expect: list) -> None:
    assert lower_preambles(RANKED, preambles, prior) == expect


def test_intent_needs_its_share() -> None:
    labels = {1: {"totalisation"}, 2: {"totalisation"}, 3: {"branch_old_age"}}
    assert intent_of([1, 2, 3], labels) == ("totalisation", 1.0)
    assert intent_of([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1], labels) == ("", 0.0)  # share < .2
    assert intent_of([3], labels) == ("", 0.0)  # branch tags are no intent
    # the share of rank 1 among the first four: .3, the middle of the ramp
    share = 1.0 / sum(1 / np.log2(r + 1) for r in range(1, 5))
    label, weight = intent_of([1, 5, 6, 7], labels, share=share)
    assert label == "totalisation" and weight == pytest.approx(0.5)
    assert intent_of([1, 5, 6, 7], labels, share=share, ramp=0) == ("totalisation", 1.0)


@pytest.mark.parametrize(
    ("share", "weight"), [(0.1, 0.0), (0.2, 0.0), (0.25, 0.5), (0.3, 1.0), (0.9, 1.0)]
)
def test_intent_weight_ramps_around_its_centre(share: float, weight: float) -> None:
    from migralex.index.intent import intent_weight

    assert intent_weight(share, 0.25, 0.05) == pytest.approx(weight)
    assert intent_weight(share, 0.25, 0) == float(share >= 0.25)


@pytest.mark.parametrize(
    ("label", "boost", "expect"),
    [
        ("x", 0.6, [(3, 0.9), (4, 0.7), (1, 0.6), (2, 0.6)]),
        ("x", 1.0, [(4, 1.1), (3, 0.9), (1, 0.6), (2, 0.6)]),
        ("", 0.5, RANKED),
        ("x", 0.0, RANKED),
    ],
)
def test_boost_intent(label: str, boost: float, expect: list) -> None:
    got = boost_intent(RANKED, label, {4: {"x"}}, boost)
    assert [r for r, _ in got] == [r for r, _ in expect]
    assert [s for _, s in got] == pytest.approx([s for _, s in expect])


def test_rocchio_moves_and_normalises() -> None:
    vec = np.array([1.0, 0.0], np.float32)
    moved = rocchio(vec, np.array([0.0, 1.0], np.float32), 1.0)
    assert moved.dtype == np.float32 and np.allclose(moved, [2**-0.5, 2**-0.5])
    assert rocchio(vec, -vec, 1.0) is vec  # the zero vector: unchanged


def test_near_duplicates_fold_only_across_documents() -> None:
    vecs = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], np.float32)
    docs = {10: "a", 11: "b", 12: "a", 13: "c"}
    assert near_duplicate_groups([10, 11, 12, 13], vecs, docs, 0.95) == {10: 1, 12: 0, 13: 0}
    assert near_duplicate_groups([], np.empty((0, 2), np.float32), {}, 0.95) == {}


def test_best_per_document_keeps_the_first_of_each() -> None:
    assert best_per_document(RANKED, {3: "a", 1: "a", 2: "b", 4: "c"}) == [
        (3, 0.9),
        (2, 0.6),
        (4, 0.1),
    ]


def test_pipeline_names_runs_and_takes_a_new_stage() -> None:
    req = Request("q", "hybrid", Filters(), 10)
    first = Stage("first", lambda r, _: list(RANKED))
    top = Stage("top2", lambda r, ranked: ranked[:2])
    pipe = Pipeline((first, top))
    assert pipe.names == ("first", "top2")
    assert pipe.run(req) == RANKED[:2]
    flip = Stage("flip", lambda r, ranked: [(i, -s) for i, s in ranked][::-1])
    assert pipe.with_stage(flip, before="top2").names == ("first", "flip", "top2")
    assert pipe.with_stage(flip, before="top2").run(req) == [(4, -0.1), (2, -0.6)]
    assert pipe.with_stage(flip).names[-1] == "flip"
    with pytest.raises(KeyError, match="top2"):
        pipe.with_stage(flip, before="nope")


def test_merge_language_groups_alternates_and_keeps_each_groups_order() -> None:
    ranked = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.2), (5, 0.1)]
    merged = merge_language_groups(ranked, same={1, 2, 3}, same_weight=1.0)
    assert [r for r, _ in merged] == [1, 4, 2, 5, 3]
    # a lighter group in the question's language yields its places to the other
    assert [r for r, _ in merge_language_groups(ranked, {1, 2, 3}, 0.5)][:2] == [4, 5]
    # one group only: the order is unchanged
    assert [r for r, _ in merge_language_groups(ranked, set(), 1.0)] == [1, 2, 3, 4, 5]


def test_spread_documents_lowers_further_articles_not_paragraphs() -> None:
    ranked = [(1, 1.0), (2, 0.9), (3, 0.85), (4, 0.8)]
    article_of = {1: ("a", "Art. 1"), 2: ("a", "Art. 1"), 3: ("a", "Art. 2"), 4: ("b", "Art. 7")}
    spread = spread_documents(ranked, article_of, 0.5)
    assert spread == [(1, 1.0), (2, 0.9), (4, 0.8), (3, 0.425)]
    assert spread_documents(ranked, article_of, 1.0) == ranked
