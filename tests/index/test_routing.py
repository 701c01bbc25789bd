"""Query-language routing: the store's multilingual vector set, how ingest makes and fills it,
and which questions search answers from it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from migralex.corpus.errors import StoreError
from migralex.corpus.store import Filters, Store
from migralex.index import search as search_module
from migralex.index.embedders import HashEmbedder
from migralex.index.search import Searcher
from migralex.ingest.pipeline import fill_multilingual, ingest_paths
from migralex.ui import service

EN_DOC = (
    "# Agreement\n\n### Article 1\n\n#### Payment abroad\n\nA pension is paid to a beneficiary who "
    "resides in the territory of the other Party without reduction.\n\n### Article 2\n\n#### "
    "Settlement of disputes\n\nDisagreements on the interpretation are settled by negotiation.\n"
)
FR_QUERY = "la retraite est-elle versée au retraité qui réside à l'étranger ?"
EN_QUERY = "is the pension paid to a pensioner who resides abroad?"


class EnglishOnly(HashEmbedder):
    """The main model: words as they are (a French question shares no word with English text)."""

    def __init__(self) -> None:
        super().__init__(64)
        self.name = "en-only"
        self.seen: list[str] = []

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().embed_passages(texts)


class Multilingual(HashEmbedder):
    """The multilingual model: French words mapped to their English equivalents first."""

    WORDS = {"retraite": "pension", "versée": "paid", "retraité": "pensioner", "réside": "resides"}

    def __init__(self) -> None:
        super().__init__(32)
        self.name = "multi"
        self.seen: list[str] = []

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        mapped = [re.sub(r"\w+", lambda m: self.WORDS.get(m[0], m[0]), t.lower()) for t in texts]
        return super()._embed(mapped)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().embed_passages(texts)


@pytest.fixture()
def english_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the fake main model read English only, as all-MiniLM-L6-v2 does."""
    monkeypatch.setitem(search_module.MODEL_LANGUAGES, "en-only", frozenset({"en"}))


def _ingest(
    paths: Sequence[Path], store: Store, main: EnglishOnly, multi: Multilingual | None
) -> list[str]:
    results = ingest_paths(
        paths, store, tagger=lambda c, lang: [], embedder=lambda: main,
        multilingual=(lambda: multi) if multi else None, passage=lambda c: c.text,
        detect=lambda t: "en",
    )  # fmt: skip
    return [r.status for r in results]


def _doc(tmp_path: Path, name: str = "a.md", text: str = EN_DOC) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _searcher(store: Store, main: EnglishOnly, multi: Multilingual | None) -> Searcher:
    return Searcher(store, lambda: main, multilingual=(lambda: multi) if multi else None)


def test_ingest_stores_both_vector_sets_and_delete_removes_both(tmp_path: Path) -> None:
    main, multi = EnglishOnly(), Multilingual()
    with Store(tmp_path / "s") as store:
        assert _ingest([_doc(tmp_path)], store, main, multi) == ["added"]
        assert store.model == ("en-only", 64)
        assert store.multilingual_model == ("multi", 32)
        assert store.count_vectors("multi") == store.count_vectors() == store.count_clauses()
        ids, mat = store.vectors("multi")
        assert mat.shape == (len(ids), 32)
        assert store.stats()["multilingual_model"] == "multi"
        store.delete_document(store.clauses()[0].doc_id)
        assert store.count_vectors("multi") == 0


def test_reingest_reuses_multilingual_vectors_of_unchanged_clauses(tmp_path: Path) -> None:
    main, multi = EnglishOnly(), Multilingual()
    doc = _doc(tmp_path)
    with Store(tmp_path / "s") as store:
        _ingest([doc], store, main, multi)
        first = len(multi.seen)
        doc.write_text(EN_DOC.replace("by negotiation", "by arbitration"), encoding="utf-8")
        assert _ingest([doc], store, main, multi) == ["updated"]
        assert len(multi.seen) == first + 1, "only the changed clause is embedded again"
        assert store.count_vectors("multi") == store.count_clauses()


def test_fill_multilingual_embeds_what_an_older_store_lacks(tmp_path: Path) -> None:
    main, multi = EnglishOnly(), Multilingual()
    with Store(tmp_path / "s") as store:
        _ingest([_doc(tmp_path)], store, main, None)
        assert store.multilingual_model is None and store.count_vectors("multi") == 0
        # A later run with the second set embeds the new file and the clauses already stored.
        second = _doc(tmp_path, "b.md", EN_DOC.replace("Agreement", "Convention"))
        _ingest([second], store, main, multi)
        assert len(store.clauses()) > 2
        assert store.count_vectors("multi") == store.count_clauses()
        with store.writer():
            assert fill_multilingual(store, lambda: pytest.fail("must not load"), str) == 0


