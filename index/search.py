"""Clause search: semantic (FAISS), lexical (BM25 with ILO-vocabulary expansion) and hybrid.

Filters (kind, language, party, tag, document) are applied before ranking in every mode: with an
ID selector inside the FAISS search for the semantic side, as a mask over the BM25 scores for the
lexical side (and in SQL for FTS5 phrase queries).

Hybrid mode fuses the top :data:`CANDIDATES` of each ranking, per embedding model as
:data:`FUSION` says (tuned on the dev split of ``evaluation/retrieval.py``, checked on its test
split): a weighted sum of min-max normalised scores (:func:`score_fuse`) or weighted reciprocal
rank fusion (:func:`rrf_fuse`, Cormack, Clarke & Büttcher, SIGIR 2009).

Hybrid mode also refines the query vector by pseudo-relevance feedback (Rocchio 1971, in the
embedding space as in Li et al., "Pseudo Relevance Feedback with Deep Language Models and Dense
Retrievers: Successes and Pitfalls", ACM TOIS 2023): the mean vector of the top
:data:`PRF_DEPTH` clauses of the question's unfiltered hybrid ranking is added with weight
:data:`PRF_BETA` before the final ranking, so that a question in lay words is matched by the
treaty wording its best hits share (and a ``--doc`` search profits from the whole store).

A cross-lingual question (an English question whose filters leave only French clauses) takes
both feedbacks, the centroid and the intent tag, from its unfiltered ranking by the main model
(:meth:`Searcher.pivot_ranking`): the clauses that answer it in English lead to the French ones
worded alike.

Hybrid mode ranks preambles lower (:data:`PREAMBLE_PRIOR`, a clause-type prior): a preamble
states the parties' motives and lays down no rule, yet its many general words (the names of the
parties, "social security", "convention") make it a near match for any question, above all
within one agreement.

Query-language routing: the default model, all-MiniLM-L6-v2, reads English only. A store made
with a second, multilingual vector set (:attr:`~migralex.corpus.store.Store.multilingual_model`,
multilingual-e5-small by default) answers semantic and hybrid questions in other languages from
that set, with that model's fusion setting (:meth:`Searcher.routed_model`); so does an English
question whose filters leave only clauses in such languages, with :data:`CROSS_LINGUAL_FUSION`
(:meth:`Searcher.cross_lingual`). On the retrieval
benchmark (judged qrels, fresh store of the corpus) this raised hybrid nDCG@10 from .733 to .791
on dev and from .712 to .749 on test (French questions .580 -> .656), within-agreement MRR from
.762 / .738 to .808 / .786. Each model alone is worse: e5-small reads English questions less
well than MiniLM (dev .645 against .738).

Trained ranker (:mod:`migralex.index.ranker`): a store with a ranker folder has its hybrid and
semantic rankings re-scored by the cross-encoder trained on it (``migralex train-ranker``), one
separate stage (:func:`~migralex.index.ranker.apply_ranker`) after the fusion and intent boost,
for questions in the ranker's languages (English) only.

Grouping (``group=True``): hits whose vectors are near-identical (cosine >=
:data:`NEAR_DUPLICATE`) to a better hit of another document (agreements copying model wording)
are folded into it and counted in :attr:`Hit.similar_count`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from migralex.corpus.errors import NotFoundError, ValidationError
from migralex.corpus.models import Hit
from migralex.corpus.store import Filters, Store
from migralex.index.embedders import EMBEDDERS, Embedder
from migralex.index.intent import INTENT_BOOST, INTENT_DEPTH, TOPIC_PREFIX
from migralex.index.lexical import LexicalIndex
from migralex.index.ranker import RERANK_DEPTH, RERANK_WEIGHT, Reranker, apply_ranker
from migralex.index.rerank import (
    RRF_K,
    Pipeline,
    Ranked,
    Request,
    Stage,
    best_per_document,
    boost_intent,
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
from migralex.index.vectors import VectorIndex
from migralex.nlp.language import detect_language

__all__ = [
    "CANDIDATES",
    "DEFAULT_MODE",
    "FUSION",
    "FUSION_DEFAULT",
    "FUSIONS",
    "MODEL_LANGUAGES",
    "MODES",
    "RRF_K",
    "Searcher",
    "fts_query",
    "lexical_query",
    "rrf_fuse",
    "score_fuse",
]

MODES = ("hybrid", "semantic", "lexical")
FUSIONS = ("scores", "rrf")
#: The default mode, chosen by the retrieval benchmark (evaluation/retrieval.py, 74 paraphrased
#: questions in English and French): hybrid beats both of its parts on dev and test.
DEFAULT_MODE = "hybrid"
CANDIDATES = 100
#: Hybrid fusion per embedding model: (method, (semantic weight, lexical weight)), the best on
#: the dev split of ``evaluation/retrieval.py`` (full corpus, with the intent feedback of
#: :mod:`migralex.index.intent`; hybrid nDCG@10 dev, test in brackets): minilm scores .4/.6 ->
#: .577 [.593]; e5-small rrf 1/1 -> .566 [.632] (rrf 1/2 .545 [.625], scores .5/.5 .541 [.618]).
#: With the structural intent topics: minilm .605 [.602], e5-small .582 [.660]; with the
#: vector feedback (:data:`PRF_BETA`) too: minilm .629 [.640], e5-small .607 [.690].
FUSION: dict[str, tuple[str, tuple[float, float]]] = {
    "minilm": ("scores", (0.4, 0.6)),
    # the adapted set of index/encoder.py, weight chosen on dev among .4-.8 (routed store, 4,907
    # clauses): hybrid nDCG@10 dev .793 / .813 / .828 / .815 / .797 at .4 / .5 / .6 / .7 / .8;
    # test at .6 .756 (within-agreement MRR .806, English over French clauses .550 against .598
    # at .4). MiniLM's own .4 stays: at .6 it gives dev .837 but test .726 (.752 at .4).
    "minilm-adapted": ("scores", (0.6, 0.4)),
    "e5-small": ("rrf", (1.0, 1.0)),
}
#: Fusion when a question in a language the main model reads searches only clauses in languages
#: it does not (an English question with ``--language fr``; :meth:`Searcher.cross_lingual`): the
#: multilingual vectors answer, and the lexical side matches few words across languages, so it
#: weighs less. Chosen on the dev split of ``evaluation/retrieval.py`` (English questions over
#: French clauses, 25 questions; routed store with the adapted set): hybrid nDCG@10 at lexical
#: RRF weight 1 / .5 / .35 / .25 / .1 / 0: .464 / .513 / .547 / .595 / .554 / .429; scores
#: fusion .6/.4 .545, .8/.2 .547.
CROSS_LINGUAL_FUSION: dict[str, tuple[str, tuple[float, float]]] = {
    "e5-small": ("rrf", (1.0, 0.25)),
}
#: Weight of the clauses in the question's language when the results of a question the main
#: model does not read (a French or Spanish question, answered from the multilingual set) are
#: merged by language group (:func:`~migralex.index.rerank.merge_language_groups`); None: no
#: merging. 1 is strict alternation (round-robin merging). Chosen on the dev split of
#: ``evaluation/retrieval.py`` (routed store, 4,907 clauses, with :data:`DOC_SPREAD` .8; hybrid
#: nDCG@10 of the dev French / Spanish questions): off .922 / .518, .75 .502 / .654, 1 .911 /
#: .777, 1.5 .909 / .419; the Spanish questions of a store whose one Spanish agreement matched
#: them word for word were answered by that agreement's articles, whatever they were about.
LANGUAGE_MERGE: float | None = 1.0
#: Factor on the score of each further article of a document already ranked in hybrid mode
#: (:func:`~migralex.index.rerank.spread_documents`; not when the filters name documents);
#: None: off. A question about one provision is answered by one or two articles of each
#: agreement, and an agreement whose wording matches the question everywhere should not fill
#: the first places. Chosen on the dev split of ``evaluation/retrieval.py`` (routed store, no
#: language merging; hybrid nDCG@10 dev all / en / es): off .732 / .744 / .361, .8 .751 /
#: .739 / .518, .6 .752 / .735 / .553, .4 .751 / .732 / .555; with the merging .9 .788, .8
#: .787, .6 .766 (all); .8 costs English questions least.
DOC_SPREAD: float | None = 0.8
#: Fusion for any other model (and the hash test embedder).
FUSION_DEFAULT: tuple[str, tuple[float, float]] = ("scores", (0.4, 0.6))
#: Vector pseudo-relevance feedback in hybrid mode: weight of the feedback centroid and number
#: of top clauses it averages. Chosen on the dev split of ``evaluation/retrieval.py`` (minilm,
#: full corpus; sum of nDCG@10 over all questions and MRR within one agreement) among beta .3,
#: .5, .7 and depth 3, 5, 10: hybrid nDCG@10 dev .605 -> .631, test .602 -> .640; within-agreement
#: MRR dev .718 -> .746, test .697 -> .710.
PRF_BETA = 0.5
PRF_DEPTH = 3
#: Factor on the fused score of preamble clauses in hybrid mode (see the module docstring).
#: Chosen on the dev split of ``evaluation/retrieval.py`` (minilm, fresh store, judged qrels)
#: between 1 (off) and .5: hybrid nDCG@10 dev .725 -> .733, test .710 -> .712; within-agreement
#: MRR dev .754 -> .762, test .736 -> .742.
PREAMBLE_PRIOR = 0.5
#: Most clauses whose structural topics a searcher keeps (cleared when full).
TOPIC_CACHE = 50_000
#: Cosine similarity above which two clauses of different documents count as the same wording.
NEAR_DUPLICATE = 0.95
#: The query languages a packaged model reads well (ISO 639-1); a question in another language
#: is routed to the store's multilingual vector set. Models not listed (multilingual-e5-small,
#: models named by users) are taken to read every language, so their questions are not routed.
MODEL_LANGUAGES: dict[str, frozenset[str]] = {
    name: spec.languages for name, spec in EMBEDDERS.items() if spec.languages
}

_STOPWORDS = frozenset(
    """a an and are as at be been by can do does for from has have how i if in into is it its of on
    or our shall should so than that the their them then there these they this to was were what
    when where which who will with would other any all may must not no le la les de des du et en un
    une au aux pour par sur qui que est sont dans ce cette ces il elle ils leur leurs se ne pas el
    los las del y por para con que es son en un una""".split()
)


def lexical_query(query: str) -> str:
    """Turn free text into an FTS5 OR-query of its quoted content words.

    Args:
        query: the user's words.

    Returns:
        e.g. ``"pension" OR "abroad"``; "" when the query has no content word.
    """
    words = [w for w in re.findall(r"\w+", query.lower()) if w not in _STOPWORDS and len(w) > 1]
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(words))


def fts_query(query: str) -> str:
    """Turn text with ``"quoted phrases"`` into an FTS5 query: the phrases, then the other
    content words, OR-ed.

    Returns:
        e.g. ``"payment of benefits abroad" OR "pension"``; "" when nothing is left.
    """
    phrases = [" ".join(re.findall(r"\w+", p.lower())) for p in re.findall(r'"([^"]*)"', query)]
    rest = lexical_query(re.sub(r'"[^"]*"', " ", query))
    quoted = [f'"{p}"' for p in dict.fromkeys(phrases) if p]
    return " OR ".join([*quoted, *([rest] if rest else [])])


@dataclass
class Searcher:
    """Searches one store.

    Args:
        store: the store.
        embedder: a function returning the query embedder (called only when a semantic
            ranking is needed, so lexical search never loads a model).
        threads: FAISS threads.
        fusion: "scores" or "rrf" for hybrid mode (default: :data:`FUSION` of the store's model).
        weights: (semantic, lexical) fusion weights (default: as ``fusion``).
        rrf_k: the RRF constant.
        expansion: expand lexical queries with ILO vocabulary.
        intent_boost: added in hybrid mode to candidates carrying the query's intent tag
            (:mod:`migralex.index.intent`: the dominant tag of the unfiltered top ranks); 0
            turns it off.
        prf_beta: weight of the pseudo-relevance feedback centroid added to the query vector in
            hybrid mode (:data:`PRF_BETA`); 0 turns it off.
        prf_depth: how many top clauses of the unfiltered ranking the centroid averages.
        preamble_prior: factor on the fused score of preamble clauses in hybrid mode
            (:data:`PREAMBLE_PRIOR`); 1 turns it off.
        multilingual: a function returning the query embedder of the store's multilingual
            model (:attr:`~migralex.corpus.store.Store.multilingual_model`); None turns
            query-language routing off.
        ranker: a function returning the store's trained ranker
            (:class:`~migralex.index.ranker.Reranker`, loaded on first use); None: no ranker.
        rerank_depth: candidates the ranker re-scores.
        rerank_weight: the ranker's weight against the first-stage score, in [0, 1].
        adapted: a function returning the query embedder of the store's domain-adapted vector
            set (:attr:`~migralex.corpus.store.Store.adapted_model`,
            :mod:`migralex.index.encoder`); the set then answers the questions the main set
            would answer, when it covers every clause. None: the main set answers them.
    """

    store: Store
    embedder: Callable[[], Embedder]
    threads: int = 1
    fusion: str | None = None
    weights: tuple[float, float] | None = None
    rrf_k: int = RRF_K
    expansion: bool = True
    intent_boost: float = INTENT_BOOST
    prf_beta: float = PRF_BETA
    prf_depth: int = PRF_DEPTH
    preamble_prior: float = PREAMBLE_PRIOR
    multilingual: Callable[[], Embedder] | None = None
    ranker: Callable[[], Reranker] | None = None
    rerank_depth: int = RERANK_DEPTH
    rerank_weight: float = RERANK_WEIGHT
    adapted: Callable[[], Embedder] | None = None
    _vectors: VectorIndex | None = field(default=None, init=False, repr=False)
    _ml_vectors: VectorIndex | None = field(default=None, init=False, repr=False)
    _routable: tuple[int, str | None] = field(default=(-1, None), init=False, repr=False)
    _adapted_ok: tuple[int, str | None] = field(default=(-1, None), init=False, repr=False)
    _sets: dict[str, VectorIndex] = field(default_factory=dict, init=False, repr=False)
    _lexical_index: LexicalIndex | None = field(default=None, init=False, repr=False)
    _topics: dict[tuple[str, str, str], frozenset[str]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        """Validate the ranking settings (they were taken as given: any fusion but "rrf"
        silently meant score fusion).

        Raises:
            ValidationError: unknown fusion, weights that are not two non-negative numbers
                with a positive sum, ``rrf_k`` < 1, a negative boost, feedback weight or
                depth, or a preamble prior outside [0, 1].
        """
        if self.fusion is not None and self.fusion not in FUSIONS:
            raise ValidationError(f"unknown fusion {self.fusion!r}; valid: {', '.join(FUSIONS)}")
        if self.weights is not None and (
            len(self.weights) != 2 or min(self.weights) < 0 or sum(self.weights) <= 0
        ):
            raise ValidationError(
                f"fusion weights {self.weights!r}: give (semantic, lexical), both >= 0, not both 0"
            )
        if self.rrf_k < 1:
            raise ValidationError(f"rrf_k {self.rrf_k}: must be >= 1")
        if self.intent_boost < 0 or self.prf_beta < 0 or self.prf_depth < 0:
            raise ValidationError(
                "intent_boost, prf_beta and prf_depth must be >= 0"
                f" (got {self.intent_boost}, {self.prf_beta}, {self.prf_depth})"
            )
        if not 0 <= self.preamble_prior <= 1:
            raise ValidationError(f"preamble_prior {self.preamble_prior}: must be in [0, 1]")
        if not 0 <= self.rerank_weight <= 1 or self.rerank_depth < 1:
            raise ValidationError(
                f"rerank_weight {self.rerank_weight} must be in [0, 1] and rerank_depth "
                f"{self.rerank_depth} >= 1"
            )

    def ranker_used(self, query: str, mode: str, filters: Filters | None = None) -> str | None:
        """The names of the trained models that rank ``query``'s hits in ``mode``, joined by
        "+": the adapted vector set (:meth:`adapted_set`) when it answers the question, the
        cross-encoder when it reorders them; None when neither does (lexical mode, no trained
        model, or a question in a language they do not read). Loads the ranker's card, not its
        model."""
        if mode == "lexical":
            return None
        names = []
        adapted = self.adapted_set()
        if adapted is not None and self.routed_model(query, filters) == adapted:
            names.append(adapted)
        if self.ranker is not None:
            ranker = self.ranker()
            if detect_language(query) in ranker.languages:
                names.append(ranker.name)
        return "+".join(names) or None

    @property
    def vectors(self) -> VectorIndex:
        """The FAISS index of the store (built or loaded on first use)."""
        if self._vectors is None:
            self._vectors = VectorIndex(self.store, self.threads)
        return self._vectors

    def index_for(self, model: str | None) -> VectorIndex:
        """The FAISS index of a vector set: the main one (None), the multilingual or the
        adapted one (by name)."""
        if model is None:
            return self.vectors
        if model == self.adapted_set():
            if model not in self._sets:
                self._sets[model] = VectorIndex(self.store, self.threads, model)
            return self._sets[model]
        if self._ml_vectors is None or self._ml_vectors.model != model:
            self._ml_vectors = VectorIndex(self.store, self.threads, model)
        return self._ml_vectors

    def adapted_set(self) -> str | None:
        """The name of the adapted vector set when it answers in place of the main one: there
        is an ``adapted`` embedder and the set covers every clause with a main vector (checked
        once per store generation), else None."""
        if self.adapted is None:
            return None
        gen = self.store.generation
        if self._adapted_ok[0] != gen:
            extra = self.store.adapted_model
            complete = (
                extra is not None
                and self.store.count_vectors(extra[0]) >= self.store.count_vectors() > 0
            )
            self._adapted_ok = (gen, extra[0] if complete and extra else None)
            self._sets.clear()
        return self._adapted_ok[1]

    def routed_model(self, query: str, filters: Filters | None = None) -> str | None:
        """The vector set that answers ``query`` among the clauses ``filters`` allows: the name
        of the store's multilingual model when the query's language
        (:func:`~migralex.nlp.language.detect_language`; "en" for fewer than 20 letters) is not
        one the main model reads (:data:`MODEL_LANGUAGES`), or when the filters leave only
        clauses in languages it does not read (an English question over French clauses: a
        ``languages`` filter, or ``doc_ids`` whose documents are all in such languages); else
        None (the main model) or, when the store has a complete adapted set
        (:meth:`adapted_set`), that set's name. The main model's answer too when routing is
        off or the multilingual set does not cover every clause that has a main vector."""
        routing = self._routing()
        if routing is None:
            return self.adapted_set()
        if detect_language(query) not in routing[1] or self._foreign_only(filters, routing[1]):
            return routing[0]
        return self.adapted_set()

    def cross_lingual(self, query: str, filters: Filters | None = None) -> bool:
        """Whether a question in a language the main model reads searches only clauses in
        languages it does not (:meth:`routed_model` then answers with the multilingual set)."""
        routing = self._routing()
        return (
            routing is not None
            and self._foreign_only(filters, routing[1])
            and detect_language(query) in routing[1]
        )

    def _foreign_only(self, filters: Filters | None, reads: frozenset[str]) -> bool:
        """Whether ``filters`` leave only clauses in languages outside ``reads``."""
        if filters is None:
            return False
        if filters.languages:
            return not reads.intersection(filters.languages)
        if filters.doc_ids:
            try:
                languages = {self.store.get_document(d).language for d in filters.doc_ids}
            except NotFoundError:
                return False  # an unknown document matches nothing: any model will do
            return not reads.intersection(languages)
        return False

    def model_for_language(self, language: str) -> str | None:
        """The vector set for text in ``language`` (ISO 639-1): as :meth:`routed_model`, for a
        known language."""
        routing = self._routing()
        if routing is None or language in routing[1]:
            return self.adapted_set()
        return routing[0]

    def _routing(self) -> tuple[str, frozenset[str]] | None:
        """``(multilingual model, languages the main model reads)`` when questions can be
        routed (checked once per store generation), else None."""
        main = self.store.model
        reads = MODEL_LANGUAGES.get(main[0]) if main else None
        if self.multilingual is None or reads is None:
            return None
        gen = self.store.generation
        if self._routable[0] != gen:
            extra = self.store.multilingual_model
            complete = (
                extra is not None
                and self.store.count_vectors(extra[0]) >= self.store.count_vectors() > 0
            )
            self._routable = (gen, extra[0] if complete and extra else None)
        target = self._routable[1]
        return None if target is None else (target, reads)

    def embed_query(self, query: str, model: str | None = None) -> np.ndarray:
        """The query's embedding by the main model (None), the multilingual or the adapted one,
        float32 ``(dim,)``."""
        if model is not None and self.adapted is not None and model == self.adapted_set():
            return self.adapted().embed_queries([query])[0]
        if model is None or self.multilingual is None:
            return self.embedder().embed_queries([query])[0]
        return self.multilingual().embed_queries([query])[0]

    def semantic_ranking(
        self,
        query: str,
        k: int,
        filters: Filters,
        vector: np.ndarray | None = None,
        model: str | None = None,
    ) -> list[tuple[int, float]]:
        """The ``k`` nearest clauses by cosine similarity: ``(rowid, score)`` best first.

        Args:
            vector: the query's embedding when already computed.
            model: the vector set (None: the main one; see :meth:`routed_model`).
        """
        vec = self.embed_query(query, model) if vector is None else vector
        return self.index_for(model).search(vec, k, self.store.filter_rowids(filters))

    def intent_boosted(
        self, ranked: Sequence[tuple[int, float]], basis: Sequence[tuple[int, float]]
    ) -> list[tuple[int, float]]:
        """Add :attr:`intent_boost` to the candidates carrying the intent tag of ``basis``
        (the unfiltered hybrid ranking of the same query), scaled by the weight its share
        earns (:func:`~migralex.index.rerank.intent_of`: 0 below
        :data:`~migralex.index.intent.INTENT_SHARE` minus the ramp, all of it above the share
        plus the ramp); re-sort, ties by rowid."""
        if not self.intent_boost or not ranked:
            return list(ranked)
        top = [r for r, _ in basis[:INTENT_DEPTH]]
        names = self.labels_by_rowid(list(dict.fromkeys([*top, *(r for r, _ in ranked)])))
        label, weight = intent_of(top, names)
        return boost_intent(ranked, label, names, self.intent_boost * weight)

    def feedback_vector(
        self,
        query: str,
        vector: np.ndarray,
        model: str | None = None,
        cross_lingual: bool = False,
        basis: Sequence[tuple[int, float]] | None = None,
    ) -> np.ndarray:
        """The query vector moved towards its best hits: ``vector + prf_beta * centroid`` of the
        top :attr:`prf_depth` clauses of the unfiltered hybrid ranking (in the vector set
        ``model``, None for the main one; fused as for a ``cross_lingual`` question when it is
        one), L2-normalised, float32 ``(dim,)``. ``basis``: the unfiltered ranking to take the
        top clauses from instead (:meth:`pivot_ranking`); their vectors are still those of
        ``model``'s set. Returns ``vector`` unchanged when feedback is off or nothing ranks."""
        if not self.prf_beta or self.prf_depth < 1:
            return vector
        if basis is None:
            basis = self.fused_ranking(query, CANDIDATES, Filters(), vector, model, cross_lingual)
        top = [r for r, _ in basis]
        top = top[: self.prf_depth]
        if not top:
            return vector
        centroid = self.index_for(model).reconstruct_many(top).mean(axis=0)
        return rocchio(vector, centroid, self.prf_beta)

    def pivot_ranking(self, query: str) -> list[tuple[int, float]]:
        """The unfiltered hybrid ranking of ``query`` by the vector set of the main model (or
        its adapted set), with that set's feedback: what the question finds where the model
        that reads it well answers, mostly clauses in its own language.

        A cross-lingual question (an English question over French clauses,
        :meth:`cross_lingual`) takes its feedback from this ranking: the centroid of the
        multilingual vectors of its top clauses moves the query vector (:meth:`feedback_vector`)
        and its dominant tag is the intent (:meth:`intent_boosted`). The multilingual set ranks
        an English question less well than the main model (dev .645 against .738), and the
        clauses that answer it in English are worded as the French ones that answer it: the
        feedback crosses languages through comparable clauses (cross-lingual relevance
        feedback, Lavrenko, Choquette & Croft, SIGIR 2002). On the retrieval benchmark (fresh
        store, dev split, English questions over French clauses) hybrid nDCG@10 rose from .576
        to .657 (intent alone .654, feedback vector alone .629), with :data:`PRF_BETA` and
        :data:`PRF_DEPTH` unchanged; the test figures are in the README.
        """
        main = self.adapted_set()
        vector = self.feedback_vector(query, self.embed_query(query, main), main)
        return self.fused_ranking(query, CANDIDATES, Filters(), vector, main)

    def labels_by_rowid(self, rowids: Sequence[int]) -> dict[int, set[str]]:
        """The intent labels of clauses: their tag names and, prefixed with
        :data:`~migralex.index.intent.TOPIC_PREFIX`, the checklist topics their heading or
        opening formula names (:func:`~migralex.nlp.structure.structural_topics`)."""
        from migralex.nlp.structure import structural_topics

        out = self.store.tag_names_by_rowid(rowids)
        for rid, clause in self.store.clauses_by_rowid(list(rowids)).items():
            key = (clause.clause_id, clause.heading, clause.text)
            topics = self._topics.get(key)
            if topics is None:
                if len(self._topics) >= TOPIC_CACHE:
                    self._topics.clear()
                topics = self._topics[key] = frozenset(
                    TOPIC_PREFIX + t for t in structural_topics(clause)
                )
            if topics:
                out.setdefault(rid, set()).update(topics)
        return out

    def fused_ranking(
        self,
        query: str,
        k: int,
        filters: Filters,
        vector: np.ndarray,
        model: str | None = None,
        cross_lingual: bool = False,
    ) -> list[tuple[int, float]]:
        """The hybrid fusion (:meth:`fusion_setting`) of the top ``k`` of each ranking, preambles
        lowered (:meth:`preamble_lowered`); ``vector`` belongs to the vector set ``model``;
        ``cross_lingual``: the question's language is not the clauses' (:meth:`cross_lingual`):
        the stages ``fusion`` and ``preamble_prior`` of :meth:`pipeline`."""
        first = Pipeline(
            (
                Stage("fusion", self._fusion),
                Stage("preamble_prior", self._preamble),
                Stage("language_merge", self._language_merge),
            )
        )
        return first.run(Request(query, "hybrid", filters, k, model, vector, cross_lingual))

    def preamble_lowered(self, ranked: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
        """Multiply the score of preamble clauses by :attr:`preamble_prior`; re-sort, ties by
        rowid. Returns ``ranked`` unchanged (as a list) when the prior is 1."""
        if self.preamble_prior == 1 or not ranked:
            return list(ranked)
        from migralex.nlp.structure import is_preamble

        clauses = self.store.clauses_by_rowid([r for r, _ in ranked])
        preambles = {r for r, c in clauses.items() if is_preamble(c)}
        return lower_preambles(ranked, preambles, self.preamble_prior)

    # -- the stages of :meth:`pipeline` (each ``(request, ranking) -> ranking``) ----------
    def _semantic(self, req: Request, _: Ranked) -> Ranked:
        return self.semantic_ranking(req.query, req.depth, req.filters, req.vector, req.model)

    def _lexical(self, req: Request, _: Ranked) -> Ranked:
        return self.lexical_ranking(req.query, req.depth, req.filters)

    def _fusion(self, req: Request, _: Ranked) -> Ranked:
        pair = [self._semantic(req, []), self._lexical(req, [])]
        method, weights = self.fusion_setting(req.model, req.cross_lingual)
        return fuse(pair, method, weights, self.rrf_k)

    def _preamble(self, _: Request, ranked: Ranked) -> Ranked:
        return self.preamble_lowered(ranked)

    def _language_merge(self, req: Request, ranked: Ranked) -> Ranked:
        language = self._foreign_question(req)
        if language is None or not ranked:
            return ranked
        assert LANGUAGE_MERGE is not None  # _foreign_question is None when merging is off
        clauses = self.store.clauses_by_rowid([r for r, _ in ranked])
        same = {r for r, c in clauses.items() if c.language == language}
        return merge_language_groups(ranked, same, LANGUAGE_MERGE, self.rrf_k)

    def _spread(self, req: Request, ranked: Ranked) -> Ranked:
        if DOC_SPREAD is None or req.filters.doc_ids or not ranked:
            return ranked
        clauses = self.store.clauses_by_rowid([r for r, _ in ranked])
        article_of = {r: (c.doc_id, c.label) for r, c in clauses.items()}
        return spread_documents(ranked, article_of, DOC_SPREAD)

    def _foreign_question(self, req: Request) -> str | None:
        """The question's language when it is one the main model does not read (the question
        is answered from the multilingual set because of its language, not of the filters) and
        :data:`LANGUAGE_MERGE` is on; else None."""
        if LANGUAGE_MERGE is None or req.model is None:
            return None
        routing = self._routing()
        if routing is None or req.model != routing[0]:
            return None
        language = detect_language(req.query)
        return None if language in routing[1] else language

    def _candidates(self, req: Request, ranked: Ranked) -> Ranked:
        return ranked[: req.depth]

    def _intent(self, req: Request, ranked: Ranked) -> Ranked:
        if req.basis is not None:
            basis = req.basis
        elif req.filters.is_empty():
            basis = ranked
        else:
            basis = self.fused_ranking(
                req.query, CANDIDATES, Filters(), req.vector, req.model, req.cross_lingual
            )
        return self.intent_boosted(ranked, basis)

    def _cross_encoder(self, req: Request, ranked: Ranked) -> Ranked:
        assert self.ranker is not None  # only staged with a ranker
        return apply_ranker(
            self.store, self.ranker(), req.query, ranked, self.rerank_depth, self.rerank_weight
        )

    def pipeline(self, mode: str) -> Pipeline:
        """The named stages that rank a question in ``mode`` (:mod:`migralex.index.rerank`):

        * lexical: ``lexical`` (BM25, FTS5 for quoted phrases);
        * semantic: ``semantic``, then ``cross_encoder`` with a trained ranker;
        * hybrid: ``fusion`` (semantic + lexical, :meth:`fusion_setting`),
          ``preamble_prior``, ``language_merge`` (a question in a language the main model does
          not read: :data:`LANGUAGE_MERGE`), ``document_spread`` (:data:`DOC_SPREAD`),
          ``candidates`` (the first ``depth``), ``intent_boost`` (unless
          :attr:`intent_boost` is 0), then ``cross_encoder`` with a trained ranker.

        Add a stage with :meth:`~migralex.index.rerank.Pipeline.with_stage`.
        """
        if mode == "lexical":
            return Pipeline((Stage("lexical", self._lexical),))
        if mode == "semantic":
            stages = [Stage("semantic", self._semantic)]
        else:
            stages = [
                Stage("fusion", self._fusion),
                Stage("preamble_prior", self._preamble),
                Stage("language_merge", self._language_merge),
                Stage("document_spread", self._spread),
                Stage("candidates", self._candidates),
            ]
            if self.intent_boost:
                stages.append(Stage("intent_boost", self._intent))
        if self.ranker is not None:
            stages.append(Stage("cross_encoder", self._cross_encoder))
        return Pipeline(tuple(stages))

    def fusion_setting(
        self, model: str | None = None, cross_lingual: bool = False
    ) -> tuple[str, tuple[float, float]]:
        """The hybrid fusion in force: the explicit ``fusion``/``weights``, else :data:`FUSION`
        for the model of the vector set (None: the store's main model; with ``cross_lingual``,
        :data:`CROSS_LINGUAL_FUSION` first), else :data:`FUSION_DEFAULT`. An explicit setting
        applies to the main vector set only."""
        if model is not None and cross_lingual and model in CROSS_LINGUAL_FUSION:
            return CROSS_LINGUAL_FUSION[model]
        if model is not None:
            return FUSION.get(model, FUSION_DEFAULT)
        main = self.store.model
        method, weights = FUSION.get(main[0] if main else "", FUSION_DEFAULT)
        return self.fusion or method, self.weights or weights

    @property
    def lexical_index(self) -> LexicalIndex:
        """The BM25 index of the store (built or loaded on first use)."""
        if self._lexical_index is None:
            self._lexical_index = LexicalIndex(self.store, self.expansion)
        return self._lexical_index

    def lexical_ranking(self, query: str, k: int, filters: Filters) -> list[tuple[int, float]]:
        """The ``k`` best clauses by BM25 (FTS5 for quoted phrases): ``(rowid, score)``."""
        if '"' in query:  # an exact phrase: FTS5 knows phrases, BM25 bags of words do not
            match = fts_query(query)
            return self.store.fts(match, k, filters) if match else []
        return self.lexical_index.search(query, k, self.store.filter_rowids(filters))

    def search(
        self,
        query: str,
        k: int = 10,
        mode: str = DEFAULT_MODE,
        filters: Filters | None = None,
        group: bool = False,
    ) -> list[Hit]:
        """Return the ``k`` best clauses for ``query``.

        Args:
            query: free text; ``"quoted phrases"`` make the lexical side an exact-phrase FTS5
                query. Semantic and hybrid questions in a language the main model does not read
                are answered from the multilingual vector set (:meth:`routed_model`).
            k: how many hits (>= 1).
            mode: "hybrid", "semantic" or "lexical".
            filters: restrictions applied before ranking.
            group: fold near-identical clauses of other documents into the best one
                (:attr:`Hit.similar_count`); the k hits are then k distinct wordings.

        Returns:
            Hits ranked 1..k; scores per :class:`~migralex.corpus.models.Hit`. A hybrid
            score orders the hits of one query and is not comparable across queries or
            fusions: score fusion gives [0, semantic + lexical weight] (1 with the default
            weights), RRF (0, sum of weights / (rrf_k + 1)]; a preamble's score is then
            multiplied by :attr:`preamble_prior` and a clause with the intent tag gets
            :attr:`intent_boost` added, so the top can exceed 1.

        Raises:
            ValidationError: unknown mode, k < 1 or empty query.
        """
        if mode not in MODES:
            raise ValidationError(f"unknown search mode {mode!r}; valid: {', '.join(MODES)}")
        if k < 1:
            raise ValidationError(f"k must be >= 1, got {k}")
        if not query.strip():
            raise ValidationError("empty query")
        filters = filters or Filters()
        depth = max(k, CANDIDATES) if group else k
        model = None if mode == "lexical" else self.routed_model(query, filters)
        if self.ranker is not None and mode != "lexical":
            depth = max(depth, self.rerank_depth)
        vector = None
        # one fusion for every ranking of a question asked across languages
        cross = mode == "hybrid" and model is not None and self.cross_lingual(query, filters)
        # ... and its feedback from where the main model answers it
        basis = self.pivot_ranking(query) if cross else None
        if mode == "hybrid":
            vector = self.embed_query(query, model)
            vector = self.feedback_vector(query, vector, model, cross, basis)
            depth = max(depth, CANDIDATES)
        request = Request(query, mode, filters, depth, model, vector, cross, basis)
        ranked = self.pipeline(mode).run(request)
        if not group:
            return self.hits(ranked[:k])
        return self._grouped_hits(ranked, self._group(ranked), k)

    def _group(self, ranked: Sequence[tuple[int, float]]) -> dict[int, int]:
        """Return ``{kept rowid: number of folded near-duplicates}`` in rank order."""
        if not ranked:
            return {}
        ids = [r for r, _ in ranked]
        vecs = self.vectors.reconstruct_many(ids)
        docs = {r: c.doc_id for r, c in self.store.clauses_by_rowid(ids).items()}
        return near_duplicate_groups(ids, vecs, docs, NEAR_DUPLICATE)

    def _grouped_hits(
        self, ranked: Sequence[tuple[int, float]], counts: dict[int, int], k: int
    ) -> list[Hit]:
        score = dict(ranked)
        hits = self.hits([(rid, score[rid]) for rid in list(counts)[:k]])
        return [
            replace(h, similar_count=counts[rid])
            for h, rid in zip(hits, list(counts)[:k], strict=False)
        ]

    def similar(self, clause_id: str, k: int = 10, one_per_document: bool = True) -> list[Hit]:
        """Return the clauses of *other* documents most similar to one clause.

        A clause in a language the main model does not read is compared in the multilingual
        vector set (:meth:`model_for_language`): for French clauses of the benchmark topics
        the share of the top 5 (one per agreement) on the same topic rose from .52 to .57 (186
        clauses; English clauses .62 with either model).

        Args:
            clause_id: the clause to compare.
            k: how many hits.
            one_per_document: keep only the best clause of each document.

        Raises:
            NotFoundError: unknown clause.
        """
        clause = self.store.get_clause(clause_id)
        rowid = self.store.rowid_of(clause_id)
        index = self.index_for(self.model_for_language(clause.language))
        vec = index.reconstruct(rowid)
        allowed = self.store.filter_rowids(Filters(exclude_doc_ids=(clause.doc_id,)))
        ranked = index.search(vec, k * 8 if one_per_document else k, allowed)
        if one_per_document:
            by_doc = self.store.clauses_by_rowid([r for r, _ in ranked])
            ranked = best_per_document(ranked, {r: c.doc_id for r, c in by_doc.items()})
        return self.hits(ranked[:k])

    def hits(self, ranked: Sequence[tuple[int, float]]) -> list[Hit]:
        """Turn ``(rowid, score)`` pairs into :class:`Hit` objects, ranks from 1."""
        clauses = self.store.clauses_by_rowid([r for r, _ in ranked])
        facts = self.store.doc_facts(c.doc_id for c in clauses.values())
        tags = self.store.tags_for(c.clause_id for c in clauses.values())
        out: list[Hit] = []
        for rid, score in ranked:
            c = clauses.get(rid)
            if c is None:
                continue
            title, kind = facts.get(c.doc_id, ("", "other"))
            names = tuple(sorted({t.name for t in tags.get(c.clause_id, [])}))
            out.append(Hit(len(out) + 1, score, c, title, kind, names))
        return out
