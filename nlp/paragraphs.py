"""The paragraphs of a clause: the units a checklist item can be found in.

An article often holds several provisions, one per numbered paragraph: a labour agreement's
equality article gives equal pay in (1), social security on the same footing in (2) and the
right of appeal in (3). :func:`split_paragraphs` returns those paragraphs as offsets into the
clause text, so that each can be read, scored and quoted on its own while the article stays the
citation ("Article 14 (2)").

Numbering is recognised, in sequence from 1, at the start of a line or inline after the end
of a sentence (texts whose paragraphs were run together into one line):

* ``1.`` ``1)`` ``(1)`` ``1 `` (a number followed by text);
* ``Paragraph 1``, ``Paragraphe 1er``, ``Párrafo 1``, ``Lid 1``.

Lettered points (``a)``, ``(b)``) stay inside their paragraph. A body without at least two
numbered paragraphs is cut into sentence groups of at most :data:`GROUP_CHARS` characters
(a sentence longer than that is its own group); groups are labelled ``""`` (the citation is the
article alone). Everything here is a pure function of the clause text.
"""

from __future__ import annotations

import re

from migralex.corpus.models import Paragraph

#: Sentence groups of an unnumbered body are cut at sentence ends once they reach this many
#: characters (about two sentences of treaty prose, a quarter of MiniLM's window).
GROUP_CHARS = 400
#: A body shorter than this is one unit: it is read as a whole anyway.
MIN_SPLIT_CHARS = 250

_LINE_NUMBER = re.compile(
    r"^[ \t]*(?:\((?P<a>\d{1,2})\)|(?P<b>\d{1,2})(?:\.(?!\d)|\)|(?=[ \t]+[^\W\d]))"
    r"|(?i:paragraphe|paragraph|párrafo|parrafo|lid)[ \t]+(?P<w>\d{1,2}|1er|premier)\b)",
    re.MULTILINE,
)
_INLINE_NUMBER = re.compile(
    r"(?<=[.;:»”\"])[ \t]*(?:\((?P<a>\d{1,2})\)|(?P<b>\d{1,2})[.)])[ \t]*(?=[^\W\d_]|[«\"“])"
)
_SENTENCE_END = re.compile(r"(?<=[.;:])\s+(?=[^\W\d_]|[«\"“(])")


def _number(m: re.Match[str]) -> int:
    raw = m.group("a") or m.group("b") or (m.groupdict().get("w") or "")
    return 1 if raw.lower() in {"1er", "premier"} else int(raw)


def _numbered(text: str, start: int) -> list[tuple[str, int]]:
    """(number, offset) of the paragraphs numbered 1, 2, 3... from ``start``, line-start
    numbers first, inline numbers filling the gaps (only past the last found paragraph)."""
    marks = sorted(
        [(m.start(), _number(m)) for m in _LINE_NUMBER.finditer(text, start)]
        + [(m.start(), _number(m)) for m in _INLINE_NUMBER.finditer(text, start)]
    )
    found: list[tuple[str, int]] = []
    expected = 1
    for pos, num in marks:
        if num == expected:
            while pos < len(text) and text[pos] in " \t":
                pos += 1
            found.append((str(num), pos))
            expected += 1
    return found if len(found) >= 2 else []


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _groups(text: str, start: int, end: int, limit: int) -> list[Paragraph]:
    cuts = [m.start() for m in _SENTENCE_END.finditer(text, start, end)]
    out: list[Paragraph] = []
    begin = start
    for cut in cuts:
        if cut - begin >= limit:
            s, e = _trim(text, begin, cut)
            if e > s:
                out.append(Paragraph("", s, e))
            begin = cut
    s, e = _trim(text, begin, end)
    if e > s:
        out.append(Paragraph("", s, e))
    return out


def split_paragraphs(
    text: str, body_start: int = 0, group_chars: int = GROUP_CHARS
) -> tuple[Paragraph, ...]:
    """Split a clause's body into its paragraphs.

    Args:
        text: the clause text.
        body_start: offset where the body starts (after the label and heading lines).
        group_chars: target size of sentence groups for an unnumbered body (characters).

    Returns:
        The paragraphs in text order, covering ``text[body_start:]`` without overlap (text
        before a first paragraph numbered 1 belongs to that paragraph). Empty when the body is
        blank; one paragraph when it is shorter than :data:`MIN_SPLIT_CHARS` or cannot be cut.
    """
    start, end = _trim(text, body_start, len(text))
    if end <= start:
        return ()
    numbered = _numbered(text, start)
    if numbered:
        bounds = [start] + [pos for _num, pos in numbered[1:]] + [end]
        out = []
        for (num, _pos), lo, hi in zip(numbered, bounds, bounds[1:], strict=False):
            s, e = _trim(text, lo, hi)
            if e > s:
                out.append(Paragraph(num, s, e))
        return tuple(out)
    if end - start < MIN_SPLIT_CHARS:
        return (Paragraph("", start, end),)
    return tuple(_groups(text, start, end, group_chars))


def paragraph_at(paragraphs: tuple[Paragraph, ...], offset: int) -> Paragraph | None:
    """The paragraph holding character ``offset`` (0-based, in the clause text), ``None`` when
    it lies outside every paragraph (in the label or heading lines)."""
    return next((p for p in paragraphs if p.start <= offset < p.end), None)
