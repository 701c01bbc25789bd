"""The migralex Streamlit app: clause search, clause detail, checklists and the document list.

Run with ``migralex serve [--store DIR]`` (or ``streamlit run ui/app.py`` with
``MIGRALEX_STORE`` set). This script only renders (STYLE.md rule 14): the work is done by
:mod:`migralex.ui.service` and the display data is built by :mod:`migralex.ui.app_views`.
The store and the searcher (with its embedding model and FAISS index) are opened once per
process in ``st.cache_resource`` builders keyed by the store folder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from migralex.corpus.errors import MigralexError
from migralex.corpus.store import Store
from migralex.index.search import DEFAULT_MODE, MODES, Searcher
from migralex.ui import app_pages, service
from migralex.ui import app_views as views

PAGE_KEY = "page"
CLAUSE_KEY = "clause_id"
CHECKLIST_RESULT_KEY = "checklist_view"
REPORTS_KEY = "checklist_reports"
#: Session keys of the search filters (cleared together by "Clear filters").
FILTER_KEYS = ("filter_kinds", "filter_languages", "filter_parties", "filter_tags", "filter_docs")
#: The search page's state in the link (a shared link opens the same search): session key ->
#: query parameter; filters repeat their parameter (``?kind=ssa&kind=bla``).
URL_FILTERS = dict(zip(FILTER_KEYS, ("kind", "language", "party", "tag", "doc"), strict=True))


@st.cache_resource(show_spinner=False)
def get_store(root: str) -> Store:
    """The store at ``root``, opened once per process; never created (StoreError if missing:
    stores are made by ``migralex ingest``)."""
    return service.open_existing_store(Path(root))


@st.cache_resource(show_spinner="Loading the search index…")
def get_searcher(root: str) -> Searcher:
    """The searcher of the store at ``root`` (the embedding model loads on first query)."""
    return service.searcher(get_store(root))


@st.cache_resource(show_spinner=False)
def preload_models(root: str) -> dict[str, Any]:
    """Load the store's embedding models in a background thread, once per process, so the
    first question does not wait for them (the import alone takes seconds), then fill the
    views cache (:func:`~migralex.ui.service.warm_views`); returns a dict whose ``"state"`` is
    "loading", "ready" or "failed: <reason>"."""
    import threading

    status: dict[str, Any] = {"state": "loading"}

    def load() -> None:
        try:
            store = get_store(root)
            names = [service.model_for(store, None)]
            if store.multilingual_model:
                names.append(store.multilingual_model[0])
            service.query_embedder_factory(store, names[0])().embed_queries(["warm-up"])
            for name in names:  # the checklist's encoders (and e5-small's queries)
                service.embedder_factory(name)().embed_queries(["warm-up"])
            status["state"] = "ready"
            with service.open_existing_store(Path(root)) as own:  # this thread's connection
                service.warm_views(own)  # a store ingested before views were cached at ingest
        except Exception as exc:  # noqa: BLE001 - shown in the sidebar; search reports it too
            status["state"] = f"failed: {exc}"

    threading.Thread(target=load, name="migralex-preload", daemon=True).start()
    return status


def open_clause(clause_id: str) -> None:
    """Button callback: show one clause on the detail page."""
    st.session_state[CLAUSE_KEY] = clause_id
    st.session_state[PAGE_KEY] = "Clause detail"


def go_to(page: str) -> None:
    """Button callback: switch page."""
    st.session_state[PAGE_KEY] = page


def clear_filters() -> None:
    """Button callback: remove every search filter."""
    for key in FILTER_KEYS:
        st.session_state[key] = []


def reload_store() -> None:
    """Button callback: drop the cached store and searcher (after an ingest)."""
    get_searcher.clear()
    get_store.clear()


def render_hit(hit: views.HitView, key_prefix: str) -> None:
    """One result card: document, citation, pages, highlighted text, tag chips, open button."""
    with st.container(border=True):
        st.markdown(f"**{hit.rank}. {views.md_escape(hit.doc_title)}**")
        facts = [hit.citation, hit.pages, f"{hit.kind} · {hit.language}", f"score {hit.score:.3f}"]
        if hit.similar_count:
            facts.append(f"+{hit.similar_count} near-identical in other documents")
        if hit.paragraphs:
            facts.append(f"+{hit.paragraphs} more paragraphs of this article")
        st.caption(views.md_escape(" · ".join(f for f in facts if f)))
        st.html(hit.html)
        if hit.tags:
            st.html(views.tag_chips_html(hit.tags))
        b1, b2 = st.columns(2)
        b1.button(
            "Open clause",
            key=f"{key_prefix}_open_{hit.clause_id}",
            on_click=open_clause,
            args=(hit.clause_id,),
            help=hit.clause_id,
        )
        b2.button(
            "Add to comparison",
            key=f"{key_prefix}_cmp_{hit.clause_id}",
            on_click=app_pages.add_to_compare,
            args=(hit.clause_id,),
        )


def page_search(root: str, store: Store, stats: dict[str, Any]) -> None:
    """Search page: query, mode, k, filters, results."""
    st.header("Search clauses")
    options = views.filter_options(store.document_summaries(), stats)
    query = st.text_input(
        "Query",
        key="search_query",
        placeholder="e.g. export of pensions to the other country",
        persist_state="session",
    )
    col_mode, col_k = st.columns([3, 1])
    with col_mode:
        mode = st.radio(
            "Mode",
            MODES,
            index=MODES.index(DEFAULT_MODE),
            key="search_mode",
            horizontal=True,
            persist_state="session",
            help="hybrid (default): meaning and words, the two rankings fused; "
            "semantic: meaning only; lexical: words only.",
        )
    with col_k:
        k = st.number_input("Results", 1, 100, 10, step=1, key="search_k", persist_state="session")
    group = st.checkbox(
        "One hit per wording",
        key="search_group",
        persist_state="session",
        help="Fold near-identical clauses of other agreements into one hit (--group).",
    )
    _drop_unknown_filters(options)
    with st.expander("Filters"):
        c1, c2, c3 = st.columns(3)
        kinds = c1.multiselect("Kind", options.kinds, key="filter_kinds", persist_state="session")
        languages = c2.multiselect(
            "Language", options.languages, key="filter_languages", persist_state="session"
        )
        parties = c3.multiselect(
            "Party", options.parties, key="filter_parties", persist_state="session"
        )
        tags = st.multiselect("Tag", options.tags, key="filter_tags", persist_state="session")
        doc_ids = st.multiselect(
            "Document",
            list(options.documents),
            format_func=lambda d: options.documents.get(d, d),
            key="filter_docs",
            persist_state="session",
        )
    chips = views.active_filters(kinds, languages, parties, tags, doc_ids, options.documents)
    if chips:
        f1, f2 = st.columns([5, 1])
        f1.html(views.filter_chips_html(chips))
        f2.button("Clear filters", key="clear_filters", on_click=clear_filters)
    if query:
        st.query_params["q"] = query
    _search_state_to_url(str(mode), [kinds, languages, parties, tags, doc_ids])
    if not query or not query.strip():
        st.caption("Type a query and press Enter.")
        return
    filters = views.build_filters(kinds, languages, parties, tags, doc_ids)
    try:
        with st.spinner("Searching…"):
            hits = get_searcher(root).search(query, int(k), str(mode), filters, group=group)
    except MigralexError as exc:
        st.error(f"Search failed: {exc}")
        return
    if not hits:
        st.info("No clause matches this query and these filters.")
        return
    if mode != "lexical" and views.weak_match(query, hits):
        st.warning(
            "Nothing matches this query well: none of its words occurs in the closest "
            "clauses below. Try other words, or fewer filters."
        )
    folded = views.fold_paragraphs(hits)
    shown = [h for h, _n in folded]
    tags_by_clause = store.tags_for(h.clause.clause_id for h in shown)
    searcher = get_searcher(root)
    routed = searcher.routed_model(query, filters) if mode != "lexical" else None
    via = (
        f", answered with {routed}: the question or the clauses searched are not in English"
        if routed and routed != searcher.adapted_set()
        else ""
    )
    extra = ", paragraphs of one article folded" if len(shown) < len(hits) else ""
    st.caption(f"{len(shown)} results ({mode}{via}{extra})")
    paged = views.paged_documents(store.document_summaries())
    counts = {h.clause.clause_id: n for h, n in folded}
    for hit in views.hit_views(shown, tags_by_clause, paged=paged, folded=counts):
        render_hit(hit, "search")


def page_clause(root: str, store: Store) -> None:
    """Clause detail page: the clause, its tags, and comparable clauses of other documents."""
    st.header("Clause detail")
    clause_id = st.text_input(
        "Clause id", key=CLAUSE_KEY, persist_state="session", help="From a search result."
    ).strip()
    if not clause_id:
        st.info("Open a clause from the search results, or paste a clause id above.")
        st.button("Go to search", key="detail_to_search", on_click=go_to, args=("Search",))
        return
    try:
        detail = views.clause_detail(store, clause_id)
    except MigralexError as exc:
        st.error(str(exc))
        return
    c = detail.clause
    st.subheader(views.md_escape(views.citation(c.label, c.heading)))
    st.markdown(f"**{views.md_escape(detail.doc_title)}**")
    facts = [
        " › ".join(c.path),
        views.pages_label(c.page_start, c.page_end),
        f"{detail.kind} · {detail.language}",
        "; ".join(detail.parties),
        f"clause {detail.position}",
    ]
    st.caption(views.md_escape(" · ".join(f for f in facts if f)))
    st.caption(views.md_escape(f"{c.clause_id} — {detail.source_path}"))
    nav = st.columns(4)
    nav[0].button(
        "◀ Previous clause",
        key="detail_prev",
        disabled=not detail.previous_id,
        on_click=open_clause,
        args=(detail.previous_id,),
    )
    nav[1].button(
        "Next clause ▶",
        key="detail_next",
        disabled=not detail.next_id,
        on_click=open_clause,
        args=(detail.next_id,),
    )
    nav[2].button("Back to search", key="detail_back", on_click=go_to, args=("Search",))
    nav[3].button(
        "Add to comparison",
        key="detail_compare",
        on_click=app_pages.add_to_compare,
        args=(clause_id,),
    )
    with st.container(border=True):
        st.html(detail.html)
    if detail.tags:
        st.html(views.tag_chips_html(t.name for t in detail.tags))
        with st.expander(f"Tags and rules ({len(detail.tags)})"):
            st.dataframe(views.tag_rows(detail.tags), hide_index=True, key="detail_tags_table")
    else:
        st.caption("No tags on this clause.")

    st.subheader("Comparable clauses in other documents")
    k = st.slider("How many", 1, 20, 5, key="similar_k", persist_state="session")
    try:
        similar = get_searcher(root).similar(clause_id, int(k))
    except MigralexError as exc:
        st.error(f"Similar clauses unavailable: {exc}")
        return
    if not similar:
        st.info("No other document in the store.")
        return
    tags_by_clause = store.tags_for(h.clause.clause_id for h in similar)
    for hit in views.hit_views(similar, tags_by_clause):
        render_hit(hit, "similar")


def render_checklist(view: views.ChecklistView, store: Store | None = None) -> None:
    """Checklist results: summary, item table, items with evidence and examples, downloads."""
    data = view.data
    st.subheader(views.md_escape(view.label))
    st.caption(
        views.md_escape(f"{data['document']['title']} · {view.language} · {view.clauses} clauses")
    )
    if not view.tagged:
        st.warning(
            "No tags were found in this draft (its language may have no tagger): statuses "
            "rest on headings and semantic similarity only."
        )
    s = view.summary
    m1, m2, m3 = st.columns(3)
    m1.metric(views.status_label("present"), s.get("present", 0))
    m2.metric(views.status_label("partial"), s.get("partial", 0))
    m3.metric(views.status_label("absent"), s.get("absent", 0))
    import pandas as pd

    table = pd.DataFrame(view.rows()).style.map(views.status_style, subset=["status"])
    st.dataframe(
        table,
        hide_index=True,
        key="checklist_table",
        column_config={
            "status": st.column_config.TextColumn(width="small"),
            "item": st.column_config.TextColumn(width="medium"),
            "question": st.column_config.TextColumn(width="medium"),
            "confidence": st.column_config.NumberColumn(
                "confidence", format="%.2f", width="small",
                help="How sure the checklist is of the status (not of the item being present).",
            ),
            "evidence": st.column_config.TextColumn(width="medium"),
            "examples": st.column_config.NumberColumn(width="small"),
        },
    )  # fmt: skip
    cols = st.columns(len(views.REPORT_FORMATS))
    reports = st.session_state.get(REPORTS_KEY) or views.report_files(data)
    for col, report in zip(cols, reports, strict=True):
        col.download_button(
            f"Download {report.label}",
            report.data,
            file_name=report.file_name,
            mime=report.mime,
            key=f"download_{report.suffix.lstrip('.')}",
            on_click="ignore",
        )
    for item in view.items:
        _render_item(view, item, store)


def _render_item(view: views.ChecklistView, item: Any, store: Store | None) -> None:
    """One checklist item in an expander: status, reason, evidence, then the store's
    good-practice examples (and a comparison with them when the draft has evidence)."""
    _, color, _ = views.STATUS_STYLE.get(item.status, ("", "gray", ""))
    with st.expander(f"{item.status_label} — {item.id}: {item.question}"):
        st.badge(item.status, color=color)
        if item.reason:
            st.markdown(f"**Reason:** {views.md_escape(item.reason)}")
        if item.why:
            st.caption(views.md_escape(f"Why it matters: {item.why}"))
        st.caption(
            views.md_escape(f"Reference: {item.reference} · confidence {item.confidence:.2f}")
        )
        if item.evidence:
            st.markdown("**Evidence in the draft**")
        for ev in item.evidence:
            _render_evidence(ev)
        if item.examples and item.evidence and store is not None:
            if st.toggle("Compare with the best examples", key=f"cmp_{item.id}"):
                app_pages.render_comparison(views.draft_comparison(view, item, store))
        if item.examples:
            st.markdown("**Good-practice examples from the store**")
        for ex in item.examples:
            _render_example(item.id, ex)


def _render_evidence(ev: Any) -> None:
    """One passage of the draft that an item's status rests on, its matches marked."""
    with st.container(border=True):
        st.markdown(views.md_escape(ev.citation))
        if ev.pages:
            st.caption(views.md_escape(ev.pages))
        st.html(ev.html)
        if ev.tags:
            st.html(views.tag_chips_html(ev.tags))


