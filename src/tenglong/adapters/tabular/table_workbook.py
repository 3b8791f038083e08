"""Workbooks of stored rows for the platform: a filtered list, and an evaluation run with its summary sheet.

The caller (the web layer) gives the translated headers and texts; this module
only lays them out with xlsxwriter, in the styles of ``results_writer``: bold
header row frozen, autofilter, widths and number formats per column (money with
thousands separators and two decimals), and for a run a summary sheet with a
native clustered-column chart of the class counts.

Excel stores numbers as doubles, so money (``Decimal``) is written as a number
at the last step; every value with two decimals up to 10¹³ 元 reads back exactly.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter

from .results_writer import _formats, write_benchmarks

NUMBER_FORMATS = {
    "int": "0",
    "count": "#,##0",
    "score": "0.000",
    "indicator": "#,##0.0000",
    "pct": "0.00%",
    "money": "#,##0.00",
    "mu": "#,##0.0000",
    "rate": "0%",
    "price": "0.00",
}
TEXT_KINDS = ("text", "wrap")


@dataclass(frozen=True)
class Column:
    """One column: the key in the row dicts, its header, width and kind (text, wrap, int, count, score, indicator, pct, money, mu, rate, price)."""

    key: str
    header: str
    width: float = 12
    kind: str = "text"


@dataclass
class RunSummary:
    """The texts and tables of a run's summary sheet, already translated."""

    title: str
    lines: list[str]
    class_header: list[str]
    class_rows: list[tuple[str, list[int]]]
    chart_title: str
    chart_x: str
    chart_y: str
    target_title: str
    target_header: list[str]
    target_rows: list[tuple[list[str], bool]]
    bench_title: str
    bench_header: list[str]
    bench_rows: list[tuple[str, str, float | None, str]]
    class_title: str = ""
    chart_rows: int = 2  # the first rows of the class table drawn in the chart (规上, 规下 — not the total)
    notes: list[str] = field(default_factory=list)


def _styles(wb: xlsxwriter.Workbook) -> dict[str, Any]:
    fmt = _formats(wb)
    fmt.update({k: wb.add_format({"valign": "top", "num_format": v}) for k, v in NUMBER_FORMATS.items()})
    fmt["wrap"] = wb.add_format({"valign": "top", "text_wrap": True})
    fmt["text"] = wb.add_format({"valign": "top"})
    return fmt


def _list_sheet(
    wb: xlsxwriter.Workbook, fmt: dict[str, Any], name: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]]
) -> int:
    """Header row (frozen, autofilter) and one row per dict; returns the number of rows written."""
    ws = wb.add_worksheet(name[:31])
    for j, c in enumerate(columns):
        ws.set_column(j, j, c.width, fmt[c.kind])
    ws.set_row(0, 32)
    for j, c in enumerate(columns):
        ws.write_string(0, j, c.header, fmt["header"])
    ws.freeze_panes(1, 0)
    n = 0
    for n, row in enumerate(rows, start=1):
        for j, c in enumerate(columns):
            v = row.get(c.key)
            if v is None or v == "":
                continue
            if c.kind in TEXT_KINDS:
                ws.write_string(n, j, str(v), fmt[c.kind])
            else:
                ws.write_number(n, j, float(v) if isinstance(v, Decimal) else v, fmt[c.kind])
    ws.autofilter(0, 0, max(n, 1), len(columns) - 1)
    return n


def list_workbook(
    sheet: str,
    columns: Sequence[Column],
    rows: Iterable[dict[str, Any]],
    notes_sheet: str | None = None,
    notes: Sequence[str] = (),
) -> bytes:
    """One list sheet (and optionally a sheet of notes, e.g. the filters used), as XLSX bytes."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    fmt = _styles(wb)
    _list_sheet(wb, fmt, sheet, columns, rows)
    if notes_sheet:
        ws = wb.add_worksheet(notes_sheet[:31])
        ws.set_column(0, 0, 90)
        for i, line in enumerate(notes):
            ws.write_string(i, 0, line, fmt["section"] if i == 0 else fmt["text"])
    wb.close()
    return buf.getvalue()


def run_workbook(
    summary: RunSummary, summary_sheet: str, sheet: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]]
) -> bytes:
    """The summary sheet (class counts with a native chart, targets, benchmarks) and the results sheet, as XLSX bytes."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    fmt = _styles(wb)
    ws = wb.add_worksheet(summary_sheet[:31])
    for j, w in enumerate((26, 16, 20, 12, 10, 10, 12)):
        ws.set_column(j, j, w)
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, 6, summary.title, fmt["title"])
    for i, text in enumerate(summary.lines, start=1):
        ws.write_string(i, 0, text)
    top = len(summary.lines) + 2
    ws.write_string(top, 0, summary.class_title, fmt["section"])
    header = top + 1
    for j, v in enumerate(summary.class_header):
        ws.write_string(header, j, v, fmt["header"])
    for i, (label, counts) in enumerate(summary.class_rows, start=1):
        ws.write_string(header + i, 0, label, fmt["cell"])
        for j, v in enumerate(counts, start=1):
            ws.write_number(header + i, j, v, fmt["count"])
    chart = wb.add_chart({"type": "column"})
    for k, colour in zip(
        range(1, min(summary.chart_rows, len(summary.class_rows)) + 1), ("#4472C4", "#ED7D31", "#A5A5A5", "#FFC000")
    ):
        chart.add_series(
            {
                "name": [ws.name, header + k, 0],
                "categories": [ws.name, header, 1, header, 4],
                "values": [ws.name, header + k, 1, header + k, 4],
                "fill": {"color": colour},
                "data_labels": {"value": True},
            }
        )
    chart.set_title({"name": summary.chart_title, "name_font": {"size": 12}})
    chart.set_x_axis({"name": summary.chart_x})
    chart.set_y_axis({"name": summary.chart_y, "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    ws.insert_chart(top, 8, chart, {"x_scale": 1.2, "y_scale": 1.1})

    top = header + len(summary.class_rows) + 2
    ws.write_string(top, 0, summary.target_title, fmt["section"])
    for j, v in enumerate(summary.target_header):
        ws.write_string(top + 1, j, v, fmt["header"])
    for i, (cells, met) in enumerate(summary.target_rows, start=2):
        for j, v in enumerate(cells):
            ws.write_string(top + i, j, v, fmt["cell"])
        ws.write_string(top + i, len(cells) - 1, cells[-1], fmt["met" if met else "unmet"])
    top += len(summary.target_rows) + 3
    ws.write_string(top, 0, summary.bench_title, fmt["section"])
    i = write_benchmarks(ws, fmt, top + 1, summary.bench_header, summary.bench_rows)
    for k, note in enumerate(summary.notes):
        ws.write_string(i + 1 + k, 0, note)
    _list_sheet(wb, fmt, sheet, columns, rows)
    wb.close()
    return buf.getvalue()
