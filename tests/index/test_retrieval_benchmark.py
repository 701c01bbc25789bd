"""The retrieval benchmark's data and metrics (evaluation/retrieval.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from migralex.corpus.store import Store
from migralex.evaluation import retrieval
from migralex.ui import service


def test_queries_cover_the_languages_and_splits() -> None:
    queries = retrieval.load_queries()
    assert len(queries) >= 60
    assert {q.language for q in queries.values()} == {"en", "fr", "es"}
    for language in ("en", "fr", "es"):  # each language in both splits
        assert {q.split for q in queries.values() if q.language == language} == {"dev", "test"}
    refs = retrieval.load_topic_refs()
    topics = retrieval.load_topics()
    for q in queries.values():
        assert q.topic in topics and refs.get(q.topic), q.qid


def test_qrels_are_clause_references_not_text() -> None:
    refs = retrieval.load_topic_refs()
    for pairs in refs.values():
        for doc_id, label in pairs:
            assert len(label) < 40 and ":" not in doc_id


@pytest.mark.parametrize(
    ("ranked", "relevant", "expected"),
    [
        (["a", "b", "c"], {"a"}, {"ndcg@10": 1.0, "recall@10": 1.0, "mrr@10": 1.0}),
        (["x", "a"], {"a"}, {"ndcg@10": 1 / math.log2(3), "mrr@10": 0.5}),
        (["x"], {"a", "b"}, {"ndcg@10": 0.0, "recall@50": 0.0, "mrr@10": 0.0}),
        (
            ["a", "x", "b"],
            {"a", "b"},
            {"ndcg@10": (1 + 0.5) / (1 + 1 / math.log2(3)), "recall@10": 1.0},
        ),
    ],
)
def test_metrics(ranked: list[str], relevant: set[str], expected: dict[str, float]) -> None:
    got = retrieval.metrics({"q": ranked}, {"q": relevant})
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-4), name


def test_percentile_is_nearest_rank() -> None:
    assert retrieval.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert retrieval.percentile(list(map(float, range(1, 101))), 95) == 95.0
    assert retrieval.percentile([], 95) == 0.0


def test_references_resolve_to_every_clause_of_the_article(small_store: Path) -> None:
    with Store(small_store) as store:
        index = retrieval.clause_index(store)
        topics = retrieval.resolve_topics(
            store, {"equality": {"heading": ["equality of treatment"], "kinds": ["ssa"]}}
        )
    assert topics["equality"]
    queries = {"q": retrieval.Query("q", "same rights", "en", "equality", "dev")}
    qrels = retrieval.build_qrels(queries, topics, index)
    expected = {cid for ref in topics["equality"] for cid in index[ref]}
    assert qrels["q"] == expected


def test_judgments_override_the_patterns(small_store: Path) -> None:
    with Store(small_store) as store:
        topics = {"equality": {"heading": ["equality of treatment"], "kinds": ["ssa"]}}
        matched = retrieval.resolve_topics(store, topics)["equality"]
        dropped = sorted(matched)[0]
        other = next(
            (c.doc_id, c.label) for c in store.clauses() if (c.doc_id, c.label) not in matched
        )
        judged = {"equality": {"relevant": {other}, "nonrelevant": {dropped}}}
        resolved = retrieval.resolve_topics(store, topics, judged)["equality"]
    assert resolved == (matched - {dropped}) | {other}


def test_judgments_file_is_well_formed() -> None:
    judgments = retrieval.load_judgments()
    topics = retrieval.load_topics()
    assert set(judgments) <= set(topics)
    for verdicts in judgments.values():
        assert set(verdicts) == set(retrieval.JUDGED)
        assert not verdicts["relevant"] & verdicts["nonrelevant"]


def test_evaluate_runs_every_mode_and_scenario(small_store: Path) -> None:
    with Store(small_store) as store:
        topics = retrieval.resolve_topics(store, retrieval.load_topics())
        queries = {k: q for k, q in retrieval.load_queries().items() if q.topic == "equality"}
        result = retrieval.evaluate(store, service.searcher(store).search, queries, topics)
    for split in ("dev", "test"):
        scen = result["splits"][split]
        assert set(scen["all"]) == set(retrieval.MODES)
        assert 0.0 <= scen["all"]["hybrid"]["ndcg@10"] <= 1.0
        assert "within" in scen
    assert set(result["latency_ms"]) == set(retrieval.MODES)
    assert "dev" in retrieval.format_table(result)


def test_scale_benchmark_small() -> None:
    rows = retrieval.scale_benchmark(sizes=(500,), dim=16, queries=5)
    assert rows[0]["type"] == "IDMap2,Flat" and rows[0]["recall@10"] == 1.0


def test_tune_fusion_scores_the_grid_on_both_splits(small_store: Path) -> None:
    with Store(small_store) as store:
        topics = retrieval.resolve_topics(store, retrieval.load_topics())
        queries = {k: q for k, q in retrieval.load_queries().items() if q.topic == "totalisation"}
        rows = retrieval.tune_fusion(store, service.searcher(store), queries, topics)
    assert len(rows) == len(retrieval.FUSION_GRID)
    assert rows[0]["dev"] == max(r["dev"] for r in rows)
    assert all(0.0 <= r["test"] <= 1.0 for r in rows)


def test_bootstrap_interval_brackets_the_mean_and_is_seeded() -> None:
    values = [1.0, 0.0, 0.5, 1.0, 0.25, 0.75, 1.0, 0.0]
    low, high = retrieval.bootstrap_ci(values)
    mean = sum(values) / len(values)
    assert low < mean < high and 0.0 <= low and high <= 1.0
    assert retrieval.bootstrap_ci(values) == (low, high)  # same seed, same interval
    assert retrieval.bootstrap_ci([0.5]) == (0.5, 0.5)
    assert retrieval.bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)
    # more questions, a narrower interval
    wide = high - low
    low4, high4 = retrieval.bootstrap_ci(values * 4)
    assert high4 - low4 < wide


def test_metrics_report_intervals_of_ndcg_and_mrr() -> None:
    got = retrieval.metrics({"q1": ["a"], "q2": ["x", "b"]}, {"q1": {"a"}, "q2": {"b"}})
    assert got["mrr@10"] == pytest.approx(0.75)
    low, high = got["mrr@10_ci"]
    assert low <= 0.75 <= high
    assert len(got["ndcg@10_ci"]) == 2
