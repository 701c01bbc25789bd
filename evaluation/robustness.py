"""Reliability and security benchmark (issue #19): kill -9 mid-ingest, writers and readers,
bad inputs, fuzzing. ``python -m migralex.evaluation.robustness`` prints the table.

Modelled on how SQLite tests itself (crash tests, fault injection, fuzzing, limits):

* **Crashes.** A forked child ingests small written documents (the real tagger, the ``hash``
  embedder) into a copy of a store that already holds some, and is killed with SIGKILL at a
  random moment of one phase: reading a file, embedding, writing a document (the SQLite
  transaction and its commit), writing the FAISS cache (a search after the ingest), or at a
  uniformly random time of the whole run. Afterwards: ``PRAGMA integrity_check`` and the FTS5
  integrity check pass, no foreign key dangles, every document is complete (its clause, tag and
  vector counts equal a clean ingest's) or absent, the document being replaced is there exactly
  once (old or new version), the FAISS index loads with every vector (a stale cache rebuilt), a
  re-run ends with exactly the clean totals, and search answers.
* **Writers and readers.** Two ingests started together on one store: one is refused at once
  with a line saying another process writes (or they run one after the other); searches and
  snapshot reads while an ingest writes never see a document with part of its clauses.
* **Bad inputs** (:func:`bad_inputs`): each is ingested through the CLI together with a good
  file into a copy of a store; a hostile or broken file must end with exit 1 and one line
  ``migralex: error: <file>: <reason>`` in plain words (no exception class names, no
  traceback), the store's documents unchanged and the good file ingested; ``tag`` (and for some
  ``checklist``) must give the same kind of line. Files that are odd but fine (UTF-16 with a
  byte-order mark, a PDF encrypted with an empty password, a scan when tesseract is installed,
  names with spaces, unicode or newlines) must be read.
* **Fuzzing** (hypothesis): every reader, the segmenter and the search query path get
  generated inputs; a reader may refuse with ``ReadError``, search with ``ValidationError``;
  any other exception is a crash, an input taking longer than :data:`FUZZ_TIME_BOUND` seconds a
  hang.

All fixtures are written here, in our own words; nothing of the corpus is copied.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Seconds one fuzz input may take before it counts as a hang.
FUZZ_TIME_BOUND = 10.0
#: Kill phases (see the module docstring).
PHASES = ("read", "embed", "commit", "faiss", "random")
_ENV = {"MIGRALEX_MODEL": "hash", "MIGRALEX_MULTILINGUAL_MODEL": "none"}

# ------------------------------------------------------------------------------------------
# Written fixtures
# ------------------------------------------------------------------------------------------

_HEADINGS = (
    "Definitions", "Scope", "Equality of treatment", "Export of benefits",
    "Totalisation of periods", "Applicable legislation", "Administrative assistance",
    "Recovery of overpayments", "Medical examinations", "Entry into force",
)  # fmt: skip
_SENTENCES = (
    "Each Party shall treat the insured persons of the other Party as its own nationals.",
    "Benefits shall be paid to beneficiaries who reside in the territory of the other Party.",
    "Periods completed under the legislation of both Parties shall be added together.",
    "A worker posted for less than two years remains subject to the legislation of origin.",
    "The competent institutions shall assist one another free of charge.",
    "Claims lodged with one Party shall be treated as lodged with the other Party.",
    "Personal data exchanged under this Agreement shall be protected by law.",
    "The liaison agencies shall agree on the forms needed to apply this Agreement.",
    "Disputes shall be settled by negotiation between the competent authorities.",
    "This Agreement enters into force on the first day of the third month after notification.",
)


def agreement_markdown(seed: int, articles: int = 8) -> str:
    """A small agreement in Markdown, different for every ``seed`` (our own sentences)."""
    rng = random.Random(seed)
    lines = [f"# Agreement on social security number {seed} between Aldoria and Belmark", ""]
    for n in range(1, articles + 1):
        lines += [f"## Article {n} — {rng.choice(_HEADINGS)}", ""]
        lines.append(" ".join(rng.sample(_SENTENCES, 3)) + f" (Reference {seed}-{n}.)")
        lines.append("")
    return "\n".join(lines)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: Sequence[Sequence[str]]) -> bytes:
    """A PDF with one text line per string on each page (Helvetica, Latin-1 text).

    Written object by object with its cross-reference table, so tests need no PDF library.
    """
    objects: list[bytes] = []
    n_pages = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, lines in enumerate(pages):
        ops = "BT /F1 11 Tf 14 TL 50 790 Td " + " ".join(
            f"({_pdf_escape(line)}) Tj T*" for line in lines
        )
        stream = (ops + " ET").encode("latin-1", "replace")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {5 + 2 * i} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def agreement_pdf(seed: int, articles: int = 6) -> bytes:
    """:func:`agreement_markdown` as a two-page PDF."""
    lines = [ln.lstrip("# ") for ln in agreement_markdown(seed, articles).splitlines() if ln]
    half = len(lines) // 2
    return pdf_bytes([lines[:half], lines[half:]])


def encrypted_pdf(data: bytes, user_password: str) -> bytes:
    """``data`` encrypted with pypdf (owner password "owner")."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def scanned_pdf(lines: Sequence[str]) -> bytes:
    """An image-only PDF (a "scan"): the lines drawn into a 150 dpi image, no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    for i, line in enumerate(lines):
        draw.text((100, 120 + 60 * i), line, fill=0, font=font)
    buf = io.BytesIO()
    image.save(buf, format="PDF", resolution=150.0)
    return buf.getvalue()


def agreement_docx(seed: int, articles: int = 6) -> bytes:
    """:func:`agreement_markdown` as a DOCX (heading styles for the title and articles)."""
    import docx

    document = docx.Document()
    for line in agreement_markdown(seed, articles).splitlines():
        if line.startswith("# "):
            document.add_heading(line[2:], level=1)
        elif line.startswith("## "):
            document.add_heading(line[3:], level=2)
        elif line:
            document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_with_body(template: bytes, write_body: Callable[[Any], None]) -> bytes:
    """``template`` (a DOCX) with ``word/document.xml`` replaced by what ``write_body``
    streams into the open zip member (so a 1 GB part never sits in memory)."""
    src = zipfile.ZipFile(io.BytesIO(template))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename == "word/document.xml":
                with out.open("word/document.xml", "w", force_zip64=True) as fh:
                    write_body(fh)
            else:
                out.writestr(info, src.read(info.filename))
    return buf.getvalue()


def _xml_document(body: bytes, prolog: bytes = b"") -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + prolog
        + f'<w:document xmlns:w="{_W_NS}"><w:body>'.encode()
        + body
        + b"</w:body></w:document>"
    )


def docx_bomb(template: bytes, megabytes: int, paragraphs: bool) -> bytes:
    """A DOCX whose document part decompresses to ``megabytes`` MiB of text, in one text node
    or in many paragraphs; a few hundred KB compressed per 100 MiB."""
    chunk_mb = b"A" * (1 << 20)

    def body(fh: Any) -> None:
        fh.write(_xml_document(b"")[: -len(b"</w:body></w:document>")])
        if paragraphs:
            para = b"<w:p><w:r><w:t>" + b"Article text " * 500 + b"</w:t></w:r></w:p>"
            for _ in range(megabytes * (1 << 20) // len(para)):
                fh.write(para)
        else:
            fh.write(b"<w:p><w:r><w:t>")
            for _ in range(megabytes):
                fh.write(chunk_mb)
            fh.write(b"</w:t></w:r></w:p>")
        fh.write(b"</w:body></w:document>")

    return docx_with_body(template, body)


def _entity_docx(template: bytes, prolog: bytes, text: bytes) -> bytes:
    xml = _xml_document(b"<w:p><w:r><w:t>" + text + b"</w:t></w:r></w:p>", prolog)
    return docx_with_body(template, lambda fh: fh.write(xml))


def billion_laughs_docx(template: bytes) -> bytes:
    """A DOCX whose document part declares nested entities expanding to 10**9 "lol"s."""
    ents = [b'<!ENTITY lol0 "lol">']
    for i in range(1, 10):
        ents.append(
            b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10)))
        )
    return _entity_docx(template, b"<!DOCTYPE w:document [" + b"".join(ents) + b"]>\n", b"&lol9;")


def external_entity_docx(template: bytes, target: Path) -> bytes:
    """A DOCX whose text pulls in ``target`` through an external entity (XXE)."""
    prolog = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file://%s">]>\n' % str(target).encode()
    return _entity_docx(template, prolog, b"Article 1 &xxe;")


def deep_html(depth: int) -> str:
    """An HTML page with ``depth`` nested ``div`` elements around one article."""
    return (
        "<html><body>" + "<div>" * depth + "Article 1 Text." + "</div>" * depth + "</body></html>"
    )


# ------------------------------------------------------------------------------------------
# Stores and their checks
# ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the block, restoring the previous values after."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def ingest_into(root: Path, paths: Sequence[Path]) -> list[Any]:
    """Ingest ``paths`` into the store at ``root`` with the real tagger and the hash embedder."""
    from migralex.corpus.store import Store
    from migralex.ingest.pipeline import ingest_paths
    from migralex.nlp.tagger import tag_clauses
    from migralex.ui.service import clause_passage, embedder_factory

    with environment(**_ENV), Store(root) as store:
        return ingest_paths(
            list(paths),
            store,
            tagger=tag_clauses,
            embedder=embedder_factory("hash"),
            passage=clause_passage,
        )


def doc_counts(root: Path) -> dict[str, tuple[int, int, int]]:
    """``{doc_id: (clauses, tags, main-set vectors)}`` of a store, read in one statement (a
    snapshot)."""
    con = sqlite3.connect(f"file:{root / 'migralex.sqlite'}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT d.doc_id,"
            " (SELECT count(*) FROM clauses c WHERE c.doc_id = d.doc_id),"
            " (SELECT count(*) FROM tags t JOIN clauses c ON c.clause_id = t.clause_id"
            "   WHERE c.doc_id = d.doc_id),"
            " (SELECT count(*) FROM vectors v JOIN clauses c ON c.rowid = v.rowid"
            "   WHERE c.doc_id = d.doc_id"
            "   AND v.model = (SELECT value FROM meta WHERE key = 'model'))"
            " FROM documents d"
        ).fetchall()
    finally:
        con.close()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def integrity_problems(root: Path) -> list[str]:
    """What ``PRAGMA integrity_check``, ``foreign_key_check`` and the FTS5 integrity check say
    is wrong with the store's database ([] when nothing)."""
    con = sqlite3.connect(root / "migralex.sqlite")
    try:
        problems = [r[0] for r in con.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key: {r}" for r in con.execute("PRAGMA foreign_key_check")]
        try:
            con.execute("INSERT INTO clauses_fts(clauses_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            problems.append(f"fts5: {exc}")
    finally:
        con.close()
    return problems


def faiss_problems(root: Path) -> list[str]:
    """Load the FAISS index as search does (rebuilding a stale or torn cache) and compare it
    with the vectors in SQLite; [] when it holds every vector and its cache is current."""
    from migralex.corpus.store import Store
    from migralex.index.vectors import MANIFEST_FILE, VectorIndex

    with Store(root) as store:
        count = store.count_vectors()
        if not count:
            return []
        ntotal = VectorIndex(store).index().ntotal
        manifest = json.loads((root / MANIFEST_FILE).read_text())
        out = []
        if ntotal != count:
            out.append(f"faiss holds {ntotal} vectors, sqlite {count}")
        if manifest.get("generation") != store.generation:
            out.append("faiss cache not rebuilt for the current generation")
        return out


def search_works(root: Path) -> bool:
    """True when hybrid and lexical search each return hits on the store."""
    from migralex.corpus.store import Store
    from migralex.ui import service

    with environment(**_ENV), Store(root) as store:
        searcher = service.searcher(store)
        return all(
            searcher.search("equality of treatment of nationals", 3, mode)
            for mode in ("hybrid", "lexical")
        )


# ------------------------------------------------------------------------------------------
# kill -9 mid-ingest
# ------------------------------------------------------------------------------------------


@dataclass
class CrashSetup:
    """The inputs of every crash run and what a clean ingest gives.

    Attributes:
        base: a store holding the first documents (copied for each run).
        inputs: the files each run ingests: the base's documents (one of them changed since,
            so it is replaced), and new ones.
        clean: ``doc_counts`` after a clean ingest of ``inputs`` into a copy of ``base``.
        old: ``doc_counts`` of ``base``.
        replaced: (old doc id, new doc id) of the changed document.
        seconds: how long the clean ingest took (for the "random" phase).
        writes: documents the clean ingest read, embedded and wrote (the others unchanged).
    """

    base: Path
    inputs: list[Path]
    clean: dict[str, tuple[int, int, int]]
    old: dict[str, tuple[int, int, int]]
    replaced: tuple[str, str]
    seconds: float
    writes: int


def crash_setup(work: Path, n_base: int = 3, n_new: int = 5) -> CrashSetup:
    """Write the documents, build the base store and the clean reference under ``work``."""
    docs = work / "docs"
    docs.mkdir(parents=True)
    inputs: list[Path] = []
    for i in range(n_base + n_new):
        if i % 3 == 2:
            path = docs / f"agreement-{i}.pdf"
            path.write_bytes(agreement_pdf(i))
        else:
            path = docs / f"agreement-{i}.md"
            path.write_text(agreement_markdown(i), encoding="utf-8")
        inputs.append(path)
    base = work / "base"
    ingest_into(base, inputs[:n_base])
    search_works(base)  # writes the FAISS cache, which the runs make stale
    old = doc_counts(base)
    changed = inputs[0]
    old_id = {r.path: r.doc_id for r in ingest_into(base, [changed])}[str(changed)]
    changed.write_text(agreement_markdown(1000, articles=9), encoding="utf-8")
    clean_root = work / "clean"
    shutil.copytree(base, clean_root)
    t0 = time.perf_counter()
    results = ingest_into(clean_root, inputs)
    seconds = time.perf_counter() - t0
    new_id = next(r.doc_id for r in results if r.path == str(changed))
    writes = sum(r.status != "unchanged" for r in results)
    return CrashSetup(base, inputs, doc_counts(clean_root), old, (old_id, new_id), seconds, writes)


def _arm(delay: float) -> None:
    """Kill this process with SIGKILL after ``delay`` seconds (0: now)."""
    if delay <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL))
    timer.daemon = True
    timer.start()


