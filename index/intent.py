"""Query intent from checklist cues: which coordination topic a question is about.

Negotiators ask in their own words ("does the pension keep being paid after moving to the other
country?"); the clauses that answer carry a rule tag (``export_of_benefits``). Each tag gets the
exemplar sentences ("cues") and questions of the checklist items that name it, written in our
words in English and French (``nlp/checklists/*.yaml``). A query's intent is the tag whose cues it
is most similar to; hybrid search then adds :data:`INTENT_BOOST` to candidates with that tag when
the similarity reaches :data:`INTENT_THRESHOLD`.

Both constants were chosen on the dev split of the retrieval benchmark
(``python -m migralex.evaluation.retrieval``) with all-MiniLM-L6-v2: hybrid nDCG@10 dev
.491 -> .520 and test .520 -> .543; within-agreement MRR test .611 -> .647.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from migralex.index.embedders import Embedder

INTENT_BOOST = 0.2
INTENT_THRESHOLD = 0.5


@dataclass(frozen=True)
class TagIntent:
    """Tag prototypes: the embedded cues of every tag named by a checklist item.

    Attributes:
        names: tag names, sorted.
        cues: float32 ``(n_cues, dim)``, L2-normalised, embedded as queries.
        owner: int ``(n_cues,)``: index into ``names`` of each cue's tag.
    """

    names: tuple[str, ...]
    cues: np.ndarray
    owner: np.ndarray

    @classmethod
    def build(cls, embedder: Embedder) -> TagIntent:
        """Embed the cues and questions of every checklist item, grouped by the item's tags."""
        from migralex.nlp.checklist import list_checklists

        texts: dict[str, list[str]] = {}
        for checklist in list_checklists():
            for item in checklist.items:
                for tag in item.tags:
                    texts.setdefault(tag, []).extend([item.question, *item.cues])
        names = tuple(sorted(texts))
        pairs = [(i, c) for i, n in enumerate(names) for c in dict.fromkeys(texts[n])]
        cues = embedder.embed_queries([c for _, c in pairs])
        return cls(names, cues, np.array([i for i, _ in pairs], dtype=np.int64))

    def intent(self, query_vector: np.ndarray) -> tuple[str, float]:
        """Return the tag whose cues are most similar to a query and that similarity.

        Args:
            query_vector: float32 ``(dim,)``, L2-normalised, from the same embedder.

        Returns:
            ``(tag, cosine)``; ``("", -1.0)`` when there are no cues.
        """
        if not len(self.names):
            return "", -1.0
        sims = self.cues @ query_vector
        best = np.full(len(self.names), -1.0, dtype=np.float32)
        np.maximum.at(best, self.owner, sims)
        i = int(np.argmax(best))
        return self.names[i], float(best[i])
