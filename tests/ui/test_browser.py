"""Browser journeys: the app served by Streamlit on a free port over the small store of
``views_fixtures`` (hash embedder), driven by Playwright in Debian's ``chromium`` (no browser
download). Skipped cleanly when ``/usr/bin/chromium`` or the ``playwright`` package is missing
(``make setup`` installs both). Each journey records how long its page took to show its content
(``BROWSER_TIMES``; printed with ``-s``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from views_fixtures import DOCS, write_corpus

from migralex.corpus.store import Store
from migralex.ui import service

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no chromium at {CHROMIUM}"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

#: Page -> seconds from navigation to its content, filled by the journeys.
BROWSER_TIMES: dict[str, float] = {}
TIMEOUT_MS = 30_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``migralex serve``'s Streamlit command over a fresh small store; yields the base URL."""
    from migralex.ui.cli import serve_command

    folder = tmp_path_factory.mktemp("browser")
    manifest = write_corpus(folder / "corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIGRALEX_MODEL", "hash")
        with Store(folder / "store") as store:
            assert len(service.ingest([folder / "corpus"], store, manifest=manifest)) == len(DOCS)
    port = _free_port()
    env = {**os.environ, "MIGRALEX_STORE": str(folder / "store"), "MIGRALEX_MODEL": "hash"}
    cmd = serve_command(folder / "store", port, "127.0.0.1", 5)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, "streamlit exited"
            assert time.monotonic() < deadline, "streamlit did not start in 60 s"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if BROWSER_TIMES:
            print("\npage render times (s):", {k: round(v, 2) for k, v in BROWSER_TIMES.items()},
                  file=sys.stderr)  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    yield pg
    context.close()


def _open(page: Any, url: str, name: str, ready: str) -> None:
    """Go to ``url`` and wait for the text ``ready``; record the time under ``name``."""
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_text(ready).first.wait_for()
    BROWSER_TIMES[name] = time.perf_counter() - t0
    _shot(page, name)


def _shot(page: Any, name: str) -> None:
    """Save a screenshot of the page as ``$SCREENSHOTS_DIR/<name>.png`` (``make
    screenshots``), after Streamlit has finished running the script."""
    folder = os.environ.get("SCREENSHOTS_DIR")
    if not folder:
        return
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(2500)
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(folder) / f"{name.lower().replace(' ', '-')}.png"))


def test_search_clause_compare(server: str, page: Any) -> None:
    _open(page, f"{server}/?page=Search", "Search", "Search clauses")
    assert page.get_by_text("Deploy", exact=True).count() == 0  # toolbarMode minimal
    t0 = time.perf_counter()
    query = page.get_by_label("Query")
    query.fill("export of benefits residence")
    query.press("Enter")
    page.get_by_role("button", name="Add to comparison").first.wait_for()
    BROWSER_TIMES["Search answer"] = time.perf_counter() - t0
    _shot(page, "Search results")
    adds = page.get_by_role("button", name="Add to comparison")
    assert adds.count() >= 2
    adds.nth(0).click()
    page.wait_for_timeout(500)
    adds.nth(1).click()
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Open clause").first.click()
    page.get_by_text("Comparable clauses in other documents").wait_for()
    _shot(page, "Clause detail")
    t0 = time.perf_counter()
    page.locator("[data-testid='stSidebar']").get_by_text("Compare", exact=True).click()
    page.locator("mark.mlx-diff").first.wait_for()
    BROWSER_TIMES["Compare"] = time.perf_counter() - t0
    _shot(page, "Compare")
    assert "page=Compare" in page.url


def test_matrix_cell_evidence(server: str, page: Any) -> None:
    _open(page, f"{server}/?page=Matrix", "Matrix", "Click a cell")
    page.get_by_role("button", name="Open clause").wait_for()
    page.get_by_role("button", name="Open clause").click()
    page.get_by_text("Clause detail").first.wait_for()
    page.get_by_text("Comparable clauses in other documents").wait_for()


def test_gallery_export(server: str, page: Any) -> None:
    _open(page, f"{server}/?page=Gallery", "Gallery", "Good-practice gallery")
    page.get_by_role("button", name="Download handout (HTML)").wait_for()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download handout (HTML)").click()
    handout = Path(info.value.path()).read_text(encoding="utf-8")
    assert handout.startswith("<!doctype html>")
    assert "Agreement on Social Security between Canada and Portugal" in handout
    with page.expect_download() as info:
        page.get_by_role("button", name="Download slides (PPTX)").click()
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"


def test_corridors(server: str, page: Any) -> None:
    _open(page, f"{server}/?page=Corridors", "Corridors", "BLA without SSA")
    # the network picture renders after the page (the first svg may be an icon): wait for a node
    node = page.locator("svg text", has_text="Suriname")
    node.first.wait_for(timeout=30_000)
    _shot(page, "Corridors")
    assert node.count() >= 1


def test_checklist_upload_and_reports(server: str, page: Any, tmp_path: Path) -> None:
    _open(page, f"{server}/?page=Checklist", "Checklist", "Check a draft")
    draft = tmp_path / "draft.md"
    draft.write_text(DOCS["ssa-ca-pt"][3], encoding="utf-8")
    page.locator("input[type='file']").set_input_files(str(draft))
    page.get_by_text("draft.md").first.wait_for()
    t0 = time.perf_counter()
    page.get_by_role("button", name="Run checklist").click()
    page.get_by_text("on draft.md").first.wait_for()
    BROWSER_TIMES["Checklist answer"] = time.perf_counter() - t0
    _shot(page, "Checklist result")
    for label in ("Markdown", "HTML", "Word", "Excel"):
        with page.expect_download() as info:
            page.get_by_role("button", name=f"Download {label}").click()
        assert Path(info.value.path()).stat().st_size > 0
