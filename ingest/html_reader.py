"""HTML reader (BeautifulSoup with lxml): leaf block elements in order, ``h1``-``h6`` as hints.

Scripts, styles, navigation, page headers and footers are skipped. Text directly inside a block
that also holds other blocks becomes its own block, so no text is lost.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from migralex.corpus.errors import ReadError
from migralex.ingest.base import (
    DEFAULT_LIMITS,
    Limits,
    ParsedText,
    TextBuilder,
    read_text_file,
)

if TYPE_CHECKING:
    from bs4 import PageElement, Tag

BLOCK_TAGS = frozenset(
    "address article aside blockquote caption dd div dl dt figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header li main nav ol p pre section table tbody td tfoot th thead tr ul body".split()
)
SKIP_TAGS = frozenset("script style noscript template nav head".split())
_HEADINGS = {f"h{i}": i for i in range(1, 7)}


#: Deepest element nesting read. The corpus's pages nest under 30 levels; past a few hundred a
#: page is machine-made or hostile, and the reader's walk (and BeautifulSoup's tree building,
#: 10 s for 100,000 levels) would fail late on Python's recursion limit.
MAX_DEPTH = 400
#: Elements without an end tag, or whose end tag HTML lets authors leave out: not counted as
#: nesting (old pages leave thousands of ``<p>`` unclosed).
_NO_END = frozenset(
    "area base br col colgroup embed hr img input link meta param source track wbr "
    "p li dt dd tr td th thead tbody tfoot option optgroup rt rp".split()
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)[^>]*?(/?)>")


def nesting_depth(markup: str) -> int:
    """Deepest nesting of start tags over end tags in ``markup`` (a cheap pre-scan with a
    regular expression, void and optional-end elements and ``<x/>`` not counted)."""
    depth = deepest = 0
    for m in _TAG.finditer(markup):
        if m.group(3) or m.group(2).lower() in _NO_END:
            continue
        if m.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def read_html(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> ParsedText:
    """Read an HTML file.

    Returns:
        One block per leaf block element (table rows: cells joined by `` | ``); heading levels
        from ``h1``-``h6``; title from ``<title>`` or the first ``h1``.

    Raises:
        ReadError: unreadable or binary file, or elements nested deeper than
            :data:`MAX_DEPTH`.
    """
    from bs4 import BeautifulSoup, Tag

    markup = read_text_file(path)
    depth = nesting_depth(markup)
    if depth > MAX_DEPTH:
        raise ReadError(
            path,
            f"the page nests elements {depth:,} levels deep (at most {MAX_DEPTH} are read): "
            "corrupt or machine-made markup",
        )
    with warnings.catch_warnings():
        # bs4 warns on stderr about XML-looking or URL-looking input; the reader reads it anyway
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(markup, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    walker = _Walker(TextBuilder())
    root = soup.body or soup
    if isinstance(root, Tag):
        walker.walk(root)
    return walker.builder.build(title=walker.first_h1 or title)


class _Walker:
    """A depth-first walk over an HTML tree that adds its leaf blocks to a builder in document
    order and keeps the first non-empty ``h1``."""

    def __init__(self, builder: TextBuilder) -> None:
        self.builder = builder
        self.first_h1 = ""

    def walk(self, node: Tag) -> None:
        """Add the blocks under ``node``; text beside its child blocks becomes blocks of its own."""
        from bs4 import Tag

        if node.name in SKIP_TAGS:
            return
        if node.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in node.find_all(["td", "th"])]
            self.builder.add(" | ".join(c for c in cells if c))
            return
        children = list(node.children)
        if not any(isinstance(c, Tag) and c.name in BLOCK_TAGS for c in children):
            self._add_leaf(node)
            return
        inline: list[str] = []
        for child in children:
            if isinstance(child, Tag) and child.name in BLOCK_TAGS:
                self.builder.add(" ".join(inline))
                inline = []
                self.walk(child)
                continue
            piece = _inline_piece(child)
            if piece is not None:
                inline.append(piece)
        self.builder.add(" ".join(inline))

    def _add_leaf(self, node: Tag) -> None:
        """Add a block element without child blocks, with its heading level."""
        text = node.get_text(" ", strip=True)
        level = _HEADINGS.get(node.name or "", 0)
        if level == 1 and not self.first_h1:
            self.first_h1 = text
        self.builder.add(text, level)


def _inline_piece(child: PageElement) -> str | None:
    """The text an inline child adds to its parent block; None for a skipped element, a
    comment or another special string."""
    from bs4 import NavigableString, Tag

    if isinstance(child, Tag):
        return None if child.name in SKIP_TAGS else child.get_text(" ", strip=True)
    if isinstance(child, NavigableString) and type(child) is NavigableString:
        return str(child)
    return None
