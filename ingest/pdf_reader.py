"""PDF reader (pypdf): one block per text line, a page map, running headers and footers removed.

Gazettes and treaty databases print a running header (the title, often cut short) on top of every
page and a page number at the bottom. Left in, they land inside clauses, in the middle of
sentences. A line is a running header/footer when, with digits masked, it stands among the first
or last :data:`EDGE_LINES` lines of at least half the pages (and of two pages at least); lines
that are only a page number ("Page 3", "- 3 -", "3/13") at a page edge are dropped too; a bare
number ("4") only when it fits the page numbering (page position plus an offset most pages share),
since acts print section numbers on a line of their own.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migralex.corpus.errors import ReadError
from migralex.ingest.base import (
    DEFAULT_LIMITS,
    Limits,
    ParsedText,
    TextBuilder,
    clean_line,
)

if TYPE_CHECKING:
    from pypdf import PdfReader

EDGE_LINES = 2
#: Rasterisation resolution for OCR (dots per inch); Tesseract reads 300 dpi best.
OCR_DPI = 300
#: Tesseract languages used when no language hint is given.
OCR_LANGUAGES = "eng+fra+spa"
_TESSERACT_LANG = {"en": "eng", "fr": "fra", "es": "spa", "nl": "nld", "de": "deu", "pt": "por"}
_PAGE_NUMBER = re.compile(
    r"^(?:(?:page|pagina|página|p\.)\s*)?[-–—]?\s*\d{1,4}\s*(?:(?:/|of|de|sur|van)\s*\d{1,4})?\s*[-–—]?$",
    re.IGNORECASE,
)


def _bare_number(line: str) -> int | None:
    m = re.fullmatch(r"[-–—]?\s*(\d{1,4})\s*[-–—]?", line)
    return int(m.group(1)) if m else None


def _page_number_offset(pages: list[list[str]]) -> int | None:
    """The offset between printed bare page numbers and page positions, if one is consistent.

    A bare number at a page edge ("4") is a page number only when it equals the page position
    plus an offset shared by most pages that print one; otherwise it may be a section number.
    """
    offsets: Counter[int] = Counter()
    for number, lines in enumerate(pages, start=1):
        for line in {*lines[:EDGE_LINES], *lines[-EDGE_LINES:]}:
            value = _bare_number(line)
            if value is not None:
                offsets[value - number] += 1
    if not offsets:
        return None
    best, count = offsets.most_common(1)[0]
    return best if count >= max(2, len(pages) // 3) else None


def _is_page_number(line: str, page: int, offset: int | None) -> bool:
    """True for "Page 3", "3/13", "- 3 -" and for a bare number that fits the page numbering."""
    if not _PAGE_NUMBER.match(line):
        return False
    value = _bare_number(line)
    if value is None:
        return True  # "Page 3", "3 of 13": worded, not a section number
    return offset is not None and value - page == offset


#: A structural label on a line of its own ("Article 9", "ARTICLE 13", "Artikel 4", "Section
#: 12"): when articles often start at the top of a page, their labels mask alike ("article #")
#: on most pages, but each is printed once; they are never running lines.
_LABEL_LINE = re.compile(
    r"^(?:article|artikel|art\.|art[ií]culo|section|chapter|chapitre|cap[ií]tulo|hoofdstuk)"
    r"\s+(?:\d{1,3}|[ivxlc]{1,6})(?:\s*(?:er|bis|ter))?\.?$",
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
    # A bare number masks to "#": whether it is a page number is decided by its value.
    running_top.discard("#")
    running_bottom.discard("#")
    header = ""
    if running_top:
        header_key = max(running_top, key=lambda k: (top[k], len(k)))
        for lines in pages:
            match = next((x for x in lines[:EDGE_LINES] if _mask(x) == header_key), None)
            if match:
                header = match
                break
    offset = _page_number_offset(pages)
    out: list[list[str]] = []
    for number, lines in enumerate(pages, start=1):
        keep = list(lines)

        def is_running(line: str, running: set[str], page: int = number) -> bool:
            if _LABEL_LINE.match(line):
                return False
            return _mask(line) in running or _is_page_number(line, page, offset)

        # Only the original first and last EDGE_LINES lines are candidates: after a running
        # header is dropped, the next line ("4", a section number) is body text.
        head = [x for x in keep[:EDGE_LINES] if not is_running(x, running_top)]
        keep = head + keep[EDGE_LINES:]
        n_tail = min(EDGE_LINES, max(0, len(keep) - len(head)))
        if n_tail:
            tail = [x for x in keep[-n_tail:] if not is_running(x, running_bottom)]
            keep = keep[:-n_tail] + tail
        out.append(keep)
    return out, header


def _has_image(page: Any) -> bool:
    """True when a pypdf page's resources hold an XObject (a scanned image, usually)."""
    try:
        resources: Any = page.get("/Resources")
        return resources is not None and bool(resources.get_object().get("/XObject"))
    except Exception:  # noqa: BLE001 - odd resource dictionaries must not fail the read
        return False


