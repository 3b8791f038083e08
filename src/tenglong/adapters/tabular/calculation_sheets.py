"""Workbooks of the policy calculator: the batch template of projects, reading it, and the results.

One row per project; the columns are the 2.10 (技改) and 2.11 (垂直工业) inputs of
the calculation contract, with Chinese headers built from the variable registry
(label and unit), and the English variable names accepted as headers too.
Projects that share an 企业编号 are one enterprise, so the 2.10 per-enterprise
yearly cap is shared between them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ...core import loader
from ...core.variables import Variable
from .columns import normalise
from .guard import SheetLimits
from .reader import ROW, read_table
from .xlsx import Book, Column

SHEET = "项目"


@dataclass(frozen=True)
class BatchColumn:
    """One column of the projects sheet: ``scope`` is ``id`` | ``project`` | ``enterprise``."""

    key: str
    scope: str
    zh: str
    required: bool = False
    example: Any = None
    var: Variable | None = None

    @property
    def header(self) -> str:
        """The Chinese header (label plus unit)."""
        unit = self.var.unit if self.var else ""
        unit = {"ratio": "", "m²": "平方米"}.get(unit, unit)
        return f"{self.zh}({unit})" if unit else self.zh


def _col(key: str, scope: str, example: Any = None, required: bool = False) -> BatchColumn:
    entity = "enterprises" if scope == "enterprise" else "projects"
    var = loader.variables()[(entity, key)]
    return BatchColumn(key, scope, var.zh, required, example, var)


def columns() -> list[BatchColumn]:
    """The columns of the batch sheet, in order."""
    return [
        BatchColumn("id", "id", "项目编号", False, "P1"),
        _col("name", "project", "示例技改项目"),
        BatchColumn("enterprise", "id", "企业编号", False, "E1"),
        _col("application_date", "project", "2023-03-01", required=True),
        _col("mujun_class", "enterprise", "A"),
        _col("is_2513_enterprise", "enterprise", "否"),
        _col("local_contribution_growth", "enterprise"),
        _col("industrial_equipment_investment", "enterprise"),
        _col("total_investment", "project", 15000000),
        _col("equipment_investment", "project", 8000000),
        _col("traditional_industry", "project", "是"),
        _col("key_industrial_project", "project", "否"),
        _col("recognized_equipment_investment", "project"),
        _col("zero_land_renovation", "project"),
        _col("self_owned_and_used", "project"),
        _col("land_area", "project"),
        _col("plot_ratio_before", "project"),
        _col("plot_ratio_after", "project"),
        _col("renovated_floor_area", "project"),
        _col("total_floor_area_after", "project"),
        _col("new_floor_area_storey_4", "project"),
        _col("new_floor_area_storey_5", "project"),
        _col("new_floor_area_storey_6_plus", "project"),
    ]


def write_template(path: str | Path | None) -> Path | bytes:
    """The empty batch sheet with one example row and a sheet explaining each column (bytes when ``path`` is None)."""
    cols = columns()
    with Book(path) as book:
        ws = book.sheet(SHEET)
        ws.row_height(0, 36)
        for j, c in enumerate(cols):
            ws.column(j, j, max(12, len(c.header) * 2))
            ws.write(0, j, c.header, "header")
            ws.write(1, j, c.example)
        ws.freeze(1, 0)
        notes = book.sheet("说明")
        notes.column(0, 0, 36)
        notes.column(1, 3, 48)
        notes.write_row(0, 0, ("列名", "变量", "说明", "取值"), "header")
        notes.freeze(1, 0)
        for i, c in enumerate(cols, start=1):
            notes.write(i, 0, c.header)
            notes.write(i, 1, c.key)
            if c.var:
                zh, _ = c.var.expected()
                notes.write(i, 2, f"{c.var.zh}（第{c.var.clause}项）" if c.var.clause else c.var.zh)
                notes.write(
                    i,
                    3,
                    zh
                    + ("；是/否" if c.var.type.base == "bool" else "")
                    + ("；可写 12%" if c.var.type.name == "signed_ratio" else ""),
                )
            else:
                notes.write(
                    i,
                    2,
                    "同一企业的项目填相同编号（共享第（十）项单家企业年度上限）"
                    if c.key == "enterprise"
                    else "每行唯一；留空则用行号",
                )
    return book.close()


@dataclass(frozen=True)
class Cell:
    """A value read from the sheet, with its place."""

    row: int
    header: str
    text: str


def read_projects(
    path: str | Path, limits: SheetLimits | None = None, *, label: str | None = None
) -> tuple[list[dict[str, Cell]], list[tuple[int, str, str, str]]]:
    """The rows of a batch sheet as ``{column key: Cell}``, and header problems.

    The sheet is read like every user's spreadsheet: bounded by the guard, parsed in the sandbox
    (:func:`~tenglong.adapters.tabular.reader.read_table`, whose errors this raises).

    Args:
        path: the workbook or CSV.
        limits: the bounds of the file (default: the settings').
        label: the file's name in messages (default: the file name).

    Returns:
        (rows, problems): problems are ``(row, header, zh, en)``; unknown headers
        and missing required columns are reported, nothing is guessed.
    """
    table = read_table(path, None, limits, label=label)
    by_name = {}
    for c in columns():
        for name in (c.header, c.zh, c.key):
            by_name[normalise(name)] = c
    mapping: dict[str, BatchColumn] = {}
    problems: list[tuple[int, str, str, str]] = []
    for j, h in enumerate(table.headers):
        if h is None:
            continue
        c = by_name.get(normalise(h))
        if c is None:
            problems.append(
                (
                    table.header_row,
                    h,
                    f"未知的列“{h}”，请使用模板中的列名。",
                    f"Unknown column “{h}”; use the template's headers.",
                )
            )
        elif c.key in {m.key for m in mapping.values()}:
            problems.append((table.header_row, h, f"列“{h}”重复。", f"Column “{h}” appears twice."))
        else:
            mapping[f"c{j}"] = c
    for c in columns():
        if c.required and c not in mapping.values():
            problems.append(
                (
                    table.header_row,
                    c.header,
                    f"缺少必填列“{c.header}”。",
                    f"The required column “{c.header}” is missing.",
                )
            )
    rows = []
    for rec in table.cells.iter_rows(named=True):
        row = {
            c.key: Cell(rec[ROW], c.header, (rec[k] or "").strip())
            for k, c in mapping.items()
            if (rec[k] or "").strip()
        }
        row["_row"] = Cell(rec[ROW], "", str(rec[ROW]))
        rows.append(row)
    return rows, problems


def number(text: str) -> Decimal | None:
    """Numeric cell text as an exact decimal, rounded to the 15 significant digits Excel keeps (None if no number)."""
    raw = text.replace(",", "").replace("，", "").strip()
    pct = raw.endswith("%")
    try:
        d = Decimal(raw[:-1] if pct else raw)
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    d = Context(prec=15).create_decimal(d)
    if pct:
        d = d / 100
    d = d.normalize()
    return d.quantize(Decimal(1)) if d.as_tuple().exponent > 0 else d


BOOLS = {
    "是": True,
    "否": False,
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "1": True,
    "0": False,
}


def parse_date(text: str) -> str:
    """Date cell text as ISO (Excel date serials and ``2023/3/1`` accepted); other text unchanged."""
    t = text.strip()
    if t.replace(".", "").isdigit() and len(t.split(".")[0]) <= 5:
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(float(t)))).isoformat()
    t = t.split(" ")[0].replace("/", "-").replace(".", "-")
    parts = t.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{int(parts[0]):04d}-{int(parts[1]):02d}-{int(parts[2]):02d}"
    return text


RESULT_COLUMNS = (
    Column("entity", "实体类型", 12),
    Column("id", "编号", 14),
    Column("name", "名称", 24),
    Column("clause", "条款", 8),
    Column("variable", "变量", 30),
    Column("label_zh", "变量说明", 30),
    Column("result", "结果", 18, "money"),
    Column("unit", "单位", 8),
    Column("status_zh", "状态", 12),
    Column("because", "依据", 80, "wrap"),
)
RESULT_HEADERS = tuple(c.header for c in RESULT_COLUMNS)


def write_results(rows: list[dict[str, Any]], path: str | Path | None) -> Path | bytes:
    """The results table (one row per entity and output) with Chinese headers and a frozen header row.

    Money is a number (``#,##0.00``); any other result is its display text. Bytes when ``path`` is None.
    """
    shown = (
        {
            **r,
            "result": float(r["value"])
            if r.get("type") == "money" and r.get("value") is not None
            else r.get("display") or "",
            "because": "\n".join(r.get("because_zh") or []),
        }
        for r in rows
    )
    with Book(path, streaming=True) as book:
        book.list_sheet("计算结果", RESULT_COLUMNS, shown, header_height=None)
    return book.close()
