"""Write enterprise-year tables in the import format, and the import error report.

The export is what a bureau would send in: Chinese headers with money in 万元
(``lang="zh"``) or English headers with money in 元 (``lang="en"``), towns by name
(zh) or code (en), yes/no as 是/否 (zh) or true/false (en), the A.3.16 tags by their Chinese
names (zh, ``上市企业、国家“小巨人”企业``; 无 for none) or keys (en). A frame without a ``tags``
column (a table read back from the database) gets an empty 企业标签 column: tags unchanged.

Unit conversion is exact: a value is written as the shortest text that reads back
as the same double (``repr``), and 万元 only moves the decimal point of that text
(``Decimal(repr(x)).scaleb(-4)``), so 12345.67 元 is written 1.234567 万元, never
1.2345670000000001. XLSX cells hold that decimal as a number (the nearest double);
the importer reads it back to the same 元 value. Text that is not a number (the
planted ``non_numeric`` defects) is written as text, unchanged.

XLSX is written through :mod:`.xlsx` in ``constant_memory`` mode (rows in order,
flat memory); CSV is UTF-8 with a BOM so that Excel opens it with the right
encoding. Both guard text against formula injection (see :mod:`.xlsx`): a name
such as ``=HYPERLINK(…)`` is written ``'=HYPERLINK(…)``; numbers, including
negative decimal text, are written unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl

from ...core.reference_data import towns
from .columns import SPECS, TAG_CATEGORIES, VETOES
from .xlsx import Book, Column, write_csv

NUMERIC_KINDS = ("number", "integer", "year")


def _shift(text: str | None, shift: int) -> str | None:
    """``text`` × 10**-shift as plain decimal text; non-numbers unchanged.

    >>> _shift("12345.67", 4), _shift("0.0", 4), _shift("约1200万", 4), _shift("1e+16", 4)
    ('1.234567', '0', '约1200万', '1000000000000')
    """
    if text is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    out = format(number.scaleb(-shift), "f")
    return out.rstrip("0").rstrip(".") if "." in out else out


def import_cells(frame: pl.DataFrame, lang: str = "zh") -> dict[str, list[Any]]:
    """The cells of an export: header → list of values (str, float, int, bool or None).

    Args:
        frame: the canonical frame, or the defect frame of the demo generator
            (measure columns as text).
        lang: ``"zh"`` (Chinese headers, 万元) or ``"en"`` (English headers, 元).

    Returns:
        Columns in :data:`~tenglong.adapters.tabular.columns.SPECS` order. Numeric
        cells are decimal text; booleans are 是/否 (zh) or Python bools (en).
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', e.g. lang='zh'; got {lang!r}")
    town_names = {t.code: t.name_zh for t in towns()}
    out: dict[str, list[Any]] = {}
    for spec in SPECS:
        column = frame[spec.key] if spec.key in frame.columns else pl.Series(spec.key, [None] * frame.height, pl.String)
        if spec.kind == "tags":
            values = [_tag_text(v, lang) for v in column.cast(pl.String)]
        elif spec.kind in NUMERIC_KINDS:
            texts = column.to_list() if column.dtype == pl.String else [None if v is None else repr(v) for v in column]
            unit = spec.unit_for(lang)
            values = [_shift(t, unit.shift) for t in texts] if unit and unit.shift else texts
        elif spec.kind == "bool":
            values = [None if v is None else ("是" if v else "否") if lang == "zh" else bool(v) for v in column]
        elif spec.key == "town" and lang == "zh":
            values = [None if v is None else town_names.get(v, v) for v in column]
        elif spec.key == "veto" and lang == "zh":
            values = [VETOES.get(v, v) if v else None for v in column]
        else:
            values = [v if v != "" else None for v in column.cast(pl.String)]
        out[spec.header(lang)] = values
    return out


_TAG_NAMES = {c.key: c.zh for c in TAG_CATEGORIES}


def _tag_text(keys: str | None, lang: str) -> str | None:
    """A canonical tags value (``listed,little_giant``; ``""`` none; null unchanged) as the import cell of ``lang``.

    >>> _tag_text("listed,little_giant", "zh"), _tag_text("", "zh"), _tag_text("listed,key_2513", "en")
    ('上市企业、国家“小巨人”企业', '无', 'listed,key_2513')
    """
    if keys is None:
        return None
    if lang == "en":
        return keys or "none"
    return "、".join(_TAG_NAMES.get(k, k) for k in keys.split(",") if k) or "无"


