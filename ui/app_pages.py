"""The app's view pages: good-practice gallery, coverage matrix, side-by-side comparison and
corridors. They only render (STYLE.md rule 14): the data comes from :mod:`migralex.ui.views`,
the display values from :mod:`migralex.ui.app_views`, the files from
:mod:`migralex.ui.view_exports`. Checklist results of stored documents are cached in the
store folder (:func:`migralex.ui.views.cached_check`) and, per process, by the store's write
generation (``st.cache_data``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from migralex.corpus.errors import MigralexError
from migralex.corpus.store import Store
from migralex.ui import app_views as views
from migralex.ui import service, view_exports
from migralex.ui import views as data_views

#: Session key of the clause ids chosen for comparison (a list, 4 at most).
COMPARE_KEY = "compare_ids"
#: Most clauses compared side by side.
COMPARE_MAX = 4


@st.cache_resource(show_spinner=False)
def _queries(root: str, generation: int) -> tuple[Callable[[list[str]], Any], str]:
    """The store's query encoder (loaded on first use) and model name."""
    del generation  # part of the cache key only
    return service.view_queries(service.open_existing_store(Path(root)))


@st.cache_data(show_spinner=False, max_entries=16)
def matrix_data(
    root: str, generation: int, kind: str | None, party: str | None, _store: Store
) -> dict[str, Any]:
    """:func:`migralex.ui.views.matrix` of the store, cached per write generation."""
    queries, model = _queries(root, generation)
    return data_views.matrix(_store, queries, model, kind=kind, party=party)


@st.cache_data(show_spinner=False, max_entries=16)
def gallery_data(
    root: str,
    generation: int,
    principle: str | None,
    standard: str | None,
    n: int,
    _store: Store,
) -> dict[str, Any]:
    """:func:`migralex.ui.views.gallery` of the store, cached per write generation."""
    queries, model = _queries(root, generation)
    return data_views.gallery(_store, queries, model, principle=principle, standard=standard, n=n)


def fill_views(root: str, store: Store, kinds: Sequence[str | None]) -> None:
    """Check, with a progress bar, the agreements of ``kinds`` (matrix kinds; None: all) that
    the views cache lacks (a store ingested before ingest filled it), so the page renders
    step by step instead of behind one long spinner; the app's background fill shares the work
    (:func:`migralex.ui.views.matrix`)."""
    queries, model = _queries(root, store.generation)
    missing = sum(len(data_views.uncached_documents(store, model, k)) for k in kinds)
    if not missing:
        return
    bar = st.progress(0.0, text=f"Checking {missing} agreements of the store once…")
    done = 0

    def step(_done: int, _total: int, doc_id: str) -> None:
        nonlocal done
        done += 1
        bar.progress(
            min(done / missing, 1.0),
            text=f"Checking the agreements of the store once ({done} of {missing}: {doc_id})…",
        )

    for k in kinds:
        data_views.matrix(store, queries, model, kind=k, on_document=step)
    bar.empty()


def add_to_compare(clause_id: str) -> None:
    """Button callback: put a clause on the comparison page (the oldest leaves beyond 4)."""
    ids = [c for c in st.session_state.get(COMPARE_KEY, []) if c != clause_id]
    st.session_state[COMPARE_KEY] = [*ids, clause_id][-COMPARE_MAX:]


def _open(clause_id: str) -> None:
    st.session_state["clause_id"] = clause_id
    st.session_state["page"] = "Clause detail"


def _go_compare(ids: list[str]) -> None:
    st.session_state[COMPARE_KEY] = ids[:COMPARE_MAX]
    st.session_state["page"] = "Compare"


def _file_bytes(write: Callable[[Path], None], suffix: str) -> bytes:
    """The bytes ``write`` puts in a temporary file (downloads are made on click only)."""
    with tempfile.TemporaryDirectory(prefix="migralex-view-") as tmp:
        target = Path(tmp) / f"out{suffix}"
        write(target)
        return target.read_bytes()


# --------------------------------------------------------------------------------------------
# Gallery
# --------------------------------------------------------------------------------------------


