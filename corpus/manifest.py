"""Manifests: CSV files giving each document's id and metadata (``../shared/corpus/manifest.csv``).

Columns: ``id, kind, language, title, parties, source, licence, path, sha256``; ``parties`` is
``;``-separated; ``path`` is relative to the manifest's folder. Only ``id`` and ``path`` are
required; other missing columns are left for the pipeline to infer.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from migralex.corpus.errors import ReadError
from migralex.corpus.models import KINDS

REQUIRED_COLUMNS = ("id", "path")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One manifest row: the metadata migralex applies to the file at ``path``."""

    doc_id: str
    path: Path
    kind: str = ""
    language: str = ""
    title: str = ""
    parties: tuple[str, ...] = ()
    source: str = ""
    licence: str = ""
    sha256: str = ""


def read_manifest(manifest: Path) -> dict[Path, ManifestEntry]:
    """Read a manifest CSV.

    Args:
        manifest: the CSV file.

    Returns:
        Entries keyed by the resolved absolute path of each listed file.

    Raises:
        ReadError: the file is missing, is not CSV with the required columns, or a row has an
            unknown kind.
    """
    try:
        with manifest.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ReadError(manifest, f"manifest lacks column(s) {', '.join(missing)}")
            rows = list(reader)
    except OSError as exc:
        raise ReadError(manifest, f"cannot read manifest ({exc.strerror or exc})") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ReadError(manifest, f"not a valid CSV manifest ({exc})") from exc
    base = manifest.resolve().parent
    entries: dict[Path, ManifestEntry] = {}
    for line_no, row in enumerate(rows, start=2):
        kind = (row.get("kind") or "").strip()
        if kind and kind not in KINDS:
            raise ReadError(
                manifest, f"line {line_no}: unknown kind {kind!r}; valid: {', '.join(KINDS)}"
            )
        path = (base / (row.get("path") or "").strip()).resolve()
        parties = tuple(p.strip() for p in (row.get("parties") or "").split(";") if p.strip())
        entries[path] = ManifestEntry(
            doc_id=(row.get("id") or "").strip(),
            path=path,
            kind=kind,
            language=(row.get("language") or "").strip(),
            title=(row.get("title") or "").strip(),
            parties=parties,
            source=(row.get("source") or "").strip(),
            licence=(row.get("licence") or "").strip(),
            sha256=(row.get("sha256") or "").strip(),
        )
    return entries
