"""The trained ranker: pair mining from structure, training on a tiny model, the rerank stage,
search with and without a ranker, and the CLI."""

from __future__ import annotations

import ast
import builtins
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import make_clause
from typer.testing import CliRunner

from migralex.corpus.errors import ValidationError
from migralex.corpus.store import Store
from migralex.index import ranker_data
from migralex.index.ranker import (
    CARD_FILE,
    MODEL_DIR,
    Reranker,
    load_card,
    ranker_dir,
    rerank,
    train_ranker,
)
from migralex.index.ranker_data import (
    NEGATIVES,
    SOURCES,
    clause_body,
    groups_sha256,
    mine_groups,
    ranker_passage,
    source_counts,
    topical_heading,
)
from migralex.ui import service
from migralex.ui.cli import app

EVALUATION_DATA = Path(__file__).resolve().parents[2] / "evaluation" / "data"


@pytest.fixture(scope="module")
def store(small_store: Path) -> Store:
    with Store(small_store) as s:
        yield s


@pytest.fixture(scope="module")
def groups(store: Store) -> list[ranker_data.TrainingGroup]:
    return mine_groups(store, seed=0)


@pytest.fixture()
def ranked_store(
    small_store: Path, tmp_path: Path, tiny_base: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A copy of the small store with a tiny trained ranker in it, the ranker switched on
    (``MIGRALEX_RERANK_DEPTH``; it is off by default)."""
    monkeypatch.setenv("MIGRALEX_RERANK_DEPTH", "20")
    root = tmp_path / "store"
    shutil.copytree(small_store, root)
    with Store(root) as st:
        train_ranker(st, steps=2, batch_groups=2, base=tiny_base, max_length=48)
    return root


def test_mining_covers_the_structural_sources(
    groups: list[ranker_data.TrainingGroup], store: Store
) -> None:
    counts = source_counts(groups)
    assert set(counts) == set(SOURCES)
    for source in ("heading", "division", "cue", "term"):
        assert counts[source] > 0, source
    for g in groups:
        assert len(g.negatives) == NEGATIVES
        assert g.positive not in g.negatives
        assert g.query.strip()
    docs = {d["doc_id"] for d in store.document_summaries()}
    assert {g.doc_id for g in groups} <= docs


def test_mining_is_deterministic(groups: list[ranker_data.TrainingGroup], store: Store) -> None:
    again = mine_groups(store, seed=0)
    assert groups_sha256(again) == groups_sha256(groups)
    assert groups_sha256(mine_groups(store, seed=1)) != groups_sha256(groups)


def test_heading_groups_mask_the_heading(groups: list[ranker_data.TrainingGroup]) -> None:
    heading_groups = [g for g in groups if g.source == "heading"]
    assert heading_groups
    for g in heading_groups:
        assert not g.positive.startswith(g.query), g.query


def test_excluded_documents_never_enter_training(store: Store) -> None:
    held = "ca-si-2006-122"
    groups = mine_groups(store, seed=0, exclude_docs=[held])
    assert groups and held not in {g.doc_id for g in groups}
    passages = set()
    for c in store.clauses(held):
        passages |= {ranker_passage(c), ranker_passage(c, mask_heading=True)}
    texts = {t for g in groups for t in (g.positive, *g.negatives)}
    assert not texts & passages


def test_the_miner_never_reads_the_benchmark(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real_open = builtins.open

    def spy(file: object, *args: object, **kwargs: object) -> object:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: spy(self).read())
    assert mine_groups(store, seed=3)
    assert not [f for f in opened if str(EVALUATION_DATA) in f or "retrieval_" in f]
    # and its code (docstrings aside) imports nothing from evaluation and names none of its files
    tree = ast.parse(Path(ranker_data.__file__).read_bytes().decode("utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names]
            assert not [n for n in names if "evaluation" in n], names
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                assert "evaluation" not in node.value and "retrieval_" not in node.value


@pytest.mark.parametrize(
    ("label", "heading", "text", "topical", "body"),
    [
        ("Article 4", "Equality of Treatment", "Article 4\nEquality of Treatment\nPersons...",
         "Equality of Treatment", "Persons..."),
        ("Article 3", "The Commission meets at the request of one", "Article 3\nThe Commission "
         "meets at the request of one\nof the Parties, at least once a year.", "",
         "The Commission meets at the request of one\nof the Parties, at least once a year."),
        ("Article 9", "Article 9", "Article 9\nThe benefits are paid.", "",
         "The benefits are paid."),
    ],
)  # fmt: skip
def test_headings_and_bodies(label: str, heading: str, text: str, topical: str, body: str) -> None:
    clause = make_clause(label, heading, text)
    assert topical_heading(clause) == topical
    assert clause_body(clause) == body
    assert ranker_passage(clause, mask_heading=True) == body
    if topical:
        assert ranker_passage(clause).startswith(heading)


def _probs(table: dict[int, float]):  # type: ignore[no-untyped-def]
    return lambda ids: np.array([table[i] for i in ids], dtype=np.float32)


@pytest.mark.parametrize(
    ("weight", "eligible", "expected"),
    [
        (0.0, {1, 2, 3}, [1, 2, 3, 4]),  # weight 0: the first stage alone
        (1.0, {1, 2, 3}, [3, 2, 1, 4]),  # weight 1: the ranker alone (4 is past the depth)
        (1.0, {2, 3}, [1, 3, 2, 4]),  # 1 not eligible: keeps its normalised score 1.0
        (0.5, {1, 2, 3}, [1, 3, 2, 4]),  # 1: .05 + .5, 3: .495 + 0, 2: .25 + .1
    ],
)
def test_rerank_is_a_pure_reordering_of_the_head(
    weight: float, eligible: set[int], expected: list[int]
) -> None:
    ranked = [(1, 0.9), (2, 0.5), (3, 0.4), (4, 0.3)]
    probs = {1: 0.1, 2: 0.5, 3: 0.99}
    out = rerank(ranked, eligible, _probs(probs), depth=3, weight=weight)
    assert [r for r, _ in out] == expected
    scores = [s for _, s in out]
    assert scores == sorted(scores, reverse=True)
    assert out[-1][1] < min(s for _, s in out[:3])
    assert ranked == [(1, 0.9), (2, 0.5), (3, 0.4), (4, 0.3)]  # input untouched


@pytest.mark.parametrize(("weight", "depth"), [(-0.1, 10), (1.5, 10), (0.5, 0)])
def test_rerank_refuses_bad_settings(weight: float, depth: int) -> None:
    with pytest.raises(ValidationError):
        rerank([(1, 1.0)], {1}, _probs({1: 0.5}), depth=depth, weight=weight)


def test_training_is_deterministic(store: Store, tmp_path: Path, tiny_base: Path) -> None:
    cards = [
        train_ranker(
            store, steps=3, batch_groups=2, base=tiny_base, max_length=48, seed=7,
            out=tmp_path / f"r{i}",
        )
        for i in range(2)
    ]  # fmt: skip
    assert cards[0].weights_sha256 == cards[1].weights_sha256
    assert cards[0].data_sha256 == cards[1].data_sha256
    assert sum(cards[0].groups.values()) == 6 and cards[0].steps == 3
    card = json.loads((tmp_path / "r0" / CARD_FILE).read_text())
    assert card["weights_sha256"] == cards[0].weights_sha256 and card["seed"] == 7
    assert (tmp_path / "r0" / MODEL_DIR).is_dir()
    passages = ["Equality of treatment of nationals", "Entry into force"]
    scores = [Reranker(tmp_path / f"r{i}").score("equal treatment", passages) for i in range(2)]
    assert scores[0].shape == (2,) and scores[0].dtype == np.float32
    assert np.array_equal(scores[0], scores[1])
    assert ((scores[0] > 0) & (scores[0] < 1)).all()
    other = train_ranker(
        store, steps=3, batch_groups=2, base=tiny_base, max_length=48, seed=8,
        out=tmp_path / "r2",
    )  # fmt: skip
    assert other.weights_sha256 != cards[0].weights_sha256


def test_training_refuses_bad_settings(store: Store) -> None:
    with pytest.raises(ValidationError):
        train_ranker(store, steps=0)


def test_search_without_a_ranker_is_unchanged(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGRALEX_RERANK_DEPTH", "20")
    assert load_card(store.root) is None
    searcher = service.searcher(store)
    assert searcher.ranker is None
    plain = service.searcher(store, use_ranker=False)
    for mode in ("hybrid", "semantic"):
        a = searcher.search("equality of treatment", k=5, mode=mode)
        b = plain.search("equality of treatment", k=5, mode=mode)
        assert [(h.clause.clause_id, h.score) for h in a] == [
            (h.clause.clause_id, h.score) for h in b
        ]
    assert searcher.ranker_used("equality of treatment", "hybrid") is None


def test_search_uses_the_stores_ranker(ranked_store: Path) -> None:
    with Store(ranked_store) as st:
        assert load_card(st.root) is not None
        searcher = service.searcher(st)
        assert searcher.ranker is not None
        name = searcher.ranker().name
        query = "which persons are covered by the agreement"
        assert searcher.ranker_used(query, "hybrid") == name
        assert searcher.ranker_used(query, "lexical") is None
        assert (
            searcher.ranker_used("quelles personnes sont couvertes par la convention", "hybrid")
            is None
        )
        hits = searcher.search(query, k=5, mode="hybrid")
        plain = service.searcher(st, use_ranker=False).search(query, k=40, mode="hybrid")
        assert [h.rank for h in hits] == list(range(1, 6))
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        assert {h.clause.clause_id for h in hits} <= {h.clause.clause_id for h in plain}


def test_ranker_is_off_by_default(ranked_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIGRALEX_RERANK_DEPTH")
    with Store(ranked_store) as st:
        assert load_card(st.root) is not None
        assert service.searcher(st).ranker is None
    res = CliRunner().invoke(
        app, ["search", "persons covered by the agreement", "--store", str(ranked_store), "--json"]
    )
    assert res.exit_code == 0 and json.loads(res.stdout)["ranker"] is None


def test_cli_search_json_reports_the_ranker(small_store: Path, ranked_store: Path) -> None:
    runner = CliRunner()
    for root, expected in ((small_store, None), (ranked_store, "migralex-ce-minilm")):
        res = runner.invoke(
            app, ["search", "persons covered by the agreement", "--store", str(root), "--json"]
        )
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["ranker"] == expected
    res = runner.invoke(
        app, ["search", "pension", "--mode", "lexical", "--store", str(ranked_store), "--json"]
    )
    assert json.loads(res.stdout)["ranker"] is None


def test_cli_train_ranker(small_store: Path, tmp_path: Path, tiny_base: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(small_store, root)
    held = tmp_path / "held.txt"
    held.write_text("# test documents\nca-si-2006-122\n")
    args = ["train-ranker", "--store", str(root), "--steps", "2", "--base", str(tiny_base)]
    args += ["--kind", "cross-encoder"]
    res = CliRunner().invoke(app, [*args, "--exclude-docs", str(held), "--json"])
    assert res.exit_code == 0, res.output
    card = json.loads(res.stdout)["card"]
    assert card["excluded_docs"] == ["ca-si-2006-122"] and card["steps"] == 2
    assert load_card(root) is not None and ranker_dir(root).is_dir()
    held.write_text("no-such-document\n")
    res = CliRunner().invoke(app, [*args, "--exclude-docs", str(held)])
    assert res.exit_code == 2
    assert "no-such-document" in res.stderr and str(held) in res.stderr
