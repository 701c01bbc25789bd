"""Checklist reports in the formats reviewers send on: Markdown, HTML, DOCX and XLSX.

Every format carries the checked file's name and the date of the check, and per item: id,
question, status, reason, the first evidence quote with its article and pages, the standard
reference, the good-practice examples, the confidence and why the item matters.
Input is the DESIGN.md checklist JSON object (``ChecklistResult.to_json``).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMATS = (".md", ".html", ".docx", ".xlsx")
QUOTE_CHARS = 400
COLUMNS = (
    "Item",
    "Question",
    "Status",
    "Reason",
    "Evidence",
    "Reference",
    "Examples",
    "Confidence",
    "Why it matters",
)


def _quote(text: str, limit: int = QUOTE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _evidence(item: dict[str, Any]) -> str:
    if not item["evidence"]:
        return ""
    ev = item["evidence"][0]
    where = ev.get("citation") or (
        f"{ev['label']}" + (f" ({ev['heading']})" if ev.get("heading") else "")
    )
    first, last = ev.get("page_start"), ev.get("page_end")
    if first:
        where += f", p. {first}" + (f"–{last}" if last and last != first else "")
    return f"{where}: “{_quote(ev.get('quote') or ev['text'])}”"


def _examples(item: dict[str, Any]) -> list[str]:
    return [
        f"{e['doc_title']} — {e['label']}: “{_quote(e['text'], 200)}”" for e in item["examples"]
    ]


def rows(data: dict[str, Any]) -> list[tuple[str, ...]]:
    """Return one row of :data:`COLUMNS` per checklist item."""
    return [
        (
            item["id"],
            item["question"],
            item["status"],
            item.get("reason", ""),
            _evidence(item),
            item["reference"],
            "\n".join(_examples(item)),
            f"{float(item.get('confidence', 0.0)):.2f}",
            item.get("why", ""),
        )
        for item in data["items"]
    ]


def _title(data: dict[str, Any]) -> str:
    return f"{data['title']} — {data['document'].get('title') or data['document']['path']}"


def _summary(data: dict[str, Any]) -> str:
    """Counts, the checked file's name and the date of the check (UTC)."""
    import datetime

    s = data["summary"]
    name = Path(str(data["document"].get("path") or "")).name or "draft"
    day = datetime.datetime.now(datetime.UTC).date().isoformat()
    return (
        f"present {s['present']} · partial {s['partial']} · absent {s['absent']}"
        f" · file {name} · checked {day}"
    )


def to_markdown(data: dict[str, Any]) -> str:
    """Return the report as Markdown."""
    out = [f"# {_title(data)}", "", _summary(data), ""]
    for r in rows(data):
        out += [f"## {r[0]} — **{r[2]}** (confidence {r[7]})", "", f"*{r[1]}*", ""]
        if r[8]:
            out += [f"Why it matters: {r[8]}", ""]
        if r[3]:
            out += [f"Reason: {r[3]}", ""]
        if r[4]:
            out += [f"Evidence: {r[4]}", ""]
        out += [f"Reference: {r[5]}", ""]
        if r[6]:
            out += ["Good-practice examples:", ""] + [f"- {e}" for e in r[6].split("\n")] + [""]
    return "\n".join(out)


def to_html(data: dict[str, Any]) -> str:
    """Return the report as a standalone HTML page with one table."""
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>"
        + "".join(f"<td class='{esc(c.lower())}'>{esc(v).replace(chr(10), '<br>')}</td>"
                  for c, v in zip(COLUMNS, r, strict=True))
        + "</tr>"
        for r in rows(data)
    )  # fmt: skip
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{esc(_title(data))}</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:4px;vertical-align:top}</style></head><body>"
        f"<h1>{esc(_title(data))}</h1><p>{esc(_summary(data))}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )


def write_docx(data: dict[str, Any], path: Path) -> None:
    """Write the report as a Word document (python-docx)."""
    import docx

    document = docx.Document()
    document.add_heading(_title(data), level=1)
    document.add_paragraph(_summary(data))
    table = document.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = name
    for r in rows(data):
        cells = table.add_row().cells
        for cell, value in zip(cells, r, strict=True):
            cell.text = value
    document.save(str(path))


def write_xlsx(data: dict[str, Any], path: Path) -> None:
    """Write the report as an Excel workbook (openpyxl), one row per item."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "checklist"
    ws.append([_title(data)])
    ws.append([_summary(data)])
    ws.append(list(COLUMNS))
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for r in rows(data):
        ws.append(list(r))
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                # a draft's text starting with "=" is text, never a formula Excel would run
                # (formula injection: "=HYPERLINK(...)", "=WEBSERVICE(...)")
                cell.data_type = "s"
            if cell.row >= 4:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in zip("ABCDEFGHI", (28, 50, 10, 40, 70, 30, 60, 11, 50), strict=True):
        ws.column_dimensions[col].width = width
    wb.save(str(path))


def _text_writer(render: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any], Path], None]:
    def write(data: dict[str, Any], path: Path) -> None:
        path.write_text(render(data), encoding="utf-8")

    return write


WRITERS: dict[str, Callable[[dict[str, Any], Path], None]] = {
    ".md": _text_writer(to_markdown),
    ".html": _text_writer(to_html),
    ".docx": write_docx,
    ".xlsx": write_xlsx,
}


def write_report(data: dict[str, Any], path: Path) -> None:
    """Write a checklist report in the format given by ``path``'s suffix.

    Raises:
        ValueError: unknown suffix (the message lists :data:`FORMATS`).
        OSError: the file cannot be written.
    """
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise ValueError(f"{path}: unknown report format; valid: {', '.join(FORMATS)}")
    writer(data, path)