def _render_example(item_id: str, ex: Any) -> None:
    """One good-practice example of the store for item ``item_id``, with a link to it."""
    with st.container(border=True):
        st.markdown(f"**{views.md_escape(ex.doc_title)}** — {views.md_escape(ex.label)}")
        st.html(views.highlight_html(ex.text, (), "12em"))
        st.button(
            "Open clause",
            key=f"example_open_{item_id}_{ex.clause_id}",
            on_click=open_clause,
            args=(ex.clause_id,),
        )


def page_checklist(store: Store | None) -> None:
    """Checklist page: choose a checklist, upload a draft, run, show and download."""
    st.header("Check a draft")
    checklists, problems = views.available_checklists()
    for problem in problems:
        st.warning(problem)
    if not checklists:
        st.error("No checklist is available.")
        return
    by_id = {c.id: c for c in checklists}
    checklist_id = st.selectbox(
        "Checklist",
        list(by_id),
        format_func=lambda i: f"{by_id[i].title} ({i})",
        key="checklist_id",
        persist_state="session",
    )
    chosen = by_id[checklist_id] if checklist_id in by_id else checklists[0]
    with st.expander(f"The {len(chosen.items)} questions"):
        if getattr(chosen, "description", ""):
            st.caption(views.md_escape(chosen.description))
        for item in chosen.items:
            st.markdown(f"- **{item.id}** — {views.md_escape(item.question)}")
    upload = st.file_uploader(
        "Draft agreement or law",
        type=list(views.UPLOAD_TYPES),
        key="draft_upload",
        help="PDF, DOCX, HTML, Markdown or plain text, up to "
        f"{service.settings().max_file_mb:g} MB (MIGRALEX_MAX_FILE_MB).",
        max_upload_size=views.upload_limit_mb(service.settings().max_file_mb),
    )
    if store is None:
        st.caption("The store is empty: results will have no good-practice examples.")
    _forget_other_result(chosen.id, upload.name if upload is not None else None)
    run = st.button("Run checklist", key="run_checklist", type="primary", disabled=upload is None)
    if run and upload is not None and not _run_checklist(upload, chosen.id, store):
        return
    view = st.session_state.get(CHECKLIST_RESULT_KEY)
    if isinstance(view, views.ChecklistView):
        render_checklist(view, store)