def _child(root: Path, inputs: Sequence[Path], phase: str, nth: int, delay: float) -> None:
    """In a forked child: install the kill hook of ``phase`` (at its ``nth`` call, after
    ``delay`` seconds), ingest, search (writes the FAISS cache), exit. Never returns."""
    try:
        from migralex.corpus.store import Store
        from migralex.index import vectors
        from migralex.ingest import pipeline

        calls = [0]

        def hook(fn: Callable[..., Any]) -> Callable[..., Any]:
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                calls[0] += 1
                if calls[0] == nth:
                    _arm(delay)
                return fn(*args, **kwargs)

            return wrapped

        if phase == "read":
            pipeline.read_file = hook(pipeline.read_file)
        elif phase == "commit" and nth % 2:
            Store.write_document = hook(Store.write_document)
        elif phase == "commit":
            # inside the transaction, just before COMMIT: a kill lands in or around the commit
            bump = Store._bump_generation.__func__
            Store._bump_generation = classmethod(hook(bump))
        elif phase == "faiss":
            vectors.atomic_write_bytes = hook(vectors.atomic_write_bytes)
        elif phase == "embed":
            from migralex.index.embedders import HashEmbedder

            HashEmbedder.embed_passages = hook(HashEmbedder.embed_passages)
        elif phase == "random":
            _arm(delay)
        ingest_into(root, inputs)
        search_works(root)
    finally:
        os._exit(0)


