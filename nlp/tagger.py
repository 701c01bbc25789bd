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
  heading (e.g. a bare "Exceptions" heading); ``"text"`` only the clause text; ``"context"`` only
  the headings of the enclosing divisions (``Clause.context``, e.g. the Part "Medical Care" of
  C102 or the chapter "Sickness and Maternity" of an agreement). ``"any"`` rules never see the
  context: a division heading is evidence only where a rule says so. A context match is tagged on
  the clause label where it opens the clause text, else as an empty span at offset 0.
* ``max_tokens``: the longest match of a token-pattern rule (default 30); wildcards are written
  ``{"LOWER": {"NOT_IN": [";", "."]}, "OP": "*"}`` so a match never crosses a sentence.
* ``negation``: what to do when a negation word ("not", "ne", "pas", "sin", "niet", ...) occurs in
  the match or in the few tokens before it, within its sentence: ``"keep"`` (default; the tag is
  kept with ``negated=True``), ``"drop"`` (a negation denies the statement: no tag) or
  ``"require"`` (the rule states a principle in negative form, e.g. "shall not be reduced ...
  by reason only of residence": only negated matches are tagged).
* ``negation_after``: how many tokens after the match (same sentence) are also searched for a
  negation word (default 0), for a rule whose words are denied after them ("the residence
  condition does not apply ...").
* ``example`` and ``counter_example``: sentences written for the tests (not corpus text): one
  the rule tags, and a near miss (a citation, a negated or unrelated use of the same words) that
  must not get the rule's tag. For a ``"heading"`` rule they are clause headings, for a
  ``"context"`` rule division headings.
* ``corpus_example``: ``{"doc": doc_id, "label": "Article 4"}``, a corpus clause the rule tags:
  the document id of the corpus manifest and the article label as printed (the first clause(s)
  with that label; an article split into paragraphs is several clauses).

The three example keys are checked for type only and never affect matching.

Lemmas come from ``spacy-lookups-data`` (lookup mode of spaCy's lemmatizer, applied to the
lower-cased token text and lower-cased), so ``LEMMA`` values in patterns are lower case. When a
language has no lookup table, the lemma falls back to the lower-cased token text.

Tagging is a pure function of its inputs: the same clauses give the same tags.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from migralex.corpus.errors import ValidationError
from migralex.corpus.models import TAG_NAMES as TAG_NAMES  # re-exported: the valid tag names
from migralex.corpus.models import Clause, Tag
from migralex.nlp.pattern_schema import MAX_TOKENS, PHRASE_ATTRS, validate_pattern_file

#: Languages with pattern files.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "nl")

#: Default longest match (tokens) of a token-pattern rule; wildcards ``{"OP": "*"}`` are cut here.
_MAX_TOKENS = MAX_TOKENS
_PHRASE_ATTRS = PHRASE_ATTRS

#: Negation words per language (lower case), looked up in the match and the tokens before it.
_NEGATION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"not", "no", "never", "without", "neither", "nor", "n't", "cannot"}),
    "fr": frozenset({"ne", "n'", "n’", "pas", "aucun", "aucune", "sans", "ni", "jamais"}),
    "es": frozenset({"no", "sin", "ningún", "ninguna", "ninguno", "nunca", "ni"}),
    "nl": frozenset({"niet", "geen", "nooit", "zonder", "noch", "niets", "geenszins"}),
}
#: Requirement tags dropped from a clause that also carries one of these tags: a clause that
#: removes a nationality or residence condition (equality of treatment, export of benefits) is
#: tagged with the principle, not with the requirement it lifts.
_SUPPRESSED_BY: dict[str, frozenset[str]] = {
    "nationality_requirement": frozenset({"equality_of_treatment", "export_of_benefits"}),
    "residence_requirement": frozenset({"equality_of_treatment", "export_of_benefits"}),
}
#: How many tokens before a match are searched for a negation word (same sentence only).
_NEGATION_WINDOW = 6
#: Longest text handed to spaCy in one piece (characters). spaCy refuses texts over its
#: ``max_length`` (1,000,000, error E088); a longer clause, such as an unstructured report
#: the segmenter could not split, is tagged piece by piece, each piece ending at a line or
#: sentence break where there is one.
PIECE_CHARS = 100_000

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
    "nl": (
        r"behoudens\b",
        r"onverminderd\b",
        r"tenzij\b",
        r"met\s+uitzondering\s+van",
        r"in\s+afwijking\s+van",
        r"niettegenstaande\b",
        r"onder\s+voorbehoud\s+van",
        r"uitgezonderd\b",
        r"behalve\b",
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
    negation_after: int
    source: str
    rationale: str
    file: str


@dataclass(slots=True)
class _Requirement:
    """A word a token pattern cannot match without: one of ``values`` or a ``regex`` match.

    Words are compared as spaCy string hashes of the lower-cased text (``column`` 0) or of the
    lemma (``column`` 1); regex results are cached per hash.
    """

    column: int
    values: frozenset[int] = frozenset()
    regex: re.Pattern[str] | None = None
    cache: dict[int, bool] = field(default_factory=dict)

    def hits(self, words: Iterable[int], strings: Any) -> AbstractSet[int]:
        """Return the hashes among ``words`` that satisfy this requirement."""
        if self.regex is None:
            return self.values.intersection(words)
        out: set[int] = set()
        for h in words:
            ok = self.cache.get(h)
            if ok is None:
                ok = self.cache[h] = bool(self.regex.search(strings[h]))
            if ok:
                out.add(h)
        return out


def _requirements(pattern: Sequence[dict[str, Any]], strings: Any) -> tuple[_Requirement, ...]:
    """Return the words a token pattern requires (tokens without an optional operator)."""
    reqs: list[_Requirement] = []
    for spec in pattern:
        if spec.get("OP") not in (None, "+", "1"):
            continue
        for column, attr in enumerate(("LOWER", "LEMMA")):
            value = spec.get(attr)
            if isinstance(value, str):
                reqs.append(_Requirement(column, frozenset({strings.add(value)})))
            elif isinstance(value, dict) and "IN" in value:
                reqs.append(_Requirement(column, frozenset(strings.add(v) for v in value["IN"])))
            elif isinstance(value, dict) and "REGEX" in value:
                reqs.append(_Requirement(column, regex=re.compile(value["REGEX"])))
    return tuple(reqs)


@dataclass(frozen=True, slots=True)
class _Match:
    tag: str
    rule: str
    start: int
    end: int
    exception: str
    negated: bool


#: The registered name of the rule-matching component (:class:`RuleMatcher`).
RULE_MATCHER = "migralex_rule_matcher_v1"
#: ``doc.spans`` key under which :class:`RuleMatcher` puts its raw matches (label = rule id).
MATCHES_KEY = "migralex_rules"


class RuleMatcher:
    """The spaCy component ``migralex_rule_matcher_v1``: the token and phrase patterns of one
    language's pattern files (:mod:`migralex.nlp.pattern_schema`), run on a doc whose lookup
    lemmas are set; every raw match goes into ``doc.spans["migralex_rules"]`` with its rule id
    as label. Scope, length, negation and exception checks are the tagger's
    (:meth:`_Pipeline.matches`), so the component is the patterns as data and nothing else.

    Built by the factory with ``config={"language": "en"}``: the files of
    ``nlp/patterns/<language>/`` are read and validated, and a bad pattern raises
    :class:`~migralex.corpus.errors.ValidationError` naming its file and rule.
    """

    def __init__(self, nlp: Any, language: str) -> None:
        from spacy.matcher import Matcher, PhraseMatcher

        self.nlp = nlp
        self.language = language
        self.rules: dict[str, _Rule] = {}
        self._matcher_cls = Matcher
        # One Matcher per token pattern, run only on docs holding every word it requires:
        # spaCy evaluates IN/REGEX predicates in Python, so skipping hopeless docs is the speed-up.
        self.token_matchers: list[tuple[Any, tuple[_Requirement, ...], int]] = []
        self.phrase_matchers = {attr: PhraseMatcher(nlp.vocab, attr=attr) for attr in _PHRASE_ATTRS}
        self._lemmas: Any = None
        for file, data in _rule_files(language):
            for rule in data["rules"]:
                self._add_rule(file, data["tag"], rule)

    def __call__(self, doc: Any) -> Any:
        """Put the raw rule matches of ``doc`` in ``doc.spans["migralex_rules"]``."""
        from spacy.attrs import LEMMA, LOWER
        from spacy.tokens import Span

        raw: list[tuple[int, int, int]] = []
        if len(doc):
            arr = doc.to_array([LOWER, LEMMA])
            raw = self._token_matches(doc, arr[:, 0].tolist(), arr[:, 1].tolist())
            for pm in self.phrase_matchers.values():
                if len(pm):
                    raw.extend(pm(doc))
        doc.spans[MATCHES_KEY] = [Span(doc, s, e, label=k) for k, s, e in sorted(set(raw))]
        return doc

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
            negation_after=rule.get("negation_after", 0),
            source=rule.get("source", ""),
            rationale=rule.get("rationale", ""),
            file=file,
        )
        if "patterns" in rule:
            for pattern in rule["patterns"]:
                matcher = self._matcher_cls(self.nlp.vocab, validate=True)
                try:
                    matcher.add(rid, [pattern])
                except Exception as exc:  # spaCy raises ValueError/MatchPatternError
                    raise ValidationError(
                        f"{file}: rule {rid!r}: bad token pattern: {exc}"
                    ) from exc
                reqs = _requirements(pattern, self.nlp.vocab.strings)
                self.token_matchers.append((matcher, reqs, self.rules[rid].max_tokens))
        else:
            attr = rule.get("attr", "LOWER")
            docs = [self._lemma_doc(p) for p in rule["phrases"]]
            self.phrase_matchers[attr].add(rid, docs)

    def _lemma_doc(self, text: str) -> Any:
        """``text`` as a doc with the lookup lemmas set (what phrase patterns are matched as)."""
        from migralex.nlp.spacy_components import LOOKUP_LEMMAS

        if self._lemmas is None:
            self._lemmas = self.nlp.get_pipe(LOOKUP_LEMMAS)
        return self._lemmas(self.nlp.make_doc(text))

    def _token_matches(
        self, doc: Any, lowers: list[int], lemmas: list[int]
    ) -> list[tuple[int, int, int]]:
        """Run each token pattern only where its rarest required word occurs.

        A match holds every required word and is at most ``max_tokens`` long, so it lies in the
        window of ``max_tokens`` tokens around an occurrence of that word; windows are merged.
        """
        columns = (lowers, lemmas)
        present = (set(lowers), set(lemmas))
        strings = self.nlp.vocab.strings
        n = len(doc)
        out: list[tuple[int, int, int]] = []
        for matcher, reqs, width in self.token_matchers:
            anchor: AbstractSet[int] | None = None
            anchor_col = 0
            for req in reqs:
                hits = req.hits(present[req.column], strings)
                if not hits:
                    break
                if anchor is None or len(hits) < len(anchor):
                    anchor, anchor_col = hits, req.column
            else:
                if anchor is None:
                    out.extend(matcher(doc))
                    continue
                windows: list[list[int]] = []
                for i, h in enumerate(columns[anchor_col]):
                    if h in anchor:
                        lo, hi = max(0, i - width), min(n, i + width + 1)
                        if windows and lo <= windows[-1][1]:
                            windows[-1][1] = hi
                        else:
                            windows.append([lo, hi])
                for lo, hi in windows:
                    out.extend((k, s + lo, e + lo) for k, s, e in matcher(doc[lo:hi]))
        return out