def _forget_other_result(checklist_id: str, file_name: str | None) -> None:
    """Drop the result shown when it is of another checklist or file (or none is uploaded):
    it is not about them."""
    shown = st.session_state.get(CHECKLIST_RESULT_KEY)
    if isinstance(shown, views.ChecklistView) and (
        file_name is None
        or shown.data["checklist"] != checklist_id
        or shown.data["document"]["path"] != file_name
    ):
        st.session_state.pop(CHECKLIST_RESULT_KEY, None)
        st.session_state.pop(REPORTS_KEY, None)


def _run_checklist(upload: Any, checklist_id: str, store: Store | None) -> bool:
    """Run the checklist on the uploaded draft and keep its result and reports in the
    session; False (an error box shown) when it fails."""
    bar = st.progress(0.0, text="Reading and tagging the draft…")

    def on_stage(text: str, fraction: float) -> None:
        bar.progress(min(1.0, max(0.0, fraction)), text=f"{text}…" if fraction < 1 else text)

    try:
        view = views.run_checklist_on_upload(
            upload.name, upload.getvalue(), checklist_id, store, on_stage
        )
    except MigralexError as exc:
        st.error(f"Checklist failed: {exc}")
        return False
    except Exception as exc:  # noqa: BLE001 - a hostile upload gets an error box, not a trace
        st.error(f"Checklist failed: {views.plain_failure(upload.name, exc)}")
        return False
    finally:
        bar.empty()
    st.session_state[CHECKLIST_RESULT_KEY] = view
    st.session_state[REPORTS_KEY] = views.report_files(view.data)
    return True