def page_gallery(root: str, store: Store) -> None:
    """Gallery page: per checklist item, the best provisions of the store, with the criteria
    each meets and the standard behind the item; slides and handout to download."""
    st.header("Good-practice gallery")
    st.caption(
        "For each question of the SSA and BLA checklists, the provisions of the agreements in "
        "the store that answer it best, ranked by the criteria shown under each one."
    )
    items = data_views.gallery_items()
    c1, c2, c3 = st.columns([3, 2, 1])
    labels = {i.id: f"{i.id.split('.', 1)[1].replace('_', ' ')} ({cid})" for cid, i in items}
    chosen = c1.selectbox(
        "Principle or building block",
        [*labels, ""],
        format_func=lambda i: labels.get(i, "All items"),
        key="gallery_item",
    )
    standard = c2.selectbox(
        "Standard",
        ["", "C102", "C118", "C157", "R167", "C97", "R86", "C143", "R151", "C181", "C189"],
        format_func=lambda s: s or "Any",
        key="gallery_standard",
    )
    n = int(c3.number_input("Per item", 1, 10, 3, key="gallery_n"))
    try:
        fill_views(root, store, ["ssa", "bla"])
        with st.spinner("Ranking the provisions…"):
            data = gallery_data(root, store.generation, chosen or None, standard or None, n, store)
    except MigralexError as exc:
        st.info(f"Nothing to show: {exc}")
        return
    d1, d2 = st.columns(2)
    d1.download_button(
        "Download slides (PPTX)",
        lambda: _file_bytes(lambda p: view_exports.write_gallery_pptx(data, p), ".pptx"),
        file_name="migralex-gallery.pptx",
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
        key="gallery_pptx",
        on_click="ignore",
    )
    d2.download_button(
        "Download handout (HTML)",
        lambda: view_exports.gallery_html(data).encode("utf-8"),
        file_name="migralex-gallery.html",
        mime="text/html",
        key="gallery_html",
        on_click="ignore",
    )
    for item in data["items"]:
        st.subheader(views.md_escape(item["question"]))
        st.caption(views.md_escape(f"{item['id']} · Standard: {item['reference']}"))
        st.markdown(f"*{views.md_escape(item['why'])}*")
        if not item["provisions"]:
            st.info("No agreement in the store has this provision.")
        for prov in item["provisions"]:
            with st.container(border=True):
                st.markdown(
                    f"**{views.md_escape(prov['doc_title'])}** — "
                    f"{views.md_escape(prov['citation'])}"
                )
                st.badge(
                    f"{prov['met']} of {len(data['criteria'])} criteria · {prov['status']}",
                    color="green" if prov["met"] == len(data["criteria"]) else "orange",
                )
                st.html(
                    '<div style="white-space:pre-wrap;line-height:1.5">'
                    f"{view_exports.marked_html(prov['quote'], prov['spans'])}</div>"
                )
                crit = [
                    ("✓ " if prov["criteria"][k] else "✗ ") + words
                    for k, words in data["criteria"].items()
                ]
                st.caption(views.md_escape(" · ".join(crit)))
                b1, b2 = st.columns(2)
                b1.button(
                    "Open clause",
                    key=f"gallery_open_{item['id']}_{prov['clause_id']}",
                    on_click=_open,
                    args=(prov["clause_id"],),
                )
                b2.button(
                    "Compare the best provisions",
                    key=f"gallery_cmp_{item['id']}_{prov['clause_id']}",
                    on_click=_go_compare,
                    args=([p["clause_id"] for p in item["provisions"]],),
                    disabled=len(item["provisions"]) < 2,
                )


# --------------------------------------------------------------------------------------------
# Matrix
# --------------------------------------------------------------------------------------------


