"""The checklist engine: clause signals -> evidence ranking -> item status.

:func:`run_checklist` answers every item of a checklist for one document's clauses:
``present``, ``partial`` or ``absent``, with the evidence clauses, a confidence and a reason a
lawyer can check.

Scoring, per item and clause (all signals are computed for every clause):

* **heading** (strong): one of the item's ``headings`` regexes is found in the clause heading
  (case- and accent-insensitive search); a clause without a heading may carry it as a short
  first body line without final punctuation ("Entrée en vigueur et durée");
* **opening** (strong): in a clause without a heading (or under a generic one such as "Scope of
  Application" or "General Provisions"), one of the item's ``openings`` regexes
  is found in the first ``LEAD_CHARS`` of the body (after the label line and an opening
  reservation): the formula that opens an article states its subject the way a heading would
  ("The present Convention shall enter into force ...", "La présente Convention s'applique
  ... aux législations"), which matters for older agreements printed without headings;
* **context** (strong): the same as heading, in an enclosing division heading (``Clause.context``, e.g. a
  chapter "Totalizing" over articles without headings);
* **foreign**: the clause's own heading names other items only; the item's tags and wording there are passing mentions and are ignored;
* **tag**: the clause carries a :class:`~migralex.corpus.models.Tag` whose name is one of the
  item's ``tags`` and that does not point to another article ("totalisation des périodes visée
  à l'article 19", "périodes prises en compte conformément aux dispositions de l'article 18":
  the rule lives in that article), and whose rule is not among the item's ``ignore_rules``
  (designating liaison agencies is not a commitment to assist). In a clause *without* a
  heading, a tag that starts within ``LEAD_CHARS`` of the body (after the label line and an opening reservation such as
  "Unless otherwise provided ...,") is *lead* evidence: strong on its own (the opening words of an
  article state its subject; French agreements often have no article headings). Under a heading
  that does not name the item, tags are ignored (the heading states another subject). Otherwise
  a tag is strong only with a cue similarity of at least ``TAG_SUPPORT`` and weak from
  ``TAG_FLOOR``, and only when the clause is on topic (below);
* **semantic**: the highest cosine similarity between the clause vector and the vectors of the
  item's ``cues`` (dot product of L2-normalised vectors, in [-1, 1]); strong at or above
  ``SEMANTIC_PRESENT``, weak at or above ``SEMANTIC_PARTIAL``, and counted only when
  the clause is *on topic*: its similarity to this item is at least its best similarity to any
  other item of the checklist minus ``SEMANTIC_MARGIN`` (generic treaty wording is about
  as close to every item). The thresholds are :mod:`migralex.nlp.checklist.thresholds`.

Evidence is ranked strong first, then by ``HEADING_WEIGHT * heading + CONTEXT_WEIGHT * context
+ TAG_WEIGHT * tag + SEMANTIC_WEIGHT * max(similarity, 0)`` (in [0, 1]; x :data:`VARIANT_FACTOR`
for third-State variants; a lead tag counts 0.5-1 of ``TAG_WEIGHT``, earlier is more, another tag
0.5; similarity off topic counts half) with the main-body articles before annexes, protocols
and administrative arrangements, then by clause order. Status:

* ``present`` — a strong clause on which none of the item's partial rules fires;
* ``partial`` — strong clauses exist but a partial rule fires on every one of them (or an
  item-level rule fires), or there is only weak evidence, or the only evidence is in the
  preamble;
* ``absent`` — otherwise, and also when all the evidence lies in an administrative arrangement
  bundled with the agreement (the reason then names it): the arrangement implements the
  agreement and cannot stand in for a provision the agreement lacks.

The engine is pure: no I/O besides reading the YAML package data, no globals mutated,
deterministic (ties are broken by clause ordinal).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from migralex.corpus.checklist_models import (
    Checklist,
    ChecklistItem,
    ChecklistResult,
    Evidence,
    ItemResult,
    PartialRule,
    Status,
    cite,
)
from migralex.corpus.errors import ValidationError
from migralex.corpus.models import Clause, Hit, Paragraph, Tag
from migralex.nlp import vocabulary
from migralex.nlp.checklist.rules import CLAUSE_RULES
from migralex.nlp.checklist.thresholds import Thresholds
from migralex.nlp.paragraphs import split_paragraphs
from migralex.nlp.structure import (
    body_start,
    heading_of,
    heading_regex,
    in_annex,
    in_arrangement,
    is_preamble,
    opening,
    openings_decide,
)
from migralex.nlp.tagger import rule_name
from migralex.nlp.text import fold

if TYPE_CHECKING:
    from migralex.nlp.checklist.topics import TopicModel

__all__ = [
    "CONTEXT_WEIGHT",
    "HEADING_WEIGHT",
    "SEMANTIC_WEIGHT",
    "TAG_WEIGHT",
    "VARIANT_FACTOR",
    "run_checklist",
]

#: Weight of a match of the clause's own heading in the evidence score (ranking only).
HEADING_WEIGHT = 0.45
#: Weight of a match of an enclosing division heading (``Clause.context``, e.g. a chapter
#: "Totalizing" above articles without headings).
CONTEXT_WEIGHT = 0.15
#: Weight of a tag match in the evidence score.
TAG_WEIGHT = 0.25
#: Weight of the (non-negative) cue similarity in the evidence score.
SEMANTIC_WEIGHT = 0.15
#: Factor on the score of a clause whose heading marks a variant of the rule (third States,
#: special cases): "Totalization with third States" ranks below "Totalization".
VARIANT_FACTOR = 0.8

_SEMANTIC_ONLY_REASON = (
    "only similar wording was found, no clause clearly devoted to this; check the evidence"
)


# --------------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scored:
    index: int
    heading: bool
    context: bool
    tag: bool
    similarity: float
    score: float
    strong: bool
    weak: bool
    paragraph: Paragraph | None = None
    opening: bool = False  # found by a paragraph's opening formula (a heading of its own)
    quoted: bool = False  # the clause is the evidence; ``paragraph`` is only what to quote
    term: bool = False  # one of the item's terms words the subject in it


@dataclass(frozen=True, slots=True)
class _Signals:
    """Item-independent facts about one clause, as seen from one item."""

    tagged: bool  # carries one of the item's tags
    lead: float  # in (0.5, 1] when one of them starts in the opening of the body (earlier is
    # higher), else 0
    similarity: float  # best cue similarity for the item
    other_similarity: float  # best cue similarity for any other item (-1 if none)
    foreign: bool  # its own heading names other items only
    term: bool = False  # one of the item's terms is in the body
    term_lead: bool = False  # ... in the opening of the body
    virtual: bool = False  # the topic model reads the heading-less body as about the item


@functools.cache
def _cross_reference() -> re.Pattern[str]:
    """Right after a tag, a pointer to another article ("totalisation des périodes visée à
    l'article 19", "periods totalized under Article 6"): the tag refers to that article's rule,
    it is not this article's subject. Words: vocabulary group ``cross_reference``."""
    words = "|".join(vocabulary.patterns("cross_reference"))
    return re.compile(
        rf"[^.;:\n]{{0,60}}?\b(?:{words})\s+(?:(?:aux |des |the )?(?:dispositions|provisions) "
        r"(?:de |du |des |of )?)?(?:l[ae'’]\s*)?(?:articles?|art\.|paragraph|paragraphe|p[aá]rrafo|"
        r"art[ií]culos?|artikel(?:en)?|lid)\s",
        re.IGNORECASE,
    )


#: The agreement naming itself ("this Agreement", "la présente Convention", "deze
#: Overeenkomst", "el presente Convenio"), after the words of ``agreement_reference``.
_THIS_AGREEMENT = (
    r"(?:(?:this|the|that) (?:agreement|convention)|(?:le présent|cet|l['’])\s*accord|"
    r"(?:la présente|cette|la) convention|(?:deze|dit|de|het) (?:overeenkomst|verdrag)|"
    r"(?:el presente|este|el) (?:convenio|acuerdo))\b"
)


@functools.cache
def _agreement_reference() -> re.Pattern[str]:
    """Right after a tag, the agreement named as where the rule is laid down ("through the
    totalizing of periods as provided in this Agreement"): the clause applies that rule (a
    benefit calculation does), it does not lay it down. Words: vocabulary group
    ``agreement_reference``; "under this Agreement" is not among them (it names the legal basis
    of the clause's own rule)."""
    words = "|".join(vocabulary.patterns("agreement_reference"))
    return re.compile(rf"[^.;:\n]{{0,60}}?\b(?:{words})\s+{_THIS_AGREEMENT}", re.IGNORECASE)


@functools.cache
def _implementing() -> re.Pattern[str]:
    """A sentence that implements other articles ("Pour l'application des articles 7 à 11 de
    l'Entente, ...", "For the purposes of Article 6 of the Agreement, ..."): typical of
    administrative arrangements; the rule itself is in the articles named. Words: vocabulary
    group ``implementing``."""
    words = "|".join(vocabulary.patterns("implementing"))
    return re.compile(
        rf"\s*(?:\(?\d{{1,2}}[.)]\s*)?(?:{words})\s*"
        r"(?:l[ae'’]\s*|la |las |los |el |the )?(?:articles?|art\.|art[ií]culos?|paragraphs?|"
        r"paragraphes?|p[aá]rrafos?)\s+\d",
        re.IGNORECASE,
    )


_SENTENCE_END = re.compile(r"[.;:](?=\s)")
_SENTENCE_LOOKBACK = 400


def _sentence_start(text: str, pos: int) -> int:
    """Offset where the sentence holding ``pos`` starts: after the last ``.``, ``;`` or ``:``
    (followed by a space) in the ``_SENTENCE_LOOKBACK`` characters before it."""
    lo = max(0, pos - _SENTENCE_LOOKBACK)
    return max((m.end() for m in _SENTENCE_END.finditer(text, lo, pos)), default=lo)


def _sentence_end(text: str, pos: int) -> int:
    """Offset where the sentence holding ``pos`` ends: at the next ``.``, ``;`` or ``:``
    (followed by a space), at most ``_SENTENCE_LOOKBACK`` characters on."""
    hi = min(len(text), pos + _SENTENCE_LOOKBACK)
    m = _SENTENCE_END.search(text, pos, hi)
    return m.start() if m else hi


def _in_calculation(text: str, tag: Tag) -> bool:
    """The tag's sentence computes a benefit's amount (vocabulary group
    ``benefit_calculation``: "the theoretical amount which would be payable if all the periods
    added together had been completed"): the tag is an input of the calculation, as in the
    pro rata articles modelled on EU Regulation 883/2004 Art. 52, not a rule of its own."""
    lo, hi = _sentence_start(text, tag.start), _sentence_end(text, tag.end)
    return bool(vocabulary.regex("benefit_calculation").search(text, lo, hi))


@functools.lru_cache(maxsize=4096)
def _implements_others(clause: Clause) -> bool:
    """The article opens by implementing other articles ("1. Pour l'application des articles
    7 à 11 de l'Entente, ..."), after its label and heading line: all of it applies them."""
    start = body_start(clause)
    if not clause.heading and heading_of(clause):  # skip the inline heading line
        start = clause.text.find("\n", start) + 1 or len(clause.text)
    return bool(_implementing().match(clause.text, start))


def _points_elsewhere(clause: Clause, tag: Tag) -> bool:
    """The tag refers to another article's rule: a pointer ("visée à l'article 19",
    "conformément aux dispositions de l'article 18", "as provided in this Agreement") right after
    it or inside its span, or the tag's sentence or the whole article opens by implementing other
    articles ("Pour l'application des articles 7 à 11 de l'Entente, ..."), as administrative
    arrangements do, or the tag's sentence computes a benefit's amount (:func:`_in_calculation`)."""
    text = clause.text
    pointer = _cross_reference()
    return bool(
        pointer.match(text, tag.end)
        or _agreement_reference().match(text, tag.end)
        or pointer.search(text, tag.start, tag.end)
        or _implementing().match(text, _sentence_start(text, tag.start))
        or _implements_others(clause)
        or _in_calculation(text, tag)
    )


def _own_tags(item: ChecklistItem, clause: Clause, tags: Sequence[Tag]) -> list[Tag]:
    """The clause's tags that are evidence for the item: one of its tag names, a rule not in
    its ``ignore_rules``, not pointing to another article."""
    return [
        t
        for t in tags
        if t.name in item.tags
        and rule_name(t.rule) not in item.ignore_rules
        and not _points_elsewhere(clause, t)
    ]


def _signals(
    item: ChecklistItem,
    clause: Clause,
    own: Sequence[Tag],
    similarity: float,
    other_similarity: float,
    owners: frozenset[str],
    th: Thresholds,
    virtual: str | None = None,
) -> _Signals:
    """The item's signals on one clause; ``own`` from :func:`_own_tags`; ``virtual``: the
    item the topic model reads the heading-less clause as about (:mod:`.topics`)."""
    lead = 0.0
    body_at = body_start(clause)
    # An opening that names one Party's legislation applies a rule to that scheme: its tags
    # and terms are not the article's subject (vocabulary group ``one_party_opening``).
    one_party = th.lead_chars > 0 and _one_party_opening(clause, body_at, th.lead_chars)
    if th.lead_chars > 0 and not one_party:
        lead_end = body_at + th.lead_chars
        lead = max(
            (1.0 - 0.5 * (t.start - body_at) / th.lead_chars for t in own if t.start < lead_end),
            default=0.0,
        )
    return _Signals(
        tagged=bool(own),
        lead=lead,
        similarity=similarity,
        other_similarity=other_similarity,
        foreign=bool(owners) and item.id not in owners,
        virtual=virtual == item.id,
        # a preamble's opening words state motives, not a subject: its terms are mentions
        **_term_signals(
            heading_regex(item.terms),
            clause.text,
            body_at,
            0 if is_preamble(clause) or one_party else th.lead_chars,
        ),
    )


def _one_party_opening(clause: Clause, body_at: int, chars: int) -> bool:
    """Whether the first ``chars`` characters of the clause body name the legislation of one
    Party by its name ("under the legislation of Australia"), not "a Party" or "either Party"
    (vocabulary group ``one_party_opening``)."""
    window = fold(clause.text[body_at : body_at + chars])
    return bool(vocabulary.regex("one_party_opening").search(window))


def _term_signals(
    terms_rx: re.Pattern[str] | None, text: str, body_at: int, lead_chars: int
) -> dict[str, bool]:
    """``{"term": ..., "term_lead": ...}``: one of the item's terms in the body, in its first
    ``lead_chars`` characters."""
    if terms_rx is None:
        return {"term": False, "term_lead": False}
    term = bool(terms_rx.search(fold(text[body_at:])))
    lead = term and bool(terms_rx.search(fold(text[body_at : body_at + lead_chars])))
    return {"term": term, "term_lead": lead}


def _score_clause(
    index: int,
    clause: Clause,
    heading_rx: re.Pattern[str] | None,
    signals: _Signals,
    th: Thresholds,
    nested: bool = False,
    opening_rx: re.Pattern[str] | None = None,
) -> _Scored:
    """The clause's evidence score and strength for one item (see the module docstring)."""
    heading = heading_of(clause)
    h = bool(heading_rx and heading and heading_rx.search(heading)) or signals.virtual
    # Without a printed heading, an inline first line may be the opening sentence wrapped
    # ("Deze Overeenkomst zal vanaf de datum van ondertekening voorlopig worden" / "toegepast.");
    # under a generic heading ("Scope of Application") the opening words name the subject.
    if not h and openings_decide(clause, heading) and opening_rx is not None and th.lead_chars:
        h = bool(opening_rx.search(opening(clause, th.lead_chars)))
    # An inline first line counts as a heading only when it names an item.
    heading = heading if clause.heading or h or signals.foreign else ""
    ctx = heading_rx is not None and any(heading_rx.search(fold(c)) for c in clause.context if c)
    sim = signals.similarity
    # A clause whose own heading (or, without one, its division heading) names another item
    # is about that item: its tags and wording are passing mentions here.
    foreign = not (h or ctx) and signals.foreign
    # A heading that does not name the item states another subject: the item's tags there are
    # passing mentions ("periods totalized under Article 6" in "Calculation of benefits").
    tagged = signals.tagged and not foreign and (h or ctx or not heading)
    # Without a heading, the opening words state the article's subject: a tag there is primary
    # evidence. With a heading that does not name the item, the heading states the subject.
    lead = signals.lead if tagged and not heading else 0.0
    # Semantic evidence only when the clause is about as close to this item as to any other.
    on_topic = not foreign and sim >= signals.other_similarity - th.semantic_margin
    # The item's own wording in the opening of an article about no other item states its
    # subject; anywhere in the body it is a mention (weak), also under another item's heading.
    term_lead = signals.term_lead and not foreign and (h or ctx or not heading)
    score = (
        HEADING_WEIGHT * h
        + CONTEXT_WEIGHT * ctx
        + TAG_WEIGHT * (lead or 0.5 * (tagged or signals.term))
        + SEMANTIC_WEIGHT * max(sim, 0.0) * (1.0 if on_topic else 0.5)
    )
    if clause.heading and vocabulary.regex("variant_heading").search(fold(clause.heading)):
        score *= VARIANT_FACTOR
    strong = (
        h
        or ctx
        or lead > 0
        or term_lead
        or (tagged and on_topic and sim >= th.tag_support)
        or (on_topic and sim >= th.semantic_present)
    )
    weak = not strong and (
        (tagged and on_topic and sim >= th.tag_floor)
        or (on_topic and sim >= th.semantic_partial)
        or (nested and foreign and signals.tagged)
        or signals.term
    )
    return _Scored(index, h, ctx, tagged, sim, min(1.0, score), strong, weak, term=signals.term)


# --------------------------------------------------------------------------------------------
# Paragraphs
# --------------------------------------------------------------------------------------------

#: A tag or term within this many characters of a paragraph's start (after its number) is
#: lead evidence for the paragraph, as a tag in the opening of an article's body is for it.
PARAGRAPH_LEAD_CHARS = 150
_PARAGRAPH_NUMBER = re.compile(
    r"\(?\d{1,2}[.)]?\s*|(?i:paragraphe|paragraph|párrafo|parrafo|lid)\s+\S+\s*"
)


@dataclass(frozen=True, slots=True)
class _Unit:
    """One paragraph of a clause with its similarities, as seen from one item."""

    paragraph: Paragraph
    similarity: float  # best cue similarity of the paragraph for the item
    other_similarity: float  # best cue similarity of the paragraph for any other item


def _score_paragraph(
    index: int,
    clause: Clause,
    unit: _Unit,
    own: Sequence[Tag],
    item: ChecklistItem,
    th: Thresholds,
) -> _Scored:
    """Score one paragraph of a clause as evidence on its own.

    A paragraph is strong evidence when its opening formula (the item's ``openings``) or one of
    the item's ``terms`` opens it (numbered paragraphs only: a sentence group is cut by length,
    its start is not the subject), when one of the item's tags starts within
    :data:`PARAGRAPH_LEAD_CHARS` of it and the paragraph is on topic, or by the clause rules of
    tag support and similarity applied to the paragraph's own tags and similarity; weak on a
    term anywhere in it. The clause's heading does not decide: a paragraph on the right of
    appeal under a heading "Equality of treatment" is about the right of appeal.
    """
    text, para = clause.text, unit.paragraph
    number = _PARAGRAPH_NUMBER.match(text, para.start)
    start = number.end() if number else para.start
    head = fold(text[start : min(para.end, start + max(th.lead_chars, 0))])
    opening_rx = heading_regex(item.openings)
    terms_rx = heading_regex(item.terms)
    opening = bool(para.label and th.lead_chars and opening_rx and opening_rx.search(head))
    term = bool(terms_rx and terms_rx.search(fold(text[start : para.end])))
    term_lead = bool(
        term
        and para.label
        and terms_rx
        and terms_rx.search(fold(text[start : min(para.end, start + PARAGRAPH_LEAD_CHARS)]))
    )
    inside = [t for t in own if para.start <= t.start < para.end]
    lead = max(
        (
            1.0 - 0.5 * max(0, t.start - start) / PARAGRAPH_LEAD_CHARS
            for t in inside
            if t.start < start + PARAGRAPH_LEAD_CHARS
        ),
        default=0.0,
    )
    sim = unit.similarity
    on_topic = sim >= unit.other_similarity - th.semantic_margin
    tagged = bool(inside)
    # Similarity alone never makes a paragraph evidence: short paragraphs sit close to many
    # cues. A paragraph needs its own tag, term or opening formula.
    strong = (
        opening
        or term_lead
        or (lead > 0 and on_topic)
        or (tagged and on_topic and sim >= th.tag_support)
    )
    weak = not strong and ((tagged and on_topic and sim >= th.tag_floor) or term)
    score = (
        HEADING_WEIGHT * opening
        + TAG_WEIGHT * (lead or 0.5 * (tagged or term))
        + SEMANTIC_WEIGHT * max(sim, 0.0) * (1.0 if on_topic else 0.5)
    )
    return _Scored(
        index, False, False, tagged, sim, min(1.0, score), strong, weak, para, opening, term=term
    )


def _paragraphs_decide(clause: Clause, whole: _Scored, owners: frozenset[str]) -> bool:
    """Whether the clause's paragraphs are read on their own for the item: when the clause has
    no heading (or a generic one), when its heading names the item, or when it names other
    checklist items (an equality article whose paragraphs also grant the right of appeal). A
    specific heading that names no item ("Benefits under the Canada Pension Plan") states the
    subject of every paragraph: an item's tags there apply the rule ("periods are totalised")
    rather than lay it down, as for the clause itself. ``owners``: the items the clause's own
    heading names (:func:`_owners`)."""
    heading = heading_of(clause)
    if not heading or openings_decide(clause, heading) or whole.heading or whole.context:
        return True
    return bool(owners)


def _strength(s: _Scored) -> tuple[bool, bool, float]:
    return (s.strong, s.weak, s.score)


def _with_paragraphs(whole: _Scored, parts: Sequence[_Scored]) -> _Scored:
    """The clause's evidence given its paragraphs' scores: a paragraph that is stronger
    evidence than the whole clause replaces it; a clause found as a whole quotes its best
    relevant paragraph when one stands out (strong or weak on its own)."""
    best = max(parts, key=_strength, default=None)
    if best is None or not (best.strong or best.weak):
        return whole
    if _strength(best)[:2] > _strength(whole)[:2]:
        return best
    return replace(whole, paragraph=best.paragraph, quoted=True)


def _cite(s: _Scored, clauses: Sequence[Clause]) -> str:
    """The citation of a scored clause or paragraph ("Article 14 (5)")."""
    return cite(clauses[s.index], s.paragraph)


def _owners(checklist: Checklist, clause: Clause) -> frozenset[str]:
    """Ids of the items whose heading patterns match the clause's own heading (division
    headings cover articles on several subjects, so they do not count)."""
    text = heading_of(clause)
    if not text:
        return frozenset()
    return frozenset(
        item.id
        for item in checklist.items
        if (compiled := heading_regex(item.headings)) is not None and compiled.search(text)
    )


# --------------------------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------------------------


def _via(s: _Scored, th: Thresholds) -> str:
    parts = [
        ("heading", s.heading),
        ("opening", s.opening),
        ("context", s.context),
        ("tag", s.tag),
        ("terms", s.term),
        ("semantic", s.similarity >= th.semantic_partial),
    ]
    return ",".join(name for name, on in parts if on)


def _rank(scored: Sequence[_Scored], clauses: Sequence[Clause]) -> tuple[list[_Scored], bool]:
    """The relevant clauses (strong or weak), best first, and whether only the preamble has
    any: strong first, the agreement's own articles before annexes, protocols and
    administrative arrangements, then by score, then in document order."""

    def relevant(s: _Scored) -> bool:
        return s.strong or s.weak

    body = [s for s in scored if relevant(s) and not is_preamble(clauses[s.index])]
    preamble_only = not body
    pool = body or [s for s in scored if relevant(s)]
    pool.sort(key=lambda s: (not s.strong, in_annex(clauses[s.index]), -s.score, s.index))
    return pool, preamble_only


def _evidence(
    pool: Sequence[_Scored],
    clauses: Sequence[Clause],
    tags: Mapping[str, Sequence[Tag]],
    item: ChecklistItem,
    n_evidence: int,
    th: Thresholds,
) -> tuple[Evidence, ...]:
    """The first ``n_evidence`` of the ranked pool as :class:`Evidence`."""
    item_tags = set(item.tags)
    out = []
    for s in pool[:n_evidence]:
        clause_tags = tags.get(clauses[s.index].clause_id, ())
        out.append(
            Evidence(
                clause=clauses[s.index],
                score=s.score,
                tags=tuple(sorted({t.name for t in clause_tags})),
                via=_via(s, th),
                spans=tuple(sorted({(t.start, t.end) for t in clause_tags if t.name in item_tags})),
                paragraph=s.paragraph,
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Verdict:
    """An item's status, confidence (not yet clipped) and reason."""

    status: Status
    confidence: float
    reason: str


def _absent(scored: Sequence[_Scored], clauses: Sequence[Clause], th: Thresholds) -> _Verdict:
    """No relevant clause: absent, naming the closest clause when any is similar."""
    best = max(scored, key=lambda s: (s.similarity, -s.index), default=None)
    if best is None or best.similarity <= 0:
        return _Verdict("absent", 1.0, "no clause addresses this")
    confidence = 1.0 - 0.5 * max(0.0, best.similarity) / max(th.semantic_partial, 1e-6)
    reason = (
        f"no clause addresses this; the closest is {_cite(best, clauses)} "
        f"(similarity {best.similarity:.2f})"
    )
    return _Verdict("absent", confidence, reason)


def _arrangement_only(pool: Sequence[_Scored], clauses: Sequence[Clause]) -> _Verdict:
    """All evidence lies in a bundled administrative arrangement: absent."""
    reason = (
        f"the agreement itself does not provide for this; only its administrative "
        f"arrangement does ({_cite(pool[0], clauses)}), which implements the agreement and cannot "
        f"stand in for it"
    )
    return _Verdict("absent", 0.5 + 0.3 * (1.0 - pool[0].score), reason)


def _preamble_mention(pool: Sequence[_Scored], clauses: Sequence[Clause]) -> _Verdict:
    """Only a passing mention, and only in the preamble (no article, no strong signal): the
    preamble states the parties' motives, so nothing provides for the item: absent."""
    reason = (
        f"no article provides for this; the preamble mentions it in passing "
        f"({_cite(pool[0], clauses)}), which states aims rather than rights"
    )
    return _Verdict("absent", 0.6, reason)


def _weak_only(
    pool: Sequence[_Scored], clauses: Sequence[Clause], item: ChecklistItem, th: Thresholds
) -> _Verdict:
    """Only weak evidence (a passing tag or mid-range similarity): partial."""
    best = pool[0]
    rule = next((r for r in reversed(item.partial) if r.when == "semantic_only"), None)
    text = rule.reason if rule else _SEMANTIC_ONLY_REASON
    span = max(th.semantic_present - th.semantic_partial, 1e-6)
    confidence = 0.3 + 0.3 * max(0.0, best.similarity - th.semantic_partial) / span
    via = _via(best, th).replace(",", ", ") or "tag"
    reason = (
        f"{text} (closest: {_cite(best, clauses)}, via {via}, similarity {best.similarity:.2f})"
    )
    return _Verdict("partial", confidence, reason)


def _confidence(s: _Scored, th: Thresholds) -> float:
    """Confidence of a strong clause: 0.6 base + 0.2 heading (0.1 context) + 0.15 tag + 0.05 *
    similarity (>= 0), capped at 1; from similarity alone 0.5 + 0.4 (s - present) / (1 - present)."""
    if s.heading or s.opening or s.context or s.tag or s.term:
        structure = 0.2 if s.heading or s.opening else 0.1 if s.context else 0.0
        return min(1.0, 0.6 + structure + 0.15 * s.tag + 0.05 * max(s.similarity, 0.0))
    span = max(1.0 - th.semantic_present, 1e-6)
    return 0.5 + 0.4 * (s.similarity - th.semantic_present) / span


def _branches(tags: Sequence[Tag]) -> set[str]:
    return {t.name for t in tags if t.name.startswith("branch_")}


def _fired_rules(
    candidates: Sequence[_Scored],
    clauses: Sequence[Clause],
    tags: Mapping[str, Sequence[Tag]],
    item: ChecklistItem,
) -> tuple[list[_Scored], list[tuple[_Scored, PartialRule, str]]]:
    """Split the strong clauses into those no partial rule fires on and the (clause, rule,
    detail) firings; the item-level ``fewer_branches`` rule, when it fires, leaves none clean."""
    item_tags = set(item.tags)
    clean: list[_Scored] = []
    fired: list[tuple[_Scored, PartialRule, str]] = []
    for s in candidates:
        clause = clauses[s.index]
        # a provision found in one paragraph is judged on that paragraph's wording
        part = s.paragraph if s.paragraph is not None and not s.quoted else None
        lo, hi = (part.start, part.end) if part is not None else (0, len(clause.text))
        folded = fold(clause.text[lo:hi])
        own_tags = [
            t
            for t in tags.get(clause.clause_id, ())
            if t.name in item_tags and (part is None or lo <= t.start < hi)
        ]
        hits = []
        for rule in item.partial:
            check = CLAUSE_RULES.get(rule.when)
            detail = check(folded, own_tags) if check else None
            if detail is not None:
                hits.append((s, rule, detail))
        if hits:
            fired.extend(hits)
        else:
            clean.append(s)

    rules = {r.when: r for r in item.partial}
    if "fewer_branches" in rules and candidates:
        evidence_ids = {clauses[s.index].clause_id for s in candidates}
        covered: set[str] = set()
        for cid in evidence_ids:
            covered |= _branches(tags.get(cid, ()))
        elsewhere: set[str] = set()
        for clause in clauses:
            if clause.clause_id not in evidence_ids:
                elsewhere |= _branches(tags.get(clause.clause_id, ()))
        missing = sorted(elsewhere - covered)
        if covered and missing:
            names = ", ".join(m.removeprefix("branch_").replace("_", " ") for m in missing)
            fired.append((candidates[0], rules["fewer_branches"], f"not: {names}"))
            clean = []
    return clean, fired


def _strong(
    candidates: Sequence[_Scored],
    clauses: Sequence[Clause],
    tags: Mapping[str, Sequence[Tag]],
    item: ChecklistItem,
    preamble_only: bool,
    th: Thresholds,
) -> _Verdict:
    """Strong evidence exists: present unless partial rules fire on every strong clause (or an
    item-level rule fires) or the evidence is only in the preamble."""
    clean, fired = _fired_rules(candidates, clauses, tags, item)
    if clean:
        best = clean[0]
        via = _via(best, th).replace(",", ", ")
        confidence = _confidence(best, th)
        if preamble_only:
            reason = f"mentioned only in the preamble ({_cite(best, clauses)}), which "
            reason += "states aims rather than rights"
            return _Verdict("partial", 0.5 * confidence, reason)
        return _Verdict("present", confidence, f"found in {_cite(best, clauses)} (via {via})")

    seen: set[str] = set()
    reasons = []
    for s, rule, detail in fired:
        if rule.when in seen:
            continue
        seen.add(rule.when)
        where = _cite(s, clauses) + (f": {detail}" if detail else "")
        reasons.append(f"{rule.reason} [{where}]")
    return _Verdict("partial", 0.85 * _confidence(fired[0][0], th), "; ".join(reasons))


@dataclass(frozen=True, slots=True)
class _Reading:
    """What every item of one run reads of the document: its clauses in order, their tags by
    ``clause_id``, the items each clause's heading owns (or its virtual heading's), the virtual
    headings of the topic model (None where there is none) and whether the document bundles an
    administrative arrangement with its agreement."""

    clauses: Sequence[Clause]
    tags: Mapping[str, Sequence[Tag]]
    owners: Sequence[frozenset[str]]
    virtual: Sequence[str | None] = ()
    bundled_arrangement: bool = False


def _run_item(
    item: ChecklistItem,
    doc: _Reading,
    similarity: np.ndarray,
    other_similarity: np.ndarray,
    units: Sequence[Sequence[_Unit]],
    n_evidence: int,
    th: Thresholds,
) -> tuple[_Verdict, tuple[Evidence, ...]]:
    """Signals -> ranking -> status for one item; ``similarity``/``other_similarity``: per
    clause, its best cue similarity to this item and to any other; ``units``: per clause, its
    paragraphs (empty for a clause of one paragraph)."""
    clauses, tags, owners, virtual = doc.clauses, doc.tags, doc.owners, doc.virtual
    bundled_arrangement = doc.bundled_arrangement
    heading_rx = heading_regex(item.headings)
    opening_rx = heading_regex(item.openings)
    scored = []
    for i, clause in enumerate(clauses):
        own = _own_tags(item, clause, tags.get(clause.clause_id, ()))
        signals = _signals(
            item,
            clause,
            own,
            float(similarity[i]) if similarity.size else 0.0,
            float(other_similarity[i]) if other_similarity.size else -1.0,
            owners[i],
            th,
            virtual[i] if i < len(virtual) else None,
        )
        whole = _score_clause(i, clause, heading_rx, signals, th, item.nested, opening_rx)
        parts = [
            _score_paragraph(i, clause, u, own, item, th)
            for u in (
                units[i] if i < len(units) and _paragraphs_decide(clause, whole, owners[i]) else ()
            )
        ]
        scored.append(_with_paragraphs(whole, parts))

    pool, preamble_only = _rank(scored, clauses)
    if not pool:
        return _absent(scored, clauses, th), ()
    evidence = _evidence(pool, clauses, tags, item, n_evidence, th)
    if bundled_arrangement and all(in_arrangement(clauses[s.index]) for s in pool):
        return _arrangement_only(pool, clauses), evidence
    candidates = [s for s in pool if s.strong]
    if not candidates and preamble_only:
        return _preamble_mention(pool, clauses), ()
    if not candidates:
        return _weak_only(pool, clauses, item, th), evidence
    return _strong(candidates, clauses, tags, item, preamble_only, th), evidence


def _virtual_headings(
    topic_model: TopicModel | None,
    clauses: Sequence[Clause],
    clause_vectors: np.ndarray,
    owners: Sequence[frozenset[str]],
) -> list[str | None]:
    """Per clause, the item the topic model reads its body as about, for articles that print
    no heading naming an item (and are no preamble or annex); None elsewhere."""
    out: list[str | None] = [None] * len(clauses)
    if topic_model is None or not clauses:
        return out
    todo = [
        i
        for i, c in enumerate(clauses)
        if not c.heading.strip() and not owners[i] and not is_preamble(c) and not in_annex(c)
    ]
    if not todo:
        return out
    vectors = np.asarray(clause_vectors, dtype=np.float32)[todo]
    if vectors.shape[1] != topic_model.coef.shape[1]:
        return out  # another embedding space: the model cannot read these vectors
    for i, label in zip(todo, topic_model.virtual_headings(vectors), strict=True):
        out[i] = label or None
    return out


def _check_vectors(name: str, vectors: np.ndarray, rows: int, dim: int | None) -> None:
    if (
        vectors.ndim != 2
        or vectors.shape[0] != rows
        or (dim is not None and vectors.shape[1] != dim)
    ):
        want = f"({rows}, {dim if dim is not None else 'dim'})"
        raise ValidationError(f"{name}: expected an array of shape {want}, got {vectors.shape}")


def _item_similarities(
    checklist: Checklist,
    clauses: Sequence[Clause],
    clause_vectors: np.ndarray,
    embed_queries: Callable[[list[str]], np.ndarray],
) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Per item, the best cue similarity of every clause: float32 ``(len(clauses),)`` each
    (empty arrays when there are no clauses, and ``embed_queries`` is then not called), and
    the cue vectors (``None`` without clauses)."""
    if not clauses:
        return [np.zeros(0, dtype=np.float32) for _ in checklist.items], None
    vectors = np.asarray(clause_vectors, dtype=np.float32)
    _check_vectors("clause_vectors", vectors, len(clauses), None)
    cues = [cue for item in checklist.items for cue in item.cues]
    cue_vectors = np.asarray(embed_queries(cues), dtype=np.float32)
    _check_vectors("embed_queries(cues)", cue_vectors, len(cues), vectors.shape[1])
    sims = vectors @ cue_vectors.T  # (n_clauses, n_cues)
    out = []
    start = 0
    for item in checklist.items:
        stop = start + len(item.cues)
        out.append(sims[:, start:stop].max(axis=1))
        start = stop
    return out, cue_vectors


def _paragraph_similarities(
    checklist: Checklist,
    clauses: Sequence[Clause],
    paragraphs: Sequence[Sequence[Paragraph]],
    clause_matrix: np.ndarray,
    cue_vectors: np.ndarray | None,
    embed_passages: Callable[[list[str]], np.ndarray] | None,
) -> np.ndarray:
    """Item x paragraph similarities, float32 ``(n_items, n_paragraphs)`` over the paragraphs of
    all clauses in order: each paragraph's best cue similarity per item, from its own vector
    when ``embed_passages`` is given, else its clause's column of ``clause_matrix``."""
    owner = [i for i, ps in enumerate(paragraphs) for _p in ps]
    if not owner:
        return np.zeros((len(checklist.items), 0), np.float32)
    if embed_passages is None or cue_vectors is None:
        return clause_matrix[:, owner]
    texts = [clauses[i].text[p.start : p.end] for i, ps in enumerate(paragraphs) for p in ps]
    vectors = np.asarray(embed_passages(texts), dtype=np.float32)
    _check_vectors("embed_passages(paragraphs)", vectors, len(texts), cue_vectors.shape[1])
    sims = vectors @ cue_vectors.T
    out = np.empty((len(checklist.items), len(texts)), np.float32)
    start = 0
    for k, item in enumerate(checklist.items):
        stop = start + len(item.cues)
        out[k] = sims[:, start:stop].max(axis=1)
        start = stop
    return out


def _units_for(
    k: int, paragraphs: Sequence[Sequence[Paragraph]], unit_matrix: np.ndarray
) -> list[list[_Unit]]:
    """Per clause, the :class:`_Unit` of each of its paragraphs for item ``k``."""
    others = np.delete(unit_matrix, k, axis=0)
    other = others.max(axis=0) if others.size else np.full(unit_matrix.shape[1], -1.0)
    out: list[list[_Unit]] = []
    col = 0
    for ps in paragraphs:
        units = []
        for p in ps:
            units.append(_Unit(p, float(unit_matrix[k, col]), float(other[col])))
            col += 1
        out.append(units)
    return out


# the public entry point: each keyword option is documented under Args and callers name the
# few they set (a settings object would only move the same list)
def run_checklist(  # noqa: PLR0913
    checklist: Checklist,
    clauses: Sequence[Clause],
    tags: Mapping[str, Sequence[Tag]],
    clause_vectors: np.ndarray,
    embed_queries: Callable[[list[str]], np.ndarray],
    find_examples: Callable[[ChecklistItem, int], list[Hit]] | None = None,
    n_examples: int = 3,
    n_evidence: int = 3,
    thresholds: Thresholds | None = None,
    embed_passages: Callable[[list[str]], np.ndarray] | None = None,
    topic_model: TopicModel | None = None,
    on_item: Callable[[int, int, ChecklistItem], None] | None = None,
) -> ChecklistResult:
    """Answer every item of ``checklist`` for one document.

    Args:
        checklist: from :func:`~migralex.nlp.checklist.loader.load_checklist`.
        clauses: the document's clauses, in document order.
        tags: the tags of each clause, by ``clause_id`` (clauses without tags may be missing).
        clause_vectors: float32 ``(len(clauses), dim)``, L2-normalised, row i = ``clauses[i]``.
        embed_queries: encodes a list of cue sentences into float32 ``(n, dim)`` L2-normalised
            vectors in the space of ``clause_vectors`` (cosine = dot product). Called once,
            with all cues of the checklist, and not at all when there are no clauses.
        find_examples: ``(item, n) -> hits``: good-practice clauses from agreements in force,
            called once per item (whatever its status) when given; its errors propagate.
        n_examples: how many examples to ask for per item.
        n_evidence: at most this many evidence clauses per item.
        thresholds: similarity thresholds (default: the calibrated constants); the
            evaluation passes others to calibrate them.
        embed_passages: encodes paragraph texts into float32 ``(n, dim)`` L2-normalised
            vectors in the space of ``clause_vectors``; called once, with the paragraphs of
            every clause that has two or more (:func:`~migralex.nlp.paragraphs.split_paragraphs`).
            Every such paragraph is also read on its own for every item (its tags, terms,
            opening formula and similarity: :func:`_score_paragraph`), so that one article can
            be the evidence for several items and the evidence names the paragraph
            (:attr:`Evidence.paragraph`). Without it, paragraphs are still read for their tags,
            terms and openings, with their clause's similarity.
        topic_model: the checklist's topic classifier for the model of ``clause_vectors``
            (:mod:`migralex.nlp.checklist.topics`): an article without a printed heading whose
            body it reads as about one item (:data:`~.topics.VIRTUAL_HEADING`) is treated as
            headed by that item. None: bodies are read by their formulas, tags and wording only.
        on_item: called as ``(k, n, item)`` before the k-th of the n items is decided
            (progress reporting).

    Returns:
        One :class:`ItemResult` per item, in checklist order. Evidence is ranked by score
        (see the module docstring), ties by clause order; the preamble is used only when no
        other clause is relevant (and then the item is at best ``partial``). Confidence, in
        [0, 1]:

        * present/partial from a heading or tag: ``0.6 + 0.2 heading + 0.15 tag + 0.05
          similarity`` (x 0.85 when a partial rule fired, x 0.5 for preamble-only evidence);
        * present from similarity ``s`` alone: ``0.5 + 0.4 (s - SEMANTIC_PRESENT) /
          (1 - SEMANTIC_PRESENT)``;
        * partial from similarity alone: ``0.3 + 0.3 (s - SEMANTIC_PARTIAL) /
          (SEMANTIC_PRESENT - SEMANTIC_PARTIAL)``;
        * absent: ``1 - 0.5 s / SEMANTIC_PARTIAL`` for the best similarity ``s`` (1.0 when
          no clause is even slightly similar);
        * absent when the only evidence is a passing mention in the preamble: 0.6;
        * absent because all evidence lies in a bundled administrative arrangement:
          ``0.5 + 0.3 (1 - score)`` for the best evidence score (in [0, 1]).

    Raises:
        ValidationError: ``clause_vectors`` or the cue vectors have the wrong shape.
    """
    th = thresholds or Thresholds()
    owners = [_owners(checklist, clause) for clause in clauses]
    virtual = _virtual_headings(topic_model, clauses, clause_vectors, owners)
    owners = [frozenset({v}) if v else o for o, v in zip(owners, virtual, strict=True)]
    item_sims, cue_vectors = _item_similarities(checklist, clauses, clause_vectors, embed_queries)
    matrix = np.stack(item_sims) if clauses else np.zeros((len(checklist.items), 0), np.float32)
    paragraphs = [
        ps if len(ps := split_paragraphs(c.text, body_start(c))) >= 2 else () for c in clauses
    ]
    unit_matrix = _paragraph_similarities(
        checklist, clauses, paragraphs, matrix, cue_vectors, embed_passages
    )
    tagged_document = any(tags.get(c.clause_id) for c in clauses)
    # An administrative arrangement bundled with its agreement cannot supply the agreement's
    # provisions; one read on its own is the document under review.
    bundled_arrangement = any(in_arrangement(c) for c in clauses) and any(
        not in_annex(c) and not is_preamble(c) for c in clauses
    )
    reading = _Reading(clauses, tags, owners, virtual, bundled_arrangement)
    results = []
    for k, (item, similarity) in enumerate(zip(checklist.items, item_sims, strict=True)):
        if on_item is not None:
            on_item(k + 1, len(checklist.items), item)
        others = np.delete(matrix, k, axis=0)
        other_similarity = (
            others.max(axis=0) if others.size else np.full(len(clauses), -1.0, np.float32)
        )
        item_th = th
        if item.tags and tagged_document and th.semantic_untagged > th.semantic_present:
            item_th = replace(
                th,
                semantic_present=min(1.0, th.semantic_untagged),
                semantic_partial=min(1.0, th.semantic_untagged),
            )
        verdict, evidence = _run_item(
            item,
            reading,
            similarity,
            other_similarity,
            _units_for(k, paragraphs, unit_matrix),
            n_evidence,
            item_th,
        )
        confidence = min(1.0, max(0.0, verdict.confidence))
        if math.isnan(confidence):
            confidence = 0.0
        examples = tuple(find_examples(item, n_examples)) if find_examples is not None else ()
        results.append(
            ItemResult(item, verdict.status, confidence, verdict.reason, evidence, examples)
        )
    return ChecklistResult(checklist, tuple(results))
