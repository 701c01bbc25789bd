"""PDF reader (pypdf): one block per text line, a page map, running headers and footers removed.

Gazettes and treaty databases print a running header (the title, often cut short) on top of every
page and a page number at the bottom. Left in, they land inside clauses, in the middle of
sentences. A line is a running header/footer when, with digits masked, it stands among the first
or last :data:`EDGE_LINES` lines of at least half the pages (and of two pages at least); lines
that are only a page number ("3", "Page 3", "- 3 -", "3/13") at a page edge are dropped too.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from migralex.corpus.errors import ReadError
from migralex.ingest.base import ParsedText, TextBuilder, clean_line, register

EDGE_LINES = 2
_PAGE_NUMBER = re.compile(
    r"^(?:(?:page|pagina|página|p\.)\s*)?[-–—]?\s*\d{1,4}\s*(?:(?:/|of|de|sur|van)\s*\d{1,4})?\s*[-–—]?$",
    re.IGNORECASE,
)


def _mask(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower())


def _page_lines(text: str) -> list[str]:
    return [ln for ln in (clean_line(x) for x in text.split("\n")) if ln]


def strip_running_lines(pages: list[list[str]]) -> tuple[list[list[str]], str]:
    """Remove running headers, footers and page numbers from each page's lines.

    Args:
        pages: the lines of each page, in order.

    Returns:
        The pages without those lines, and the most frequent running header ("" if none),
        which often is the document title.
    """
    top: Counter[str] = Counter()
    bottom: Counter[str] = Counter()
    for lines in pages:
        top.update({_mask(x) for x in lines[:EDGE_LINES]})
        bottom.update({_mask(x) for x in lines[-EDGE_LINES:]})
    threshold = max(2, (len(pages) + 1) // 2)
    running_top = {k for k, n in top.items() if n >= threshold}
    running_bottom = {k for k, n in bottom.items() if n >= threshold}
    header = ""
    if running_top:
        header_key = max(running_top, key=lambda k: (top[k], len(k)))
        for lines in pages:
            match = next((x for x in lines[:EDGE_LINES] if _mask(x) == header_key), None)
            if match:
                header = match
                break
    out: list[list[str]] = []
    for lines in pages:
        keep = list(lines)
        # Top edge: drop running lines and bare page numbers among the first EDGE_LINES.
        i = 0
        while i < min(EDGE_LINES, len(keep)):
            if _mask(keep[i]) in running_top or _PAGE_NUMBER.match(keep[i]):
                keep.pop(i)
            else:
                i += 1
        j = 0
        while j < EDGE_LINES and keep:
            last = keep[-1]
            if _mask(last) in running_bottom or _PAGE_NUMBER.match(last):
                keep.pop()
            else:
                j += 1
        out.append(keep)
    return out, header


@register(".pdf")
def read_pdf(path: Path) -> ParsedText:
    """Read a PDF with pypdf.

    Returns:
        One block per text line (no heading hints: PDFs carry none we can trust); ``paged``.

    Raises:
        ReadError: not a PDF, encrypted with a password, or without any text layer.
    """
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - pypdf raises several types here
                raise ReadError(path, "PDF is encrypted with a password") from exc
        raw_pages = [page.extract_text() or "" for page in reader.pages]
    except ReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ReadError(path, f"not a readable PDF ({exc})") from exc
    if not raw_pages:
        raise ReadError(path, "PDF has no pages")
    if not any(p.strip() for p in raw_pages):
        raise ReadError(path, "PDF has no text layer (a scan?); OCR it first")
    pages, header = strip_running_lines([_page_lines(p) for p in raw_pages])
    builder = TextBuilder()
    for number, lines in enumerate(pages):
        if number:
            builder.new_page()
        for line in lines:
            builder.add(line)
    meta_title = ""
    try:
        metadata: Any = reader.metadata or {}
        meta_title = str(metadata.get("/Title") or "")
    except Exception:  # noqa: BLE001 - broken metadata must not fail the read
        meta_title = ""
    return builder.build(title=meta_title or header, paged=True)
