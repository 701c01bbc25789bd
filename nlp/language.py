"""Language detection per document (py3langid, a maintained fork of langid.py).

Detection is restricted to the languages agreements in this field come in, which makes short or
formulaic texts far more reliable than open-set detection.
"""

from __future__ import annotations

import functools
from typing import Any

#: Languages a document may be detected as (ISO 639-1).
CANDIDATES: tuple[str, ...] = ("en", "fr", "es", "nl", "de", "pt", "it")
_SAMPLE_CHARS = 20_000


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(CANDIDATES))
    return ident


def detect_language(text: str, default: str = "en") -> str:
    """Return the ISO 639-1 code of ``text``'s main language, among :data:`CANDIDATES`.

    Args:
        text: any amount of text; the middle 20,000 characters are used (title pages and
            signature blocks at the ends are often in another language).
        default: returned for texts with fewer than 20 letters.
    """
    letters = sum(ch.isalpha() for ch in text[:2000])
    if letters < 20 and sum(ch.isalpha() for ch in text) < 20:
        return default
    if len(text) > _SAMPLE_CHARS:
        mid = len(text) // 2
        text = text[mid - _SAMPLE_CHARS // 2 : mid + _SAMPLE_CHARS // 2]
    lang, _prob = _identifier().classify(text)
    return str(lang)