@dataclass
class CrashTally:
    """Outcome of the kill runs (see :func:`crash_runs`)."""

    runs: int = 0
    killed: int = 0
    survived: int = 0
    corrupted: int = 0
    partial: int = 0
    rerun_ok: int = 0
    by_phase: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def check_after_crash(root: Path, setup: CrashSetup) -> tuple[list[str], list[str]]:
    """Check a store after a killed ingest.

    Returns:
        (corruption problems, partial-document problems); both empty when the store is sound.
    """
    corrupt = integrity_problems(root)
    partial: list[str] = []
    counts = doc_counts(root)
    old_id, new_id = setup.replaced
    for doc_id, got in counts.items():
        want = {c for c in (setup.clean.get(doc_id), setup.old.get(doc_id)) if c is not None}
        if got not in want:
            partial.append(f"{doc_id}: {got}, complete would be {sorted(want)}")
    if (old_id in counts) == (new_id in counts):
        partial.append(f"replaced document: old {old_id in counts}, new {new_id in counts}")
    for doc_id in setup.old:
        if doc_id != old_id and doc_id not in counts:
            corrupt.append(f"{doc_id} was in the store before and is gone")
    corrupt += faiss_problems(root)
    return corrupt, partial


def crash_runs(
    setup: CrashSetup, work: Path, runs: int, seed: int = 19, max_attempts: int | None = None
) -> CrashTally:
    """Kill ``runs`` ingests (phases in turn, random call and delay) and check each store.

    A run whose child finished before its kill landed is not counted; attempts stop at
    ``max_attempts`` (default ``3 * runs``).
    """
    rng = random.Random(seed)
    tally = CrashTally()
    n_calls = {"read": setup.writes, "embed": setup.writes, "commit": setup.writes, "faiss": 2}
    attempts = 0
    while tally.killed < runs and attempts < (max_attempts or 3 * runs):
        phase = PHASES[tally.killed % len(PHASES)]  # a phase whose kill missed goes again
        attempts += 1
        root = work / f"run-{attempts}"
        shutil.copytree(setup.base, root)
        if phase == "random":
            nth, delay = 0, rng.uniform(0, setup.seconds)
        else:
            nth = rng.randint(1, n_calls[phase])
            delay = rng.choice((0.0, rng.uniform(0, 0.003 if phase == "commit" else 0.05)))
        pid = os.fork()
        if pid == 0:
            _child(root, setup.inputs, phase, nth, delay)
        _, status = os.waitpid(pid, 0)
        tally.runs += 1
        if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL):
            shutil.rmtree(root, ignore_errors=True)
            continue
        tally.killed += 1
        tally.by_phase[phase] = tally.by_phase.get(phase, 0) + 1
        corrupt, partial = check_after_crash(root, setup)
        tally.corrupted += bool(corrupt)
        tally.partial += bool(partial)
        tally.survived += not corrupt and not partial
        for p in corrupt + partial:
            tally.failures.append(f"{phase} call {nth} +{delay:.3f}s: {p}")
        ingest_into(root, setup.inputs)
        if doc_counts(root) == setup.clean and not integrity_problems(root) and search_works(root):
            tally.rerun_ok += 1
        else:
            tally.failures.append(f"{phase} call {nth}: re-run does not give the clean totals")
        shutil.rmtree(root, ignore_errors=True)
    return tally


# ------------------------------------------------------------------------------------------
# Writers and readers
# ------------------------------------------------------------------------------------------


@dataclass
class RaceTally:
    """Outcome of :func:`writer_races` and :func:`reads_during_writes`."""

    races: int = 0
    refused_clearly: int = 0
    sequential: int = 0
    bad: int = 0
    reads: int = 0
    searches: int = 0
    half_seen: int = 0
    reader_errors: int = 0
    failures: list[str] = field(default_factory=list)


LOCKED_MESSAGE = "another migralex process is writing to this store"


def _race_child(root: Path, inputs: Sequence[Path], go: int, report: Path) -> None:
    try:
        os.read(go, 1)
        try:
            ingest_into(root, inputs)
            report.write_text("ok")
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            report.write_text(f"error: {exc}")
    finally:
        os._exit(0)


