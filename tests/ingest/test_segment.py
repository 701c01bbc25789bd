"""The segmenter on real agreements of several styles, on written examples, and its invariants."""

from __future__ import annotations

import re

import pytest
from conftest import corpus_file
from hypothesis import given, settings
from hypothesis import strategies as st

from migralex.ingest.base import ParsedText, TextBuilder, read_file
from migralex.ingest.segment import Segmentation, segment

MEXICO_HEADINGS = {
    "ARTICLE 1": ("Definitions", 3),
    "ARTICLE 4": ("Equality of Treatment", 4),
    "ARTICLE 5": ("Payment of Benefits Abroad", 4),
    "ARTICLE 11": (
        "Definition of Certain Periods of Residence with Respect to the Legislation of Canada",
        6,
    ),
    "ARTICLE 12": ("Periods under the Legislation of Canada and Mexico", 6),
    "ARTICLE 23": ("Submitting and Transmitting Documents, and Their Legal Effects", 11),
    "ARTICLE 24": ("Means of Payment of Benefits and Guarantee of Payment", 11),
    "ARTICLE 28": ("Entry into Force and Termination", 12),
}


def _seg(relative: str, kind: str = "ssa", language: str = "en") -> Segmentation:
    return segment(read_file(corpus_file(relative)), "doc", language, kind)


def _articles(seg: Segmentation) -> dict[str, tuple[str, int, tuple[str, ...]]]:
    out: dict[str, tuple[str, int, tuple[str, ...]]] = {}
    for c in seg.clauses:
        out.setdefault(c.label, (c.heading, c.page_start, c.path))
    return out


def test_canada_mexico_has_its_28_articles_with_full_headings_and_pages() -> None:
    seg = _seg("ssa/ca-si-96-32.pdf")
    arts = _articles(seg)
    labels = [lbl for lbl in arts if lbl.startswith("ARTICLE")]
    assert labels == [f"ARTICLE {i}" for i in range(1, 29)]
    for label, (heading, page) in MEXICO_HEADINGS.items():
        assert arts[label][:2] == (heading, page), label
    assert arts["ARTICLE 12"][2] == ("PART III", "CHAPTER 1", "ARTICLE 12")
    assert seg.clauses[0].label == "Preamble"


@pytest.mark.parametrize(
    ("relative", "language", "expected"),
    [
        # HTML with h2/h3/h4 structure
        (
            "ssa/ca-si-2006-122.html",
            "en",
            {"ARTICLE 5": "Export of Benefits", "ARTICLE 27": "Entry into Force"},
        ),
        # DOCX with Heading styles, sections inside chapters
        (
            "ssa/ca-si-2002-1.docx",
            "en",
            {"ARTICLE 4": "Principle of Equal Treatment", "ARTICLE 30": "Entry into Force"},
        ),
        # Markdown: label and heading on separate heading lines
        (
            "ssa/nl-bwbv0001745.md",
            "en",
            {"Article 4": "Export of benefits", "Article 16": "Termination"},
        ),
        # French DOCX BLA: "Article 1er", unnumbered group headings
        ("bla/nl-bwbv0004909.docx", "fr", {"Article 1er": "", "Article 2": ""}),
        # French PDF with TITRE / CHAPITRE divisions
        ("ssa/nl-bwbv0001011.pdf", "fr", {"Article 3": "", "Article 19": ""}),
    ],
)
def test_agreement_styles(relative: str, language: str, expected: dict[str, str]) -> None:
    arts = _articles(_seg(relative, language=language))
    for label, heading in expected.items():
        assert label in arts, f"{label} missing in {relative}"
        assert arts[label][0] == heading


def test_french_divisions_form_the_path() -> None:
    arts = _articles(_seg("ssa/nl-bwbv0003682.md", language="fr"))
    assert arts["Article 11"][2] == ("TITRE III", "CHAPITRE 1", "Article 11")
    assert arts["Article 23"][2] == ("TITRE III", "CHAPITRE 3", "Section 1", "Article 23")


def test_law_is_split_into_sections_with_marginal_notes() -> None:
    arts = _articles(_seg("law/ca-canada-pension-plan.html", kind="law"))
    assert arts["Section 1"][0] == "Short title"
    assert "Section 4.1" in arts
    assert arts["Section 5"][2][0] == "PART I"


def test_exchange_of_notes_without_articles_is_split_into_points() -> None:
    arts = _articles(_seg("bla/nl-bwbv0005661.docx", kind="bla", language="fr"))
    assert [f"Paragraph {i}" for i in range(1, 14)] == [
        k for k in arts if k.startswith("Paragraph")
    ]


