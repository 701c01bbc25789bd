"""A small, fast subset of the reliability benchmark (``migralex.evaluation.robustness``):
kills in every phase, a writer race, reads during a write, the quick bad inputs, and a few
hundred fuzz inputs per target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migralex.evaluation import robustness as rb


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[rb.CrashSetup]:
    from migralex.nlp.tagger import tag_clauses

    tag_clauses([], "en")  # spaCy loaded before any fork
    yield rb.crash_setup(tmp_path_factory.mktemp("crash"), n_base=2, n_new=3)


def test_clean_reference_is_complete(setup: rb.CrashSetup) -> None:
    assert len(setup.clean) == 5 and len(setup.old) == 2
    assert all(c > 0 and v == c for c, _, v in setup.clean.values())
    assert setup.replaced[0] in setup.old and setup.replaced[1] in setup.clean


def test_kill_in_every_phase_leaves_complete_documents(
    setup: rb.CrashSetup, tmp_path: Path
) -> None:
    tally = rb.crash_runs(setup, tmp_path, runs=len(rb.PHASES))
    assert tally.killed == len(rb.PHASES), tally
    assert set(tally.by_phase) == set(rb.PHASES)
    assert (tally.corrupted, tally.partial) == (0, 0), tally.failures
    assert tally.survived == tally.rerun_ok == tally.killed, tally.failures


def test_check_after_crash_sees_a_partial_document(setup: rb.CrashSetup, tmp_path: Path) -> None:
    import shutil
    import sqlite3

    root = tmp_path / "damaged"
    shutil.copytree(setup.base, root)
    con = sqlite3.connect(root / "migralex.sqlite")
    con.execute("PRAGMA foreign_keys=ON")
    doc_id = sorted(setup.old)[-1]
    con.execute(
        "DELETE FROM clauses WHERE rowid = (SELECT max(rowid) FROM clauses WHERE doc_id=?)",
        (doc_id,),
    )
    con.commit()
    con.close()
    corrupt, partial = rb.check_after_crash(root, setup)
    assert any(doc_id in p for p in partial)


def test_two_writers_and_readers_during_a_write(setup: rb.CrashSetup, tmp_path: Path) -> None:
    tally = rb.writer_races(setup, tmp_path, races=2)
    assert tally.bad == 0, tally.failures
    assert tally.refused_clearly + tally.sequential == 2
    # a search during the write raised faiss's "key not found" (issue #19)
    tally = rb.reads_during_writes(setup, tmp_path, tally, rounds=3)
    assert tally.reads >= 3 and tally.half_seen == tally.reader_errors == 0, tally.failures


QUICK_BAD = [
    b
    for b in rb.bad_inputs(bomb_mb=3, html_mb=1, many_pages=30, text_chars=800_000)
    if not b.full_only
]


@pytest.mark.parametrize("bad", QUICK_BAD, ids=[b.name for b in QUICK_BAD])
def test_bad_input(
    bad: rb.BadInput, setup: rb.CrashSetup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # small limits, so the quick variants of the big inputs cross them
    monkeypatch.setenv("MIGRALEX_MAX_DOCX_MB", "2")
    monkeypatch.setenv("MIGRALEX_MAX_FILE_MB", "0.9")
    monkeypatch.setenv("MIGRALEX_MAX_PAGES", "20")
    monkeypatch.setenv("MIGRALEX_MAX_DOCUMENT_CHARS", "500000")
    outcome = rb.try_bad_input(bad, setup.base, tmp_path)
    assert outcome.ok, outcome


def test_error_line_checks() -> None:
    assert rb.plain("migralex: error: a.pdf: the PDF is truncated")
    for bad in ("PdfReadError: x", "[Errno 2] No such file", "Traceback (most recent call last)"):
        assert not rb.plain(f"migralex: error: a.pdf: {bad}")


def test_fuzz_targets_run_without_crashes_or_hangs(setup: rb.CrashSetup, tmp_path: Path) -> None:
    tallies = rb.fuzz(tmp_path, setup.base, 40)
    assert {t.target for t in tallies} == {
        "text reader", "markdown reader", "html reader", "pdf reader", "docx reader",
        "segmenter", "search query",
    }  # fmt: skip
    for t in tallies:
        assert t.inputs == 40, t
        assert (t.crashes, t.hangs) == (0, 0), t.examples


def test_time_bound_stops_a_slow_input() -> None:
    import time

    with pytest.raises(rb._Hang), rb.time_bound(0.05):
        time.sleep(1)
