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

:func:`memoized_charsets` makes the regular expressions of a spaCy language compile faster: the
French tokenizer's ``TOKEN_MATCH`` alone repeats its case-insensitive Unicode letter classes
836 times, and Python optimises each one anew (``re._compiler._optimize_charset``: 2-5 s of a
cold French pipeline on 2 cores).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
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


_CHARSET_LOCK = threading.Lock()


@contextlib.contextmanager
def memoized_charsets() -> Iterator[None]:
    """While inside, regular expressions compile each distinct character class once.

    ``re._compiler._optimize_charset`` (CPython 3.11+) is a pure function of the parsed class and
    of the case-folding functions of the flags; memoizing it returns the same optimised class for
    every repeat, so each pattern compiles to the same code as without it (compiled patterns
    compare equal, which compares their code). French ``TOKEN_MATCH``: 18 distinct classes for
    836, 4.9 s -> 1.0 s on a loaded 2-core machine. Without that private function (another
    Python), nothing changes. The lock keeps two threads from nesting the patch.
    """
    compiler: Any = getattr(__import__("re"), "_compiler", None)
    original = getattr(compiler, "_optimize_charset", None)
    if original is None:
        yield
        return
    cache: dict[Any, tuple[list[Any], bool]] = {}

    def optimize(charset: Any, iscased: Any = None, fixup: Any = None, fixes: Any = None) -> Any:
        try:
            key = (tuple(charset), iscased, fixup, id(fixes))
            hash(key)
        except TypeError:  # a class item that cannot be a key: no memo
            return original(charset, iscased, fixup, fixes)
        if key not in cache:
            cache[key] = original(charset, iscased, fixup, fixes)
        out, hascased = cache[key]
        # a fresh list each time (bitmap data are lists), as the original returns
        return [(op, list(av) if isinstance(av, list) else av) for op, av in out], hascased

    with _CHARSET_LOCK:
        compiler._optimize_charset = optimize
        try:
            yield
        finally:
            compiler._optimize_charset = original
