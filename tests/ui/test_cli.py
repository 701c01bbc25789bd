"""Every CLI command and its DESIGN.md JSON shape, exit codes and error lines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS, corpus_file, corpus_missing
from typer.testing import CliRunner

from migralex.corpus.store import Store
from migralex.ui.cli import app

runner = CliRunner()
HIT_KEYS = {"rank", "score", "doc_id", "doc_title", "kind", "language", "clause_id", "label",
            "heading", "text", "tags", "page_start", "page_end"}  # fmt: skip


def _json(args: list[str], code: int = 0) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output + str(result.exception)
    return json.loads(result.stdout)


@pytest.fixture()
def store(small_store: Path, tmp_path: Path) -> Path:
    root = tmp_path / "store"
    shutil.copytree(small_store, root)
    return root


def test_ingest_json_shape_and_idempotence(tmp_path: Path) -> None:
    doc = corpus_file("ssa/nl-bwbv0001745.md")
    args = ["ingest", str(doc), "--store", str(tmp_path / "s"), "--kind", "ssa", "--json"]
    first = _json(args)
    assert set(first) >= {"store", "documents", "totals", "seconds"}
    assert set(first["totals"]) >= {"added", "updated", "unchanged", "failed", "clauses"}
    d = first["documents"][0]
    assert set(d) >= {"path", "doc_id", "status", "clauses", "error"}
    assert d["status"] == "added" and d["clauses"] > 10 and d["error"] is None
    assert _json(args)["documents"][0]["status"] == "unchanged"


def test_ingest_partial_failure_exits_1_with_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    good = tmp_path / "good.md"
    good.write_text("# T\n\n### Article 1\n\nThe Parties agree.\n", encoding="utf-8")
    result = runner.invoke(
        app, ["ingest", str(bad), str(good), "--store", str(tmp_path / "s"), "--json"]
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["totals"]["failed"] == 1 and data["totals"]["added"] == 1
    assert f"migralex: error: {bad}: " in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["search"]).exit_code == 2
    assert (
        runner.invoke(app, ["search", "x", "--mode", "fuzzy", "--store", str(tmp_path)]).exit_code
        == 2
    )
    assert runner.invoke(app, ["ingest", str(tmp_path), "--kind", "treaty"]).exit_code == 2


def test_missing_path_is_reported(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "nope.pdf"), "--store", str(tmp_path / "s")]
    )
    assert result.exit_code == 1
    assert "migralex: error:" in result.stderr and "no such file" in result.stderr


def test_store_error_names_the_store_once(tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# T\n\n### Article 1\n\nThe Parties agree.\n", encoding="utf-8")
    root = tmp_path / "s"
    assert runner.invoke(app, ["ingest", str(doc), "--store", str(root)]).exit_code == 0
    result = runner.invoke(app, ["ingest", str(doc), "--store", str(root), "--model", "e5-small"])
    assert result.exit_code == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"migralex: error: {root}: ") and "e5-small" in line
    assert line.count("migralex") == 1


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "lexical"])
def test_search_json_shape(store: Path, mode: str) -> None:
    data = _json(
        ["search", "export of benefits", "--store", str(store), "--mode", mode, "-k", "4", "--json"]
    )
    assert data["query"] == "export of benefits" and data["mode"] == mode
    assert data.get("model") == (None if mode == "lexical" else "hash")  # the answering vectors
    assert 1 <= len(data["results"]) <= 4
    for hit in data["results"]:
        assert set(hit) >= HIT_KEYS


def test_search_filters_from_cli(store: Path) -> None:
    data = _json(["search", "pension", "--store", str(store), "--language", "fr", "--json"])
    assert {h["language"] for h in data["results"]} == {"fr"}
    data = _json(
        [
            "search",
            "pension",
            "--store",
            str(store),
            "--doc",
            "ca-si-96-32",
            "--kind",
            "ssa",
            "--json",
        ]
    )
    assert {h["doc_id"] for h in data["results"]} == {"ca-si-96-32"}


def test_similar_json_shape(store: Path) -> None:
    cid = _json(
        ["search", "equality of treatment", "--store", str(store), "--doc", "ca-si-96-32", "--json"]
    )["results"][0]["clause_id"]
    data = _json(["similar", cid, "--store", str(store), "-k", "2", "--json"])
    assert data["query"] == cid and len(data["results"]) == 2
    assert all(set(h) >= HIT_KEYS and h["doc_id"] != "ca-si-96-32" for h in data["results"])


def test_similar_unknown_clause(store: Path) -> None:
    result = runner.invoke(app, ["similar", "nope:article-1", "--store", str(store)])
    assert result.exit_code == 1 and "no clause 'nope:article-1'" in result.stderr


def test_tag_json_shape_on_canada_mexico() -> None:
    path = corpus_file("ssa/ca-si-96-32.pdf")
    data = _json(["tag", str(path), "--json"])
    assert set(data) >= {"path", "doc_id", "language", "clauses"}
    assert data["language"] == "en"
    articles = [c for c in data["clauses"] if c["label"].startswith("ARTICLE")]
    assert len({c["label"] for c in articles}) == 28
    for c in data["clauses"]:
        assert set(c) >= {"clause_id", "label", "heading", "text", "page_start", "page_end", "tags"}
        for t in c["tags"]:
            assert set(t) >= {"name", "start", "end", "text", "rule", "paragraph"}
            assert c["text"][t["start"] : t["end"]] == t["text"]
    # tags name the numbered paragraph they sit in
    numbered = [t["paragraph"] for c in data["clauses"] for t in c["tags"] if t["paragraph"]]
    assert numbered and all(p.isdigit() for p in numbered)


def test_checklist_json_shape_and_reports(store: Path, tmp_path: Path) -> None:
    path = corpus_file("ssa/ca-si-96-32.pdf")
    report = tmp_path / "report.md"
    data = _json(
        [
            "checklist",
            str(path),
            "--checklist",
            "ssa",
            "--store",
            str(store),
            "--report",
            str(report),
            "--json",
        ]
    )
    assert set(data) >= {"checklist", "title", "document", "items", "summary"}
    assert set(data["document"]) >= {"path", "doc_id", "title", "language"}
    ids = {i["id"] for i in data["items"]}
    assert {"ssa.equality_of_treatment", "ssa.export_of_benefits", "ssa.totalisation"} <= ids
    for item in data["items"]:
        assert set(item) >= {
            "id",
            "question",
            "reference",
            "status",
            "confidence",
            "evidence",
            "examples",
        }
        assert item["status"] in {"present", "partial", "absent"}
        for ev in item["evidence"]:
            assert set(ev) >= {"clause_id", "citation", "paragraph", "quote"}
            assert ev["text"][ev["quote_start"] : ev["quote_end"]] == ev["quote"]
    assert sum(data["summary"].values()) == len(data["items"])
    assert report.read_text(encoding="utf-8").startswith("# ")
    # evidence found in one paragraph is cited with its number ("ARTICLE 5 (2)")
    cited = [ev["citation"] for i in data["items"] for ev in i["evidence"] if ev["paragraph"]]
    assert cited and all("(" in c for c in cited)


def test_checklists_and_stats(store: Path) -> None:
    lists = _json(["checklists", "--json"])["checklists"]
    assert {c["id"] for c in lists} == {"ssa", "bla", "national-law"}
    stats = _json(["stats", "--store", str(store), "--json"])
    assert set(stats) >= {
        "documents",
        "clauses",
        "tags",
        "languages",
        "kinds",
        "model",
        "dimension",
    }
    assert (
        stats["documents"] == 4
        and stats["model"] == "hash"
        and stats["languages"] == {"en": 3, "fr": 1}
    )


def test_stats_reports_the_vector_index_and_its_memory(store: Path) -> None:
    before = _json(["stats", "--store", str(store), "--json"])["vector_index"]
    assert before["type"] == "IDMap2,Flat" and before["vectors"] > 0
    _json(["search", "pension", "--store", str(store), "--mode", "semantic", "--json"])
    data = _json(["stats", "--store", str(store), "--json"])
    after = data["vector_index"]
    assert after["cached"] and after["current"] and after["vectors"] == data["vectors"]
    assert data["vector_memory_bytes"] == after["bytes"] >= data["vectors"] * data["dimension"] * 4


def test_manifest_metadata_is_applied(tmp_path: Path) -> None:
    if not (CORPUS / "manifest.csv").is_file():
        corpus_missing("no corpus manifest")
    doc = corpus_file("ssa/nl-bwbv0001745.md")
    data = _json(
        [
            "ingest",
            str(doc),
            "--store",
            str(tmp_path / "s"),
            "--manifest",
            str(CORPUS / "manifest.csv"),
            "--json",
        ]
    )
    assert data["documents"][0]["doc_id"] == "nl-bwbv0001745"


def test_ingest_warns_or_refuses_a_file_changed_since_its_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\n## Article 1\n\nThe Parties agree.\n", encoding="utf-8")
    (folder / "manifest.csv").write_text(
        "id,kind,language,title,parties,source,licence,path,sha256\n"
        f"doc-a,ssa,en,A,Canada,own,CC0,a.md,{'ab' * 32}\n",
        encoding="utf-8",
    )
    strict = runner.invoke(
        app, ["ingest", str(folder), "--store", str(tmp_path / "s1"), "--strict"]
    )
    assert strict.exit_code == 1
    assert "migralex: error: " in strict.stderr and "manifest's sha256" in strict.stderr
    warned = runner.invoke(app, ["ingest", str(folder), "--store", str(tmp_path / "s2"), "--json"])
    assert warned.exit_code == 0, warned.output
    assert "migralex: warning: " in warned.stderr and "manifest's sha256" in warned.stderr
    assert json.loads(warned.stdout)["documents"][0]["warning"]


def _article(path: Path) -> Path:
    path.write_text("# T\n\n### Article 1\n\nThe Parties agree.\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command",
    [["search", "pension"], ["similar", "d:article-1"], ["stats"],
     ["checklist", "draft.md", "--checklist", "ssa"]],
)  # fmt: skip
def test_missing_store_is_not_created(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migralex.ui import service

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("no model may be loaded for a missing store")

    monkeypatch.setattr(service, "searcher", no_model)
    root = tmp_path / "nostore"
    result = runner.invoke(app, [*command, "--store", str(root)])
    assert result.exit_code == 1
    assert not root.exists()
    line = result.stderr.strip()
    assert line == f"migralex: error: {root}: no migralex store here (run migralex ingest first)"
    assert line.count(str(root)) == 1


@pytest.mark.parametrize("command", [["search", "pension"], ["stats"], ["ingest", "a.md"]])
def test_store_that_is_a_file_is_refused_in_words(command: list[str], tmp_path: Path) -> None:
    root = tmp_path / "file"
    root.write_text("x", encoding="utf-8")
    _article(tmp_path / "a.md")
    args = [str(tmp_path / "a.md") if a == "a.md" else a for a in command]
    result = runner.invoke(app, [*args, "--store", str(root)])
    assert result.exit_code == 1
    assert f"migralex: error: {root}: is a file, not a store folder" in result.stderr
    assert "Errno" not in result.stderr


@pytest.mark.parametrize(
    ("option", "value", "listed"),
    [("--kind", "treaty", "ssa"), ("--tag", "pensions", "export_of_benefits"),
     ("--language", "english", "ISO 639-1")],
)  # fmt: skip
def test_search_refuses_unknown_filter_values(
    option: str, value: str, listed: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["search", "x", option, value, "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    compact = "".join(ch for ch in result.stderr if not ch.isspace() and ch != "│")  # rich box
    assert value in compact and listed.replace(" ", "") in compact
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_search_blank_query_is_usage_error(query: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["search", query, "--store", str(tmp_path / "s")])
    assert result.exit_code == 2 and "query is empty" in result.stderr


def test_ingest_missing_path_does_not_abort_batch(tmp_path: Path) -> None:
    good = _article(tmp_path / "good.md")
    missing = tmp_path / "missing.md"
    result = runner.invoke(
        app, ["ingest", str(missing), str(good), "--store", str(tmp_path / "s"), "--json"]
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["totals"]["added"] == 1 and data["totals"]["failed"] == 1
    failed = [d for d in data["documents"] if d["status"] == "failed"]
    assert failed[0]["path"] == str(missing)
    assert f"migralex: error: {missing}: no such file or folder" in result.stderr


def _syntax_error() -> Exception:
    from lxml import etree

    try:
        etree.fromstring(b"<a><b></a>")
    except etree.XMLSyntaxError as exc:
        return exc
    raise AssertionError("lxml parsed broken XML")


@pytest.mark.parametrize(
    "exc",
    [RecursionError("maximum recursion depth exceeded"), _syntax_error(),
     __import__("zipfile").BadZipFile("File is not a zip file"), ValueError(), KeyError("x")],
)  # fmt: skip
@pytest.mark.parametrize("command", ["tag", "checklist"])
def test_any_reader_failure_is_one_plain_error_line(
    exc: Exception, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migralex.ingest import pipeline

    def broken(path: Path) -> None:
        raise exc

    monkeypatch.setattr(pipeline, "read_file", broken)
    doc = _article(tmp_path / "a.md")
    Store(tmp_path / "s").close()  # checklist refuses a missing store
    args = [command, str(doc)] + (
        ["--checklist", "ssa", "--store", str(tmp_path / "s")] if command == "checklist" else []
    )
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert not isinstance(result.exception, type(exc)) or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"migralex: error: {doc}: ")
    reason = lines[0].removeprefix(f"migralex: error: {doc}: ")
    assert type(exc).__name__ not in reason and "Traceback" not in result.stderr
    assert len(reason) > 10


def test_newline_in_file_name_keeps_error_on_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad\nname.pdf"
    bad.write_bytes(b"not a pdf")
    for args in (["tag", str(bad)], ["ingest", str(bad), "--store", str(tmp_path / "s")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        errors = [ln for ln in result.stderr.splitlines() if "migralex: error:" in ln]
        assert len(errors) == 1 and "bad\\nname.pdf" in errors[0]
        assert "name.pdf" not in result.stderr.replace(errors[0], "")


# --------------------------------------------------------------------------------------------
# Issue #19: hostile files, limits, the app server's defaults
# --------------------------------------------------------------------------------------------


def _hostile(kind: str, folder: Path) -> Path:
    from migralex.evaluation import robustness as rb

    template = rb.agreement_docx(1)
    files = {
        "deep.html": lambda: rb.deep_html(100_000).encode(),
        "laughs.docx": lambda: rb.billion_laughs_docx(template),
        "bomb.docx": lambda: rb.docx_bomb(template, 3, False),
        "cut.pdf": lambda: rb.agreement_pdf(1)[:700],
    }
    path = folder / kind
    path.write_bytes(files[kind]())
    return path


@pytest.mark.parametrize("kind", ["deep.html", "laughs.docx", "bomb.docx", "cut.pdf"])
@pytest.mark.parametrize("command", ["tag", "checklist", "ingest"])
def test_hostile_file_gives_one_plain_error_line(
    kind: str, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migralex.evaluation.robustness import plain

    monkeypatch.setenv("MIGRALEX_MAX_DOCX_MB", "2")
    bad = _hostile(kind, tmp_path)
    store = tmp_path / "s"
    Store(store).close()
    args = {
        "tag": ["tag", str(bad)],
        "checklist": ["checklist", str(bad), "--checklist", "ssa", "--store", str(store)],
        "ingest": ["ingest", str(bad), "--store", str(store)],
    }[command]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()  # pypdf's repair warnings are not printed
    assert len(lines) == 1 and lines[0].startswith(f"migralex: error: {bad}: "), lines
    assert plain(lines[0]) and "Traceback" not in result.stderr


def test_symlink_loop_fails_alone_and_the_batch_goes_on(tmp_path: Path) -> None:
    loop = tmp_path / "loop.md"
    loop.symlink_to(loop)
    good = _article(tmp_path / "good.md")
    result = runner.invoke(
        app, ["ingest", str(loop), str(good), "--store", str(tmp_path / "s"), "--json"]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["totals"]["added"] == 1 and data["totals"]["failed"] == 1
    assert f"migralex: error: {loop}: a symbolic link that loops" in result.stderr


def test_manifest_duplicate_id_is_refused_not_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    _article(folder / "a.md")
    (folder / "b.md").write_text("# B\n\n### Article 1\n\nOther words.\n", encoding="utf-8")
    (folder / "manifest.csv").write_text("id,kind,path\nx,ssa,a.md\nx,ssa,b.md\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(folder), "--store", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 1
    docs = {Path(d["path"]).name: d for d in json.loads(result.stdout)["documents"]}
    assert docs["a.md"]["status"] == "added" and docs["b.md"]["status"] == "failed"
    assert "id 'x' of an earlier row (a.md)" in docs["b.md"]["error"]
    with Store(tmp_path / "s") as st:
        assert st.get_document("x").source_path.endswith("a.md")


def test_serve_binds_localhost_and_sets_the_upload_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from migralex.ui import cli
    from migralex.ui.cli import serve_command

    calls: list[list[str]] = []
    monkeypatch.setattr(cli, "run_child", lambda cmd, env: calls.append(cmd) or 0)
    monkeypatch.setenv("MIGRALEX_MAX_FILE_MB", "12")
    assert runner.invoke(app, ["serve", "--store", str(tmp_path)]).exit_code == 0
    cmd = calls[0]
    assert cmd[cmd.index("--server.address") + 1] == "localhost"
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "12"
    assert "0.0.0.0" in serve_command(tmp_path, 80, "0.0.0.0", 0.5)
    assert serve_command(tmp_path, 80, "localhost", 0.5)[-3] == "1"  # at least 1 MB
    assert serve_command(tmp_path, 80, "localhost", 2.5)[-3] == "3"  # rounded up


@pytest.mark.parametrize(
    ("name", "value"), [("MIGRALEX_MAX_FILE_MB", "0"), ("MIGRALEX_MAX_PAGES", "many")]
)
def test_bad_limit_setting_is_a_usage_error(
    name: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # was a per-file "cannot read the document (1 validation error for Settings ...)"
    monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["tag", str(_article(tmp_path / "a.md"))])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"migralex: error: {name}: ")
    assert f"(got '{value}')" in result.stderr and "pydantic" not in result.stderr


def test_checklist_without_a_store_checks_the_draft_without_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --store and no configured store: the draft is still checked (a warning line says the
    examples are missing) and no store is created."""
    root = tmp_path / "default-store"
    monkeypatch.setenv("MIGRALEX_STORE", str(root))
    doc = _article(tmp_path / "a.md")
    result = runner.invoke(app, ["checklist", str(doc), "--checklist", "ssa", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["items"] and all(i["examples"] == [] for i in data["items"])
    assert "warning" in result.stderr and "without good-practice examples" in result.stderr
    assert not root.exists()


def test_serve_hides_the_deploy_button() -> None:
    from migralex.ui.cli import serve_command

    cmd = serve_command(Path("s"), 80, "localhost", 1)
    assert cmd[cmd.index("--client.toolbarMode") + 1] == "minimal"


def test_stopping_serve_stops_its_child(tmp_path: Path) -> None:
    """SIGTERM to the process running ``run_child`` (as ``migralex serve`` does) ends the
    child process too."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pid_file = tmp_path / "child.pid"
    child = (
        "import os, time, pathlib; "
        f"pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid())); time.sleep(60)"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from migralex.ui.cli import run_child; "
         f"sys.exit(run_child([sys.executable, '-c', {child!r}], dict(__import__('os').environ)))"]
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not pid_file.is_file() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the child did not start"
        time.sleep(0.05)
    child_pid = int(pid_file.read_text())
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=20) == 130
    with pytest.raises(ProcessLookupError):
        os.kill(child_pid, 0)


def test_train_topics_writes_a_model_per_checklist_and_reports_the_rest(
    small_store: Path, tmp_path: Path
) -> None:
    """``train-topics`` fits the SSA topic model from the store's headed SSA articles and saves
    it; the BLA checklist has no BLA in this store and is reported, not failed."""
    from migralex.nlp.checklist.topics import TopicModel

    result = runner.invoke(
        app,
        ["train-topics", "--store", str(small_store), "--model", "hash", "--out", str(tmp_path)]
        + ["--json"],
    )
    assert result.exit_code == 0, result.output
    rows = {r["checklist"]: r for r in json.loads(result.output)}
    assert set(rows) == {"ssa", "bla"}
    assert rows["bla"]["path"] is None and "no topic model" in rows["bla"]["message"]
    model = TopicModel.load(Path(rows["ssa"]["path"]))
    assert model.checklist == "ssa" and len(model.classes) >= 2
