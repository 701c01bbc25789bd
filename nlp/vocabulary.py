"""The legal vocabulary of the checklist engine, as data (``nlp/vocab/*.yaml``, package data).

Each file holds *groups*; a group is one compiled regex (negation words, "nationals only"
wording, annex words, ...) made of *entries*, each with an ``id``, a ``source`` (the standard
the rule comes from, or "migralex drafting practice"), an ``example`` in our own words that the
entry must match, and its ``patterns`` per language (``en``, ``fr``, ``es``, ``nl``, or ``any``
for a pattern shared by several). The patterns of a group are its entries' patterns in file
order: entries, then the languages as written, then list order. ``text`` says what the regex
is matched against: ``folded`` (:func:`migralex.nlp.text.fold`: lowercase, no accents; the
patterns are written without accents and compiled by :func:`migralex.nlp.text.rx`) or ``raw``
(the clause text as printed, case-insensitive; accents written as classes such as ``[eé]``).

The files are read once per process (:func:`functools.cache`); a bad file raises
:class:`~migralex.corpus.errors.ValidationError` naming the file, the group and the entry.
See ``nlp/README.md`` for how to add a word.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic import ValidationError as PydanticValidationError

from migralex.corpus.errors import NotFoundError, ValidationError
from migralex.nlp.text import rx, strip_accents

__all__ = [
    "LANGUAGES",
    "VocabEntry",
    "VocabGroup",
    "entry_regex",
    "example_text",
    "load_vocabulary",
    "load_vocabulary_file",
    "patterns",
    "regex",
]

#: Language keys of an entry's ``patterns`` (``any``: shared by several languages).
LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "nl", "any")

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, strict=True)]
_Pattern = Annotated[str, StringConstraints(min_length=1, strict=True)]
_Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", strict=True)]


class VocabEntry(BaseModel):
    """One vocabulary rule: a few regexes per language, with where it comes from.

    Attributes:
        id: snake_case id, unique in its group.
        source: the standard ("C118 Art. 10") or "migralex drafting practice".
        example: a short phrase in our own words that the entry must match.
        patterns: regexes per language key (:data:`LANGUAGES`), in the order written.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: _Id
    source: _Text
    example: Annotated[str, StringConstraints(min_length=1, strict=True)]
    patterns: dict[str, tuple[_Pattern, ...]] = Field(min_length=1)

    @field_validator("patterns")
    @classmethod
    def _known_languages(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            raise ValueError(
                f"unknown language(s) {', '.join(unknown)}; valid: {', '.join(LANGUAGES)}"
            )
        if not all(value.values()):
            raise ValueError("each language needs at least one pattern")
        return value

    def flat(self) -> tuple[str, ...]:
        """The entry's patterns, languages in the order written."""
        return tuple(p for group in self.patterns.values() for p in group)


class VocabGroup(BaseModel):
    """One compiled vocabulary regex: its entries and what text it is matched against.

    Attributes:
        id: the group id (unique over all vocabulary files), e.g. "negation".
        description: what the group is for, for the reader of the data file.
        text: "folded" or "raw" (see the module docstring).
        entries: the entries, in file order (at least one).
        source_file: the file it was read from (set by the loader).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: _Id
    description: _Text
    text: Literal["folded", "raw"]
    entries: tuple[VocabEntry, ...] = Field(min_length=1)
    source_file: str = ""

    def patterns(self) -> tuple[str, ...]:
        """Every pattern of the group, entries in file order (see the module docstring)."""
        return tuple(p for entry in self.entries for p in entry.flat())


def entry_regex(group: VocabGroup, entry: VocabEntry) -> re.Pattern[str]:
    """Compile one entry alone, the way its group is compiled (for checks and tests).

    Folded groups: :func:`migralex.nlp.text.rx` of the entry's patterns; raw groups: their
    ``|`` alternation, case-insensitive.

    Raises:
        re.error: a pattern is not a valid regex.
    """
    if group.text == "folded":
        return rx(*entry.flat())
    return re.compile("|".join(entry.flat()), re.IGNORECASE)


def example_text(group: VocabGroup, example: str) -> str:
    """The text an entry's example is searched in: for folded groups, lowercase without
    accents, straight apostrophes and single spaces (not stripped, so an example may end
    with the space a pattern such as "as $" needs); for raw groups, the example as written."""
    if group.text == "raw":
        return example
    return re.sub(r"\s+", " ", strip_accents(example).casefold().replace("\u2019", "'"))


def _where(data: object, loc: tuple[int | str, ...]) -> str:
    """'group X', 'group X entry Y' for a pydantic error location inside a vocabulary file."""
    parts = []
    if len(loc) >= 2 and loc[0] == "groups":
        parts.append(f"group {loc[1]!r}")
        if len(loc) >= 4 and loc[2] == "entries" and isinstance(loc[3], int):
            entry_id: object = None
            if isinstance(data, dict):
                group = data.get("groups", {}).get(loc[1], {})
                entries = group.get("entries") if isinstance(group, dict) else None
                if isinstance(entries, list) and loc[3] < len(entries):
                    raw = entries[loc[3]]
                    entry_id = raw.get("id") if isinstance(raw, dict) else None
            name = repr(entry_id) if isinstance(entry_id, str) else f"{loc[3] + 1}"
            parts.append(f"entry {name}")
            rest = [str(x) for x in loc[4:] if not isinstance(x, int)]
        else:
            rest = [str(x) for x in loc[2:] if not isinstance(x, int)]
    else:
        rest = [str(x) for x in loc]
    where = " ".join(parts) or "file"
    return f"{where}: {'.'.join(rest)}" if rest else where


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    groups: dict[str, VocabGroup]


#: libyaml's parser where PyYAML was built with it (6x faster on our files), else PyYAML's.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, parsed by libyaml when available: the same safe constructor
    and resolver, so the same Python objects; 0.15 -> 0.03 s for the shipped vocabulary and
    checklist files, most of what a cold ``migralex tag`` spent on them.

    Raises:
        yaml.YAMLError: not valid YAML.
    """
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


def load_vocabulary_file(path: Path | Traversable) -> dict[str, VocabGroup]:
    """Read and validate one vocabulary file (no caching).

    Args:
        path: a file path or an :mod:`importlib.resources` traversable.

    Returns:
        Groups by id, in file order, each with ``source_file`` set.

    Raises:
        ValidationError: not valid YAML, unknown or missing keys, an unknown language, a bad
            regex, duplicate entry ids, or an example its entry does not match; the message
            names the file, the group and the entry.
    """
    source = str(path)
    try:
        data = safe_load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source}: not valid YAML: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("groups"), dict):
        data = {
            **data,
            "groups": {
                k: {**v, "id": k} if isinstance(v, dict) else v for k, v in data["groups"].items()
            },
        }
    try:
        parsed = _File.model_validate(data)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{_where(data, tuple(err['loc']))}: {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise ValidationError(f"{source}: {problems}") from exc
    groups: dict[str, VocabGroup] = {}
    for gid, group in parsed.groups.items():
        seen: set[str] = set()
        for entry in group.entries:
            where = f"{source}: group {gid!r} entry {entry.id!r}"
            if entry.id in seen:
                raise ValidationError(f"{where}: duplicate entry id")
            seen.add(entry.id)
            try:
                compiled = entry_regex(group, entry)
            except re.error as exc:
                raise ValidationError(f"{where}: bad regex: {exc}") from exc
            if not compiled.search(example_text(group, entry.example)):
                raise ValidationError(
                    f"{where}: the example {entry.example!r} is not matched by the patterns"
                )
        groups[gid] = group.model_copy(update={"source_file": source})
    return groups


def _files() -> list[Traversable]:
    folder = importlib.resources.files("migralex.nlp") / "vocab"
    return sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)