def page_matrix(root: str, store: Store) -> None:
    """Matrix page: agreements x checklist items as a status heatmap, a cell's evidence, the
    C102 branches, XLSX download."""
    st.header("Coverage matrix")
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox(
        "Agreements",
        list(data_views.MATRIX_KINDS),
        format_func=lambda k: {
            "ssa": "Social security (SSA)",
            "bla": "Labour (BLA)",
            "law": "Laws and regulations",
        }[k],  # fmt: skip
        key="matrix_kind",
    )
    parties = sorted(
        {p for s in store.document_summaries() for p in s["parties"] if p.strip()},
        key=str.lower,
    )
    party = c2.selectbox(
        "Party", ["", *parties], format_func=lambda p: p or "Any", key="matrix_party"
    )
    language = c3.selectbox(
        "Language",
        ["", *sorted(store.stats()["languages"])],
        format_func=lambda x: x or "Any",
        key="matrix_language",
    )
    try:
        fill_views(root, store, [kind])
        with st.spinner("Building the matrix…"):
            data = matrix_data(root, store.generation, kind, party or None, store)
    except MigralexError as exc:
        st.error(str(exc))
        return
    if language:
        data = {**data, "documents": [d for d in data["documents"] if d["language"] == language]}
    checklist_id = data_views.CHECKLIST_FOR_KIND.get(kind, kind)
    rows = views.matrix_rows(data, checklist_id)
    if not rows:
        st.info("No agreement of this kind matches these filters.")
        return
    import pandas as pd

    frame = pd.DataFrame(rows)
    item_cols = [c for c in frame.columns if c not in ("agreement", "parties", "language", "year")]
    styled = frame.style.map(views.status_style, subset=item_cols)
    event = st.dataframe(
        styled,
        hide_index=True,
        key="matrix_table",
        on_select="rerun",
        selection_mode="single-cell",
        column_config={
            "agreement": st.column_config.TextColumn(width="large", pinned=True),
            **{
                c: st.column_config.TextColumn(c.replace("_", " "), width="small")
                for c in item_cols
            },
        },
    )
    st.caption(
        "✅ present · 🟡 partial · ❌ absent. Click a cell, or choose below, to see its evidence."
    )
    docs = [d for d in data["documents"] if d["checklist"] == checklist_id]
    items = data["checklists"][checklist_id]["items"]
    _select_matrix_cell(event, frame.columns, item_cols, docs, items)
    titles = {d["doc_id"]: d["title"] for d in docs}
    e1, e2 = st.columns(2)
    doc_id = e1.selectbox(
        "Agreement", list(titles), format_func=lambda d: titles[d], key="matrix_doc"
    )
    item_ids = [i["id"] for i in items]
    if st.session_state.get("matrix_item") not in item_ids:
        st.session_state["matrix_item"] = item_ids[0]
    item_id = e2.selectbox("Item", item_ids, key="matrix_item")
    doc = next(d for d in docs if d["doc_id"] == doc_id)
    _render_matrix_cell(doc["cells"][item_id], item_id)
    with st.expander("C102 branches covered"):
        st.dataframe(views.branch_rows({**data, "documents": docs}), hide_index=True)
    st.download_button(
        "Download the matrix (XLSX)",
        lambda: _file_bytes(lambda p: view_exports.write_matrix_xlsx(data, p), ".xlsx"),
        file_name=f"migralex-matrix-{kind}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="matrix_xlsx",
        on_click="ignore",
    )


def _select_matrix_cell(
    event: Any,
    columns: Sequence[Any],
    item_cols: Sequence[str],
    docs: Sequence[Mapping[str, Any]],
    items: Sequence[Mapping[str, Any]],
) -> None:
    """Choose the agreement and item of the matrix cell clicked in ``event`` (the table's
    selection) in the selectboxes below the table; a click outside the item columns does
    nothing."""
    cells = getattr(getattr(event, "selection", None), "cells", None) or []
    if cells:
        row, col = cells[0]
        column = col if isinstance(col, str) else columns[int(col)]
        if column in item_cols and 0 <= int(row) < len(docs):
            st.session_state["matrix_doc"] = docs[int(row)]["doc_id"]
            by_column = {i["id"].split(".", 1)[-1]: i["id"] for i in items}
            st.session_state["matrix_item"] = by_column[column]


def _render_matrix_cell(cell: Mapping[str, Any], item_id: str) -> None:
    """One matrix cell: its status and reason, the evidence quote marked, a link to it."""
    with st.container(border=True):
        st.markdown(f"**{views.status_label(cell['status'])}** — {views.md_escape(item_id)}")
        st.caption(views.md_escape(cell["reason"]))
        if cell["clause_id"]:
            st.markdown(views.md_escape(cell["citation"] or ""))
            st.html(
                '<div style="white-space:pre-wrap;line-height:1.5;max-height:18em;overflow-y:auto">'
                f"{view_exports.marked_html(cell['quote'], cell['spans'])}</div>"
            )
            st.button("Open clause", key="matrix_open", on_click=_open, args=(cell["clause_id"],))


# --------------------------------------------------------------------------------------------
# Compare
# --------------------------------------------------------------------------------------------


