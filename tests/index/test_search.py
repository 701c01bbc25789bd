"""Search modes, filters inside the ranking, similar clauses, fusion and the embedders."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import make_clause

from migralex.corpus.errors import ValidationError
from migralex.corpus.store import Filters, Store
from migralex.index.embedders import HashEmbedder
from migralex.index.search import Searcher, lexical_query, rrf_fuse
from migralex.ui import service


@pytest.fixture()
def store(small_store: Path) -> Store:
    with Store(small_store) as s:
        yield s


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "lexical"])
def test_each_mode_finds_the_equality_of_treatment_article(store: Store, mode: str) -> None:
    hits = service.searcher(store).search("equality of treatment", k=5, mode=mode)
    assert hits, mode
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert any("Equality of Treatment" in h.clause.heading for h in hits[:3])
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "lexical"])
def test_filters_apply_before_ranking(store: Store, mode: str) -> None:
    searcher = service.searcher(store)
    unfiltered = searcher.search("benefits", k=3, mode=mode)
    top_doc = unfiltered[0].clause.doc_id
    others = Filters(exclude_doc_ids=(top_doc,))
    filtered = searcher.search("benefits", k=3, mode=mode, filters=others)
    # A filter applied after a truncated top-k would return fewer than k hits here.
    assert len(filtered) == 3
    assert top_doc not in {h.clause.doc_id for h in filtered}
    french = searcher.search(
        "benefits prestations", k=5, mode=mode, filters=Filters(languages=("fr",))
    )
    assert french and {h.clause.language for h in french} == {"fr"}


def test_tag_and_party_filters(store: Store) -> None:
    searcher = service.searcher(store)
    hits = searcher.search("pension", k=5, filters=Filters(parties=("Latvia",)))
    assert hits and {h.clause.doc_id for h in hits} == {"ca-si-2006-122"}
    tagged = store.stats()["tags"]
    if tagged:
        name = next(iter(tagged))
        hits = searcher.search("agreement", k=5, filters=Filters(tags=(name,)))
        assert hits and all(name in h.tags for h in hits)


def test_similar_returns_other_documents_one_each(store: Store) -> None:
    clause = next(c for c in store.clauses("ca-si-96-32") if c.label == "ARTICLE 4")
    hits = service.searcher(store).similar(clause.clause_id, k=3)
    docs = [h.clause.doc_id for h in hits]
    assert "ca-si-96-32" not in docs
    assert len(docs) == len(set(docs))


def test_bad_queries(store: Store) -> None:
    searcher = service.searcher(store)
    with pytest.raises(ValidationError, match="valid: hybrid, semantic, lexical"):
        searcher.search("x", mode="fuzzy")
    with pytest.raises(ValidationError):
        searcher.search("   ")
    assert searcher.search("the of and", mode="lexical") == []


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"fusion": "rfr"}, "unknown fusion 'rfr'; valid: scores, rrf"),
        ({"fusion": "score"}, "unknown fusion"),
        ({"weights": (0.0, 0.0)}, "fusion weights"),
        ({"weights": (-1.0, 2.0)}, "fusion weights"),
        ({"weights": (1.0,)}, "fusion weights"),
        ({"rrf_k": 0}, "rrf_k"),
        ({"intent_boost": -0.1}, "intent_boost"),
        ({"preamble_prior": 1.5}, "preamble_prior"),
    ],
)
def test_ranking_settings_are_validated(store: Store, setting: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Searcher(store, lambda: HashEmbedder(), **setting)


@pytest.mark.parametrize("fusion", [None, "scores", "rrf"])
def test_valid_fusions_are_taken(store: Store, fusion: str | None) -> None:
    searcher = Searcher(store, lambda: HashEmbedder(), fusion=fusion, weights=(1.0, 1.0))
    assert searcher.fusion_setting()[0] in {"scores", "rrf"}
    assert searcher.search("equality of treatment", k=3, mode="hybrid")


@pytest.mark.parametrize(
    ("mode", "setting", "names"),
    [
        ("lexical", {}, ("lexical",)),
        ("semantic", {}, ("semantic",)),
        (
            "hybrid",
            {},
            (
                "fusion",
                "preamble_prior",
                "language_merge",
                "document_spread",
                "candidates",
                "intent_boost",
            ),
        ),
        (
            "hybrid",
            {"intent_boost": 0.0},
            ("fusion", "preamble_prior", "language_merge", "document_spread", "candidates"),
        ),
    ],
)
def test_each_mode_is_a_pipeline_of_named_stages(
    store: Store, mode: str, setting: dict, names: tuple[str, ...]
) -> None:
    searcher = Searcher(store, lambda: HashEmbedder(), **setting)
    assert searcher.pipeline(mode).names == names


def test_lexical_query_quotes_content_words() -> None:
    assert lexical_query('Export of "benefits" abroad?') == '"export" OR "benefits" OR "abroad"'


def test_rrf_fuse_rewards_agreement_and_breaks_ties_by_id() -> None:
    fused = rrf_fuse([[(1, 0.9), (2, 0.8)], [(2, 5.0), (3, 4.0)]])
    assert [i for i, _ in fused] == [2, 1, 3]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    e = HashEmbedder()
    a = e.embed_passages(["export of benefits", "export of benefits", "tax exemption"])
    assert a.dtype == np.float32 and a.shape == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    assert np.array_equal(a[0], a[1])
    assert a[0] @ a[1] > a[0] @ a[2]


def test_faiss_cache_is_rebuilt_when_stale(small_store: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "s"
    shutil.copytree(small_store, root)
    with Store(root) as s:
        service.searcher(s).search("pension", k=1, mode="semantic")
        assert (root / "vectors.faiss").exists()
        s.delete_document("nl-bwbv0001745")
        hits = service.searcher(s).search("export of benefits Belize", k=20, mode="semantic")
        assert "nl-bwbv0001745" not in {h.clause.doc_id for h in hits}


@pytest.mark.integration
def test_real_minilm_puts_export_of_benefits_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import corpus_file

    monkeypatch.setenv("MIGRALEX_MODEL", "minilm")
    monkeypatch.setenv("MIGRALEX_MULTILINGUAL_MODEL", "none")  # routing: test_real_routing...
    files = ["ssa/ca-si-2006-122.html", "ssa/ca-si-96-32.pdf", "ssa/ca-si-2002-1.docx"]
    with Store(tmp_path / "s") as s:
        service.ingest([corpus_file(f) for f in files], s)
        assert s.model == ("minilm", 384)
        query = "pension keeps being paid when the pensioner moves to the other country"
        hits = service.searcher(s).search(query, k=3, mode="semantic")
        hybrid = service.searcher(s).search(query, k=5, mode="hybrid")
    assert hits[0].clause.heading == "Payment of Benefits Abroad"
    assert "export_of_benefits" in hits[0].tags
    # Hybrid (BM25 weighted .6 over three documents) lets "pension" pull the Old Age Security
    # articles up; the payment-abroad articles stay in its top 5.
    assert any("Payment of Benefits" in h.clause.heading for h in hybrid)


@pytest.mark.integration
def test_real_routing_answers_a_french_question_from_e5_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import corpus_file

    monkeypatch.setenv("MIGRALEX_MODEL", "minilm")
    monkeypatch.delenv("MIGRALEX_MULTILINGUAL_MODEL", raising=False)
    query = "versement des prestations à l'étranger sans réduction"
    with Store(tmp_path / "s") as s:
        service.ingest([corpus_file("ssa/ca-si-96-32.pdf")], s)
        assert s.multilingual_model == ("e5-small", 384)
        assert s.count_vectors("e5-small") == s.count_vectors() == s.count_clauses()
        searcher = service.searcher(s)
        assert searcher.routed_model(query) == "e5-small"
        assert searcher.routed_model("can a pensioner who moves abroad keep the pension?") is None
        hits = searcher.search(query, k=1, mode="semantic")
    assert hits[0].clause.heading == "Payment of Benefits Abroad"


@pytest.mark.parametrize(
    ("ranked", "expected"),
    [
        ([{"export_of_benefits"}, {"export_of_benefits", "branch_old_age"}, set()], "export"),
        ([{"branch_old_age"}, {"branch_old_age"}], ""),  # branch lists are not an intent
        ([set(), set()], ""),
        ([{"totalisation"}, {"export_of_benefits"}, {"export_of_benefits"}], "export"),
        ([{"totalisation"}, {"export_of_benefits"}], "totalisation"),  # rank 1 weighs more
    ],
)
def test_feedback_intent_takes_the_dominant_tag(ranked: list[set[str]], expected: str) -> None:
    from migralex.index.intent import feedback_intent

    tag, share = feedback_intent(ranked)
    assert tag.startswith(expected) if expected else tag == ""
    assert 0.0 <= share <= 1.0
    if ranked[0] == {"export_of_benefits"} and len(ranked) == 3:
        assert share == pytest.approx(1 / (1 + 1 / math.log2(3) + 0.5) * (1 + 1 / math.log2(3)))


def test_intent_boost_lifts_clauses_with_the_intent_tag(store: Store) -> None:
    searcher = service.searcher(store)
    ssa = store.filter_rowids(Filters(kinds=("ssa",)))
    names = store.tag_names_by_rowid(sorted(ssa))
    tagged_all = {r for r, n in names.items() if "export_of_benefits" in n}
    tagged, *rest = sorted(tagged_all)
    other = next(r for r in ssa if r not in tagged_all)
    basis = [(r, 1.0) for r in [tagged, *rest][:5]]  # the unfiltered top is about export
    boosted = searcher.intent_boosted([(other, 0.5), (tagged, 0.4)], basis)
    assert [r for r, _ in boosted] == [tagged, other]
    # the unfiltered top is about something else: no boost for export
    plain = searcher.intent_boosted([(other, 0.5), (tagged, 0.4)], [(other, 1.0)] * 5)
    assert [r for r, _ in plain] == [other, tagged]
    searcher.intent_boost = 0.0
    assert [r for r, _ in searcher.intent_boosted([(other, 0.5), (tagged, 0.4)], basis)] == [
        other,
        tagged,
    ]


def test_tag_names_by_rowid(store: Store) -> None:
    ssa = sorted(store.filter_rowids(Filters(kinds=("ssa",))))
    names = store.tag_names_by_rowid(ssa)
    rows = store.clauses_by_rowid(ssa)
    tags = store.tags_for(c.clause_id for c in rows.values())
    tagged = {
        r for r, c in rows.items() if any(t.name == "totalisation" for t in tags[c.clause_id])
    }
    assert tagged and {r for r, n in names.items() if "totalisation" in n} == tagged


def test_structural_topics_from_heading_or_opening() -> None:
    from migralex.corpus.models import Clause
    from migralex.nlp.structure import structural_topics

    def clause(heading: str, body: str) -> Clause:
        text = f"Article 30 {heading}\n{body}" if heading else f"Article 30\n{body}"
        return make_clause("Article 30", heading, text, language="fr")

    assert "entry_into_force_and_termination" in structural_topics(
        clause("", "La présente Convention entrera en vigueur le premier jour du mois suivant.")
    )
    assert "entry_into_force_and_termination" in structural_topics(
        clause("Entry into Force", "The Parties shall notify each other.")
    )
    # a heading states the subject: the opening words are not read then
    assert (
        structural_topics(
            clause("Definitions", "La présente Convention entrera en vigueur le premier jour.")
        )
        == frozenset()
    )


def test_preambles_rank_below_articles_of_equal_score(store: Store) -> None:
    from migralex.nlp.structure import is_preamble

    rows = store.clauses_by_rowid(sorted(store.filter_rowids(Filters(kinds=("ssa",)))))
    preamble = next(r for r, c in rows.items() if is_preamble(c))
    article = next(r for r, c in rows.items() if not is_preamble(c))
    searcher = service.searcher(store)
    assert searcher.preamble_lowered([(preamble, 0.8), (article, 0.5)]) == [
        (article, 0.5),
        (preamble, 0.4),
    ]
    searcher.preamble_prior = 1.0
    assert searcher.preamble_lowered([(preamble, 0.8), (article, 0.5)])[0] == (preamble, 0.8)


def test_return_heading_means_the_workers_return() -> None:
    from migralex.nlp.structure import structural_topics

    def topics(heading: str) -> frozenset[str]:
        text = f"Section 37 {heading}\nA person shall repay the amount."
        return structural_topics(make_clause("Section 37", heading, text))

    assert "return_and_reintegration" in topics("Return of migrant workers")
    assert "return_and_reintegration" in topics("Return")
    # national laws: recovery of overpayments and tax returns are not the workers' return
    assert "return_and_reintegration" not in topics(
        "Return of benefit where recipient not entitled"
    )
    assert "return_and_reintegration" not in topics(
        "Examination of return and notice of assessment"
    )


def test_intent_from_structural_topics(store: Store) -> None:
    """Questions on subjects without a tag (final clauses) get their intent from headings."""
    searcher = service.searcher(store)
    rows = store.clauses_by_rowid(sorted(store.filter_rowids(Filters(kinds=("ssa",)))))
    labels = searcher.labels_by_rowid(list(rows))
    final = [r for r, n in labels.items() if "item:entry_into_force_and_termination" in n]
    other = next(r for r, n in labels.items() if not any(x.startswith("item:") for x in n))
    assert final
    boosted = searcher.intent_boosted(
        [(other, 0.5), (final[0], 0.4)], [(r, 1.0) for r in final[:5]]
    )
    assert [r for r, _ in boosted] == [final[0], other]


def test_feedback_vector_moves_the_query_towards_its_best_hits(store: Store) -> None:
    searcher = service.searcher(store)
    query = "equality of treatment"
    vector = searcher.embedder().embed_queries([query])[0]
    top = [r for r, _ in searcher.fused_ranking(query, 100, Filters(), vector)][:3]
    centroid = searcher.vectors.reconstruct_many(top).mean(axis=0)
    moved = searcher.feedback_vector(query, vector)
    assert moved.shape == vector.shape and moved.dtype == np.float32
    assert math.isclose(float(np.linalg.norm(moved)), 1.0, rel_tol=1e-5)
    assert float(moved @ centroid) > float(vector @ centroid)
    expected = vector + searcher.prf_beta * centroid
    assert np.allclose(moved, expected / np.linalg.norm(expected), atol=1e-6)
    searcher.prf_beta = 0.0
    assert searcher.feedback_vector(query, vector) is vector