def page_documents(root: str, store: Store) -> None:
    """Documents page: the stored documents and the store's counts."""
    st.header("Documents")
    stats = service.stats(store)
    m = st.columns(4)
    m[0].metric("Documents", stats["documents"])
    m[1].metric("Clauses", stats["clauses"])
    m[2].metric("Languages", len(stats["languages"]))
    m[3].metric("Tagged clauses", sum(stats.get("tagged_clauses_by_language", {}).values()))
    if stats.get("multilingual_model"):
        st.caption(
            f"Questions not in English are answered with the multilingual model "
            f"{stats['multilingual_model']} ({stats.get('multilingual_vectors', 0)} vectors)."
        )
    missing = stats.get("languages_without_tagger") or []
    if missing:
        st.warning(
            "No tagger for: "
            + ", ".join(missing)
            + ". These documents are stored and searchable, but their clauses carry no tags."
        )
    summaries = store.document_summaries()
    st.dataframe(views.document_rows(summaries), hide_index=True, key="documents_table")
    titles = {s["doc_id"]: s["title"] for s in summaries}
    doc_id = st.selectbox(
        "Browse a document",
        ["", *titles],
        format_func=lambda d: titles.get(d, "Choose a document…"),
        key="documents_browse",
    )
    if doc_id:
        paged = views.paged_documents(summaries)
        for c in store.clauses(doc_id):
            where = views.location_label(c, doc_id in paged)
            line = views.citation(c.label, c.heading) + (f" · {where}" if where else "")
            col1, col2 = st.columns([5, 1])
            col1.markdown(views.md_escape(line))
            col2.button(
                "Open", key=f"browse_open_{c.clause_id}", on_click=open_clause, args=(c.clause_id,)
            )
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown("**Languages**")
        st.dataframe(views.count_rows(stats["languages"], "language"), hide_index=True)
    with c2:
        st.markdown("**Kinds**")
        st.dataframe(views.count_rows(stats["kinds"], "kind"), hide_index=True)
    with c3:
        st.markdown("**Tags**")
        st.dataframe(views.count_rows(stats["tags"], "tag"), hide_index=True)
    st.caption(
        views.md_escape(
            f"Store: {root} · search model {stats['model'] or '—'}"
            + (f" (+ {stats['multilingual_model']} for other languages)"
               if stats.get("multilingual_model") else "")
        )
    )  # fmt: skip


