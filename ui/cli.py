"""The ``migralex`` command line (Typer). Contracts: ``../shared/DESIGN.md`` ("CLI contracts").

Exit codes: 0 success; 1 some inputs failed (the rest were processed); 2 usage error.
Errors go to stderr as ``migralex: error: <file>: <reason>``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from migralex.corpus.errors import MigralexError, ReadError, StoreError
from migralex.corpus.settings import unknown_environment_keys
from migralex.corpus.store import Filters, Store

app = typer.Typer(
    name="migralex",
    help="Search, tag and check clauses of labour migration and social security agreements.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Store folder (default: $MIGRALEX_STORE, else the user data dir)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (DESIGN.md shapes).")]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Embedding model: minilm, e5-small, or a sentence-transformers name/path "
        "(default: the store's, else $MIGRALEX_MODEL, else minilm).",
    ),
]


def _one_line(text: str) -> str:
    """``text`` with newlines and carriage returns escaped, so an error stays on one line."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _error(where: str, reason: str) -> None:
    if where and (reason == where or reason.startswith(f"{where}: ")):
        where = ""  # the reason names it already: print the path once
    line = f"migralex: error: {where}: {reason}" if where else f"migralex: error: {reason}"
    typer.echo(_one_line(line), err=True)


def _fail(exc: Exception, where: str = "") -> typer.Exit:
    """Print ``exc`` as ``migralex: error: <where>: <reason>`` and return exit code 1. With no
    ``where`` the reason is printed alone: store and validation errors name their file first."""
    if isinstance(exc, ReadError):
        _error(exc.path, exc.reason)
    elif isinstance(exc, StoreError):
        _error("", str(exc))  # store errors name the store folder first
    else:
        _error(where, str(exc))
    return typer.Exit(1)


def _check_choices(values: Iterable[str], valid: Sequence[str], what: str, option: str) -> None:
    """Refuse a value not in ``valid`` as a usage error (exit 2) that lists the valid ones."""
    for value in values:
        if value not in valid:
            raise typer.BadParameter(
                f"unknown {what} {value!r}; valid: {', '.join(valid)}", param_hint=option
            )


@app.callback()
def _check_environment() -> None:
    """Refuse misspelt ``MIGRALEX_`` variables and bad setting values (``MIGRALEX_MAX_FILE_MB=0``)
    before any command runs: one line per variable, exit 2 (usage)."""
    import pydantic

    from migralex.corpus.settings import ENV_PREFIX, Settings

    try:
        unknown_environment_keys()
        Settings()
    except MigralexError as exc:
        _error("", str(exc))
        raise typer.Exit(2) from exc
    except pydantic.ValidationError as exc:
        for err in exc.errors():
            name = ENV_PREFIX + str(err["loc"][0]).upper() if err["loc"] else "settings"
            _error(name, f"{err['msg']} (got {err.get('input')!r})")
        raise typer.Exit(2) from exc


