"""Read an enterprise-year table from XLSX or CSV: every cell as text, with its Excel location.

Nothing is interpreted here: the header row and the cells come back as strings, so
nothing is lost (18-character credit codes, leading zeros), and the importer
decides what each cell means.

Nothing is parsed before it is bounded, and nothing is parsed in this process: every
file goes through :mod:`.guard` (sizes, the zip's central directory, the sheet's cell
extent — a 1.6 KB .xlsx can otherwise ask calamine for 17 billion cells), then the
parse runs in a child process with memory and time limits (:mod:`.sandbox`). A refused
file raises :class:`~tenglong.adapters.tabular.guard.SheetTooLarge` (413) or
:class:`~tenglong.core.errors.InvalidInput` (422) with one bilingual problem; a file
the parser cannot read raises :class:`ReadError`, as before. Formats: .xlsx/.xlsm are
checked in full; .xls (at most 65,536 × 256 cells a sheet, no compression) is
size-checked and parsed in the child; .xlsb and .ods are refused with a message asking
for .xlsx (see the guard's docstring).

XLSX is read with calamine through ``fastexcel`` — the engine behind
``polars.read_excel(engine="calamine")``. We call ``fastexcel.ExcelReader.load_sheet``
ourselves (polars 2.1, fastexcel 0.21) because it gives what the error report needs and
``read_excel`` hides:

* ``header_row=None`` returns the header row as data, untouched (``read_excel``
  de-duplicates and renames headers);
* ``dtypes="string"`` reads every column as text, nothing inferred
  (``read_excel(infer_schema_length=0)`` does the same);
* blank rows are kept, so row numbers stay right (``read_excel`` drops them unless
  ``drop_empty_rows=False``);
* ``ColumnInfo.absolute_index`` is the sheet column, so letters are right even when
  column A is empty.

Numbers in string mode: calamine renders a numeric cell with 9 decimals and
trims trailing zeros — ``12.0`` → ``"12"``, ``0.1+0.2`` → ``"0.3"``, but the double
nearest 12345678901.23 → ``"12345678901.229999542"``. The importer therefore rounds
numeric text to 15 significant digits, the precision Excel itself keeps and shows.

Calamine's range starts at the first cell holding a value, so if the sheet's first
rows are empty its row 0 is not Excel row 1. The guard's scan of the sheet XML finds
the real row (the first ``<v>`` or ``<is>`` in document order, in the same bounded pass).

CSV is decoded as UTF-8 (a BOM is allowed), else as GB18030 — the superset of GBK
that Chinese Excel writes with "CSV (逗号分隔)". A file that is neither is refused.
For a CSV the sheet name is the file stem, as Excel shows it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from . import guard
from .guard import SheetLimits
from .sandbox import Sandbox

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
CHECKED_SUFFIXES = (".xlsx", ".xlsm")
"""Zip workbooks whose every part and cell extent the guard checks before the parse."""
REFUSED_SUFFIXES = {
    ".xlsb": ("Excel二进制工作簿(.xlsb)", "Excel Binary Workbook (.xlsb)"),
    ".ods": ("OpenDocument电子表格(.ods)", "OpenDocument Spreadsheet (.ods)"),
}
"""Formats whose cells cannot be checked without a parser: refused, asking for .xlsx."""
CSV_SUFFIXES = (".csv", ".txt")
SHEET_PREFERENCE = ("企业数据", "企业", "数据", "data")
"""Sheets read by default, in this order (case-insensitive); else the first sheet."""
ENCODINGS = ("utf-8-sig", "gb18030")
ROW = "_row"
"""Column of :attr:`RawTable.cells` holding the Excel row number."""


class ReadError(Exception):
    """The file cannot be read as a table; ``code`` and ``detail`` say why."""

    def __init__(self, code: str, **detail: object) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class RawTable:
    """A sheet as text.

    Attributes:
        path: the file.
        kind: ``"excel"`` or ``"csv"``.
        sheet: the sheet read (a CSV's file stem).
        sheets: every sheet of the workbook.
        headers: the header cells, ``None`` where blank.
        letters: the Excel column letter of each header.
        cells: one String column ``c0`` … ``cN`` per header plus :data:`ROW`; blank
            rows are already dropped.
        blank_rows: how many blank rows were dropped.
        encoding: the CSV encoding used (``None`` for Excel).
        header_row: the Excel row number of the header row.
    """

    path: Path
    kind: str
    sheet: str
    headers: tuple[str | None, ...]
    letters: tuple[str, ...]
    cells: pl.DataFrame
    blank_rows: int = 0
    sheets: tuple[str, ...] = field(default=())
    encoding: str | None = None
    header_row: int = 1


def column_letter(index: int) -> str:
    """Excel column letters of a 0-based index.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(702)
    ('A', 'Z', 'AA', 'AAA')
    """
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_table(
    path: str | Path, sheet: str | None = None, limits: SheetLimits | None = None, *, label: str | None = None
) -> RawTable:
    """Read the sheet (or CSV) at ``path``, through the guard and the sandbox.

    Args:
        path: an Excel workbook or a CSV file.
        sheet: the sheet to read; by default the first of :data:`SHEET_PREFERENCE`
            present, else the first sheet. Ignored for CSV.
        limits: the bounds of the file; by default those of the settings (``TENGLONG_SHEET_*``).
        label: the file's name in messages (default: the file name).

    Returns:
        The table as text.

    Raises:
        ReadError: ``unreadable_file`` (missing, corrupt, unknown suffix),
            ``unknown_sheet`` or ``unreadable_encoding``.
        SheetTooLarge: a size limit of ``limits`` is passed (413).
        InvalidInput: the file is refused otherwise — damaged, forged, a format that cannot be checked (422).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ReadError("unreadable_file", reason_zh="文件不存在", reason_en="no such file")
    limits = limits or guard.default_limits()
    where = label or path.name
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, sheet, limits, where)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path, limits, where)
    raise ReadError(
        "unreadable_file",
        reason_zh=f"不支持的文件类型 {suffix or '(无后缀)'}，请用 .xlsx 或 .csv",
        reason_en=f"unsupported file type {suffix or '(none)'}; use .xlsx or .csv",
    )