@pytest.mark.parametrize(
    ("numbers", "labels"),
    [
        ((2, 3, 4), ["Paragraph 2", "Paragraph 3", "Paragraph 4"]),  # point 1 deleted
        ((1, 2, 4, 5), ["Paragraph 1", "Paragraph 2", "Paragraph 4", "Paragraph 5"]),
        # a lone jump that the next point does not continue stays inside the point before
        ((1, 2, 4, 9), ["Paragraph 1", "Paragraph 2"]),
        ((1, 3), ["Paragraph 1"]),
    ],
)
def test_points_of_a_note_survive_one_deleted_point(
    numbers: tuple[int, ...], labels: list[str]
) -> None:
    lines = [("Monsieur le Ministre, les Gouvernements sont convenus de ce qui suit:", 0)]
    lines += [(f"{n}. Les ouvriers agricoles reçoivent le salaire prévu.", 0) for n in numbers]
    seg = segment(_parsed(lines), "d", "fr", kind="bla")
    assert [c.label for c in seg.clauses if c.label != "Preamble"] == labels


def _parsed(lines: list[tuple[str, int]]) -> ParsedText:
    b = TextBuilder()
    for text, level in lines:
        b.add(text, level)
    return b.build()


@pytest.mark.parametrize(
    ("lines", "labels"),
    [
        (
            [
                ("Art. 1 Scope", 0),
                ("This applies.", 0),
                ("Art. 2 Equality", 0),
                ("Same rights.", 0),
            ],
            ["Art. 1", "Art. 2"],
        ),
        (
            [("Article premier", 0), ("Texte.", 0), ("Article 2", 0), ("Texte.", 0)],
            ["Article premier", "Article 2"],
        ),
        (
            [("Artículo 1", 0), ("Texto.", 0), ("Artículo 2", 0), ("Texto.", 0)],
            ["Artículo 1", "Artículo 2"],
        ),
        (
            [
                ("ARTICLE I", 0),
                ("Text.", 0),
                ("ARTICLE II", 0),
                ("Text.", 0),
                ("ARTICLE III", 0),
                ("Text.", 0),
            ],
            ["ARTICLE I", "ARTICLE II", "ARTICLE III"],
        ),
        (
            [("Article 4", 0), ("Text.", 0), ("Article 4 bis", 0), ("Text.", 0)],
            ["Article 4", "Article 4 bis"],
        ),
        # citations at the start of a line are not boundaries
        (
            [
                ("Article 1", 0),
                ("The legislation specified in", 0),
                ("Article 2 of the Convention applies.", 0),
                ("Article 2", 0),
                ("Text.", 0),
            ],
            ["Article 1", "Article 2"],
        ),
        (
            [("Article 1", 0), ("Terms are defined in", 0), ("Article 2;", 0), ("and more.", 0)],
            ["Article 1"],
        ),
    ],
)
def test_article_label_styles_and_citations(
    lines: list[tuple[str, int]], labels: list[str]
) -> None:
    seg = segment(_parsed(lines), "d", "en")
    assert [c.label for c in seg.clauses if c.label != "Preamble"] == labels


def test_long_article_is_split_into_numbered_paragraphs_keeping_label_and_heading() -> None:
    body = " ".join(["word"] * 120)
    lines = [("ARTICLE 7 Detachments", 0)] + [(f"{i} {body}.", 0) for i in range(1, 5)]
    seg = segment(_parsed(lines), "d", "en", max_chars=1000)
    assert [c.path for c in seg.clauses] == [("ARTICLE 7", str(i)) for i in range(1, 5)]
    assert {c.label for c in seg.clauses} == {"ARTICLE 7"}
    assert {c.heading for c in seg.clauses} == {"Detachments"}
    assert seg.clauses[0].text.startswith("ARTICLE 7 Detachments")


def _check_cover(parsed: ParsedText, seg: Segmentation) -> None:
    spans = sorted(
        [(c.start, c.end) for c in seg.clauses] + [(h.start, h.end) for h in seg.headings]
    )
    covered = bytearray(len(parsed.text))
    for start, end in spans:
        for i in range(start, end):
            assert not covered[i], f"offset {i} covered twice"
            covered[i] = 1
    missing = [i for i, ch in enumerate(parsed.text) if not covered[i] and not ch.isspace()]
    assert not missing, f"text not covered: {parsed.text[missing[0] : missing[0] + 40]!r}"
    for c in seg.clauses:
        assert parsed.text[c.start : c.end] == c.text
    ids = [c.clause_id for c in seg.clauses]
    assert len(ids) == len(set(ids))
    assert [c.ordinal for c in seg.clauses] == list(range(len(seg.clauses)))


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        ("ssa/ca-si-96-32.pdf", "ssa"),
        ("ssa/ca-si-2006-122.html", "ssa"),
        ("ssa/ca-si-2002-1.docx", "ssa"),
        ("ssa/nl-bwbv0004901.md", "ssa"),
        ("ilo/nl-bwbv0004942.pdf", "ilo"),
        ("law/ca-old-age-security-act.pdf", "law"),
    ],
)
def test_clauses_and_headings_cover_real_documents_exactly_once(relative: str, kind: str) -> None:
    parsed = read_file(corpus_file(relative))
    _check_cover(parsed, segment(parsed, "d", "en", kind))


