"""The app's view pages (Gallery, Matrix, Compare, Corridors) and the search and checklist
fixes of #17, driven with ``AppTest`` over the small store of ``views_fixtures`` (hash
embedder), and the display helpers behind them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import make_clause
from views_fixtures import DOCS, write_corpus

from migralex.corpus.models import TAG_NAMES, Hit
from migralex.corpus.store import Store
from migralex.ui import app_views as views
from migralex.ui import service

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
TIMEOUT = 60


@pytest.fixture(scope="module")
def page_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("pages")
    manifest = write_corpus(folder / "corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIGRALEX_MODEL", "hash")
        with Store(folder / "store") as store:
            results = service.ingest([folder / "corpus"], store, manifest=manifest)
    assert len(results) == len(DOCS)
    yield folder / "store"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, page_store: Path) -> AppTest:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MIGRALEX_STORE", str(page_store))
    monkeypatch.setenv("MIGRALEX_MODEL", "hash")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def _page(at: AppTest, page: str) -> AppTest:
    at.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _texts(at: AppTest) -> str:
    return " ".join(m.value for m in [*at.markdown, *at.caption])


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------


def test_gallery_page_shows_ranked_provisions_and_exports(app: AppTest) -> None:
    at = _page(app, "Gallery")
    at.selectbox(key="gallery_item").set_value("ssa.export_of_benefits").run()
    text = _texts(at)
    assert "Article 4 \\(Export of benefits\\)" in text
    assert "C118" in text
    assert {b.key for b in at.download_button} >= {"gallery_pptx", "gallery_html"}
    at.button(key="gallery_cmp_ssa.export_of_benefits_ssa-ca-pt:article-4").click().run()
    assert at.radio(key="page").value == "Compare"
    assert at.session_state["compare_ids"] == ["ssa-ca-pt:article-4", "ssa-nl-ma:article-3"]


def test_matrix_page_shows_a_cell_and_its_evidence(app: AppTest) -> None:
    at = _page(app, "Matrix")
    table = at.dataframe(key="matrix_table").value
    assert len(table) == 2 and "export_of_benefits" in table.columns
    assert set(table["export_of_benefits"]) == {"✅", "🟡"}
    at.selectbox(key="matrix_doc").set_value("ssa-ca-pt")
    at.selectbox(key="matrix_item").set_value("ssa.export_of_benefits").run()
    assert "Article 4 \\(Export of benefits\\)" in _texts(at)
    assert at.button(key="matrix_open")
    at.selectbox(key="matrix_kind").set_value("bla").run()
    assert len(at.dataframe(key="matrix_table").value) == 2
    at.selectbox(key="matrix_party").set_value("Suriname").run()
    assert list(at.dataframe(key="matrix_table").value["agreement"]) == [
        "Agreement on the admission of workers from Suriname"
    ]


def test_search_hit_goes_to_compare(app: AppTest) -> None:
    at = app
    at.text_input(key="search_query").input("export of benefits residence").run()
    for cid in ("ssa-ca-pt:article-4", "ssa-nl-ma:article-3"):
        at.button(key=f"search_cmp_{cid}").click().run()
    at = _page(at, "Compare")
    assert at.text_area(key="compare_text").value.splitlines() == [
        "ssa-ca-pt:article-4",
        "ssa-nl-ma:article-3",
    ]
    html = " ".join(h.proto.body for h in at.get("html"))
    assert 'class="mlx-diff"' in html and "national" in html
    assert "Export of benefits" in at.dataframe[0].value["tag"].tolist()


def test_corridors_page_warns_of_a_bla_without_ssa(app: AppTest) -> None:
    at = _page(app, "Corridors")
    assert len(at.dataframe[0].value) == 3
    at.selectbox(key="corridor_country").set_value("NL").run()
    assert any("Suriname" in w.value for w in at.warning)
    assert set(at.dataframe[0].value["partner"]) == {"Suriname", "Morocco"}


def test_search_filters_show_as_chips_and_clear(app: AppTest) -> None:
    at = app
    at.text_input(key="search_query").input("equal treatment").run()
    at.multiselect(key="filter_kinds").set_value(["bla"]).run()
    html = " ".join(h.proto.body for h in at.get("html"))
    assert "Filters in force" in html and "Kind: bla" in html
    at.button(key="clear_filters").click().run()
    assert at.multiselect(key="filter_kinds").value == []
    assert "Filters in force" not in " ".join(h.proto.body for h in at.get("html"))


def test_nonsense_query_says_nothing_matches_well(app: AppTest) -> None:
    at = app
    at.text_input(key="search_query").input("zzyzx quibblewort flarn").run()
    assert any("Nothing matches this query well" in w.value for w in at.warning)
    at.text_input(key="search_query").input("export of benefits").run()
    assert not any("Nothing matches" in w.value for w in at.warning)


def test_markdown_sources_show_no_page_numbers(app: AppTest) -> None:
    at = app
    at.text_input(key="search_query").input("totalisation of periods").run()
    captions = [c.value for c in at.caption]
    assert captions and not any("p\\. 1" in c for c in captions)


def test_checklist_result_is_cleared_when_the_checklist_changes(app: AppTest) -> None:
    at = _page(app, "Checklist")
    at.file_uploader(key="draft_upload").set_value(
        ("draft.md", DOCS["ssa-ca-pt"][3].encode(), "text/markdown")
    )
    at.run()
    at.button(key="run_checklist").click().run()
    assert any("on draft.md" in s.value for s in at.subheader)
    at.selectbox(key="checklist_id").set_value("bla").run()
    assert not any("on draft.md" in s.value for s in at.subheader)
    assert "checklist_view" not in at.session_state


def test_page_in_the_url_opens_that_page(monkeypatch: pytest.MonkeyPatch, page_store: Path) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MIGRALEX_STORE", str(page_store))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["page"] = "Corridors"
    at.run()
    assert at.radio(key="page").value == "Corridors"


# --------------------------------------------------------------------------------------------
# Display helpers
# --------------------------------------------------------------------------------------------


def test_tag_labels_cover_every_tag_and_colours_are_distinct() -> None:
    assert set(views.TAG_LABELS) == set(TAG_NAMES)
    assert views.tag_label("branch_old_age") == "Old-age benefits"
    assert len({views.tag_color(t) for t in TAG_NAMES}) == len(TAG_NAMES)
    chips = views.tag_chips_html(["branch_old_age"])
    assert "Old-age benefits" in chips and 'data-tag="branch_old_age"' in chips


def _hit(rank: int, label: str, path: tuple[str, ...], doc: str = "d") -> Hit:
    c = make_clause(label, "", f"text {rank}", doc_id=doc)
    from dataclasses import replace

    c = replace(c, clause_id=f"{doc}:{'/'.join(path)}", path=path)
    return Hit(rank, 1.0 / rank, c, "T", "ssa")


def test_fold_paragraphs_keeps_one_hit_per_article() -> None:
    hits = [
        _hit(1, "Article 4", ("Article 4", "1")),
        _hit(2, "Article 5", ("Article 5",)),
        _hit(3, "Article 4", ("Article 4", "3")),
        _hit(4, "Article 4", ("Article 4", "2"), doc="other"),
    ]
    folded = views.fold_paragraphs(hits)
    assert [(h.clause.clause_id, h.rank, n) for h, n in folded] == [
        ("d:Article 4/1", 1, 1),
        ("d:Article 5", 2, 0),
        ("other:Article 4/2", 3, 0),
    ]


@pytest.mark.parametrize(
    ("query", "weak"),
    [("zzyzx flarn", True), ("pensions abroad", False), ("the and", False)],
)
def test_weak_match(query: str, weak: bool) -> None:
    hit = Hit(1, 0.2, make_clause("Article 1", "Pension", "A pension is paid abroad."), "T", "ssa")
    assert views.weak_match(query, [hit]) is weak


def test_location_label_is_the_section_without_pages() -> None:
    from dataclasses import replace

    c = replace(make_clause("Article 2", "", "x"), context=("Part II", "Benefits"))
    assert views.location_label(c, paged=False) == "Benefits"
    assert views.location_label(c, paged=True) == "p. 1"


def test_corridors_dot_quotes_names_and_colours_edges() -> None:
    data = {
        "country": None,
        "parties": [{"key": "CA", "name": 'Can"ada'}, {"key": "PT", "name": "Portugal"}],
        "corridors": [
            {"a": "CA", "b": "PT", "status": "ssa_only", "ssa": [{}], "bla": []},
        ],
    }
    dot = views.corridors_dot(data)
    assert 'label="Can\\"ada"' in dot and views.CORRIDOR_COLORS["ssa_only"] in dot


def test_models_are_preloaded_with_a_visible_status(app: AppTest) -> None:
    import time

    deadline = time.monotonic() + 30
    while True:
        captions = [c.value for c in app.sidebar.caption]
        if any("Search model ready" in c for c in captions):
            break
        assert any("Loading the search model" in c for c in captions), captions
        assert time.monotonic() < deadline
        time.sleep(0.2)
        app.run()


def test_checklist_item_compares_the_draft_with_the_best_examples(app: AppTest) -> None:
    at = _page(app, "Checklist")
    draft = DOCS["ssa-nl-ma"][3].replace("Morocco", "Ruritania")
    at.file_uploader(key="draft_upload").set_value(("draft.md", draft.encode(), "text/markdown"))
    at.run()
    at.button(key="run_checklist").click().run()
    toggle = at.toggle(key="cmp_ssa.export_of_benefits")
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "This draft" in text
    assert "Agreement on Social Security between Canada and Portugal" in text
    html = " ".join(h.proto.body for h in at.get("html"))
    assert 'class="mlx-compare"' in html


def test_gallery_on_a_store_without_views_cache_fills_it_first(
    monkeypatch: pytest.MonkeyPatch, page_store: Path, tmp_path: Path
) -> None:
    """A store ingested before ingest filled the views cache: the page checks the agreements
    it reads (with a progress bar) and then shows the gallery."""
    import shutil

    from streamlit.testing.v1 import AppTest

    from migralex.ui import views as data_views

    root = tmp_path / "legacy"
    shutil.copytree(page_store, root, ignore=shutil.ignore_patterns(data_views.CACHE_DIR))
    monkeypatch.setenv("MIGRALEX_STORE", str(root))
    monkeypatch.setenv("MIGRALEX_MODEL", "hash")
    with Store(root) as st:
        assert len(data_views.uncached_documents(st, "hash")) == len(DOCS)
    at = _page(AppTest.from_file(str(APP), default_timeout=TIMEOUT).run(), "Gallery")
    at.selectbox(key="gallery_item").set_value("ssa.export_of_benefits").run()
    assert "Article 4 \\(Export of benefits\\)" in _texts(at)
    with Store(root) as st:
        left = data_views.uncached_documents(st, "hash")
    assert not [d for d in left if d.startswith(("ssa", "bla"))], left
