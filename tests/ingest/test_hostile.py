"""Hostile, broken and odd files (issue #19): each is refused with a reason in plain words, or
read when it is only odd. Fixtures are written by ``migralex.evaluation.robustness``."""

from __future__ import annotations

from pathlib import Path

import pytest

from migralex.corpus.errors import ReadError
from migralex.evaluation import robustness as rb
from migralex.ingest.base import MIB, Limits, read_file


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _refusal(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(ReadError) as info:
        read_file(path, limits)
    assert info.value.path == str(path)
    assert rb.plain(f"migralex: error: {path}: {info.value.reason}"), info.value.reason
    return info.value.reason


def test_pdf_with_a_password_says_so(tmp_path: Path) -> None:
    # was "not a readable PDF (File has not been decrypted)"
    path = _write(tmp_path, "locked.pdf", rb.encrypted_pdf(rb.agreement_pdf(1), "secret"))
    reason = _refusal(path)
    assert "encrypted with a password" in reason and "decrypted" not in reason


def test_pdf_encrypted_with_an_empty_password_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "open.pdf", rb.encrypted_pdf(rb.agreement_pdf(1), ""))
    assert "Article 1" in read_file(path).text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_text_with_a_byte_order_mark_is_decoded(tmp_path: Path, encoding: str) -> None:
    # was "binary data, not text": UTF-16 has NUL bytes
    text = "Article 1 — Égalité de traitement\nLes Parties s'accordent.\n"
    bom = {"utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    path = _write(tmp_path, "windows.txt", bom + text.encode(encoding))
    assert read_file(path).text.splitlines()[0] == "Article 1 — Égalité de traitement"


def test_truncated_pdf_is_refused_as_truncated(tmp_path: Path) -> None:
    data = rb.agreement_pdf(2)
    assert "Article" in read_file(_write(tmp_path, "whole.pdf", data)).text
    assert "truncated" in _refusal(_write(tmp_path, "cut.pdf", data[: len(data) // 2]))


def test_pdf_over_the_page_limit_is_refused_before_reading(tmp_path: Path) -> None:
    # lines that differ from page to page (a line on most pages is a running header)
    pages = [[rb._HEADINGS[i], rb._SENTENCES[i], rb._SENTENCES[i + 5]] for i in range(5)]
    path = _write(tmp_path, "long.pdf", rb.pdf_bytes(pages))
    assert read_file(path, Limits(pages=5)).pages == 5
    reason = _refusal(path, Limits(pages=4))
    assert "5 pages" in reason and "MIGRALEX_MAX_PAGES" in reason


def test_file_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "big.txt", b"Article 1 text.\n" * 80_000)  # 1.2 MiB
    monkeypatch.setenv("MIGRALEX_MAX_FILE_MB", "1")
    reason = _refusal(path)
    assert "1.2 MB" in reason and "MIGRALEX_MAX_FILE_MB" in reason
    monkeypatch.setenv("MIGRALEX_MAX_FILE_MB", "2")
    assert read_file(path).text.startswith("Article 1")


def test_text_over_the_character_limit_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "long.txt", b"Article 1 text.\n" * 100)
    assert "1,599 characters" in _refusal(path, Limits(chars=1000))


def test_docx_zip_bomb_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    template = rb.agreement_docx(1)
    for paragraphs in (False, True):
        path = _write(tmp_path, "bomb.docx", rb.docx_bomb(template, 3, paragraphs))
        assert path.stat().st_size < MIB
        reason = _refusal(path, Limits(docx_bytes=2 * MIB))
        assert "decompress" in reason and "MIGRALEX_MAX_DOCX_MB" in reason


@pytest.mark.parametrize("kind", ["billion laughs", "external entity"])
def test_docx_with_entities_is_refused(tmp_path: Path, kind: str) -> None:
    template = rb.agreement_docx(1)
    data = (
        rb.billion_laughs_docx(template)
        if kind == "billion laughs"
        else rb.external_entity_docx(template, Path("/etc/hostname"))
    )
    assert "entities" in _refusal(_write(tmp_path, "x.docx", data))


def test_docx_that_is_no_zip(tmp_path: Path) -> None:
    assert "zip" in _refusal(_write(tmp_path, "fake.docx", b"PK\x03\x04 not a zip"))


def test_deeply_nested_html_is_refused_quickly(tmp_path: Path) -> None:
    import time

    path = _write(tmp_path, "deep.html", rb.deep_html(100_000).encode())
    t0 = time.perf_counter()
    reason = _refusal(path)
    assert "levels deep" in reason
    assert time.perf_counter() - t0 < 5  # BeautifulSoup alone took 10 s on this page
    assert read_file(_write(tmp_path, "ok.html", rb.deep_html(50).encode())).text


def test_symlink_loop_is_named_as_such(tmp_path: Path) -> None:
    loop = tmp_path / "loop.md"
    loop.symlink_to(loop)
    assert "symbolic link" in _refusal(loop)


def test_invalid_encoding_says_which_encodings_are_read(tmp_path: Path) -> None:
    reason = _refusal(_write(tmp_path, "bad.txt", b"Article \x81\x8d\x8f\x90\x9d"))
    assert "encoding" in reason and "UTF-8" in reason


def test_docx_with_a_corrupt_compressed_part_is_refused(tmp_path: Path) -> None:
    # zlib.error escaped the reader (found by the fuzzer, issue #19)
    import zipfile

    data = bytearray(rb.agreement_docx(1))
    info = zipfile.ZipFile(_write(tmp_path, "ok.docx", bytes(data))).getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start, start + min(info.compress_size, 200)):
        data[i] ^= 0x5A
    reason = _refusal(_write(tmp_path, "corrupt.docx", bytes(data)))
    assert "corrupt" in reason or "not a DOCX" in reason


def test_html_that_looks_like_xml_reads_without_warnings(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    # bs4's XMLParsedAsHTMLWarning went to stderr beside the CLI's own lines
    path = _write(tmp_path, "x.html", b'<?xml version="1.0"?><p>Article 1 Each Party pays.</p>')
    assert "Article 1" in read_file(path).text
    assert not [w for w in recwarn if "bs4" in str(w.category.__module__)]


@pytest.mark.parametrize(
    ("after", "insert"),
    [
        (b"endobj\nxref\n0 ", b"1"),  # the xref table claims 81 objects: LimitReachedError
        (b"trailer\n", b"1"),  # the trailer is a number, not a dictionary: AttributeError
    ],
)
def test_pdf_with_a_broken_object_tree_is_refused(
    tmp_path: Path, after: bytes, insert: bytes
) -> None:
    # pypdf's LimitReachedError / AttributeError escaped the reader (found by the fuzzer)
    data = rb.pdf_bytes([["Article 1", "Text."], ["Article 2", "More text."]])
    assert data.count(after) == 1
    broken = data.replace(after, after + insert)
    assert "not a readable PDF" in _refusal(_write(tmp_path, "broken.pdf", broken))
