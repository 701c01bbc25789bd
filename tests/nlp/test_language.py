"""Language detection among the languages agreements come in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migralex.nlp import language
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


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache folder, and an identifier built anew in it (and again after the test)."""
    monkeypatch.setenv(language.CACHE_ENV, str(tmp_path / "cache"))
    language._identifier.cache_clear()
    yield tmp_path / "cache"
    language._identifier.cache_clear()


SENTENCES = [
    "The competent institutions shall assist one another free of charge.",
    "Les prestations sont versées aux bénéficiaires qui résident à l'étranger.",
    "Las instituciones competentes se prestarán asistencia mutua.",
    "De bevoegde instellingen verlenen elkaar kosteloos administratieve bijstand.",
    "Die Leistungen werden an Berechtigte im Ausland gezahlt.",
    "Os trabalhadores migrantes têm direito à igualdade de tratamento.",
    "I lavoratori migranti hanno diritto alla parità di trattamento.",
]


def _reference() -> object:
    """py3langid's own identifier, restricted as :data:`CANDIDATES` restricts ours."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(CANDIDATES))
    return ident


def test_the_cached_model_scores_as_py3langid_restricted(fresh_cache: Path) -> None:
    reference = _reference()
    built = language._identifier()
    (cache,) = fresh_cache.iterdir()
    assert cache == language.model_cache_file()
    language._identifier.cache_clear()
    read = language._identifier()
    for ident in (built, read):
        assert [ident.classify(s) for s in SENTENCES] == [reference.classify(s) for s in SENTENCES]
    assert [detect_language(s) for s in SENTENCES] == ["en", "fr", "es", "nl", "de", "pt", "it"]


def test_a_damaged_cache_file_is_rebuilt(fresh_cache: Path) -> None:
    path = language.model_cache_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz")
    assert detect_language(SENTENCES[1]) == "fr"
    language._identifier.cache_clear()
    assert language._read_cache(path) is not None


def test_an_unwritable_cache_folder_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv(language.CACHE_ENV, str(blocker / "cache"))
    language._identifier.cache_clear()
    try:
        assert detect_language(SENTENCES[2]) == "es"
    finally:
        language._identifier.cache_clear()
    assert not (blocker / "cache").exists()
