"""Commands that need no model import no torch, sentence-transformers or faiss (issue #20):
each runs in a fresh interpreter, which reports the heavy modules it imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from migralex.evaluation.speed import HEAVY_MODULES
from migralex.nlp.spacy_import import import_spacy

MODEL_MODULES = ("torch", "sentence_transformers", "transformers", "faiss")

_PROBE = (
    f"HEAVY = {HEAVY_MODULES!r}\n"
    + """
import atexit, json, sys
atexit.register(lambda: print("PROBE " + json.dumps(sorted(m for m in HEAVY if m in sys.modules)),
                              file=sys.stderr))
sys.argv = ["migralex", *sys.argv[1:]]
from migralex.ui.cli import main
main()
"""
)


def _imported(args: list[str]) -> tuple[int, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=False
    )
    lines = [x for x in proc.stderr.splitlines() if x.startswith("PROBE ")]
    assert lines, proc.stderr
    return proc.returncode, json.loads(lines[-1].split(" ", 1)[1])


@pytest.fixture(scope="module")
def draft(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("draft") / "draft.md"
    path.write_text(
        "# Agreement on social security\n\n### Article 1\n\nNationals of either Party shall "
        "receive equal treatment.\n\n### Article 2\n\nPeriods of insurance completed under "
        "the legislation of both Parties shall be added together.\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["--help"],
        ["checklists"],
        ["stats", "--json"],
        ["search", "equal treatment", "--mode", "lexical", "--json"],
        ["tag", "--json"],
    ],
    ids=lambda c: " ".join(c[:1] + c[2:3]),
)
def test_model_free_commands_import_no_model(
    command: list[str], small_store: Path, draft: Path
) -> None:
    args = list(command)
    if args[0] in ("stats", "search"):
        args += ["--store", str(small_store)]
    if args[0] == "tag":
        args.append(str(draft))
    code, heavy = _imported(args)
    assert code == 0
    assert not set(heavy) & set(MODEL_MODULES), heavy
    if args[0] == "tag":
        assert "spacy" in heavy  # the tagger ran, without pulling torch in through thinc


def test_import_spacy_leaves_torch_importable() -> None:
    code = (
        "import sys\n"
        "from migralex.nlp.spacy_import import import_spacy\n"
        "spacy = import_spacy()\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert spacy.blank('en')('Article 1').text == 'Article 1'\n"
        "import importlib.util\n"
        "assert importlib.util.find_spec('torch') is not None\n"  # raises if left hidden
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_import_spacy_returns_the_loaded_module() -> None:
    spacy = import_spacy()
    assert spacy is sys.modules["spacy"]
    assert sys.modules.get("torch", 0) is not None  # never left hidden
    assert spacy.blank("fr")("Article premier").text == "Article premier"


def test_import_spacy_leaves_the_spacy_command_line_importable() -> None:
    code = (
        "import sys\n"
        "from migralex.nlp.spacy_import import import_spacy\n"
        "spacy = import_spacy()\n"
        "assert 'spacy.cli' not in sys.modules, 'spacy.cli imported'\n"
        "assert spacy.info()['spacy_version'] == spacy.__version__\n"  # the real info, lazily
        "import spacy.cli\n"
        "assert callable(spacy.cli.download) and callable(spacy.cli.info)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