def test_another_multilingual_model_is_refused_and_the_store_kept(tmp_path: Path) -> None:
    main, multi = EnglishOnly(), Multilingual()
    other = Multilingual()
    other.name = "other"
    with Store(tmp_path / "s") as store:
        _ingest([_doc(tmp_path)], store, main, multi)
        before = store.count_clauses()
        statuses = _ingest(
            [_doc(tmp_path, "b.md", EN_DOC.replace("Party", "State"))], store, main, other
        )
        assert statuses == ["failed"]
        assert store.count_clauses() == before
        assert store.multilingual_model == ("multi", 32)
        with pytest.raises(StoreError, match="multilingual vectors of model 'multi'"):
            store.add_multilingual_vectors(("other", 32), [1], np.zeros((1, 32), np.float32))


def test_questions_in_other_languages_are_routed_to_the_multilingual_set(
    tmp_path: Path, english_only: None
) -> None:
    main, multi = EnglishOnly(), Multilingual()
    with Store(tmp_path / "s") as store:
        _ingest([_doc(tmp_path)], store, main, multi)
        routed = _searcher(store, main, multi)
        assert routed.routed_model(EN_QUERY) is None
        assert routed.routed_model(FR_QUERY) == "multi"
        assert routed.routed_model("pension") is None  # too short to tell: the main model
        for mode in ("semantic", "hybrid"):
            hits = routed.search(FR_QUERY, k=1, mode=mode)
            assert hits[0].clause.heading == "Payment abroad", mode
        routed_score = routed.search(FR_QUERY, k=1, mode="semantic")[0].score
        assert (store.root / "vectors-multi.faiss").exists()
        # Without the second set the French words barely match the main vectors.
        plain = _searcher(store, main, None)
        assert plain.routed_model(FR_QUERY) is None
        semantic = plain.search(FR_QUERY, k=1, mode="semantic")
        assert routed_score > semantic[0].score + 0.2
        # Filters apply inside the routed search too.
        none_left = Filters(exclude_doc_ids=(semantic[0].clause.doc_id,))
        assert routed.search(FR_QUERY, k=3, mode="semantic", filters=none_left) == []


def test_no_routing_when_the_set_is_incomplete_or_the_main_model_reads_all(
    tmp_path: Path, english_only: None
) -> None:
    main, multi = EnglishOnly(), Multilingual()
    with Store(tmp_path / "s") as store:
        _ingest([_doc(tmp_path)], store, main, multi)
        _ingest([_doc(tmp_path, "b.md", EN_DOC.replace("Party", "State"))], store, main, None)
        missing = store.count_vectors() - store.count_vectors("multi")
        assert missing > 0
        assert _searcher(store, main, multi).routed_model(FR_QUERY) is None
        calls: list[tuple[int, int]] = []
        with store.writer():
            filled = fill_multilingual(
                store,
                lambda: multi,
                lambda c: c.text,
                batch=2,
                on_progress=lambda *a: calls.append(a),
            )
        assert filled == missing
        assert calls == [(min(i + 2, missing), missing) for i in range(0, missing, 2)]
        assert _searcher(store, main, multi).routed_model(FR_QUERY) == "multi"
    search_module.MODEL_LANGUAGES.pop("en-only")
    with Store(tmp_path / "s") as store:
        assert _searcher(store, main, multi).routed_model(FR_QUERY) is None


def test_multilingual_for_keeps_stores_as_they_were_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIGRALEX_MULTILINGUAL_MODEL", raising=False)
    with Store(tmp_path / "new") as new:
        assert service.multilingual_for(new, "minilm") == "e5-small"
        assert service.multilingual_for(new, "minilm", "none") is None
        assert service.multilingual_for(new, "e5-small") is None  # reads every language
        assert service.multilingual_for(new, "hash") is None
        monkeypatch.setenv("MIGRALEX_MULTILINGUAL_MODEL", "none")
        assert service.multilingual_for(new, "minilm") is None
    main, multi = EnglishOnly(), Multilingual()
    with Store(tmp_path / "old") as old:
        _ingest([_doc(tmp_path)], old, main, None)
        # A store with vectors but no second set gets one only when asked for by name.
        monkeypatch.delenv("MIGRALEX_MULTILINGUAL_MODEL")
        monkeypatch.setitem(search_module.MODEL_LANGUAGES, "en-only", frozenset({"en"}))
        assert service.multilingual_for(old, "en-only") is None
        assert service.multilingual_for(old, "en-only", "e5-small") == "e5-small"
    with Store(tmp_path / "both") as both:
        _ingest([_doc(tmp_path)], both, main, multi)
        assert service.multilingual_for(both, "en-only", None) == "multi"
        with pytest.raises(StoreError, match="not 'e5-small'"):
            service.multilingual_for(both, "en-only", "e5-small")
        with pytest.raises(StoreError, match="not none"):
            service.multilingual_for(both, "en-only", "none")