class _Pipeline:
    """One language: a blank spaCy pipeline (tokenizer ``migralex_on_demand_tokenizer_v1``) of
    registered components — the sentencizer, ``migralex_lookup_lemmas_v1``
    (:mod:`migralex.nlp.spacy_components`) and
    ``migralex_rule_matcher_v1`` (:class:`RuleMatcher`) — and the checks of scope, length,
    negation and exception that turn its raw matches into tags."""

    def __init__(self, language: str) -> None:
        from migralex.nlp.spacy_components import LOOKUP_LEMMAS, blank

        _register_rule_matcher()
        self.language = language
        nlp = blank(language)
        nlp.add_pipe("sentencizer")
        nlp.add_pipe(LOOKUP_LEMMAS)
        nlp.add_pipe(RULE_MATCHER, config={"language": language})
        nlp.initialize()
        self.nlp = nlp
        self.matcher: RuleMatcher = nlp.get_pipe(RULE_MATCHER)
        self.rules = self.matcher.rules
        self._negation_hashes = frozenset(
            nlp.vocab.strings.add(w) for w in _NEGATION_WORDS.get(language, frozenset())
        )
        self.exception_re = _exception_regex(_EXCEPTION_PHRASES.get(language, ()))
        self.has_context_rules = any(r.scope == "context" for r in self.rules.values())

    def docs(self, texts: Iterable[str]) -> Iterable[Any]:
        """Yield processed docs (sentences, lower-case lookup lemmas, raw rule matches)."""
        yield from self.nlp.pipe(texts, batch_size=64)

    def matches(self, doc: Any, scope: str) -> list[_Match]:
        """Return the rule matches of ``doc`` for rules applicable in ``scope``."""
        from spacy.attrs import LOWER, SENT_START

        if not len(doc):
            return []
        arr = doc.to_array([LOWER, SENT_START])
        lowers: list[int] = arr[:, 0].tolist()
        sent_starts = [i for i, v in enumerate(arr[:, 1].tolist()) if v == 1 or i == 0]
        raw = [(span.label_, span.start, span.end) for span in doc.spans[MATCHES_KEY]]
        out: list[_Match] = []
        for rid, start, end in sorted(raw, key=lambda m: (m[1], m[2], m[0])):
            rule = self.rules[rid]
            if rule.scope != scope and (rule.scope != "any" or scope == "context"):
                continue
            if end - start > rule.max_tokens:
                continue
            k = bisect.bisect_right(sent_starts, start) - 1
            sent_lo = sent_starts[k]
            sent_hi = sent_starts[k + 1] if k + 1 < len(sent_starts) else len(doc)
            lo = max(sent_lo, start - _NEGATION_WINDOW)
            hi = min(sent_hi, end + rule.negation_after)
            negated = any(h in self._negation_hashes for h in lowers[lo:hi])
            if rule.negation == "drop" and negated:
                continue
            if rule.negation == "require" and not negated:
                continue
            span = doc[start:end]
            out.append(
                _Match(
                    tag=rule.tag,
                    rule=rule.id,
                    start=span.start_char,
                    end=span.end_char,
                    exception=self.exception(doc[sent_lo:sent_hi].text),
                    negated=negated,
                )
            )
        return out

    def exception(self, text: str) -> str:
        """Return the qualifying phrase opening an exception in sentence ``text``, "" if none."""
        if self.exception_re is None:
            return ""
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


