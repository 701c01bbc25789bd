"""Text folding shared by the checklist engine, the clause-structure helpers and the vocabulary.

Folded text is lowercase (``str.casefold``), without accents (NFKD, combining marks dropped),
with straight apostrophes and single spaces, stripped. Regexes written for folded text are
compiled by :func:`rx`, which strips accents from the patterns too.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["fold", "rx", "strip_accents"]


def strip_accents(text: str) -> str:
    """Return ``text`` without combining marks (NFKD decomposition; "é" -> "e")."""
    if text.isascii():  # nothing to decompose, no combining mark
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Lowercase, strip accents, straighten apostrophes and collapse white space (stripped).

    Cached (the last 8,192 texts): the checklist engine folds each clause once per item."""
    text = strip_accents(text).casefold().replace("\u2019", "'")
    return re.sub(r"\s+", " ", text).strip()


def rx(*patterns: str) -> re.Pattern[str]:
    """Compile the alternation of ``patterns``, accent-stripped, case-insensitive.

    Each pattern is wrapped in ``(?:...)``, in the order given. Match the result against
    :func:`fold`-ed text (lowercase, no accents, single spaces).

    Raises:
        re.error: a pattern is not a valid regex.
    """
    return re.compile("|".join(f"(?:{strip_accents(p)})" for p in patterns), re.IGNORECASE)
