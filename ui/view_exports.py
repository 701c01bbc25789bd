"""Files and HTML made from the views of :mod:`migralex.ui.views`: the coverage matrix as XLSX
(openpyxl), the good-practice gallery as PPTX slides (python-pptx) and as a printable HTML
handout, and the HTML of a side-by-side comparison. Every text is escaped; spans are 0-based,
end-exclusive offsets into the text they mark.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: Cell fill per status (ARGB for openpyxl, CSS for HTML): green, amber, red.
STATUS_COLORS: dict[str, str] = {"present": "C6EFCE", "partial": "FFEB9C", "absent": "FFC7CE"}
#: Longest quote written into one XLSX cell or slide (characters; the clause id leads on).
CELL_QUOTE_CHARS = 400
SLIDE_QUOTE_CHARS = 700


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def marked_html(text: str, spans: Sequence[Sequence[int]], mark_style: str = "") -> str:
    """``text`` escaped, each ``[start, end]`` span (offsets in ``text``, sorted or not,
    overlaps merged) wrapped in ``<mark>``."""
    merged: list[list[int]] = []
    for a, b in sorted((int(s[0]), int(s[1])) for s in spans if 0 <= s[0] < s[1] <= len(text)):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, pos = [], 0
    style = f' style="{html.escape(mark_style, quote=True)}"' if mark_style else ""
    for a, b in merged:
        out.append(html.escape(text[pos:a]))
        out.append(f"<mark{style}>{html.escape(text[a:b])}</mark>")
        pos = b
    out.append(html.escape(text[pos:]))
    return "".join(out)


def segments_html(text: str, segments: Sequence[Mapping[str, Any]]) -> str:
    """One compared clause as HTML: shared words plain, its own wording highlighted
    (``<mark class="mlx-diff">``), in a ``<div>`` that keeps line breaks."""
    parts = []
    for seg in segments:
        piece = html.escape(text[seg["start"] : seg["end"]])
        if seg["shared"] or not piece.strip():
            parts.append(piece)
        else:
            parts.append(
                f'<mark class="mlx-diff" style="background:#ffe08a;padding:0 1px">{piece}</mark>'
            )
    return (
        '<div class="mlx-compare" style="white-space:pre-wrap;line-height:1.5;'
        f'font-size:0.92rem">{"".join(parts)}</div>'
    )


# --------------------------------------------------------------------------------------------
# Matrix -> XLSX
# --------------------------------------------------------------------------------------------


def cell_text(cell: Mapping[str, Any]) -> str:
    """What one XLSX matrix cell says: status, citation, page and the quote (clipped to
    :data:`CELL_QUOTE_CHARS`)."""
    lines = [cell["status"]]
    if cell.get("citation"):
        page = f", p. {cell['page_start']}" if cell.get("page_start") else ""
        lines.append(f"{cell['citation']}{page}")
    if cell.get("quote"):
        lines.append(f"“{_clip(cell['quote'], CELL_QUOTE_CHARS)}”")
    return "\n".join(lines)


def write_matrix_xlsx(data: Mapping[str, Any], path: Path) -> None:
    """Write a :func:`~migralex.ui.views.matrix` result as an XLSX workbook: one sheet per
    checklist (a row per agreement, a column per item, the cell coloured by status with the
    evidence article and quote; the clause id in the cell's comment) and a "C102 branches"
    sheet (a row per agreement, "yes" where a clause carries the branch tag).

    Raises:
        OSError: the file cannot be written.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill

    from migralex.ui.app_views import tag_label

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    facts = ("title", "kind", "language", "parties", "year")
    for cid, checklist in data["checklists"].items():
        ws = wb.create_sheet(cid[:31])
        items = checklist["items"]
        ws.append([*facts, *(i["id"] for i in items)])
        for cell in ws[1]:
            cell.font = bold
            cell.alignment = wrap
        for doc in (d for d in data["documents"] if d["checklist"] == cid):
            row = [
                doc["title"],
                doc["kind"],
                doc["language"],
                "; ".join(doc["parties"]),
                doc["year"],
            ]
            ws.append(row + [cell_text(doc["cells"][i["id"]]) for i in items])
            r = ws.max_row
            for k, item in enumerate(items):
                c = ws.cell(row=r, column=len(facts) + 1 + k)
                cell = doc["cells"][item["id"]]
                c.fill = PatternFill("solid", fgColor=STATUS_COLORS.get(cell["status"], "FFFFFF"))
                c.alignment = wrap
                if cell.get("clause_id"):
                    c.comment = Comment(
                        f"{cell['clause_id']}\n{cell.get('reason', '')}", "migralex"
                    )
            ws.cell(row=r, column=1).alignment = wrap
        ws.column_dimensions["A"].width = 50
        for k in range(len(items)):
            ws.column_dimensions[ws.cell(row=1, column=len(facts) + 1 + k).column_letter].width = 40
        ws.freeze_panes = ws.cell(row=2, column=2)
    ws = wb.create_sheet("C102 branches")
    ws.append(["title", "kind", *(tag_label(b) for b in data["branches"])])
    for cell in ws[1]:
        cell.font = bold
    for doc in data["documents"]:
        ws.append(
            [
                doc["title"],
                doc["kind"],
                *("yes" if doc["branches"].get(b) else "" for b in data["branches"]),
            ]
        )
    ws.column_dimensions["A"].width = 50
    wb.save(path)


# --------------------------------------------------------------------------------------------
# Gallery -> PPTX and HTML
# --------------------------------------------------------------------------------------------


def _met(provision: Mapping[str, Any], criteria: Mapping[str, str]) -> list[str]:
    return [words for name, words in criteria.items() if provision["criteria"].get(name)]


def write_gallery_pptx(data: Mapping[str, Any], path: Path) -> None:
    """Write a :func:`~migralex.ui.views.gallery` result as slides a trainer can present: a
    title slide, then per item a slide with its question, why it matters and the standard,
    and one slide per provision (agreement, article, the quote with the item's words in
    bold, the criteria it meets).

    Raises:
        OSError: the file cannot be written.
    """
    from pptx import Presentation
    from pptx.util import Pt

    prs = Presentation()
    title_layout, content_layout = prs.slide_layouts[0], prs.slide_layouts[1]
    slide = prs.slides.add_slide(title_layout)
    slide.shapes.title.text = "Good-practice provisions"
    filters = [x for x in (data.get("principle"), data.get("standard")) if x]
    subtitle = slide.placeholders[1]
    subtitle.text = "migralex gallery" + (f" — {', '.join(filters)}" if filters else "")
    for item in data["items"]:
        slide = prs.slides.add_slide(content_layout)
        slide.shapes.title.text = item["question"]
        body = slide.placeholders[1].text_frame
        body.text = item["why"]
        p = body.add_paragraph()
        p.text = f"Standard: {item['reference']}"
        p = body.add_paragraph()
        p.text = f"{len(item['provisions'])} provision(s) from the store follow"
        for par in body.paragraphs:
            for run in par.runs:
                run.font.size = Pt(18)
        for prov in item["provisions"]:
            slide = prs.slides.add_slide(content_layout)
            slide.shapes.title.text = _clip(f"{prov['doc_title']}", 90)
            frame = slide.placeholders[1].text_frame
            frame.word_wrap = True
            frame.text = f"{prov['citation']} ({prov['status']})"
            quote = frame.add_paragraph()
            text = prov["quote"]
            pos = 0
            limit = SLIDE_QUOTE_CHARS
            for a, b in sorted(tuple(s) for s in prov["spans"]):
                if a >= limit or a < pos:
                    continue
                quote.add_run().text = " ".join(text[pos:a].split()) + " "
                bold = quote.add_run()
                bold.text = " ".join(text[a:b].split()) + " "
                bold.font.bold = True
                pos = b
            rest = " ".join(text[pos:limit].split())
            quote.add_run().text = rest + ("…" if len(text) > limit else "")
            for words in _met(prov, data["criteria"]):
                p = frame.add_paragraph()
                p.text = f"✓ {words}"
                p.level = 1
            p = frame.add_paragraph()
            p.text = f"Standard: {item['reference']}"
            p.level = 1
            for par in frame.paragraphs:
                for run in par.runs:
                    run.font.size = Pt(12)
    prs.save(str(path))


_HANDOUT_CSS = """
body { font-family: Georgia, serif; max-width: 48rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #999; }
.why { font-style: italic; } .ref { color: #555; font-size: 0.9rem; }
.prov { border: 1px solid #ccc; border-radius: 4px; padding: 0.6rem 0.9rem; margin: 0.8rem 0;
        page-break-inside: avoid; }
.quote { white-space: pre-wrap; line-height: 1.45; }
mark { background: #fff3b0; }
ul.crit { margin: 0.3rem 0 0 1rem; padding: 0; font-size: 0.9rem; }
@media print { h2 { page-break-before: auto; } a { color: inherit; text-decoration: none; } }
"""


def gallery_html(data: Mapping[str, Any]) -> str:
    """A :func:`~migralex.ui.views.gallery` result as a printable HTML handout (one
    self-contained page; the item's words highlighted with ``<mark>``)."""
    e = html.escape
    filters = [x for x in (data.get("principle"), data.get("standard")) if x]
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Good-practice provisions</title><style>{_HANDOUT_CSS}</style></head><body>",
        f"<h1>Good-practice provisions{e(' — ' + ', '.join(filters)) if filters else ''}</h1>",
    ]
    for item in data["items"]:
        out.append(f"<h2>{e(item['question'])}</h2>")
        out.append(f"<p class='why'>{e(item['why'])}</p>")
        out.append(f"<p class='ref'>Standard: {e(item['reference'])} · {e(item['id'])}</p>")
        if not item["provisions"]:
            out.append("<p>No agreement in the store has this provision.</p>")
        for prov in item["provisions"]:
            page = f", p. {prov['page_start']}" if prov.get("page_start") else ""
            out.append("<div class='prov'>")
            out.append(
                f"<p><strong>{e(prov['doc_title'])}</strong><br>{e(prov['citation'])}{e(page)}"
                f" · {e(prov['status'])}</p>"
            )
            out.append(f"<div class='quote'>{marked_html(prov['quote'], prov['spans'])}</div>")
            met = _met(prov, data["criteria"])
            if met:
                out.append("<ul class='crit'>" + "".join(f"<li>{e(m)}</li>" for m in met) + "</ul>")
            out.append("</div>")
    out.append("</body></html>")
    return "\n".join(out)
