"""Markdown (markdown-it-py) and plain-text readers.

Markdown headings give heading hints (also ``###Annex``, without the space); ordered-list items keep their printed numbers ("1."), which
matter for paragraph numbering; inline markup and link targets are dropped, link text is kept.
Plain text gives one block per line and no hints.
"""

from __future__ import annotations

import re
from pathlib import Path

from migralex.ingest.base import (
    DEFAULT_LIMITS,
    Limits,
    ParsedText,
    TextBuilder,
    read_text_file,
)

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
    tokens = md.parse(source)
    builder = TextBuilder()
    title = ""
    level = 0
    prefix = ""
    row: list[str] = []
    in_row = False
    for tok in tokens:
        if tok.type == "heading_open":
            level = int(tok.tag[1])
        elif tok.type == "heading_close":
            level = 0
        elif tok.type == "list_item_open":
            prefix = f"{tok.info}{tok.markup} " if tok.info else f"{tok.markup} "
        elif tok.type == "tr_open":
            in_row, row = True, []
        elif tok.type == "tr_close":
            in_row = False
            builder.add(" | ".join(c for c in row if c))
        elif tok.type == "inline":
            text = _inline_text(tok)
            if in_row:
                row.append(text.strip())
                continue
            if level == 1 or (level and not title):
                title = title or text
            builder.add(prefix + text, level)
            prefix = ""
        elif tok.type in ("fence", "code_block"):
            for line in tok.content.splitlines():
                builder.add(line)
    return builder.build(title=title)


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
