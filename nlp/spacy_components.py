"""migralex's spaCy components, registered under versioned factory names.

* ``migralex_lookup_lemmas_v1`` — every token's lemma is the lookup lemma (``spacy-lookups-data``,
  offline) of its lower-cased text, lower-cased; without a lookup table for the language the
  lemma is the lower-cased text. spaCy's own lookup lemmatizer is case-sensitive, so "Benefits"
  at a sentence start would keep its form; the tagger's patterns write ``LEMMA`` values in
  lower case (:mod:`migralex.nlp.tagger`). The table is read from a SQLite copy in the user's
  cache folder, only for the forms a document holds (:class:`LemmaTable`).
* ``migralex_on_demand_tokenizer_v1`` (a tokenizer) — spaCy's tokenizer of the language with its
  exceptions added when a text first contains them; it tokenizes as spaCy's default one
  (:class:`OnDemandSpecialCases`). :func:`blank` builds a blank pipeline with it.

Importing this module imports spaCy (through :func:`~migralex.nlp.spacy_import.import_spacy`,
without torch); the tagger imports it when it builds its first pipeline. Use::

    nlp = blank("en")
    nlp.add_pipe("migralex_lookup_lemmas_v1")
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from migralex.nlp.spacy_import import import_spacy, memoized_charsets

spacy = import_spacy()
from spacy.attrs import LEMMA, LOWER  # noqa: E402 - after the torch-free import of spaCy
from spacy.language import Language  # noqa: E402
from spacy.tokens import Doc  # noqa: E402
from spacy.vocab import Vocab  # noqa: E402

LOOKUP_LEMMAS = "migralex_lookup_lemmas_v1"
LOGGER = logging.getLogger(__name__)


_CHUNK = 900  # SQLite's default limit on bound parameters is 999


def _lookup_source(language: str) -> Path | None:
    """The ``lemma_lookup`` file ``spacy-lookups-data`` registers for ``language``, or None."""
    from spacy.util import registry

    if language not in registry.lookups:
        return None
    data = registry.lookups.get(language)
    if "lemma_lookup" not in data:
        return None
    return Path(data["lemma_lookup"])


def lemma_cache_file(language: str, source: Path) -> Path:
    """Return the path of ``language``'s lemma cache (SQLite, one table ``lemmas``).

    The name carries a digest of spacy-lookups-data's version and the source file's size and
    modification time, so an upgraded package never reads a stale cache.
    """
    import importlib.metadata

    from migralex.corpus.settings import default_cache_dir
    from migralex.nlp.language import CACHE_ENV

    folder = os.environ.get(CACHE_ENV) or default_cache_dir()
    gz = source.with_name(source.name + ".gz")  # the package names the JSON, ships it gzipped
    stat = (source if source.is_file() or not gz.is_file() else gz).stat()
    key = "|".join(
        (
            importlib.metadata.version("spacy-lookups-data"),
            str(source),
            str(stat.st_size),
            str(stat.st_mtime_ns),
        )
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(folder) / f"lemmas-{language}-{digest}.sqlite"


def _first_lemma(form: str, value: Any) -> str:
    """A table value as one lemma: some tables list several (the first counts), none is the
    form itself."""
    if isinstance(value, list | tuple):
        return str(value[0]) if value else form
    return str(value)


def _write_lemma_cache(path: Path, data: Mapping[str, Any]) -> bool:
    """Write ``data`` (form -> lemma or lemmas) to the SQLite file ``path``, atomically (a
    temporary file renamed into place). Returns False, after logging, when the folder cannot
    be written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        with contextlib.closing(sqlite3.connect(tmp)) as conn, conn:
            conn.execute(
                "CREATE TABLE lemmas (form TEXT PRIMARY KEY, lemma TEXT NOT NULL) WITHOUT ROWID"
            )
            conn.executemany(
                "INSERT INTO lemmas VALUES (?, ?)",
                ((form, _first_lemma(form, v)) for form, v in data.items()),
            )
        os.replace(tmp, path)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        LOGGER.info("lemma cache not written to %s: %s", path, exc)
        return False
    return True


