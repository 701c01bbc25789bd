"""Good-practice examples for checklist items: ranking search hits from agreements in force."""

from __future__ import annotations

from collections.abc import Sequence

from migralex.corpus.checklist_models import ChecklistItem
from migralex.corpus.models import Hit
from migralex.nlp.structure import heading_regex, is_preamble
from migralex.nlp.text import fold
from migralex.nlp.vocabulary import regex

__all__ = ["example_quality", "rank_examples"]

#: Document kinds whose clauses make the best examples, per checklist (others still may serve).
_PREFERRED_KINDS: dict[str, frozenset[str]] = {
    "ssa": frozenset({"ssa"}),
    "bla": frozenset({"bla", "ssa"}),
    "law": frozenset({"law", "regulation"}),
}
#: Clause length (characters) that reads as a complete, quotable provision.
_GOOD_LENGTH = (200, 2000)


def example_quality(item: ChecklistItem, hit: Hit) -> float:
    """Score a search hit as a good-practice example for ``item``, in [0, 1].

    The similarity of the hit counts for 0.3 (clipped to [0, 1]); the rest rewards a clear,
    complete provision from an agreement in force: a heading matching the item (0.25), a tag of
    the item (0.15), a document of the checklist's kind (0.15), a moderate length (0.1 inside
    :data:`_GOOD_LENGTH`, less when shorter or longer), not a preamble (0.05). A title or
    clause heading saying the text is repealed, lapsed or terminated (vocabulary group
    ``lapsed``, ``nlp/vocab/examples.yaml``) scores 0.
    """
    clause = hit.clause
    lapsed = regex("lapsed")
    if lapsed.search(fold(hit.doc_title)) or lapsed.search(fold(clause.heading)):
        return 0.0
    heading_rx = heading_regex(item.headings)
    heading = bool(heading_rx and clause.heading and heading_rx.search(fold(clause.heading)))
    tagged = bool(set(item.tags) & set(hit.tags))
    prefix = item.id.split(".", 1)[0]
    kind = hit.kind in _PREFERRED_KINDS.get(prefix, frozenset())
    low, high = _GOOD_LENGTH
    n = len(clause.text)
    length = 1.0 if low <= n <= high else (n / low if n < low else max(0.0, 2.0 - n / high))
    return (
        0.3 * min(1.0, max(0.0, hit.score))
        + 0.25 * heading
        + 0.15 * tagged
        + 0.15 * kind
        + 0.1 * length
        + 0.05 * (not is_preamble(clause))
    )


def rank_examples(item: ChecklistItem, hits: Sequence[Hit], n: int) -> list[Hit]:
    """Return the ``n`` best examples among ``hits``: one per document, best
    :func:`example_quality` first (ties: search rank), lapsed texts dropped."""
    scored = [(example_quality(item, h), i, h) for i, h in enumerate(hits)]
    scored.sort(key=lambda t: (-t[0], t[1]))
    seen: set[str] = set()
    out: list[Hit] = []
    for quality, _i, hit in scored:
        if quality <= 0 or hit.clause.doc_id in seen:
            continue
        seen.add(hit.clause.doc_id)
        out.append(hit)
        if len(out) == n:
            break
    return out