def _tesseract_languages(hint: str | None, binary: str) -> str:
    """Tesseract language string for an ISO 639-1 hint, limited to installed languages."""
    try:
        listed = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        listed = []
    wanted = [_TESSERACT_LANG.get(hint, hint)] if hint else OCR_LANGUAGES.split("+")
    langs = [x for x in wanted if x in listed] or [
        x for x in OCR_LANGUAGES.split("+") if x in listed
    ]
    return "+".join(langs) or "eng"


def ocr_pages(path: Path, pages: Sequence[int], language: str | None = None) -> dict[int, str]:
    """OCR pages of a PDF: rasterise them with pypdfium2 and read them with the tesseract CLI.

    Args:
        path: the PDF.
        pages: 0-based page indexes to OCR.
        language: ISO 639-1 hint ("en", "fr", "es"); else :data:`OCR_LANGUAGES`.

    Returns:
        The text of each page, by 0-based index.

    Raises:
        ReadError: tesseract is not installed, or it or the rasteriser fails.
    """
    binary = shutil.which("tesseract")
    if binary is None:
        raise ReadError(
            path,
            f"page(s) {', '.join(str(p + 1) for p in pages)} have no text layer; OCR needs "
            "tesseract, which is not installed (Debian: apt-get install tesseract-ocr "
            "tesseract-ocr-fra tesseract-ocr-spa)",
        )
    import pypdfium2 as pdfium

    langs = _tesseract_languages(language, binary)
    out: dict[int, str] = {}
    # One OpenMP thread per tesseract: on a busy 2-core machine more threads ran 5x slower.
    env = {**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise ReadError(path, f"cannot rasterise the PDF for OCR ({exc})") from exc
    try:
        with tempfile.TemporaryDirectory(prefix="migralex-ocr-") as tmp:
            for index in pages:
                image = pdf[index].render(scale=OCR_DPI / 72).to_pil().convert("L")
                png = Path(tmp) / f"page-{index + 1}.png"
                image.save(png, dpi=(OCR_DPI, OCR_DPI))
                done = subprocess.run(
                    [binary, str(png), "stdout", "-l", langs, "--dpi", str(OCR_DPI)],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                    env=env,
                )
                if done.returncode != 0:
                    raise ReadError(
                        path, f"tesseract failed on page {index + 1}: {done.stderr.strip()[:200]}"
                    )
                out[index] = done.stdout
    except subprocess.TimeoutExpired as exc:
        raise ReadError(path, "tesseract timed out") from exc
    finally:
        pdf.close()
    return out


def _corrupt_reason(exc: Exception) -> str:
    """Plain words for a pypdf failure other than its ``PdfReadError``."""
    detail = " ".join(str(exc).split())
    if "loop" in detail.lower():
        return "not a readable PDF: its objects refer to themselves in a loop (a corrupt file)"
    if isinstance(exc, RecursionError):
        return "not a readable PDF: its objects are nested too deeply (a corrupt file)"
    return "not a readable PDF: its internal structure is corrupt"


def _truncated(path: Path) -> bool:
    """True when a PDF has no ``%%EOF`` marker at all: its end is missing (a cut download).

    Raises:
        ReadError: the file cannot be read.
    """
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                raise ReadError(path, "the file is empty (0 bytes)")
            # the marker sits at the end; incremental updates add more, the last one ends it
            fh.seek(max(0, size - 64 * 1024))
            tail = fh.read()
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    return b"%%EOF" not in tail


def read_pdf(
    path: Path, language: str | None = None, *, limits: Limits = DEFAULT_LIMITS
) -> ParsedText:
    """Read a PDF with pypdf; pages without a text layer (scans) are OCR'd with Tesseract.

    Args:
        path: the PDF.
        language: ISO 639-1 hint for OCR ("en", "fr", "es"); without it ``eng+fra+spa``.
        limits: ``limits.pages`` is checked before any page is read.

    Returns:
        One block per text line (no heading hints: PDFs carry none we can trust); ``paged``;
        ``ocr_pages`` lists the 1-based pages read by OCR.

    Raises:
        ReadError: not a PDF, encrypted with a password (an empty user password is tried
            first: such files open without one in any viewer), more than ``limits.pages``
            pages, or a scan while tesseract is missing.
    """
    import pypdf
    from pypdf.errors import PdfReadError

    # pypdf logs what it repairs ("EOF marker not found") to stderr; our error line says it.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if _truncated(path):
        raise ReadError(
            path,
            "the PDF is truncated (it has no end-of-file marker): the download or copy was "
            "cut short",
        )
    try:
        reader = pypdf.PdfReader(path)
        raw_pages, blank = _page_texts(reader, path, limits)
    except ReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ReadError(path, f"not a readable PDF ({exc})") from exc
    except Exception as exc:  # noqa: BLE001 - pypdf on a broken file raises many more types
        # (LimitReachedError on object loops, AttributeError, AssertionError: found by fuzzing)
        raise ReadError(path, _corrupt_reason(exc)) from exc
    if not raw_pages:
        raise ReadError(path, "PDF has no pages")
    if blank:
        for index, text in ocr_pages(path, blank, language).items():
            raw_pages[index] = text
    pages, header = strip_running_lines([_page_lines(p) for p in raw_pages])
    builder = _line_blocks(pages)
    ocr = tuple(i + 1 for i in blank if raw_pages[i].strip())
    return builder.build(title=_meta_title(reader) or header, ocr_pages=ocr, paged=True)


def _line_blocks(pages: Sequence[Sequence[str]]) -> TextBuilder:
    """A builder holding one block per line, a new page for each page after the first."""
    builder = TextBuilder()
    for number, lines in enumerate(pages):
        if number:
            builder.new_page()
        for line in lines:
            builder.add(line)
    return builder


def _page_texts(reader: PdfReader, path: Path, limits: Limits) -> tuple[list[str], list[int]]:
    """The text layer of every page, and the 0-based indexes of the scanned pages among them
    (no text, an image drawn): what OCR is to read.

    Raises:
        ReadError: a password is needed, or the PDF has more than ``limits.pages`` pages.
    """
    if reader.is_encrypted:
        _decrypt(reader, path)
    count = len(reader.pages)
    if count > limits.pages:
        raise ReadError(
            path,
            f"PDF has {count:,} pages, over the limit of {limits.pages:,}"
            " (MIGRALEX_MAX_PAGES raises it)",
        )
    raw_pages = [page.extract_text() or "" for page in reader.pages]
    # Pages without text that draw an image are scans; truly blank pages are left alone.
    blank = [i for i, p in enumerate(raw_pages) if not p.strip() and _has_image(reader.pages[i])]
    return raw_pages, blank


def _decrypt(reader: PdfReader, path: Path) -> None:
    """Open an encrypted PDF with the empty user password (such files open in any viewer).

    Raises:
        ReadError: the file needs a real password, or pypdf cannot decrypt it.
    """
    import pypdf

    try:
        opened = reader.decrypt("")
    except Exception as exc:  # noqa: BLE001 - pypdf raises several types here
        raise ReadError(path, f"PDF is encrypted and cannot be opened ({exc})") from exc
    # decrypt returns NOT_DECRYPTED (0) for a wrong password instead of raising.
    if opened == pypdf.PasswordType.NOT_DECRYPTED:
        raise ReadError(
            path,
            "PDF is encrypted with a password; save an unprotected copy (or print it "
            "to PDF) and ingest that",
        )


def _meta_title(reader: PdfReader) -> str:
    """The ``/Title`` of the PDF's metadata, "" when it has none or the metadata is broken."""
    try:
        metadata: Any = reader.metadata or {}
        return str(metadata.get("/Title") or "")
    except Exception:  # noqa: BLE001 - broken metadata must not fail the read
        return ""
