"""Workbooks of the policy calculator: the batch template of projects, reading it, and the results.

One row per project; the columns are the 2.10 (技改) and 2.11 (垂直工业) inputs of
the calculation contract, with Chinese headers built from the variable registry
(label and unit), and the English variable names accepted as headers too.
Projects that share an 企业编号 are one enterprise, so the 2.10 per-enterprise
yearly cap is shared between them.

Units as in the import template: investment amounts in 万元 (``项目投资(万元)``; a
header with ``(元)`` takes 元), rates as percentages (``…增长率(%)``: 12 means 12 %;
a header without a unit, as in the first template, takes a ratio, 0.12). Each
cell keeps the unit of its column (``Cell.unit``); the service converts.
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
WAN, YUAN, PERCENT = "万元", "元", "%"


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
    def unit(self) -> str:
        """The unit the template asks for: 万元 for investment amounts (元 for other money), % for rates, else the
        variable's own.
        """
        if self.var is None:
            return ""
        if self.var.type.name == "money":
            return self.var.input_unit or YUAN
        if self.var.type.unit == "ratio":
            return PERCENT
        return self.var.unit

    @property
    def header(self) -> str:
        """The Chinese header (label plus unit)."""
        return self.header_in(self.unit)

    def header_in(self, unit: str) -> str:
        """The Chinese header with ``unit`` (m² written 平方米)."""
        unit = {"m²": "平方米"}.get(unit, unit)
        return f"{self.zh}({unit})" if unit else self.zh

    def units_accepted(self) -> dict[str, str]:
        """Header forms accepted for this column → the unit of its cells (a bare label or the variable name: the
        contract's unit).
        """
        contract = (
            "ratio" if self.var is not None and self.var.type.unit == "ratio" else (self.var.unit if self.var else "")
        )
        out = {self.zh: contract, self.key: contract, self.header: self.unit}
        if self.var is not None and self.var.type.name == "money":
            out.update({self.header_in(WAN): WAN, self.header_in(YUAN): YUAN})
        if self.var is not None and self.var.type.unit == "ratio":
            out[self.header_in(PERCENT)] = PERCENT
        return out


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
        _col("total_investment", "project", 1500),
        _col("equipment_investment", "project", 800),
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
            # A rate column is text, so that Excel keeps "12" and "12%" as typed (it would turn 12% into 0.12).
            ws.column(j, j, max(12, len(c.header) * 2), "code" if c.unit == PERCENT else None)
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
                if c.unit == WAN:
                    zh = "金额（万元，最多六位小数，精确到分）；如按元填报，请把表头的单位改为(元)"
                elif c.unit == PERCENT:
                    zh = "百分数：填 12 表示 12%（也可写 12%）；本列为文本格式，请勿改为百分比格式"
                notes.write(i, 2, f"{c.var.zh}（第{c.var.clause}项）" if c.var.clause else c.var.zh)
                notes.write(i, 3, zh + ("；是/否" if c.var.type.base == "bool" else ""))
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
    unit: str = ""


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
    by_name: dict[str, tuple[BatchColumn, str]] = {}
    for c in columns():
        for name, unit in c.units_accepted().items():
            by_name[normalise(name)] = (c, unit)
    mapping: dict[str, BatchColumn] = {}
    units: dict[str, str] = {}
    problems: list[tuple[int, str, str, str]] = []
    for j, h in enumerate(table.headers):
        if h is None:
            continue
        c, unit = by_name.get(normalise(h), (None, ""))
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
            units[f"c{j}"] = unit
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
            c.key: Cell(rec[ROW], table.headers[int(k[1:])] or c.header, (rec[k] or "").strip(), units[k])
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
