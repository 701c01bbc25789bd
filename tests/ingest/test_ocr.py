"""OCR of scanned PDFs: a scan made at test time from a real agreement, read back by Tesseract."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import corpus_file

from migralex.corpus.errors import ReadError
from migralex.ingest.base import read_file
from migralex.ingest.pdf_reader import read_pdf


def _make_scan(source: Path, pages: list[int], out: Path, dpi: int = 200) -> Path:
    """Rasterise pages (0-based) of a PDF and save them as an image-only PDF."""
    pdfium = pytest.importorskip("pypdfium2")
    pdf = pdfium.PdfDocument(str(source))
    images = [pdf[i].render(scale=dpi / 72).to_pil().convert("L") for i in pages]
    pdf.close()
    images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
@pytest.mark.parametrize(
    ("relative", "page", "labels"),
    [("ssa/ca-si-96-32.pdf", 3, ["ARTICLE 2", "ARTICLE 3", "ARTICLE 4", "ARTICLE 5"])],
)
def test_scanned_pages_are_ocrd_and_keep_article_labels(
    tmp_path: Path, relative: str, page: int, labels: list[str]
) -> None:
    scan = _make_scan(corpus_file(relative), [page], tmp_path / "scan.pdf")
    parsed = read_pdf(scan, language="en")
    assert parsed.ocr_pages == (1,)
    found = re.findall(r"^ARTICLE \d+", parsed.text, re.MULTILINE)
    assert found == labels


def test_scan_without_tesseract_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = _make_scan(corpus_file("ssa/ca-si-96-32.pdf"), [0], tmp_path / "scan.pdf", dpi=40)
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(ReadError, match="OCR needs tesseract") as info:
        read_file(scan)
    assert str(scan) in str(info.value)
