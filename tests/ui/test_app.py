"""The Streamlit app (``ui/app.py``) and its display helpers (``ui/app_views.py``).

A small store is built once per session from real corpus files with the deterministic ``hash``
embedder (no model download); the app is driven with ``streamlit.testing.v1.AppTest``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import CORPUS, corpus_missing

from migralex.corpus.models import Tag
from migralex.ui import app_views as views

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
MANIFEST = CORPUS / "manifest.csv"
#: Small files: three English SSAs (Markdown and HTML) and a French BLA (ids, kinds and parties
#: from the manifest).
FILES = {
    "nl-bwbv0001745": CORPUS / "ssa" / "nl-bwbv0001745.md",
    "ca-si-2006-122": CORPUS / "ssa" / "ca-si-2006-122.html",
    "nl-bwbv0001780": CORPUS / "ssa" / "nl-bwbv0001780.md",
    "nl-bwbv0004588": CORPUS / "bla" / "nl-bwbv0004588.md",
}
BLA_TITLE_START = "Accord entre le Royaume des Pays-Bas et le Royaume de Grèce"
TIMEOUT = 60

#: A short draft written for these tests (not corpus text).
DRAFT = """# Draft agreement on social security between Ruritania and Freedonia

## Article 1 — Definitions

For the purposes of this Agreement, "competent authority" means the ministry responsible for
social security in each Party.

## Article 2 — Equality of treatment

Persons who are or have been subject to the legislation of a Party shall receive equal treatment
with nationals of the other Party in the application of its legislation.

## Article 3 — Export of benefits

Benefits shall not be subject to any reduction, modification, suspension or cancellation by
reason only of the fact that the beneficiary resides in the territory of the other Party.
"""


@pytest.fixture(autouse=True)
def _corpus_files() -> None:
    """These tests ingest small files of the shared corpus: skip (fail under CI) without it."""
    if not all(p.is_file() for p in FILES.values()) or not MANIFEST.is_file():
        corpus_missing(f"the shared corpus ({CORPUS}) with its manifest and test files is missing")


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store with the :data:`FILES`, embedded with the ``hash`` model."""
    from migralex.ui import service

    root = tmp_path_factory.mktemp("store")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIGRALEX_MODEL", "hash")
        mp.delenv("MIGRALEX_STORE", raising=False)
        try:
            import migralex.nlp.tagger  # noqa: F401
        except ImportError:  # the tagger is not written yet: store untagged clauses
            mp.setattr(service, "tagger", lambda: lambda clauses, language: [])
        store = service.open_store(root)
        results = service.ingest(list(FILES.values()), store, manifest=MANIFEST)
    assert [r.status for r in results] == ["added"] * len(FILES), [r.error for r in results]
    yield root


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> Path:
    """Environment for an AppTest over the session store."""
    monkeypatch.setenv("MIGRALEX_STORE", str(store_dir))
    monkeypatch.setenv("MIGRALEX_MODEL", "hash")
    return store_dir


def _app() -> AppTest:
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def _run_page(page: str) -> AppTest:
    at = _app().run()
    assert not at.exception, at.exception
    if page != views.PAGES[0]:
        at.radio(key="page").set_value(page).run()
        assert not at.exception, at.exception
    return at


def _search(at: AppTest, query: str) -> AppTest:
    at.text_input(key="search_query").input(query).run()
    assert not at.exception, at.exception
    return at


