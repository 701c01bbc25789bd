"""Render and answer times of each app page, measured in a real browser.

Serves the app over a store (``migralex serve``'s Streamlit command on a free port) and drives
Debian's chromium with Playwright: for each page, the seconds from loading its URL to its
content (a full page load: Streamlit's front end boots each time) and from a click on it in the
sidebar (what a user does inside the app), and for search, the matrix cell and the checklist,
the seconds to an answer.
Each page is opened ``--repeat`` times; the first opening of a page pays its caches (the
matrix and gallery read every agreement once, then ``STORE/views-cache``), so the first and
the median of the rest are reported.

``--legacy-gallery SECONDS`` measures instead the Gallery of a store ingested before ingest
filled the views cache: a copy of ``--store`` without ``views-cache`` is served, the Gallery
opened SECONDS after the server answers (while the app's background fill runs), and the
seconds to its progress bar and to its content reported.

Usage::

    python -m migralex.evaluation.browser_times --store store [--repeat 3] [--draft FILE]
    python -m migralex.evaluation.browser_times --store store --legacy-gallery 5

Prints a JSON object ``{"store", "pages": {page: {"first", "median_rest"}}, "switch_median":
{page: seconds}, "answers": {what: seconds}}`` (seconds, 2 decimals), or with
``--legacy-gallery`` ``{"store", "opened_after", "page_header", "content"}``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import socket
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Page -> a text that shows once its content is there.
READY: dict[str, str] = {
    "Search": "Type a query and press Enter.",
    "Documents": "Browse a document",
    "Checklist": "Run checklist",
    "Gallery": "Download handout (HTML)",
    "Matrix": "Click a cell",
    "Compare": "Choose two to four clauses",
    "Corridors": "BLA without SSA",
}
QUERY = "can a pensioner who moves abroad keep the pension?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    from migralex.ui.cli import serve_command

    port = _free_port()
    env = {**os.environ, "MIGRALEX_STORE": str(store)}
    proc = subprocess.Popen(
        serve_command(store, port, "127.0.0.1", 20),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("streamlit did not start") from None
            time.sleep(0.3)


def _open_browser(playwright: Any, chromium: Path) -> tuple[Any, Any]:
    """Debian's chromium launched by Playwright, and one page of 1400 x 1000 px (180 s waits)."""
    browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(180_000)
    return browser, page


def _timed(action: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    action()
    return round(time.perf_counter() - t0, 2)


def measure(store: Path, repeat: int, draft: Path | None, chromium: Path) -> dict[str, Any]:
    """Open each page ``repeat`` times and time the answers; see the module docstring."""
    from playwright.sync_api import sync_playwright

    proc, url = _serve(store)
    pages: dict[str, list[float]] = {}
    switches: dict[str, list[float]] = {}
    try:
        with sync_playwright() as p:
            browser, page = _open_browser(p, chromium)
            for _ in range(repeat):
                for name, ready in READY.items():
                    visit = functools.partial(_visit, page, url, name, ready)
                    pages.setdefault(name, []).append(_timed(visit))
            for _ in range(repeat):
                for name, ready in READY.items():
                    switch = functools.partial(_switch, page, name, ready)
                    switches.setdefault(name, []).append(_timed(switch))
            answers = _time_answers(page, url, draft)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return {
        "store": str(store),
        "pages": {
            name: {
                "first": times[0],
                "median_rest": round(statistics.median(times[1:]), 2) if len(times) > 1 else None,
            }
            for name, times in pages.items()
        },
        "switch_median": {name: round(statistics.median(t), 2) for name, t in switches.items()},
        "answers": answers,
    }


def _visit(page: Any, url: str, name: str, ready: str) -> None:
    """Open page ``name`` by its link and wait for its ``ready`` text."""
    page.goto(f"{url}/?page={name}")
    page.get_by_text(ready).first.wait_for()


def _switch(page: Any, name: str, ready: str) -> None:
    """Go to page ``name`` from the sidebar and wait for its ``ready`` text."""
    page.locator("[data-testid='stSidebar']").get_by_text(name, exact=True).click()
    page.get_by_text(ready).first.wait_for()


def _time_answers(page: Any, url: str, draft: Path | None) -> dict[str, float]:
    """Seconds to the answers: a first and a second search, another matrix item's evidence,
    and (with a ``draft``) a checklist run."""
    answers: dict[str, float] = {}
    _visit(page, url, "Search", READY["Search"])

    def search() -> None:
        box = page.get_by_label("Query")
        box.fill(QUERY)
        box.press("Enter")
        page.get_by_role("button", name="Add to comparison").first.wait_for()

    answers["search (first query, model load)"] = _timed(search)
    page.get_by_label("Query").fill("")
    page.get_by_label("Query").press("Enter")
    page.get_by_text(READY["Search"]).wait_for()
    answers["search (second query)"] = _timed(search)
    _visit(page, url, "Matrix", READY["Matrix"])

    def other_item() -> None:
        page.get_by_label("Item").click()
        option = page.get_by_role("option").nth(3)
        item_id = option.inner_text().strip()
        option.click()
        page.locator("p", has_text=f"— {item_id}").first.wait_for()

    answers["matrix: evidence of another item"] = _timed(other_item)
    if draft is not None:
        _visit(page, url, "Checklist", READY["Checklist"])
        page.locator("input[type='file']").set_input_files(str(draft))
        page.get_by_text(draft.name).first.wait_for()

        def run() -> None:
            page.get_by_role("button", name="Run checklist").click()
            page.get_by_text(f"on {draft.name}").first.wait_for()

        answers["checklist (upload -> items)"] = _timed(run)
    return answers


def measure_legacy_gallery(store: Path, after: float, chromium: Path) -> dict[str, Any]:
    """The Gallery of a copy of ``store`` without its views cache, opened ``after`` seconds
    after the server starts answering: seconds to the progress bar and to the content."""
    import shutil
    import tempfile

    from playwright.sync_api import sync_playwright

    from migralex.ui.views import CACHE_DIR

    with tempfile.TemporaryDirectory(prefix="migralex-legacy-") as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(store, copy, ignore=shutil.ignore_patterns(CACHE_DIR))
        proc, url = _serve(copy)
        try:
            time.sleep(after)
            with sync_playwright() as p:
                browser, page = _open_browser(p, chromium)
                t0 = time.perf_counter()
                page.goto(f"{url}/?page=Gallery")
                page.get_by_text("Good-practice gallery").first.wait_for()
                header = time.perf_counter() - t0
                page.get_by_text(READY["Gallery"]).first.wait_for()
                content = time.perf_counter() - t0
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return {
        "store": str(store),
        "opened_after": after,
        "page_header": round(header, 2),
        "content": round(content, 2),
    }


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--draft", type=Path, default=None, help="a draft for the checklist")
    parser.add_argument("--chromium", type=Path, default=Path("/usr/bin/chromium"))
    parser.add_argument(
        "--legacy-gallery",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time the Gallery of the store without its views cache, opened SECONDS after start",
    )
    args = parser.parse_args()
    if args.legacy_gallery is not None:
        result = measure_legacy_gallery(args.store, args.legacy_gallery, args.chromium)
    else:
        result = measure(args.store, args.repeat, args.draft, args.chromium)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