def write_enterprise_years(
    frame: pl.DataFrame, path: str | Path, *, lang: str = "zh", sheet: str | None = None
) -> Path:
    """Write ``frame`` in the import format to ``path`` (.xlsx or .csv).

    Args:
        frame: see :func:`import_cells`.
        path: the output; the suffix chooses the format.
        lang: ``"zh"`` or ``"en"``.
        sheet: the sheet name (default 企业数据 / data).

    Returns:
        The path written.
    """
    path = Path(path)
    cells = import_cells(frame, lang)
    if path.suffix.lower() == ".csv":
        return write_csv(path, list(cells), zip(*cells.values(), strict=True))
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"the output must end in .xlsx or .csv, e.g. county.xlsx; got {path.name!r}")
    numeric = {spec.header(lang) for spec in SPECS if spec.kind in NUMERIC_KINDS}
    values = [[_as_number(v) for v in vs] if h in numeric else vs for h, vs in cells.items()]
    with Book(path, streaming=True) as book:
        ws = book.sheet(sheet or ("企业数据" if lang == "zh" else "data"))
        ws.freeze(1, 0)
        for i, header in enumerate(cells):
            ws.column(i, i, 22 if i in (0, 1) else max(10, min(24, len(header.encode("gbk")) + 2)))
        ws.write_row(0, 0, list(cells), "header")
        for r, row in enumerate(zip(*values, strict=True), start=1):
            ws.write_row(r, 0, row)
    return path


def _as_number(text: str | None) -> float | str | None:
    """A number cell for numeric text; anything else stays text."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


_REPORT_COLUMNS = (
    Column("seq", "序号 No.", 6, "int"),
    Column("level", "级别 level", 9),
    Column("code", "错误代码 code", 26),
    Column("where", "位置 cell", 34, "wrap"),
    Column("sheet", "工作表 sheet", 12),
    Column("row", "行 row", 7, "int"),
    Column("column", "列 column", 8),
    Column("header", "表头 header", 18),
    Column("value", "原值 value", 20),
    Column("expected_zh", "应为", 30, "wrap"),
    Column("expected_en", "expected", 30, "wrap"),
    Column("example", "示例 example", 20),
    Column("message_zh", "说明", 70, "wrap"),
    Column("message_en", "message", 70, "wrap"),
)


@dataclass
class ErrorReport:
    """What the error report shows, as plain data.

    Attributes:
        rows: one mapping per problem, keyed like the report columns (level, code,
            where, sheet, row, column, header, value, expected_zh, expected_en,
            example, message_zh, message_en).
        file, sheet, language: the file read, its sheet and its header language.
        rows_read, rows_valid, errors, skipped: the counts.
        by_code: the number of errors of each code.
    """

    rows: list[Mapping[str, Any]]
    file: str | None
    sheet: str | None
    language: str | None
    rows_read: int
    rows_valid: int
    errors: int
    skipped: int
    by_code: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, result: Any) -> ErrorReport:
        """The report of an import result (``report_rows()``, ``source``, the counts, ``errors_by_code()``)."""
        source = result.source
        return cls(
            list(result.report_rows()),
            source.path,
            source.sheet,
            source.language,
            result.rows_read,
            result.rows_valid,
            len(result.problems),
            len(result.skipped),
            dict(result.errors_by_code()),
        )

    def summary(self) -> list[tuple[str, Any]]:
        """The (label, value) lines of the summary sheet."""
        lines: list[tuple[str, Any]] = [
            ("文件 file", self.file),
            ("工作表 sheet", self.sheet),
            ("表头语言 headers", self.language),
            ("读取行数 rows read", self.rows_read),
            ("有效行数 rows valid", self.rows_valid),
            ("错误数 errors", self.errors),
            ("跳过行数 rows skipped", self.skipped),
        ]
        return lines + [(f"  {code}", n) for code, n in self.by_code.items()]


def write_error_report(report: ErrorReport | Any, path: str | Path | None = None) -> Path | bytes:
    """Write an import's errors and warnings as a workbook for the official who sent the file.

    Sheet 错误 errors has one row per problem (Chinese and English columns, the bad
    cell's location, frozen header, filter); sheet 摘要 summary has the counts. The
    original cell values are shown as text: a value such as ``=HYPERLINK(…)`` is
    written ``'=HYPERLINK(…)``, never as a live formula.

    Args:
        report: an :class:`ErrorReport`, or an import result (see :meth:`ErrorReport.of`).
        path: the .xlsx to write, or ``None`` for the bytes of the workbook.

    Returns:
        The path written (or the bytes).
    """
    if not isinstance(report, ErrorReport):
        report = ErrorReport.of(report)
    rows: Iterable[Mapping[str, Any]] = ({**row, "seq": i} for i, row in enumerate(report.rows, start=1))
    with Book(path) as book:
        book.list_sheet("错误 errors", _REPORT_COLUMNS, rows, header_height=None)
        summary = book.sheet("摘要 summary")
        summary.column(0, 0, 28)
        summary.column(1, 1, 60)
        summary.write_row(0, 0, ["项目 item", "值 value"], "header")
        for r, (label, value) in enumerate(report.summary(), start=1):
            summary.write(r, 0, label)
            summary.write(r, 1, "" if value is None else value)
        summary.freeze(1, 0)
    return book.close()
