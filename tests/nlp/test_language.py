"""Language detection among the languages agreements come in."""

from __future__ import annotations

import pytest

from migralex.nlp.language import CANDIDATES, detect_language


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("The competent institutions shall assist one another free of charge.", "en"),
        ("Les institutions compétentes se prêtent mutuellement assistance gratuitement.", "fr"),
        ("Las instituciones competentes se prestarán asistencia mutua de forma gratuita.", "es"),
        ("De bevoegde instellingen verlenen elkaar kosteloos administratieve bijstand.", "nl"),
    ],
)
def test_detects_the_language_of_a_sentence(text: str, expect: str) -> None:
    assert detect_language(text) == expect


@pytest.mark.parametrize(("text", "default"), [("", "en"), ("Art. 4", "fr"), ("12 345 67", "es")])
def test_short_texts_get_the_default(text: str, default: str) -> None:
    assert detect_language(text, default=default) == default


def test_long_texts_are_read_from_their_middle() -> None:
    french = "Les prestations sont versées aux bénéficiaires qui résident à l'étranger. " * 400
    english = "The title page and the signatures are in English only. " * 40
    assert len(english + french + english) > 20_000
    assert detect_language(english + french + english) == "fr"
    assert detect_language("Benefits are paid abroad. " * 5) in CANDIDATES