def _fail_plain(exc: BaseException, file: Path) -> typer.Exit:
    """Print an unexpected failure on ``file`` in plain words and return exit code 1."""
    from migralex.ingest.pipeline import plain_reason

    _error(str(file), plain_reason(exc))
    return typer.Exit(1)


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursed).")],
    store: StoreOpt = None,
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", help="CSV with the columns of ../shared/corpus/manifest.csv."),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Kind for every file.")] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="ISO 639-1 code for every file.")
    ] = None,
    model: ModelOpt = None,
    multilingual_model: Annotated[
        str | None,
        typer.Option(
            "--multilingual-model",
            help="Model of the store's second vector set, which answers questions in languages "
            "the main model does not read: e5-small (default for a new store with minilm), or "
            "none. Named explicitly for a store without one, it also embeds the stored clauses.",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse a file whose content differs from its manifest sha256 (default: warn).",
        ),
    ] = False,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Distribute reading, tagging and embedding over a Ray cluster: its address "
            "(ray://host:10001, auto) or 'local' (this machine); the store is written here.",
        ),
    ] = None,
    ray_workers: Annotated[
        int, typer.Option("--ray-workers", min=1, help="Ray workers (one CPU each; default 2).")
    ] = 2,
    as_json: JsonOpt = False,
) -> None:
    """Ingest documents: read, split into clauses, tag, embed and store them."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from migralex.corpus.models import KINDS
    from migralex.ui import service

    _check_choices([kind] if kind is not None else [], KINDS, "kind", "--kind")
    t0 = time.perf_counter()
    try:
        st = service.open_store(store)
        from migralex.corpus.manifest import read_manifest
        from migralex.ingest.pipeline import collect_files, find_manifest

        mf = manifest or find_manifest(paths)
        total = len(collect_files(paths, read_manifest(mf) if mf else None))
        console = Console(stderr=True)
        columns = (
            TextColumn("ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("", total=total)

            def on_result(r: Any) -> None:
                progress.update(task, advance=1, description=Path(r.path).name)
                if r.status == "failed" or r.warning:
                    level, reason = (
                        ("error", r.error) if r.status == "failed" else ("warning", r.warning)
                    )
                    progress.console.print(
                        _one_line(f"migralex: {level}: {r.path}: {reason}"),
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )

            def on_fill(done: int, total: int) -> None:
                label = "stored clauses: multilingual vectors"
                progress.update(task, completed=done, total=total, description=label)

            results = service.ingest(
                paths, st, manifest=mf, kind=kind, language=language, model=model,
                multilingual_model=multilingual_model, on_result=on_result, on_fill=on_fill,
                strict=strict, ray=ray, ray_workers=ray_workers,
            )  # fmt: skip
    except MigralexError as exc:
        raise _fail(exc) from exc
    totals = {
        s: sum(r.status == s for r in results) for s in ("added", "updated", "unchanged", "failed")
    }
    totals["clauses"] = sum(r.clauses for r in results)
    seconds = round(time.perf_counter() - t0, 2)
    if as_json:
        _print_json(
            {
                "store": str(st.root),
                "documents": [r.to_json() for r in results],
                "totals": totals,
                "seconds": seconds,
            }
        )
    else:
        typer.echo(
            f"{len(results)} files: {totals['added']} added, {totals['updated']} updated, "
            f"{totals['unchanged']} unchanged, {totals['failed']} failed; "
            f"{totals['clauses']} clauses in {seconds:.1f} s -> {st.root}"
        )
    if totals["failed"]:
        raise typer.Exit(1)


def _hits_json(
    query: str, mode: str, hits: list[Any], model: str | None = None, **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"query": query, "mode": mode, "results": [h.to_json() for h in hits]}
    if model:
        out["model"] = model  # the vector set that answered (query-language routing)
    out.update(extra)
    return out


def _print_hits(hits: list[Any]) -> None:
    if not hits:
        typer.echo("no results")
    for h in hits:
        c = h.clause
        pages = f"p. {c.page_start}" + (f"-{c.page_end}" if c.page_end != c.page_start else "")
        typer.echo(f"{h.rank:>2}. [{h.score:.3f}] {h.doc_title} — {c.citation} ({pages})")
        if h.similar_count:
            typer.echo(f"    {h.similar_count} similar in other agreements")
        if h.tags:
            typer.echo(f"    tags: {', '.join(h.tags)}")
        snippet = " ".join(c.text.split())
        typer.echo(f"    {snippet[:300]}{'…' if len(snippet) > 300 else ''}")
        typer.echo(f"    id: {c.clause_id}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What you look for, in your own words.")],
    store: StoreOpt = None,
    k: Annotated[int, typer.Option("-k", min=1, help="Number of results.")] = 10,
    mode: Annotated[
        str, typer.Option("--mode", help="hybrid (default), semantic or lexical.")
    ] = "hybrid",
    kind: Annotated[list[str] | None, typer.Option("--kind", help="Document kind.")] = None,
    language: Annotated[list[str] | None, typer.Option("--language", help="Language.")] = None,
    party: Annotated[
        list[str] | None,
        typer.Option(
            "--party",
            help="Party: a country by any of its names (Latvia = Republic of Latvia), else the whole name.",
        ),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Clause tag.")] = None,
    doc: Annotated[
        list[str] | None,
        typer.Option("--doc", help="Document id: search within this agreement."),
    ] = None,
    group: Annotated[
        bool,
        typer.Option(
            "--group", help="Fold near-identical clauses of other agreements into one hit."
        ),
    ] = False,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search clauses (filters are OR within one option, AND across options)."""
    from migralex.corpus.models import KINDS, TAG_NAMES
    from migralex.index.search import MODES
    from migralex.ui import service

    if not query.strip():
        raise typer.BadParameter("the query is empty; say what you look for", param_hint="QUERY")
    if mode not in MODES:
        raise typer.BadParameter(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")
    _check_choices(kind or (), KINDS, "kind", "--kind")
    _check_choices(tag or (), TAG_NAMES, "tag", "--tag")
    for value in language or ():
        if not (len(value) == 2 and value.isascii() and value.isalpha() and value.islower()):
            raise typer.BadParameter(
                f"unknown language {value!r}; valid: an ISO 639-1 code in lower case "
                "(en, fr, es, ...)",
                param_hint="--language",
            )
    filters = Filters(
        kinds=tuple(kind or ()),
        languages=tuple(language or ()),
        parties=tuple(party or ()),
        tags=tuple(tag or ()),
        doc_ids=tuple(doc or ()),
    )
    try:
        st = service.open_existing_store(store)
        searcher = service.searcher(st, model)
        hits = searcher.search(query, k, mode, filters, group=group)
        routed = searcher.routed_model(query, filters) if mode != "lexical" else None
        ranker = searcher.ranker_used(query, mode, filters)
    except MigralexError as exc:
        raise _fail(exc, str(store or "store")) from exc
    if as_json:
        main = st.model[0] if st.model and mode != "lexical" else None
        # "ranker": the trained ranker that reordered these hits, null when none did
        _print_json(_hits_json(query, mode, hits, routed or main, ranker=ranker))
    else:
        if routed and routed != searcher.adapted_set():
            typer.echo(
                f"(answered with the {routed} vectors: the question or the clauses searched "
                "are not in English)"
            )
        if ranker:
            typer.echo(f"(ranked by the models trained on this store: {ranker})")
        _print_hits(hits)


def _read_doc_list(path: Path) -> list[str]:
    """The document ids of a ``--exclude-docs`` file: one a line, ``#`` comments and blank
    lines skipped; an unreadable file exits with status 2."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        _error(str(path), f"cannot read the document list ({exc.__class__.__name__})")
        raise typer.Exit(2) from exc
    excluded = [x.split("#", 1)[0].strip() for x in lines]
    return [x for x in excluded if x]


@app.command("train-ranker")
def train_ranker(
    store: StoreOpt = None,
    steps: Annotated[
        int | None, typer.Option("--steps", min=1, help="Training steps (default 300).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of mining and training.")] = 0,
    exclude_docs: Annotated[
        Path | None,
        typer.Option(
            "--exclude-docs",
            help="File of document ids (one a line, # comments) left out of training.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Ranker folder (default: STORE/ranker, used by search)."),
    ] = None,
    base: Annotated[
        Path | None,
        typer.Option(
            "--base", help="Starting weights: a BERT model folder (default: all-MiniLM-L6-v2)."
        ),
    ] = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="encoder: the domain-adapted bi-encoder and the store's adapted vectors "
            "(used by search); cross-encoder: the reranker (off unless MIGRALEX_RERANK_DEPTH).",
        ),
    ] = "encoder",
    as_json: JsonOpt = False,
) -> None:
    """Train the search ranker from the store's own structure and save it in the store."""
    if kind not in ("encoder", "cross-encoder"):
        _error("--kind", f"unknown kind {kind!r}; valid: encoder, cross-encoder")
        raise typer.Exit(2)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from migralex.index import encoder, ranker
    from migralex.ui import service

    train = encoder.train_encoder if kind == "encoder" else ranker.train_ranker
    default_steps = encoder.DEFAULT_STEPS if kind == "encoder" else ranker.DEFAULT_STEPS

    excluded = _read_doc_list(exclude_docs) if exclude_docs is not None else []
    try:
        st = service.open_existing_store(store)
        known = {d["doc_id"] for d in st.document_summaries()}
        unknown = [d for d in excluded if d not in known]
        if unknown:
            _error(str(exclude_docs), f"unknown document ids: {', '.join(unknown[:5])}")
            raise typer.Exit(2)
        console = Console(stderr=True)
        columns = (
            TextColumn("train-ranker"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("mining pairs", total=steps or default_steps)

            def on_step(step: int, total: int, loss: float) -> None:
                progress.update(task, completed=step, total=total, description=f"loss {loss:.3f}")
                if not console.is_terminal and (step == total or step % max(1, total // 10) == 0):
                    # no live bar in a log: a line at every tenth of the steps
                    console.print(f"train-ranker: step {step}/{total}, loss {loss:.3f}")

            card = train(
                st,
                steps=steps or default_steps,
                seed=seed,
                exclude_docs=excluded,
                out=out,
                base=base,
                threads=service.settings().ingest_threads,
                on_step=on_step,
            )
            embedded = 0
            if kind == "encoder" and out is None:
                task = progress.add_task("embedding", total=st.count_vectors())

                def on_batch(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total, description="adapted set")

                embedded = encoder.embed_store(
                    st, threads=service.settings().ingest_threads, on_batch=on_batch
                )
    except MigralexError as exc:
        raise _fail(exc, str(store or "store")) from exc
    folder = out or (st.root / (encoder.ENCODER_DIR if kind == "encoder" else ranker.RANKER_DIR))
    if as_json:
        _print_json(
            {"ranker": str(folder), "kind": kind, "card": card.to_json(), "embedded": embedded}
        )
    else:
        typer.echo(
            f"ranker {card.name}: {card.steps} steps on {sum(card.groups.values())} groups "
            f"({card.groups_mined} mined), final loss {card.final_loss:.3f}, "
            f"{card.seconds:.0f} s -> {folder}"
            + (f"; {embedded} clauses embedded into the adapted vector set" if embedded else "")
        )


@app.command("train-topics")
def train_topics(
    store: StoreOpt = None,
    checklist_names: Annotated[
        list[str] | None,
        typer.Option("--checklist", help="Checklist to train (repeatable; default ssa, bla)."),
    ] = None,
    model: Annotated[str, typer.Option("--model", help="Embedding model.")] = "minilm",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder (default: the package's topic_models/)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Retrain the checklist topic models (heading-less articles) from a store's headed articles."""
    from migralex.index.topic_training import train_shipped
    from migralex.nlp.checklist.topics import MODELS_DIR
    from migralex.ui import service

    try:
        st = service.open_existing_store(store)
        results = train_shipped(
            st.root, checklist_names or ["ssa", "bla"], model, out or MODELS_DIR
        )
    except MigralexError as exc:
        raise _fail(exc, str(store or "store")) from exc
    if as_json:
        _print_json(
            [
                {"checklist": name, "path": str(path) if path else None, "message": message}
                for name, path, message in results
            ]
        )
    else:
        for name, path, message in results:
            typer.echo(f"{name}: {message}" + (f" -> {path}" if path else ""))


@app.command()
def similar(
    clause_id: Annotated[str, typer.Argument(help="A clause id (from search or tag).")],
    store: StoreOpt = None,
    k: Annotated[int, typer.Option("-k", min=1, help="Number of results.")] = 10,
    all_per_doc: Annotated[
        bool, typer.Option("--all", help="Several clauses per document (default: the best one).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Comparable clauses of other documents, best first."""
    from migralex.ui import service

    try:
        st = service.open_existing_store(store)
        hits = service.searcher(st).similar(clause_id, k, one_per_document=not all_per_doc)
    except MigralexError as exc:
        raise _fail(exc, clause_id) from exc
    if as_json:
        _print_json(_hits_json(clause_id, "similar", hits))
    else:
        _print_hits(hits)


@app.command()
def tag(
    file: Annotated[Path, typer.Argument(help="A document (PDF, DOCX, HTML, Markdown, text).")],
    kind: Annotated[str | None, typer.Option("--kind", help="Document kind.")] = None,
    language: Annotated[str | None, typer.Option("--language", help="ISO 639-1 code.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Split a document into clauses and tag them (nothing is stored)."""
    from migralex.nlp.spacy_import import import_spacy
    from migralex.ui import service

    import_spacy()  # tagging needs no model: keep thinc from importing torch (~2 s, 300 MB)

    try:
        tagged = service.tag_file(file, kind, language)
    except MigralexError as exc:
        raise _fail(exc, str(file)) from exc
    except Exception as exc:  # noqa: BLE001 - no traceback for a file we cannot handle
        raise _fail_plain(exc, file) from exc
    data = tagged.to_json()
    data["path"] = str(file)
    if as_json:
        _print_json(data)
        return
    typer.echo(
        f"{tagged.document.title} [{tagged.document.language}], {len(tagged.clauses)} clauses"
    )
    for c in data["clauses"]:
        pages = f"p. {c['page_start']}" + (
            f"-{c['page_end']}" if c["page_end"] != c["page_start"] else ""
        )
        heading = f" — {c['heading']}" if c["heading"] else ""
        typer.echo(f"{c['label']}{heading} ({pages})")
        for t in c["tags"]:
            qualifier = f" [exception: {t['exception']}]" if t["exception"] else ""
            typer.echo(f"    {t['name']}: “{t['text']}” ({t['rule']}){qualifier}")


def _default_store() -> Store | None:
    """The configured store when it exists (never created), else None with a warning line."""
    from migralex.ui import service

    try:
        return service.open_existing_store(None)
    except StoreError as exc:
        typer.echo(f"migralex: warning: {exc}; checking without good-practice examples", err=True)
        return None


@app.command()
def checklist(
    file: Annotated[Path, typer.Argument(help="The draft to check.")],
    checklist_name: Annotated[str, typer.Option("--checklist", help="ssa, bla or national-law.")],
    store: StoreOpt = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write a report: .md, .html, .docx or .xlsx."),
    ] = None,
    language: Annotated[str | None, typer.Option("--language", help="ISO 639-1 code.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a checklist on a draft: each item present, partial or absent, with evidence."""
    from migralex.nlp.checklist import checklist_ids
    from migralex.ui import reports, service

    if checklist_name not in checklist_ids():
        raise typer.BadParameter(
            f"unknown checklist {checklist_name!r}; valid: {', '.join(checklist_ids())}"
        )
    if report is not None and report.suffix.lower() not in reports.FORMATS:
        raise typer.BadParameter(
            f"unknown report format {report.suffix!r}; valid: {', '.join(reports.FORMATS)}"
        )
    try:
        # A store named with --store must exist; without one, the configured store gives the
        # good-practice examples when it exists, and the draft is checked without them if not.
        st = service.open_existing_store(store) if store is not None else _default_store()
        tagged, result = service.run_checklist(file, checklist_name, st, language=language)
        doc = tagged.document
        data = result.to_json(
            {"path": str(file), "doc_id": doc.doc_id, "title": doc.title, "language": doc.language}
        )
        if report is not None:
            reports.write_report(data, report)
    except MigralexError as exc:
        raise _fail(exc, str(file)) from exc
    except OSError as exc:
        if report is None:
            raise _fail_plain(exc, file) from exc
        raise _fail(exc, str(report)) from exc
    except Exception as exc:  # noqa: BLE001 - no traceback for a file we cannot handle
        raise _fail_plain(exc, file) from exc
    if as_json:
        _print_json(data)
        return
    _echo_checklist(data, doc.title)
    if report is not None:
        typer.echo(f"report written to {report}")


def _echo_checklist(data: dict[str, Any], title: str) -> None:
    """Print a checklist result (:meth:`ChecklistResult.to_json`) on draft ``title``: one line
    per item with its first evidence, then the counts."""
    typer.echo(f"{data['title']} on {title}")
    for item in data["items"]:
        ev = item["evidence"][0] if item["evidence"] else None
        where = f" — {ev.get('citation') or ev['label']}" if ev else ""
        typer.echo(f"  [{item['status']:>7}] {item['id']}: {item['question']}{where}")
    s = data["summary"]
    typer.echo(f"present {s['present']}, partial {s['partial']}, absent {s['absent']}")


@app.command()
def checklists(as_json: JsonOpt = False) -> None:
    """List the checklists and their items."""
    from migralex.nlp.checklist import list_checklists

    data = [
        {
            "id": c.id,
            "title": c.title,
            "description": c.description,
            "items": [
                {"id": i.id, "question": i.question, "reference": i.reference} for i in c.items
            ],
        }
        for c in list_checklists()
    ]
    if as_json:
        _print_json({"checklists": data})
        return
    for c in data:
        typer.echo(f"{c['id']}: {c['title']}")
        for i in c["items"]:
            typer.echo(f"  {i['id']}: {i['question']} ({i['reference']})")


@app.command()
def stats(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Counts of documents, clauses, tags, languages and kinds in the store."""
    from migralex.index.vectors import index_summary
    from migralex.ui import service

    try:
        st = service.open_existing_store(store)
        data = service.stats(st)
        # the vector index of each set: type, nprobe, bytes (its memory once loaded)
        data["vector_index"] = index_summary(st)
        extra = st.multilingual_model
        data["multilingual_vector_index"] = index_summary(st, extra[0]) if extra else {}
        data["vector_memory_bytes"] = sum(
            int(data[k].get("bytes") or 0) for k in ("vector_index", "multilingual_vector_index")
        )
    except MigralexError as exc:
        raise _fail(exc, str(store or "store")) from exc
    if as_json:
        _print_json(data)
        return
    typer.echo(f"store: {data['store']}")
    typer.echo(
        f"documents {data['documents']}, clauses {data['clauses']}, vectors {data['vectors']}"
    )
    typer.echo(f"model: {data['model']} (dim {data['dimension']})")
    if data["vector_index"]:
        vi = data["vector_index"]
        nprobe = f", nprobe {vi['nprobe']}" if vi["nprobe"] else ""
        typer.echo(
            f"vector index: {vi['type']}{nprobe}; vectors in memory "
            f"{data['vector_memory_bytes'] / 2**20:.1f} MB"
        )
    if data.get("multilingual_model"):
        typer.echo(
            f"multilingual model (questions not in English): {data['multilingual_model']}, "
            f"{data['multilingual_vectors']} vectors"
        )
    typer.echo("languages: " + ", ".join(f"{k} {v}" for k, v in data["languages"].items()))
    typer.echo("kinds: " + ", ".join(f"{k} {v}" for k, v in data["kinds"].items()))
    if data["languages_without_tagger"]:
        typer.echo(
            "no tagger for: "
            + ", ".join(data["languages_without_tagger"])
            + " (stored and searchable, not tagged)"
        )
    typer.echo("tags: " + ", ".join(f"{k} {v}" for k, v in data["tags"].items()))


def _view_progress(label: str) -> tuple[Any, Any]:
    """A transient progress bar on stderr for the checklist-based views; returns the Progress
    context and its ``(done, total, doc_id)`` callback."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
        console=Console(stderr=True), transient=True,
    )  # fmt: skip
    task = progress.add_task("", total=None)

    def on_document(done: int, total: int, doc_id: str) -> None:
        progress.update(task, completed=done, total=total, description=doc_id)

    return progress, on_document


@app.command()
def matrix(
    store: StoreOpt = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="ssa, bla or law (laws and regulations).")
    ] = None,
    party: Annotated[
        str | None, typer.Option("--party", help="Only agreements naming this party.")
    ] = None,
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Also write the matrix as an XLSX file.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Coverage matrix: agreements x checklist items, each present, partial or absent."""
    from migralex.ui import service, view_exports, views

    _check_choices([kind] if kind else [], tuple(views.MATRIX_KINDS), "kind", "--kind")
    try:
        st = service.open_existing_store(store)
        embed_queries, name = service.view_queries(st)
        progress, on_document = _view_progress("matrix")
        with progress:
            data = views.matrix(
                st, embed_queries, name, kind=kind, party=party, on_document=on_document
            )
        if xlsx is not None:
            view_exports.write_matrix_xlsx(data, xlsx)
    except MigralexError as exc:
        raise _fail(exc, str(store or "store")) from exc
    except OSError as exc:
        raise _fail(exc, str(xlsx)) from exc
    if as_json:
        _print_json(data)
        return
    for cid, checklist in data["checklists"].items():
        typer.echo(f"{checklist['title']} ({cid})")
        for doc in (d for d in data["documents"] if d["checklist"] == cid):
            s = doc["summary"]
            marks = "".join(
                {"present": "+", "partial": "~", "absent": "."}[doc["cells"][i["id"]]["status"]]
                for i in checklist["items"]
            )
            typer.echo(
                f"  {marks}  {s['present']:>2}/{s['partial']:>2}/{s['absent']:>2}  {doc['title']}"
            )
    if not data["documents"]:
        typer.echo("no agreement matches")
    typer.echo("(+ present, ~ partial, . absent; counts present/partial/absent)")
    if xlsx is not None:
        typer.echo(f"matrix written to {xlsx}")


@app.command()
def compare(
    clause_ids: Annotated[list[str], typer.Argument(help="Two to four clause ids.")],
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Two to four clauses side by side: word-level differences, shared wording, tags."""
    from migralex.ui import service, views

    if not 2 <= len(clause_ids) <= 4:
        raise typer.BadParameter(
            f"give 2 to 4 clause ids, got {len(clause_ids)}", param_hint="CLAUSE_IDS"
        )
    try:
        data = views.compare(service.open_existing_store(store), clause_ids)
    except MigralexError as exc:
        raise _fail(exc) from exc  # the reason names the clause and the store
    if as_json:
        _print_json(data)
        return
    for c in data["clauses"]:
        typer.echo(f"{c['doc_title']} — {c['citation']} (similarity {c['similarity']:.2f})")
        typer.echo(f"    id: {c['clause_id']}")
        own = [
            " ".join(c["text"][s["start"] : s["end"]].split())
            for s in c["segments"]
            if not s["shared"] and c["text"][s["start"] : s["end"]].strip()
        ]
        if own:
            typer.echo("    own wording: " + " | ".join(w[:80] for w in own[:8]))
        if c["exceptions"]:
            typer.echo("    exceptions: " + "; ".join(x["text"] for x in c["exceptions"]))
    for phrase in data["shared"]:
        typer.echo(f"shared: “{' '.join(phrase['text'].split())[:200]}”")
    for row in data["tags"]:
        marks = " ".join("x" if v else "-" for v in row["clauses"])
        typer.echo(f"  {marks}  {row['label']}")


@app.command()
def corridors(
    store: StoreOpt = None,
    country: Annotated[
        str | None, typer.Option("--country", help="A country, by any of its names.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Countries linked by SSAs and BLAs; a country's partners and BLAs without an SSA."""
    from migralex.ui import service, views

    try:
        data = views.corridors(service.open_existing_store(store), country)
    except MigralexError as exc:
        raise _fail(exc) from exc  # the reason names the country or the store
    if as_json:
        _print_json(data)
        return
    words = {"both": "SSA + BLA", "ssa_only": "SSA", "bla_without_ssa": "BLA without SSA"}
    if data["country"] is not None:
        typer.echo(f"{data['country']['name']}: {len(data['partners'])} partners")
        for p in data["partners"]:
            code = f" [{p['code']}]" if p["code"] else ""
            typer.echo(f"  {words[p['status']]:<16} {p['name']}{code}")
        return
    for r in data["corridors"]:
        typer.echo(f"  {words[r['status']]:<16} {r['a_name']} — {r['b_name']}")


@app.command()
def gallery(
    store: StoreOpt = None,
    principle: Annotated[
        str | None,
        typer.Option("--principle", help="Item or tag: export_of_benefits, totalisation, ..."),
    ] = None,
    standard: Annotated[
        str | None, typer.Option("--standard", help="Standard cited: C118, C157, R167, C97, ...")
    ] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Provisions per item.")] = 3,
    pptx: Annotated[Path | None, typer.Option("--pptx", help="Also write slides.")] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Also write a printable handout.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Good-practice gallery: per checklist item, the best provisions in the store."""
    from migralex.ui import service, view_exports, views

    try:
        st = service.open_existing_store(store)
        embed_queries, name = service.view_queries(st)
        progress, on_document = _view_progress("gallery")
        with progress:
            data = views.gallery(
                st, embed_queries, name, principle=principle, standard=standard, n=n,
                on_document=on_document,
            )  # fmt: skip
    except MigralexError as exc:
        raise _fail(exc, str(store or "store")) from exc
    for target, write in (
        (pptx, lambda p: view_exports.write_gallery_pptx(data, p)),
        (html_out, lambda p: p.write_text(view_exports.gallery_html(data), encoding="utf-8")),
    ):
        if target is not None:
            try:
                write(target)
            except OSError as exc:
                raise _fail(exc, str(target)) from exc
    if as_json:
        _print_json(data)
        return
    _echo_gallery(data)
    for target in (pptx, html_out):
        if target is not None:
            typer.echo(f"written to {target}")


def _echo_gallery(data: dict[str, Any]) -> None:
    """Print a gallery (:func:`migralex.ui.views.gallery`): per item, its provisions with the
    number of criteria each meets."""
    for item in data["items"]:
        typer.echo(f"{item['id']}: {item['question']} ({item['reference']})")
        for p in item["provisions"]:
            typer.echo(f"  [{p['met']}/{len(data['criteria'])}] {p['doc_title']} — {p['citation']}")
        if not item["provisions"]:
            typer.echo("  (no provision in the store)")


def serve_command(root: Path, port: int, address: str, upload_mb: float) -> list[str]:
    """The Streamlit command line ``migralex serve`` runs.

    Args:
        root: the store folder (passed to the app as ``MIGRALEX_STORE``).
        port: HTTP port.
        address: interface to bind ("localhost": this machine only).
        upload_mb: the configured ``max_file_mb``; Streamlit's ``server.maxUploadSize`` is
            it in whole MB (:func:`~migralex.ui.app_views.upload_limit_mb`), so an upload the
            readers would refuse is stopped by the uploader with its own message.
    """
    from migralex.ui.app_views import upload_limit_mb

    return [
        sys.executable, "-m", "streamlit", "run", str(Path(__file__).with_name("app.py")),
        "--server.port", str(port), "--server.address", address,
        "--server.headless", "true", "--client.toolbarMode", "minimal",
        "--server.maxUploadSize", str(upload_limit_mb(upload_mb)),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


@app.command()
def serve(
    store: StoreOpt = None,
    port: Annotated[int, typer.Option("--port", help="HTTP port.")] = 8501,
    address: Annotated[
        str,
        typer.Option(
            "--address",
            help="Interface to bind: localhost (default, this machine only); 0.0.0.0 serves "
            "the network without any login (put it behind an authenticating proxy, README).",
        ),
    ] = "localhost",
) -> None:
    """Serve the Streamlit app (on localhost unless --address says otherwise)."""
    from migralex.ui import service

    cfg = service.settings()
    root = store or cfg.store
    env = {**os.environ, "MIGRALEX_STORE": str(root)}
    raise typer.Exit(run_child(serve_command(root, port, address, cfg.max_file_mb), env))


def run_child(cmd: list[str], env: dict[str, str], grace: float = 10.0) -> int:
    """Run ``cmd`` and return its exit code; Ctrl-C, SIGTERM or SIGHUP to this process (a
    service manager stopping ``migralex serve``, a closed terminal) stop the child too,
    instead of leaving Streamlit running: it gets SIGTERM, then SIGKILL after ``grace``
    seconds, and is waited for. The previous signal handlers come back afterwards.

    Returns:
        The child's exit code; 130 when this process was told to stop.
    """
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    child = subprocess.Popen(cmd, env=env)
    try:
        return child.wait()
    except KeyboardInterrupt:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        return 130
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
