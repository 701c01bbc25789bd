"""Settings: environment variables with the MIGRALEX_ prefix; unknown names are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from migralex.corpus.errors import ValidationError
from migralex.corpus.settings import Settings, unknown_environment_keys
from migralex.ui.cli import app


@pytest.mark.parametrize(
    ("environ", "bad"),
    [
        ({"MIGRALEX_MODLE": "e5-small"}, "MIGRALEX_MODLE"),
        ({"migralex_stroe": "/tmp/x", "MIGRALEX_MODEL": "minilm"}, "migralex_stroe"),
        ({"MIGRALEX_BATCHSIZE": "8"}, "MIGRALEX_BATCHSIZE"),
    ],
)
def test_misspelt_variable_is_refused_with_the_valid_names(environ: dict, bad: str) -> None:
    with pytest.raises(ValidationError, match=bad) as info:
        unknown_environment_keys(environ)
    assert "MIGRALEX_MODEL" in str(info.value) and "MIGRALEX_STORE" in str(info.value)


@pytest.mark.parametrize(
    "environ",
    [{}, {"MIGRALEX_MODEL": "e5-small", "MIGRALEX_STORE": "/s", "HOME": "/root"},
     {"migralex_threads": "2"}, {"MIGRALEX_TEST_MODEL": "hash"}],
)  # fmt: skip
def test_valid_variables_pass(environ: dict) -> None:
    unknown_environment_keys(environ)


def test_settings_read_the_environment_and_refuse_a_misspelling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIGRALEX_MODEL", "e5-small")
    assert Settings().model == "e5-small"
    monkeypatch.setenv("MIGRALEX_MODLE", "minilm")
    with pytest.raises(ValidationError, match="MIGRALEX_MODLE"):
        Settings()


def test_cli_refuses_a_misspelt_variable_before_any_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MIGRALEX_MODLE", "e5-small")
    result = CliRunner().invoke(app, ["stats", "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "migralex: error: unknown setting MIGRALEX_MODLE" in result.stderr
    assert not (tmp_path / "s").exists()
