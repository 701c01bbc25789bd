"""The views of ``ui/views.py`` (matrix, compare, corridors, gallery), their exports and CLI
commands, on a small store of agreements written for these tests (hash embedder)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner
from views_fixtures import DOCS, write_corpus

from migralex.corpus.errors import NotFoundError, ValidationError
from migralex.corpus.parties import country_code, party_key
from migralex.corpus.store import Store
from migralex.ui import service, view_exports, views
from migralex.ui.cli import app

runner = CliRunner()


@pytest.fixture(scope="session")
def views_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store with the four :data:`DOCS`, embedded with the ``hash`` model."""
    folder = tmp_path_factory.mktemp("views")
    manifest = write_corpus(folder / "corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIGRALEX_MODEL", "hash")
        with Store(folder / "store") as store:
            results = service.ingest([folder / "corpus"], store, manifest=manifest)
    assert sorted(r.status for r in results) == ["added"] * len(DOCS), [r.error for r in results]
    yield folder / "store"


@pytest.fixture()
def store(views_store: Path, tmp_path: Path) -> Iterator[Store]:
    """A fresh copy of the store (each test starts with an empty view cache)."""
    import shutil

    root = tmp_path / "store"
    shutil.copytree(views_store, root)
    with Store(root) as st:
        yield st


class CountingQueries:
    """The hash model's query encoder, counting its calls."""

    def __init__(self) -> None:
        from migralex.index.embedders import HashEmbedder

        self.calls = 0
        self._emb = HashEmbedder()

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return self._emb.embed_queries(texts)


# --------------------------------------------------------------------------------------------
# Parties
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Canada", "CA"),
        ("Government of Canada", "CA"),
        ("Canadá", "CA"),
        ("Kingdom of the Netherlands", "NL"),
        ("Royaume des Pays-Bas", "NL"),
        ("Reino de los Países Bajos", "NL"),
        ("Koninkrijk der Nederlanden", "NL"),
        ("Royaume du Maroc", "MA"),
        ("République tunisienne", "TN"),
        ("Federation of St. Kitts and Nevis", "KN"),
        ("People’s Republic of China", "CN"),
        ("Republic of Macedonia", "MK"),
        ("Cape Verde", "CV"),
        ("Quebec", None),
        ("Yugoslavia", None),
        ("Council of Europe members", None),
    ],
)
def test_country_code_reads_english_french_spanish_and_dutch_names(
    name: str, code: str | None
) -> None:
    assert country_code(name) == code


def test_party_key_joins_spellings_of_one_country() -> None:
    assert party_key("Canadá") == party_key("Canada") == "CA"
    assert party_key("Quebec") != party_key("Canada")


# --------------------------------------------------------------------------------------------
# Matrix
# --------------------------------------------------------------------------------------------


def test_matrix_has_a_cell_per_document_and_item_with_evidence(store: Store) -> None:
    data = views.matrix(store, CountingQueries(), "hash")
    assert {d["doc_id"] for d in data["documents"]} == set(DOCS)
    assert set(data["checklists"]) == {"ssa", "bla"}
    for doc in data["documents"]:
        items = [i["id"] for i in data["checklists"][doc["checklist"]]["items"]]
        assert list(doc["cells"]) == items
        assert sum(doc["summary"].values()) == len(items)
        for cell in doc["cells"].values():
            assert cell["status"] in ("present", "partial", "absent")
            if cell["clause_id"]:
                clause = store.get_clause(cell["clause_id"])
                assert clause.doc_id == doc["doc_id"]
                assert cell["quote"] in clause.text
                for a, b in cell["spans"]:
                    assert 0 <= a < b <= len(cell["quote"])
    ca = next(d for d in data["documents"] if d["doc_id"] == "ssa-ca-pt")
    export = ca["cells"]["ssa.export_of_benefits"]
    assert (export["status"], export["clause_id"]) == ("present", "ssa-ca-pt:article-4")
    assert ca["branches"]["branch_old_age"] == "ssa-ca-pt:article-5"


@pytest.mark.parametrize(
    ("kind", "party", "expected"),
    [
        ("ssa", None, {"ssa-ca-pt", "ssa-nl-ma"}),
        ("bla", None, {"bla-nl-ma", "bla-nl-sr"}),
        (None, "Canadá", {"ssa-ca-pt"}),
        (None, "Pays-Bas", {"ssa-nl-ma", "bla-nl-ma", "bla-nl-sr"}),
        ("bla", "Maroc", {"bla-nl-ma"}),
        ("law", None, set()),
    ],
)
def test_matrix_filters_by_kind_and_party(
    store: Store, kind: str | None, party: str | None, expected: set[str]
) -> None:
    data = views.matrix(store, CountingQueries(), "hash", kind=kind, party=party)
    assert {d["doc_id"] for d in data["documents"]} == expected


