"""One contract for every reader of :data:`migralex.ingest.base.READERS` (txtai's one battery
for every backend): offsets back into the text, pages, heading hints, and refusals that name
the file. The fixtures are our own small agreements (``evaluation/robustness.py``)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pytest

from migralex.corpus.errors import ReadError
from migralex.evaluation import robustness as rb
from migralex.ingest.base import READERS, read_file
from migralex.ingest.segment import segment

SEED = 7
ARTICLES = 6


def _markdown() -> bytes:
    return rb.agreement_markdown(SEED, ARTICLES).encode("utf-8")


def _text() -> bytes:
    return "\n".join(
        ln.lstrip("# ") for ln in rb.agreement_markdown(SEED, ARTICLES).splitlines()
    ).encode()


def _html() -> bytes:
    body = []
    for line in rb.agreement_markdown(SEED, ARTICLES).splitlines():
        if line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line:
            body.append(f"<p>{html.escape(line)}</p>")
    return (
        "<html><head><title>Agreement</title></head><body>" + "".join(body) + "</body></html>"
    ).encode()


#: How to write a fixture of each format: reader function -> (bytes, has heading hints, paged).
FIXTURES: dict[str, tuple[Callable[[], bytes], bool, bool]] = {
    "read_pdf": (lambda: rb.agreement_pdf(SEED, ARTICLES), False, True),
    "read_docx": (lambda: rb.agreement_docx(SEED, ARTICLES), True, False),
    "read_html": (_html, True, False),
    "read_markdown": (_markdown, True, False),
    "read_text": (_text, False, False),
}


def _fixture(tmp_path: Path, suffix: str) -> tuple[Path, bool, bool]:
    write, headings, paged = FIXTURES[READERS[suffix].rsplit(":", 1)[1]]
    path = tmp_path / f"agreement{suffix}"
    path.write_bytes(write())
    return path, headings, paged


def test_every_reader_has_a_fixture() -> None:
    assert {target.rsplit(":", 1)[1] for target in READERS.values()} == set(FIXTURES)


@pytest.mark.parametrize("suffix", sorted(READERS))
def test_blocks_are_offsets_into_the_text(tmp_path: Path, suffix: str) -> None:
    path, headings, paged = _fixture(tmp_path, suffix)
    parsed = read_file(path)
    assert parsed.blocks and parsed.text.strip()
    assert parsed.text == "\n".join(parsed.block_text(b) for b in parsed.blocks)
    ends = [0, *(b.end + 1 for b in parsed.blocks)]
    assert [b.start for b in parsed.blocks] == ends[:-1]  # in order, one newline between
    assert all("\n" not in parsed.block_text(b) and b.end > b.start for b in parsed.blocks)
    assert parsed.page_starts[0] == 0 and list(parsed.page_starts) == sorted(parsed.page_starts)
    assert all(1 <= b.page <= parsed.pages for b in parsed.blocks)
    assert parsed.paged is paged and (parsed.pages == 2) is paged
    assert any(b.level > 0 for b in parsed.blocks) is headings


@pytest.mark.parametrize("suffix", sorted(READERS))
def test_every_format_segments_into_the_same_articles(tmp_path: Path, suffix: str) -> None:
    path, _, _ = _fixture(tmp_path, suffix)
    parsed = read_file(path)
    clauses = segment(parsed, "d", "en", "ssa").clauses
    assert [c.label for c in clauses if c.label.startswith("Article")] == [
        f"Article {n}" for n in range(1, ARTICLES + 1)
    ]
    assert all(parsed.text[c.start : c.end] == c.text for c in clauses)


@pytest.mark.parametrize("suffix", sorted(READERS))
@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02\xff" * 64])
def test_bad_content_is_refused_naming_the_file(
    tmp_path: Path, suffix: str, content: bytes
) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with pytest.raises(ReadError) as info:
        read_file(path)
    assert info.value.path == str(path) and info.value.reason
