"""Clause structure as the checklist engine and search read it: preamble, headings, body start,
opening formula, annexes and administrative arrangements, and the checklist topics a clause's
structure names.

All functions are pure and take a :class:`~migralex.corpus.models.Clause`. Offsets are
characters, 0-based, into ``clause.text``. The words used (annex words, generic headings,
opening reservations) are data: ``nlp/vocab/structure.yaml`` (:mod:`migralex.nlp.vocabulary`).
"""

from __future__ import annotations

import functools
import re

from migralex.corpus.models import Clause
from migralex.nlp import vocabulary
from migralex.nlp.text import fold, rx

__all__ = [
    "annex_path_regex",
    "arrangement_path_regex",
    "body_start",
    "heading_of",
    "heading_regex",
    "in_annex",
    "in_arrangement",
    "is_preamble",
    "opening",
    "openings_decide",
    "reservation_regex",
    "structural_topics",
]

_PREAMBLE_LABELS = frozenset({"preamble", "préambule", "preámbulo", "preambule", "preambulo"})
#: Longest first body line (characters) read as an inline heading by :func:`heading_of`.
INLINE_HEADING_MAX = 90


@functools.cache
def annex_path_regex() -> re.Pattern[str]:
    """Folded container titles of annexes, protocols, appendices and administrative
    arrangements (vocabulary groups ``annex_words`` after an optional "final "/"additional ",
    and ``administrative_arrangement``), matched from the start."""
    words = "|".join(vocabulary.patterns("annex_words"))
    return rx(
        rf"^(?:final |additional )?(?:{words})",
        *vocabulary.patterns("administrative_arrangement"),
    )


@functools.cache
def arrangement_path_regex() -> re.Pattern[str]:
    """Folded container titles of an administrative arrangement: concluded by the competent
    authorities to implement the agreement (as in the R167 model agreement), it cannot supply a
    provision the agreement lacks. Protocols and annexes are integral parts of the agreement."""
    return rx(*vocabulary.patterns("administrative_arrangement"))


@functools.cache
def reservation_regex() -> re.Pattern[str]:
    """An opening reservation ("Unless otherwise provided in this Agreement,", "Sous réserve
    des dispositions de l'article 8,"): the subject of the article comes after it. Matched on
    the raw text (case-insensitive), after an optional paragraph number, up to the first comma
    within 160 characters; the words are vocabulary group ``reservation``."""
    words = "|".join(vocabulary.patterns("reservation"))
    return re.compile(rf"\s*(?:\(?\d{{1,2}}[.)]\s*)?(?:{words})[^,;\n]{{0,160}},", re.IGNORECASE)


def in_annex(clause: Clause) -> bool:
    """True when the clause's first container is an annex, protocol, appendix, schedule or
    administrative arrangement (:func:`annex_path_regex` on the folded ``path[0]``)."""
    return bool(clause.path) and bool(annex_path_regex().match(fold(clause.path[0])))


def in_arrangement(clause: Clause) -> bool:
    """True when the clause's first container is an administrative arrangement."""
    return bool(clause.path) and bool(arrangement_path_regex().match(fold(clause.path[0])))


def is_preamble(clause: Clause) -> bool:
    """True when the clause is (inside) the preamble: its label or first path element is
    "Preamble" in English, French, Spanish or Dutch, accents ignored (the segmenter's label
    for the text before the first article)."""
    return fold(clause.label) in _PREAMBLE_LABELS or (
        bool(clause.path) and fold(clause.path[0]) in _PREAMBLE_LABELS
    )


@functools.cache
def heading_regex(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """:func:`migralex.nlp.text.rx` of a checklist item's heading or opening patterns (cached);
    ``None`` for no patterns."""
    return rx(*patterns) if patterns else None


def openings_decide(clause: Clause, heading: str) -> bool:
    """The opening formula states the clause's subject: it has no printed heading (an inline
    first line may be a wrapped opening sentence) or a generic one (vocabulary group
    ``generic_heading``, matched whole); ``heading`` is :func:`heading_of` the clause."""
    return not clause.heading or bool(vocabulary.regex("generic_heading").fullmatch(heading))


def opening(clause: Clause, chars: int) -> str:
    """The first ``chars`` characters of the body (:func:`body_start`), folded."""
    start = body_start(clause)
    return fold(clause.text[start : start + chars])


@functools.lru_cache(maxsize=4096)
def heading_of(clause: Clause) -> str:
    """The clause heading, folded; for a clause without one, a short first body line (at most
    :data:`INLINE_HEADING_MAX` characters) without final punctuation ("Entrée en vigueur et
    durée"), which the segmenter left in the text; "" when there is neither."""
    if clause.heading:
        return fold(clause.heading)
    text = clause.text
    first_end = text.find("\n")
    if first_end < 0 or not fold(text[:first_end]).startswith(fold(clause.label)):
        return ""
    second_end = text.find("\n", first_end + 1)
    if second_end < 0:
        return ""
    line = text[first_end + 1 : second_end].strip()
    if not line or len(line) > INLINE_HEADING_MAX or line[-1] in ".;:,)" or line[0].isdigit():
        return ""
    return fold(line)


def body_start(clause: Clause) -> int:
    """Offset in ``clause.text`` where the body's subject starts: after the label and heading
    lines and an opening reservation (:func:`reservation_regex`)."""
    text = clause.text
    pos = 0
    first_end = text.find("\n")
    if first_end >= 0 and fold(text[:first_end]).startswith(fold(clause.label)):
        pos = first_end + 1
        heading = fold(clause.heading)
        if heading and heading not in fold(text[:first_end]):
            second_end = text.find("\n", pos)
            second = text[pos : second_end if second_end >= 0 else len(text)]
            if fold(second) == heading:
                pos = second_end + 1 if second_end >= 0 else len(text)
    reservation = reservation_regex().match(text, pos)
    return reservation.end() if reservation else pos


def structural_topics(clause: Clause, lead_chars: int | None = None) -> frozenset[str]:
    """The checklist topics a clause's structure names: its heading, or (when the heading names
    none and is missing, left inline or generic, as for the engine) the opening formula of its
    first ``lead_chars`` characters (default: the engine's calibrated ``LEAD_CHARS``).

    Topics are item ids without their checklist prefix ("entry_into_force_and_termination"), over
    every shipped checklist: search uses them like tags (:mod:`migralex.index.intent`).
    """
    from migralex.nlp.checklist.loader import list_checklists
    from migralex.nlp.checklist.thresholds import LEAD_CHARS

    chars = LEAD_CHARS if lead_chars is None else lead_chars
    heading = heading_of(clause)
    items = [item for checklist in list_checklists() for item in checklist.items]

    def named(patterns: tuple[str, ...], text: str) -> bool:
        compiled = heading_regex(patterns)
        return compiled is not None and compiled.search(text) is not None

    out = {item.id.split(".", 1)[1] for item in items if heading and named(item.headings, heading)}
    if not out and openings_decide(clause, heading):
        first = opening(clause, chars)
        out = {item.id.split(".", 1)[1] for item in items if named(item.openings, first)}
    return frozenset(out)
