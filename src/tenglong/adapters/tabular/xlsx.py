"""The one place where tenglong writes spreadsheets: every XLSX workbook and every CSV file.

Workbooks
    :class:`Book` wraps an ``xlsxwriter.Workbook`` opened with :data:`SAFE_OPTIONS`
    (``strings_to_formulas``, ``strings_to_urls`` and ``strings_to_numbers`` off, time
    zones dropped), written to a path or to bytes, and in ``constant_memory`` mode when
    ``streaming=True`` (rows strictly in order, flat memory for 100,000+ rows). Its
    :class:`Sheet` writes typed cells: ``int``/``float``/``Decimal`` (and numpy numbers)
    become number cells, ``bool`` boolean cells, ``date``/``datetime`` date cells, and
    everything else a *text* cell through :func:`excel_text`. No other module of
    tenglong imports xlsxwriter.

    :data:`STYLES` and :data:`KINDS` are the shared styles: the bold shaded header,
    title and section lines, bordered table cells, green/red for met/unmet, and one
    style per column kind (money ``#,##0.00``, 万元 ``#,##0.00####``, percentages,
    dates, wrapped text, …). :meth:`Book.list_sheet` lays out a list: header row
    (units in the headers), column widths, frozen header, autofilter, one typed row per
    record. :meth:`Sheet.column_chart` draws a native clustered-column chart of a
    table already on the sheet.

Formula injection (OWASP "CSV injection")
    Text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
    what Excel, LibreOffice and WPS would run as a formula (``=HYPERLINK(…)``,
    ``=cmd|' /C calc'!A0``, ``@SUM(A1)``). :func:`neutralise` prefixes such text with an
    apostrophe, ``'=HYPERLINK(…)``, and it is written as a text cell, so the sheet
    shows it as text, and it stays text when the workbook is saved again as CSV or a
    cell is edited. Text that is exactly a decimal number (``-12.5``, ``+3``,
    ``1e-05``) is left alone: no spreadsheet runs it as a formula, and the import
    format relies on it (negative numbers in CSV). Real numbers are number cells and
    never touched.

Excel's cell limit
    A cell holds at most 32,767 characters (UTF-16 units). Longer text is never cut
    silently (xlsxwriter would): :func:`excel_text` keeps the first 32,700 units and
    appends :data:`TRUNCATED`, ``…（已截断，全文见 CSV/JSON 导出）(truncated)``, so the
    reader sees that the cell is incomplete and where the full text is. CSV fields
    have no such limit and are written in full.

CSV
    :func:`write_csv` writes UTF-8 with a BOM (so that Excel reads the Chinese), CRLF
    line ends, fields quoted only when needed, the same neutralisation of text, and
    ``None`` as an empty field, booleans as ``true``/``false``, numbers as the
    shortest text that reads back the same.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

SAFE_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
}
"""Options of every workbook: text is only ever text (no formulas, links or numbers guessed from it)."""

CELL_LIMIT = 32_767
"""Most characters (UTF-16 units) an Excel cell holds."""
KEEP = 32_700
"""Characters kept of a longer text, before :data:`TRUNCATED`."""
TRUNCATED = "…（已截断，全文见 CSV/JSON 导出）(truncated)"
"""Appended to a text cut at :data:`KEEP` characters."""
FORMULA_START = frozenset("=+-@\t\r")
"""First characters that make a spreadsheet read text as a formula."""
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

HEADER = {
    "bold": True,
    "bg_color": "#DDEBF7",
    "border": 1,
    "text_wrap": True,
    "valign": "vcenter",
    "align": "center",
}
STYLES: dict[str, dict[str, Any]] = {
    "header": HEADER,
    "title": {"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"},
    "heading": {"bold": True, "font_size": 14},
    "section": {"bold": True, "font_size": 12},
    "cell": {"border": 1},
    "cell_count": {"border": 1, "num_format": "#,##0"},
    "cell_indicator": {"border": 1, "num_format": "#,##0.0000"},
    "met": {"bg_color": "#C6EFCE", "font_color": "#006100"},
    "unmet": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
}
"""Named styles of headers, titles and summary tables."""

NUMBER_FORMATS = {
    "int": "0",
    "count": "#,##0",
    "score": "0.000",
    "indicator": "#,##0.0000",
    "pct": "0.00%",
    "rate": "0%",
    "money": "#,##0.00",
    "wan": "#,##0.00####",
    "mu": "#,##0.0000",
    "price": "0.00",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
"""Number formats of the numeric column kinds (money in 元 to the 分, 万元 with 2 to 6 decimals)."""
TEXT_KINDS = ("text", "wrap", "code")
KINDS: dict[str, dict[str, Any]] = {
    "text": {"valign": "top"},
    "wrap": {"valign": "top", "text_wrap": True},
    "code": {"valign": "top", "num_format": "@"},
    **{k: {"valign": "top", "num_format": v} for k, v in NUMBER_FORMATS.items()},
}
"""The style of each column kind: text kinds (text, wrap, code) and the numeric kinds of :data:`NUMBER_FORMATS`."""

CHART_COLOURS = ("#4472C4", "#ED7D31", "#A5A5A5", "#FFC000")


def neutralise(text: str) -> str:
    """``text`` that a spreadsheet will show as text, never run as a formula.

    >>> neutralise('=HYPERLINK("http://x","y")'), neutralise("-2+3"), neutralise("@SUM(A1)")
    ('\\'=HYPERLINK("http://x","y")', "'-2+3", "'@SUM(A1)")
    >>> neutralise("-12.5"), neutralise("临海市"), neutralise("")
    ('-12.5', '临海市', '')
    """
    if text[:1] in FORMULA_START and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(text: str) -> str:
    """``text`` within Excel's cell limit: longer text keeps its first :data:`KEEP` characters plus :data:`TRUNCATED`.

    >>> fit("短")
    '短'
    >>> out = fit("字" * 40_000); len(out) <= CELL_LIMIT, out.endswith(TRUNCATED)
    (True, True)
    """
    if len(text) <= CELL_LIMIT // 2 or _utf16_len(text) <= CELL_LIMIT:
        return text
    head = text.encode("utf-16-le")[: 2 * KEEP].decode("utf-16-le", "ignore")  # never half a surrogate pair
    return head + TRUNCATED


def excel_text(value: Any) -> str:
    """The text of a text cell: ``str(value)``, neutralised, then fitted to the cell limit."""
    return fit(neutralise(value if isinstance(value, str) else str(value)))


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, (bool, complex))


@dataclass(frozen=True)
class Column:
    """One column of a list sheet.

    Attributes:
        key: the key of the value in a row mapping (rows given as sequences are read by position).
        header: the header text; with ``unit`` it is shown as ``header(unit)``.
        width: the column width in characters.
        kind: ``text``, ``wrap``, ``code`` or a numeric kind of :data:`NUMBER_FORMATS`.
        unit: the unit, if any, shown in the header.
    """

    key: Any
    header: str
    width: float = 12
    kind: str = "text"
    unit: str = ""

    @property
    def title(self) -> str:
        """The header as shown: with the unit in brackets when there is one."""
        return f"{self.header}({self.unit})" if self.unit else self.header


@dataclass(frozen=True)
class ColumnChart:
    """A native clustered-column chart of a table on the sheet: one series per row.

    Attributes:
        title, x_title, y_title: the chart and axis titles.
        header_row: the row (0-based) of the table's header, whose cells ``first_col``
            to ``last_col`` are the categories.
        series_rows: the rows drawn; column 0 of each is the series name.
        first_col, last_col: the columns of the categories and values.
    """

    title: str
    x_title: str
    y_title: str
    header_row: int
    series_rows: Sequence[int]
    first_col: int = 1
    last_col: int = 4


class Sheet:
    """One worksheet: typed, guarded cell writes and the layout calls tenglong uses."""

    def __init__(self, book: Book, ws: Any) -> None:
        self.book = book
        self._ws = ws

    @property
    def name(self) -> str:
        """The sheet name."""
        return self._ws.name

    def _fmt(self, style: Any) -> Any:
        return self.book.style(style) if isinstance(style, str) else style

    def write(self, row: int, col: int, value: Any, style: Any = None) -> None:
        """One cell, typed by its value: number, boolean, date, or guarded text (``None`` leaves it empty).

        ``style`` is a name of :data:`STYLES` or :data:`KINDS`, a format from
        :meth:`Book.format`, or ``None``. Non-finite numbers are left empty.
        """
        fmt = self._fmt(style)
        if value is None:
            if fmt is not None:
                self._ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            self._ws.write_boolean(row, col, value, fmt)
        elif _is_number(value):
            number = float(value)
            if math.isfinite(number):
                self._ws.write_number(row, col, number, fmt)
            elif fmt is not None:
                self._ws.write_blank(row, col, None, fmt)
        elif isinstance(value, dt.datetime):
            self._ws.write_datetime(row, col, value, fmt or self.book.style("datetime"))
        elif isinstance(value, dt.date):
            self._ws.write_datetime(row, col, value, fmt or self.book.style("date"))
        else:
            self._ws.write_string(row, col, excel_text(value), fmt)

    def text(self, row: int, col: int, value: Any, style: Any = None) -> None:
        """One text cell, whatever the value (``str(value)``, guarded); ``None`` and ``""`` leave it empty."""
        if value is None or value == "":
            return
        self._ws.write_string(row, col, excel_text(value), self._fmt(style))

    def write_row(self, row: int, col: int, values: Iterable[Any], style: Any = None) -> None:
        """Cells ``values`` from ``col`` on, each typed as in :meth:`write`."""
        fmt = self._fmt(style)
        for j, v in enumerate(values, start=col):
            self.write(row, j, v, fmt)

    def column(self, first: int, last: int | None = None, width: float | None = None, style: Any = None) -> None:
        """Width (and default style) of columns ``first`` to ``last``."""
        self._ws.set_column(first, first if last is None else last, width, self._fmt(style))

    def widths(self, widths: Iterable[float]) -> None:
        """Widths of the first columns, in order."""
        for j, w in enumerate(widths):
            self._ws.set_column(j, j, w)

    def row_height(self, row: int, height: float) -> None:
        """Height of one row."""
        self._ws.set_row(row, height)

    def freeze(self, rows: int = 1, cols: int = 0) -> None:
        """Freeze the first ``rows`` rows (the header) and ``cols`` columns."""
        self._ws.freeze_panes(rows, cols)

    def autofilter(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        """An autofilter over the range."""
        self._ws.autofilter(first_row, first_col, last_row, last_col)

    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int, value: Any, style: Any) -> None:
        """Merged cells holding ``value`` (guarded like :meth:`write`)."""
        fmt = self._fmt(style)
        self._ws.merge_range(first_row, first_col, last_row, last_col, "", fmt)
        self.write(first_row, first_col, value, fmt)

    def highlight(self, first_row: int, col: int, last_row: int, equals: str, style: str) -> None:
        """Conditional format: cells of column ``col`` equal to the text ``equals`` take ``style`` (e.g. met)."""
        quoted = '"' + equals.replace('"', '""') + '"'
        self._ws.conditional_format(
            first_row,
            col,
            last_row,
            col,
            {"type": "cell", "criteria": "==", "value": quoted, "format": self._fmt(style)},
        )

    def validate(self, first_row: int, first_col: int, last_row: int, last_col: int, rule: dict[str, Any]) -> None:
        """Data validation (xlsxwriter's rule dict: drop-down lists, number ranges, input messages)."""
        self._ws.data_validation(first_row, first_col, last_row, last_col, rule)

    def table(
        self, top: int, header: Sequence[str], rows: Iterable[Sequence[Any]], number_style: str = "cell_count"
    ) -> int:
        """A bordered table from column 0: the header row at ``top``, then ``rows``.

        Numbers take ``number_style``, text the plain bordered style, and ``None`` shows "—".

        Returns:
            The first row after the table.
        """
        self.write_row(top, 0, header, "header")
        i = top + 1
        for row in rows:
            for j, v in enumerate(row):
                if v is None:
                    self.write(i, j, "—", "cell")
                else:
                    self.write(i, j, v, number_style if _is_number(v) else "cell")
            i += 1
        return i

    def column_chart(self, row: int, col: int, chart: ColumnChart, scale: tuple[float, float] = (1.2, 1.1)) -> None:
        """Insert a native clustered-column chart with its top-left corner at (row, col)."""
        c = self.book._wb.add_chart({"type": "column"})
        for k, colour in zip(chart.series_rows, CHART_COLOURS, strict=False):
            c.add_series(
                {
                    "name": [self.name, k, 0],
                    "categories": [self.name, chart.header_row, chart.first_col, chart.header_row, chart.last_col],
                    "values": [self.name, k, chart.first_col, k, chart.last_col],
                    "fill": {"color": colour},
                    "data_labels": {"value": True},
                }
            )
        c.set_title({"name": chart.title, "name_font": {"size": 12}})
        c.set_x_axis({"name": chart.x_title})
        c.set_y_axis({"name": chart.y_title, "major_gridlines": {"visible": True}})
        c.set_legend({"position": "bottom"})
        self._ws.insert_chart(row, col, c, {"x_scale": scale[0], "y_scale": scale[1]})


class Book:
    """One workbook being written, to ``target`` (a path) or to bytes (``target=None``).

    Use as a context manager, or call :meth:`close`, which returns the path or the bytes.

    Args:
        target: the .xlsx path, or ``None`` for bytes.
        streaming: ``constant_memory`` mode: every sheet is written strictly row by row,
            one sheet after the other, in flat memory (100,000+ rows).
    """

    def __init__(self, target: str | Path | None = None, *, streaming: bool = False) -> None:
        self._path = None if target is None else Path(target)
        self._buffer = io.BytesIO() if target is None else None
        options = dict(SAFE_OPTIONS)
        if streaming:
            options["constant_memory"] = True
        elif target is None:
            options["in_memory"] = True
        self._wb = xlsxwriter.Workbook(str(self._path) if self._path else self._buffer, options)
        self._styles: dict[Any, Any] = {}
        self._closed = False

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> bytes | Path:
        """Finish the file: the path written, or the workbook's bytes."""
        if not self._closed:
            self._wb.close()
            self._closed = True
        return self._path if self._path is not None else self._buffer.getvalue()

    def style(self, name: str) -> Any:
        """The shared style ``name`` of :data:`STYLES` or :data:`KINDS` (one format per workbook)."""
        if name not in self._styles:
            props = STYLES.get(name) or KINDS.get(name)
            if props is None:
                raise KeyError(f"unknown style {name!r}; use one of {', '.join([*STYLES, *KINDS])}")
            self._styles[name] = self._wb.add_format(props)
        return self._styles[name]

    def format(self, props: Mapping[str, Any]) -> Any:
        """A format of its own (e.g. a column's number format), one per distinct ``props``."""
        key = tuple(sorted(props.items()))
        if key not in self._styles:
            self._styles[key] = self._wb.add_format(dict(props))
        return self._styles[key]

    def sheet(self, name: str) -> Sheet:
        """A new worksheet (the name cut to Excel's 31 characters)."""
        return Sheet(self, self._wb.add_worksheet(name[:31]))

    def list_sheet(
        self,
        name: str,
        columns: Sequence[Column],
        rows: Iterable[Mapping[str, Any] | Sequence[Any]],
        *,
        header_height: float | None = 32,
        autofilter: bool = True,
    ) -> tuple[Sheet, int]:
        """A list: header row (frozen, autofilter), widths and styles per column, one typed row per record.

        Text kinds write ``str(value)`` as guarded text; numeric kinds write numbers as
        numbers in the column's format (and anything else as guarded text); ``None``
        and ``""`` leave a cell empty. Rows are mappings (read by ``column.key``) or
        sequences (read by position).

        Returns:
            (the sheet, the number of rows written).
        """
        ws = self.sheet(name)
        styles = [self.style(c.kind) for c in columns]
        for j, (c, fmt) in enumerate(zip(columns, styles, strict=True)):
            ws.column(j, j, c.width, fmt)
        if header_height:
            ws.row_height(0, header_height)
        header = self.style("header")
        for j, c in enumerate(columns):
            ws.write(0, j, c.title, header)
        ws.freeze(1, 0)
        texts = [c.kind in TEXT_KINDS for c in columns]
        keys = [c.key for c in columns]
        n = 0
        for n, row in enumerate(rows, start=1):
            values = [row.get(k) for k in keys] if isinstance(row, Mapping) else row
            for j, (v, fmt, text) in enumerate(zip(values, styles, texts, strict=True)):
                if v is None or v == "":
                    continue
                if text:
                    ws.text(n, j, v, fmt)
                else:
                    ws.write(n, j, v, fmt)
        if autofilter:
            ws.autofilter(0, 0, max(n, 1), len(columns) - 1)
        return ws, n


def list_workbook(
    sheet: str,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    target: str | Path | None = None,
    *,
    streaming: bool = False,
    notes_sheet: str | None = None,
    notes: Sequence[str] = (),
) -> bytes | Path:
    """One list sheet (see :meth:`Book.list_sheet`) and optionally a sheet of notes (its first line bold).

    Returns:
        The bytes of the workbook (``target=None``), or the path written.
    """
    with Book(target, streaming=streaming) as book:
        book.list_sheet(sheet, columns, rows)
        if notes_sheet:
            ws = book.sheet(notes_sheet)
            ws.column(0, 0, 90)
            for i, line in enumerate(notes):
                ws.text(i, 0, line, "section" if i == 0 else "text")
    return book.close()


def csv_field(value: Any) -> str:
    """The CSV text of one value (see the module docstring).

    >>> [csv_field(v) for v in (None, True, 3, 0.1, Decimal("1E+3"), "=1+1", "-1.5", float("nan"))]
    ['', 'true', '3', '0.1', '1000', "'=1+1", '-1.5', '']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else ""
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return repr(number) if math.isfinite(number) else ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(str(value))


def write_csv(
    target: str | Path | None, header: Sequence[str], rows: Iterable[Mapping[str, Any] | Sequence[Any]]
) -> bytes | Path:
    """A CSV file: UTF-8 with a BOM, CRLF, the header then one line per row, every field through :func:`csv_field`.

    Args:
        target: the path to write, or ``None`` for the bytes.
        header: the column names (and, for rows given as mappings, their keys).
        rows: sequences (by position) or mappings (by header).

    Returns:
        The path written, or the bytes.
    """

    def emit(out: Any) -> None:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([csv_field(h) for h in header])
        for row in rows:
            values = [row.get(h) for h in header] if isinstance(row, Mapping) else row
            writer.writerow([csv_field(v) for v in values])

    if target is None:
        buffer = io.StringIO()
        emit(buffer)
        return buffer.getvalue().encode("utf-8-sig")
    path = Path(target)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        emit(f)
    return path
