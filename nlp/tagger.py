"""The clause tagger: spaCy rule patterns (data files) that tag clauses with DESIGN.md tag names.

Patterns live in ``nlp/patterns/<lang>/<tag>.json``, one file per tag and language::

    {"tag": "export_of_benefits", "language": "en",
     "rules": [{"id": "en.export_of_benefits.not_reduced_by_residence",
                "rationale": "one line", "source": "C118 Art. 5",
                "patterns": [[{"LEMMA": "reduction"}, ...]]}]}

A rule holds either ``patterns`` (spaCy :class:`~spacy.matcher.Matcher` token patterns) or
``phrases`` (strings for a :class:`~spacy.matcher.PhraseMatcher`, compared on ``attr``:
``"LEMMA"`` or ``"LOWER"``, default ``"LOWER"``). Optional keys:

* ``scope``: ``"any"`` (default) matches the clause text and its heading; ``"heading"`` only the
  heading (e.g. a bare "Exceptions" heading); ``"text"`` only the clause text.
* ``negation``: what to do when a negation word ("not", "no", "ne", "pas", "sin", ...) occurs in
  the match or in the few tokens before it, within its sentence: ``"keep"`` (default; the tag is
  kept with ``negated=True``), ``"drop"`` (a negation denies the statement: no tag) or
  ``"require"`` (the rule states a principle in negative form, e.g. "shall not be reduced ...
  by reason only of residence": only negated matches are tagged).

Lemmas come from ``spacy-lookups-data`` (lookup mode of spaCy's lemmatizer, applied to the
lower-cased token text and lower-cased), so ``LEMMA`` values in patterns are lower case. When a
language has no lookup table, the lemma falls back to the lower-cased token text.

Tagging is a pure function of its inputs: the same clauses give the same tags.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from migralex.corpus.errors import ValidationError
from migralex.corpus.models import Clause, Tag

#: Every tag name of DESIGN.md "Tag names", in that order.
TAG_NAMES: tuple[str, ...] = (
    "equality_of_treatment",
    "export_of_benefits",
    "totalisation",
    "applicable_legislation",
    "administrative_assistance",
    "data_protection",
    "dispute_settlement",
    "claims_and_appeals",
    "nationality_requirement",
    "residence_requirement",
    "irregular_status",
    "recruitment",
    "recruitment_costs",
    "employment_contract",
    "wages_and_conditions",
    "remittances",
    "family_reunification",
    "return_and_reintegration",
    "complaint_mechanism",
    "joint_committee",
    "information_exchange",
    "gender",
    "branch_medical_care",
    "branch_sickness",
    "branch_unemployment",
    "branch_old_age",
    "branch_employment_injury",
    "branch_family",
    "branch_maternity",
    "branch_invalidity",
    "branch_survivors",
)

#: Languages with pattern files.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr", "es")

_RULE_KEYS = frozenset(
    {"id", "rationale", "source", "patterns", "phrases", "attr", "scope", "negation", "max_tokens"}
)
#: Default longest match (tokens) of a token-pattern rule; wildcards ``{"OP": "*"}`` are cut here.
_MAX_TOKENS = 30
_FILE_KEYS = frozenset({"tag", "language", "rules"})
_SCOPES = ("any", "heading", "text")
_NEGATIONS = ("keep", "drop", "require")
_PHRASE_ATTRS = ("LOWER", "LEMMA")

#: Negation words per language (lower case), looked up in the match and the tokens before it.
_NEGATION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"not", "no", "never", "without", "neither", "nor", "n't", "cannot"}),
    "fr": frozenset({"ne", "n'", "n’", "pas", "aucun", "aucune", "sans", "ni", "jamais"}),
    "es": frozenset({"no", "sin", "ningún", "ninguna", "ninguno", "nunca", "ni"}),
}
#: How many tokens before a match are searched for a negation word (same sentence only).
_NEGATION_WINDOW = 6

#: Qualifying phrases that open an exception ("subject to Article 7", "unless otherwise ..."),
#: as regular expressions (case-insensitive, white space is ``\\s+``).
_SUBJECT_TO_OBJECTS = (
    r"(?:the\s+(?:provisions|terms|conditions|exceptions|limitations|restrictions)|this|these|"
    r"articles?|paragraphs?|sub-?paragraphs?|sub-?sections?|sections?|chapter|part|"
    r"any\s+(?:other\s+)?provisions?)"
)
_EXCEPTION_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        rf"subject\s+to\s+{_SUBJECT_TO_OBJECTS}",
        r"notwithstanding\b",
        r"except\b",
        r"unless\b",
        r"save\s+as",
        r"save\s+where",
        r"with\s+the\s+exception\s+of",
    ),
    "fr": (
        r"sous\s+r[ée]serve\s+d",
        r"sauf\b",
        r"[àa]\s+moins\s+qu",
        r"nonobstant\b",
        r"par\s+d[ée]rogation",
        r"[àa]\s+l['’]exception",
        r"except[ée]e?s?\b",
    ),
    "es": (
        r"salvo\b",
        r"a\s+menos\s+que",
        r"sin\s+perjuicio\s+de",
        r"no\s+obstante",
        r"excepto\b",
        r"con\s+excepci[óo]n\s+de",
        r"a\s+excepci[óo]n\s+de",
    ),
}
_EXCEPTION_MAX_CHARS = 80
_EXCEPTION_STOP = re.compile(r"[,;:.\n]")


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    tag: str
    scope: str
    negation: str
    max_tokens: int
    source: str
    rationale: str
    file: str


@dataclass(frozen=True, slots=True)
class _Match:
    tag: str
    rule: str
    start: int
    end: int
    exception: str
    negated: bool


class _Pipeline:
    """One language: a blank spaCy pipeline, its lemma table, matchers and rules."""

    def __init__(self, language: str, rule_files: Sequence[tuple[str, dict[str, Any]]]) -> None:
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher

        self.language = language
        nlp = spacy.blank(language)
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.add_pipe("sentencizer")
        nlp.initialize()
        table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup", {})  # type: ignore[attr-defined]
        self._lemmas: dict[str, str] = {str(k): str(v).lower() for k, v in dict(table).items()}
        # Lemmas are set here from the lower-cased text (the spaCy lookup is case-sensitive).
        nlp.remove_pipe("lemmatizer")
        self.nlp = nlp
        self.negations = _NEGATION_WORDS.get(language, frozenset())
        self.exception_re = _exception_regex(_EXCEPTION_PHRASES.get(language, ()))
        self.rules: dict[str, _Rule] = {}
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.phrase_matchers = {attr: PhraseMatcher(nlp.vocab, attr=attr) for attr in _PHRASE_ATTRS}
        for file, data in rule_files:
            for rule in data["rules"]:
                self._add_rule(file, data["tag"], rule)

    def _add_rule(self, file: str, tag: str, rule: dict[str, Any]) -> None:
        rid = rule["id"]
        if rid in self.rules:
            raise ValidationError(
                f"{file}: duplicate rule id {rid!r} (also in {self.rules[rid].file})"
            )
        self.rules[rid] = _Rule(
            id=rid,
            tag=tag,
            scope=rule.get("scope", "any"),
            negation=rule.get("negation", "keep"),
            max_tokens=rule.get("max_tokens", _MAX_TOKENS),
            source=rule.get("source", ""),
            rationale=rule.get("rationale", ""),
            file=file,
        )
        if "patterns" in rule:
            try:
                self.matcher.add(rid, rule["patterns"])
            except Exception as exc:  # spaCy raises ValueError/MatchPatternError
                raise ValidationError(f"{file}: rule {rid!r}: bad token pattern: {exc}") from exc
        else:
            attr = rule.get("attr", "LOWER")
            docs = [self._lemmatize(self.nlp.make_doc(p)) for p in rule["phrases"]]
            self.phrase_matchers[attr].add(rid, docs)

    def _lemmatize(self, doc: Any) -> Any:
        lemmas = self._lemmas
        for tok in doc:
            low = tok.lower_
            tok.lemma_ = lemmas.get(low, low)
        return doc

    def docs(self, texts: Iterable[str]) -> Iterable[Any]:
        """Yield processed docs (sentences and lower-case lookup lemmas) for ``texts``."""
        for doc in self.nlp.pipe(texts, batch_size=64):
            yield self._lemmatize(doc)

    def matches(self, doc: Any, scope: str) -> list[_Match]:
        """Return the rule matches of ``doc`` for rules applicable in ``scope``."""
        vocab = self.nlp.vocab
        raw: list[tuple[int, int, int]] = list(self.matcher(doc))
        for pm in self.phrase_matchers.values():
            if len(pm):
                raw.extend(pm(doc))
        out: list[_Match] = []
        for key, start, end in sorted(set(raw), key=lambda m: (m[1], m[2], vocab.strings[m[0]])):
            rule = self.rules[vocab.strings[key]]
            if rule.scope not in ("any", scope) or end - start > rule.max_tokens:
                continue
            span = doc[start:end]
            negated = self._negated(doc, start, end)
            if rule.negation == "drop" and negated:
                continue
            if rule.negation == "require" and not negated:
                continue
            out.append(
                _Match(
                    tag=rule.tag,
                    rule=rule.id,
                    start=span.start_char,
                    end=span.end_char,
                    exception=self.exception(span),
                    negated=negated,
                )
            )
        return out

    def _negated(self, doc: Any, start: int, end: int) -> bool:
        sent_start = doc[start].sent.start
        lo = max(sent_start, start - _NEGATION_WINDOW)
        return any(tok.lower_ in self.negations for tok in doc[lo:end])

    def exception(self, span: Any) -> str:
        """Return the qualifying phrase of the sentence of ``span``, "" if none."""
        if self.exception_re is None:
            return ""
        sent = span.sent
        text = sent.text
        m = self.exception_re.search(text)
        if m is None:
            return ""
        stop = _EXCEPTION_STOP.search(text, m.end())
        end = stop.start() if stop else len(text)
        end = min(end, m.start() + _EXCEPTION_MAX_CHARS)
        if end < len(text) and end - m.start() == _EXCEPTION_MAX_CHARS:
            cut = text.rfind(" ", m.end(), end)
            end = cut if cut > m.end() else end
        return " ".join(text[m.start() : end].split())


def _exception_regex(phrases: Sequence[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    alts = "|".join(sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alts})", re.IGNORECASE)


def _patterns_dir() -> Path:
    return Path(str(resources.files("migralex.nlp").joinpath("patterns")))


def _validate_file(path: Path, language: str) -> dict[str, Any]:
    name = f"{path.parent.name}/{path.name}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{name}: cannot read pattern file: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"{name}: a pattern file must hold a JSON object")
    unknown = set(data) - _FILE_KEYS
    if unknown or not _FILE_KEYS <= set(data):
        raise ValidationError(
            f"{name}: keys must be {sorted(_FILE_KEYS)}; unknown {sorted(unknown)}, "
            f"missing {sorted(_FILE_KEYS - set(data))}"
        )
    tag = data["tag"]
    if tag not in TAG_NAMES:
        raise ValidationError(f"{name}: unknown tag {tag!r}; valid tags: {', '.join(TAG_NAMES)}")
    if path.stem != tag:
        raise ValidationError(f"{name}: file name must be the tag name {tag!r}.json")
    if data["language"] != language:
        raise ValidationError(f"{name}: language {data['language']!r} != folder {language!r}")
    if not isinstance(data["rules"], list) or not data["rules"]:
        raise ValidationError(f"{name}: 'rules' must be a non-empty list")
    for i, rule in enumerate(data["rules"]):
        where = f"{name}: rule {i} ({rule.get('id', '?') if isinstance(rule, dict) else '?'})"
        if not isinstance(rule, dict):
            raise ValidationError(f"{where}: a rule must be an object")
        unknown = set(rule) - _RULE_KEYS
        if unknown:
            raise ValidationError(
                f"{where}: unknown keys {sorted(unknown)}; valid keys: {sorted(_RULE_KEYS)}"
            )
        rid = rule.get("id")
        if not isinstance(rid, str) or not rid.startswith(f"{language}.{tag}."):
            raise ValidationError(f"{where}: id must be a string starting with '{language}.{tag}.'")
        if ("patterns" in rule) == ("phrases" in rule):
            raise ValidationError(f"{where}: give exactly one of 'patterns' or 'phrases'")
        body = rule.get("patterns", rule.get("phrases"))
        if not isinstance(body, list) or not body:
            raise ValidationError(f"{where}: 'patterns'/'phrases' must be a non-empty list")
        if "phrases" in rule and not all(isinstance(p, str) and p.strip() for p in body):
            raise ValidationError(f"{where}: 'phrases' must be non-empty strings")
        if "attr" in rule and ("phrases" not in rule or rule["attr"] not in _PHRASE_ATTRS):
            raise ValidationError(f"{where}: 'attr' is for phrases, one of {_PHRASE_ATTRS}")
        if rule.get("scope", "any") not in _SCOPES:
            raise ValidationError(f"{where}: 'scope' must be one of {_SCOPES}")
        mt = rule.get("max_tokens", _MAX_TOKENS)
        if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
            raise ValidationError(f"{where}: 'max_tokens' must be a positive integer")
        if rule.get("negation", "keep") not in _NEGATIONS:
            raise ValidationError(f"{where}: 'negation' must be one of {_NEGATIONS}")
    return data


@functools.cache
def _pipeline(language: str) -> _Pipeline:
    folder = _patterns_dir() / language
    files = sorted(folder.glob("*.json"))
    loaded = [(f"{language}/{p.name}", _validate_file(p, language)) for p in files]
    return _Pipeline(language, loaded)


def _heading_span(heading: str, text: str) -> tuple[int, int] | None:
    """Return where ``heading`` occurs in ``text`` (white space and case insensitive)."""
    words = heading.split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), text, re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def _dedupe(matches: Iterable[_Match]) -> list[_Match]:
    """Keep at most one match per tag name and overlapping span (longest first, then earliest)."""
    kept: list[_Match] = []
    order = sorted(matches, key=lambda m: (m.tag, -(m.end - m.start), m.start, m.rule))
    for m in order:
        if any(k.tag == m.tag and k.start < m.end and m.start < k.end for k in kept):
            continue
        kept.append(m)
    return sorted(kept, key=lambda m: (m.start, m.tag, m.end, m.rule))


def tag_clauses(clauses: Sequence[Clause], language: str) -> list[Tag]:
    """Tag clauses with the rule patterns of ``language``.

    Rules are the JSON files under ``nlp/patterns/<language>/``; each encodes a coordination
    principle or topic with its source where one exists (ILO C102 branches; C118 Art. 3 and
    C97 Art. 6 equality of treatment; C118 Art. 5 and C157 Art. 9 export of benefits; C157
    Art. 5-6 applicable legislation; C157 Art. 7 and C48 totalisation; C157 Art. 13-14
    administrative assistance). The clause heading counts as evidence: a heading match is
    tagged on the heading's occurrence inside the clause text, and skipped if the heading does
    not occur there.

    Args:
        clauses: clauses in document order (any number, any documents).
        language: ISO 639-1 code of the clause texts; one of :data:`SUPPORTED_LANGUAGES`,
            otherwise no tags are returned.

    Returns:
        Tags sorted by clause order, then start offset, then name. ``start``/``end`` are 0-based,
        end-exclusive character offsets into ``clause.text`` and ``tag.text ==
        clause.text[start:end]``. At most one tag per name and overlapping span. ``exception``
        holds a qualifying phrase of the sentence ("subject to ...", "sous réserve de ...");
        ``negated`` is True when a negation word sits in or just before the match.
    """
    if language not in SUPPORTED_LANGUAGES or not clauses:
        return []
    pipe = _pipeline(language)
    headings = sorted({c.heading for c in clauses if c.heading.strip()})
    heading_matches = {
        h: pipe.matches(doc, "heading")
        for h, doc in zip(headings, pipe.docs(headings), strict=True)
    }
    tags: list[Tag] = []
    for clause, doc in zip(clauses, pipe.docs(c.text for c in clauses), strict=True):
        found = pipe.matches(doc, "text")
        if clause.heading in heading_matches and heading_matches[clause.heading]:
            span = _heading_span(clause.heading, clause.text)
            if span is not None:
                hspan = doc.char_span(span[0], span[1], alignment_mode="expand")
                exception = pipe.exception(hspan) if hspan is not None else ""
                found.extend(
                    _Match(m.tag, m.rule, span[0], span[1], exception, m.negated)
                    for m in heading_matches[clause.heading]
                )
        for m in _dedupe(found):
            tags.append(
                Tag(
                    clause_id=clause.clause_id,
                    name=m.tag,
                    start=m.start,
                    end=m.end,
                    text=clause.text[m.start : m.end],
                    rule=m.rule,
                    exception=m.exception,
                    negated=m.negated,
                )
            )
    return tags


def tag_text(text: str, language: str, clause_id: str = "") -> list[Tag]:
    """Tag a bare text as one clause without heading.

    Args:
        text: the text.
        language: ISO 639-1 code; unsupported languages give ``[]``.
        clause_id: the ``clause_id`` put on the tags.

    Returns:
        As :func:`tag_clauses`: tags sorted by start offset then name, offsets 0-based and
        end-exclusive into ``text``.
    """
    clause = Clause(
        clause_id=clause_id,
        doc_id="text",
        ordinal=0,
        label="",
        heading="",
        path=(),
        text=text,
        start=0,
        end=len(text),
        page_start=1,
        page_end=1,
        language=language,
    )
    return tag_clauses([clause], language)