@functools.cache
def _register_rule_matcher() -> None:
    """Register the ``migralex_rule_matcher_v1`` factory with spaCy (once; spaCy is imported
    only when the first pipeline is built)."""
    from migralex.nlp.spacy_components import spacy

    if RULE_MATCHER not in spacy.registry.factories:

        def make(nlp: Any, name: str, language: str) -> RuleMatcher:
            return RuleMatcher(nlp, language or nlp.lang)

        spacy.language.Language.factory(RULE_MATCHER, default_config={"language": ""}, func=make)


def _exception_regex(phrases: Sequence[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    alts = "|".join(sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alts})", re.IGNORECASE)


def _patterns_dir() -> Path:
    return Path(str(resources.files("migralex.nlp").joinpath("patterns")))


def _validate_file(path: Path, language: str) -> dict[str, Any]:
    """Read pattern file ``path`` of folder ``language`` and check it against the schema
    (:mod:`migralex.nlp.pattern_schema`); returns the parsed JSON.

    Raises:
        ValidationError: unreadable JSON, or a file or rule the schema refuses.
    """
    name = f"{path.parent.name}/{path.name}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{name}: cannot read pattern file: {exc}") from exc
    validate_pattern_file(data, name, language, path.stem)
    return dict(data)


def rule_name(rule_id: str) -> str:
    """The language-independent name of a rule: the last part of its id
    ("administrative_arrangement" for "en.administrative_assistance.administrative_arrangement")."""
    return rule_id.rsplit(".", 1)[-1]