def page_compare(store: Store) -> None:
    """Compare page: 2-4 clauses side by side, own wording highlighted, tags aligned."""
    st.header("Compare clauses")
    ids = list(st.session_state.get(COMPARE_KEY, []))
    text = st.text_area(
        "Clause ids (one a line, 2 to 4)",
        "\n".join(ids),
        key="compare_text",
        help="Add clauses with “Add to comparison” on search results, or paste ids.",
    )
    ids = [x.strip() for x in text.splitlines() if x.strip()]
    if len(ids) < 2:
        st.info(
            "Choose two to four clauses: “Add to comparison” on a search result or a clause, "
            "or paste their ids above."
        )
        return
    try:
        data = data_views.compare(store, ids)
    except MigralexError as exc:
        st.error(str(exc))
        return
    st.caption(
        "Highlighted: wording a clause does not share with the first one (for the first: "
        "with every other one)."
    )
    render_comparison(data)


def render_comparison(data: dict[str, Any] | None) -> None:
    """Clauses of a :func:`migralex.ui.views.compare_clauses` result side by side, with the
    aligned tags and the shared wording; nothing for None."""
    if data is None:
        return
    cols = st.columns(len(data["clauses"]))
    for col, c in zip(cols, data["clauses"], strict=True):
        with col, st.container(border=True):
            st.markdown(f"**{views.md_escape(c['doc_title'])}**")
            st.caption(
                views.md_escape(
                    f"{c['citation']} · {c['language']} · similarity {c['similarity']:.2f}"
                )
            )
            st.html(view_exports.segments_html(c["text"], c["segments"]))
            if c["exceptions"]:
                st.caption(
                    views.md_escape(
                        "Exceptions: "
                        + "; ".join(dict.fromkeys(x["text"] for x in c["exceptions"]))
                    )
                )
            if c["restrictions"]:
                st.caption(
                    "Conditions: " + ", ".join(views.tag_label(r) for r in c["restrictions"])
                )
    if data["tags"]:
        st.markdown("**Tags, aligned**")
        st.dataframe(
            [
                {
                    "tag": r["label"],
                    **{f"{i + 1}": "✅" if v else "" for i, v in enumerate(r["clauses"])},
                }
                for r in data["tags"]
            ],
            hide_index=True,
        )
    if data["shared"]:
        with st.expander(f"Shared wording ({len(data['shared'])} passages)"):
            for s in data["shared"]:
                st.markdown(f"> {views.md_escape(' '.join(s['text'].split()))}")


# --------------------------------------------------------------------------------------------
# Corridors
# --------------------------------------------------------------------------------------------


def page_corridors(store: Store) -> None:
    """Corridors page: countries linked by agreements (a network picture coloured by kind),
    a country's partners and the corridors with a BLA but no SSA."""
    st.header("Corridors")
    everything = data_views.corridors(store)
    if not everything["corridors"]:
        st.info("No SSA or BLA in the store names two parties.")
        return
    names = {p["key"]: p["name"] for p in everything["parties"]}
    country = st.selectbox(
        "Country",
        ["", *sorted(names, key=lambda k: names[k])],
        format_func=lambda k: names.get(k, "All countries"),
        key="corridor_country",
    )
    data = data_views.corridors(store, country) if country else everything
    legend = " · ".join(
        f'<span style="color:{views.CORRIDOR_COLORS[s]}">━ {w}</span>'
        for s, w in views.CORRIDOR_WORDS.items()
    )
    st.html(f'<div class="mlx-legend">{legend}</div>')
    st.graphviz_chart(views.corridors_dot(data), use_container_width=True)
    if country:
        lost = [p for p in data["partners"] if p["status"] == "bla_without_ssa"]
        if lost:
            st.warning(
                "BLA without an SSA (workers' contributions are not protected): "
                + ", ".join(p["name"] for p in lost)
            )
        rows = [
            {
                "partner": p["name"],
                "code": p["code"] or "",
                "status": views.CORRIDOR_WORDS[p["status"]],
                "SSA": "; ".join(d["title"] for d in p["ssa"]),
                "BLA": "; ".join(d["title"] for d in p["bla"]),
            }
            for p in data["partners"]
        ]
    else:
        rows = [
            {
                "country": r["a_name"],
                "partner": r["b_name"],
                "status": views.CORRIDOR_WORDS[r["status"]],
                "SSA": len(r["ssa"]),
                "BLA": len(r["bla"]),
            }
            for r in data["corridors"]
        ]
    st.dataframe(rows, hide_index=True, key="corridor_table")
