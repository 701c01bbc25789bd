"""migralex's spaCy components, registered under versioned factory names.

* ``migralex_lookup_lemmas_v1`` — every token's lemma is the lookup lemma (``spacy-lookups-data``,
  offline) of its lower-cased text, lower-cased; without a lookup table for the language the
  lemma is the lower-cased text. spaCy's own lookup lemmatizer is case-sensitive, so "Benefits"
  at a sentence start would keep its form; the tagger's patterns write ``LEMMA`` values in
  lower case (:mod:`migralex.nlp.tagger`).

Importing this module imports spaCy (through :func:`~migralex.nlp.spacy_import.import_spacy`,
without torch); the tagger imports it when it builds its first pipeline. Use::

    nlp = spacy.blank("en")
    nlp.add_pipe("migralex_lookup_lemmas_v1")
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from migralex.nlp.spacy_import import import_spacy

spacy = import_spacy()
from spacy.attrs import LEMMA, LOWER  # noqa: E402 - after the torch-free import of spaCy
from spacy.language import Language  # noqa: E402
from spacy.tokens import Doc  # noqa: E402
from spacy.vocab import Vocab  # noqa: E402

LOOKUP_LEMMAS = "migralex_lookup_lemmas_v1"


@functools.cache
def lemma_table(language: str) -> Mapping[str, Any]:
    """The ``lemma_lookup`` table of ``language`` from ``spacy-lookups-data`` (loaded once,
    offline, with ``spacy.lookups.load_lookups``: the table spaCy's lookup lemmatizer reads,
    without building a second pipeline for it), or an empty mapping when the language has
    none."""
    from spacy.lookups import load_lookups

    try:
        lookups = load_lookups(language, ["lemma_lookup"], strict=False)
    except (ValueError, OSError, KeyError):  # no lookups package entry for the language
        return {}
    if not lookups.has_table("lemma_lookup"):
        return {}
    table: Any = lookups.get_table("lemma_lookup")
    return table


class LookupLemmas:
    """The ``migralex_lookup_lemmas_v1`` component (see the module docstring).

    Args:
        vocab: the pipeline's vocabulary (its string store holds the lemmas).
        table: lower-cased form -> lemma (a list or tuple of lemmas: the first).
    """

    def __init__(self, vocab: Vocab, table: Mapping[str, Any]) -> None:
        self.vocab = vocab
        self.table = table
        # lemmas cached by the hash of the lower-cased text
        self._cache: dict[int, int] = {}

    def __call__(self, doc: Doc) -> Doc:
        """Set the lemmas of ``doc`` in place; returns ``doc``."""
        if len(doc):
            cache, table, strings = self._cache, self.table, self.vocab.strings
            lowers = doc.to_array([LOWER]).tolist()
            for h in set(lowers).difference(cache):
                low = strings[h]
                lemma = table.get(low, low)
                if isinstance(lemma, list | tuple):  # some tables list several lemmas
                    lemma = lemma[0] if lemma else low
                cache[h] = strings.add(str(lemma).lower())
            lemmas = np.array([cache[h] for h in lowers], dtype="uint64")
            doc.from_array([LEMMA], lemmas.reshape(-1, 1))  # type: ignore[arg-type]  # uint64 hashes
        return doc


@Language.factory(LOOKUP_LEMMAS)
def make_lookup_lemmas(nlp: Language, name: str) -> LookupLemmas:
    """Build the component for ``nlp``'s language (:func:`lemma_table`)."""
    return LookupLemmas(nlp.vocab, lemma_table(nlp.lang))
