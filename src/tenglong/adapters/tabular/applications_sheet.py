"""The subsidy-application list as a workbook: Chinese headers, frozen header row, money with two decimals."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter

HEADERS = (
    ("id", "申请编号", 10),
    ("credit_code", "统一社会信用代码", 22),
    ("enterprise_name", "企业名称", 32),
    ("town_name_zh", "镇(街道)", 12),
    ("project_name", "项目名称", 28),
    ("clause", "条款", 8),
    ("amount", "补助金额(元)", 16),
    ("status", "状态", 10),
    ("created_at", "创建时间", 20),
    ("updated_at", "更新时间", 20),
)


def applications_workbook(rows: list[dict[str, Any]], state_names: dict[str, str]) -> bytes:
    """One row per application."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "valign": "vcenter"})
    money = wb.add_format({"num_format": "#,##0.00"})
    ws = wb.add_worksheet("补助申请")
    for j, (_, h, w) in enumerate(HEADERS):
        ws.set_column(j, j, w)
        ws.write_string(0, j, h, head)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(HEADERS) - 1)
    for i, r in enumerate(rows, start=1):
        for j, (key, _, _) in enumerate(HEADERS):
            v = r.get(key)
            if key == "amount" and v is not None:
                ws.write_number(i, j, float(v), money)
            elif key == "id":
                ws.write_number(i, j, int(v))
            elif key == "status":
                ws.write_string(i, j, state_names.get(v, str(v)))
            elif v is not None:
                ws.write_string(i, j, v.strftime("%Y-%m-%d %H:%M") if hasattr(v, "strftime") else str(v))
    wb.close()
    return out.getvalue()
