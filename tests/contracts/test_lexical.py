"""BM25 (:class:`migralex.index.lexical.LexicalIndex`) and SQLite FTS5 (:meth:`Store.fts`)
agree on a small store: the same clauses match a word, and the clause that repeats it ranks
first in both, with and without filters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from migralex.corpus.models import Clause, Document
from migralex.corpus.store import Filters, Store
from migralex.index.lexical import LexicalIndex

#: Our own clause texts: (doc_id, kind, text); words chosen shorter than the BM25 prefix or
#: without inflected forms in the store, so both analysers see the same terms.
CLAUSES = (
    ("a", "ssa", "Pension pension pension paid abroad."),
    ("a", "ssa", "Pension rates are fixed yearly."),
    ("b", "bla", "Sickness cash benefits for the worker."),
    ("b", "bla", "Family allowance rates for the worker."),
    ("c", "law", "Wages are paid monthly."),
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root: Path = tmp_path_factory.mktemp("lexical") / "store"
    with Store(root) as st:
        for doc_id, rows in _by_document().items():
            text = "\n".join(t for _, t in rows)
            doc = Document(
                doc_id, doc_id, rows[0][0], "en", (), f"{doc_id}.md", "0" * 64, 1, text=text
            )
            clauses, at = [], 0
            for i, (_, t) in enumerate(rows):
                label = f"Article {i + 1}"
                clauses.append(
                    Clause(
                        f"{doc_id}:{i}",
                        doc_id,
                        i,
                        label,
                        "",
                        (label,),
                        t,
                        at,
                        at + len(t),
                        1,
                        1,
                        "en",
                    )
                )
                at += len(t) + 1
            st.write_document(doc, clauses, [], None)
        yield st


def _by_document() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for doc_id, kind, text in CLAUSES:
        out.setdefault(doc_id, []).append((kind, text))
    return out


def _ids(store: Store, ranked: list[tuple[int, float]]) -> list[str]:
    by_rowid = store.clauses_by_rowid([r for r, _ in ranked])
    return [by_rowid[r].clause_id for r, _ in ranked]


@pytest.mark.parametrize(
    ("word", "filters", "first"),
    [
        ("pension", Filters(), "a:0"),
        ("rates", Filters(), None),
        ("worker", Filters(), None),
        ("paid", Filters(), None),
        ("paid", Filters(kinds=("law",)), "c:0"),
        ("rates", Filters(kinds=("bla",)), "b:1"),
        ("sickness", Filters(), "b:0"),
        ("pension", Filters(kinds=("bla",)), None),
    ],
)
def test_bm25_and_fts5_match_the_same_clauses(
    store: Store, word: str, filters: Filters, first: str | None
) -> None:
    bm25 = _ids(
        store, LexicalIndex(store, expansion=False).search(word, 50, store.filter_rowids(filters))
    )
    fts = _ids(store, store.fts(f'"{word}"', 50, filters))
    assert set(bm25) == set(fts)
    expected = {
        f"{doc_id}:{i}"
        for doc_id, rows in _by_document().items()
        for i, (kind, text) in enumerate(rows)
        if word in re.findall(r"\w+", text.lower()) and (not filters.kinds or kind in filters.kinds)
    }
    assert set(fts) == expected
    if first is not None:
        assert bm25[0] == fts[0] == first