def test_multilingual_passages_are_cut_to_the_main_models_window() -> None:
    from migralex.index.embedders import MULTILINGUAL_PASSAGE_CHARS, TruncatedPassages

    inner = Multilingual()
    cut = TruncatedPassages(inner)
    long_text = "pension " * 1000
    vectors = cut.embed_passages([long_text, "short"])
    assert vectors.shape == (2, 32) and (cut.name, cut.dimension) == ("multi", 32)
    assert inner.seen == [long_text[:MULTILINGUAL_PASSAGE_CHARS], "short"]
    query = cut.embed_queries([long_text])
    np.testing.assert_allclose(query, inner.embed_queries([long_text]))


def test_similar_compares_a_french_clause_in_the_multilingual_set(
    tmp_path: Path, english_only: None
) -> None:
    main, multi = EnglishOnly(), Multilingual()
    fr_doc = (
        "# Convention\n\n### Article 1\n\nLa retraite est versée au retraité qui réside sur le "
        "territoire de l'autre Partie.\n\n### Article 2\n\nLes différends sont réglés par voie "
        "de négociation entre les Parties contractantes.\n"
    )
    with Store(tmp_path / "s") as store:
        _ingest([_doc(tmp_path), _doc(tmp_path, "fr.md", fr_doc)], store, main, multi)
        rows = {c.clause_id: store.rowid_of(c.clause_id) for c in store.clauses()}
        french = next(c for c in store.clauses() if "retraite" in c.text)
        store._conn.execute("UPDATE clauses SET language='fr' WHERE doc_id=?", (french.doc_id,))
        hits = _searcher(store, main, multi).similar(french.clause_id, k=1)
        assert hits[0].clause.heading == "Payment abroad"
        ids, vectors = store.vectors("multi")
        by_row = dict(zip(ids.tolist(), vectors, strict=True))
        expected = by_row[rows[french.clause_id]] @ by_row[rows[hits[0].clause.clause_id]]
        assert hits[0].score == pytest.approx(float(expected), abs=1e-5)
        # An English clause is compared in the main set.
        english = _searcher(store, main, multi).similar(hits[0].clause.clause_id, k=1)
        ids, vectors = store.vectors()
        by_row = dict(zip(ids.tolist(), vectors, strict=True))
        pair = by_row[rows[hits[0].clause.clause_id]] @ by_row[rows[english[0].clause.clause_id]]
        assert english[0].score == pytest.approx(float(pair), abs=1e-5)


FR_DOC = (
    "# Accord\n\n### Article 1\n\n#### Paiement à l'étranger\n\nLa retraite est versée au "
    "retraité qui réside à l'étranger, sans réduction.\n\n### Article 2\n\n#### Différends\n\n"
    "Les différends sont réglés par voie de négociation.\n"
)


def test_english_questions_over_clauses_the_main_model_cannot_read_use_the_multilingual_set(
    tmp_path: Path, english_only: None
) -> None:
    main, multi = EnglishOnly(), Multilingual()
    with Store(tmp_path / "s") as store:
        for name, text, lang in (("en.md", EN_DOC, "en"), ("fr.md", FR_DOC, "fr")):
            ingest_paths(
                [_doc(tmp_path, name, text)], store, tagger=lambda c, lang: [],
                embedder=lambda: main, multilingual=lambda: multi, passage=lambda c: c.text,
                detect=lambda t, lang=lang: lang,
            )  # fmt: skip
        docs = {d.language: d.doc_id for d in store.documents()}
        searcher = _searcher(store, main, multi)
        french = Filters(languages=("fr",))
        assert searcher.routed_model(EN_QUERY) is None
        assert searcher.routed_model(EN_QUERY, french) == "multi"
        assert searcher.routed_model(EN_QUERY, Filters(languages=("en", "fr"))) is None
        assert searcher.routed_model(EN_QUERY, Filters(doc_ids=(docs["fr"],))) == "multi"
        assert searcher.routed_model(EN_QUERY, Filters(doc_ids=(docs["en"],))) is None
        assert searcher.routed_model(EN_QUERY, Filters(doc_ids=("no-such-doc",))) is None
        assert searcher.cross_lingual(EN_QUERY, french)
        assert not searcher.cross_lingual(FR_QUERY, french)  # routed by its own language
        assert not searcher.cross_lingual(EN_QUERY, Filters(doc_ids=(docs["en"],)))
        assert (
            searcher.fusion_setting("e5-small", cross_lingual=True)
            == (search_module.CROSS_LINGUAL_FUSION["e5-small"])
        )
        for mode in ("semantic", "hybrid"):
            hits = searcher.search(EN_QUERY, k=1, mode=mode, filters=french)
            assert hits[0].clause.heading == "Paiement à l'étranger", mode


