"""Partial rules at clause level: does a found provision only partly answer an item?

Each rule takes the folded clause text (:func:`migralex.nlp.text.fold`) and the clause's tags of
the item, and returns ``None`` (does not fire) or a detail string ("" for none) quoted in the
reason. The rules are listed in :data:`migralex.nlp.checklist.loader.PARTIAL_RULES`; the words
they look for are vocabulary groups of ``nlp/vocab/partial_rules.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from migralex.corpus.models import Tag
from migralex.nlp.text import fold
from migralex.nlp.vocabulary import regex

__all__ = ["CLAUSE_RULES", "ClauseRule", "costs_on_worker", "lawful_status_only", "nationals_only"]

#: Characters before a "nationals" match searched for a comparator ("same conditions as").
_COMPARATOR_WINDOW = 24
#: Characters before costs-on-worker wording searched for a negation ("shall not be borne").
_NEGATION_WINDOW = 60


def nationals_only(text: str) -> bool:
    """The folded ``text`` confines a right to nationals (vocabulary ``nationals``, not as a
    comparator just before it) and names no other persons (``any_person``)."""
    for match in regex("nationals").finditer(text):
        window = text[max(0, match.start() - _COMPARATOR_WINDOW) : match.start()]
        if regex("nationals_comparator").search(window):
            continue  # "same conditions as nationals of the latter Party": a comparator
        return not regex("any_person").search(text)
    return False


def lawful_status_only(text: str) -> bool:
    """The folded ``text`` requires lawful status (``lawful_status``) with no
    "regardless of status" override (``status_override``)."""
    return bool(regex("lawful_status").search(text)) and not regex("status_override").search(text)


def costs_on_worker(text: str) -> bool:
    """The folded ``text`` puts costs on the worker (``costs_on_worker``) outside a negated
    statement (``negation`` within the 60 characters before)."""
    for match in regex("costs_on_worker").finditer(text):
        window = text[max(0, match.start() - _NEGATION_WINDOW) : match.start()]
        if not regex("negation").search(window):
            return True
    return False


def _real_exception(exception: str) -> bool:
    """True if ``exception`` limits the right, not a cross-reference to the same instrument."""
    folded = fold(exception)
    return bool(folded) and not regex("internal_reference").search(folded)


#: Clause-level rules: (folded clause text, the clause's tags of this item) -> detail or None.
ClauseRule = Callable[[str, Sequence[Tag]], str | None]


def _rule_tag_exception(text: str, tags: Sequence[Tag]) -> str | None:
    if tags and all(_real_exception(t.exception) for t in tags):
        return f"«{tags[0].exception}»"
    return None


def _discretionary(text: str) -> bool:
    return bool(regex("may").search(text)) and not regex("shall").search(text)


#: The clause-level partial rules by id (``fewer_branches`` and ``semantic_only`` are decided by
#: the engine over the whole document).
CLAUSE_RULES: dict[str, ClauseRule] = {
    "tag_exception": _rule_tag_exception,
    "nationals_only": lambda text, _t: "" if nationals_only(text) else None,
    "lawful_status_only": lambda text, _t: "" if lawful_status_only(text) else None,
    "status_silent": lambda text, _t: None if regex("status_words").search(text) else "",
    "no_binding_settlement": lambda text, _t: (
        None if regex("binding_settlement").search(text) else ""
    ),
    "discretionary": lambda text, _t: "" if _discretionary(text) else None,
    "costs_on_worker": lambda text, _t: "" if costs_on_worker(text) else None,
}
