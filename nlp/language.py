"""Language detection per document (py3langid, a maintained fork of langid.py).

Detection is restricted to the languages agreements in this field come in, which makes short or
formulaic texts far more reliable than open-set detection.

py3langid ships its model as one LZMA-compressed npz of 97 languages; decompressing it is most of
a cold ``migralex tag`` after spaCy (0.53 s on 2 cores). The model restricted to
:data:`CANDIDATES` is therefore kept, uncompressed (~41 MB), in the user's cache folder the first
time it is built (:func:`model_cache_file`) and read from there afterwards (0.06 s); the scores are the
same arrays :meth:`LanguageIdentifier.set_languages` would slice, so detection does not change.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from pathlib import Path
from typing import Any

LOGGER = logging.getLogger(__name__)

#: Languages a document may be detected as (ISO 639-1).
CANDIDATES: tuple[str, ...] = ("en", "fr", "es", "nl", "de", "pt", "it")
_SAMPLE_CHARS = 20_000
#: Environment variable naming the folder of the restricted-model cache (the ``cache_dir``
#: setting; default :func:`migralex.corpus.settings.default_cache_dir`).
CACHE_ENV = "MIGRALEX_CACHE_DIR"


def model_cache_file() -> Path:
    """Return the path of the restricted model's cache file.

    The name carries a digest of py3langid's version, its model file's size and modification time
    and :data:`CANDIDATES`, so an upgraded package or another language set never reads a stale
    cache.
    """
    import importlib.metadata

    from py3langid.langid import MODEL_DIR, MODEL_FILE

    from migralex.corpus.settings import default_cache_dir

    folder = os.environ.get(CACHE_ENV) or default_cache_dir()
    stat = (MODEL_DIR / MODEL_FILE).stat()
    key = "|".join(
        (
            importlib.metadata.version("py3langid"),
            str(stat.st_size),
            str(stat.st_mtime_ns),
            ",".join(CANDIDATES),
        )
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(folder) / f"langid-{digest}.npz"


_KEYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


def _restricted_arrays() -> dict[str, Any]:
    """The model restricted to :data:`CANDIDATES`, as arrays, from py3langid's own file."""
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
    wanted = set(CANDIDATES)
    keep = [i for i, c in enumerate(classes) if c in wanted]
    return {
        "ptc": np.ascontiguousarray(np.asarray(ptc)[:, keep]),
        "pc": np.asarray(pc)[keep],
        "classes": np.array([classes[i] for i in keep]),
        "nextmove": np.frombuffer(nextmove, dtype=np.dtype(nextmove.typecode)),
        "nextmove_row": np.frombuffer(row, dtype=np.dtype(row.typecode)),
        "out_feat": np.asarray(output, dtype=np.int32),
    }


def _write_cache(path: Path, arrays: dict[str, Any]) -> None:
    """Write ``arrays`` to ``path`` atomically; a folder that cannot be written is logged and
    skipped (detection still works, only slower)."""
    import io

    import numpy as np

    from migralex.corpus.store import atomic_write_bytes

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buf.getvalue())
    except OSError as exc:
        LOGGER.info("language model cache not written to %s: %s", path, exc)


def _read_cache(path: Path) -> dict[str, Any] | None:
    """The arrays of a cache file, or None when it is missing or unreadable."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in _KEYS}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, EOFError) as exc:
        LOGGER.debug("language model cache %s unreadable (%s); rebuilding", path, exc)
        return None
    if not set(arrays["classes"].tolist()) <= set(CANDIDATES):
        return None
    return arrays


@functools.cache
def _identifier() -> Any:
    """py3langid's identifier restricted to :data:`CANDIDATES` (built once per process)."""
    from py3langid.langid import LanguageIdentifier
    from py3langid.modelio import _to_array

    path = model_cache_file()
    arrays = _read_cache(path)
    if arrays is None:
        arrays = _restricted_arrays()
        _write_cache(path, arrays)
    return LanguageIdentifier(
        arrays["ptc"],
        arrays["pc"],
        arrays["classes"].tolist(),
        _to_array(arrays["nextmove"]),
        arrays["out_feat"].tolist(),
        norm_probs=True,
        tk_row=_to_array(arrays["nextmove_row"]),
    )


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
