"""The schema of the tagger's pattern files (``nlp/patterns/<lang>/<tag>.json``) as pydantic
models: one place that says which keys a file and a rule take, with which types and values
(the meaning of each key: :mod:`migralex.nlp.tagger`).

:func:`validate_pattern_file` checks a file's parsed JSON and raises
:class:`~migralex.corpus.errors.ValidationError` with one message naming the file, the rule (its
position and id) and what the key must be, e.g. ``en/gender.json: rule 0 (en.gender.a):
'negation_after' must be a non-negative integer``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from migralex.corpus.errors import ValidationError
from migralex.corpus.models import TAG_NAMES

#: Default longest match (tokens) of a token-pattern rule.
MAX_TOKENS = 30
SCOPES = ("any", "heading", "text", "context")
NEGATIONS = ("keep", "drop", "require")
PHRASE_ATTRS = ("LOWER", "LEMMA")

NonBlank = Annotated[str, Field(min_length=1, pattern=r"\S")]


class CorpusExample(BaseModel):
    """A corpus clause a rule tags: the manifest's document id and the article label as
    printed."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    doc: NonBlank
    label: NonBlank


class PatternRule(BaseModel):
    """One rule of a pattern file (keys: :mod:`migralex.nlp.tagger`)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    id: str
    rationale: str = ""
    source: str = ""
    patterns: Annotated[list[list[dict[str, Any]]], Field(min_length=1)] | None = None
    phrases: Annotated[list[NonBlank], Field(min_length=1)] | None = None
    attr: Literal["LOWER", "LEMMA"] | None = None
    scope: Literal["any", "heading", "text", "context"] = "any"
    negation: Literal["keep", "drop", "require"] = "keep"
    max_tokens: Annotated[int, Field(ge=1)] = MAX_TOKENS
    negation_after: Annotated[int, Field(ge=0)] = 0
    example: NonBlank | None = None
    counter_example: NonBlank | None = None
    corpus_example: CorpusExample | None = None

    @model_validator(mode="after")
    def _one_body(self, info: ValidationInfo) -> PatternRule:
        prefix = (info.context or {}).get("prefix", "")
        if not self.id.startswith(prefix):
            raise ValueError(f"id must be a string starting with '{prefix}'")
        if (self.patterns is None) == (self.phrases is None):
            raise ValueError("give exactly one of 'patterns' or 'phrases'")
        if self.attr is not None and self.phrases is None:
            raise ValueError(f"'attr' is for phrases, one of {PHRASE_ATTRS}")
        return self


class PatternFile(BaseModel):
    """A pattern file: one tag in one language, with its rules."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    tag: str
    language: str
    rules: Annotated[list[PatternRule], Field(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def _header(cls, data: Any, info: ValidationInfo) -> Any:
        ctx = info.context or {}
        if not isinstance(data, dict):
            raise ValueError("a pattern file must hold a JSON object")
        tag, language = data.get("tag"), data.get("language")
        if tag not in TAG_NAMES:
            raise ValueError(f"unknown tag {tag!r}; valid tags: {', '.join(TAG_NAMES)}")
        if ctx.get("stem") is not None and ctx["stem"] != tag:
            raise ValueError(f"file name must be the tag name {tag!r}.json")
        if ctx.get("language") is not None and language != ctx["language"]:
            raise ValueError(f"language {language!r} != folder {ctx['language']!r}")
        return data


#: What a key must be, for the messages.
_EXPECT = {
    "id": "a string",
    "rationale": "a string",
    "source": "a string",
    "patterns": "a non-empty list of token patterns (lists of objects)",
    "phrases": "a non-empty list of non-empty strings",
    "attr": f"one of {PHRASE_ATTRS} ('attr' is for phrases)",
    "scope": f"one of {SCOPES}",
    "negation": f"one of {NEGATIONS}",
    "max_tokens": "a positive integer",
    "negation_after": "a non-negative integer",
    "example": "a non-empty string",
    "counter_example": "a non-empty string",
    "corpus_example": "an object with non-empty string keys ['doc', 'label']",
    "rules": "a non-empty list",
    "tag": "a tag name",
    "language": "a language code",
}
_RULE_KEYS = sorted(PatternRule.model_fields)
_FILE_KEYS = sorted(PatternFile.model_fields)


def _message(err: Any, data: Any) -> str:
    """One pydantic error as ``where: what`` (``where`` names the rule)."""
    loc = tuple(err["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules") if isinstance(data, dict) else None
        rule = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
        rid = rule.get("id", "?") if isinstance(rule, dict) else "?"
        where, loc = f"rule {loc[1]} ({rid}): ", loc[2:]
    if err["type"] == "value_error":
        return where + str(err["ctx"]["error"])
    if not loc:
        return where + ("a rule must be an object" if where else err["msg"])
    key = str(loc[0])
    if len(loc) == 1 and err["type"] == "extra_forbidden":
        valid = _RULE_KEYS if where else _FILE_KEYS
        return f"{where}unknown keys [{key!r}]; valid keys: {valid}"
    if len(loc) == 1 and err["type"] == "missing":
        return f"{where}missing key {key!r}"
    return f"{where}{key!r} must be {_EXPECT.get(key, err['msg'])}"


def validate_pattern_file(data: Any, name: str, language: str, stem: str) -> PatternFile:
    """Check the parsed JSON of pattern file ``name`` (``"en/gender.json"``).

    Args:
        data: ``json.loads`` of the file.
        name: ``<language>/<file>`` for the messages.
        language: the folder's language: the file's ``language`` and every rule id's prefix.
        stem: the file name without ``.json``: must be the tag.

    Returns:
        The validated file.

    Raises:
        ValidationError: ``name: [rule i (id): ]what is wrong`` for the first problem.
    """
    tag = data.get("tag") if isinstance(data, dict) else None
    ctx = {"language": language, "stem": stem, "prefix": f"{language}.{tag}."}
    try:
        return PatternFile.model_validate(data, context=ctx)
    except pydantic.ValidationError as exc:
        raise ValidationError(f"{name}: {_message(exc.errors()[0], data)}") from exc