@functools.cache
def load_vocabulary() -> dict[str, VocabGroup]:
    """Every vocabulary group of the shipped files (``nlp/vocab/*.yaml``), by id; read once.

    Raises:
        ValidationError: a file is invalid (see :func:`load_vocabulary_file`) or two files
            define the same group id.
    """
    groups: dict[str, VocabGroup] = {}
    for path in _files():
        for gid, group in load_vocabulary_file(path).items():
            if gid in groups:
                raise ValidationError(
                    f"{path}: group {gid!r} is also defined in {groups[gid].source_file}"
                )
            groups[gid] = group
    return groups


def _group(name: str) -> VocabGroup:
    groups = load_vocabulary()
    if name not in groups:
        raise NotFoundError(
            f"unknown vocabulary group {name!r}; valid groups: {', '.join(sorted(groups))}"
        )
    return groups[name]


@functools.cache
def patterns(name: str) -> tuple[str, ...]:
    """The patterns of vocabulary group ``name``, in order (for regexes built around them).

    Raises:
        NotFoundError: no such group; the message lists the valid ones.
    """
    return _group(name).patterns()


@functools.cache
def regex(name: str) -> re.Pattern[str]:
    """The compiled regex of vocabulary group ``name`` (cached).

    Folded groups: :func:`migralex.nlp.text.rx` of the patterns (match folded text); raw
    groups: their ``|`` alternation, case-insensitive.

    Raises:
        NotFoundError: no such group; the message lists the valid ones.
    """
    group = _group(name)
    if group.text == "folded":
        return rx(*group.patterns())
    return re.compile("|".join(group.patterns()), re.IGNORECASE)
