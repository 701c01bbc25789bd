"""Batch ingest: read → segment → tag → embed → store, one transaction per document.

The tagger and the embedder are passed in (this package imports only ``corpus``); the CLI and the
app wire in the real ones, tests a fake embedder. A failing document is recorded with its reason
and the batch goes on; what the store already holds is never touched by a failure.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from migralex.corpus.errors import MigralexError, ReadError
from migralex.corpus.manifest import ManifestEntry, read_manifest
from migralex.corpus.models import KINDS, Clause, Document, Tag, content_doc_id, sha256_bytes
from migralex.corpus.store import Store
from migralex.ingest.base import Limits, ParsedText, check_size, known_suffixes, read_file
from migralex.ingest.segment import MAX_CHARS, Segmentation, segment

MANIFEST_NAME = "manifest.csv"
#: What makes a document's clauses and tags, relative to the package: the readers, the
#: segmenter and this module (ingest/), language detection, the tagger, its pattern schema
#: and its pattern data.
#: The checklist engine, search and the UI are not in it: editing them re-tags nothing.
PIPELINE_FILES = (
    "ingest/*.py",
    "nlp/language.py",
    "nlp/tagger.py",
    "nlp/pattern_schema.py",
    "nlp/spacy_components.py",
    "nlp/patterns/*/*.json",
)


@functools.cache
def pipeline_version() -> str:
    """Fingerprint of the code and patterns that make clauses and tags (16 hex):
    :data:`PIPELINE_FILES` and the package version.

    A stored document made by another version is re-processed even when its file is
    unchanged, so upgrading migralex never leaves stale clauses behind; vectors of clauses
    whose embedded text did not change are reused.
    """
    import migralex

    root = Path(migralex.__file__).parent
    files = sorted(f for pattern in PIPELINE_FILES for f in root.glob(pattern))
    h = hashlib.sha256(migralex.__version__.encode())
    for f in files:
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


Tagger = Callable[[Sequence[Clause], str], list[Tag]]
LanguageDetector = Callable[[str], str]


class PassageEmbedder(Protocol):
    """What ingest needs of an embedder (see ``migralex.index.embedders.Embedder``)."""

    name: str
    dimension: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """float32 ``(len(texts), dimension)``, rows L2-normalised."""
        ...


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What happened to one file (the DESIGN.md ingest ``documents[]`` object).

    Attributes:
        path: the file as given.
        doc_id: its document id ("" if it failed before one was known).
        status: "added", "updated", "unchanged" or "failed".
        clauses: clauses stored for it (0 when failed; the stored count when unchanged).
        error: the reason it failed, "" otherwise.
        seconds: wall time spent on it.
        warning: what the user should know although the file was processed ("" if nothing),
            e.g. that its content no longer matches the manifest's sha256.
    """

    path: str
    doc_id: str
    status: str
    clauses: int = 0
    error: str = ""
    seconds: float = 0.0
    warning: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the DESIGN.md ingest document object."""
        return {
            "path": self.path,
            "doc_id": self.doc_id,
            "status": self.status,
            "clauses": self.clauses,
            "error": self.error or None,
            "seconds": round(self.seconds, 3),
            "warning": self.warning or None,
        }


def collect_files(
    paths: Iterable[Path], manifest: dict[Path, ManifestEntry] | None = None
) -> list[Path]:
    """Expand folders (recursively) into the readable files below them, sorted, no duplicates.

    With a manifest, files inside a folder are taken only if the manifest lists them (so a
    corpus folder's README and the manifest itself are not ingested); files named explicitly are
    always taken. A path that does not exist is kept as it is, so that the batch records it as
    failed ("no such file or folder") and goes on with the others.
    """
    suffixes = set(known_suffixes())
    out: dict[Path, None] = {}
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file() or f.suffix.lower() not in suffixes or f.name.startswith("."):
                    continue
                if manifest is not None and resolved(f) not in manifest:
                    continue
                out[f] = None
        else:
            out[p] = None
    return list(out)


def resolved(path: Path) -> Path:
    """``path`` made absolute with its symbolic links followed, or only made absolute when
    they loop (``Path.resolve`` raises RuntimeError on a loop in Python 3.11)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return path.absolute()


def manifest_problems(manifest: Path, entries: dict[Path, ManifestEntry]) -> list[IngestResult]:
    """Failed results for manifest rows that cannot be ingested, in row order.

    Args:
        manifest: the manifest CSV (its folder is the corpus folder).
        entries: its rows (:func:`~migralex.corpus.manifest.read_manifest`).

    Returns:
        One ``failed`` result per row whose path lies outside the manifest's folder (never
        ingested from it), names no file, or repeats the id of an earlier row (it would
        silently replace that document); empty when every row is fine.
    """
    base = manifest.resolve().parent
    out: list[IngestResult] = []
    first_with_id: dict[str, Path] = {}
    for path, entry in entries.items():
        earlier = first_with_id.setdefault(entry.doc_id, path) if entry.doc_id else path
        if not path.is_relative_to(base):
            reason = f"listed in {manifest.name} but outside its folder; not ingested"
        elif not path.is_file():
            reason = f"listed in {manifest.name} but no such file"
        elif earlier != path:
            reason = (
                f"{manifest.name} gives it the id {entry.doc_id!r} of an earlier row"
                f" ({earlier.name}); ids must be unique, not ingested"
            )
        else:
            continue
        out.append(IngestResult(str(path), entry.doc_id, "failed", error=reason))
    return out


def find_manifest(paths: Sequence[Path]) -> Path | None:
    """Return ``manifest.csv`` of the single folder given, if it has one."""
    if len(paths) == 1 and paths[0].is_dir() and (paths[0] / MANIFEST_NAME).is_file():
        return paths[0] / MANIFEST_NAME
    return None


def make_document(
    path: Path,
    parsed: ParsedText,
    sha256: str,
    entry: ManifestEntry | None,
    kind: str | None,
    language: str | None,
    detect: LanguageDetector,
) -> Document:
    """Build the :class:`Document` of a read file; explicit options beat the manifest, which
    beats what is inferred (language detection, the file's own title, kind "other")."""
    doc_id = entry.doc_id if entry and entry.doc_id else content_doc_id(path.stem, sha256)
    lang = language or (entry.language if entry else "") or detect(parsed.text)
    k = kind or (entry.kind if entry else "") or "other"
    if k not in KINDS:
        raise ReadError(path, f"unknown kind {k!r}; valid: {', '.join(KINDS)}")
    title = (entry.title if entry else "") or parsed.title or path.stem
    meta = {"source": entry.source, "licence": entry.licence} if entry else {}
    return Document(
        doc_id=doc_id,
        title=title,
        kind=k,
        language=lang,
        parties=entry.parties if entry else (),
        source_path=str(path.resolve()),
        sha256=sha256,
        pages=parsed.pages,
        text=parsed.text,
        page_starts=parsed.page_starts,
        ocr_pages=parsed.ocr_pages,
        meta={k2: v for k2, v in meta.items() if v},
    )


def prepare(
    path: Path,
    entry: ManifestEntry | None = None,
    kind: str | None = None,
    language: str | None = None,
    detect: LanguageDetector | None = None,
    max_chars: int = MAX_CHARS,
    sha: str | None = None,
) -> tuple[Document, Segmentation]:
    """Read and segment one file without touching any store.

    Args:
        sha: the sha256 of the file's bytes when the caller has it (the file is then not
            read a second time to hash it).

    Raises:
        ReadError: the file cannot be read.
    """
    if detect is None:
        from migralex.nlp.language import detect_language

        detect = detect_language
    if sha is None:
        check_size(path, Limits.from_settings())
        try:
            sha = sha256_bytes(path.read_bytes())
        except OSError as exc:
            raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    try:
        parsed = read_file(path)
    except MigralexError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes a ReadError
        raise ReadError(path, plain_reason(exc)) from exc
    doc = make_document(path, parsed, sha, entry, kind, language, detect)
    return doc, segment(parsed, doc.doc_id, doc.language, doc.kind, max_chars)


def plain_reason(exc: BaseException) -> str:
    """Say in words for the user why a reader failed on a file (never a bare class name)."""
    import zipfile

    detail = " ".join(str(exc).split())
    if isinstance(exc, RecursionError):
        return "the document is nested too deeply to be read (corrupt or machine-generated markup)"
    if isinstance(exc, zipfile.BadZipFile):
        return "not a valid DOCX file: the zip container is corrupt or truncated"
    if type(exc).__name__ in {"XMLSyntaxError", "ParserError", "ParseError"}:
        return f"malformed XML or HTML ({detail})" if detail else "malformed XML or HTML"
    return _resource_reason(exc, detail)


def _resource_reason(exc: BaseException, detail: str) -> str:
    """The reason of :func:`plain_reason` for a failure to decode, hold or read the file, else
    the exception's own words (``detail``, white space collapsed)."""
    if isinstance(exc, UnicodeError):
        return "the text is not in a readable encoding"
    if isinstance(exc, MemoryError):
        return "the document is too large to be read in memory"
    if isinstance(exc, OSError):
        return f"cannot read file ({exc.strerror or detail or 'input/output error'})"
    if detail:
        return f"cannot read the document ({detail})"
    return "cannot read the document (the reader failed without saying why)"


# A public batch entry point: each keyword-only option is documented and passed by name from
# the CLI, the app and the benchmarks; bundling them would only move the list elsewhere.
def ingest_paths(  # noqa: PLR0913
    paths: Sequence[Path],
    store: Store,
    *,
    tagger: Tagger,
    embedder: Callable[[], PassageEmbedder] | None,
    passage: Callable[[Clause], str],
    multilingual: Callable[[], PassageEmbedder] | None = None,
    manifest: Path | None = None,
    kind: str | None = None,
    language: str | None = None,
    detect: LanguageDetector | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
    on_fill: Callable[[int, int], None] | None = None,
    strict: bool = False,
) -> list[IngestResult]:
    """Ingest files and folders into a store.

    Args:
        paths: files or folders (recursed).
        store: the target store; the writer lock is held for the whole batch.
        tagger: ``(clauses, language) -> tags``.
        embedder: returns the passage embedder (called once, lazily); None stores no vectors.
        passage: the text embedded for a clause.
        multilingual: returns the passage embedder of the store's second, multilingual vector
            set (called once, lazily); None makes none. Clauses already in the store without
            such a vector get one after the files (:func:`fill_multilingual`).
        manifest: a manifest CSV; if None and ``paths`` is one folder holding ``manifest.csv``,
            that one is used.
        kind: document kind for every file (overrides the manifest).
        language: ISO 639-1 code for every file (overrides the manifest and detection).
        detect: language detector; default ``migralex.nlp.language.detect_language``.
        on_result: called after each file (progress reporting).
        on_fill: called as ``(done, total)`` while stored clauses get their multilingual
            vectors (:func:`fill_multilingual`).
        strict: a file whose content differs from its manifest row's sha256 fails (nothing
            of it is stored) instead of being ingested with a warning.

    Returns:
        One result per manifest row that cannot be ingested (:func:`manifest_problems`),
        then one per file, in file order.

    Raises:
        ReadError: the manifest cannot be read (a missing or unreadable file is a failed result).
        StoreError: the store is locked by another writer or holds another model's vectors.
    """
    entries, files, results = plan(paths, manifest)
    for problem in results:
        if on_result:
            on_result(problem)
    options = make_options(tagger, embedder, passage, multilingual, kind, language, detect, strict)
    with store.writer(), ThreadPoolExecutor(1, thread_name_prefix="migralex-read") as pool:
        ahead: deque[_Ahead] = deque()
        queue = iter(files)
        for _ in range(LOOKAHEAD):
            _check_next(queue, store, entries, options, pool, ahead)
        while ahead:
            job = ahead.popleft()
            _check_next(queue, store, entries, options, pool, ahead)  # read it while we embed
            result = replace(_finish(job, store, options), seconds=time.perf_counter() - job.t0)
            results.append(result)
            if on_result:
                on_result(result)
        if multilingual is not None:
            fill_multilingual(store, options.embedders[1], passage, on_progress=on_fill)
    return results


def plan(
    paths: Sequence[Path], manifest: Path | None = None
) -> tuple[dict[Path, ManifestEntry] | None, list[Path], list[IngestResult]]:
    """What a batch ingests: the manifest's rows (None without a manifest; if ``manifest`` is
    None and ``paths`` is one folder holding ``manifest.csv``, that one), the files in order
    (:func:`collect_files`) without those of refused rows, and a failed result per refused row
    (:func:`manifest_problems`).

    Raises:
        ReadError: the manifest cannot be read.
    """
    manifest = manifest or find_manifest(paths)
    entries = read_manifest(manifest) if manifest else None
    files = collect_files(paths, entries)
    problems = manifest_problems(manifest, entries) if manifest and entries is not None else []
    refused = {Path(p.path) for p in problems}
    return entries, [f for f in files if resolved(f) not in refused], problems


def make_options(  # noqa: PLR0913 - one per ingest option, each documented in ingest_paths
    tagger: Tagger,
    embedder: Callable[[], PassageEmbedder] | None,
    passage: Callable[[Clause], str],
    multilingual: Callable[[], PassageEmbedder] | None = None,
    kind: str | None = None,
    language: str | None = None,
    detect: LanguageDetector | None = None,
    strict: bool = False,
) -> _Options:
    """The options every file of a batch is processed with (:func:`process`); the embedder
    factories are wrapped to load at most once, on first use."""
    embedders = (_lazy(embedder), _lazy(multilingual))
    return _Options(kind, language, detect, tagger, passage, embedders, strict)


def _lazy(
    factory: Callable[[], PassageEmbedder] | None,
) -> Callable[[], PassageEmbedder | None]:
    """Wrap an embedder factory so that it is called at most once, on first use."""
    loaded: list[PassageEmbedder] = []

    def get() -> PassageEmbedder | None:
        if factory is None:
            return None
        if not loaded:
            loaded.append(factory())
        return loaded[0]

    return get


def fill_multilingual(
    store: Store,
    embedder: Callable[[], PassageEmbedder | None],
    passage: Callable[[Clause], str],
    batch: int = 256,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Give every clause of the store without a vector of the multilingual model one (a store
    made before it had this vector set, or by a run without it), ``batch`` clauses per
    transaction, calling ``on_progress(done, total)`` after each. The caller holds the writer
    lock.

    Returns:
        The number of clauses embedded (0 when none was missing; the embedder is then not
        loaded).

    Raises:
        StoreError: the store holds multilingual vectors of another model.
    """
    current = store.multilingual_model
    missing = store.rowids_without_multilingual(current[0]) if current else None
    if missing == []:
        return 0
    emb = embedder()
    if emb is None:
        return 0
    if missing is None:
        missing = store.rowids_without_multilingual(emb.name)
    for i in range(0, len(missing), batch):
        rowids = missing[i : i + batch]
        clauses = store.clauses_by_rowid(rowids)
        rowids = [r for r in rowids if r in clauses]
        passages = [passage(clauses[r]) for r in rowids]
        shas = [sha256_bytes(p.encode("utf-8")) for p in passages]
        vectors = emb.embed_passages(passages) if passages else None
        if vectors is not None:
            store.add_multilingual_vectors((emb.name, emb.dimension), rowids, vectors, shas)
        if on_progress:
            on_progress(min(i + batch, len(missing)), len(missing))
    return len(missing)


def _embed(
    emb: PassageEmbedder,
    store: Store,
    doc_ids: Sequence[str],
    passages: Sequence[str],
    shas: Sequence[str],
) -> np.ndarray:
    """Vectors of ``passages`` by ``emb``, float32 ``(n, dim)``: reused from the stored clauses
    of ``doc_ids`` whose embedded text has the same sha256, computed for the others."""
    known = store.reusable_vectors(doc_ids, emb.name)
    todo = [i for i, h in enumerate(shas) if h not in known]
    vectors = np.zeros((len(passages), emb.dimension), dtype=np.float32)
    for i, h in enumerate(shas):
        if h in known:
            vectors[i] = known[h]
    if todo:
        vectors[todo] = emb.embed_passages([passages[i] for i in todo])
    return vectors


def manifest_mismatch(entry: ManifestEntry | None, sha: str) -> str:
    """Say why a file's content does not match its manifest row, or return "".

    Args:
        entry: the file's manifest row (None or an empty ``sha256``: nothing to compare).
        sha: the sha256 of the file's bytes, lower-case hex.

    Returns:
        "" when they match, else a sentence naming both digests' first 12 hex digits.
    """
    expected = entry.sha256.strip().lower() if entry else ""
    if not expected or expected == sha:
        return ""
    return (
        f"content differs from the manifest's sha256 ({expected[:12]}... listed,"
        f" {sha[:12]}... read): the file changed since the manifest was written"
    )


@dataclass(frozen=True, slots=True)
class _Options:
    """What every file of one :func:`ingest_paths` batch is read, tagged and embedded with."""

    kind: str | None
    language: str | None
    detect: LanguageDetector | None
    tagger: Tagger
    passage: Callable[[Clause], str]
    embedders: tuple[Callable[[], PassageEmbedder | None], Callable[[], PassageEmbedder | None]]
    strict: bool  # a sha256 that differs from the manifest's fails the file


@dataclass(frozen=True, slots=True)
class Pending:
    """A file to (re-)process: what the store-side checks found (:func:`check_file`)."""

    path: Path
    entry: ManifestEntry | None
    sha: str  # sha256 of the file's bytes
    warning: str  # the manifest mismatch, or ""


@dataclass(frozen=True, slots=True)
class Processed:
    """One file read, segmented, tagged and embedded, ready to be written (:func:`process`).

    ``vectors``/``ml_vectors``: float32 ``(len(clauses), dim)`` or None; ``model``/``ml_model``:
    ``(name, dimension)`` of the embedder that made them."""

    document: Document
    clauses: tuple[Clause, ...]
    tags: tuple[Tag, ...]
    passage_shas: tuple[str, ...]
    vectors: np.ndarray | None = None
    model: tuple[str, int] | None = None
    ml_vectors: np.ndarray | None = None
    ml_model: tuple[str, int] | None = None


def check_file(
    path: Path, store: Store, entry: ManifestEntry | None, strict: bool = False
) -> Pending | IngestResult:
    """The store-side checks of one file before it is processed: it exists and is within the
    size limits, its sha256 against the manifest's; an "unchanged" result when the store holds
    it as made by this :func:`pipeline_version`, else the :class:`Pending` file.

    Raises:
        ReadError: missing, looping or unreadable file, too large, or a manifest mismatch
            under ``strict``.
    """
    if path.is_symlink() and not path.exists():
        raise ReadError(path, "a symbolic link that loops or leads to nothing")
    if not path.exists():
        raise ReadError(path, "no such file or folder")
    check_size(path, Limits.from_settings())  # before the file is read whole to hash it
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(path, f"cannot read file ({exc.strerror or exc})") from exc
    sha = sha256_bytes(data)
    warning = manifest_mismatch(entry, sha)
    if warning and strict:
        raise ReadError(path, f"{warning} (--strict)")
    doc_id = entry.doc_id if entry and entry.doc_id else content_doc_id(path.stem, sha)
    if store.status_of(doc_id, sha, pipeline_version()) == "unchanged":
        count = store.count_clauses(doc_id)
        return IngestResult(str(path), doc_id, "unchanged", count, warning=warning)
    return Pending(path, entry, sha, warning)


@dataclass(frozen=True, slots=True)
class ReadFile:
    """One file read, segmented and tagged, not yet embedded (:func:`read_and_tag`)."""

    document: Document
    clauses: tuple[Clause, ...]
    tags: tuple[Tag, ...]
    passages: tuple[str, ...]  # the text embedded for each clause
    passage_shas: tuple[str, ...]


def read_and_tag(pending: Pending, options: _Options) -> ReadFile:
    """Read, segment and tag one file and make its passages, touching no store and no
    embedder (what ingest runs beside the embedding of the previous file).

    Raises:
        ReadError: unreadable file or no clause in it.
    """
    path = pending.path
    doc, seg = prepare(
        path, pending.entry, options.kind, options.language, options.detect, sha=pending.sha
    )
    clauses = tuple(seg.clauses)
    if not clauses:
        raise ReadError(path, "no clause found in the text")
    tags = tuple(options.tagger(list(clauses), doc.language))
    passages = tuple(options.passage(c) for c in clauses)
    shas = tuple(sha256_bytes(p.encode("utf-8")) for p in passages)
    return ReadFile(doc, clauses, tags, passages, shas)


def embed_read(
    read: ReadFile,
    options: _Options,
    embed: Callable[[PassageEmbedder, Sequence[str], Sequence[str]], np.ndarray] | None = None,
) -> Processed:
    """Embed a read file's passages with the batch's embedders.

    Args:
        embed: ``(embedder, passages, passage shas) -> vectors``; default every passage
            embedded (ingest into a store passes one that reuses stored vectors).
    """
    run = embed or (lambda emb, texts, _: emb.embed_passages(list(texts)))
    emb, ml_emb = (get() for get in options.embedders)
    out = Processed(read.document, read.clauses, read.tags, read.passage_shas)
    if emb is not None:
        vectors = run(emb, read.passages, read.passage_shas)
        out = replace(out, vectors=vectors, model=(emb.name, emb.dimension))
    if ml_emb is not None:
        ml_vectors = run(ml_emb, read.passages, read.passage_shas)
        out = replace(out, ml_vectors=ml_vectors, ml_model=(ml_emb.name, ml_emb.dimension))
    return out


def process(
    pending: Pending,
    options: _Options,
    embed: Callable[[PassageEmbedder, Sequence[str], Sequence[str]], np.ndarray] | None = None,
) -> Processed:
    """Read, segment, tag and embed one file, touching no store (what a Ray worker runs):
    :func:`read_and_tag` then :func:`embed_read`.

    Raises:
        ReadError: unreadable file or no clause in it.
    """
    return embed_read(read_and_tag(pending, options), options, embed)


def write_processed(store: Store, pending: Pending, done: Processed) -> IngestResult:
    """Write one processed file in one transaction (a document it replaces, same source path
    under another id, goes in the same transaction); "added", "updated" or "unchanged".

    Raises:
        StoreError: the store holds another model's vectors.
    """
    doc = done.document
    previous = store.find_by_source(str(pending.path.resolve()))
    replaces = tuple(d for d in previous if d != doc.doc_id)
    if done.ml_model is not None:
        store.check_multilingual_model(*done.ml_model)
    multilingual = (done.ml_model, done.ml_vectors) if done.ml_model is not None else None
    status = store.write_document(
        doc, list(done.clauses), list(done.tags), done.vectors, done.model, replaces=replaces,
        pipeline=pipeline_version(), passage_shas=list(done.passage_shas),
        multilingual=multilingual,
    )  # fmt: skip
    if replaces and status == "added":
        status = "updated"
    return IngestResult(
        str(pending.path), doc.doc_id, status, len(done.clauses), warning=pending.warning
    )


#: Files read, segmented and tagged ahead of the one being embedded (one reader thread: the
#: encoder releases the GIL in its matrix products, so reading runs beside it).
LOOKAHEAD = 2


@dataclass(slots=True)
class _Ahead:
    """A file of the batch in flight: its store-side check's outcome, and the reader's job."""

    path: Path
    t0: float
    checked: Pending | IngestResult | None = None
    error: str = ""
    read: Future[ReadFile] | None = None


def _check_next(
    queue: Iterator[Path],
    store: Store,
    entries: dict[Path, ManifestEntry] | None,
    options: _Options,
    pool: ThreadPoolExecutor,
    ahead: deque[_Ahead],
) -> None:
    """Check the next file of ``queue`` (this thread: the store) and hand it to the reader."""
    path = next(queue, None)
    if path is None:
        return
    job = _Ahead(path, time.perf_counter())
    entry = entries.get(resolved(path)) if entries else None
    try:
        job.checked = check_file(path, store, entry, options.strict)
    except MigralexError as exc:
        job.error = failure_reason(exc, path)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        job.error = plain_reason(exc)
    if isinstance(job.checked, Pending):
        job.read = pool.submit(read_and_tag, job.checked, options)
    ahead.append(job)


def _finish(job: _Ahead, store: Store, options: _Options) -> IngestResult:
    """Embed (reusing stored vectors of unchanged passages) and write a checked, read file."""
    path = job.path
    if job.error or job.checked is None:
        return IngestResult(str(path), "", "failed", error=job.error)
    if isinstance(job.checked, IngestResult):
        return job.checked
    assert job.read is not None  # every Pending was handed to the reader
    try:
        read = job.read.result()
        old_ids = (read.document.doc_id, *store.find_by_source(str(path.resolve())))

        def reuse(emb: PassageEmbedder, texts: Sequence[str], shas: Sequence[str]) -> np.ndarray:
            return _embed(emb, store, old_ids, texts, shas)

        return write_processed(store, job.checked, embed_read(read, options, reuse))
    except MigralexError as exc:
        return IngestResult(str(path), "", "failed", error=failure_reason(exc, path))
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return IngestResult(str(path), "", "failed", error=plain_reason(exc))


def failure_reason(exc: Exception, path: Path) -> str:
    """Why ``path`` failed, without the path its result already names."""
    if isinstance(exc, ReadError):
        return exc.reason
    text = str(exc)
    prefix = f"{path}: "
    return text[len(prefix) :] if text.startswith(prefix) else text
