"""The subsidy-application list as a workbook: Chinese headers, frozen header row, money with two decimals.

Times arrive in Beijing time (the service converts them) and are written as such; the headers say so.
"""

from __future__ import annotations

from typing import Any

from .xlsx import Column, list_workbook

COLUMNS = (
    Column("id", "申请编号", 10, "int"),
    Column("credit_code", "统一社会信用代码", 22),
    Column("enterprise_name", "企业名称", 32),
    Column("town_name_zh", "镇(街道)", 12),
    Column("project_name", "项目名称", 28),
    Column("clause", "条款", 8),
    Column("amount", "补助金额", 16, "money", unit="元"),
    Column("status", "状态", 10),
    Column("created_at", "创建时间（北京时间）", 20, "datetime"),
    Column("updated_at", "更新时间（北京时间）", 20, "datetime"),
)


def applications_workbook(rows: list[dict[str, Any]], state_names: dict[str, str]) -> bytes:
    """One row per application (the status by its name in ``state_names``), as XLSX bytes."""
    shown = [{**r, "status": state_names.get(r.get("status"), r.get("status"))} for r in rows]
    return list_workbook("补助申请", COLUMNS, shown)
