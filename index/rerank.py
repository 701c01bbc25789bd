"""Search stages: small pure functions over rankings, and the pipeline that composes them.

A ranking is a best-first list of ``(rowid, score)`` pairs (:data:`Ranked`), higher scores
better, ties broken by the lower rowid. Every function here takes values and returns a new
ranking: no store, no model, no state. :class:`~migralex.index.search.Searcher` looks up what a
stage needs (which clauses are preambles, which tags they carry, their vectors) and composes the
stages of a mode into a :class:`Pipeline` that names them, so a new re-ranker (a learned one,
say) is one more :class:`Stage`.

Stages of hybrid mode, in order (sources and tuned constants in :mod:`migralex.index.search`):

1. ``fusion`` — :func:`score_fuse` or :func:`rrf_fuse` of the semantic and lexical rankings;
2. ``preamble_prior`` — :func:`lower_preambles`;
   ``language_merge`` — :func:`merge_language_groups`, for a question in a language the main
   model does not read; ``document_spread`` — :func:`spread_documents`;
3. ``intent_boost`` — :func:`boost_intent` (:mod:`migralex.index.intent`);
4. ``cross_encoder`` — the trained ranker (:func:`migralex.index.ranker.apply_ranker`), when
   the store has one.

Query-side feedback (:func:`rocchio`) moves the query vector before the fusion; grouping
(:func:`near_duplicate_groups`) and :func:`best_per_document` fold the final list.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from migralex.corpus.store import Filters
from migralex.index.intent import (
    INTENT_DEPTH,
    INTENT_RAMP,
    INTENT_SHARE,
    feedback_intent,
    intent_weight,
)

#: A best-first ranking: ``(rowid, score)`` pairs.
Ranked = list[tuple[int, float]]
RRF_K = 60


def by_score(pairs: Sequence[tuple[int, float]]) -> Ranked:
    """``pairs`` sorted best first: score descending, ties by rowid ascending."""
    return sorted(pairs, key=lambda x: (-x[1], x[0]))


def score_fuse(
    rankings: Sequence[Sequence[tuple[int, float]]],
    weights: Sequence[float] | None = None,
) -> Ranked:
    """Fuse rankings by a weighted sum of min-max normalised scores (convex combination):
    ``score(d) = sum_i w_i * (s_i(d) - min_i) / (max_i - min_i)``; a document missing from a
    ranking gets 0 from it.

    Args:
        rankings: each a best-first list of ``(id, score)``, higher is better.
        weights: one weight per ranking (default all equal, summing to 1).

    Returns:
        ``(id, fused score)`` best first, scores in [0, sum of weights]; ties broken by id.
    """
    weights = list(weights or [1.0 / max(1, len(rankings))] * len(rankings))
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if not ranking:
            continue
        scores = [s for _, s in ranking]
        lo, hi = min(scores), max(scores)
        span = hi - lo
        for rid, s in ranking:
            norm = (s - lo) / span if span > 0 else 1.0
            fused[rid] = fused.get(rid, 0.0) + weight * norm
    return by_score(list(fused.items()))


def rrf_fuse(
    rankings: Sequence[Sequence[tuple[int, float]]],
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> Ranked:
    """Fuse rankings by (weighted) reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR
    2009): ``score(d) = sum_i w_i / (k + rank_i(d))``.

    Args:
        rankings: each a best-first list of ``(id, score)``; scores are ignored.
        k: the RRF constant (60 in the paper).
        weights: one weight per ranking (default all 1).

    Returns:
        ``(id, fused score)`` best first; ties broken by id.
    """
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, (rid, _) in enumerate(ranking, start=1):
            fused[rid] = fused.get(rid, 0.0) + weight / (k + rank)
    return by_score(list(fused.items()))


def fuse(
    rankings: Sequence[Sequence[tuple[int, float]]],
    method: str,
    weights: Sequence[float],
    rrf_k: int = RRF_K,
) -> Ranked:
    """:func:`rrf_fuse` when ``method`` is "rrf", else :func:`score_fuse` (the caller
    validates ``method``: :data:`migralex.index.search.FUSIONS`)."""
    if method == "rrf":
        return rrf_fuse(rankings, k=rrf_k, weights=weights)
    return score_fuse(rankings, weights=weights)


def merge_language_groups(
    ranked: Sequence[tuple[int, float]],
    same: Collection[int],
    same_weight: float,
    k: int = RRF_K,
) -> Ranked:
    """Merge a ranking's clauses in the question's language (``same``) with the others by rank
    within each group, so that neither group owns the top because of evidence only it can have.

    A question asked in a language few clauses are written in is matched word for word (BM25)
    only by those clauses, and the multilingual encoder prefers text in the question's language
    too; on a mostly English store the few clauses of one Spanish agreement then take the first
    places for every Spanish question. Results of such a question are merged as the
    multilingual tracks of CLEF merge the result lists of several languages (Savoy,
    "Combining multiple strategies for effective monolingual and cross-language retrieval",
    Information Retrieval 7, 2004): each group keeps its own order and the groups are
    interleaved by reciprocal rank, ``score = w / (k + rank in its group)`` with ``w =
    same_weight`` for the question's language and 1 for the others.

    Args:
        ranked: best-first ``(rowid, score)``.
        same: rowids of the clauses in the question's language.
        same_weight: weight of that group (1: strict alternation; smaller: fewer places).
        k: the RRF constant.

    Returns:
        The same rowids, re-scored and best first (ties by rowid).
    """
    ranks = {True: 0, False: 0}
    out: list[tuple[int, float]] = []
    for rid, _ in ranked:
        group = rid in same
        ranks[group] += 1
        out.append((rid, (same_weight if group else 1.0) / (k + ranks[group])))
    return by_score(out)


def spread_documents(
    ranked: Sequence[tuple[int, float]],
    article_of: Mapping[int, tuple[str, str]],
    factor: float,
) -> Ranked:
    """Lower every further article of a document already ranked: the score of a clause is
    multiplied by ``factor ** n``, ``n`` the number of other articles of its document ranked
    above it (paragraphs of one article count as that article). Returns a new ranking.

    Args:
        ranked: best-first ``(rowid, score)``; scores must be >= 0.
        article_of: rowid -> ``(doc_id, article label)``; rowids missing count as their own.
        factor: in (0, 1]; 1 leaves the ranking as it is.
    """
    seen: dict[str, set[str]] = {}
    out: list[tuple[int, float]] = []
    for rid, score in ranked:
        doc, label = article_of.get(rid, (f"#{rid}", ""))
        articles = seen.setdefault(doc, set())
        articles.add(label)
        out.append((rid, score * factor ** (len(articles) - 1)))
    return by_score(out)


def lower_preambles(
    ranked: Sequence[tuple[int, float]], preambles: Collection[int], prior: float
) -> Ranked:
    """Multiply the score of the ``preambles`` (rowids) by ``prior`` and re-sort
    (:func:`by_score`); ``ranked`` unchanged (as a list) when ``prior`` is 1 or it is empty."""
    if prior == 1 or not ranked:
        return list(ranked)
    return by_score([(r, s * prior if r in preambles else s) for r, s in ranked])


def intent_of(
    basis: Sequence[int],
    labels: Mapping[int, Collection[str]],
    share: float = INTENT_SHARE,
    ramp: float = INTENT_RAMP,
) -> tuple[str, float]:
    """The intent of a question and its weight: the dominant label of the top
    :data:`~migralex.index.intent.INTENT_DEPTH` of ``basis`` (rowids of its unfiltered ranking,
    best first; :func:`~migralex.index.intent.feedback_intent`) and the fraction of the boost
    its share earns (:func:`~migralex.index.intent.intent_weight` around ``share``, half-width
    ``ramp``); ``("", 0.0)`` when no label earns any."""
    label, got = feedback_intent([labels.get(r, set()) for r in basis[:INTENT_DEPTH]])
    weight = intent_weight(got, share, ramp) if label else 0.0
    return (label, weight) if weight > 0 else ("", 0.0)


def boost_intent(
    ranked: Sequence[tuple[int, float]],
    label: str,
    labels: Mapping[int, Collection[str]],
    boost: float,
) -> Ranked:
    """Add ``boost`` to the score of the clauses whose ``labels`` include ``label`` and
    re-sort (:func:`by_score`); ``ranked`` unchanged (as a list) when ``label`` is "" or
    ``boost`` is 0."""
    if not label or not boost:
        return list(ranked)
    return by_score([(r, s + boost * (label in labels.get(r, ()))) for r, s in ranked])


def rocchio(vector: np.ndarray, centroid: np.ndarray, beta: float) -> np.ndarray:
    """The query vector moved towards the centroid of its best hits (Rocchio 1971):
    ``vector + beta * centroid``, L2-normalised, float32 ``(dim,)``; ``vector`` itself when
    the sum is the zero vector."""
    moved = vector + beta * centroid
    norm = float(np.linalg.norm(moved))
    return (moved / norm).astype(np.float32) if norm > 0 else vector


def near_duplicate_groups(
    ids: Sequence[int], vectors: np.ndarray, docs: Mapping[int, str], threshold: float
) -> dict[int, int]:
    """Fold near-identical wordings: walking ``ids`` best first, a clause whose vector has a
    cosine >= ``threshold`` with an already kept clause of another document (``docs``: rowid
    -> doc id) is folded into the first such one.

    Args:
        ids: rowids, best first.
        vectors: their L2-normalised vectors, float32 ``(len(ids), dim)``.
        docs: the document of each rowid.
        threshold: the cosine from which two wordings count as the same.

    Returns:
        ``{kept rowid: number of folded clauses}`` in rank order.
    """
    if not len(ids):
        return {}
    sims = vectors @ vectors.T
    kept: list[int] = []  # positions in ids
    counts: dict[int, int] = {}
    for i, rid in enumerate(ids):
        match = next(
            (j for j in kept if sims[i, j] >= threshold and docs.get(ids[j]) != docs.get(rid)),
            None,
        )
        if match is None:
            kept.append(i)
            counts[rid] = 0
        else:
            counts[ids[match]] += 1
    return counts


def best_per_document(ranked: Sequence[tuple[int, float]], docs: Mapping[int, str]) -> Ranked:
    """The best clause of each document (``docs``: rowid -> doc id), in rank order."""
    seen: set[str] = set()
    kept: Ranked = []
    for rid, score in ranked:
        doc = docs[rid]
        if doc not in seen:
            seen.add(doc)
            kept.append((rid, score))
    return kept


@dataclass(frozen=True, slots=True)
class Request:
    """What the stages of one search know of it.

    Attributes:
        query: the question.
        mode: "hybrid", "semantic" or "lexical".
        filters: restrictions applied before ranking.
        depth: how many candidates each first-stage ranking returns.
        model: the vector set answering (None: the main one).
        vector: the query vector in that set (after feedback), float32 ``(dim,)``; None in
            lexical mode.
        cross_lingual: the question is in a language the main model reads, the clauses left
            by the filters are not (:meth:`~migralex.index.search.Searcher.cross_lingual`).
        basis: the unfiltered ranking the intent stage reads when it is not the question's
            own ranking in ``model``'s set: for a cross-lingual question, the main model's
            (:meth:`~migralex.index.search.Searcher.pivot_ranking`); None: the stage ranks
            the question unfiltered itself.
    """

    query: str
    mode: str
    filters: Filters
    depth: int
    model: str | None = None
    vector: np.ndarray | None = field(default=None, compare=False)
    cross_lingual: bool = False
    basis: Ranked | None = field(default=None, compare=False)


#: A stage: the request and the ranking so far -> the new ranking (a first stage ignores the
#: ranking it gets, which is empty).
StageFn = Callable[[Request, Ranked], Ranked]


@dataclass(frozen=True, slots=True)
class Stage:
    """One named step of a :class:`Pipeline`."""

    name: str
    run: StageFn


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Stages run in order, each on the ranking of the one before; the first starts from [].

    Example: ``Pipeline((Stage("fusion", f), Stage("preamble_prior", g))).run(request)``.
    """

    stages: tuple[Stage, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The stage names, in order."""
        return tuple(s.name for s in self.stages)

    def run(self, request: Request, ranked: Sequence[tuple[int, float]] = ()) -> Ranked:
        """Run every stage; returns the last stage's ranking."""
        out = list(ranked)
        for stage in self.stages:
            out = stage.run(request, out)
        return out

    def with_stage(self, stage: Stage, before: str | None = None) -> Pipeline:
        """A copy with ``stage`` inserted before the stage named ``before`` (None: at the end).

        Raises:
            KeyError: no stage is named ``before``.
        """
        if before is None:
            return Pipeline((*self.stages, stage))
        i = self.names.index(before) if before in self.names else -1
        if i < 0:
            raise KeyError(f"no stage {before!r}; stages: {', '.join(self.names)}")
        return Pipeline((*self.stages[:i], stage, *self.stages[i:]))