def _result_titles(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**") and ". " in m.value[:8]]


# --------------------------------------------------------------------------------------------
# Display helpers (no Streamlit)
# --------------------------------------------------------------------------------------------


def _tag(name: str, start: int, end: int, text: str, exception: str = "") -> Tag:
    return Tag("d:a-1", name, start, end, text[start:end], f"en.{name}.rule", exception)


def test_highlight_marks_spans_with_rule_and_exception_in_tooltip() -> None:
    text = "Benefits <shall> be paid abroad & at home."
    tags = [
        _tag("export_of_benefits", 0, 30, text, exception="subject to Article 7"),
        _tag("equality_of_treatment", 25, 41, text),
    ]
    out = views.highlight_html(text, tags)
    assert "&lt;shall&gt;" in out and "&amp;" in out and "<shall>" not in out
    assert out.count("<mark") == 3  # 0-25 one tag, 25-30 both, 30-41 the second
    assert (
        'title="export_of_benefits · rule: en.export_of_benefits.rule · exception: subject to Article 7"'
        in out
    )
    assert 'data-tags="export_of_benefits equality_of_treatment"' in out
    assert "rule: en.equality_of_treatment.rule" in out


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 0), (5, 3), (2, 999)],
    ids=["empty", "reversed", "past-the-end"],
)
def test_highlight_ignores_bad_spans(start: int, end: int) -> None:
    tag = Tag.__new__(Tag)  # bypass validation: spans from elsewhere may be wrong
    for field, value in {
        "clause_id": "c",
        "name": "gender",
        "start": start,
        "end": end,
        "text": "",
        "rule": "r",
        "exception": "",
        "negated": False,
    }.items():
        object.__setattr__(tag, field, value)
    assert "<mark" not in views.highlight_html("some text", [tag])


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(3, 3, "p. 3"), (3, 5, "pp. 3–5"), (1, None, "p. 1"), (None, None, ""), (0, 0, "")],
)
def test_pages_label(start: int | None, end: int | None, expected: str) -> None:
    assert views.pages_label(start, end) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Article 5 (Export)", r"Article 5 \(Export\)"),
        ("costs $5 *each*_", r"costs \$5 \*each\*\_"),
        ("plain", "plain"),
    ],
)
def test_md_escape(text: str, expected: str) -> None:
    assert views.md_escape(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("My Draft.PDF", "My_Draft.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("accord ç 2024.docx", "accord_ç_2024.docx"),
        ("", "draft.txt"),
    ],
)
def test_upload_path_keeps_suffix_and_stays_in_folder(
    tmp_path: Path, name: str, expected: str
) -> None:
    path = views.upload_path(name, tmp_path)
    assert path.parent == tmp_path and path.name == expected


@pytest.mark.parametrize(
    ("status", "label"),
    [("present", "✅ present"), ("partial", "🟡 partial"), ("absent", "❌ absent"), ("odd", "odd")],
)
def test_status_label(status: str, label: str) -> None:
    assert views.status_label(status) == label


def test_filter_options_and_rows() -> None:
    summaries = [
        {"doc_id": "b", "title": "Beta", "kind": "bla", "language": "fr", "parties": ["Netherlands", "Greece"], "pages": 2, "clauses": 5},
        {"doc_id": "a", "title": "alpha", "kind": "ssa", "language": "en", "parties": ["netherlands ", "Belize"], "pages": 1, "clauses": 3},
    ]  # fmt: skip
    stats = {"kinds": {"bla": 1, "ssa": 1}, "languages": {"fr": 1, "en": 1}, "tags": {"gender": 2}}
    opts = views.filter_options(summaries, stats)
    assert opts.kinds == ("bla", "ssa") and opts.languages == ("en", "fr")
    assert opts.parties == ("Belize", "Greece", "Netherlands")
    assert opts.tags == ("gender",) and list(opts.documents) == ["a", "b"]
    rows = views.document_rows(summaries)
    assert rows[0]["parties"] == "Netherlands; Greece" and rows[1]["doc_id"] == "a"
    assert views.count_rows({"x": 1, "y": 3, "a": 1}, "tag") == [
        {"tag": "y", "count": 3},
        {"tag": "a", "count": 1},
        {"tag": "x", "count": 1},
    ]
    f = views.build_filters(kinds=["ssa"], tags=["gender"])
    assert f.kinds == ("ssa",) and f.tags == ("gender",) and not f.languages


def test_empty_store_message_names_the_ingest_command() -> None:
    assert "migralex ingest PATH --store /some/store" in views.empty_store_message("/some/store")


# --------------------------------------------------------------------------------------------
# Checklist view model (what the checklist page runs on an upload)
# --------------------------------------------------------------------------------------------