@functools.cache
def rule_names(tag: str) -> frozenset[str]:
    """Names of the rules of ``tag`` in any language: the last part of each rule id
    ("administrative_arrangement" for "en.administrative_assistance.administrative_arrangement").

    Raises:
        ValidationError: a pattern file is malformed.
    """
    names: set[str] = set()
    for folder in sorted(p for p in _patterns_dir().iterdir() if p.is_dir()):
        path = folder / f"{tag}.json"
        if path.is_file():
            data = _validate_file(path, folder.name)
            names.update(rule_name(rule["id"]) for rule in data["rules"])
    return frozenset(names)


def _rule_files(language: str) -> list[tuple[str, dict[str, Any]]]:
    """The validated pattern files of ``nlp/patterns/<language>/``: ``(name, data)`` sorted.

    Raises:
        ValidationError: a file the schema refuses.
    """
    folder = _patterns_dir() / language
    return [
        (f"{language}/{p.name}", _validate_file(p, language)) for p in sorted(folder.glob("*.json"))
    ]


@functools.cache
def _pipeline(language: str) -> _Pipeline:
    return _Pipeline(language)


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
    if any(len(c.text) > PIECE_CHARS for c in clauses):
        return _tag_in_pieces(clauses, language)
    pipe = _pipeline(language)
    headings = sorted({c.heading for c in clauses if c.heading.strip()})
    heading_matches = {
        h: pipe.matches(doc, "heading")
        for h, doc in zip(headings, pipe.docs(headings), strict=True)
    }
    contexts = sorted({h for c in clauses for h in c.context if h.strip()})
    context_matches = (
        {
            h: pipe.matches(doc, "context")
            for h, doc in zip(contexts, pipe.docs(contexts), strict=True)
        }
        if pipe.has_context_rules
        else {}
    )
    tags: list[Tag] = []
    for clause, doc in zip(clauses, pipe.docs(c.text for c in clauses), strict=True):
        found = pipe.matches(doc, "text")
        if clause.heading in heading_matches and heading_matches[clause.heading]:
            span = _heading_span(clause.heading, clause.text)
            if span is not None:
                hspan = doc.char_span(span[0], span[1], alignment_mode="expand")
                exception = pipe.exception(hspan.sent.text) if hspan is not None else ""
                found.extend(
                    _Match(m.tag, m.rule, span[0], span[1], exception, m.negated)
                    for m in heading_matches[clause.heading]
                )
        for ctx in clause.context:
            if context_matches.get(ctx):
                span = _heading_span(clause.label, clause.text[: len(clause.label) + 8]) or (0, 0)
                found.extend(
                    _Match(m.tag, m.rule, span[0], span[1], "", m.negated)
                    for m in context_matches[ctx]
                )
        present = {m.tag for m in found}
        found = [m for m in found if not (_SUPPRESSED_BY.get(m.tag, frozenset()) & present)]
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


