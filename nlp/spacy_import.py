"""Import spaCy without importing torch or spaCy's command line.

spaCy's machine-learning layer, thinc, probes for torch when it is imported
(``thinc/compat.py``: ``try: import torch``) and so pulls torch in whenever it is installed: on
this 2-core machine that put ~2 s and ~300 MB in front of ``migralex tag``, whose blank
pipelines (sentencizer, lookup lemmatizer, Matcher, PhraseMatcher) never use thinc's torch
wrappers. :func:`import_spacy` hides torch from that one probe; a later ``import torch`` (an
embedder in the same process) works as usual.

``spacy/__init__.py`` also imports ``spacy.cli.info`` for its ``spacy.info`` function, and with it
the whole ``spacy`` command line (download, init, debug, weasel, requests, httpx: ~0.15 s of a
cold ``tag``, which never runs them). While spaCy is imported, ``spacy.cli.info`` is a stand-in
whose ``info`` imports the real one when called; the stand-ins are removed right after, so a
later ``import spacy.cli`` loads the real package.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

_CLI_MODULES = ("spacy.cli", "spacy.cli.info")


def _info(*args: Any, **kwargs: Any) -> Any:
    """``spacy.info``, importing spaCy's command line on first use."""
    from spacy.cli.info import info

    return info(*args, **kwargs)


def _cli_stand_ins() -> dict[str, ModuleType]:
    """Modules standing in for ``spacy.cli`` and ``spacy.cli.info`` during spaCy's import."""
    package = ModuleType("spacy.cli")
    package.__path__ = []  # a package, so that ``spacy.cli.info`` may sit under it
    info = ModuleType("spacy.cli.info")
    info.info = _info  # type: ignore[attr-defined]
    return {"spacy.cli": package, "spacy.cli.info": info}


def import_spacy() -> ModuleType:
    """Return the ``spacy`` module, imported with torch hidden from thinc's probe.

    When spaCy or torch is already imported nothing is hidden (thinc's probe has run or will
    find torch loaded anyway). While spaCy is imported, ``sys.modules["torch"]`` is None, so
    ``import torch`` raises ImportError, which thinc catches (``has_torch = False``), and
    ``spacy.cli`` is a stand-in; the entries are removed right after.
    """
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    stand_ins = {n: m for n, m in _cli_stand_ins().items() if n not in sys.modules}
    sys.modules.update(stand_ins)
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    return spacy
