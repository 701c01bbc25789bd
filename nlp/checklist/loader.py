"""Checklist data files (``nlp/checklists/{id}.yaml``, package data) -> frozen checklist models.

Each file is validated by a pydantic schema (unknown keys, missing fields, tag names, partial
rule names, regexes, number of cues, item ids); the error names the file and the item. The
shipped checklists are the files found in ``nlp/checklists/``, listed by their ``order`` key
(then file name).
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from migralex.corpus.checklist_models import Checklist, ChecklistItem, PartialRule
from migralex.corpus.errors import NotFoundError, ValidationError
from migralex.corpus.models import TAG_NAMES
from migralex.nlp.tagger import rule_names
from migralex.nlp.text import rx
from migralex.nlp.vocabulary import safe_load_yaml

__all__ = [
    "PARTIAL_RULES",
    "checklist_ids",
    "list_checklists",
    "load_checklist",
    "load_file",
]

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
#:
#: The words each rule looks for are in ``nlp/vocab/partial_rules.yaml``.
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

_TAG_SET: frozenset[str] = frozenset(TAG_NAMES)
_ITEM_ID = re.compile(r"^[a-z]+\.[a-z0-9_]+$")
_MIN_CUES, _MAX_CUES = 3, 6
#: ``order`` of a checklist file that has none (listed after those that have one).
_DEFAULT_ORDER = 100
_ORDER_LINE = re.compile(r"^order:\s*(\d+)\s*$", re.MULTILINE)

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, strict=True)]
_Texts = tuple[_Text, ...] | None


def _patterns_ok(value: tuple[str, ...] | None, what: str) -> tuple[str, ...]:
    for pattern in value or ():
        try:
            rx(pattern)
        except re.error as exc:
            raise ValueError(f"bad {what} regex {pattern!r}: {exc}") from exc
    return value or ()


class _PartialSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    when: _Text
    reason: _Text

    @field_validator("when")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        if value not in PARTIAL_RULES:
            raise ValueError(
                f"unknown partial rule {value!r}; valid rules: {', '.join(PARTIAL_RULES)}"
            )
        return value


class _ItemSchema(BaseModel):
    """One item of a checklist file; see :class:`~migralex.corpus.checklist_models.ChecklistItem`
    for the meaning of the fields. ``tags``, ``headings`` and ``partial`` must be present (they
    may be empty or null)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: _Text
    question: _Text
    why: _Text
    reference: _Text
    tags: _Texts
    headings: _Texts
    cues: _Texts
    partial: tuple[_PartialSchema, ...] | None
    present_when: _Text
    nested: Annotated[bool, ConfigDict(strict=True)] = False
    openings: _Texts = None
    ignore_rules: _Texts = None
    terms: _Texts = None

    @field_validator("id")
    @classmethod
    def _item_id(cls, value: str) -> str:
        if not _ITEM_ID.match(value):
            raise ValueError("id must look like 'prefix.snake_case' (e.g. 'ssa.totalisation')")
        return value

    @field_validator("tags")
    @classmethod
    def _known_tags(cls, value: tuple[str, ...] | None) -> tuple[str, ...]:
        unknown = sorted(set(value or ()) - _TAG_SET)
        if unknown:
            raise ValueError(
                f"unknown tag(s) {', '.join(unknown)}; valid tags: {', '.join(sorted(_TAG_SET))}"
            )
        return value or ()

    @field_validator("headings")
    @classmethod
    def _heading_regexes(cls, value: tuple[str, ...] | None) -> tuple[str, ...]:
        return _patterns_ok(value, "heading")

    @field_validator("openings")
    @classmethod
    def _opening_regexes(cls, value: tuple[str, ...] | None) -> tuple[str, ...]:
        return _patterns_ok(value, "opening")

    @field_validator("terms")
    @classmethod
    def _term_regexes(cls, value: tuple[str, ...] | None) -> tuple[str, ...]:
        return _patterns_ok(value, "term")

    @field_validator("cues")
    @classmethod
    def _cue_count(cls, value: tuple[str, ...] | None) -> tuple[str, ...]:
        cues = value or ()
        if not _MIN_CUES <= len(cues) <= _MAX_CUES:
            raise ValueError(f"cues must hold {_MIN_CUES}-{_MAX_CUES} sentences, got {len(cues)}")
        return cues

    @model_validator(mode="after")
    def _ignore_rules_known(self) -> _ItemSchema:
        known = frozenset().union(*(rule_names(tag) for tag in self.tags or ()))
        unknown = sorted(set(self.ignore_rules or ()) - known)
        if unknown:
            raise ValueError(f"ignore_rules names no rule of the item's tags: {', '.join(unknown)}")
        return self

    def to_item(self) -> ChecklistItem:
        return ChecklistItem(
            id=self.id,
            question=self.question,
            why=self.why,
            reference=self.reference,
            tags=self.tags or (),
            headings=self.headings or (),
            cues=self.cues or (),
            partial=tuple(PartialRule(p.when, p.reason) for p in self.partial or ()),
            present_when=self.present_when,
            nested=self.nested,
            openings=self.openings or (),
            ignore_rules=frozenset(self.ignore_rules or ()),
            terms=self.terms or (),
        )


class _ChecklistSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: _Text
    title: _Text
    description: _Text
    items: tuple[_ItemSchema, ...]
    order: Annotated[int, ConfigDict(strict=True)] = _DEFAULT_ORDER

    @field_validator("items", mode="before")
    @classmethod
    def _non_empty(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise ValueError("items must be a non-empty list")
        return value


_CHECKLIST_KEYS = tuple(_ChecklistSchema.model_fields)
_ITEM_KEYS = tuple(_ItemSchema.model_fields)
_PARTIAL_KEYS = tuple(_PartialSchema.model_fields)


def _where(
    data: Any, loc: tuple[int | str, ...]
) -> tuple[str, tuple[str, ...], tuple[int | str, ...]]:
    """(where, valid keys there, rest of loc) for a pydantic error location in a checklist."""
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
        index = loc[1]
        raw = data["items"][index] if isinstance(data.get("items"), list) else None
        name = raw.get("id") if isinstance(raw, dict) else None
        where = f"item {name!r}" if isinstance(name, str) else f"item {index + 1}"
        rest = loc[2:]
        if len(rest) >= 2 and rest[0] == "partial" and isinstance(rest[1], int):
            return f"{where} partial rule", _PARTIAL_KEYS, rest[2:]
        return where, _ITEM_KEYS, rest
    return "checklist", _CHECKLIST_KEYS, loc


def _message(err: Any, rest: tuple[int | str, ...]) -> str:
    names = [str(x) for x in rest if isinstance(x, str)]
    key = names[0] if names else "value"
    kind = err["type"]
    if kind in ("string_type", "string_too_short"):
        return f"{key} must be a non-empty string"
    if kind in ("tuple_type", "list_type"):
        return f"{key} must be a list"
    if kind in ("bool_type", "bool_parsing"):
        return f"{key} must be true or false"
    if kind in ("int_type", "int_parsing"):
        return f"{key} must be an integer"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{key} must be a mapping"
    message = str(err["msg"]).removeprefix("Value error, ")
    return message if kind == "value_error" else f"{key}: {message}"


def _describe(data: Any, exc: PydanticValidationError) -> str:
    """One line for every problem: unknown and missing keys first, grouped by place."""
    unknown: dict[str, tuple[tuple[str, ...], list[str]]] = {}
    missing: dict[str, list[str]] = {}
    other: list[str] = []
    for err in exc.errors():
        where, keys, rest = _where(data, tuple(err["loc"]))
        if err["type"] == "extra_forbidden" and len(rest) == 1:
            unknown.setdefault(where, (keys, []))[1].append(str(rest[0]))
        elif err["type"] == "missing" and len(rest) == 1:
            missing.setdefault(where, []).append(str(rest[0]))
        else:
            other.append(f"{where}: {_message(err, rest)}")
    lines = [
        f"{where}: unknown key(s) {', '.join(sorted(names))}; valid keys: {', '.join(keys)}"
        for where, (keys, names) in unknown.items()
    ]
    lines += [f"{where}: missing field(s) {', '.join(names)}" for where, names in missing.items()]
    return "; ".join(lines + other)


def load_file(path: Path | Traversable) -> Checklist:
    """Read and validate one checklist YAML file (not cached).

    Args:
        path: a file path or an :mod:`importlib.resources` traversable.

    Returns:
        The checklist, items in file order.

    Raises:
        ValidationError: the file is not valid YAML, has unknown keys or missing fields, an
            unknown tag or partial rule, a bad heading or opening regex, a wrong number of cues
            or duplicate item ids; the message names the file and the item (every problem
            found, separated by "; ").
    """
    source = str(path)
    try:
        data = safe_load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(
            f"{source}: checklist: expected a mapping with keys {', '.join(_CHECKLIST_KEYS)}"
        )
    try:
        parsed = _ChecklistSchema.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(f"{source}: {_describe(data, exc)}") from exc
    items = tuple(item.to_item() for item in parsed.items)
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValidationError(f"{source}: item {item.id!r}: duplicate item id")
        seen.add(item.id)
    return Checklist(id=parsed.id, title=parsed.title, description=parsed.description, items=items)


def _folder() -> Traversable:
    return importlib.resources.files("migralex.nlp") / "checklists"


@functools.cache
def checklist_ids() -> tuple[str, ...]:
    """The shipped checklists: stems of ``nlp/checklists/*.yaml``, by their top-level
    ``order: N`` line (files without one last), then name. Reads only the files' text, so a
    broken file still gets listed (and fails in :func:`load_checklist`)."""

    def order(f: Traversable) -> tuple[int, str]:
        found = _ORDER_LINE.search(f.read_text(encoding="utf-8"))
        return (int(found.group(1)) if found else _DEFAULT_ORDER, f.name)

    files = [f for f in _folder().iterdir() if f.name.endswith(".yaml")]
    return tuple(f.name.removesuffix(".yaml") for f in sorted(files, key=order))


@functools.cache
def load_checklist(name: str) -> Checklist:
    """Return a shipped checklist by id (cached; the YAML is read once per process).

    Args:
        name: one of :func:`checklist_ids`.

    Raises:
        NotFoundError: ``name`` is not a shipped checklist; the message lists the valid ids.
        ValidationError: the checklist file is invalid, or its ``id`` is not ``name``.
    """
    ids = checklist_ids()
    if name not in ids:
        raise NotFoundError(f"unknown checklist {name!r}; valid checklists: {', '.join(ids)}")
    resource = _folder() / f"{name}.yaml"
    checklist = load_file(resource)
    if checklist.id != name:
        raise ValidationError(f"{resource}: checklist id {checklist.id!r} should be {name!r}")
    return checklist


def list_checklists() -> list[Checklist]:
    """Return every shipped checklist, in :func:`checklist_ids` order."""
    return [load_checklist(name) for name in checklist_ids()]


def __getattr__(name: str) -> tuple[str, ...]:
    # CHECKLIST_IDS is computed from the data files on first use, not at import.
    if name == "CHECKLIST_IDS":
        return checklist_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