def test_matrix_refuses_an_unknown_kind(store: Store) -> None:
    with pytest.raises(ValidationError, match="valid: ssa, bla, law"):
        views.matrix(store, CountingQueries(), "hash", kind="treaty")


def test_matrix_results_are_cached_by_document_and_checklist(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    shutil.rmtree(store.root / views.CACHE_DIR, ignore_errors=True)  # ingest filled it
    first = CountingQueries()
    a = views.matrix(store, first, "hash")
    assert first.calls == 2  # one encoding of the cues per checklist, not per document
    files = sorted((store.root / views.CACHE_DIR).glob("*.json"))
    assert len(files) == len(DOCS)
    again = CountingQueries()
    assert views.matrix(store, again, "hash") == a
    assert again.calls == 0  # every result came from the cache
    monkeypatch.setattr(views, "CACHE_VERSION", views.CACHE_VERSION + 1)
    views.matrix(store, again, "hash", kind="bla")
    assert again.calls == 1  # another version is another key


def test_a_damaged_cache_file_is_recomputed(store: Store) -> None:
    views.matrix(store, CountingQueries(), "hash", kind="ssa")
    for f in (store.root / views.CACHE_DIR).glob("*.json"):
        f.write_text("{not json", encoding="utf-8")
    queries = CountingQueries()
    data = views.matrix(store, queries, "hash", kind="ssa")
    assert queries.calls == 1 and len(data["documents"]) == 2


def test_matrix_xlsx_has_a_sheet_per_checklist_with_coloured_evidence(
    store: Store, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    data = views.matrix(store, CountingQueries(), "hash")
    out = tmp_path / "m.xlsx"
    view_exports.write_matrix_xlsx(data, out)
    wb = load_workbook(out)
    assert wb.sheetnames == [*data["checklists"], "C102 branches"]
    ws = wb["ssa"]
    header = [c.value for c in ws[1]]
    col = header.index("ssa.export_of_benefits") + 1
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    cell = ws.cell(row=rows["Agreement on Social Security between Canada and Portugal"], column=col)
    assert cell.value.startswith("present\nArticle 4 (Export of benefits)")
    assert cell.fill.fgColor.rgb.endswith(view_exports.STATUS_COLORS["present"])
    assert "ssa-ca-pt:article-4" in cell.comment.text
    branches = wb["C102 branches"]
    assert branches.cell(row=1, column=6).value == "Old-age benefits"


# --------------------------------------------------------------------------------------------
# Compare
# --------------------------------------------------------------------------------------------


def test_compare_aligns_two_export_clauses_word_by_word(store: Store) -> None:
    ids = ["ssa-ca-pt:article-4", "ssa-nl-ma:article-3"]
    data = views.compare(store, ids)
    assert [c["clause_id"] for c in data["clauses"]] == ids
    base, other = data["clauses"]
    assert base["similarity"] == 1.0 and 0 < other["similarity"] < 1
    for c in data["clauses"]:
        segs = c["segments"]
        assert segs[0]["start"] == 0 and segs[-1]["end"] == len(c["text"])
        assert all(a["end"] == b["start"] for a, b in zip(segs, segs[1:], strict=False))
    shared = " ".join(" ".join(s["text"].split()) for s in data["shared"])
    assert "in the territory of the other Party" in shared
    own = [other["text"][s["start"] : s["end"]] for s in other["segments"] if not s["shared"]]
    assert any("national" in piece for piece in own)
    assert other["exceptions"], "the Moroccan clause's 'unless otherwise provided' is an exception"
    rows = {r["tag"]: r for r in data["tags"]}
    assert rows["export_of_benefits"]["clauses"] == [True, True]
    assert rows["export_of_benefits"]["label"] == "Export of benefits"


@pytest.mark.parametrize(
    ("ids", "error", "match"),
    [
        (["ssa-ca-pt:article-4"], ValidationError, "2 to 4"),
        (["ssa-ca-pt:article-1"] * 2, ValidationError, "twice"),
        ([f"ssa-ca-pt:article-{i}" for i in range(1, 6)], ValidationError, "2 to 4"),
        (["ssa-ca-pt:article-4", "nowhere:article-9"], NotFoundError, "nowhere:article-9"),
    ],
)
def test_compare_refuses_bad_ids(
    store: Store, ids: list[str], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        views.compare(store, ids)


def test_compare_three_clauses_shares_only_what_all_share(store: Store) -> None:
    ids = ["ssa-ca-pt:article-5", "ssa-nl-ma:article-4", "ssa-ca-pt:article-4"]
    two = views.compare(store, ids[:2])
    three = views.compare(store, ids)
    words = lambda d: sum(s["words"] for s in d["shared"])  # noqa: E731
    assert words(three) <= words(two)
    assert len(three["clauses"]) == 3


# --------------------------------------------------------------------------------------------
# Corridors
# --------------------------------------------------------------------------------------------


def test_corridors_of_a_country_by_any_of_its_names(store: Store) -> None:
    for name in ("Netherlands", "Kingdom of the Netherlands", "Pays-Bas", "NL"):
        data = views.corridors(store, name)
        assert data["country"] == {"key": "NL", "code": "NL", "name": "Netherlands"}
        partners = {p["name"]: p["status"] for p in data["partners"]}
        assert partners == {"Suriname": "bla_without_ssa", "Morocco": "both"}
        assert data["partners"][0]["name"] == "Suriname"  # BLA without SSA first
    canada = views.corridors(store, "Canadá")
    assert [(p["code"], p["status"]) for p in canada["partners"]] == [("PT", "ssa_only")]


def test_corridors_list_every_pair_and_the_spellings(store: Store) -> None:
    data = views.corridors(store)
    assert data["country"] is None and data["partners"] == []
    pairs = {(r["a_name"], r["b_name"]): r["status"] for r in data["corridors"]}
    assert pairs == {
        ("Canada", "Portugal"): "ssa_only",
        ("Morocco", "Netherlands"): "both",
        ("Netherlands", "Suriname"): "bla_without_ssa",
    }
    nl = next(p for p in data["parties"] if p["key"] == "NL")
    assert set(nl["spellings"]) == {"Kingdom of the Netherlands", "Netherlands", "Nederland"}
    assert nl["documents"] == 3


def test_corridors_of_an_unknown_country_name_the_known_ones(store: Store) -> None:
    with pytest.raises(NotFoundError, match="Ruritania: no SSA or BLA.*Canada"):
        views.corridors(store, "Ruritania")


# --------------------------------------------------------------------------------------------
# Gallery
# --------------------------------------------------------------------------------------------


def test_gallery_ranks_the_unrestricted_provision_first(store: Store) -> None:
    data = views.gallery(store, CountingQueries(), "hash", principle="export_of_benefits")
    assert [i["id"] for i in data["items"]] == ["ssa.export_of_benefits"]
    provisions = data["items"][0]["provisions"]
    assert [p["doc_id"] for p in provisions] == ["ssa-ca-pt", "ssa-nl-ma"]
    best, second = provisions
    assert best["met"] == len(views.CRITERIA) and all(best["criteria"].values())
    assert not second["criteria"]["no_exception"] and second["status"] == "partial"
    assert "C118" in data["items"][0]["reference"]


@pytest.mark.parametrize("standard", ["C118", "c157", "R167"])
def test_gallery_standard_filter_keeps_items_citing_it(store: Store, standard: str) -> None:
    items = views.gallery_items(standard=standard)
    assert items
    for _cid, item in items:
        assert standard.upper() in item.reference.upper()


def test_gallery_standard_is_a_whole_reference() -> None:
    with pytest.raises(NotFoundError, match="standard 'C11'"):
        views.gallery_items(standard="C11")  # not a prefix of C118


def test_gallery_exports_slides_and_a_handout(store: Store, tmp_path: Path) -> None:
    from pptx import Presentation

    data = views.gallery(store, CountingQueries(), "hash", principle="totalisation", n=2)
    n_provisions = sum(len(i["provisions"]) for i in data["items"])
    assert n_provisions == 2
    out = tmp_path / "g.pptx"
    view_exports.write_gallery_pptx(data, out)
    slides = list(Presentation(str(out)).slides)
    assert len(slides) == 1 + len(data["items"]) + n_provisions
    texts = " ".join(sh.text_frame.text for s in slides for sh in s.shapes if sh.has_text_frame)
    assert "Article 5 (Totalizing)" in texts and "Standard: C118" in texts
    page = view_exports.gallery_html(data)
    assert page.startswith("<!doctype html>") and "<mark>" in page
    assert "Agreement on Social Security between Canada and Portugal" in page


def test_marked_html_escapes_and_merges_overlaps() -> None:
    out = view_exports.marked_html("a <b> c d", [[2, 5], [4, 7], [99, 100]])
    assert out == "a <mark>&lt;b&gt; c</mark> d"


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _json(args: list[str], code: int = 0) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output + str(result.exception)
    return json.loads(result.stdout)


def test_cli_view_commands_print_their_json(store: Store, tmp_path: Path) -> None:
    root = str(store.root)
    m = _json(
        ["matrix", "--store", root, "--kind", "ssa", "--json", "--xlsx", str(tmp_path / "m.xlsx")]
    )
    assert {"kind", "party", "checklists", "branches", "documents"} <= set(m)
    assert (tmp_path / "m.xlsx").stat().st_size > 0
    c = _json(["compare", "ssa-ca-pt:article-4", "ssa-nl-ma:article-3", "--store", root, "--json"])
    assert {"clauses", "shared", "tags"} <= set(c)
    r = _json(["corridors", "--store", root, "--country", "Nederland", "--json"])
    assert r["country"]["code"] == "NL"
    g = _json(
        ["gallery", "--store", root, "--standard", "C118", "--json",
         "--pptx", str(tmp_path / "g.pptx"), "--html", str(tmp_path / "g.html")]
    )  # fmt: skip
    assert {"criteria", "items"} <= set(g) and (tmp_path / "g.pptx").is_file()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["compare", "ssa-ca-pt:article-4"], 2, "2 to 4"),
        (["compare", "ssa-ca-pt:article-4", "x:y"], 1, "migralex: error: no clause 'x:y'"),
        (["corridors", "--country", "Ruritania"], 1, "migralex: error: Ruritania: no SSA or BLA"),
        (["matrix", "--kind", "treaty"], 2, "unknown kind 'treaty'"),
        (["gallery", "--principle", "nothing-like-this"], 1, "no checklist item matches"),
    ],
)
def test_cli_view_errors(store: Store, args: list[str], code: int, message: str) -> None:
    result = runner.invoke(app, [*args, "--store", str(store.root)])
    assert result.exit_code == code
    assert message in result.output


