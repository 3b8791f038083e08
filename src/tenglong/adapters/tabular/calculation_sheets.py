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

import xlsxwriter

from ...core import loader
from ...core.variables import Variable
from .columns import normalise
from .reader import ROW, read_table

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


def write_template(path: str | Path) -> Path:
    """The empty batch sheet with one example row and a sheet explaining each column."""
    path = Path(path)
    cols = columns()
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
    ws = wb.add_worksheet(SHEET)
    ws.set_row(0, 36)
    for j, c in enumerate(cols):
        ws.set_column(j, j, max(12, len(c.header) * 2))
        ws.write_string(0, j, c.header, head)
        if c.example is not None:
            (ws.write_number if isinstance(c.example, (int, float)) else ws.write_string)(1, j, c.example)
    ws.freeze_panes(1, 0)
    notes = wb.add_worksheet("说明")
    notes.set_column(0, 0, 36)
    notes.set_column(1, 3, 48)
    for j, h in enumerate(("列名", "变量", "说明", "取值")):
        notes.write_string(0, j, h, head)
    notes.freeze_panes(1, 0)
    for i, c in enumerate(cols, start=1):
        notes.write_string(i, 0, c.header)
        notes.write_string(i, 1, c.key)
        if c.var:
            zh, _ = c.var.expected()
            notes.write_string(i, 2, f"{c.var.zh}（第{c.var.clause}项）" if c.var.clause else c.var.zh)
            notes.write_string(
                i,
                3,
                zh
                + ("；是/否" if c.var.type.base == "bool" else "")
                + ("；可写 12%" if c.var.type.name == "signed_ratio" else ""),
            )
        else:
            notes.write_string(
                i,
                2,
                "同一企业的项目填相同编号（共享第（十）项单家企业年度上限）"
                if c.key == "enterprise"
                else "每行唯一；留空则用行号",
            )
    wb.close()
    return path


@dataclass(frozen=True)
class Cell:
    """A value read from the sheet, with its place."""

    row: int
    header: str
    text: str


def read_projects(path: str | Path) -> tuple[list[dict[str, Cell]], list[tuple[int, str, str, str]]]:
    """The rows of a batch sheet as ``{column key: Cell}``, and header problems.

    Returns:
        (rows, problems): problems are ``(row, header, zh, en)``; unknown headers
        and missing required columns are reported, nothing is guessed.
    """
    table = read_table(path)
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
    """Numeric cell text as an exact decimal, rounded to the 15 significant digits Excel keeps (None if not a number)."""
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


RESULT_HEADERS = ("实体类型", "编号", "名称", "条款", "变量", "变量说明", "结果", "单位", "状态", "依据")


def write_results(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """The results table (one row per entity and output) with Chinese headers and a frozen header row."""
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
    money = wb.add_format({"num_format": "#,##0.00"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    ws = wb.add_worksheet("计算结果")
    for j, w in enumerate((12, 14, 24, 8, 30, 30, 18, 8, 12, 80)):
        ws.set_column(j, j, w)
    for j, h in enumerate(RESULT_HEADERS):
        ws.write_string(0, j, h, head)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(RESULT_HEADERS) - 1)
    for i, r in enumerate(rows, start=1):
        for j, key in enumerate(("entity", "id", "name", "clause", "variable", "label_zh")):
            ws.write_string(i, j, str(r.get(key) or ""))
        if r.get("type") == "money" and r.get("value") is not None:
            ws.write_number(i, 6, float(r["value"]), money)
        else:
            ws.write_string(i, 6, r.get("display") or "")
        ws.write_string(i, 7, r.get("unit") or "")
        ws.write_string(i, 8, r.get("status_zh") or "")
        ws.write_string(i, 9, "\n".join(r.get("because_zh") or []), wrap)
    wb.close()
    return path
