"""The operations behind the CLI and the app, wired to the real tagger, embedder and store.

Everything here is importable and testable without a terminal or a browser; the CLI formats what
these functions return and the Streamlit app renders it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from migralex.corpus.errors import MigralexError, StoreError
from migralex.corpus.models import Clause, Document, Hit, Paragraph, Tag
from migralex.corpus.settings import Settings
from migralex.corpus.store import Filters, Store
from migralex.index.embedders import (
    Embedder,
    TruncatedPassages,
    canonical_model_name,
    clause_passage,
    get_embedder,
)
from migralex.index.ranker import Reranker
from migralex.index.search import Searcher
from migralex.ingest.pipeline import IngestResult, ingest_paths, prepare
from migralex.ingest.segment import Segmentation

#: Document kinds whose clauses serve as good-practice examples for each checklist.
EXAMPLE_KINDS: dict[str, tuple[str, ...]] = {
    "ssa": ("ssa", "regional", "ilo"),
    "bla": ("bla", "ssa", "regional", "ilo"),
    "national-law": ("law", "regulation", "ssa", "ilo"),
}


#: The kinds of document "like the draft" for each checklist: their examples come first.
OWN_KINDS: dict[str, tuple[str, ...]] = {
    "ssa": ("ssa",),
    "bla": ("bla",),
    "national-law": ("law", "regulation"),
}


def examples_in_order(item: Any, near: Sequence[Hit], others: Sequence[Hit], n: int) -> list[Hit]:
    """The ``n`` good-practice examples of a checklist item: the best of ``near`` (clauses
    of the draft's kind and language) first, then the best of ``others``; one per document,
    preambles left out, each group ranked by
    :func:`~migralex.nlp.checklist.examples.rank_examples`."""
    from migralex.nlp.checklist.examples import rank_examples
    from migralex.nlp.structure import is_preamble

    out: list[Hit] = []
    if n <= 0:
        return out
    for group in (near, others):
        seen = {h.clause.doc_id for h in out}
        pool = [h for h in group if h.clause.doc_id not in seen and not is_preamble(h.clause)]
        out += rank_examples(item, pool, n - len(out))
        if len(out) >= n:
            break
    return out[:n]


def settings(**overrides: Any) -> Settings:
    """Return settings from the environment with the given non-None overrides."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def open_store(store_dir: Path | None = None) -> Store:
    """Open (creating if needed) the store at ``store_dir``, else the configured one."""
    return Store(store_dir or settings().store)


def open_existing_store(store_dir: Path | None = None) -> Store:
    """Open the store at ``store_dir`` (else the configured one) for reading, without creating it.

    Raises:
        StoreError: the folder does not exist, is a file, or holds no migralex store.
    """
    from migralex.corpus.store import DB_NAME

    root = Path(store_dir or settings().store)
    if not root.exists() or (root.is_dir() and not (root / DB_NAME).is_file()):
        raise StoreError(f"{root}: no migralex store here (run migralex ingest first)")
    return Store(root)  # a path that is a file: Store refuses it in words


def model_for(store: Store, requested: str | None) -> str:
    """Choose the embedding model: the one the store was built with, else the requested or
    configured one.

    Raises:
        StoreError: the requested model differs from the store's.
    """
    recorded = store.model
    if requested:
        name = canonical_model_name(requested)
        if recorded and store.count_vectors() and recorded[0] != name:
            raise StoreError(
                f"{store.root}: store was built with model {recorded[0]!r}, not {name!r}; "
                "use another --store"
            )
        return name
    if recorded:
        return recorded[0]
    return canonical_model_name(settings().model)


#: Values of ``--multilingual-model`` / ``MIGRALEX_MULTILINGUAL_MODEL`` that make no second set.
NO_MODEL = ("", "none", "off")


def multilingual_for(store: Store, main: str, requested: str | None = None) -> str | None:
    """Choose the model of the store's multilingual vector set, or None for no such set.

    The set the store already has wins. A store without one gets one only when it holds no
    vectors yet (or when ``requested`` names a model explicitly: existing clauses are then
    embedded too), and only when the main model reads some languages only
    (:data:`migralex.index.search.MODEL_LANGUAGES`), since only then are questions routed to it.

    Args:
        store: the target store.
        main: the canonical name of the main model.
        requested: ``--multilingual-model`` (None: ``MIGRALEX_MULTILINGUAL_MODEL``, else
            e5-small; "none" for no set).

    Raises:
        StoreError: ``requested`` differs from the store's multilingual model.
    """
    from migralex.index.search import MODEL_LANGUAGES

    recorded = store.multilingual_model
    if recorded is not None and store.count_vectors(recorded[0]):
        if requested is not None and canonical_model_name(requested) != recorded[0]:
            wanted = "none" if requested.strip().lower() in NO_MODEL else repr(requested)
            raise StoreError(
                f"{store.root}: store holds multilingual vectors of model {recorded[0]!r}, "
                f"not {wanted} (a store keeps the vector sets it was made with); "
                "use another --store"
            )
        return recorded[0]
    name = requested if requested is not None else settings().multilingual_model
    if name.strip().lower() in NO_MODEL or main not in MODEL_LANGUAGES:
        return None
    name = canonical_model_name(name)
    if name == main or (requested is None and store.count_vectors()):
        return None
    return name


def embedder_factory(name: str, threads: int | None = None) -> Callable[[], Embedder]:
    """Return a function that loads (once) the embedder ``name``.

    Args:
        name: model name (see :func:`migralex.index.embedders.get_embedder`).
        threads: CPU threads; default the configured query threads.
    """
    cfg = settings()
    return functools.partial(get_embedder, name, threads or cfg.threads, cfg.batch_size)


def query_embedder_factory(store: Store, name: str) -> Callable[[], Any]:
    """The query encoder of ``store``'s main vector set: the torch-free ONNX export of MiniLM
    when the store holds one made from the installed weights
    (:mod:`migralex.index.onnx_query`; a cold search then skips importing torch), else
    :func:`embedder_factory`."""
    if name == "minilm" and settings().onnx_queries:
        from migralex.index.embedders import minilm_path
        from migralex.index.onnx_query import OnnxQueryEmbedder, current_export

        try:
            folder = minilm_path()
        except MigralexError:
            folder = None
        export = current_export(folder, store.root) if folder is not None else None
        if export is not None and folder is not None:
            threads = settings().threads
            return functools.cache(lambda: OnnxQueryEmbedder(export, folder, name, threads))
    return embedder_factory(name)


def export_query_encoder(store: Store) -> Path | None:
    """Export the store's MiniLM to ONNX for torch-free queries (:func:`query_embedder_factory`)
    when it has none of the installed weights; None when the store's model is another or the
    export failed its check (search then uses sentence-transformers)."""
    from migralex.index.embedders import minilm_path
    from migralex.index.onnx_query import export_minilm

    if store.model is None or store.model[0] != "minilm" or not settings().onnx_queries:
        return None
    try:
        return export_minilm(minilm_path(), store.root)
    except MigralexError as exc:
        import warnings

        warnings.warn(f"no ONNX query encoder for {store.root}: {exc}", stacklevel=2)
        return None


def multilingual_embedder_factory(name: str, threads: int | None = None) -> Callable[[], Embedder]:
    """Like :func:`embedder_factory`, for the passages of the multilingual vector set: each
    is cut to :data:`~migralex.index.embedders.MULTILINGUAL_PASSAGE_CHARS` characters."""
    load = embedder_factory(name, threads)
    return lambda: TruncatedPassages(load())


def tagger() -> Callable[[Sequence[Clause], str], list[Tag]]:
    """Return the clause tagger (``migralex.nlp.tagger.tag_clauses``)."""
    from migralex.nlp.tagger import tag_clauses

    return tag_clauses


# The app's and CLI's entry to ingest_paths: the same documented keyword-only options (one per
# 'migralex ingest' option) with the real tagger and embedders wired in.
def ingest(  # noqa: PLR0913
    paths: Sequence[Path],
    store: Store,
    *,
    manifest: Path | None = None,
    kind: str | None = None,
    language: str | None = None,
    model: str | None = None,
    multilingual_model: str | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
    on_fill: Callable[[int, int], None] | None = None,
    strict: bool = False,
    ray: str | None = None,
    ray_workers: int = 2,
) -> list[IngestResult]:
    """Ingest files and folders into ``store`` with the real tagger and embedder(s); a store
    with an adapted vector set has it re-embedded when new clauses came in
    (:func:`refresh_adapted`). With ``ray`` (a cluster address or ``local``), reading,
    tagging and embedding run on ``ray_workers`` Ray workers of one thread each
    (:mod:`migralex.ingest.distributed`); this process writes the store.

    Args:
        model: the main embedding model (:func:`model_for`).
        multilingual_model: the model of the multilingual vector set
            (:func:`multilingual_for`).
        on_result: called after each file.
        on_fill: ``(done, total)`` while stored clauses get multilingual vectors.
        strict: refuse files whose content differs from the manifest's sha256.

    Raises:
        ReadError: a named path or the manifest cannot be read.
        StoreError: locked store or model mismatch.
    """
    name = model_for(store, model)
    extra = multilingual_for(store, name, multilingual_model)
    threads = settings().ingest_threads
    # Ray workers run one file each on one thread; a plain ingest gives the encoder every core
    per_run = 1 if ray is not None else threads
    common: dict[str, Any] = dict(
        tagger=tagger(), embedder=embedder_factory(name, per_run),
        multilingual=multilingual_embedder_factory(extra, per_run) if extra else None,
        passage=clause_passage, manifest=manifest, kind=kind, language=language,
        on_result=on_result, strict=strict,
    )  # fmt: skip
    if ray is not None:
        from migralex.ingest.distributed import ingest_ray

        results = ingest_ray(paths, store, address=ray, workers=ray_workers, **common)
    else:
        results = ingest_paths(paths, store, on_fill=on_fill, **common)
    refresh_adapted(store, threads)
    export_query_encoder(store)
    try:
        warm_views(store)
    except MigralexError as exc:  # the documents are stored; only the views' cache is missing
        import warnings

        warnings.warn(f"views cache of {store.root} not filled: {exc}", stacklevel=2)
    return results


def refresh_adapted(store: Store, threads: int | None = None) -> bool:
    """Re-embed the store's adapted vector set (:mod:`migralex.index.encoder`) when it no
    longer covers every clause (documents added or changed since it was made) and the encoder
    that made it is still in the store; search falls back to the main set until then.

    Returns:
        Whether the set was re-embedded.
    """
    from migralex.index.encoder import MODEL_DIR, embed_store, encoder_dir

    adapted = store.adapted_model
    if adapted is None or not (encoder_dir(store.root) / MODEL_DIR).is_dir():
        return False
    if store.count_vectors(adapted[0]) == store.count_vectors():
        return False
    embed_store(store, threads=threads)
    return True


def ranker_factory(store: Store, threads: int | None = None) -> Callable[[], Reranker] | None:
    """Return a function that loads (once) the store's trained ranker, None when the store has
    none (:func:`migralex.index.ranker.load_card`).

    Raises:
        StoreError: the store's ranker folder is damaged.
    """
    from migralex.index.ranker import load_card, ranker_dir

    if load_card(store.root) is None:
        return None
    folder = ranker_dir(store.root)
    return functools.partial(_reranker, folder, threads or settings().threads)


@functools.cache
def _reranker(folder: Path, threads: int) -> Reranker:
    return Reranker(folder, threads)


def adapted_factory(store: Store, threads: int | None = None) -> Callable[[], Embedder] | None:
    """Return a function that loads (once) the query embedder of the store's adapted vector
    set (:mod:`migralex.index.encoder`), None when the store has no such set or no encoder
    folder, or when ``MIGRALEX_ADAPTED`` is off."""
    from migralex.index.encoder import MODEL_DIR, encoder_dir

    folder = encoder_dir(store.root) / MODEL_DIR
    if not settings().adapted or store.adapted_model is None or not folder.is_dir():
        return None
    return embedder_factory(str(folder), threads)


def searcher(
    store: Store, model: str | None = None, use_ranker: bool = True, use_adapted: bool = True
) -> Searcher:
    """Return a searcher over ``store`` using the store's model for queries, its
    multilingual model for questions the main model does not read (query-language routing,
    :meth:`migralex.index.search.Searcher.routed_model`) and its trained ranker when it has one
    and ``use_ranker``, re-scoring ``MIGRALEX_RERANK_DEPTH`` candidates (0: no ranker;
    :mod:`migralex.index.ranker`)."""
    extra = store.multilingual_model
    cfg = settings()
    return Searcher(
        store,
        query_embedder_factory(store, model_for(store, model)),
        cfg.threads,
        multilingual=embedder_factory(extra[0]) if extra else None,
        ranker=ranker_factory(store) if use_ranker and cfg.rerank_depth else None,
        rerank_depth=max(1, cfg.rerank_depth),
        adapted=adapted_factory(store) if use_adapted else None,
    )


@dataclass(frozen=True, slots=True)
class TaggedDocument:
    """A file read, segmented and tagged without being stored."""

    document: Document
    segmentation: Segmentation
    tags: dict[str, list[Tag]]

    @property
    def clauses(self) -> tuple[Clause, ...]:
        """The document's clauses."""
        return self.segmentation.clauses

    def to_json(self) -> dict[str, Any]:
        """Return the DESIGN.md ``tag`` JSON object (``path`` is the source path); each tag
        also names the numbered paragraph it sits in (``"paragraph"``: "2", "" for an
        unnumbered body, null in the label or heading lines)."""
        from migralex.nlp.paragraphs import paragraph_at, split_paragraphs
        from migralex.nlp.structure import body_start

        d = self.document

        def paragraph(paragraphs: tuple[Paragraph, ...], offset: int) -> str | None:
            p = paragraph_at(paragraphs, offset)
            return p.label if p is not None else None

        parts = {c.clause_id: split_paragraphs(c.text, body_start(c)) for c in self.clauses}
        return {
            "path": d.source_path,
            "doc_id": d.doc_id,
            "title": d.title,
            "language": d.language,
            "pages": d.pages,
            "clauses": [
                {
                    **c.to_json(),
                    "tags": [
                        {
                            "name": t.name,
                            "start": t.start,
                            "end": t.end,
                            "text": t.text,
                            "rule": t.rule,
                            "exception": t.exception,
                            "negated": t.negated,
                            "paragraph": paragraph(parts[c.clause_id], t.start),
                        }
                        for t in self.tags.get(c.clause_id, [])
                    ],
                }
                for c in self.clauses
            ],
        }


def tag_file(path: Path, kind: str | None = None, language: str | None = None) -> TaggedDocument:
    """Read, segment and tag one file (nothing is stored).

    Raises:
        ReadError: the file cannot be read.
    """
    doc, seg = prepare(path, None, kind, language)
    by_clause: dict[str, list[Tag]] = {c.clause_id: [] for c in seg.clauses}
    for t in tagger()(seg.clauses, doc.language):
        by_clause[t.clause_id].append(t)
    return TaggedDocument(doc, seg, by_clause)


def run_checklist(
    path: Path,
    checklist_name: str,
    store: Store | None,
    *,
    kind: str | None = None,
    language: str | None = None,
    model: str | None = None,
    n_examples: int = 3,
    on_stage: Callable[[str, float], None] | None = None,
) -> tuple[TaggedDocument, Any]:
    """Run a checklist on a draft file, with good-practice examples from the store. Articles
    without a heading are read with the checklist's shipped topic model for the embedding
    model, when there is one (:mod:`migralex.nlp.checklist.topics`).

    Args:
        path: the draft (any readable format).
        checklist_name: "ssa", "bla" or "national-law".
        store: the store examples come from (None: no examples; its model is used for the
            draft's clause vectors when it has one).
        kind: kind of the draft (default "draft").
        language: its language (default: detected).
        model: embedding model (default: the store's, else the configured one).
        n_examples: examples per item.
        on_stage: called as ``(what is being done, fraction done in [0, 1])`` at each stage:
            reading and tagging, embedding the clauses, each item ("item 3 of 14: ..."), done.

    Returns:
        The tagged draft and the ``ChecklistResult``.

    Raises:
        NotFoundError: unknown checklist.
        ReadError: the draft cannot be read.
    """
    from migralex.nlp.checklist.engine import run_checklist as run
    from migralex.nlp.checklist.loader import load_checklist
    from migralex.nlp.checklist.thresholds import thresholds_for
    from migralex.nlp.checklist.topics import shipped_model

    def stage(text: str, fraction: float) -> None:
        if on_stage is not None:
            on_stage(text, fraction)

    checklist = load_checklist(checklist_name)
    stage("Reading and tagging the draft", 0.0)
    tagged = tag_file(path, kind or "draft", language)
    name = (
        model_for(store, model)
        if store is not None
        else canonical_model_name(model or settings().model)
    )
    stage(f"Embedding its {len(tagged.clauses)} clauses", 0.1)
    emb = embedder_factory(name)()
    vectors = emb.embed_passages([clause_passage(c) for c in tagged.clauses])
    find_examples = None
    if store is not None and store.count_vectors():
        search = searcher(store, name, use_ranker=False, use_adapted=False)  # calibrated, unchanged
        draft_id = tagged.document.doc_id
        draft_language = tagged.document.language
        kinds = EXAMPLE_KINDS.get(checklist_name, ())

        def find_examples(item: Any, n: int) -> list[Hit]:
            # Candidates by similarity (tagged clauses first), then re-ranked for quality:
            # heading of the item, its tag, kind of agreement, length, not a lapsed text.
            query = item.question + " " + " ".join(item.cues[:2])
            hits: list[Hit] = []
            if item.tags:
                tagged_filters = Filters(
                    kinds=kinds, tags=tuple(item.tags), exclude_doc_ids=(draft_id,)
                )
                hits = search.search(query, k=n * 8, mode="semantic", filters=tagged_filters)
            filters = Filters(kinds=kinds, exclude_doc_ids=(draft_id,))
            hits += search.search(query, k=n * 8, mode="semantic", filters=filters)
            # Same kind and language as the draft first (a French BLA gets French BLA
            # clauses before English SSA ones), then the rest; never a preamble.
            own = Filters(
                kinds=OWN_KINDS.get(checklist_name, ()),
                languages=(draft_language,),
                exclude_doc_ids=(draft_id,),
            )
            near = search.search(query, k=n * 8, mode="semantic", filters=own)
            return examples_in_order(item, near, hits, n)

    result = run(
        checklist,
        tagged.clauses,
        tagged.tags,
        np.asarray(vectors, dtype=np.float32),
        emb.embed_queries,
        find_examples,
        n_examples=n_examples,
        thresholds=thresholds_for(name),
        embed_passages=emb.embed_passages,
        topic_model=shipped_model(checklist_name, name),
        on_item=lambda k, n, item: stage(
            f"Item {k} of {n}: {item.question}", 0.2 + 0.8 * (k - 1) / n
        ),
    )
    stage("Done", 1.0)
    return tagged, result


def stats(store: Store) -> dict[str, Any]:
    """Return the DESIGN.md ``stats`` object plus the languages no tagger covers."""
    from migralex.nlp.tagger import SUPPORTED_LANGUAGES

    out = store.stats()
    out["languages_without_tagger"] = sorted(
        lang for lang in out["languages"] if lang not in SUPPORTED_LANGUAGES
    )
    return out


def warm_views(store: Store) -> int:
    """Fill the views cache of ``store`` (``STORE/views-cache``: every stored agreement
    checked with its checklist, what the matrix and the gallery read), so their first opening
    does not compute it. Ingest runs it after its files (only new or changed agreements are
    computed; the rest are read from the cache); so does the app's background preload at start.
    Returns the number of agreements.
    """
    from migralex.ui import views

    queries, model = view_queries(store)
    return len(views.matrix(store, queries, model)["documents"])


def view_queries(store: Store, model: str | None = None) -> tuple[Callable[[list[str]], Any], str]:
    """The query encoder and model name the checklist-based views (matrix, gallery) use on
    ``store``: its main model (:func:`model_for`), loaded on the first call only, so a view
    whose results are all cached loads no model.

    Returns:
        ``(embed_queries, model_name)``; ``embed_queries`` returns float32 ``(n, dim)``.

    Raises:
        StoreError: ``model`` differs from the store's.
    """
    name = model_for(store, model)
    load = embedder_factory(name)

    def embed_queries(texts: list[str]) -> Any:
        return load().embed_queries(texts)

    return embed_queries, name