def test_cli_views_refuse_a_missing_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["corridors", "--store", str(tmp_path / "none")])
    assert result.exit_code == 1 and "no migralex store here" in result.output
    assert not (tmp_path / "none").exists()


def test_uncached_documents_lists_what_the_matrix_would_compute(store: Store) -> None:
    import shutil

    shutil.rmtree(store.root / views.CACHE_DIR, ignore_errors=True)
    assert len(views.uncached_documents(store, "hash")) == len(DOCS)
    assert len(views.uncached_documents(store, "hash", "ssa")) == 2
    views.matrix(store, CountingQueries(), "hash", kind="ssa")
    assert len(views.uncached_documents(store, "hash")) == len(DOCS) - 2
    assert views.uncached_documents(store, "hash", "ssa") == []
    with pytest.raises(ValidationError, match="unknown kind"):
        views.uncached_documents(store, "hash", "treaty")


def test_a_document_another_thread_computes_is_not_computed_twice(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one thread checks a document, ``block=False`` returns None at once; the matrix
    does the other documents first, then waits for that one's file instead of recomputing."""
    import shutil
    import threading

    from migralex.nlp.checklist.loader import load_checklist

    shutil.rmtree(store.root / views.CACHE_DIR, ignore_errors=True)
    computed: list[str] = []
    original = views.check_stored_document
    release = threading.Event()
    first = next(d for d in views._doc_rows(store) if d["kind"] == "ssa")

    def check(st: Store, doc_id: str, *args: object) -> dict[str, object]:
        computed.append(doc_id)
        if doc_id == first["doc_id"]:
            release.wait(10)
        return original(st, doc_id, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(views, "check_stored_document", check)
    checklist = load_checklist("ssa")
    holder = threading.Thread(
        target=lambda: views.cached_check(store, first, checklist, CountingQueries(), "hash")
    )
    holder.start()
    while first["doc_id"] not in computed:
        threading.Event().wait(0.01)
    assert (
        views.cached_check(store, first, checklist, CountingQueries(), "hash", block=False) is None
    )
    progress: list[tuple[int, int, str]] = []
    waiter = threading.Thread(
        target=lambda: views.matrix(
            store, CountingQueries(), "hash", kind="ssa", on_document=lambda *a: progress.append(a)
        )
    )
    waiter.start()
    while not progress:  # the other SSA is done while the first is still being computed
        threading.Event().wait(0.01)
    assert progress[0][0] == 1 and progress[0][2] != first["doc_id"]
    release.set()
    holder.join(10)
    waiter.join(10)
    assert sorted(computed) == sorted({*computed}) and len(computed) == 2  # each once
    assert [p[:2] for p in progress] == [(1, 2), (2, 2)]