def choose_sheet(names: list[str], wanted: str | None) -> str:
    """The sheet to read (see :func:`read_table`)."""
    if wanted is not None:
        if wanted not in names:
            raise ReadError("unknown_sheet", sheet=wanted, sheets=list(names))
        return wanted
    folded = {n.strip().casefold(): n for n in names}
    for name in SHEET_PREFERENCE:
        if name in folded:
            return folded[name]
    if not names:
        raise ReadError("unreadable_file", reason_zh="工作簿中没有工作表", reason_en="the workbook has no sheet")
    return names[0]


def _read_excel(path: Path, wanted: str | None, limits: SheetLimits, where: str) -> RawTable:
    suffix = path.suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        kind_zh, kind_en = REFUSED_SUFFIXES[suffix]
        raise guard.refusal("unsupported_format", where, suffix, kind_zh=kind_zh, kind_en=kind_en)
    if suffix in CHECKED_SUFFIXES:
        book = guard.check_workbook(path, limits, where)
        names = book.names
        name = choose_sheet(names, wanted)
        with Sandbox(limits, where) as box:  # the child loads its parser while the sheet is checked
            first_row = guard.check_sheet(book, name, limits).first_value_row or 1
            parsed = box.parse("excel", path, sheet=name)
    else:  # .xls: no compression, at most 65,536 × 256 cells a sheet; bounded by the child alone
        guard.check_file_size(path, limits.max_file_bytes, where)
        with Sandbox(limits, where) as box:
            parsed = box.parse("excel", path, wanted=wanted)
        names, name, first_row = list(parsed.names), parsed.sheet or "", 1
    frame = parsed.frame
    if frame.height == 0:
        return _table(path, "excel", name, names, [], [], frame, 2, None)
    headers = list(frame.row(0))
    letters = [column_letter(p) for p in parsed.positions]
    return _table(path, "excel", name, names, headers, letters, frame.slice(1), first_row + 1, None)


