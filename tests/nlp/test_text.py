"""Text folding (``nlp/text.py``)."""

from __future__ import annotations

import unicodedata

import pytest

from migralex.nlp.text import fold, rx, strip_accents


def _reference_strip(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@pytest.mark.parametrize(
    "text",
    [
        "Equality of Treatment",
        "Égalité de traitement — l’assurance",
        "Totalización de períodos",
        "ﬁnal ½ Ⅸ",  # compatibility decompositions
        "",
        "tab\tand\nnew line",
    ],
)
def test_strip_accents_matches_nfkd_without_combining_marks(text: str) -> None:
    assert strip_accents(text) == _reference_strip(text)


def test_fold_lowercases_strips_accents_apostrophes_and_spaces() -> None:
    assert fold("  L’Égalité\n de   TRAITEMENT ") == "l'egalite de traitement"
    assert fold("Periods  of\tInsurance") == "periods of insurance"
    assert fold("Periods  of\tInsurance") is fold("Periods  of\tInsurance")  # cached


def test_rx_matches_folded_text_whatever_the_accents_of_the_pattern() -> None:
    assert rx("égalité de traitement").search(fold("L'ÉGALITÉ DE TRAITEMENT"))