def text_pieces(text: str, limit: int = PIECE_CHARS) -> list[tuple[int, int]]:
    """Split ``text`` into consecutive ``(start, end)`` character ranges of at most ``limit``.

    Each range but the last ends after the last line break in its final fifth, else after the
    last ". ", else after the last space, else at ``limit`` exactly. The ranges cover the text
    without gaps or overlap.

    Raises:
        ValueError: ``limit`` < 1.
    """
    if limit < 1:
        raise ValueError(f"piece limit {limit}: must be >= 1")
    out: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > limit:
        hard = start + limit
        floor = start + (limit * 4) // 5
        cut = -1
        for sep in ("\n", ". ", " "):
            at = text.rfind(sep, floor, hard)
            if at >= 0:
                cut = at + len(sep)
                break
        end = cut if cut > start else hard
        out.append((start, end))
        start = end
    out.append((start, len(text)))
    return out


def _tag_in_pieces(clauses: Sequence[Clause], language: str) -> list[Tag]:
    """:func:`tag_clauses` for clauses of which some exceed :data:`PIECE_CHARS`: each long
    clause is tagged as consecutive pieces (:func:`text_pieces`; heading and context go with
    the first), and the tags' offsets are moved back into the whole clause's text."""
    tags: list[Tag] = []
    for clause in clauses:
        if len(clause.text) <= PIECE_CHARS:
            tags.extend(tag_clauses([clause], language))
            continue
        for i, (lo, hi) in enumerate(text_pieces(clause.text)):
            piece = replace(
                clause,
                text=clause.text[lo:hi],
                start=clause.start + lo,
                end=clause.start + hi,
                heading=clause.heading if i == 0 else "",
                context=clause.context if i == 0 else (),
            )
            tags.extend(
                replace(t, start=t.start + lo, end=t.end + lo)
                for t in tag_clauses([piece], language)
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
