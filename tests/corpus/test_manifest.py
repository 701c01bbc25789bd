"""Manifest CSVs: columns, paths relative to the manifest, parties, refusals naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from migralex.corpus.errors import ReadError
from migralex.corpus.manifest import read_manifest

HEADER = "id,kind,language,title,parties,source,licence,path,sha256\n"


def _manifest(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_rows_are_keyed_by_resolved_path(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path,
        "ab-1,ssa,en,Agreement A-B, Aldoria ; Belmark ;,gov,CC-BY,ssa/ab.md,abc\n"
        "cd-2,,,,,,,../cd.pdf,\n",
    )
    entries = read_manifest(manifest)
    first = entries[(tmp_path / "ssa" / "ab.md").resolve()]
    assert (first.doc_id, first.kind, first.language, first.title) == (
        "ab-1",
        "ssa",
        "en",
        "Agreement A-B",
    )
    assert first.parties == ("Aldoria", "Belmark") and first.sha256 == "abc"
    second = entries[(tmp_path.parent / "cd.pdf").resolve()]
    assert second.kind == "" and second.parties == ()


def test_only_id_and_path_are_required(tmp_path: Path) -> None:
    entries = read_manifest(_manifest(tmp_path, "x,a.md\n", header="id,path\n"))
    assert [e.doc_id for e in entries.values()] == ["x"]


@pytest.mark.parametrize(
    ("header", "body", "reason"),
    [
        ("id,kind\n", "x,ssa\n", r"lacks column\(s\) path"),
        ("title\n", "x\n", r"lacks column\(s\) id, path"),
        (HEADER, "x,treaty,,,,,,a.md,\n", "line 2: unknown kind 'treaty'; valid: ssa"),
    ],
)
def test_bad_manifests_are_refused_naming_the_file(
    tmp_path: Path, header: str, body: str, reason: str
) -> None:
    path = _manifest(tmp_path, body, header)
    with pytest.raises(ReadError, match=reason) as info:
        read_manifest(path)
    assert info.value.path == str(path)


def test_missing_or_binary_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="cannot read manifest"):
        read_manifest(tmp_path / "none.csv")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(ReadError, match="manifest"):
        read_manifest(binary)
