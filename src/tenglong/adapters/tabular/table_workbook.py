"""Workbooks of stored rows for the platform: a filtered list, and an evaluation run with its summary sheet.

The caller (the web layer) gives the translated headers, texts and plain rows; this
module only lays them out through :mod:`.xlsx`, in the shared styles: bold header
row frozen, autofilter, widths and number formats per column (money with thousands
separators and two decimals), and for a run a summary sheet with a native
clustered-column chart of the class counts. Text is guarded against formula
injection and Excel's cell limit there.

Excel stores numbers as doubles, so money (``Decimal``) is written as a number
at the last step; every value with two decimals up to 10¹³ 元 reads back exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import xlsx
from .xlsx import Book, Column, ColumnChart

__all__ = ["Column", "RunSummary", "list_workbook", "run_workbook"]


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


def list_workbook(
    sheet: str,
    columns: Sequence[Column],
    rows: Iterable[dict[str, Any]],
    notes_sheet: str | None = None,
    notes: Sequence[str] = (),
) -> bytes:
    """One list sheet (and optionally a sheet of notes, e.g. the filters used), as XLSX bytes."""
    return xlsx.list_workbook(sheet, columns, rows, notes_sheet=notes_sheet, notes=notes)


def run_workbook(
    summary: RunSummary, summary_sheet: str, sheet: str, columns: Sequence[Column], rows: Iterable[dict[str, Any]]
) -> bytes:
    """The summary sheet (class counts with a native chart, targets, benchmarks) and the results sheet, as bytes."""
    with Book() as book:
        ws = book.sheet(summary_sheet)
        ws.widths((26, 16, 20, 12, 10, 10, 12))
        ws.row_height(0, 30)
        ws.merge(0, 0, 0, 6, summary.title, "title")
        for i, text in enumerate(summary.lines, start=1):
            ws.write(i, 0, text)
        top = len(summary.lines) + 2
        ws.write(top, 0, summary.class_title, "section")
        header = top + 1
        ws.table(header, summary.class_header, [[label, *counts] for label, counts in summary.class_rows])
        drawn = min(summary.chart_rows, len(summary.class_rows))
        ws.column_chart(
            top,
            8,
            ColumnChart(
                summary.chart_title,
                summary.chart_x,
                summary.chart_y,
                header_row=header,
                series_rows=range(header + 1, header + 1 + drawn),
            ),
        )

        top = header + len(summary.class_rows) + 2
        ws.write(top, 0, summary.target_title, "section")
        ws.write_row(top + 1, 0, summary.target_header, "header")
        for i, (cells, met) in enumerate(summary.target_rows, start=2):
            ws.write_row(top + i, 0, cells[:-1], "cell")
            ws.write(top + i, len(cells) - 1, cells[-1], "met" if met else "unmet")
        top += len(summary.target_rows) + 3
        ws.write(top, 0, summary.bench_title, "section")
        i = ws.table(top + 1, summary.bench_header, summary.bench_rows, "cell_indicator")
        for k, note in enumerate(summary.notes):
            ws.write(i + 1 + k, 0, note)
        book.list_sheet(sheet, columns, rows)
    return book.close()
