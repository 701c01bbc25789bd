"""BM25 lexical index: analysis, ILO-vocabulary expansion, filters, cache, fusion and grouping."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from migralex.corpus.store import Filters, Store
from migralex.index.lexical import (
    ILO_TERMS,
    ILO_TERMS_ES,
    INDEX_FILE,
    MANIFEST_FILE,
    LexicalIndex,
    analyse,
    expand,
)
from migralex.index.search import fts_query, score_fuse
from migralex.ui import service


@pytest.fixture()
def store(small_store: Path, tmp_path: Path) -> Store:
    root = tmp_path / "s"
    shutil.copytree(small_store, root)
    with Store(root) as s:
        yield s


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Totalization of Periods", ["totali", "period"]),
        ("la totalisation des périodes", ["totali", "period"]),
        ("Détachement", ["detach"]),
        ("the of and", []),
    ],
)
def test_analyse_folds_accents_drops_stopwords_and_truncates(text: str, terms: list[str]) -> None:
    assert analyse(text) == terms


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cumul des périodes d'assurance", {"totali", "aggreg"}),
        ("posted worker", {"detach", "second"}),
        ("égalité de traitement", {"equali", "treatm"}),
        ("totalización de los períodos de seguro", {"totali", "aggreg", "cumul"}),
        ("exportación de prestaciones", {"export", "abroad", "etrang"}),
        ("trabajador desplazado", {"detach", "posted"}),
    ],
)
def test_expand_adds_the_other_wordings_of_an_ilo_concept(query: str, expected: set[str]) -> None:
    assert expected <= set(expand(analyse(query)))


def test_spanish_wordings_expand_spanish_queries_only() -> None:
    expanded = expand(analyse("pago de prestaciones en el extranjero"))
    assert len(expanded) == len(set(expanded))  # Spanish and French wordings share terms
    spanish = set(expanded)
    assert {"export", "abroad", "etrang", "extran"} <= spanish  # en, fr and es wordings
    english = expand(analyse("export of benefits"))
    assert "extran" not in english and "etrang" in english
    assert set(ILO_TERMS_ES) <= set(ILO_TERMS)


def test_expand_leaves_unrelated_queries_alone() -> None:
    terms = analyse("weather report")
    assert expand(terms) == terms


def test_lexical_index_ranks_filters_and_caches(store: Store) -> None:
    index = LexicalIndex(store)
    hits = index.search("totalisation of insurance periods", 5)
    assert hits and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert (store.root / INDEX_FILE).exists() and (store.root / MANIFEST_FILE).exists()
    allowed = store.filter_rowids(Filters(languages=("fr",)))
    assert allowed is not None
    french = index.search("totalisation of insurance periods", 5, allowed)
    assert french and {r for r, _ in french} <= set(allowed.tolist())
    assert index.search("totalisation", 5, np.zeros(0, np.int64)) == []
    # A second index over the same store loads the cache and ranks the same.
    assert LexicalIndex(store).search("totalisation of insurance periods", 5) == hits


def test_lexical_cache_is_rebuilt_when_the_store_changes(store: Store) -> None:
    before = LexicalIndex(store).search("export of benefits Belize", 50)
    assert "nl-bwbv0001745" in {
        c.doc_id for c in store.clauses_by_rowid([r for r, _ in before]).values()
    }
    store.delete_document("nl-bwbv0001745")
    after = LexicalIndex(store).search("export of benefits Belize", 50)
    assert "nl-bwbv0001745" not in {
        c.doc_id for c in store.clauses_by_rowid([r for r, _ in after]).values()
    }


def test_quoted_phrases_use_fts5(store: Store) -> None:
    assert fts_query('"equality of treatment" pension') == '"equality of treatment" OR "pension"'
    hits = service.searcher(store).search('"equality of treatment"', k=3, mode="lexical")
    assert hits and all("equality of treatment" in h.clause.text.lower() for h in hits)


def test_score_fuse_normalises_and_weights() -> None:
    fused = score_fuse([[(1, 0.9), (2, 0.5)], [(2, 10.0), (3, 2.0)]], weights=(0.4, 0.6))
    assert [i for i, _ in fused] == [2, 1, 3]
    assert fused[0][1] == pytest.approx(0.6)
    assert fused[1][1] == pytest.approx(0.4)
    assert score_fuse([[], [(5, 1.0)]]) == [(5, 0.5)]


def test_grouping_folds_identical_wording_of_other_agreements(tmp_path: Path) -> None:
    from conftest import corpus_file

    src = corpus_file("ssa/nl-bwbv0001745.md")
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    with Store(tmp_path / "s") as s:
        service.ingest([tmp_path / "a.md", tmp_path / "b.md"], s)
        searcher = service.searcher(s)
        plain = searcher.search("export of benefits", k=4)
        grouped = searcher.search("export of benefits", k=4, group=True)
    assert len({h.clause.label for h in plain[:2]}) == 1  # the same article, twice
    assert grouped[0].similar_count == 1
    labels = [h.clause.label for h in grouped]
    assert len(labels) == len(set(labels))
    assert [h.rank for h in grouped] == list(range(1, len(grouped) + 1))


def test_ivf_index_above_the_flat_limit_still_filters(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migralex.index import vectors

    monkeypatch.setattr(vectors, "FLAT_LIMIT", 10)
    searcher = service.searcher(store)
    assert searcher.vectors._manifest()["type"].startswith("IVF")
    hits = searcher.search("benefits", k=5, mode="semantic", filters=Filters(languages=("fr",)))
    assert len(hits) == 5 and {h.clause.language for h in hits} == {"fr"}


def test_fusion_follows_the_store_model_unless_given(store: Store) -> None:
    from migralex.index.search import FUSION_DEFAULT, Searcher

    assert service.searcher(store).fusion_setting() == FUSION_DEFAULT  # the hash embedder
    explicit = Searcher(store, service.embedder_factory("hash"), fusion="rrf", weights=(1.0, 1.0))
    assert explicit.fusion_setting() == ("rrf", (1.0, 1.0))
    assert explicit.search("totalisation", k=3, mode="hybrid")