FR_DOC_LONG = "# Accord\n\n" + "".join(
    f"### Article {i}\n\n#### {head}\n\nLa retraite versée au retraité qui réside {tail}.\n\n"
    for i, (head, tail) in enumerate(
        [
            ("Paiement à l'étranger", "à l'étranger est payée sans réduction"),
            ("Calcul", "dans l'autre État est calculée au prorata"),
            ("Revalorisation", "hors du territoire suit les revalorisations"),
        ],
        start=1,
    )
)


def test_a_question_few_clauses_share_the_language_of_is_merged_by_language(
    tmp_path: Path, english_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A French question over a store where French clauses match it word for word gets both
    languages in turn (:data:`~migralex.index.search.LANGUAGE_MERGE`); without the merging the
    French agreement's articles take every place after the first."""
    main, multi = EnglishOnly(), Multilingual()
    with Store(tmp_path / "s") as store:
        for name, text, lang in (("en.md", EN_DOC, "en"), ("fr.md", FR_DOC_LONG, "fr")):
            ingest_paths(
                [_doc(tmp_path, name, text)], store, tagger=lambda c, lang: [],
                embedder=lambda: main, multilingual=lambda: multi, passage=lambda c: c.text,
                detect=lambda t, lang=lang: lang,
            )  # fmt: skip
        searcher = _searcher(store, main, multi)
        assert "language_merge" in searcher.pipeline("hybrid").names

        def languages(k: int = 2) -> list[str]:
            return [h.clause.language for h in searcher.search(FR_QUERY, k=k, mode="hybrid")]

        merged = languages(4)
        assert sorted(merged[:2]) == sorted(merged[2:]) == ["en", "fr"]  # alternation
        monkeypatch.setattr(search_module, "LANGUAGE_MERGE", None)
        assert languages(4)[1:] == ["fr", "fr", "fr"]
        # an English question is never merged: its language is the main model's
        monkeypatch.setattr(search_module, "LANGUAGE_MERGE", 1.0)
        top = searcher.search(EN_QUERY, k=1, mode="hybrid")
        assert top[0].clause.language == "en"


def test_a_cross_lingual_question_takes_its_feedback_from_the_main_models_ranking(
    tmp_path: Path, english_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An English question over French clauses: the feedback centroid (in the multilingual
    set) and the intent basis come from the question's unfiltered ranking by the main model
    (:meth:`~migralex.index.search.Searcher.pivot_ranking`), not from the multilingual one."""
    main, multi = EnglishOnly(), Multilingual()
    with Store(tmp_path / "s") as store:
        for name, text, lang in (("en.md", EN_DOC, "en"), ("fr.md", FR_DOC, "fr")):
            ingest_paths(
                [_doc(tmp_path, name, text)], store, tagger=lambda c, lang: [],
                embedder=lambda: main, multilingual=lambda: multi, passage=lambda c: c.text,
                detect=lambda t, lang=lang: lang,
            )  # fmt: skip
        searcher = _searcher(store, main, multi)
        pivot = searcher.pivot_ranking(EN_QUERY)
        vector = searcher.feedback_vector(EN_QUERY, searcher.embed_query(EN_QUERY))
        assert pivot == searcher.fused_ranking(EN_QUERY, 100, Filters(), vector)
        assert pivot != searcher.fused_ranking(
            EN_QUERY, 100, Filters(), searcher.embed_query(EN_QUERY, "multi"), "multi", True
        ), "the two sets rank the question differently here, so the test tells them apart"
        first = store.clauses_by_rowid([pivot[0][0]])[pivot[0][0]]
        assert (first.language, first.heading) == ("en", "Payment abroad")

        bases: list[list[tuple[int, float]]] = []
        centroids: list[np.ndarray] = []
        real_boost, real_rocchio = Searcher.intent_boosted, search_module.rocchio
        monkeypatch.setattr(
            Searcher, "intent_boosted",
            lambda self, ranked, basis: bases.append(list(basis)) or real_boost(self, ranked, basis),
        )  # fmt: skip
        monkeypatch.setattr(
            search_module, "rocchio",
            lambda v, c, b: centroids.append(c) or real_rocchio(v, c, b),
        )  # fmt: skip
        hits = searcher.search(EN_QUERY, k=1, filters=Filters(languages=("fr",)))
        assert hits[0].clause.heading == "Paiement à l'étranger"
        assert bases[-1] == pivot
        top = [r for r, _ in pivot[: searcher.prf_depth]]
        expected = searcher.index_for("multi").reconstruct_many(top).mean(axis=0)
        np.testing.assert_allclose(centroids[-1], expected, atol=1e-6)