_LINE = st.one_of(
    st.sampled_from(
        ["ARTICLE 1 Definitions", "Article 2", "PART I General Provisions", "CHAPTER 2",
         "ANNEX", "1 The Parties agree.", "2 Further text", "(1) Subsection", "Article 3 of the Act",
         "Equality of Treatment", "TITRE II", "Art. 5", "12 (1) Section text", "Schedule 1"]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(_LINE, st.integers(0, 4)), min_size=1, max_size=40),
    st.sampled_from(["ssa", "law"]),
)
def test_segmenter_never_loses_or_duplicates_text(lines: list[tuple[str, int]], kind: str) -> None:
    parsed = _parsed(lines)
    if not parsed.text:
        return
    _check_cover(parsed, segment(parsed, "d", "en", kind, max_chars=200))


def test_clause_ids_do_not_change_when_an_unrelated_article_is_edited() -> None:
    a = [("ARTICLE 1 Scope", 0), ("Text one.", 0), ("ARTICLE 2 Equality", 0), ("Text two.", 0)]
    b = [
        ("ARTICLE 1 Scope", 0),
        ("Text one, now much longer.", 0),
        ("ARTICLE 2 Equality", 0),
        ("Text two.", 0),
    ]
    ids_a = [c.clause_id for c in segment(_parsed(a), "d", "en").clauses]
    ids_b = [c.clause_id for c in segment(_parsed(b), "d", "en").clauses]
    assert ids_a == ids_b
    assert all(re.fullmatch(r"d:[a-z0-9/~-]+", i) for i in ids_a)


def test_annex_word_under_an_article_label_is_its_heading_not_a_new_instrument() -> None:
    """ "Article 37" / "Administrative arrangement" / body: the heading of Article 37; the
    articles after it stay in the agreement. A titled arrangement further on is a container."""
    lines = [
        ("Article 36", 0),
        ("Benefits are paid.", 0),
        ("Article 37", 0),
        ("Administrative arrangement", 0),
        (
            "The competent authorities shall agree on the measures needed to apply this Convention.",
            0,
        ),
        ("Article 38", 0),
        ("Final Protocol", 0),
        ("The Final Protocol attached to this Convention forms an integral part of it.", 0),
        ("Article 39", 0),
        ("This Convention enters into force on the first day of the second month.", 0),
        ("Administrative Arrangement for the application of the Convention", 0),
        ("Article 1", 0),
        ("Liaison bodies are designated.", 0),
    ]
    seg = segment(_parsed(lines), "d", "en")
    arts = {(c.path[0] if len(c.path) > 1 else "", c.label): c for c in seg.clauses}
    assert arts[("", "Article 37")].heading == "Administrative arrangement"
    assert arts[("", "Article 38")].heading == "Final Protocol"
    assert ("", "Article 39") in arts
    assert arts[("Administrative Arrangement", "Article 1")].path[0] == "Administrative Arrangement"


def test_plain_heading_under_a_plain_label_in_a_styled_document() -> None:
    """Markdown or DOCX with styled divisions ("## PART IV") but article labels and headings
    as plain paragraphs: the short title line under the label is the heading."""
    lines = [
        ("PART IV MISCELLANEOUS PROVISIONS", 2),
        ("Article 45", 0),
        ("Collection of Contributions", 0),
        ("1. The Contracting Parties recognise each other's decisions.", 0),
        ("Article 46", 0),
        ("The competent authorities shall settle disputes by negotiation.", 0),
    ]
    arts = {c.label: c for c in segment(_parsed(lines), "d", "en").clauses}
    assert arts["Article 45"].heading == "Collection of Contributions"
    assert arts["Article 46"].heading == ""