class LemmaTable:
    """A ``lemma_lookup`` table of ``spacy-lookups-data``, read on demand.

    Parsing a table's gzipped JSON takes 0.1-0.6 s (es: 491,547 forms), most of a cold
    ``migralex tag``; the first use therefore copies it into a SQLite file in the user's cache
    folder (:func:`lemma_cache_file`) and later processes query only the forms a document
    holds. Where the folder cannot be written, the parsed table is kept in memory instead.
    Safe across ``fork``: each process opens its own read-only connection.

    Args:
        language: ISO 639-1 code; a language without a table gives no lemmas.
    """

    def __init__(self, language: str) -> None:
        self.language = language
        self._source = _lookup_source(language)
        self._path: Path | None = None
        self._memory: dict[str, str] | None = None
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        if self._source is None:
            self._memory = {}
            return
        path = lemma_cache_file(language, self._source)
        if path.is_file() and self._readable(path):
            self._path = path
            return
        data = self._load(self._source)
        if _write_lemma_cache(path, data):
            self._path = path
        else:
            self._memory = {f: _first_lemma(f, v) for f, v in data.items()}

    def _readable(self, path: Path) -> bool:
        """Whether ``path`` is a lemma cache SQLite can read (a damaged one is rebuilt)."""
        self._path = path
        try:
            self._connection().execute("SELECT form, lemma FROM lemmas LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            LOGGER.debug("lemma cache %s unreadable (%s); rebuilding", path, exc)
            self._conn, self._path = None, None
            return False
        return True

    @staticmethod
    def _load(source: Path) -> Mapping[str, Any]:
        from spacy.util import load_language_data

        data = load_language_data(source)
        if not isinstance(data, dict):
            raise TypeError(f"{source}: a lemma_lookup table must be a JSON object")
        return data

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            uri = f"{self._path.as_uri()}?mode=ro"  # type: ignore[union-attr]
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._pid = os.getpid()
        return self._conn

    def lookup(self, forms: Iterable[str]) -> dict[str, str]:
        """Return form -> lemma for those of ``forms`` the table holds (others are left out).

        Raises:
            sqlite3.DatabaseError: the cache file was damaged after it was opened.
        """
        wanted = list(dict.fromkeys(forms))
        if self._memory is not None:
            return {f: self._memory[f] for f in wanted if f in self._memory}
        conn, out = self._connection(), dict[str, str]()
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            out.update(
                conn.execute(f"SELECT form, lemma FROM lemmas WHERE form IN ({marks})", chunk)
            )
        return out


@functools.cache
def lemma_table(language: str) -> LemmaTable:
    """The lookup-lemma table of ``language`` (one per process; see :class:`LemmaTable`)."""
    return LemmaTable(language)


class LookupLemmas:
    """The ``migralex_lookup_lemmas_v1`` component (see the module docstring).

    Args:
        vocab: the pipeline's vocabulary (its string store holds the lemmas).
        table: the language's lookup lemmas (:func:`lemma_table`).
    """

    def __init__(self, vocab: Vocab, table: LemmaTable) -> None:
        self.vocab = vocab
        self.table = table
        # lemmas cached by the hash of the lower-cased text
        self._cache: dict[int, int] = {}

    def __call__(self, doc: Doc) -> Doc:
        """Set the lemmas of ``doc`` in place; returns ``doc``."""
        if len(doc):
            cache, table, strings = self._cache, self.table, self.vocab.strings
            lowers = doc.to_array([LOWER]).tolist()
            new = {h: strings[h] for h in set(lowers).difference(cache)}
            found = table.lookup(new.values()) if new else {}
            for h, low in new.items():
                cache[h] = strings.add(found.get(low, low).lower())
            lemmas = np.array([cache[h] for h in lowers], dtype="uint64")
            doc.from_array([LEMMA], lemmas.reshape(-1, 1))  # type: ignore[arg-type]  # uint64 hashes
        return doc


#: Registered name of the tokenizer factory (``[nlp.tokenizer] @tokenizers = ...``).
ON_DEMAND_TOKENIZER = "migralex_on_demand_tokenizer_v1"
_GRAM = 3
#: Distinct white-space-delimited chunks :class:`OnDemandSpecialCases` remembers as seen.
SEEN_CHUNKS_MAX = 500_000


def _indexable(key: str) -> bool:
    """Whether an exception is found through the chunk index (long enough, no white space)."""
    return len(key) >= _GRAM and not any(ch.isspace() for ch in key)


class OnDemandSpecialCases:
    """spaCy's rule-based tokenizer whose special cases (tokenizer exceptions) are added the
    first time a text contains them.

    A language's exceptions are many (nl: 4,670) and adding each builds lexemes and phrase
    patterns: 0.3-0.5 s of every cold pipeline on 2 cores, for the few a document holds. A
    special case applies only where its string occurs verbatim in the text (the tokenizer looks
    it up by the exact span, or by the exact text of a matched token span), so adding, before
    each text, the exceptions that occur in it tokenizes every text as the full tokenizer does.
    An exception without white space lies inside one white-space-delimited chunk of the text,
    so only chunks never seen before are looked at: the exceptions are indexed by their first
    three characters and checked against the three-character substrings of the new chunks (a
    seen chunk had its exceptions added when it was first seen). Shorter exceptions and those
    with white space are checked against every text. The memory of seen chunks is emptied
    past :data:`SEEN_CHUNKS_MAX` (only a speed-up is lost).

    Args:
        tokenizer: a :class:`spacy.tokenizer.Tokenizer` built without special cases.
        rules: string -> token attribute dicts, as ``Language.Defaults.tokenizer_exceptions``.
    """

    def __init__(self, tokenizer: Any, rules: Mapping[str, list[dict[int | str, str]]]) -> None:
        self.tokenizer = tokenizer
        self.rules = dict(rules)
        self._always = [k for k in self.rules if not _indexable(k)]
        self._by_gram: dict[str, list[str]] = {}
        for k in self.rules:
            if _indexable(k):
                self._by_gram.setdefault(k[:_GRAM], []).append(k)
        self._seen: set[str] = set()

    @property
    def vocab(self) -> Vocab:
        """The tokenizer's vocabulary."""
        vocab: Vocab = self.tokenizer.vocab
        return vocab

    def __call__(self, text: str) -> Doc:
        """Tokenize ``text`` (after adding the exceptions it contains)."""
        self._add_special_cases(text)
        doc: Doc = self.tokenizer(text)
        return doc

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterable[Doc]:
        """Tokenize a stream of texts (``batch_size`` is accepted for spaCy's signature)."""
        for text in texts:
            yield self(text)

    def _add_special_cases(self, text: str) -> None:
        found = [k for k in self._always if k in text]
        if self._by_gram:
            chunks = set(text.split()).difference(self._seen)
            if len(self._seen) > SEEN_CHUNKS_MAX:
                self._seen.clear()
            self._seen.update(chunks)
            grams = {c[i : i + _GRAM] for c in chunks for i in range(len(c) - _GRAM + 1)}
            for gram in grams.intersection(self._by_gram):
                found.extend(k for k in self._by_gram[gram] if k in text)
        for k in found:
            self.tokenizer.add_special_case(k, self.rules[k])
            if not _indexable(k):
                self._always.remove(k)
            else:
                bucket = self._by_gram[k[:_GRAM]]
                bucket.remove(k)
                if not bucket:
                    del self._by_gram[k[:_GRAM]]


def make_on_demand_tokenizer() -> Callable[[Language], OnDemandSpecialCases]:
    """The ``migralex_on_demand_tokenizer_v1`` factory: spaCy's default tokenizer of the
    language (its prefixes, suffixes, infixes, token and URL matches) with the language's
    exceptions added on demand (:class:`OnDemandSpecialCases`)."""
    from spacy.tokenizer import Tokenizer
    from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

    def factory(nlp: Language) -> OnDemandSpecialCases:
        d = nlp.Defaults
        tokenizer = Tokenizer(
            nlp.vocab,
            rules={},
            prefix_search=compile_prefix_regex(d.prefixes).search if d.prefixes else None,
            suffix_search=compile_suffix_regex(d.suffixes).search if d.suffixes else None,
            infix_finditer=compile_infix_regex(d.infixes).finditer if d.infixes else None,
            token_match=d.token_match,
            url_match=d.url_match,
        )
        return OnDemandSpecialCases(tokenizer, d.tokenizer_exceptions)

    return factory


def _register_tokenizer() -> None:
    from spacy.util import registry

    if ON_DEMAND_TOKENIZER not in registry.tokenizers:
        registry.tokenizers.register(ON_DEMAND_TOKENIZER, func=make_on_demand_tokenizer)


_register_tokenizer()


def blank(language: str) -> Language:
    """``spacy.blank(language)`` with the on-demand tokenizer (:class:`OnDemandSpecialCases`),
    its language data imported and its regular expressions compiled with
    :func:`~migralex.nlp.spacy_import.memoized_charsets`."""
    with memoized_charsets():
        return spacy.blank(
            language, config={"nlp": {"tokenizer": {"@tokenizers": ON_DEMAND_TOKENIZER}}}
        )


@Language.factory(LOOKUP_LEMMAS)
def make_lookup_lemmas(nlp: Language, name: str) -> LookupLemmas:
    """Build the component for ``nlp``'s language (:func:`lemma_table`)."""
    return LookupLemmas(nlp.vocab, lemma_table(nlp.lang))
