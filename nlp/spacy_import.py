"""Import spaCy without importing torch.

spaCy's machine-learning layer, thinc, probes for torch when it is imported
(``thinc/compat.py``: ``try: import torch``) and so pulls torch in whenever it is installed: on
this 2-core machine that put ~2 s and ~300 MB in front of ``migralex tag``, whose blank
pipelines (sentencizer, lookup lemmatizer, Matcher, PhraseMatcher) never use thinc's torch
wrappers. :func:`import_spacy` hides torch from that one probe; a later ``import torch`` (an
embedder in the same process) works as usual.
"""

from __future__ import annotations

import sys
from types import ModuleType


def import_spacy() -> ModuleType:
    """Return the ``spacy`` module, imported with torch hidden from thinc's probe.

    When spaCy or torch is already imported nothing is hidden (thinc's probe has run or will
    find torch loaded anyway). While spaCy is imported, ``sys.modules["torch"]`` is None, so
    ``import torch`` raises ImportError, which thinc catches (``has_torch = False``); the entry
    is removed right after.
    """
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy
