"""The lookup-lemma component's table: a SQLite copy of spacy-lookups-data's, read on demand."""

from __future__ import annotations

from pathlib import Path

import pytest

from migralex.nlp import spacy_components as sc
from migralex.nlp.language import CACHE_ENV


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _reference(language: str, forms: list[str]) -> dict[str, str]:
    """form -> lemma as spaCy's own lookup table gives it (first of several; absent forms out)."""
    from spacy.lookups import load_lookups

    table = load_lookups(language, ["lemma_lookup"]).get_table("lemma_lookup")
    out = {}
    for form in forms:
        if form in table:
            value = table[form]
            out[form] = (value[0] if value else form) if isinstance(value, list) else value
    return out


@pytest.mark.parametrize("language", ["en", "fr"])  # fr lists several lemmas per form
def test_cached_table_gives_spacys_lemmas(cache: Path, language: str) -> None:
    from spacy.util import load_language_data

    source = sc._lookup_source(language)
    assert source is not None
    forms = list(load_language_data(source))[::97] + ["zzz-not-a-word", "Benefits"]
    table = sc.LemmaTable(language)
    assert list(cache.glob(f"lemmas-{language}-*.sqlite"))
    assert table.lookup(forms) == _reference(language, forms)


def test_a_second_table_reads_the_cache_not_the_package(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sc.LemmaTable("en").lookup(["benefits", "workers", "was"])
    monkeypatch.setattr(
        sc.LemmaTable, "_load", staticmethod(lambda source: pytest.fail("package re-read"))
    )
    assert sc.LemmaTable("en").lookup(["benefits", "workers", "was"]) == first
    assert first == {"benefits": "benefit", "workers": "worker", "was": "be"}


def test_unwritable_cache_folder_keeps_the_table_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    table = sc.LemmaTable("en")
    assert table.lookup(["benefits", "zzz"]) == {"benefits": "benefit"}
    assert not list(tmp_path.rglob("*.sqlite")) and not list(tmp_path.rglob("*.tmp"))


def test_language_without_a_table_has_no_lemmas(cache: Path) -> None:
    assert sc.LemmaTable("xx").lookup(["word"]) == {}


def test_component_sets_lower_case_lookup_lemmas(cache: Path) -> None:
    nlp = sc.spacy.blank("en")
    nlp.add_pipe(sc.LOOKUP_LEMMAS)
    doc = nlp("Benefits were paid to the Workers.")
    assert [t.lemma_ for t in doc] == ["benefit", "be", "pay", "to", "the", "worker", "."]


#: Our own sentences, dense in each language's tokenizer exceptions (abbreviations, elisions,
#: contractions, emoticons).
_EXCEPTION_TEXTS = {
    "en": "Mr. Smith doesn't pay U.S. taxes, e.g. at 5 p.m. on Jan. 3rd :) (see No. 4).",
    "nl": "Zie art. 5 t/m 7, blz. 3 e.d., m.b.t. de uitkering (o.a. kinderbijslag) z.s.m.",
    "fr": "M. Dupont l'a dit aujourd'hui : J.-C. Martin, c.-à-d. Mme Durand, etc.",
    "es": "El Sr. García y la Sra. Pérez, p. ej. en EE.UU., etc.",
}


@pytest.mark.parametrize("language", sorted(_EXCEPTION_TEXTS))
def test_on_demand_tokenizer_tokenizes_as_spacy(language: str) -> None:
    text = _EXCEPTION_TEXTS[language]
    full = sc.spacy.blank(language)
    lazy = sc.blank(language)
    assert isinstance(lazy.tokenizer, sc.OnDemandSpecialCases)
    before = len(lazy.tokenizer.tokenizer.rules)
    for piece in (text, text.upper(), text[5:], "no exception here"):
        got = [(t.text, t.idx, t.whitespace_) for t in lazy.make_doc(piece)]
        assert got == [(t.text, t.idx, t.whitespace_) for t in full.make_doc(piece)], piece
    added = len(lazy.tokenizer.tokenizer.rules) - before
    assert 0 < added < len(full.tokenizer.rules)  # only the exceptions the texts hold


def test_on_demand_tokenizer_keeps_earlier_tokenizations_valid() -> None:
    """A phrase tokenized before an exception was added still matches a later text with it."""
    from spacy.matcher import PhraseMatcher

    nlp = sc.blank("nl")
    matcher = PhraseMatcher(nlp.vocab)
    pattern = nlp.make_doc("art. 5")  # adds "art."
    matcher.add("ref", [pattern])
    doc = nlp.make_doc("volgens art. 5 van het verdrag")
    assert [doc[s:e].text for _, s, e in matcher(doc)] == ["art. 5"]
    assert [t.text for t in pattern] == ["art.", "5"]


def test_memoized_charsets_compile_the_same_patterns() -> None:
    import re

    from spacy.lang.char_classes import ALPHA, ALPHA_LOWER

    from migralex.nlp.spacy_import import memoized_charsets

    source = "(?iu)" + "|".join(f"(?:^w{i}[-–][{ALPHA_LOWER}]+[{ALPHA}]*$)" for i in range(40))
    original = re._compiler._optimize_charset  # type: ignore[attr-defined]
    re.purge()
    with memoized_charsets():
        memo = re.compile(source)
    assert re._compiler._optimize_charset is original  # type: ignore[attr-defined]
    re.purge()
    plain = re.compile(source)
    assert memo is not plain and memo == plain  # equal patterns have equal code
    for word in ("w3-état", "W39–Éléphant", "w3-", "w40-a", "x1-a"):
        assert bool(memo.match(word)) == bool(plain.match(word))


def test_a_damaged_cache_is_rebuilt(cache: Path) -> None:
    sc.LemmaTable("en")
    (path,) = cache.glob("lemmas-en-*.sqlite")
    path.write_bytes(b"not a database" * 100)
    assert sc.LemmaTable("en").lookup(["workers"]) == {"workers": "worker"}
    assert path.read_bytes().startswith(b"SQLite format 3")


def test_on_demand_tokenizer_after_forgetting_seen_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks seen before are skipped; an exception first met inside a seen chunk is still
    added, and so is one met after the memory of seen chunks was emptied."""
    monkeypatch.setattr(sc, "SEEN_CHUNKS_MAX", 3)
    full = sc.spacy.blank("nl")
    lazy = sc.blank("nl")
    texts = ["de uitkering", "zie art. 5", "zie blz. 3 en art. 7", "m.b.t. de uitkering", "art. 9"]
    for text in texts * 2:
        got = [(t.text, t.idx) for t in lazy.make_doc(text)]
        assert got == [(t.text, t.idx) for t in full.make_doc(text)], text
    assert len(lazy.tokenizer._seen) <= 3 + len(set(" ".join(texts).split()))