@pytest.mark.parametrize(
    ("word", "first"),
    [("Paragraphe", "1er"), ("Paragraph", "1"), ("Párrafo", "1"), ("Lid", "1")],
)
def test_paragraph_word_inside_an_article_is_its_paragraph_not_a_division(
    word: str, first: str
) -> None:
    """ "Article 3" / "Paragraphe 1er. Pour les travailleurs ..., dans l'un et" (a PDF line): the
    article keeps its text and the articles after it keep their path."""
    body = " ".join(["mot"] * 60)
    lines = [
        ("TITRE II", 0),
        ("Article 3", 0),
        (f"{word} {first}. Pour les travailleurs qui ont été assujettis, dans l'un et", 0),
        (f"l'autre pays {body}.", 0),
        (f"{word} 2. Les périodes {body}.", 0),
        ("Article 4", 0),
        ("Toute période reconnue est prise en compte.", 0),
    ]
    seg = segment(_parsed(lines), "d", "fr", max_chars=400)
    art3 = [c for c in seg.clauses if c.label == "Article 3"]
    assert [c.path for c in art3] == [
        ("TITRE II", "Article 3", "1"),
        ("TITRE II", "Article 3", "2"),
    ]
    assert art3[0].text.startswith(f"Article 3\n{word} {first}.")
    assert [c.path for c in seg.clauses if c.label == "Article 4"] == [("TITRE II", "Article 4")]
    assert not any(c.label.startswith(word) for c in seg.clauses)


_PARAGRAPH_LABEL = re.compile(r"(?i)^(?:paragraphe|paragraph|párrafo|parrafo|lid)\s")


@pytest.mark.slow
def test_no_article_loses_its_text_or_number_to_a_paragraph_label_across_the_corpus() -> None:
    """Every document of ../shared/corpus: no clause is only its label while the next clause is a
    paragraph label under it, and no "Paragraphe ..." clause or path element has articles below."""
    import csv

    from conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not found beside the checkout ({CORPUS})")
    with (CORPUS / "manifest.csv").open(encoding="utf-8") as fh:
        rows = {r["path"]: r for r in csv.DictReader(fh)}
    problems: list[str] = []
    for relative, row in sorted(rows.items()):
        seg = segment(read_file(CORPUS / relative), row["id"], row["language"], row["kind"])
        for c, nxt in zip(seg.clauses, seg.clauses[1:], strict=False):
            bare = c.text.strip() in {c.label, f"{c.label} {c.heading}".strip()}
            if bare and c.label and _PARAGRAPH_LABEL.match(nxt.label):
                problems.append(f"{relative}: {c.label} is empty, {nxt.label} follows")
        for c in seg.clauses:
            above = [p for p in c.path[:-1] if _PARAGRAPH_LABEL.match(p)]
            if above and c.label != above[-1]:
                problems.append(f"{relative}: {c.label} lies under {above[-1]}")
    assert not problems, problems[:10]


@pytest.mark.parametrize(
    ("signature", "opener", "label"),
    [
        ("EN FOI DE QUOI les soussignés ont signé la présente Convention.", "Protocole Final", "Protocole Final"),
        ("IN WITNESS WHEREOF the undersigned have signed this Agreement.", "Exchange of letters", "Exchange of letters"),
        ("Done at Rabat, in duplicate, in the French language.", "Sir,", "Letter"),
        ("Fait à Berne, le 27 mai 1970, en double exemplaire.", "Monsieur le Ministre,", "Letter"),
        ("DONE at Ottawa in duplicate.", "Excellency,", "Letter"),
    ],
)  # fmt: skip
def test_letter_or_protocol_after_the_signatures_is_its_own_container(
    signature: str, opener: str, label: str
) -> None:
    """A PDF signature block ends without a full stop ("(s.) C. VREEDE"); the protocol or letter
    after it is not the last article's text."""
    lines = [
        ("Article 24", 0),
        ("The Convention is concluded for an unlimited period.", 0),
        ("Article 25", 0),
        ("This Convention enters into force on the first day of the second month.", 0),
        (signature, 0),
        ("For the Kingdom of the Netherlands (s.) C. VREEDE", 0),
        (opener, 0),
        ("I have the honour to refer to the Convention signed today and to propose that", 0),
        ("the competent authorities apply it from its signature.", 0),
    ]
    seg = segment(_parsed(lines), "d", "en")
    last = [c for c in seg.clauses if c.label == "Article 25"]
    assert len(last) == 1 and opener not in last[0].text
    assert last[0].text.endswith("C. VREEDE")
    tail = seg.clauses[-1]
    assert (tail.label, tail.path) == (label, (label,))
    assert tail.text.startswith(opener)


def test_signature_continuation_is_not_a_container() -> None:
    lines = [
        ("Article 8", 0),
        ("This Agreement enters into force on signature.", 0),
        ("IN WITNESS WHEREOF the undersigned have signed this", 0),
        ("Administrative Agreement.", 0),
        ("Note that the text was authenticated.", 0),
    ]
    seg = segment(_parsed(lines), "d", "en")
    assert [c.label for c in seg.clauses] == ["Article 8"]
