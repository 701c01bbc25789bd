"""The format -> reader table of ingest/base.py."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from migralex.corpus.errors import ReadError
from migralex.ingest.base import READERS, known_suffixes, read_file, reader_for


@pytest.mark.parametrize("suffix", sorted(READERS))
def test_every_row_names_a_reader_taking_path_and_limits(suffix: str) -> None:
    reader = reader_for(suffix)
    assert reader is not None and reader is reader_for(suffix.upper())
    params = inspect.signature(reader).parameters
    assert list(params)[0] == "path" and params["limits"].kind is inspect.Parameter.KEYWORD_ONLY


def test_suffixes_are_lowercase_with_the_dot() -> None:
    assert all(s.startswith(".") and s == s.lower() for s in READERS)
    assert known_suffixes() == tuple(sorted(READERS))
    assert reader_for(".odt") is None


def test_unknown_format_lists_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "a.odt"
    path.write_text("x")
    with pytest.raises(ReadError, match=r"unknown format '\.odt'; known: \.docx, \.htm"):
        read_file(path)