def test_run_checklist_on_upload_builds_view_and_reports(
    monkeypatch: pytest.MonkeyPatch, store_dir: Path
) -> None:
    from migralex.nlp.checklist import STATUSES, load_checklist
    from migralex.ui import service

    monkeypatch.setenv("MIGRALEX_MODEL", "hash")
    store = service.open_store(store_dir)
    stages: list[tuple[str, float]] = []
    view = views.run_checklist_on_upload(
        "Draft SSA.md", DRAFT.encode(), "ssa", store, lambda t, f: stages.append((t, f))
    )
    # progress by stage: reading, embedding, every item in order, done; fractions rise to 1
    n = len(load_checklist("ssa").items)
    assert stages[0][0].startswith("Reading") and stages[1][0].startswith("Embedding its 4")
    assert [t.split(":")[0] for t, _ in stages[2:-1]] == [
        f"Item {k} of {n}" for k in range(1, n + 1)
    ]
    assert stages[-1] == ("Done", 1.0)
    assert [f for _, f in stages] == sorted(f for _, f in stages)

    data = view.data
    assert data["checklist"] == "ssa" and data["document"]["path"] == "Draft SSA.md"
    assert set(data) >= {"checklist", "title", "document", "items", "summary"}
    assert [i.id for i in view.items] == [i.id for i in load_checklist("ssa").items]
    assert sum(view.summary.values()) == len(view.items)
    assert view.clauses == 4 and view.language == "en"
    assert len(view.rows()) == len(view.items)
    for item in view.items:
        assert item.status in STATUSES and item.status_label.endswith(item.status)
        assert 0.0 <= item.confidence <= 1.0
        for ev in item.evidence:
            # Markdown has no pages (no "p. 1"); these articles sit in no section
            assert ev.pages == "" and ev.html.startswith('<div class="mlx-clause"')
        for ex in item.examples:  # examples come from the stored agreements, never the draft
            assert ex.doc_id in FILES
    by_id = {i.id: i for i in view.items}
    export = by_id["ssa.export_of_benefits"]
    assert export.status != "absent"
    assert export.evidence[0].citation == "Article 3 — Export of benefits"
    assert export.examples, "the stored SSAs should give good-practice examples"
    if view.tagged:  # the real tagger is present
        assert "<mark" in export.evidence[0].html
    # evidence entries gain their pages, for the reports
    first = next(i for i in data["items"] if i["evidence"])
    assert first["evidence"][0]["page_start"] == 1

    files = {r.suffix: r for r in views.report_files(data)}
    assert list(files) == list(views.REPORT_FORMATS)
    assert files[".md"].data.decode().startswith("# ")
    assert b"<table>" in files[".html"].data
    for suffix in (".docx", ".xlsx"):
        assert zipfile.is_zipfile(io.BytesIO(files[suffix].data))
    assert files[".docx"].file_name == "migralex-ssa-draft-ssa.docx"


def test_unreadable_upload_raises_read_error(store_dir: Path) -> None:
    from migralex.corpus.errors import MigralexError
    from migralex.ui import service

    with pytest.raises(MigralexError):
        views.run_checklist_on_upload(
            "broken.pdf", b"not a pdf", "ssa", service.open_store(store_dir)
        )


# --------------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", views.PAGES)
def test_every_page_renders(app_env: Path, page: str) -> None:
    at = _run_page(page)
    assert not at.error, [e.value for e in at.error]
    assert at.radio(key="page").value == page


def test_search_shows_titles_highlights_and_opens_detail(app_env: Path) -> None:
    at = _search(_run_page("Search"), "export of benefits to the other party")
    titles = _result_titles(at)
    assert titles, "no results"
    assert any(w in t for t in titles for w in ("Belize", "Gambia", "Latvia"))
    assert any("<mark" in h.value for h in at.html)  # tags highlighted (with rules in title)
    open_buttons = [b for b in at.button if (b.key or "").startswith("search_open_")]
    assert len(open_buttons) == len(titles)

    clause_id = open_buttons[0].key.removeprefix("search_open_")
    open_buttons[0].click().run()
    assert not at.exception, at.exception
    assert at.radio(key="page").value == "Clause detail"
    assert at.text_input(key="clause_id").value == clause_id
    assert "Comparable clauses in other documents" in [s.value for s in at.subheader]
    similar = [b for b in at.button if (b.key or "").startswith("similar_open_")]
    assert similar, "no comparable clause"
    assert all(not b.key.startswith(f"similar_open_{clause_id.split(':')[0]}:") for b in similar)

    at.button(key="detail_back").click().run()  # the query survives the round trip
    assert at.text_input(key="search_query").value == "export of benefits to the other party"
    assert _result_titles(at) == titles


def test_search_filters_by_kind(app_env: Path) -> None:
    at = _run_page("Search")
    at.multiselect(key="filter_kinds").set_value(["bla"]).run()
    _search(at, "travailleurs recrutement emploi")
    titles = _result_titles(at)
    assert titles and all(BLA_TITLE_START in t for t in titles)


def test_clause_detail_without_clause_asks_for_one(app_env: Path) -> None:
    at = _run_page("Clause detail")
    assert any("Open a clause" in i.value for i in at.info)
    at.text_input(key="clause_id").input("nl-bwbv0001745:nope").run()
    assert not at.exception and any("nope" in e.value for e in at.error)


