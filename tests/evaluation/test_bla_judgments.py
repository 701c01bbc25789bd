"""The hand-judged BLA checklist items: their shape, coverage and article labels.

The gold file holds judgments, not expectations of migralex's output, so these tests check only
that it is well formed and that every cited label is one the segmenter really produces.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CORPUS, corpus_missing

from migralex.corpus.manifest import ManifestEntry, read_manifest
from migralex.ingest.pipeline import prepare

ROOT = Path(__file__).resolve().parents[2]
JUDGMENTS = ROOT / "evaluation" / "data" / "bla_judgments.json"
GUIDELINES = ROOT / "evaluation" / "data" / "bla_judging_guidelines.md"
BLA_YAML = ROOT / "nlp" / "checklists" / "bla.yaml"
STATUSES = {"present", "partial", "absent"}
KEYS = {"doc_id", "item", "status", "articles", "paragraph", "note"}
OPTIONAL = {"doubt", "text_articles"}


def _judgments() -> list[dict[str, Any]]:
    data = json.loads(JUDGMENTS.read_text(encoding="utf-8"))
    assert set(data) == {"_about", "judgments"}
    return list(data["judgments"])


def _items() -> list[str]:
    data = yaml.safe_load(BLA_YAML.read_text(encoding="utf-8"))
    return [item["id"] for item in data["items"]]


@cache
def _bla_entries() -> dict[str, ManifestEntry]:
    manifest = CORPUS / "manifest.csv"
    if not manifest.is_file():
        corpus_missing(f"corpus manifest {manifest} not found")
    return {e.doc_id: e for e in read_manifest(manifest).values() if e.kind == "bla"}


@cache
def _labels(doc_id: str) -> frozenset[str]:
    entry = _bla_entries()[doc_id]
    if not entry.path.is_file():
        corpus_missing(f"corpus file {entry.path} not found")
    _, seg = prepare(entry.path, entry)
    return frozenset(c.label for c in seg.clauses)


def test_guidelines_cover_every_item() -> None:
    text = GUIDELINES.read_text(encoding="utf-8")
    missing = [item for item in _items() if f"`{item}`" not in text]
    assert missing == []


def test_judgments_are_well_formed() -> None:
    items = set(_items())
    for j in _judgments():
        where = f"{j.get('doc_id')} {j.get('item')}"
        assert KEYS <= set(j) <= KEYS | OPTIONAL, where
        assert j["item"] in items, where
        assert j["status"] in STATUSES, where
        assert all(isinstance(a, str) and a.strip() for a in j["articles"]), where
        assert bool(j["articles"]) == (j["status"] != "absent"), where
        assert j["paragraph"] is None or (j["articles"] and str(j["paragraph"]).strip()), where
        assert isinstance(j["note"], str) and len(j["note"].split()) >= 5, where
        if "doubt" in j:
            assert isinstance(j["doubt"], str) and j["doubt"].strip(), where
        if "text_articles" in j:
            assert len(j["text_articles"]) == len(j["articles"]), where


def test_every_manifest_bla_and_item_judged_exactly_once() -> None:
    counts = Counter((j["doc_id"], j["item"]) for j in _judgments())
    assert [k for k, n in counts.items() if n > 1] == []
    expected = {(doc, item) for doc in _bla_entries() for item in _items()}
    assert set(counts) == expected


@pytest.mark.parametrize("doc_id", sorted({j["doc_id"] for j in _judgments()}))
def test_cited_labels_are_clause_labels(doc_id: str) -> None:
    if doc_id not in _bla_entries():
        pytest.fail(f"{doc_id} is not a BLA of the corpus manifest")
    labels = _labels(doc_id)
    unknown = sorted(
        (j["item"], a)
        for j in _judgments()
        if j["doc_id"] == doc_id
        for a in j["articles"]
        if a not in labels
    )
    assert unknown == []
