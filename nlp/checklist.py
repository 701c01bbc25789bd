"""Checklists: data files of questions about an agreement or a law, and the engine that answers them.

A checklist (``nlp/checklists/{id}.yaml``, package data) is a list of items: a question in our own
words, why it matters, the ILO standard it comes from, the tag names and heading keywords that
signal it, a few exemplar sentences (``cues``) for semantic similarity, and the rules that make a
found provision only *partial*. :func:`run_checklist` answers every item of a checklist for one
document's clauses: ``present``, ``partial`` or ``absent``, with the evidence clauses, a confidence
and a reason a lawyer can check.

Scoring, per item and clause (all signals are computed for every clause):

* **heading** (strong): one of the item's ``headings`` regexes is found in the clause heading
  (case- and accent-insensitive search); a clause without a heading may carry it as a short
  first body line without final punctuation ("Entrée en vigueur et durée");
* **opening** (strong): in a clause without a heading (or under a generic one such as "Scope of
  Application" or "General Provisions"), one of the item's ``openings`` regexes
  is found in the first :data:`LEAD_CHARS` of the body (after the label line and an opening
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
  heading, a tag that starts within :data:`LEAD_CHARS` of the body (after the label line and an opening reservation such as
  "Unless otherwise provided ...,") is *lead* evidence: strong on its own (the opening words of an
  article state its subject; French agreements often have no article headings). Under a heading
  that does not name the item, tags are ignored (the heading states another subject). Otherwise
  a tag is strong only with a cue similarity of at least :data:`TAG_SUPPORT` and weak from
  :data:`TAG_FLOOR`, and only when the clause is on topic (below);
* **semantic**: the highest cosine similarity between the clause vector and the vectors of the
  item's ``cues`` (dot product of L2-normalised vectors, in [-1, 1]); strong at or above
  :data:`SEMANTIC_PRESENT`, weak at or above :data:`SEMANTIC_PARTIAL`, and counted only when
  the clause is *on topic*: its similarity to this item is at least its best similarity to any
  other item of the checklist minus :data:`SEMANTIC_MARGIN` (generic treaty wording is about
  as close to every item).

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
import importlib.resources
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from migralex.corpus.errors import NotFoundError, ValidationError
from migralex.corpus.models import TAG_NAMES, Clause, Hit, Tag
from migralex.nlp.tagger import rule_name, rule_names

_TAG_SET: frozenset[str] = frozenset(TAG_NAMES)

#: The checklists shipped with migralex (file stems under ``nlp/checklists/``).
CHECKLIST_IDS: tuple[str, ...] = ("ssa", "bla", "national-law")

#: Statuses an item can have, from best to worst.
STATUSES: tuple[str, ...] = ("present", "partial", "absent")

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

# Calibration of the thresholds below (SEMANTIC_PRESENT ... LEAD_CHARS): grid search of
# ``python -m migralex.evaluation.checklist --calibrate --limit 12`` on the *dev* split (objective:
# accuracy + absent F1 + evidence P@1, summed over SSA languages), model all-MiniLM-L6-v2, SSA
# drafts of the first 12 SSAs per language (12 en, 12 fr, 1 es) and 12 BLAs; 265 drafts; the
# last run (after the opening formulas and the French gold fixes) chose the same values.
# SEMANTIC_UNTAGGED was chosen on dev afterwards. Measured with these values (dev / test):
#
#   SSA en: accuracy .987 / 1.00, absent precision .93 / 1.00, recall 1.00 / 1.00, P@1 1.00 / 1.00
#   SSA fr: accuracy .994 / .987, absent precision 1.00 / 1.00, recall .97 / .93, P@1 1.00 / 1.00
#   BLA fr: accuracy .79 / .89; BLA nl: accuracy .69 / .83 (not calibration targets)

#: Cosine similarity at or above which a clause without heading, context or tag evidence makes
#: an item ``present`` (only when on topic, see :data:`SEMANTIC_MARGIN`). Calibrated (above).
SEMANTIC_PRESENT = 0.70
#: Cosine similarity at or above which a clause counts as (weak) evidence; with nothing
#: stronger the item is ``partial``. Calibrated equal to :data:`SEMANTIC_PRESENT`: with
#: MiniLM, unrelated clauses reach 0.55-0.65, so a similarity band below "present" only
#: turned removed topics into ``partial``; weak evidence now comes from tags.
SEMANTIC_PARTIAL = 0.70
#: Cosine similarity a tagged clause (not found by heading, context or a lead tag) needs for the
#: tag to count as strong evidence: such a tag is often a passing mention ("periods totalized
#: under Article 6" in a calculation article). From :data:`TAG_FLOOR` to it, the tag is weak
#: evidence. Calibrated (above).
TAG_SUPPORT = 0.55
#: Cosine similarity below which a tagged clause without heading, context or lead tag is ignored.
#: Calibrated (above; grid value).
TAG_FLOOR = 0.45
#: How far a clause's similarity to an item may fall below its similarity to the best *other*
#: item of the checklist and still count as semantic evidence for it (negative: it must beat
#: every other item by that much). Generic treaty wording ("the competent institution of a
#: Party ...") is about as close to every item's cues; only a clause at least as close to this
#: item as to any other is about it. Calibrated (above).
SEMANTIC_MARGIN = 0.0
#: A tag of the item that starts within this many characters of the body of a clause without
#: heading (after the label line and an opening reservation) is *lead* evidence: strong
#: without cue similarity. The opening words of an article state its subject ("Les périodes
#: d'assurance ... sont totalisées"), which matters for agreements without article headings
#: (many French ones) and for an English model's similarities on other languages. 0 turns lead
#: tags off. Calibrated (above; top of the grid 200/300).
LEAD_CHARS = 300
#: For an item that has tags, in a document the tagger read (it has at least one tag): the cue
#: similarity a clause *without* the item's tag, heading or opening formula needs to count at
#: all. The rules are precise (tag macro-F1 .95, ``evaluation/tagging.py``), so untagged wording
#: that is merely similar is usually a neighbouring subject (pro-rata calculation next to
#: totalisation). Chosen on the dev split among .70 (off), .75, .80 and 1.0: French SSA absent
#: recall dev .85 -> .97 (test .78 -> .89), English unchanged.
SEMANTIC_UNTAGGED = 0.80


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The similarity thresholds of the engine (cosines in [-1, 1]); see the constants.

    Attributes:
        semantic_present: :data:`SEMANTIC_PRESENT`.
        semantic_partial: :data:`SEMANTIC_PARTIAL` (must not exceed ``semantic_present``).
        tag_support: :data:`TAG_SUPPORT`.
        tag_floor: :data:`TAG_FLOOR` (must not exceed ``tag_support``).
        semantic_margin: :data:`SEMANTIC_MARGIN`.
        lead_chars: :data:`LEAD_CHARS` (0 turns lead tags off).
        semantic_untagged: :data:`SEMANTIC_UNTAGGED`.
    """

    semantic_present: float = SEMANTIC_PRESENT
    semantic_partial: float = SEMANTIC_PARTIAL
    tag_support: float = TAG_SUPPORT
    tag_floor: float = TAG_FLOOR
    semantic_margin: float = SEMANTIC_MARGIN
    lead_chars: int = LEAD_CHARS
    semantic_untagged: float = SEMANTIC_UNTAGGED

    def __post_init__(self) -> None:
        if not (
            -1.0 <= self.semantic_partial <= self.semantic_present <= 1.0
            and -1.0 <= self.tag_floor <= self.tag_support <= 1.0
            and -2.0 <= self.semantic_margin <= 2.0
            and self.lead_chars >= 0
            and -1.0 <= self.semantic_untagged <= 2.0
        ):
            raise ValidationError(
                f"bad thresholds {self}: need -1 <= semantic_partial <= semantic_present <= 1 "
                "and -1 <= tag_floor <= tag_support <= 1"
            )