def test_documents_page_lists_the_ingested_documents(app_env: Path) -> None:
    at = _run_page("Documents")
    table = at.dataframe[0].value  # the documents table comes first
    assert set(table["doc_id"]) == set(FILES)
    assert {"title", "kind", "language", "parties", "pages", "clauses"} <= set(table.columns)
    row = table.set_index("doc_id").loc["nl-bwbv0004588"]
    assert row["kind"] == "bla" and row["language"] == "fr" and "Greece" in row["parties"]
    assert {m.label: m.value for m in at.metric}["Documents"] == str(len(FILES))


def test_checklist_page_shows_selector_and_runs_upload(app_env: Path) -> None:
    from migralex.nlp.checklist import checklist_ids

    at = _run_page("Checklist")
    selector = at.selectbox(key="checklist_id")
    assert selector.options and all(
        any(f"({i})" in o for i in checklist_ids()) for o in selector.options
    )
    assert at.button(key="run_checklist").disabled  # nothing uploaded yet

    at.file_uploader(key="draft_upload").set_value(("draft.md", DRAFT.encode(), "text/markdown"))
    at.run()
    at.button(key="run_checklist").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [m.label for m in at.metric] == ["✅ present", "🟡 partial", "❌ absent"]
    assert len(at.dataframe[0].value) == len(at.expander) - 1  # one row per item
    assert {b.key for b in at.download_button} == {
        "download_md",
        "download_html",
        "download_docx",
        "download_xlsx",
    }


@pytest.mark.parametrize("page", views.PAGES)
def test_empty_store_shows_how_to_ingest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: str
) -> None:
    monkeypatch.setenv("MIGRALEX_STORE", str(tmp_path / "empty"))
    monkeypatch.setenv("MIGRALEX_MODEL", "hash")
    at = _run_page(page)
    if page == "Checklist":
        assert any("empty" in c.value for c in at.caption)
    else:
        assert any("migralex ingest PATH" in i.value for i in at.info)
    assert not (tmp_path / "empty").exists()  # the app created the missing store (issue #19)


def test_bad_settings_show_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MIGRALEX_STORE", str(tmp_path / "s"))
    monkeypatch.setenv("MIGRALEX_THREADS", "many")
    at = _app().run()
    assert not at.exception
    assert any("Cannot open the migralex store" in e.value for e in at.error)


def test_checklist_upload_that_crashes_a_reader_shows_an_error_box(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a reader failure other than ours (RecursionError, XMLSyntaxError) escaped the page
    def crash(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(views, "run_checklist_on_upload", crash)
    at = _run_page("Checklist")
    at.file_uploader(key="draft_upload").set_value(("deep.html", b"<div>", "text/html"))
    at.run()
    at.button(key="run_checklist").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and errors[0].startswith("Checklist failed: deep.html: ")
    assert "RecursionError" not in errors[0]


def test_search_state_lives_in_the_link(app_env: Path) -> None:
    """A shared link opens the same search (question, mode, filters); values the store does
    not have are dropped; changing the filters rewrites the link."""
    at = _app()
    at.query_params["q"] = "payment of pensions abroad"
    at.query_params["mode"] = "lexical"
    at.query_params["language"] = ["fr", "xx"]
    at.query_params["kind"] = "ssa"
    at.run()
    assert not at.exception, at.exception
    assert at.text_input(key="search_query").value == "payment of pensions abroad"
    assert at.radio(key="search_mode").value == "lexical"
    assert at.multiselect(key="filter_languages").value == ["fr"]
    assert at.multiselect(key="filter_kinds").value == ["ssa"]
    at.multiselect(key="filter_languages").set_value([]).run()
    assert "language" not in at.query_params and at.query_params["kind"] in ("ssa", ["ssa"])
    at.radio(key="search_mode").set_value("hybrid").run()
    assert "mode" not in at.query_params


def test_warm_views_fills_the_cache_the_matrix_reads(app_env: Path, tmp_path: Path) -> None:
    """What ingest runs after its files, and the app in the background at start: every
    agreement checked once and cached, so the matrix and the gallery open without computing."""
    import shutil

    from migralex.ui import service
    from migralex.ui.views import CACHE_DIR

    assert list((app_env / CACHE_DIR).glob("*.json")), "ingest fills the views cache"
    root = tmp_path / "store"
    shutil.copytree(app_env, root)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    with service.open_existing_store(root) as store:
        n = service.warm_views(store)
    assert n >= 1
    assert len(list((root / CACHE_DIR).glob("*.json"))) >= n
