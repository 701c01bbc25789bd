from __future__ import annotations

import pytest

from migralex.corpus.errors import ValidationError
from migralex.corpus.models import Clause, Document, Tag, content_doc_id, page_of, slugify


@pytest.mark.parametrize(
    ("label", "slug"),
    [
        ("ARTICLE IV", "article-iv"),
        ("Artículo 3", "articulo-3"),
        ("Article 1er", "article-1er"),
        ("Section 12.1", "section-12-1"),
        ("", "x"),
    ],
)
def test_slugify(label: str, slug: str) -> None:
    assert slugify(label) == slug


def test_content_doc_id_uses_stem_and_hash() -> None:
    assert content_doc_id("My Draft (v2)", "ab" * 32) == "my-draft-v2-abababab"


@pytest.mark.parametrize(("offset", "page"), [(0, 1), (9, 1), (10, 2), (25, 3), (1000, 3)])
def test_page_of_is_one_based(offset: int, page: int) -> None:
    assert page_of((0, 10, 20), offset) == page


def _clause(**kw: object) -> Clause:
    base = dict(
        clause_id="d:article-1", doc_id="d", ordinal=0, label="Article 1", heading="",
        path=("Article 1",), text="Article 1 text", start=5, end=19, page_start=1,
        page_end=1, language="en",
    )  # fmt: skip
    base.update(kw)
    return Clause(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [dict(end=18), dict(page_start=0), dict(page_start=2, page_end=1)],
)
def test_clause_validates_offsets_and_pages(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="d:article-1"):
        _clause(**bad)


def test_tag_validates_span() -> None:
    with pytest.raises(ValidationError):
        Tag("c", "totalisation", 3, 5, "abc", "r")


def test_document_rejects_unknown_kind_listing_valid_ones() -> None:
    with pytest.raises(ValidationError, match="valid kinds: ssa, bla"):
        Document("d", "t", "treaty", "en", (), "f.pdf", "0" * 64, 1)


def test_models_are_frozen() -> None:
    c = _clause()
    with pytest.raises(AttributeError):
        c.label = "Article 2"  # type: ignore[misc]
