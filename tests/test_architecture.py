"""The import graph holds DESIGN.md's "may import" rules.

Every module of the package is parsed (``ast``, so function-level imports count too) and each
``migralex.<subpackage>`` it imports is checked against :data:`MAY_IMPORT` (DESIGN.md, Layout
table). No module may import a private name (``_x``) from another subpackage.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("corpus", "ingest", "nlp", "index", "ui", "evaluation", "tests")
ANY = frozenset(SUBPACKAGES)
#: DESIGN.md's Layout table: the other subpackages each one may import.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "corpus": frozenset(),
    "ingest": frozenset({"corpus"}),
    "nlp": frozenset({"corpus"}),
    "index": frozenset({"corpus", "nlp"}),
    "ui": ANY,
    "evaluation": ANY,
    "tests": ANY,
}
#: Modules DESIGN.md names with wider rights: the ingest orchestration (reads, tags, embeds and
#: stores).
MODULE_RIGHTS: dict[str, frozenset[str]] = {
    "ingest/pipeline.py": frozenset({"corpus", "nlp", "index"}),
}


def _modules() -> list[Path]:
    return sorted(
        p for sub in SUBPACKAGES for p in (ROOT / sub).rglob("*.py") if "__pycache__" not in p.parts
    )


def _imports(path: Path) -> list[tuple[str, str]]:
    """``(module, imported name or "")`` for every ``migralex`` import in ``path``."""
    rel = path.relative_to(ROOT).with_suffix("").parts
    return _imports_in(path.read_text(encoding="utf-8"), rel)


def _imports_in(source: str, rel: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(module, imported name or "")`` for every ``migralex`` import of ``source`` (the
    module at ``rel``, e.g. ``("index", "search")``), at any depth; relative imports are
    resolved against the module's package."""
    tree = ast.parse(source)
    out: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names if a.name.startswith("migralex")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = ("migralex", *rel[: len(rel) - node.level])
                module = ".".join([*base, *([module] if module else [])])
            if module.startswith("migralex"):
                out += [(module, a.name) for a in node.names]
    return out


def _subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _violations() -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        own = rel.split("/", 1)[0]
        allowed = MODULE_RIGHTS.get(rel, MAY_IMPORT[own]) | {own}
        for module, name in _imports(path):
            sub = _subpackage(module)
            if sub == "":  # ``import migralex`` (its version): the root package
                continue
            if sub not in allowed:
                found.add((rel, module, name))
            elif sub != own and name.startswith("_") and not name.startswith("__"):
                found.add((rel, module, name))
    return found


def test_the_parser_sees_function_level_and_relative_imports() -> None:
    """The parser itself: imports inside functions and classes and relative ones count."""
    source = (
        "import numpy\n"
        "import migralex.corpus.store\n"
        "def f():\n"
        "    from migralex.nlp.structure import is_preamble\n"
        "class C:\n"
        "    def g(self):\n"
        "        from ..corpus import models\n"
        "        from .lexical import _private\n"
    )
    assert _imports_in(source, ("index", "search")) == [
        ("migralex.corpus.store", ""),
        ("migralex.nlp.structure", "is_preamble"),
        ("migralex.corpus", "models"),
        ("migralex.index.lexical", "_private"),
    ]


@pytest.mark.parametrize("subpackage", sorted(MAY_IMPORT))
def test_subpackage_imports_only_what_design_allows(subpackage: str) -> None:
    bad = sorted(v for v in _violations() if v[0].startswith(f"{subpackage}/"))
    assert not bad, f"imports against DESIGN.md's Layout table: {bad}"


def test_every_module_is_covered() -> None:
    """Every top-level folder with Python code is one of the checked subpackages."""
    folders = {
        p.relative_to(ROOT).parts[0]
        for p in ROOT.glob("*/**/*.py")
        if not p.relative_to(ROOT).parts[0].startswith(".")
        and p.relative_to(ROOT).parts[0] not in {"docs", "build", "dist"}
    }
    folders -= {"store-full", "store"}
    assert folders <= set(SUBPACKAGES), folders - set(SUBPACKAGES)