def main() -> None:
    """Render the app."""
    st.set_page_config(page_title="migralex", page_icon="⚖️", layout="wide")
    root, store, stats = _open_store()
    if PAGE_KEY not in st.session_state:
        _state_from_query()
    with st.sidebar:
        page = _sidebar(root, stats)
    if store is None or stats is None or not stats["documents"]:
        if page == "Checklist":
            page_checklist(None)
        else:
            st.info(views.empty_store_message(root))
        return
    st.query_params["page"] = str(page)
    if page == "Clause detail" and st.session_state.get(CLAUSE_KEY):
        st.query_params["clause"] = st.session_state[CLAUSE_KEY]
    pages: dict[str, Callable[[], None]] = {
        "Checklist": lambda: page_checklist(store),
        "Search": lambda: page_search(root, store, stats),
        "Clause detail": lambda: page_clause(root, store),
        "Gallery": lambda: app_pages.page_gallery(root, store),
        "Matrix": lambda: app_pages.page_matrix(root, store),
        "Compare": lambda: app_pages.page_compare(store),
        "Corridors": lambda: app_pages.page_corridors(store),
    }
    pages.get(str(page), lambda: page_documents(root, store))()


def _open_store() -> tuple[str, Store | None, dict[str, Any] | None]:
    """The configured store's folder, the store (None when there is none yet) and its stats;
    an error box and a stop when it cannot be opened."""
    try:
        root = str(service.settings().store)
        # A missing store is not created here (``migralex ingest`` makes stores): the pages
        # say how to make one, the checklist runs without good-practice examples.
        missing = not views.store_exists(root) and not Path(root).is_file()
        store = None if missing else get_store(root)
        stats = store.stats() if store is not None else None
    except (MigralexError, ValueError) as exc:
        st.error(f"Cannot open the migralex store: {exc}")
        st.stop()
    return root, store, stats


