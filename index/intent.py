"""Query intent by pseudo-relevance feedback on rule tags: which clause type a question is about.

Negotiators ask in their own words ("will my old-age benefit be cut if I go back home?"); the
clauses that answer carry a rule tag (``export_of_benefits``) that the words of the question do
not name. The best-ranked clauses of the question over the whole store (hybrid ranking, before
any filter) mostly carry that tag: :func:`feedback_intent` takes the tag with the largest share
of rank-discounted weight among the top :data:`INTENT_DEPTH` (pseudo-relevance feedback, Rocchio
1971, here on tags instead of terms), and hybrid search adds :data:`INTENT_BOOST` to the
candidates with that tag when the share reaches :data:`INTENT_SHARE` (on a ramp of
:data:`INTENT_RAMP` either side of it, :func:`intent_weight`). Branch tags
(``branch_*``) are left out: lists of branches occur in most general articles. Besides rule tags,
each clause carries the checklist topics its heading or opening formula names
(:func:`migralex.nlp.structure.structural_topics`, prefixed :data:`TOPIC_PREFIX`), so that
questions on subjects without a tag (final clauses, scope) get an intent too.

The three constants were chosen on the dev split of the retrieval benchmark
(``python -m migralex.evaluation.retrieval``, all-MiniLM-L6-v2, full corpus), checked on test:
hybrid nDCG@10 dev .491 -> .577, test .520 -> .593 with tags alone, dev .605 and test .602 with
the structural topics too; within-agreement MRR@10 test .611 -> .697. They replace intent from
checklist cue similarity (dev .520, test .543), which recognised the intended tag for 23 of 46
questions.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

INTENT_BOOST = 0.7
INTENT_DEPTH = 20
INTENT_SHARE = 0.3
#: Half-width of the ramp around :data:`INTENT_SHARE` over which the boost grows from 0 to
#: :data:`INTENT_BOOST` (:func:`intent_weight`; 0: a step at the share). With the step, a
#: share moving from .32 to .27 (the same question on vectors at cosine .9999 of each other)
#: took the whole boost away: a French dev question fell from nDCG@10 1.0 to .08 and the French
#: dev figure by .095. Chosen on the dev split of the retrieval benchmark (fresh store; sum of
#: hybrid nDCG@10 over all questions and within-agreement MRR, among 0, .1, .15 and .2): all
#: questions .787 -> .785, within one agreement .799 -> .818; with vectors of the dequantised
#: model (:mod:`migralex.evaluation.multilingual_adaptation`) .763 -> .784 and .802 -> .820,
#: so the two sets of near-identical vectors now score alike.
INTENT_RAMP = 0.1
#: Prefix of the structural topics among the intent labels.
TOPIC_PREFIX = "item:"


def feedback_intent(
    ranked_tags: Sequence[Collection[str]], depth: int = INTENT_DEPTH
) -> tuple[str, float]:
    """Return the dominant tag of the top of a ranking and its share.

    Args:
        ranked_tags: the tag names of each ranked clause, best first.
        depth: how many of the first clauses count.

    Returns:
        ``(tag, share)``: the tag maximising the sum of ``1 / log2(rank + 1)`` over the clauses
        that carry it, divided by the same sum over all ``depth`` clauses (in [0, 1]); ties go
        to the alphabetically first tag. ``("", 0.0)`` when no clause has a non-branch tag.
    """
    weights: dict[str, float] = {}
    total = 0.0
    for rank, names in enumerate(ranked_tags[:depth], start=1):
        w = 1.0 / math.log2(rank + 1)
        total += w
        for name in set(names):
            if not name.startswith("branch_"):
                weights[name] = weights.get(name, 0.0) + w
    if not weights:
        return "", 0.0
    tag = min(weights, key=lambda t: (-weights[t], t))
    return tag, weights[tag] / total


def intent_weight(
    share: float, centre: float = INTENT_SHARE, half_width: float = INTENT_RAMP
) -> float:
    """The fraction of the intent boost a dominant tag of ``share`` earns, in [0, 1]: 0 up to
    ``centre - half_width``, 1 from ``centre + half_width``, linear between (a step at
    ``centre`` when ``half_width`` is 0)."""
    if half_width <= 0:
        return float(share >= centre)
    return min(1.0, max(0.0, (share - centre + half_width) / (2 * half_width)))
