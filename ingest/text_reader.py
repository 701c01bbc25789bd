"""Markdown (markdown-it-py) and plain-text readers.

Markdown headings give heading hints (also ``###Annex``, without the space); ordered-list items keep their printed numbers ("1."), which
matter for paragraph numbering; inline markup and link targets are dropped, link text is kept.
Plain text gives one block per line and no hints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migralex.ingest.base import (
    DEFAULT_LIMITS,
    Limits,
    ParsedText,
    TextBuilder,
    read_text_file,
)

if TYPE_CHECKING:
    from markdown_it.token import Token

_ATX_NO_SPACE = re.compile(r"^( {0,3}#{1,6})(?=[^#\s])", re.MULTILINE)


def _inline_text(token: object) -> str:
    parts: list[str] = []
    for child in getattr(token, "children", None) or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def read_markdown(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> ParsedText:
    """Read a Markdown file (CommonMark with tables).

    Returns:
        One block per paragraph, heading, list item paragraph or table row.

    Raises:
        ReadError: unreadable or binary file.
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    # Treaty-database exports write "###Annex" without the space CommonMark requires.
    source = _ATX_NO_SPACE.sub(r"\1 ", read_text_file(path))
    blocks = _MarkdownBlocks(TextBuilder())
    handlers = {
        "heading_open": blocks.heading_open,
        "heading_close": blocks.heading_close,
        "list_item_open": blocks.list_item_open,
        "tr_open": blocks.tr_open,
        "tr_close": blocks.tr_close,
        "inline": blocks.inline,
        "fence": blocks.code,
        "code_block": blocks.code,
    }
    for tok in md.parse(source):
        handler = handlers.get(tok.type)
        if handler is not None:
            handler(tok)
    return blocks.builder.build(title=blocks.title)


@dataclass(slots=True)
class _MarkdownBlocks:
    """Turns markdown-it tokens into blocks: one handler per token type that matters."""

    builder: TextBuilder
    title: str = ""
    level: int = 0  # heading level of the open heading, 0 outside headings
    prefix: str = ""  # the list item's printed number ("1. "), for its first paragraph
    row: list[str] = field(default_factory=list)  # cells of the open table row
    in_row: bool = False

    def heading_open(self, tok: Token) -> None:
        """Enter a heading of level ``h1``..``h6``."""
        self.level = int(tok.tag[1])

    def heading_close(self, tok: Token) -> None:
        """Leave a heading."""
        self.level = 0

    def list_item_open(self, tok: Token) -> None:
        """Keep the item's printed marker ("1." or "-") for its first paragraph."""
        self.prefix = f"{tok.info}{tok.markup} " if tok.info else f"{tok.markup} "

    def tr_open(self, tok: Token) -> None:
        """Start a table row."""
        self.in_row, self.row = True, []

    def tr_close(self, tok: Token) -> None:
        """Add the row as one block, cells joined by `` | ``."""
        self.in_row = False
        self.builder.add(" | ".join(c for c in self.row if c))

    def inline(self, tok: Token) -> None:
        """Add a paragraph or heading (a cell while in a table row)."""
        text = _inline_text(tok)
        if self.in_row:
            self.row.append(text.strip())
            return
        if self.level == 1 or (self.level and not self.title):
            self.title = self.title or text
        self.builder.add(self.prefix + text, self.level)
        self.prefix = ""

    def code(self, tok: Token) -> None:
        """Add a code block, one block per line."""
        for line in tok.content.splitlines():
            self.builder.add(line)


def read_text(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> ParsedText:
    """Read a plain-text file: one block per non-empty line, a form feed starts a new page.

    Raises:
        ReadError: unreadable or binary file.
    """
    builder = TextBuilder()
    pages = read_text_file(path).split("\f")
    for i, page in enumerate(pages):
        if i:
            builder.new_page()
        for line in page.splitlines():
            builder.add(line)
    first = builder.parts[0] if builder.parts else ""
    return builder.build(title=first[:200], paged=len(pages) > 1)
