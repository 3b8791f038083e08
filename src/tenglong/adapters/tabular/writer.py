"""Write enterprise-year tables in the import format, and the import error report.

The export is what a bureau would send in: Chinese headers with money in 万元
(``lang="zh"``) or English headers with money in 元 (``lang="en"``), towns by name
(zh) or code (en), yes/no as 是/否 (zh) or true/false (en).

Unit conversion is exact: a value is written as the shortest text that reads back
as the same double (``repr``), and 万元 only moves the decimal point of that text
(``Decimal(repr(x)).scaleb(-4)``), so 12345.67 元 is written 1.234567 万元, never
1.2345670000000001. XLSX cells hold that decimal as a number (the nearest double);
the importer reads it back to the same 元 value. Text that is not a number (the
planted ``non_numeric`` defects) is written as text, unchanged.

XLSX is written with xlsxwriter in ``constant_memory`` mode (rows in order, flat
memory); CSV is UTF-8 with a BOM so that Excel opens it with the right encoding.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl

from ...core.reference_data import towns
from .columns import SPECS, VETOES

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
        column = frame[spec.key]
        if spec.kind in NUMERIC_KINDS:
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
        pl.DataFrame(
            {
                h: [None if v is None else str(v).lower() if isinstance(v, bool) else v for v in vs]
                for h, vs in cells.items()
            },
            schema={h: pl.String for h in cells},
        ).write_csv(path, include_bom=True)
        return path
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"the output must end in .xlsx or .csv, e.g. county.xlsx; got {path.name!r}")
    import xlsxwriter

    numeric = {spec.header(lang) for spec in SPECS if spec.kind in NUMERIC_KINDS}
    columns = [[_as_number(v) for v in vs] if h in numeric else vs for h, vs in cells.items()]
    with xlsxwriter.Workbook(str(path), {"constant_memory": True}) as book:
        ws = book.add_worksheet(sheet or ("企业数据" if lang == "zh" else "data"))
        ws.freeze_panes(1, 0)
        for i, header in enumerate(cells):
            ws.set_column(i, i, 22 if i in (0, 1) else max(10, min(24, len(header.encode("gbk")) + 2)))
        ws.write_row(0, 0, list(cells), book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}))
        for r, row in enumerate(zip(*columns), start=1):
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
    ("序号 No.", None, 6),
    ("级别 level", "level", 9),
    ("错误代码 code", "code", 26),
    ("位置 cell", "where", 34),
    ("工作表 sheet", "sheet", 12),
    ("行 row", "row", 7),
    ("列 column", "column", 8),
    ("表头 header", "header", 18),
    ("原值 value", "value", 20),
    ("应为", "expected_zh", 30),
    ("expected", "expected_en", 30),
    ("示例 example", "example", 20),
    ("说明", "message_zh", 70),
    ("message", "message_en", 70),
)


def write_error_report(result: Any, path: str | Path) -> Path:
    """Write an import result's errors and warnings as a workbook for the official who sent the file.

    Sheet 错误 errors has one row per problem (Chinese and English columns, the bad
    cell's location, frozen header, filter); sheet 摘要 summary has the counts.

    Args:
        result: an :class:`~tenglong.services.data.validation.ImportResult`.
        path: the .xlsx to write.

    Returns:
        The path written.
    """
    import xlsxwriter

    path = Path(path)
    rows = result.report_rows()
    with xlsxwriter.Workbook(str(path)) as book:
        bold = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True, "valign": "top"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        ws = book.add_worksheet("错误 errors")
        for i, (title, _, width) in enumerate(_REPORT_COLUMNS):
            ws.set_column(i, i, width, wrap if width >= 30 else None)
            ws.write(0, i, title, bold)
        for r, row in enumerate(rows, start=1):
            ws.write_number(r, 0, r)
            for i, (_, key, _) in enumerate(_REPORT_COLUMNS[1:], start=1):
                value = row.get(key)
                if value is not None:
                    ws.write(r, i, value if isinstance(value, (int, float)) else str(value))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(_REPORT_COLUMNS) - 1)
        summary = book.add_worksheet("摘要 summary")
        summary.set_column(0, 0, 28)
        summary.set_column(1, 1, 60)
        source = result.source
        lines = [
            ("文件 file", source.path),
            ("工作表 sheet", source.sheet),
            ("表头语言 headers", source.language),
            ("读取行数 rows read", result.rows_read),
            ("有效行数 rows valid", result.rows_valid),
            ("错误数 errors", len(result.problems)),
            ("跳过行数 rows skipped", len(result.skipped)),
        ]
        lines += [(f"  {code}", n) for code, n in result.errors_by_code().items()]
        summary.write_row(0, 0, ["项目 item", "值 value"], bold)
        for r, (label, value) in enumerate(lines, start=1):
            summary.write(r, 0, label)
            summary.write(r, 1, "" if value is None else value)
        summary.freeze_panes(1, 0)
    return path
