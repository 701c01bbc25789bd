"""Readers on real files of ../shared/corpus, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import corpus_file

from migralex.corpus.errors import ReadError
from migralex.ingest.base import read_file
from migralex.ingest.pdf_reader import strip_running_lines


@pytest.mark.parametrize(
    ("relative", "pages", "title_start", "first_heading"),
    [
        (
            "ssa/ca-si-96-32.pdf",
            13,
            "Agreement on Social Security Between Canada and the United Mexican",
            None,
        ),
        ("ssa/ca-si-2006-122.html", 1, "Proclamation Giving Notice", "Proclamation Giving Notice"),
        ("ssa/ca-si-2002-1.docx", 1, "Proclamation giving notice", "Proclamation giving notice"),
        (
            "ssa/nl-bwbv0001745.md",
            1,
            "Agreement between the Kingdom of the Netherlands and Belize",
            "Agreement between",
        ),
    ],
)
def test_reader_text_pages_title_and_heading_hints(
    relative: str, pages: int, title_start: str, first_heading: str | None
) -> None:
    parsed = read_file(corpus_file(relative))
    assert parsed.pages == pages
    assert parsed.title.startswith(title_start)
    assert parsed.page_starts[0] == 0
    assert list(parsed.page_starts) == sorted(parsed.page_starts)
    for b in parsed.blocks:
        text = parsed.block_text(b)
        assert text and "\n" not in text and text == text.strip()
    hinted = [parsed.block_text(b) for b in parsed.blocks if b.level]
    if first_heading is None:
        assert not hinted
    else:
        assert hinted[0].startswith(first_heading)


def test_pdf_running_header_and_page_numbers_are_removed() -> None:
    parsed = read_file(corpus_file("ssa/ca-si-96-32.pdf"))
    lines = parsed.text.split("\n")
    header = "Agreement on Social Security Between Canada and the United Mexican States"
    assert lines.count(header) == 0
    assert not any(line.startswith("Page ") and line[5:].isdigit() for line in lines)
    # page map: ARTICLE 1 is on page 3 of the PDF
    offset = parsed.text.index("ARTICLE 1 Definitions")
    page = max(i for i, s in enumerate(parsed.page_starts, start=1) if s <= offset)
    assert page == 3


def test_strip_running_lines_keeps_body_lines() -> None:
    pages = [["Title of Act", f"Body line {i}", "unique text", f"Page {i}"] for i in range(1, 5)]
    out, header = strip_running_lines(pages)
    assert header == "Title of Act"
    assert out == [[f"Body line {i}", "unique text"] for i in range(1, 5)] or all(
        "Title of Act" not in p and f"Page {i}" not in p for i, p in enumerate(out, start=1)
    )


def test_article_labels_at_the_top_of_most_pages_are_not_running_headers() -> None:
    """Articles that start at the top of most pages mask alike ("article #") but are printed
    once each: they stay, while the title header repeated on every page goes."""
    bodies = {9: "Travel is paid.", 13: "Wages are equal.", 18: "Families join.", 27: "In force."}
    pages = [
        ["Convention on the recruitment of workers", f"Article {n}", body, "more text", "end"]
        for n, body in bodies.items()
    ]
    out, header = strip_running_lines(pages)
    assert header == "Convention on the recruitment of workers"
    assert [p[:2] for p in out] == [[f"Article {n}", body] for n, body in bodies.items()]


def test_docx_keeps_french_article_labels() -> None:
    parsed = read_file(corpus_file("bla/nl-bwbv0004909.docx"))
    hinted = [parsed.block_text(b) for b in parsed.blocks if b.level == 2]
    assert "Article 1er" in hinted


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("scan.xyz", b"data", "unknown format '.xyz'; known: .docx"),
        ("broken.pdf", b"%PDF-1.7 garbage\n%%EOF\n", "not a readable PDF"),
        ("cut.pdf", b"%PDF-1.7 garbage", "the PDF is truncated"),
        ("broken.docx", b"PK not a zip", "not a DOCX file: DOCX files are zip archives"),
        ("empty.md", b"", "no text found"),
        ("binary.txt", b"\x00\x01\x02", "binary data"),
    ],
)
def test_bad_files_raise_read_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert reason in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no such file"):
        read_file(tmp_path / "missing.pdf")


def test_treaty_database_status_notes_are_not_provision_text(tmp_path: Path) -> None:
    """The Dutch treaty database's "not yet in force" note under an article heading (a line of
    its own, or the end of a title line in its PDFs) is left out; the same words inside a
    sentence of the treaty stay."""
    path = tmp_path / "agreement.md"
    path.write_text(
        "# Agreement\n\nArticle 1\n\nDefinitions\n\nTreedt in werking op een nader te bepalen "
        "tijdstip\n\n1. For the purposes of this Agreement: ...\n\nSCHEDULE TO PART VI Treedt in "
        "werking per 01-07-2027\n\nArtikel 12\n\nDeze Overeenkomst treedt in werking op de eerste "
        "dag van de tweede maand.\n",
        encoding="utf-8",
    )
    parsed = read_file(path)
    lines = parsed.text.split("\n")
    assert "Definitions" in lines and "1. For the purposes of this Agreement: ..." in lines
    assert "SCHEDULE TO PART VI" in lines
    assert "Treedt in werking" not in parsed.text
    assert "Deze Overeenkomst treedt in werking op de eerste dag van de tweede maand." in lines
    assert len(parsed.blocks) == len(lines)


def test_the_treaty_databases_note_leaves_the_corpus_documents() -> None:
    for name in ("ssa/nl-bwbv0001780.md", "regional/nl-bwbv0004546.pdf"):
        text = read_file(corpus_file(name)).text
        assert "Treedt in werking op een nader te bepalen tijdstip" not in text, name