def parse_excel(path: Path, sheet: str | None, wanted: str | None) -> tuple[list[str], str, pl.DataFrame, list[int]]:
    """The calamine parse: sheet names, the sheet read, its cells as text, their sheet columns.

    Runs only inside the sandbox child (:mod:`.sandbox`): calamine allocates the sheet's whole extent.
    """
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
        name = choose_sheet(names, wanted) if sheet is None else sheet
        if name not in names:
            raise ReadError("unknown_sheet", sheet=name, sheets=names)
        loaded = reader.load_sheet(name, header_row=None, dtypes="string")
        frame = loaded.to_polars()
        positions = [c.absolute_index for c in loaded.available_columns()]
    except fastexcel.FastExcelError as exc:
        first = str(exc).splitlines()[0]
        raise ReadError(
            "unreadable_file", reason_zh=f"无法读取工作簿：{first}", reason_en=f"cannot read the workbook: {first}"
        ) from exc
    return names, name, frame, positions


def _read_csv(path: Path, limits: SheetLimits, where: str) -> RawTable:
    with Sandbox(limits, where) as box:  # the child loads its parser while the file is checked
        guard.check_csv(path, limits, where)
        parsed = box.parse("csv", path)
    frame, encoding = parsed.frame, parsed.encoding
    if frame.width == 0:
        return _table(path, "csv", path.stem, [path.stem], [], [], pl.DataFrame(), 2, encoding)
    headers = list(frame.row(0))
    letters = [column_letter(i) for i in range(frame.width)]
    return _table(path, "csv", path.stem, [path.stem], headers, letters, frame.slice(1), 2, encoding)


def parse_csv(path: Path) -> tuple[pl.DataFrame, str]:
    """Decode (UTF-8, else GB18030) and parse a CSV: every cell as text, no header taken out (an empty frame when
    the text is blank), and the encoding. Runs only inside the sandbox child.
    """
    raw = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ReadError("unreadable_encoding", encodings=list(ENCODINGS))
    del raw
    if not text.strip():
        return pl.DataFrame(), encoding
    try:
        frame = pl.read_csv(io.BytesIO(text.encode("utf-8")), has_header=False, infer_schema_length=0)
    except pl.exceptions.PolarsError:
        try:
            frame = _ragged_csv(text)
        except csv.Error as exc:  # e.g. a quoted field longer than the csv module's field limit
            raise ReadError(
                "unreadable_file", reason_zh=f"CSV格式有误：{exc}", reason_en=f"the CSV is malformed: {exc}"
            ) from exc
    return frame, encoding


def _ragged_csv(text: str) -> pl.DataFrame:
    """Rows of unequal length (a title line above the header, say), padded to the widest row.

    polars takes the width from the first line and refuses longer rows; the stdlib
    reader is slower but takes any shape, and this path is only for such files.
    """
    rows = list(csv.reader(io.StringIO(text, newline="")))
    width = max(len(r) for r in rows)
    columns = zip(*(r + [""] * (width - len(r)) for r in rows), strict=True)
    return pl.DataFrame(
        {f"column_{i}": list(c) for i, c in enumerate(columns)}, schema={f"column_{i}": pl.String for i in range(width)}
    )


def _table(path, kind, sheet, sheets, headers, letters, data: pl.DataFrame, first_data_row: int, encoding) -> RawTable:
    """Rename columns to c0…, number the rows, drop blank rows and blank unnamed columns."""
    names = [f"c{i}" for i in range(len(headers))]
    data = data.rename(dict(zip(data.columns, names, strict=True))) if names else pl.DataFrame()
    data = data.with_columns(pl.int_range(first_data_row, first_data_row + data.height, dtype=pl.Int64).alias(ROW))
    headers = [h if h is not None and h.strip() else None for h in headers]
    empty = {n: data[n].str.strip_chars().fill_null("").eq("").all() for n in names}
    keep = [i for i, n in enumerate(names) if headers[i] is not None or not empty[n]]
    data = data.select([names[i] for i in keep] + [ROW]).rename({names[i]: f"c{j}" for j, i in enumerate(keep)})
    cells = [c for c in data.columns if c != ROW]
    if cells:
        blank = pl.all_horizontal([pl.col(c).str.strip_chars().fill_null("").eq("") for c in cells])
        before = data.height
        data = data.filter(~blank)
        blank_rows = before - data.height
    else:
        blank_rows, data = data.height, data.clear()
    return RawTable(
        path,
        kind,
        sheet,
        tuple(headers[i] for i in keep),
        tuple(letters[i] for i in keep),
        data,
        blank_rows,
        tuple(sheets),
        encoding,
        first_data_row - 1,
    )