def _drop_unknown_filters(options: views.FilterOptions) -> None:
    """Keep only filter values the store has (a shared link may name others)."""
    allowed = (options.kinds, options.languages, options.parties, options.tags, options.documents)
    for key, valid in zip(FILTER_KEYS, allowed, strict=True):
        if key in st.session_state:
            st.session_state[key] = [v for v in st.session_state[key] if v in valid]


def _search_state_to_url(mode: str, chosen: Sequence[Sequence[str]]) -> None:
    """Write the search mode and the chosen filters into the link (cleared when empty)."""
    if mode != DEFAULT_MODE:
        st.query_params["mode"] = mode
    else:
        st.query_params.pop("mode", None)
    for (_, param), values in zip(URL_FILTERS.items(), chosen, strict=True):
        if values:
            st.query_params[param] = list(values)
        else:
            st.query_params.pop(param, None)


def _state_from_query() -> None:
    """On a first visit, take the page, the question, the clause, the search mode and the
    filters from the link's query (unknown filter values are dropped by the search page)."""
    wanted = st.query_params.get("page")
    if wanted in views.PAGES:
        st.session_state[PAGE_KEY] = wanted
    if st.query_params.get("q"):
        st.session_state["search_query"] = st.query_params["q"]
    if st.query_params.get("clause"):
        st.session_state[CLAUSE_KEY] = st.query_params["clause"]
    if st.query_params.get("mode") in MODES:
        st.session_state["search_mode"] = st.query_params["mode"]
    for key, param in URL_FILTERS.items():
        values = st.query_params.get_all(param)
        if values:
            st.session_state[key] = values


def _sidebar(root: str, stats: dict[str, Any] | None) -> str:
    """The sidebar: page choice, the store's counts and model state, reload; return the page."""
    st.title("migralex")
    st.caption("Clauses of social security and labour migration agreements and laws")
    page = st.radio("Page", views.PAGES, key=PAGE_KEY)
    if stats is None:
        st.caption("No store yet: the store is empty.")
    else:
        st.caption(
            views.md_escape(
                f"{stats['documents']} documents · {stats['clauses']} clauses · "
                f"model {stats['model'] or '—'}"
                + (f" + {stats['multilingual_model']}" if stats.get("multilingual_model") else "")
            )
        )
    st.caption(views.md_escape(f"Store: {root}"))
    if stats is not None and stats["documents"]:
        state = preload_models(root)["state"]
        words = {"loading": "⏳ Loading the search model in the background…",
                 "ready": "✅ Search model ready"}  # fmt: skip
        st.caption(views.md_escape(words.get(state, f"⚠️ Search model {state}")))
    st.button("Reload store", key="reload_store", on_click=reload_store)
    return page


main()
