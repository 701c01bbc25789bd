"""DOCX reader (python-docx): paragraphs and table rows in body order, heading styles as hints.

Word headers and footers live outside the body and are not read. Pages come from explicit page
breaks and Word's last rendered page breaks when the file has them, else the document is one page.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from migralex.corpus.errors import ReadError
from migralex.ingest.base import ParsedText, TextBuilder, register

_HEADING_STYLE = re.compile(r"^(?:heading|titre|título|kop)\s*(\d)", re.IGNORECASE)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _level(style_name: str) -> int:
    if style_name.lower() in {"title", "titre", "título", "titel"}:
        return 1
    m = _HEADING_STYLE.match(style_name)
    return int(m.group(1)) if m else 0


def _page_breaks_before(paragraph: object) -> int:
    """Count page breaks inside a paragraph (explicit or last rendered)."""
    el = paragraph._p  # type: ignore[attr-defined]
    n = 0
    for br in el.iter(f"{_W}br"):
        if br.get(f"{_W}type") == "page":
            n += 1
    n += sum(1 for _ in el.iter(f"{_W}lastRenderedPageBreak"))
    return n


@register(".docx")
def read_docx(path: Path) -> ParsedText:
    """Read a DOCX file.

    Returns:
        One block per non-empty paragraph and per table row (cells joined by `` | ``);
        ``Heading N``/``Title`` styles give heading levels.

    Raises:
        ReadError: not a DOCX (zip) file or corrupt.
    """
    import docx
    from docx.opc.exceptions import OpcError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (OpcError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ReadError(path, f"not a readable DOCX file ({exc})") from exc
    builder = TextBuilder()
    title = ""
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            for _ in range(_page_breaks_before(item)):
                builder.new_page()
            level = _level(item.style.name if item.style is not None else "")
            text = item.text
            if level == 1 and not title and text.strip():
                title = text
            builder.add(text, level)
        elif isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    t = " ".join(cell.text.split())
                    if t and (not cells or cells[-1] != t):  # merged cells repeat their text
                        cells.append(t)
                builder.add(" | ".join(cells))
    return builder.build(title=title or (document.core_properties.title or ""))