#: Calibrated thresholds per embedding model (``--calibrate`` of ``evaluation/checklist.py`` on the
#: dev split of that model's drafts); models not listed use :class:`Thresholds` defaults, which
#: were calibrated on all-MiniLM-L6-v2. Cosines are not comparable across models: e5-small puts
#: unrelated treaty clauses at .75-.85, where MiniLM puts them at .55-.65.
#:
#: e5-small: ``--model e5-small --limit 3 --calibrate`` (99 drafts; small, as e5 embeds about 7
#: clauses/s): the margin does the work (a clause must beat every other item's cues by .03),
#: dev / test: SSA en accuracy 1.00 / 1.00, absent recall 1.00 / 1.00; SSA fr accuracy .97 / .96,
#: absent precision 1.00 / .95, recall .83 / .83, P@1 1.00 / 1.00. Without it (MiniLM values)
#: absent recall fell to .43 (en) and .08 (fr) on the same drafts.
THRESHOLDS_BY_MODEL: dict[str, Thresholds] = {
    "e5-small": Thresholds(
        semantic_present=0.7,
        semantic_partial=0.7,
        tag_support=0.55,
        tag_floor=0.45,
        semantic_margin=-0.03,
        lead_chars=200,
        semantic_untagged=0.8,
    ),
}


def thresholds_for(model: str) -> Thresholds:
    """The calibrated thresholds for an embedding model name ("minilm", "e5-small", ...)."""
    return THRESHOLDS_BY_MODEL.get(model, Thresholds())


#: Partial rules the engine implements (the ``when`` of an item's ``partial`` entries):
#:
#: * ``tag_exception`` — every tag of the item on the clause carries an ``exception`` that is
#:   not a mere cross-reference to the same instrument ("unless otherwise provided in this
#:   Agreement", "subject to Articles 8 and 9": the limits then live in the cited articles).
#: * ``nationals_only`` — the clause confines the right to nationals/citizens (of the parties)
#:   and says nothing of other persons, residents or "regardless of nationality"
#:   (C118 Art. 10 and R167 reach refugees and stateless persons; C102 Art. 68 non-nationals).
#: * ``lawful_status_only`` — the clause requires lawful residence, a valid permit or regular
#:   status, without a "regardless of status" override (C143 Art. 9, R202 para. 6).
#: * ``status_silent`` — the clause never says it applies whatever the worker's nationality or
#:   migration status (C19 Art. 1: employment injury without condition of residence).
#: * ``fewer_branches`` (item level) — the evidence clauses name fewer ``branch_*`` tags than the
#:   rest of the document (e.g. benefits exported for old age only while the agreement covers
#:   invalidity and survivors too).
#: * ``no_binding_settlement`` — disputes are left to consultation: no arbitration, tribunal,
#:   court or binding decision is mentioned.
#: * ``discretionary`` — the clause only says the parties *may* act ("may", "peut",
#:   "podrá"), with no obligation word ("shall", "must", "s'engagent", "deberán").
#: * ``costs_on_worker`` — the clause puts costs on the worker (borne by, deducted from wages),
#:   not in a negated statement (C181 Art. 7; fair recruitment: employer pays).
#: * ``semantic_only`` — the only evidence is a similarity in the partial band; its ``reason``
#:   replaces the default text for that case.
PARTIAL_RULES: tuple[str, ...] = (
    "tag_exception",
    "nationals_only",
    "lawful_status_only",
    "status_silent",
    "fewer_branches",
    "no_binding_settlement",
    "discretionary",
    "costs_on_worker",
    "semantic_only",
)

_CHECKLIST_KEYS = ("id", "title", "description", "items")
_ITEM_KEYS = (
    "id",
    "question",
    "why",
    "reference",
    "tags",
    "headings",
    "cues",
    "partial",
    "present_when",
)
_PARTIAL_KEYS = ("when", "reason")
_ITEM_ID = re.compile(r"^[a-z]+\.[a-z0-9_]+$")
_MIN_CUES, _MAX_CUES = 3, 6
_PREAMBLE_LABELS = frozenset({"preamble", "préambule", "preámbulo", "preambule", "preambulo"})
_SEMANTIC_ONLY_REASON = (
    "only similar wording was found, no clause clearly devoted to this; check the evidence"
)


