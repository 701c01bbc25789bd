"""DOCX reader (python-docx): paragraphs and table rows in body order, heading styles as hints.

Word headers and footers live outside the body and are not read. Pages come from explicit page
breaks and Word's last rendered page breaks when the file has them, else the document is one page.

Before python-docx parses anything, the zip directory is checked (:func:`check_docx_zip`): the
uncompressed size of all parts must stay under ``Limits.docx_bytes`` (``zipfile`` stops a
member at its declared size, so a lying header cannot grow past it) and no XML part may declare
a DOCTYPE (Word never writes one; it is how entity-expansion attacks start). python-docx parses
with lxml and ``resolve_entities=False``, so external entities are never fetched either.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from migralex.corpus.errors import ReadError
from migralex.ingest.base import (
    DEFAULT_LIMITS,
    Limits,
    ParsedText,
    TextBuilder,
    megabytes,
)

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


#: Bytes of each XML part searched for a DOCTYPE (the XML prolog precedes the root element).
PROLOG_BYTES = 4096


def check_docx_zip(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a DOCX that is no zip, would decompress past ``limits.docx_bytes``, or declares
    a DOCTYPE in an XML part, before anything is parsed.

    Raises:
        ReadError: saying which, in words.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            total = sum(max(0, i.file_size) for i in infos)
            if total > limits.docx_bytes:
                raise ReadError(
                    path,
                    f"the DOCX would decompress to {megabytes(total)}, over the limit of "
                    f"{megabytes(limits.docx_bytes)} (a zip bomb, or MIGRALEX_MAX_DOCX_MB "
                    "raises it)",
                )
            for info in infos:
                if not info.filename.lower().endswith((".xml", ".rels")):
                    continue
                with archive.open(info) as fh:
                    head = fh.read(PROLOG_BYTES)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise ReadError(
                        path,
                        f"the DOCX part {info.filename} declares XML entities (a DOCTYPE), "
                        "which Word never writes; refused as unsafe",
                    )
    except zipfile.BadZipFile as exc:
        raise ReadError(
            path, "not a DOCX file: DOCX files are zip archives and this one is not (or is cut)"
        ) from exc
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError, zlib.error) as exc:
        raise ReadError(path, _zip_reason(exc)) from exc
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc


def _zip_reason(exc: BaseException) -> str:
    """Plain words for a zip member that cannot be decompressed."""
    detail = " ".join(str(exc).split())[:120]
    return f"the DOCX zip archive is corrupt: a part cannot be decompressed ({detail})"


def _xml_reason(exc: Exception) -> str:
    """Plain words for lxml's complaint about a DOCX part."""
    detail = " ".join(str(exc).split())
    if "amplification" in detail or "entity" in detail.lower():
        return "the DOCX's XML expands entities past a safe size; refused as unsafe"
    if "huge" in detail.lower() or "too long" in detail.lower():
        return "the DOCX holds a text run too long to parse safely (over 10 million characters)"
    return f"the DOCX's XML is malformed ({detail[:200]})"


def read_docx(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> ParsedText:
    """Read a DOCX file.

    Returns:
        One block per non-empty paragraph and per table row (cells joined by `` | ``);
        ``Heading N``/``Title`` styles give heading levels.

    Raises:
        ReadError: not a DOCX (zip) file, corrupt, over ``limits.docx_bytes`` uncompressed,
            or with a DOCTYPE (:func:`check_docx_zip`).
    """
    import docx
    from docx.opc.exceptions import OpcError
    from lxml import etree

    check_docx_zip(path, limits)
    try:
        document = docx.Document(str(path))
    except etree.XMLSyntaxError as exc:
        raise ReadError(path, _xml_reason(exc)) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise ReadError(path, _zip_reason(exc)) from exc
    except (OpcError, KeyError, ValueError, OSError) as exc:
        raise ReadError(path, f"not a readable DOCX file ({exc})") from exc
    try:
        return _read_body(document)
    except etree.XMLSyntaxError as exc:
        raise ReadError(path, _xml_reason(exc)) from exc


def _read_body(document: object) -> ParsedText:
    """The paragraphs and table rows of a python-docx ``Document``, in body order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document_: Any = document
    builder = TextBuilder()
    title = ""
    for item in document_.iter_inner_content():
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
    return builder.build(title=title or (document_.core_properties.title or ""))