def writer_races(setup: CrashSetup, work: Path, races: int) -> RaceTally:
    """Start two ingests of different files on one store at the same moment, ``races`` times.

    Good: one refused with :data:`LOCKED_MESSAGE` (or both ran, one after the other), the
    store then sound and holding complete documents only.
    """
    tally = RaceTally()
    half = len(setup.inputs) // 2
    groups = (setup.inputs[:half], setup.inputs[half:])
    for i in range(races):
        root = work / f"race-{i}"
        shutil.copytree(setup.base, root)
        read_end, write_end = os.pipe()
        pids, reports = [], []
        for j, group in enumerate(groups):
            report = work / f"race-{i}-{j}.txt"
            reports.append(report)
            pid = os.fork()
            if pid == 0:
                os.close(write_end)
                _race_child(root, group, read_end, report)
            pids.append(pid)
        os.write(write_end, b"gg")
        for pid in pids:
            os.waitpid(pid, 0)
        os.close(read_end)
        os.close(write_end)
        outcomes = [r.read_text() if r.exists() else "no report" for r in reports]
        tally.races += 1
        corrupt, partial = check_after_crash(root, setup)
        if outcomes == ["ok", "ok"]:
            tally.sequential += 1
        elif sorted(o == "ok" for o in outcomes) == [False, True] and all(
            o == "ok" or LOCKED_MESSAGE in o for o in outcomes
        ):
            tally.refused_clearly += 1
        else:
            tally.bad += 1
            tally.failures.append(f"race {i}: {outcomes}")
        if corrupt or partial:
            tally.bad += 1
            tally.failures.append(f"race {i}: {corrupt + partial}")
        shutil.rmtree(root, ignore_errors=True)
    return tally


def reads_during_writes(
    setup: CrashSetup, work: Path, tally: RaceTally, rounds: int = 1
) -> RaceTally:
    """Read snapshots and search the store (as the CLI and the app do) while a forked child
    ingests into it, ``rounds`` times; count reads that see a document with part of its
    clauses, tags or vectors, search hits of such a document, and searches that fail."""
    for i in range(rounds):
        _reads_during_one_write(setup, work / f"readers-{i}", tally)
    return tally


def _reads_during_one_write(setup: CrashSetup, root: Path, tally: RaceTally) -> None:
    from migralex.corpus.store import Store
    from migralex.ui import service

    shutil.copytree(setup.base, root)
    pid = os.fork()
    if pid == 0:
        try:
            ingest_into(root, setup.inputs)
        finally:
            os._exit(0)
    complete = {**setup.old, **setup.clean}
    with environment(**_ENV), Store(root) as store:
        searcher = service.searcher(store)
        while True:
            done, _ = os.waitpid(pid, os.WNOHANG)
            counts = doc_counts(root)
            tally.reads += 1
            for doc_id, got in counts.items():
                if complete.get(doc_id) != got and setup.old.get(doc_id) != got:
                    tally.half_seen += 1
                    tally.failures.append(f"read saw {doc_id} with {got}")
            try:
                hits = searcher.search("benefits paid to beneficiaries abroad", 5, "hybrid")
            except Exception as exc:  # noqa: BLE001 - a reader failing during a write is a fault
                tally.reader_errors += 1
                tally.failures.append(f"search during a write: {type(exc).__name__}: {exc}")
                hits = []
            for hit in hits:
                tally.searches += 1
                doc_id = hit.clause.doc_id
                n = store.count_clauses(doc_id)
                # 0: the hit's document was replaced after the search answered
                gone = 0 if doc_id == setup.replaced[0] else -1
                if n not in {complete.get(doc_id, (0,))[0], setup.old.get(doc_id, (0,))[0], gone}:
                    tally.half_seen += 1
                    tally.failures.append(f"search hit of {doc_id} with {n} clauses")
            if done:
                break
    shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------------------------------
# Bad inputs
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadInput:
    """One hostile, broken or odd input and what must happen to it.

    Attributes:
        name: short name for the table.
        make: writes the input into a folder and returns the path to ingest (a file, a folder
            or a manifest's folder).
        expect: "refused" (exit 1, a plain-words error line naming ``culprit``) or "read".
        hint: words the reason must contain (lower case), "" for any plain reason.
        tag: also run ``migralex tag`` on it (a file) and expect the same refusal.
        checklist: also run ``migralex checklist`` on it.
        full_only: too slow for the test suite's subset.
        absent: text that must not be in what is stored of an input that is read (a script's
            code, an external entity's target).
    """

    name: str
    make: Callable[[Path], Path]
    expect: str = "refused"
    hint: str = ""
    tag: bool = True
    checklist: bool = False
    full_only: bool = False
    absent: str = ""