# --------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartialRule:
    """A rule that makes a found provision only partial.

    Attributes:
        when: rule id, one of :data:`PARTIAL_RULES`.
        reason: text shown to the user when the rule fires.
    """

    when: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One question of a checklist.

    Attributes:
        id: stable id from DESIGN.md ("ssa.export_of_benefits").
        question: the question, in our words.
        why: why it matters, one or two sentences.
        reference: the standards it comes from ("C118 Art. 5; C157; R167 Model Agreement").
        tags: tag names (DESIGN.md) whose presence on a clause signals the item; may be empty.
        headings: regexes searched in article headings (case- and accent-insensitive).
        cues: 3-6 exemplar sentences (English/French) for semantic similarity.
        partial: the rules that make a found provision only partial.
        present_when: what counts as present, for the user.
        nested: the provision is often a paragraph inside an article on another topic
            (confidentiality inside "Exchange of Information and Mutual Assistance"); its tag
            there is weak evidence (partial) instead of a passing mention.
        openings: regexes searched in the opening words of articles printed without a
            heading (folded like headings); a match counts as a heading.
        ignore_rules: names of tag rules (the last part of the rule id, in every language)
            whose matches are no evidence for the item: they name the machinery around it
            ("modalities set out in an Administrative Arrangement; liaison agencies will be
            designated therein") rather than the commitment the item asks for.
    """

    id: str
    question: str
    why: str
    reference: str
    tags: tuple[str, ...]
    headings: tuple[str, ...]
    cues: tuple[str, ...]
    partial: tuple[PartialRule, ...]
    present_when: str
    nested: bool = False
    openings: tuple[str, ...] = ()
    ignore_rules: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Checklist:
    """A named list of checklist items (one YAML file).

    Attributes:
        id: one of :data:`CHECKLIST_IDS` for the shipped checklists.
        title: human title.
        description: what the checklist is for.
        items: the items, in file order.
    """

    id: str
    title: str
    description: str
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    """A clause supporting an item's status.

    Attributes:
        clause: the clause.
        score: evidence score in [0, 1] (see the module docstring).
        tags: the clause's tag names, sorted, unique.
        via: the signals that found it, comma-joined in the order "heading", "context", "tag",
            "semantic".
        spans: (start, end) character offsets in ``clause.text`` of the item's tags, sorted,
            to highlight (empty when the clause was found by heading or similarity only).
    """

    clause: Clause
    score: float
    tags: tuple[str, ...]
    via: str
    spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The answer to one checklist item.

    Attributes:
        item: the item.
        status: "present", "partial" or "absent".
        confidence: in [0, 1], how sure the engine is of ``status`` (not of the item being
            present): see :func:`run_checklist`.
        reason: why this status, in words for the user (names the clause and rule).
        evidence: up to ``n_evidence`` clauses, best first (empty when absent).
        examples: good-practice clauses from agreements in force (from ``find_examples``).
    """

    item: ChecklistItem
    status: str
    confidence: float
    reason: str
    evidence: tuple[Evidence, ...]
    examples: tuple[Hit, ...]


@dataclass(frozen=True, slots=True)
class ChecklistResult:
    """The answers to every item of a checklist for one document.

    Attributes:
        checklist: the checklist run.
        items: one result per item, in checklist order.
    """

    checklist: Checklist
    items: tuple[ItemResult, ...]

    def summary(self) -> dict[str, int]:
        """Return how many items are present, partial and absent (keys in that order)."""
        counts = dict.fromkeys(STATUSES, 0)
        for result in self.items:
            counts[result.status] += 1
        return counts

    def to_json(self, document: dict[str, Any]) -> dict[str, Any]:
        """Return the DESIGN.md ``checklist --json`` object.

        Args:
            document: ``{"path", "doc_id", "title", "language"}`` of the checked document,
                included as given.

        Returns:
            ``{"checklist", "title", "document", "items", "summary"}``; each item has the
            DESIGN.md keys plus ``why`` and ``reason``. Scores are rounded to 6 decimals,
            confidences to 4.
        """
        items = []
        for r in self.items:
            items.append(
                {
                    "id": r.item.id,
                    "question": r.item.question,
                    "reference": r.item.reference,
                    "status": r.status,
                    "confidence": round(float(r.confidence), 4),
                    "evidence": [
                        {
                            "clause_id": e.clause.clause_id,
                            "label": e.clause.label,
                            "heading": e.clause.heading,
                            "text": e.clause.text,
                            "score": round(float(e.score), 6),
                            "tags": list(e.tags),
                            "via": e.via,
                            "page_start": e.clause.page_start,
                            "page_end": e.clause.page_end,
                            "spans": [list(span) for span in e.spans],
                        }
                        for e in r.evidence
                    ],
                    "examples": [
                        {
                            "doc_id": h.clause.doc_id,
                            "doc_title": h.doc_title,
                            "clause_id": h.clause.clause_id,
                            "label": h.clause.label,
                            "heading": h.clause.heading,
                            "kind": h.kind,
                            "page_start": h.clause.page_start,
                            "text": h.clause.text,
                        }
                        for h in r.examples
                    ],
                    "why": r.item.why,
                    "reason": r.reason,
                }
            )
        return {
            "checklist": self.checklist.id,
            "title": self.checklist.title,
            "document": document,
            "items": items,
            "summary": self.summary(),
        }


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold(text: str) -> str:
    """Lowercase, strip accents, straighten apostrophes and collapse white space."""
    text = _strip_accents(text).casefold().replace("\u2019", "'")
    return re.sub(r"\s+", " ", text).strip()


def _fail(source: str, where: str, message: str) -> ValidationError:
    return ValidationError(f"{source}: {where}: {message}")


def _check_keys(
    data: Any, keys: tuple[str, ...], source: str, where: str, optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _fail(source, where, f"expected a mapping with keys {', '.join(keys)}")
    unknown = sorted(set(map(str, data)) - set(keys) - set(optional))
    if unknown:
        raise _fail(
            source, where, f"unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(keys)}"
        )
    missing = [k for k in keys if k not in data]
    if missing:
        raise _fail(source, where, f"missing field(s) {', '.join(missing)}")
    return data


def _text(value: Any, source: str, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, where, f"{key} must be a non-empty string")
    return value.strip()


def _texts(value: Any, source: str, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(source, where, f"{key} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _parse_item(data: Any, source: str, index: int) -> ChecklistItem:
    where = f"item {index + 1}"
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        where = f"item {data['id']!r}"
    data = _check_keys(
        data, _ITEM_KEYS, source, where, optional=("nested", "openings", "ignore_rules")
    )
    nested = data.get("nested", False)
    if not isinstance(nested, bool):
        raise _fail(source, where, "nested must be true or false")
    item_id = _text(data["id"], source, where, "id")
    if not _ITEM_ID.match(item_id):
        raise _fail(
            source, where, "id must look like 'prefix.snake_case' (e.g. 'ssa.totalisation')"
        )
    tags = _texts(data["tags"], source, where, "tags")
    unknown_tags = sorted(set(tags) - _TAG_SET)
    if unknown_tags:
        raise _fail(
            source,
            where,
            f"unknown tag(s) {', '.join(unknown_tags)}; valid tags: {', '.join(sorted(_TAG_SET))}",
        )
    ignore_rules = frozenset(_texts(data.get("ignore_rules", []), source, where, "ignore_rules"))
    known_rules = frozenset().union(*(rule_names(tag) for tag in tags))
    unknown_rules = sorted(ignore_rules - known_rules)
    if unknown_rules:
        raise _fail(
            source,
            where,
            f"ignore_rules names no rule of the item's tags: {', '.join(unknown_rules)}",
        )
    headings = _texts(data["headings"], source, where, "headings")
    for pattern in headings:
        try:
            _rx(pattern)
        except re.error as exc:
            raise _fail(source, where, f"bad heading regex {pattern!r}: {exc}") from exc
    openings = _texts(data.get("openings", []), source, where, "openings")
    for pattern in openings:
        try:
            _rx(pattern)
        except re.error as exc:
            raise _fail(source, where, f"bad opening regex {pattern!r}: {exc}") from exc
    cues = _texts(data["cues"], source, where, "cues")
    if not _MIN_CUES <= len(cues) <= _MAX_CUES:
        raise _fail(
            source, where, f"cues must hold {_MIN_CUES}-{_MAX_CUES} sentences, got {len(cues)}"
        )
    raw_partial = data["partial"] if data["partial"] is not None else []
    if not isinstance(raw_partial, list):
        raise _fail(source, where, "partial must be a list of {when, reason}")
    partial = []
    for rule in raw_partial:
        rule = _check_keys(rule, _PARTIAL_KEYS, source, f"{where} partial rule")
        when = _text(rule["when"], source, where, "partial.when")
        if when not in PARTIAL_RULES:
            raise _fail(
                source,
                where,
                f"unknown partial rule {when!r}; valid rules: {', '.join(PARTIAL_RULES)}",
            )
        partial.append(PartialRule(when, _text(rule["reason"], source, where, "partial.reason")))
    return ChecklistItem(
        id=item_id,
        question=_text(data["question"], source, where, "question"),
        why=_text(data["why"], source, where, "why"),
        reference=_text(data["reference"], source, where, "reference"),
        tags=tags,
        headings=headings,
        cues=cues,
        partial=tuple(partial),
        present_when=_text(data["present_when"], source, where, "present_when"),
        nested=nested,
        openings=openings,
        ignore_rules=ignore_rules,
    )


def _load_file(path: Path | Traversable) -> Checklist:
    """Read and validate one checklist YAML file.

    Args:
        path: a file path or an :mod:`importlib.resources` traversable.

    Returns:
        The checklist, items in file order.

    Raises:
        ValidationError: the file is not valid YAML, has unknown keys or missing fields, an
            unknown tag or partial rule, a bad heading regex, a wrong number of cues or
            duplicate item ids; the message names the file and the item.
    """
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source}: not valid YAML: {exc}") from exc
    data = _check_keys(data, _CHECKLIST_KEYS, source, "checklist")
    checklist_id = _text(data["id"], source, "checklist", "id")
    if not isinstance(data["items"], list) or not data["items"]:
        raise _fail(source, "checklist", "items must be a non-empty list")
    items = tuple(_parse_item(raw, source, i) for i, raw in enumerate(data["items"]))
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise _fail(source, f"item {item.id!r}", "duplicate item id")
        seen.add(item.id)
    return Checklist(
        id=checklist_id,
        title=_text(data["title"], source, "checklist", "title"),
        description=_text(data["description"], source, "checklist", "description"),
        items=items,
    )


@functools.cache
def load_checklist(name: str) -> Checklist:
    """Return a shipped checklist by id (cached; the YAML is read once per process).

    Args:
        name: one of :data:`CHECKLIST_IDS`.

    Raises:
        NotFoundError: ``name`` is not a shipped checklist; the message lists the valid ids.
        ValidationError: the checklist file is invalid, or its ``id`` is not ``name``.
    """
    if name not in CHECKLIST_IDS:
        raise NotFoundError(
            f"unknown checklist {name!r}; valid checklists: {', '.join(CHECKLIST_IDS)}"
        )
    resource = importlib.resources.files("migralex.nlp") / "checklists" / f"{name}.yaml"
    checklist = _load_file(resource)
    if checklist.id != name:
        raise ValidationError(f"{resource}: checklist id {checklist.id!r} should be {name!r}")
    return checklist


def list_checklists() -> list[Checklist]:
    """Return every shipped checklist, in :data:`CHECKLIST_IDS` order."""
    return [load_checklist(name) for name in CHECKLIST_IDS]


# --------------------------------------------------------------------------------------------
# Partial rules (clause text is folded: lowercase, no accents)
# --------------------------------------------------------------------------------------------


def _rx(*patterns: str) -> re.Pattern[str]:
    """Compile the alternation of ``patterns``, accent-stripped, case-insensitive.

    Match it against :func:`_fold`-ed text (lowercase, no accents, single spaces).
    """
    return re.compile("|".join(f"(?:{_strip_accents(p)})" for p in patterns), re.IGNORECASE)


_INTERNAL_REFERENCE = _rx(
    r"\b(?:this|the present|present) (?:agreement|convention|arrangement|protocol|act|law)\b",
    r"\b(?:du present|de la presente|le present|la presente) (?:accord|convention|loi)\b",
    r"\b(?:del presente|de la presente|el presente|la presente) (?:acuerdo|convenio|ley)\b",
    r"^(?:subject to|sous reserve d[eu']s?|sin perjuicio de|salvo lo dispuesto en)\s*"
    r"(?:the provisions of )?(?:articles?|paragraphs?|sections?|l'article|los articulos|el articulo)"
    r"[\s\d,ivxlc()and&etyu-]*$",
)
_NATIONALS = _rx(
    r"\b(?:only|solely|exclusively) (?:to )?(?:the )?(?:nationals|citizens)\b",
    r"\b(?:nationals|citizens) of (?:either|a|one|each|both|the two|the) (?:contracting )?"
    r"(?:party|parties|state|states)\b",
    r"\bmust (?:be|hold) (?:a )?(?:citizen|national|citizenship|nationality)\b",
    r"\bressortissants? (?:de l'une|de l'autre|des (?:deux )?(?:parties|etats)|d'une partie|"
    r"de chacune)",
    r"\bseul(?:e)?s? les (?:ressortissants|nationaux|citoyens)\b",
    r"\bnacionales de (?:una|ambas|las|cualquiera de las|la otra) (?:dos )?(?:partes|estados)",
    r"\bsolo (?:los )?(?:nacionales|ciudadanos)\b",
)
_NATIONALS_COMPARATOR = _rx(
    r"\b(?:as|than) (?:to |for |do |are )?$",
    r"\bque (?:les |los |pour les |para los )?$",
    r"\bcomme (?:les )?$",
)
_ANY_PERSON = _rx(
    r"\bany person\b",
    r"\ball persons\b",
    r"\bpersons? (?:who|to whom|covered)\b",
    r"\bresid(?:ing|ent|ents|e)\b",
    r"\b(?:regardless|irrespective) of (?:their |his |her )?nationality\b",
    r"\btoute personne\b",
    r"\btoutes les personnes\b",
    r"\bresid(?:ant|ent|ents|ence)\b",
    r"\b(?:sans (?:condition|distinction) de|quelle que soit (?:leur|sa)) nationalite\b",
    r"\btoda persona\b",
    r"\btodas las personas\b",
    r"\bresid(?:an|entes?|ir)\b",
    r"\b(?:sin distincion de|independientemente de (?:su )?) ?nacionalidad\b",
    r"\brefugees?\b",
    r"\bstateless\b",
    r"\brefugies?\b",
    r"\bapatrides?\b",
    r"\brefugiados?\b",
    r"\bapatridas?\b",
)
_LAWFUL = _rx(
    r"\b(?:lawful(?:ly)?|legal(?:ly)?|regular(?:ly)?) (?:resident|residing|residence|stay|"
    r"staying|employed|admitted|present|status)\b",
    r"\b(?:valid|current) (?:work |residence )?(?:permit|visa|authori[sz]ation)\b",
    r"\bresid\w* (?:reguliere|legale)(?:ment)?\b",
    r"\b(?:regulierement|legalement) (?:resid|etabli|admis|employe)",
    r"\btitre de sejour (?:valide|en cours)",
    r"\bresidencia (?:legal|regular)\b",
    r"\b(?:legalmente|regularmente) (?:residentes?|establecid|admitid|emplead)",
    r"\bpermiso de (?:residencia|trabajo) vigente\b",
)
_STATUS_OVERRIDE = _rx(
    r"\b(?:regardless|irrespective) of (?:their |his |her |the )?(?:\w+ )?(?:status|situation)\b",
    r"\bwhether or not\b",
    r"\bquel(?:le)?s? que soi(?:t|ent) (?:leur|son|sa) (?:statut|situation)\b",
    r"\bindependamment de (?:leur|son|sa) (?:statut|situation)\b",
    r"\bindependientemente de (?:su )?(?:situacion|condicion|estatus)\b",
    r"\bcualquiera que sea su (?:situacion|condicion)\b",
)
_STATUS_WORDS = _rx(
    r"\b(?:regardless|irrespective)\b",
    r"\bwhether or not\b",
    r"\b(?:any|every) (?:worker|person|employee)\b",
    r"\ball (?:workers|employees|persons)\b",
    r"\b(?:foreign|foreigners?|migrants?|non-nationals?|nationality|irregular|undocumented|"
    r"unauthori[sz]ed|permit)\b",
    r"\bquel(?:le)?s? que soi",
    r"\bindependamment\b",
    r"\btout(?:e)? (?:travailleur|personne|salarie)\b",
    r"\btous les (?:travailleurs|salaries)\b",
    r"\b(?:etrangers?|nationalite|irreguliere?|sans titre)\b",
    r"\bcualquiera que sea\b",
    r"\bindependientemente\b",
    r"\btod[oa]s? (?:el |los |las )?(?:trabajador|persona)",
    r"\b(?:extranjer[oa]s?|nacionalidad|irregular)\b",
)
_BINDING = _rx(
    r"\barbitra",
    r"\btribunal",
    r"\bcourts?\b",
    r"\bcour\b",
    r"\bjuridiction",
    r"\bcorte\b",
    r"\bbinding\b",
    r"\bobligatoire",
    r"\bvinculante",
    r"\bjudicial\b",
)
_MAY = _rx(
    r"\bmay\b", r"\bpeu(?:t|vent)\b", r"\bpourr(?:a|ont)\b", r"\bpodr(?:a|an)\b", r"\bpueden?\b"
)
_SHALL = _rx(
    r"\bshall\b",
    r"\bmust\b",
    r"\bwill\b",
    r"\bundertakes?\b",
    r"\bagree\b",
    r"\b(?:is|are) entitled\b",
    r"\bs'engag(?:e|ent)\b",
    r"\bdoi(?:t|vent)\b",
    r"\bdevr(?:a|ont)\b",
    r"\b(?:est|sont) tenu",
    r"\bveill(?:e|ent|eront)\b",
    r"\bdeber(?:a|an)\b",
    r"\bse comprometen?\b",
    r"\btendr(?:a|an) derecho\b",
)
_COSTS_ON_WORKER = _rx(
    r"\b(?:borne|paid|payable|met|covered|defrayed) by the (?:migrant )?workers?\b",
    r"\bdeduct\w* from (?:the |his |her |their )?(?:workers'? )?(?:wages?|salar(?:y|ies)|pay)\b",
    r"\bat the (?:migrant )?workers?'?s? (?:own )?expense\b",
    r"\ba la charge (?:du|des) travailleurs?\b",
    r"\b(?:retenu|deduit)\w* (?:sur|de) (?:son |leur |le )?salaire\b",
    r"\ba cargo del? (?:los )?trabajador",
    r"\bdescontad\w+ del? (?:su )?salario\b",
)
_NEGATION_BEFORE = _rx(r"\b(?:not|no|never|nor|ne|pas|aucun\w*|ni|ningun\w*|nunca|sin)\b")


def _nationals_only(text: str) -> bool:
    for match in _NATIONALS.finditer(text):
        if _NATIONALS_COMPARATOR.search(text[max(0, match.start() - 24) : match.start()]):
            continue  # "same conditions as nationals of the latter Party": a comparator
        return not _ANY_PERSON.search(text)
    return False


def _lawful_status_only(text: str) -> bool:
    return bool(_LAWFUL.search(text)) and not _STATUS_OVERRIDE.search(text)


def _costs_on_worker(text: str) -> bool:
    for match in _COSTS_ON_WORKER.finditer(text):
        window = text[max(0, match.start() - 60) : match.start()]
        if not _NEGATION_BEFORE.search(window):
            return True
    return False


def _real_exception(exception: str) -> bool:
    """True if ``exception`` limits the right, not a cross-reference to the same instrument."""
    folded = _fold(exception)
    return bool(folded) and not _INTERNAL_REFERENCE.search(folded)


#: Clause-level rules: (folded clause text, the clause's tags of this item) -> detail or None.
_ClauseRule = Callable[[str, Sequence[Tag]], str | None]


def _rule_tag_exception(text: str, tags: Sequence[Tag]) -> str | None:
    if tags and all(_real_exception(t.exception) for t in tags):
        return f"«{tags[0].exception}»"
    return None


_CLAUSE_RULES: dict[str, _ClauseRule] = {
    "tag_exception": _rule_tag_exception,
    "nationals_only": lambda text, _t: "" if _nationals_only(text) else None,
    "lawful_status_only": lambda text, _t: "" if _lawful_status_only(text) else None,
    "status_silent": lambda text, _t: None if _STATUS_WORDS.search(text) else "",
    "no_binding_settlement": lambda text, _t: None if _BINDING.search(text) else "",
    "discretionary": lambda text, _t: "" if _MAY.search(text) and not _SHALL.search(text) else None,
    "costs_on_worker": lambda text, _t: "" if _costs_on_worker(text) else None,
}


# --------------------------------------------------------------------------------------------
# Engine
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


@dataclass(frozen=True, slots=True)
class _Signals:
    """Item-independent facts about one clause, as seen from one item."""

    tagged: bool  # carries one of the item's tags
    lead: float  # in (0.5, 1] when one of them starts in the opening of the body (earlier is
    # higher), else 0
    similarity: float  # best cue similarity for the item
    other_similarity: float  # best cue similarity for any other item (-1 if none)
    foreign: bool  # its own heading names other items only


_ARRANGEMENT_PATTERNS = (
    r"^administrative (?:arrangement|agreement)",
    r"^(?:arrangement|accord) administratif",
    r"^(?:acuerdo|arreglo) administrativo",
    r"^administratie(?:f|ve) (?:akkoord|schikking|regeling)",
)
_ANNEX_PATH = _rx(
    r"^(?:final |additional )?(?:annex|annexe|anexo|appendix|schedule|protocol|protocole|protocolo)",
    *_ARRANGEMENT_PATTERNS,
)
#: Containers holding an administrative arrangement: concluded by the competent authorities to
#: implement the agreement (as in the R167 model agreement), it cannot supply a provision the
#: agreement lacks. Protocols and annexes are integral parts of the agreement and do count.
_ARRANGEMENT_PATH = _rx(*_ARRANGEMENT_PATTERNS)


_VARIANT_HEADING = _rx(
    r"\bthird (?:states?|countr\w*|part(?:y|ies))\b",
    r"\b(?:etats?|pays) tiers\b",
    r"\btiers (?:etats?|pays)\b",
    r"\bterceros? (?:estados?|paises?)\b",
)


def _in_annex(clause: Clause) -> bool:
    return bool(clause.path) and bool(_ANNEX_PATH.match(_fold(clause.path[0])))


def _in_arrangement(clause: Clause) -> bool:
    return bool(clause.path) and bool(_ARRANGEMENT_PATH.match(_fold(clause.path[0])))


def is_preamble(clause: Clause) -> bool:
    """True when the clause is (inside) the preamble: its label or first path element is
    "Preamble" in English, French, Spanish or Dutch, accents ignored (the segmenter's label
    for the text before the first article)."""
    return _fold(clause.label) in _PREAMBLE_LABELS or (
        bool(clause.path) and _fold(clause.path[0]) in _PREAMBLE_LABELS
    )


@functools.cache
def _heading_regex(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    return _rx(*patterns) if patterns else None


def _via(s: _Scored, th: Thresholds) -> str:
    parts = [
        ("heading", s.heading),
        ("context", s.context),
        ("tag", s.tag),
        ("semantic", s.similarity >= th.semantic_partial),
    ]
    return ",".join(name for name, on in parts if on)


def _strong_confidence(s: _Scored) -> float:
    """0.6 base + 0.2 heading (0.1 context) + 0.15 tag + 0.05 * similarity (>= 0), capped at 1."""
    structure = 0.2 if s.heading else 0.1 if s.context else 0.0
    return min(1.0, 0.6 + structure + 0.15 * s.tag + 0.05 * max(s.similarity, 0.0))


#: An opening reservation ("Unless otherwise provided in this Agreement,", "Sous réserve des
#: dispositions de l'article 8,"): the subject of the article comes after it. Matched on the
#: raw text (case-insensitive), up to the first comma within 160 characters.
_RESERVATION = re.compile(
    r"\s*(?:\(?\d{1,2}[.)]\s*)?"
    r"(?:unless|subject to|except as|save as|notwithstanding|without prejudice|"
    r"[aà] moins qu|sous r[eé]serve|sauf (?:dispositions?|disposition contraire|si)|"
    r"nonobstant|sans pr[eé]judice|salvo|sin perjuicio|a menos que|con sujeci[oó]n)"
    r"[^,;\n]{0,160},",
    re.IGNORECASE,
)


#: Right after a tag, a pointer to another article ("totalisation des périodes visée à
#: l'article 19", "periods totalized under Article 6"): the tag refers to that article's rule,
#: it is not this article's subject.
_CROSS_REFERENCE = re.compile(
    r"[^.;:\n]{0,60}?\b(?:vis[ée]e?s? (?:à|a|au|aux)|pr[ée]vue?s? (?:à|a|au|aux)|"
    r"mentionn[ée]e?s? (?:à|a|au|aux)|referred to in|under|pursuant to|in accordance with|"
    r"conform[ée]ment (?:à|a|au|aux)|en application de|previst[oa]s? en|"
    r"a que se refiere)\s+(?:(?:aux |des |the )?(?:dispositions|provisions) (?:de |du |des |of )?)?"
    r"(?:l[ae'’]\s*)?(?:articles?|art\.|paragraph|paragraphe|p[aá]rrafo)\s",
    re.IGNORECASE,
)


#: A sentence that implements other articles ("Pour l'application des articles 7 à 11 de
#: l'Entente, ...", "For the purposes of Article 6 of the Agreement, ..."): typical of
#: administrative arrangements; the rule itself is in the articles named.
_IMPLEMENTING = re.compile(
    r"\s*(?:\(?\d{1,2}[.)]\s*)?(?:for the purposes? of|for the application of|in applying|"
    r"in (?:the )?application of|pour l['’]\s*application d[eu']s?|aux fins d[eu']s?|"
    r"en application d[eu']s?|para (?:la )?aplicaci[oó]n de|a (?:los )?efectos de)\s*"
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


@functools.lru_cache(maxsize=4096)
def _implements_others(clause: Clause) -> bool:
    """The article opens by implementing other articles ("1. Pour l'application des articles
    7 à 11 de l'Entente, ..."), after its label and heading line: all of it applies them."""
    start = _body_start(clause)
    if not clause.heading and _heading_of(clause):  # skip the inline heading line
        start = clause.text.find("\n", start) + 1 or len(clause.text)
    return bool(_IMPLEMENTING.match(clause.text, start))


def _points_elsewhere(clause: Clause, tag: Tag) -> bool:
    """The tag refers to another article's rule: a pointer ("visée à l'article 19",
    "conformément aux dispositions de l'article 18") right after it or inside its span, or the
    tag's sentence or the whole article opens by implementing other articles ("Pour
    l'application des articles 7 à 11 de l'Entente, ..."), as administrative arrangements do."""
    text = clause.text
    return bool(
        _CROSS_REFERENCE.match(text, tag.end)
        or _CROSS_REFERENCE.search(text, tag.start, tag.end)
        or _IMPLEMENTING.match(text, _sentence_start(text, tag.start))
        or _implements_others(clause)
    )


_INLINE_HEADING_MAX = 90
#: Headings that name no subject of their own (folded, matched whole): the article's opening
#: formula says what it is about ("Scope of Application" / "This Agreement shall apply to the
#: following legislation").
_GENERIC_HEADING = _rx(
    r"(?:(?:purpose|object) and )?(?:scope|field)(?: of (?:application|the (?:agreement|convention)))?",
    r"(?:objet et )?champ d'application(?: de la convention| de l'accord)?",
    r"(?:objeto y )?(?:ambito|campo) de aplicacion",
    r"toepassingsgebied|werkingssfeer",
    r"general provisions?|dispositions? generales?|disposiciones generales|algemene bepalingen",
)


def _openings_decide(clause: Clause, heading: str) -> bool:
    """The opening formula states the clause's subject: it has no printed heading (an inline
    first line may be a wrapped opening sentence) or a generic one; ``heading`` is
    :func:`_heading_of` the clause."""
    return not clause.heading or bool(_GENERIC_HEADING.fullmatch(heading))


def _opening(clause: Clause, chars: int) -> str:
    """The first ``chars`` characters of the body (:func:`_body_start`), folded."""
    start = _body_start(clause)
    return _fold(clause.text[start : start + chars])


@functools.lru_cache(maxsize=4096)
def _heading_of(clause: Clause) -> str:
    """The clause heading, folded; for a clause without one, a short first body line without
    final punctuation ("Entrée en vigueur et durée"), which the segmenter left in the text."""
    if clause.heading:
        return _fold(clause.heading)
    text = clause.text
    first_end = text.find("\n")
    if first_end < 0 or not _fold(text[:first_end]).startswith(_fold(clause.label)):
        return ""
    second_end = text.find("\n", first_end + 1)
    if second_end < 0:
        return ""
    line = text[first_end + 1 : second_end].strip()
    if not line or len(line) > _INLINE_HEADING_MAX or line[-1] in ".;:,)" or line[0].isdigit():
        return ""
    return _fold(line)


def _body_start(clause: Clause) -> int:
    """Offset in ``clause.text`` where the body's subject starts: after the label and heading
    lines and an opening reservation ("Unless otherwise provided ...,")."""
    text = clause.text
    pos = 0
    first_end = text.find("\n")
    if first_end >= 0 and _fold(text[:first_end]).startswith(_fold(clause.label)):
        pos = first_end + 1
        heading = _fold(clause.heading)
        if heading and heading not in _fold(text[:first_end]):
            second_end = text.find("\n", pos)
            second = text[pos : second_end if second_end >= 0 else len(text)]
            if _fold(second) == heading:
                pos = second_end + 1 if second_end >= 0 else len(text)
    reservation = _RESERVATION.match(text, pos)
    return reservation.end() if reservation else pos


def _score_clause(
    index: int,
    clause: Clause,
    heading_rx: re.Pattern[str] | None,
    signals: _Signals,
    th: Thresholds,
    nested: bool = False,
    opening_rx: re.Pattern[str] | None = None,
) -> _Scored:
    heading = _heading_of(clause)
    h = bool(heading_rx and heading and heading_rx.search(heading))
    # Without a printed heading, an inline first line may be the opening sentence wrapped
    # ("Deze Overeenkomst zal vanaf de datum van ondertekening voorlopig worden" / "toegepast.");
    # under a generic heading ("Scope of Application") the opening words name the subject.
    if not h and _openings_decide(clause, heading) and opening_rx is not None and th.lead_chars:
        h = bool(opening_rx.search(_opening(clause, th.lead_chars)))
    # An inline first line counts as a heading only when it names an item.
    heading = heading if clause.heading or h or signals.foreign else ""
    ctx = heading_rx is not None and any(heading_rx.search(_fold(c)) for c in clause.context if c)
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
    score = (
        HEADING_WEIGHT * h
        + CONTEXT_WEIGHT * ctx
        + TAG_WEIGHT * (lead or 0.5 * tagged)
        + SEMANTIC_WEIGHT * max(sim, 0.0) * (1.0 if on_topic else 0.5)
    )
    if clause.heading and _VARIANT_HEADING.search(_fold(clause.heading)):
        score *= VARIANT_FACTOR
    strong = (
        h
        or ctx
        or lead > 0
        or (tagged and on_topic and sim >= th.tag_support)
        or (on_topic and sim >= th.semantic_present)
    )
    weak = not strong and (
        (tagged and on_topic and sim >= th.tag_floor)
        or (on_topic and sim >= th.semantic_partial)
        or (nested and foreign and signals.tagged)
    )
    return _Scored(index, h, ctx, tagged, sim, min(1.0, score), strong, weak)


def _owners(checklist: Checklist, clause: Clause) -> frozenset[str]:
    """Ids of the items whose heading patterns match the clause's own heading (division
    headings cover articles on several subjects, so they do not count)."""
    text = _heading_of(clause)
    if not text:
        return frozenset()
    return frozenset(
        item.id
        for item in checklist.items
        if (rx := _heading_regex(item.headings)) is not None and rx.search(text)
    )


def structural_topics(clause: Clause, lead_chars: int = LEAD_CHARS) -> frozenset[str]:
    """The checklist topics a clause's structure names: its heading, or (when the heading names
    none and is missing, left inline or generic, as for the engine) the opening formula of its
    first ``lead_chars`` characters.

    Topics are item ids without their checklist prefix ("entry_into_force_and_termination"), over
    every shipped checklist: search uses them like tags (:mod:`migralex.index.intent`).
    """
    heading = _heading_of(clause)
    items = [item for checklist in list_checklists() for item in checklist.items]

    def named(patterns: tuple[str, ...], text: str) -> bool:
        rx = _heading_regex(patterns)
        return rx is not None and rx.search(text) is not None

    out = {item.id.split(".", 1)[1] for item in items if heading and named(item.headings, heading)}
    if not out and _openings_decide(clause, heading):
        opening = _opening(clause, lead_chars)
        out = {item.id.split(".", 1)[1] for item in items if named(item.openings, opening)}
    return frozenset(out)


def _branches(tags: Sequence[Tag]) -> set[str]:
    return {t.name for t in tags if t.name.startswith("branch_")}


def _check_vectors(name: str, vectors: np.ndarray, rows: int, dim: int | None) -> None:
    if (
        vectors.ndim != 2
        or vectors.shape[0] != rows
        or (dim is not None and vectors.shape[1] != dim)
    ):
        want = f"({rows}, {dim if dim is not None else 'dim'})"
        raise ValidationError(f"{name}: expected an array of shape {want}, got {vectors.shape}")


def _run_item(
    item: ChecklistItem,
    clauses: Sequence[Clause],
    tags: Mapping[str, Sequence[Tag]],
    similarity: np.ndarray,
    other_similarity: np.ndarray,
    owners: Sequence[frozenset[str]],
    n_evidence: int,
    th: Thresholds,
    bundled_arrangement: bool = False,
) -> tuple[str, float, str, tuple[Evidence, ...]]:
    heading_rx = _heading_regex(item.headings)
    opening_rx = _heading_regex(item.openings)
    item_tags = set(item.tags)
    scored = []
    for i, clause in enumerate(clauses):
        own = [
            t
            for t in tags.get(clause.clause_id, ())
            if t.name in item_tags
            and rule_name(t.rule) not in item.ignore_rules
            and not _points_elsewhere(clause, t)
        ]
        body_at = _body_start(clause)
        lead_end = body_at + th.lead_chars
        signals = _Signals(
            tagged=bool(own),
            lead=max(
                (
                    1.0 - 0.5 * (t.start - body_at) / th.lead_chars
                    for t in own
                    if t.start < lead_end
                ),
                default=0.0,
            )
            if th.lead_chars > 0
            else 0.0,
            similarity=float(similarity[i]) if similarity.size else 0.0,
            other_similarity=float(other_similarity[i]) if other_similarity.size else -1.0,
            foreign=bool(owners[i]) and item.id not in owners[i],
        )
        scored.append(_score_clause(i, clause, heading_rx, signals, th, item.nested, opening_rx))

    def relevant(s: _Scored) -> bool:
        return s.strong or s.weak

    body = [s for s in scored if relevant(s) and not is_preamble(clauses[s.index])]
    preamble_only = not body
    pool = body or [s for s in scored if relevant(s)]
    # Strong evidence first, then by score, then in document order.
    # The agreement's own articles before annexes, protocols and administrative arrangements.
    pool.sort(key=lambda s: (not s.strong, _in_annex(clauses[s.index]), -s.score, s.index))
    evidence = tuple(
        Evidence(
            clause=clauses[s.index],
            score=s.score,
            tags=tuple(sorted({t.name for t in tags.get(clauses[s.index].clause_id, ())})),
            via=_via(s, th),
            spans=tuple(
                sorted(
                    {
                        (t.start, t.end)
                        for t in tags.get(clauses[s.index].clause_id, ())
                        if t.name in item_tags
                    }
                )
            ),
        )
        for s in pool[:n_evidence]
    )

    if not pool:
        best = max(scored, key=lambda s: (s.similarity, -s.index), default=None)
        if best is None or best.similarity <= 0:
            return "absent", 1.0, "no clause addresses this", ()
        confidence = 1.0 - 0.5 * max(0.0, best.similarity) / max(th.semantic_partial, 1e-6)
        reason = (
            f"no clause addresses this; the closest is {clauses[best.index].citation} "
            f"(similarity {best.similarity:.2f})"
        )
        return "absent", confidence, reason, ()

    if bundled_arrangement and all(_in_arrangement(clauses[s.index]) for s in pool):
        first = clauses[pool[0].index]
        reason = (
            f"the agreement itself does not provide for this; only its administrative "
            f"arrangement does ({first.citation}), which implements the agreement and cannot "
            f"stand in for it"
        )
        return "absent", 0.5 + 0.3 * (1.0 - pool[0].score), reason, evidence

    candidates = [s for s in pool if s.strong]
    rules = {r.when: r for r in item.partial}
    if not candidates:  # only weak evidence: a passing tag or mid-range similarity
        best = pool[0]
        rule = rules.get("semantic_only")
        text = rule.reason if rule else _SEMANTIC_ONLY_REASON
        span = max(th.semantic_present - th.semantic_partial, 1e-6)
        confidence = 0.3 + 0.3 * max(0.0, best.similarity - th.semantic_partial) / span
        via = _via(best, th).replace(",", ", ") or "tag"
        reason = (
            f"{text} (closest: {clauses[best.index].citation}, via {via}, "
            f"similarity {best.similarity:.2f})"
        )
        return "partial", confidence, reason, evidence

    def confidence_of(s: _Scored) -> float:
        if s.heading or s.context or s.tag:
            return _strong_confidence(s)
        span = max(1.0 - th.semantic_present, 1e-6)
        return 0.5 + 0.4 * (s.similarity - th.semantic_present) / span

    clean: list[_Scored] = []
    fired: list[tuple[_Scored, PartialRule, str]] = []
    for s in candidates:
        clause = clauses[s.index]
        folded = _fold(clause.text)
        own_tags = [t for t in tags.get(clause.clause_id, ()) if t.name in item_tags]
        hits = []
        for rule in item.partial:
            check = _CLAUSE_RULES.get(rule.when)
            detail = check(folded, own_tags) if check else None
            if detail is not None:
                hits.append((s, rule, detail))
        if hits:
            fired.extend(hits)
        else:
            clean.append(s)

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
            first = candidates[0]
            fired.append((first, rules["fewer_branches"], f"not: {names}"))
            clean = []

    if clean:
        best = clean[0]
        via = _via(best, th).replace(",", ", ")
        reason = f"found in {clauses[best.index].citation} (via {via})"
        confidence = confidence_of(best)
        if preamble_only:
            reason = f"mentioned only in the preamble ({clauses[best.index].citation}), which "
            reason += "states aims rather than rights"
            return "partial", 0.5 * confidence, reason, evidence
        return "present", confidence, reason, evidence

    seen: set[str] = set()
    reasons = []
    for s, rule, detail in fired:
        if rule.when in seen:
            continue
        seen.add(rule.when)
        where = clauses[s.index].citation + (f": {detail}" if detail else "")
        reasons.append(f"{rule.reason} [{where}]")
    confidence = 0.85 * confidence_of(fired[0][0])
    return "partial", confidence, "; ".join(reasons), evidence


def run_checklist(
    checklist: Checklist,
    clauses: Sequence[Clause],
    tags: Mapping[str, Sequence[Tag]],
    clause_vectors: np.ndarray,
    embed_queries: Callable[[list[str]], np.ndarray],
    find_examples: Callable[[ChecklistItem, int], list[Hit]] | None = None,
    n_examples: int = 3,
    n_evidence: int = 3,
    thresholds: Thresholds | None = None,
) -> ChecklistResult:
    """Answer every item of ``checklist`` for one document.

    Args:
        checklist: from :func:`load_checklist`.
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
        * absent because all evidence lies in a bundled administrative arrangement:
          ``0.5 + 0.3 (1 - score)`` for the best evidence score (in [0, 1]).

    Raises:
        ValidationError: ``clause_vectors`` or the cue vectors have the wrong shape.
    """
    th = thresholds or Thresholds()
    vectors = np.asarray(clause_vectors, dtype=np.float32)
    item_sims: list[np.ndarray] = []
    owners = [_owners(checklist, clause) for clause in clauses]
    if clauses:
        _check_vectors("clause_vectors", vectors, len(clauses), None)
        cues = [cue for item in checklist.items for cue in item.cues]
        cue_vectors = np.asarray(embed_queries(cues), dtype=np.float32)
        _check_vectors("embed_queries(cues)", cue_vectors, len(cues), vectors.shape[1])
        sims = vectors @ cue_vectors.T  # (n_clauses, n_cues)
        start = 0
        for item in checklist.items:
            stop = start + len(item.cues)
            item_sims.append(sims[:, start:stop].max(axis=1))
            start = stop
    else:
        item_sims = [np.zeros(0, dtype=np.float32) for _ in checklist.items]

    matrix = np.stack(item_sims) if clauses else np.zeros((len(checklist.items), 0), np.float32)
    results = []
    tagged_document = any(tags.get(c.clause_id) for c in clauses)
    # An administrative arrangement bundled with its agreement cannot supply the agreement's
    # provisions; one read on its own is the document under review.
    bundled_arrangement = any(_in_arrangement(c) for c in clauses) and any(
        not _in_annex(c) and not is_preamble(c) for c in clauses
    )
    for k, (item, similarity) in enumerate(zip(checklist.items, item_sims, strict=True)):
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
        status, confidence, reason, evidence = _run_item(
            item,
            clauses,
            tags,
            similarity,
            other_similarity,
            owners,
            n_evidence,
            item_th,
            bundled_arrangement,
        )
        confidence = min(1.0, max(0.0, confidence))
        if math.isnan(confidence):
            confidence = 0.0
        examples = tuple(find_examples(item, n_examples)) if find_examples is not None else ()
        results.append(ItemResult(item, status, confidence, reason, evidence, examples))
    return ChecklistResult(checklist, tuple(results))


# --------------------------------------------------------------------------------------------
# Good-practice examples
# --------------------------------------------------------------------------------------------

#: Document kinds whose clauses make the best examples, per checklist (others still may serve).
_PREFERRED_KINDS: dict[str, frozenset[str]] = {
    "ssa": frozenset({"ssa"}),
    "bla": frozenset({"bla", "ssa"}),
    "law": frozenset({"law", "regulation"}),
}
_LAPSED = _rx(
    r"\b(?:repeal|repealed|lapsed|terminated|superseded|revoked|no longer in force)\b",
    r"\b(?:abroge|abrogee|denonce|caduc)\b",
    r"\b(?:derogad[oa]|denunciad[oa])\b",
)
#: Clause length (characters) that reads as a complete, quotable provision.
_GOOD_LENGTH = (200, 2000)


def example_quality(item: ChecklistItem, hit: Hit) -> float:
    """Score a search hit as a good-practice example for ``item``, in [0, 1].

    The similarity of the hit counts for 0.3 (clipped to [0, 1]); the rest rewards a clear,
    complete provision from an agreement in force: a heading matching the item (0.25), a tag of
    the item (0.15), a document of the checklist's kind (0.15), a moderate length (0.1 inside
    :data:`_GOOD_LENGTH`, less when shorter or longer), not a preamble (0.05). A title or
    clause saying the text is repealed, lapsed or terminated scores 0.
    """
    clause = hit.clause
    if _LAPSED.search(_fold(hit.doc_title)) or _LAPSED.search(_fold(clause.heading)):
        return 0.0
    heading_rx = _heading_regex(item.headings)
    heading = bool(heading_rx and clause.heading and heading_rx.search(_fold(clause.heading)))
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
