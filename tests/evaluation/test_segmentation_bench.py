"""The segmentation benchmark: its gold file, its matching rules and a few real documents."""

from __future__ import annotations

import pytest
from conftest import CORPUS, corpus_file

from migralex.evaluation.segmentation import (
    GOLD_PATH,
    body_hash,
    label_key,
    load_gold,
    main,
    predicted_articles,
    score_document,
)
from migralex.ingest.base import read_file
from migralex.ingest.segment import segment


def test_gold_file_exists_and_holds_no_text() -> None:
    gold = load_gold(GOLD_PATH)
    assert len(gold["documents"]) >= 20
    for doc in gold["documents"]:
        for a in doc["articles"]:
            assert set(a) == {"label", "heading", "path", "page", "hash"}
            assert len(a["hash"]) == 12


@pytest.mark.parametrize(
    ("a", "b"),
    [("ARTICLE IV", "Article 4"), ("Art. 5", "Article 5"), ("Article 1er", "Article 1")],
)
def test_label_keys(a: str, b: str) -> None:
    assert label_key(a) == label_key(b)


@pytest.mark.parametrize(
    ("text", "label", "heading"),
    [
        ("ARTICLE 4 Equality\nThe Parties agree.", "ARTICLE 4", "Equality"),
        ("Census statistics\n6 The Parties agree.", "Section 6", "Census statistics"),
    ],
)
def test_body_hash_ignores_label_and_heading(text: str, label: str, heading: str) -> None:
    assert body_hash(text, label, heading) == body_hash("The Parties agree.", "", "")


@pytest.mark.parametrize("doc_id", ["ca-si-96-32", "ca-si-2006-122", "nl-bwbv0004668"])
def test_real_documents_reach_the_gold(doc_id: str) -> None:
    entry = next(d for d in load_gold(GOLD_PATH)["documents"] if d["doc_id"] == doc_id)
    parsed = read_file(corpus_file(entry["path"]))
    seg = segment(parsed, doc_id, entry["language"], entry["kind"])
    score = score_document(entry["articles"], predicted_articles(seg.clauses))
    assert score.errors == []


def test_missing_gold_exits_non_zero() -> None:
    assert main(["--gold", "/nonexistent/gold.json", "--corpus", str(CORPUS)]) == 2
