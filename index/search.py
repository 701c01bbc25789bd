"""Clause search: semantic (FAISS), lexical (SQLite FTS5 BM25) and hybrid (reciprocal rank fusion).

Filters (kind, language, party, tag, document) are applied before ranking in every mode: in SQL
for the lexical side and with an ID selector inside the FAISS search for the semantic side.

Hybrid mode fuses the two rankings with reciprocal rank fusion, ``score = sum 1 / (k + rank)``
with ``k = 60`` (Cormack, Clarke & Büttcher, SIGIR 2009), over the top :data:`CANDIDATES` of each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from migralex.corpus.errors import ValidationError
from migralex.corpus.models import Hit
from migralex.corpus.store import Filters, Store
from migralex.index.embedders import Embedder
from migralex.index.vectors import VectorIndex

MODES = ("hybrid", "semantic", "lexical")
#: The default mode, chosen by measurement: on 8 paraphrased negotiator questions over the full
#: corpus (heading-derived relevance, P@10) semantic scored .725, hybrid .675 (lexical weight .5)
#: and lexical .35 with all-MiniLM-L6-v2. Provisional until the retrieval benchmark.
DEFAULT_MODE = "semantic"
RRF_K = 60
CANDIDATES = 100
#: Weights of the semantic and lexical rankings in hybrid fusion (provisional, see DEFAULT_MODE).
FUSION_WEIGHTS = (1.0, 0.5)

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


@dataclass
class Searcher:
    """Searches one store.

    Args:
        store: the store.
        embedder: a function returning the query embedder (called only when a semantic
            ranking is needed, so lexical search never loads a model).
        threads: FAISS threads.
    """

    store: Store
    embedder: Callable[[], Embedder]
    threads: int = 1
    _vectors: VectorIndex | None = field(default=None, init=False, repr=False)

    @property
    def vectors(self) -> VectorIndex:
        """The FAISS index of the store (built or loaded on first use)."""
        if self._vectors is None:
            self._vectors = VectorIndex(self.store, self.threads)
        return self._vectors

    def _semantic(self, query: str, k: int, filters: Filters) -> list[tuple[int, float]]:
        emb = self.embedder()
        vec = emb.embed_queries([query])[0]
        return self.vectors.search(vec, k, self.store.filter_rowids(filters))

    def _lexical(self, query: str, k: int, filters: Filters) -> list[tuple[int, float]]:
        match = lexical_query(query)
        return self.store.fts(match, k, filters) if match else []

    def search(
        self, query: str, k: int = 10, mode: str = DEFAULT_MODE, filters: Filters | None = None
    ) -> list[Hit]:
        """Return the ``k`` best clauses for ``query``.

        Args:
            query: free text, any language the model reads.
            k: how many hits (>= 1).
            mode: "hybrid", "semantic" or "lexical".
            filters: restrictions applied before ranking.

        Returns:
            Hits ranked 1..k; scores per :class:`~migralex.corpus.models.Hit`.

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
        if mode == "semantic":
            ranked = self._semantic(query, k, filters)
        elif mode == "lexical":
            ranked = self._lexical(query, k, filters)
        else:
            ranked = rrf_fuse(
                [
                    self._semantic(query, CANDIDATES, filters),
                    self._lexical(query, CANDIDATES, filters),
                ],
                weights=FUSION_WEIGHTS,
            )[:k]
        return self.hits(ranked)

    def similar(self, clause_id: str, k: int = 10, one_per_document: bool = True) -> list[Hit]:
        """Return the clauses of *other* documents most similar to one clause.

        Args:
            clause_id: the clause to compare.
            k: how many hits.
            one_per_document: keep only the best clause of each document.

        Raises:
            NotFoundError: unknown clause.
        """
        clause = self.store.get_clause(clause_id)
        rowid = self.store.rowid_of(clause_id)
        vec = self.vectors.reconstruct(rowid)
        allowed = self.store.filter_rowids(Filters(exclude_doc_ids=(clause.doc_id,)))
        ranked = self.vectors.search(vec, k * 8 if one_per_document else k, allowed)
        if one_per_document:
            by_doc = self.store.clauses_by_rowid([r for r, _ in ranked])
            seen: set[str] = set()
            kept = []
            for rid, score in ranked:
                doc = by_doc[rid].doc_id
                if doc not in seen:
                    seen.add(doc)
                    kept.append((rid, score))
            ranked = kept
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


def rrf_fuse(
    rankings: Sequence[Sequence[tuple[int, float]]],
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[tuple[int, float]]:
    """Fuse rankings by (weighted) reciprocal rank fusion (Cormack et al. 2009):
    ``score(d) = sum_i w_i / (k + rank_i(d))``.

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
    return sorted(fused.items(), key=lambda x: (-x[1], x[0]))
