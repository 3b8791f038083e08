"""Read an enterprise-year table from XLSX or CSV: every cell as text, with its Excel location.

Nothing is interpreted here: the header row and the cells come back as strings, so
nothing is lost (18-character credit codes, leading zeros), and the importer
decides what each cell means.

XLSX (also .xlsm/.xlsb/.xls/.ods) is read with calamine through ``fastexcel`` — the
engine behind ``polars.read_excel(engine="calamine")``. We call
``fastexcel.ExcelReader.load_sheet`` ourselves (polars 2.1, fastexcel 0.21) because
it gives what the error report needs and ``read_excel`` hides:

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
rows are empty its row 0 is not Excel row 1. :func:`_first_value_row` finds the real
row from the sheet XML (it stops at the first value, so it costs microseconds).

CSV is decoded as UTF-8 (a BOM is allowed), else as GB18030 — the superset of GBK
that Chinese Excel writes with "CSV (逗号分隔)". A file that is neither is refused.
For a CSV the sheet name is the file stem, as Excel shows it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
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


def read_table(path: str | Path, sheet: str | None = None) -> RawTable:
    """Read the sheet (or CSV) at ``path``.

    Args:
        path: an Excel workbook or a CSV file.
        sheet: the sheet to read; by default the first of :data:`SHEET_PREFERENCE`
            present, else the first sheet. Ignored for CSV.

    Returns:
        The table as text.

    Raises:
        ReadError: ``unreadable_file`` (missing, corrupt, unknown suffix),
            ``unknown_sheet`` or ``unreadable_encoding``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ReadError("unreadable_file", reason_zh="文件不存在", reason_en="no such file")
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, sheet)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
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


def _read_excel(path: Path, wanted: str | None) -> RawTable:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
        name = choose_sheet(names, wanted)
        sheet = reader.load_sheet(name, header_row=None, dtypes="string")
        frame = sheet.to_polars()
        positions = [c.absolute_index for c in sheet.available_columns()]
    except fastexcel.FastExcelError as exc:
        first = str(exc).splitlines()[0]
        raise ReadError(
            "unreadable_file", reason_zh=f"无法读取工作簿：{first}", reason_en=f"cannot read the workbook: {first}"
        ) from exc
    if frame.height == 0:
        return _table(path, "excel", name, names, [], [], frame, 2, None)
    headers = list(frame.row(0))
    first_row = _first_value_row(path, name)
    return _table(
        path, "excel", name, names, headers, [column_letter(p) for p in positions], frame.slice(1), first_row + 1, None
    )


def _read_csv(path: Path) -> RawTable:
    raw = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ReadError("unreadable_encoding", encodings=list(ENCODINGS))
    if not text.strip():
        return _table(path, "csv", path.stem, [path.stem], [], [], pl.DataFrame(), 2, encoding)
    try:
        frame = pl.read_csv(io.BytesIO(text.encode("utf-8")), has_header=False, infer_schema_length=0)
    except pl.exceptions.PolarsError:
        frame = _ragged_csv(text)
    headers = list(frame.row(0))
    letters = [column_letter(i) for i in range(frame.width)]
    return _table(path, "csv", path.stem, [path.stem], headers, letters, frame.slice(1), 2, encoding)


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


_CELL_REF = re.compile(r"[A-Z]+(\d+)")


def _first_value_row(path: Path, sheet: str) -> int:
    """Excel row (1-based) of the first cell that holds a value, read from the sheet XML.

    Returns 1 when the file is not an OOXML zip or the sheet part cannot be found.
    """
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    # S314: these are parts of the uploaded workbook itself, which the upload size cap has bounded and calamine has
    # already opened; ElementTree never fetches external entities and expat >= 2.4.1 stops entity-expansion bombs.
    try:
        with zipfile.ZipFile(path) as archive:
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314 - own XLSX part, see above
            rid = next(s.get(f"{rel_ns}id") for s in book.iter(f"{ns}sheet") if s.get("name") == sheet)
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314 - see above
            target = next(r.get("Target") for r in rels if r.get("Id") == rid)
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            with archive.open(part) as stream:
                for _, elem in ElementTree.iterparse(stream, events=("end",)):  # noqa: S314 - see above
                    if elem.tag == f"{ns}c" and (elem.find(f"{ns}v") is not None or elem.find(f"{ns}is") is not None):
                        match = _CELL_REF.fullmatch(elem.get("r") or "")
                        return int(match.group(1)) if match else 1
                    if elem.tag == f"{ns}row":
                        elem.clear()
    except (zipfile.BadZipFile, KeyError, StopIteration, ElementTree.ParseError, OSError):
        return 1
    return 1
