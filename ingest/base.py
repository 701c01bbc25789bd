"""What every reader produces, and the table that binds file formats to readers.

A reader turns one file into :class:`ParsedText`: the document text (blocks joined by ``\\n``),
a page map and heading hints. Readers do the I/O; everything downstream is pure.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from migralex.corpus.errors import ReadError

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u3000]+")
#: Editorial notes a treaty database prints as a line of its own inside a provision, which are
#: not the provision's text: the Dutch treaty database (wetten.overheid.nl, BWB; a third of
#: ../shared/corpus) puts "Treedt in werking op een nader te bepalen tijdstip" ("enters into
#: force on a date to be determined") or "Treedt in werking per 01-07-2027" under the heading of
#: every article not yet in force, in its PDF and its text exports alike (a PDF line sometimes
#: carries it after a title: the note is cut from the end of a line). Left in, the note was
#: each such article's opening: the sentence a search hit, a checklist evidence and the
#: embeddings began with (155 clauses of 4 documents of the corpus).
EDITORIAL_NOTE = re.compile(
    r"(?:^|\s)treedt in werking (?:op een nader te bepalen tijdstip"
    r"|per \d{1,2}[-./]\d{1,2}[-./]\d{4})\.?$",
    re.IGNORECASE,
)


def clean_line(text: str) -> str:
    """Collapse runs of spaces (incl. no-break and thin spaces) and strip the ends."""
    return _SPACES.sub(" ", text.replace("\r", "")).strip()


@dataclass(frozen=True, slots=True)
class Block:
    """A line or paragraph of the document text.

    Attributes:
        start: 0-based offset of its first character in :attr:`ParsedText.text`.
        end: end offset (exclusive); the block text has no newline.
        page: 1-based page.
        level: heading level hinted by the format (1 = ``h1``/``Heading 1``/``#``), 0 for body.
    """

    start: int
    end: int
    page: int
    level: int = 0


@dataclass(frozen=True, slots=True)
class ParsedText:
    """A file's text as a reader delivers it.

    Attributes:
        text: blocks joined by single newlines.
        blocks: the blocks, in order, covering ``text`` except the separating newlines.
        page_starts: offset at which each page begins (``page_starts[0] == 0``).
        title: the title the file carries (``<title>``, first heading, running header), or "".
        ocr_pages: 1-based pages whose text came from OCR.
        paged: True when the format has real pages (PDF); False for HTML, DOCX, Markdown, text.
    """

    text: str
    blocks: tuple[Block, ...]
    page_starts: tuple[int, ...]
    title: str = ""
    ocr_pages: tuple[int, ...] = ()
    paged: bool = False

    @property
    def pages(self) -> int:
        """Number of pages (>= 1)."""
        return len(self.page_starts)

    def block_text(self, block: Block) -> str:
        """Return the text of one block."""
        return self.text[block.start : block.end]


@dataclass
class TextBuilder:
    """Accumulates blocks into a :class:`ParsedText`; empty blocks are skipped."""

    parts: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    page_starts: list[int] = field(default_factory=lambda: [0])
    length: int = 0
    page: int = 1

    def new_page(self) -> None:
        """Start the next page at the current end of the text."""
        self.page += 1
        self.page_starts.append(self.length + (1 if self.parts else 0))

    def add(self, text: str, level: int = 0) -> None:
        """Append one block (cleaned with :func:`clean_line`, an :data:`EDITORIAL_NOTE` at its
        end cut off) on the current page; an empty block is left out."""
        line = EDITORIAL_NOTE.sub("", clean_line(text)).rstrip()
        if not line:
            return
        if self.parts:
            self.length += 1  # the joining newline
        self.blocks.append(Block(self.length, self.length + len(line), self.page, level))
        self.parts.append(line)
        self.length += len(line)

    def build(
        self, title: str = "", ocr_pages: tuple[int, ...] = (), paged: bool = False
    ) -> ParsedText:
        """Return the accumulated :class:`ParsedText`."""
        text = "\n".join(self.parts)
        starts = tuple(min(s, len(text)) for s in self.page_starts)
        return ParsedText(text, tuple(self.blocks), starts, clean_line(title), ocr_pages, paged)


MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """What a reader accepts; beyond it a file is refused with a :class:`ReadError` saying
    which limit and how to raise it (README "Limits").

    Attributes:
        file_bytes: largest file, in bytes, checked before the file is opened.
        pages: most pages of a PDF, checked before any page is read.
        chars: most characters of a document's text, checked after reading.
        docx_bytes: most uncompressed bytes of a DOCX's XML parts, from the zip directory,
            checked before anything is decompressed.
    """

    file_bytes: int = 32 * MIB
    pages: int = 1_000
    chars: int = 5_000_000
    docx_bytes: int = 100 * MIB

    @classmethod
    def from_settings(cls) -> Limits:
        """The limits configured by ``MIGRALEX_MAX_*`` (:class:`~migralex.corpus.settings.Settings`).

        Raises:
            ValidationError: an unknown ``MIGRALEX_`` variable; pydantic's for a bad value.
        """
        from migralex.corpus.settings import Settings

        s = Settings()
        return cls(
            file_bytes=int(s.max_file_mb * MIB),
            pages=s.max_pages,
            chars=s.max_document_chars,
            docx_bytes=int(s.max_docx_mb * MIB),
        )


#: The limits a reader applies when called without any (read_file passes the configured ones).
DEFAULT_LIMITS = Limits()


def megabytes(n: int) -> str:
    """``n`` bytes in MB with one decimal ("3.2 MB"; 1 MB = 2**20 bytes)."""
    return f"{n / MIB:.1f} MB"


def check_size(path: Path, limits: Limits) -> None:
    """Refuse a file larger than ``limits.file_bytes`` before anything reads it.

    Raises:
        ReadError: the file is over the limit (the message gives both sizes and the setting
            that raises it), or cannot be looked at.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if size > limits.file_bytes:
        raise ReadError(
            path,
            f"file is {megabytes(size)}, over the limit of {megabytes(limits.file_bytes)}"
            " (MIGRALEX_MAX_FILE_MB raises it)",
        )


#: Byte-order marks of UTF-16 and UTF-32 text (Windows "Unicode" exports), longest first.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def read_text_file(path: Path) -> str:
    """Read a text-based file (HTML, Markdown, plain text): UTF-16/UTF-32 when it starts with
    their byte-order mark (Windows "Unicode" exports), else UTF-8, else Windows-1252.

    Raises:
        ReadError: unreadable, binary (NUL bytes without a byte-order mark), or in no such
            encoding.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ReadError(
                    path,
                    f"starts with a {encoding.upper()} byte-order mark but is not "
                    f"{encoding.upper()} text (invalid bytes at offset {exc.start})",
                ) from exc
    if b"\x00" in data[:4096]:
        raise ReadError(path, "binary data, not text")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ReadError(
        path,
        "the text is in no encoding migralex reads (UTF-8, UTF-16 or UTF-32 with a byte-order"
        " mark, Windows-1252); save it as UTF-8",
    )


class Reader(Protocol):
    """Reads one file format."""

    def __call__(self, path: Path, /, *, limits: Limits = DEFAULT_LIMITS) -> ParsedText:
        """Read ``path`` within ``limits`` (default :class:`Limits`).

        Raises:
            ReadError: corrupt, encrypted, empty or text-less file, or over a limit.
        """
        ...


#: The format -> reader table (docling's format -> backend binding, as data): file suffix
#: (lowercase, with the dot) -> ``"module:function"`` of the reader, imported on first use so
#: that importing migralex stays light. A new format is one row here and one reader module.
READERS: Mapping[str, str] = MappingProxyType(
    {
        ".pdf": "migralex.ingest.pdf_reader:read_pdf",
        ".docx": "migralex.ingest.docx_reader:read_docx",
        ".html": "migralex.ingest.html_reader:read_html",
        ".htm": "migralex.ingest.html_reader:read_html",
        ".xhtml": "migralex.ingest.html_reader:read_html",
        ".md": "migralex.ingest.text_reader:read_markdown",
        ".markdown": "migralex.ingest.text_reader:read_markdown",
        ".txt": "migralex.ingest.text_reader:read_text",
        ".text": "migralex.ingest.text_reader:read_text",
    }
)


def known_suffixes() -> tuple[str, ...]:
    """Return the file suffixes migralex can read (:data:`READERS`), sorted."""
    return tuple(sorted(READERS))


@functools.cache
def reader_for(suffix: str) -> Reader | None:
    """The reader of a file suffix (any case, with the dot), imported on first use; None for
    a suffix :data:`READERS` does not list."""
    target = READERS.get(suffix.lower())
    if target is None:
        return None
    module, _, name = target.partition(":")
    reader: Reader = getattr(importlib.import_module(module), name)
    return reader


def read_file(path: Path, limits: Limits | None = None) -> ParsedText:
    """Read a file with the reader :data:`READERS` names for its suffix.

    Args:
        path: the file.
        limits: what is accepted; default :meth:`Limits.from_settings`.

    Raises:
        ReadError: unknown format (the message lists the known ones), missing file, a file,
            page count or text over ``limits``, or what the reader raises.
    """
    limits = limits or Limits.from_settings()
    reader = reader_for(path.suffix)
    if reader is None:
        raise ReadError(
            path,
            f"unknown format {path.suffix or '(none)'!r}; known: {', '.join(known_suffixes())}",
        )
    if path.is_symlink() and not path.exists():
        raise ReadError(path, "a symbolic link that loops or leads to nothing")
    if not path.is_file():
        raise ReadError(path, "no such file")
    check_size(path, limits)
    parsed = reader(path, limits=limits)
    if len(parsed.text) > limits.chars:
        raise ReadError(
            path,
            f"the text has {len(parsed.text):,} characters, over the limit of "
            f"{limits.chars:,} (MIGRALEX_MAX_DOCUMENT_CHARS raises it)",
        )
    if not parsed.text.strip():
        raise ReadError(path, "no text found in the file")
    return parsed