def _writer(filename: str, content: Callable[[], bytes]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / filename
        path.write_bytes(content())
        return path

    return make


def _symlink_loop(folder: Path) -> Path:
    path = folder / "loop.md"
    path.symlink_to(path)
    return path


def _folder_loop(folder: Path) -> Path:
    root = folder / "looping-folder"
    root.mkdir()
    (root / "agreement.md").write_text(agreement_markdown(71), encoding="utf-8")
    (root / "again").symlink_to(root, target_is_directory=True)
    return root


def _manifest_folder(rows: list[dict[str, str]], columns: Sequence[str]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        root = folder / "with-manifest"
        root.mkdir()
        for i in range(2):
            (root / f"m{i}.md").write_text(agreement_markdown(80 + i), encoding="utf-8")
        (folder / "outside.md").write_text(agreement_markdown(89), encoding="utf-8")
        with (root / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return root

    return make


def _md(seed: int) -> Callable[[], bytes]:
    return lambda: agreement_markdown(seed).encode("utf-8")


def bad_inputs(
    bomb_mb: int = 1024, html_mb: int = 50, many_pages: int = 2000, text_chars: int = 6_400_000
) -> list[BadInput]:
    """The bad-input table of issue #19.

    Args:
        bomb_mb: MiB a DOCX zip bomb decompresses to (1 GiB in the benchmark).
        html_mb: MiB of the oversized HTML file.
        many_pages: pages of the long PDF.
        text_chars: characters of the text over the character limit.
    """
    template = agreement_docx(1)
    good_pdf = agreement_pdf(2)
    rows_ok = [
        {"id": "m0", "kind": "ssa", "path": "m0.md"},
        {"id": "m1", "kind": "ssa", "path": "m1.md"},
    ]
    cols = ("id", "kind", "language", "title", "path")
    return [
        BadInput("zero-byte PDF", _writer("empty.pdf", lambda: b""), hint="empty"),
        BadInput("header-only PDF", _writer("header.pdf", lambda: b"%PDF-1.7\n"), hint="pdf"),
        BadInput("truncated PDF", _writer("truncated.pdf", lambda: good_pdf[: len(good_pdf) // 2]), hint="truncated"),
        BadInput("garbage PDF", _writer("garbage.pdf", lambda: random.Random(3).randbytes(5000)), hint="pdf"),
        BadInput("PDF, real password", _writer("locked.pdf", lambda: encrypted_pdf(good_pdf, "secret")), hint="password"),
        BadInput("PDF, empty user password", _writer("open-encrypted.pdf", lambda: encrypted_pdf(good_pdf, "")), expect="read"),
        BadInput(
            "image-only PDF (scan)",
            _writer("scan.pdf", lambda: scanned_pdf(["Article 1", "Equality of treatment", "Each Party shall treat nationals alike."])),
            expect="read" if shutil.which("tesseract") else "refused",
            hint="" if shutil.which("tesseract") else "tesseract",
            full_only=True,
        ),
        BadInput(
            f"{many_pages:,}-page PDF",
            _writer("long.pdf", lambda: pdf_bytes([[f"Article {i}", "Some text."] for i in range(1, many_pages + 1)])),
            hint="pages",
        ),
        BadInput("DOCX that is no zip", _writer("fake.docx", lambda: b"PK\x03\x04 this is not a zip"), hint="zip"),
        BadInput("DOCX zip bomb, one node", _writer("bomb-node.docx", lambda: docx_bomb(template, bomb_mb, False)), hint="decompress", checklist=True, full_only=bomb_mb > 200),
        BadInput("DOCX zip bomb, paragraphs", _writer("bomb-paras.docx", lambda: docx_bomb(template, bomb_mb, True)), hint="decompress", full_only=bomb_mb > 200),
        BadInput("DOCX billion laughs", _writer("laughs.docx", lambda: billion_laughs_docx(template)), hint="entities", checklist=True),
        BadInput("DOCX external entity", _writer("xxe.docx", lambda: external_entity_docx(template, Path("/etc/hostname"))), hint="entities"),
        BadInput("HTML, scripts only", _writer("scripts.html", lambda: b"<html><script>document.write('Article 1');</script><style>p{}</style></html>"), hint="no text"),
        BadInput(
            "HTML with scripts and text",
            _writer("script-and-text.html", lambda: b"<html><body><script>alert('x')</script><h2>Article 1</h2><p>Each Party shall pay benefits.</p></body></html>"),
            expect="read",
            absent="alert(",
        ),
        BadInput("HTML nested 100,000 deep", _writer("deep.html", lambda: deep_html(100_000).encode()), hint="nested", checklist=True),
        BadInput(f"HTML of {html_mb} MB", _writer("huge.html", lambda: b"<p>" + b"Article text. " * (html_mb * (1 << 20) // 14) + b"</p>"), hint="limit"),
        BadInput("text, UTF-16 with BOM", _writer("utf16.txt", lambda: agreement_markdown(5).encode("utf-16")), expect="read"),
        BadInput("text, invalid UTF-8", _writer("invalid.txt", lambda: b"Article 1 \xff\xfe\x81\x8d\x8f\x90\x9d broken"), hint="encoding"),
        BadInput("text with NUL bytes", _writer("nul.txt", lambda: b"Article 1\x00\x00\x00 text"), hint="binary"),
        BadInput("text, one 200,000-character line", _writer("long-line.txt", lambda: ("Article 1 " + "word " * 40_000).encode()), expect="read"),
        BadInput("text over the character limit", _writer("too-long.txt", lambda: ("Article 1 text. " * (text_chars // 16)).encode()), hint="characters"),
        BadInput("unknown format", _writer("program.exe", lambda: b"MZ\x90\x00"), hint="unknown format"),
        BadInput("name with spaces", _writer("draft agreement v2.md", _md(61)), expect="read"),
        BadInput("name with unicode", _writer("accord-sécurité-日本.md", _md(62)), expect="read"),
        BadInput("name with a newline", _writer("two\nlines.md", _md(63)), expect="read"),
        BadInput("bad file, name with a newline", _writer("bad\nname.pdf", lambda: b"not a pdf"), hint="pdf"),
        BadInput("symlink loop", _symlink_loop, hint="link", tag=True),
        BadInput("folder with a symlink loop", _folder_loop, expect="read", tag=False),
        BadInput("manifest missing a column", _manifest_folder(rows_ok, ("id", "kind", "title")), hint="column", tag=False),
        BadInput(
            "manifest, unknown kind",
            _manifest_folder([{**rows_ok[0], "kind": "treaty"}, rows_ok[1]], cols),
            hint="unknown kind",
            tag=False,
        ),
        BadInput("manifest, duplicate ids", _manifest_folder([rows_ok[0], {**rows_ok[1], "id": "m0"}], cols), hint="id", tag=False),
        BadInput(
            "manifest, path outside the folder",
            _manifest_folder([*rows_ok, {"id": "out", "kind": "ssa", "path": "../outside.md"}], cols),
            hint="outside",
            tag=False,
        ),
    ]  # fmt: skip


_NOT_PLAIN = re.compile(
    r"Traceback|\bErrno\b|\b[A-Z][a-zA-Z]*(?:Error|Exception)\b|<[a-z_.]+ object at 0x|\bline \d+, in\b"
)


def error_lines(stderr: str) -> list[str]:
    """The ``migralex: error:`` lines of a command's standard error."""
    return [ln for ln in stderr.splitlines() if ln.startswith("migralex: error: ")]


def plain(line: str) -> bool:
    """True when an error line names no exception class, errno or traceback."""
    return not _NOT_PLAIN.search(line)


@dataclass
class BadOutcome:
    """What happened to one bad input."""

    name: str
    expect: str
    ok: bool = False
    refused_with_reason: bool = False
    store_unchanged: bool = False
    others_ingested: bool = False
    commands_plain: bool = True
    detail: str = ""


def _stored_documents(root: Path) -> list[Any]:
    from migralex.corpus.store import Store

    with Store(root) as store:
        return store.documents()


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    return doc_counts(root)


def _cli(args: list[str]) -> Any:
    from typer.testing import CliRunner

    from migralex.ui.cli import app

    with environment(**_ENV):
        return CliRunner().invoke(app, args)


def _absent_not_stored(bad: BadInput, root: Path, added: Collection[str]) -> bool:
    """False when the documents the input added to the store at ``root`` hold ``bad.absent``
    (a text the reader must drop), or when it added none; True without ``bad.absent``."""
    if not bad.absent:
        return True
    texts = [d.text for d in _stored_documents(root) if d.doc_id in added]
    return bool(texts) and not any(bad.absent in t for t in texts)


def _other_commands_plain(bad: BadInput, target: Path, root: Path) -> bool:
    """``migralex tag`` and ``migralex checklist`` on the bad input (where it applies) exit 1
    with one plain error line."""
    ok = True
    if bad.tag and Path(target).suffix:
        tag = _cli(["tag", str(target)])
        tag_lines = error_lines(tag.stderr)
        ok &= tag.exit_code == 1 and len(tag_lines) == 1 and plain(tag_lines[0])
    if bad.checklist:
        chk = _cli(["checklist", str(target), "--checklist", "ssa", "--store", str(root)])
        chk_lines = error_lines(chk.stderr)
        ok &= chk.exit_code == 1 and len(chk_lines) == 1 and plain(chk_lines[0])
    return ok


def try_bad_input(bad: BadInput, base: Path, work: Path) -> BadOutcome:
    """Ingest ``bad`` with a good file into a copy of ``base`` through the CLI and check it."""
    folder = work / re.sub(r"\W+", "-", bad.name)
    folder.mkdir(parents=True)
    target = bad.make(folder)
    good = folder / "good-companion.md"
    good.write_text(agreement_markdown(99), encoding="utf-8")
    root = folder / "store"
    shutil.copytree(base, root)
    before = _snapshot(root)
    out = BadOutcome(bad.name, bad.expect)
    args = ["ingest", str(target), str(good), "--store", str(root), "--json"]
    if (target / "manifest.csv").is_file():
        args += ["--manifest", str(target / "manifest.csv")]
    result = _cli(args)
    after = _snapshot(root)
    added = {k: v for k, v in after.items() if k not in before}
    kept = all(after.get(k) == v for k, v in before.items())
    try:
        data = json.loads(result.stdout)
        docs = data["documents"]
    except (ValueError, KeyError):
        data, docs = None, []
    good_added = any(d["path"] == str(good) and d["status"] == "added" for d in docs)
    lines = error_lines(result.stderr)
    manifest_level = bad.name.startswith("manifest") and data is None
    if bad.expect == "read":
        out.ok = result.exit_code == 0 and good_added and kept and not lines
        out.ok &= _absent_not_stored(bad, root, added)
        out.store_unchanged = kept
        out.others_ingested = good_added
        out.refused_with_reason = True
        if not out.ok:
            out.detail = f"exit {result.exit_code}; {result.stderr.strip()[:300]}"
        return out
    failed = [d for d in docs if d["status"] == "failed"]
    hint_ok = all(bad.hint in ln.lower() for ln in lines) if bad.hint else True
    shown = str(target).replace("\n", "\\n")
    names_it = any(
        shown in ln or "manifest.csv" in ln or "outside.md" in ln or "m1.md" in ln for ln in lines
    )
    out.refused_with_reason = (
        bool(lines) and all(plain(ln) for ln in lines) and hint_ok and names_it
    )
    good_paths = {str(good)}
    new_from_bad = {k for k, v in added.items()}
    # The good file (and good manifest rows) may be added; nothing of the bad input.
    bad_stored = any(
        d["status"] != "failed"
        and d["path"] not in good_paths
        and not bad.name.startswith("manifest")
        for d in docs
    )
    out.store_unchanged = kept and not bad_stored
    out.others_ingested = good_added or manifest_level
    if bad.name.startswith("manifest, duplicate") or bad.name.startswith("manifest, path"):
        out.others_ingested = good_added and len(new_from_bad) >= 2
    out.commands_plain &= _other_commands_plain(bad, target, root)
    out.ok = (
        result.exit_code == 1
        and out.refused_with_reason
        and out.store_unchanged
        and out.others_ingested
        and out.commands_plain
        and (bool(failed) or manifest_level)
    )
    if not out.ok:
        out.detail = f"exit {result.exit_code}; {' | '.join(lines)[:300] or result.stderr[-300:]}"
    shutil.rmtree(folder, ignore_errors=True)
    return out


# ------------------------------------------------------------------------------------------
# Fuzzing
# ------------------------------------------------------------------------------------------


class _Hang(Exception):
    pass


@contextlib.contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    """Raise :class:`_Hang` in the block after ``seconds`` (SIGALRM; main thread only)."""

    def on_alarm(signum: int, frame: object) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class FuzzTally:
    """Outcome of one fuzz target."""

    target: str
    inputs: int = 0
    refused: int = 0
    crashes: int = 0
    hangs: int = 0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)


def _run_target(
    name: str,
    strategy: Any,
    check: Callable[[Any], None],
    n: int,
    allowed: tuple[type[BaseException], ...],
) -> FuzzTally:
    """Feed ``n`` inputs drawn from ``strategy`` to ``check``; exceptions of ``allowed`` types
    are refusals, any other a crash, more than :data:`FUZZ_TIME_BOUND` s a hang."""
    from hypothesis import HealthCheck, Phase, given, settings

    tally = FuzzTally(name)
    t0 = time.perf_counter()

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: Any) -> None:
        tally.inputs += 1
        try:
            with time_bound(FUZZ_TIME_BOUND):
                check(value)
        except _Hang:
            tally.hangs += 1
            tally.examples.append(f"hang: {value!r}"[:300])
        except allowed:
            tally.refused += 1
        except RecursionError as exc:
            tally.crashes += 1
            tally.examples.append(f"{type(exc).__name__}: {value!r}"[:300])
        except Exception as exc:  # noqa: BLE001 - counted, the run goes on
            tally.crashes += 1
            tally.examples.append(f"{type(exc).__name__}: {exc}; {value!r}"[:300])

    run()
    tally.seconds = time.perf_counter() - t0
    return tally


def _mutations(data: bytes) -> Any:
    """A strategy of byte strings made from ``data`` by cutting, flipping, inserting and
    splicing (mutation fuzzing, as AFL does)."""
    from hypothesis import strategies as st

    n = len(data)

    @st.composite
    def mutate(draw: Any) -> bytes:
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            op = draw(st.sampled_from(("flip", "insert", "delete", "cut", "dup")))
            if not out:
                break
            i = draw(st.integers(0, len(out) - 1))
            if op == "flip":
                out[i] = draw(st.integers(0, 255))
            elif op == "insert":
                out[i:i] = draw(st.binary(min_size=1, max_size=64))
            elif op == "delete":
                del out[i : i + draw(st.integers(1, 256))]
            elif op == "cut":
                del out[i:]
            else:
                j = draw(st.integers(0, n - 1))
                out[i:i] = data[j : j + draw(st.integers(1, 512))]
        return bytes(out)

    return mutate()


def _docx_inputs(docx_template: bytes) -> Any:
    """The DOCX fuzz strategy: well-formed bodies of styled paragraphs, runs and tables, tag
    soup, and byte mutations of a real DOCX (broken zips)."""
    from xml.sax.saxutils import escape, quoteattr

    from hypothesis import strategies as st

    def docx_xml(parts: list[str]) -> bytes:
        xml = "".join(parts).encode("utf-8", "surrogatepass")
        return docx_with_body(docx_template, lambda fh: fh.write(_xml_document(xml)))

    w_bits = st.sampled_from(
        ["<w:p>", "</w:p>", "<w:r>", "</w:r>", "<w:t>", "</w:t>", "Article 1", "<w:br w:type=\"page\"/>",
         "<w:tbl><w:tr><w:tc>", "</w:tc></w:tr></w:tbl>", "<w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr>",
         "&amp;", "<", "é", " ", "<w:sectPr/>", "<w:lastRenderedPageBreak/>"]
    )  # fmt: skip
    xml_text = st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]) | st.sampled_from("\t\n"),
        max_size=60,
    ).map(escape)
    run = st.tuples(xml_text, st.booleans(), st.booleans()).map(
        lambda r: (
            "<w:r>"
            + ('<w:br w:type="page"/>' if r[1] else "")
            + ("<w:lastRenderedPageBreak/>" if r[2] else "")
            + f'<w:t xml:space="preserve">{r[0]}</w:t></w:r>'
        )
    )
    style = st.sampled_from(["", "Heading1", "Heading2", "Title", "Titre1", "Normal", "x" * 300])
    paragraph = st.tuples(style, st.lists(run, max_size=5)).map(
        lambda p: (
            "<w:p>"
            + (f"<w:pPr><w:pStyle w:val={quoteattr(p[0])}/></w:pPr>" if p[0] else "")
            + "".join(p[1])
            + "</w:p>"
        )
    )
    table = st.lists(
        st.lists(st.lists(paragraph, min_size=1, max_size=2), max_size=4), max_size=4
    ).map(
        lambda rows: (
            "<w:tbl>"
            + "".join(
                "<w:tr>" + "".join(f"<w:tc>{''.join(c)}</w:tc>" for c in r) + "</w:tr>"
                for r in rows
            )
            + "</w:tbl>"
        )
    )
    docx_inputs = st.one_of(
        st.lists(paragraph | table, max_size=12).map(docx_xml),  # well-formed bodies
        st.lists(w_bits, max_size=40).map(docx_xml),  # tag soup
        _mutations(docx_template),  # broken zips
    )
    return docx_inputs


def fuzz_targets(
    folder: Path, store: Path | None
) -> dict[str, tuple[Any, Callable[[Any], None], tuple[type[BaseException], ...]]]:
    """Fuzz targets: ``{name: (strategy, check, allowed exception types)}``.

    Args:
        folder: where inputs are written as files for the readers.
        store: a store for the search target (None: no search target).
    """
    from hypothesis import strategies as st

    from migralex.corpus.errors import MigralexError, ReadError
    from migralex.ingest.base import ParsedText, TextBuilder, read_file
    from migralex.ingest.segment import segment

    def reader(suffix: str) -> Callable[[bytes], None]:
        path = folder / f"fuzz{suffix}"

        def check(data: bytes) -> None:
            path.write_bytes(data)
            parsed = read_file(path)
            assert all(parsed.block_text(b) for b in parsed.blocks)

        return check

    markup = st.sampled_from(
        ["<p>", "</p>", "<div>", "</div>", "<h1>", "</h2>", "<table><tr><td>", "</td>", "<script>",
         "<!--", "-->", "<![CDATA[", "&amp;", "&#0;", "&#xD800;", "<br/>", "<li>", "Article 1",
         "ARTICLE IV", "\x00", "\n", " ", "é", "<?xml ?>", "<!DOCTYPE html>", "<", ">", "&"]
    )  # fmt: skip
    md_bits = st.sampled_from(
        ["#", "## Article 1", "###Annex", "> ", "- ", "1. ", "|", "---", "```", "`", "*", "_",
         "[", "](", ")", "<div>", "\n", "\n\n", " ", "Article 2", "\t", "\\", "![", "&#0;"]
    )  # fmt: skip
    text_chars = st.text(st.characters(codec="utf-8"), max_size=400)
    texts = st.one_of(
        text_chars.map(lambda s: s.encode("utf-8")),
        text_chars.map(lambda s: s.encode("utf-16")),
        st.binary(max_size=400),
    )
    pdf_template = agreement_pdf(7)
    docx_template = agreement_docx(7)

    docx_inputs = _docx_inputs(docx_template)

    line = st.one_of(
        st.sampled_from(
            ["Article 1", "ARTICLE IV", "Art. 3", "Article 1er", "Artículo 2", "Part II", "Chapter 3",
             "Section 4", "1.", "(a)", "Annex", "Schedule 1", "Protocol", "IN WITNESS WHEREOF",
             "Paragraphe 1er", "12 (1)", "7.1", "Preamble", "Definitions", ""]
        ),
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80),
    )  # fmt: skip

    def check_segment(value: tuple[list[tuple[str, int]], str, str]) -> None:
        lines, language, kind = value
        builder = TextBuilder()
        for text, level in lines:
            if text == "\f":
                builder.new_page()
            else:
                builder.add(text, level)
        parsed: ParsedText = builder.build(paged=True)
        seg = segment(parsed, "fuzz", language, kind)
        ids = [c.clause_id for c in seg.clauses]
        assert len(ids) == len(set(ids)), "clause ids not unique"
        for c in seg.clauses:
            assert parsed.text[c.start : c.end] == c.text, f"offsets of {c.label}"
            assert 1 <= c.page_start <= c.page_end <= parsed.pages, f"pages of {c.label}"

    targets: dict[str, tuple[Any, Callable[[Any], None], tuple[type[BaseException], ...]]] = {
        "text reader": (texts, reader(".txt"), (ReadError,)),
        "markdown reader": (
            st.lists(md_bits | text_chars, max_size=30).map(lambda p: "".join(p).encode("utf-8", "surrogatepass")),
            reader(".md"),
            (ReadError,),
        ),
        "html reader": (
            st.lists(markup | text_chars, max_size=40).map(lambda p: "".join(p).encode("utf-8", "surrogatepass")),
            reader(".html"),
            (ReadError,),
        ),
        "pdf reader": (_mutations(pdf_template), reader(".pdf"), (ReadError,)),
        "docx reader": (docx_inputs, reader(".docx"), (ReadError,)),
        "segmenter": (
            st.tuples(
                st.lists(st.tuples(st.one_of(line, st.just("\f")), st.integers(0, 3)), max_size=40),
                st.sampled_from(["en", "fr", "es", "nl", "de", "xx"]),
                st.sampled_from(["ssa", "bla", "law", "regulation", "other"]),
            ),
            check_segment,
            (),
        ),
    }  # fmt: skip
    if store is not None:
        from migralex.corpus.store import Store
        from migralex.ui import service

        opened = Store(store)
        searcher = service.searcher(opened)
        query_bits = st.sampled_from(
            ['"', "NEAR(", ")", "*", "AND", "OR", "NOT", "-", "^", ":", "label:", "{", "}", "(",
             "'", "equality", "benefits", "export", "NEAR(a b, 2)", " ", "\x00", "é", "\\", "+"]
        )  # fmt: skip
        queries = st.one_of(
            st.lists(query_bits | st.text(max_size=20), max_size=20).map("".join),
            st.text(max_size=50),
            st.integers(1000, 20000).map(lambda n: "benefit " * n),
            st.just(""),
        )

        def check_search(value: tuple[str, int, str]) -> None:
            query, k, mode = value
            hits = searcher.search(query, k, mode)
            assert len(hits) <= max(k, 0)
            assert [h.rank for h in hits] == list(range(1, len(hits) + 1))

        targets["search query"] = (
            st.tuples(
                queries,
                st.one_of(st.integers(-5, 12), st.just(10**9), st.just(2**63)),
                st.sampled_from(["hybrid", "semantic", "lexical", "fuzzy"]),
            ),
            check_search,
            (MigralexError,),
        )
    return targets


def fuzz(work: Path, store: Path | None, n: int) -> list[FuzzTally]:
    """Run every fuzz target with ``n`` inputs."""
    folder = work / "fuzz"
    folder.mkdir(parents=True, exist_ok=True)
    with environment(**_ENV):
        return [
            _run_target(name, strategy, check, n, allowed)
            for name, (strategy, check, allowed) in fuzz_targets(folder, store).items()
        ]


# ------------------------------------------------------------------------------------------
# The table
# ------------------------------------------------------------------------------------------


def _print_crashes(crash: CrashTally, seconds: float) -> None:
    """The table of the kill -9 runs."""
    print("\n## Crashes: kill -9 mid-ingest")
    print("| runs | killed | survived | corrupted | partial | re-run = clean totals | by phase |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    phases = ", ".join(f"{k} {v}" for k, v in sorted(crash.by_phase.items()))
    print(
        f"| {crash.runs} | {crash.killed} | {crash.survived} | {crash.corrupted} | {crash.partial} | {crash.rerun_ok} | {phases} |"
    )
    print(f"({seconds:.0f} s with the races below)")


def _print_races(races: RaceTally) -> None:
    """The table of the writer races and the reads during writes."""
    print("\n## Writers and readers")
    print(
        "| writer races | one refused clearly | ran one after the other | bad | reads during writes"
        " | search hits checked | half a document seen | search errors |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {races.races} | {races.refused_clearly} | {races.sequential} | {races.bad} |"
        f" {races.reads} | {races.searches} | {races.half_seen} | {races.reader_errors} |"
    )


def _print_bad_inputs(outcomes: Sequence[BadOutcome], seconds: float) -> None:
    """The table of the bad inputs and its totals."""
    print("\n## Bad inputs")
    print(
        "| input | expected | as expected | refused with a reason | store unchanged | others ingested | tag/checklist plain |"
    )
    print("|---|---|---|---|---|---|---|")
    for o in outcomes:
        yes = {True: "yes", False: "NO"}
        print(
            f"| {o.name} | {o.expect} | {yes[o.ok]} | {yes[o.refused_with_reason]} | {yes[o.store_unchanged]} | {yes[o.others_ingested]} | {yes[o.commands_plain]} |"
        )
    refused = [o for o in outcomes if o.expect == "refused"]
    print(
        f"\nbad inputs tried {len(outcomes)} ({len(refused)} to refuse, {len(outcomes) - len(refused)} to read): "
        f"as expected {sum(o.ok for o in outcomes)}, refused with a reason "
        f"{sum(o.refused_with_reason for o in refused)}/{len(refused)}, store unchanged "
        f"{sum(o.store_unchanged for o in outcomes)}/{len(outcomes)} ({seconds:.0f} s)"
    )


def _print_fuzzing(fuzzed: Sequence[FuzzTally]) -> None:
    """The table of the fuzz targets and its totals."""
    print("\n## Fuzzing (hypothesis)")
    print(f"| target | inputs | refused | crashes | hangs (> {FUZZ_TIME_BOUND:g} s) | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for f in fuzzed:
        print(
            f"| {f.target} | {f.inputs} | {f.refused} | {f.crashes} | {f.hangs} | {f.seconds:.0f} |"
        )
    print(
        f"| total | {sum(f.inputs for f in fuzzed)} | {sum(f.refused for f in fuzzed)} | "
        f"{sum(f.crashes for f in fuzzed)} | {sum(f.hangs for f in fuzzed)} | |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; exit 1 when any check fails."""
    parser = argparse.ArgumentParser(prog="python -m migralex.evaluation.robustness")
    parser.add_argument("--runs", type=int, default=100, help="kill -9 runs (default 100)")
    parser.add_argument("--races", type=int, default=10, help="two-writer races (default 10)")
    parser.add_argument("--fuzz", type=int, default=10_000, help="inputs per fuzz target")
    parser.add_argument("--bomb-mb", type=int, default=1024, help="MiB of the DOCX zip bombs")
    parser.add_argument("--quick", action="store_true", help="10 runs, 2 races, 200 fuzz inputs")
    parser.add_argument("--verbose", action="store_true", help="print every failure")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.races, args.fuzz, args.bomb_mb = 10, 2, 200, 120
    from migralex.nlp.tagger import tag_clauses

    tag_clauses([], "en")  # load spaCy before forking
    ok = True
    with tempfile.TemporaryDirectory(prefix="migralex-robust-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        setup = crash_setup(work / "setup")
        crash = crash_runs(setup, work, args.runs)
        races = writer_races(setup, work, args.races)
        races = reads_during_writes(setup, work, races, rounds=args.races)
        t_crash = time.perf_counter() - t0
        t0 = time.perf_counter()
        outcomes = [try_bad_input(b, setup.base, work / "bad") for b in bad_inputs(args.bomb_mb)]
        t_bad = time.perf_counter() - t0
        fuzzed = fuzz(work, setup.base, args.fuzz)
    _print_crashes(crash, t_crash)
    _print_races(races)
    _print_bad_inputs(outcomes, t_bad)
    _print_fuzzing(fuzzed)
    failures = crash.failures + races.failures
    failures += [f"bad input {o.name}: {o.detail}" for o in outcomes if not o.ok]
    failures += [e for f in fuzzed for e in f.examples]
    ok = not failures and crash.killed >= args.runs
    if failures:
        print("\n## Failures")
        for line in failures if args.verbose else failures[:30]:
            print(f"- {line}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
