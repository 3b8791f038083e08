"""The targets' progress as an Excel workbook (``/targets/export.xlsx``), written by the one writer and audited."""

from __future__ import annotations

from typing import Any

from ...adapters.tabular.xlsx import Column, list_workbook
from ...registers import events
from ...registers.roles import Actor
from ..kernel.uow import UnitOfWork
from .progress import progress

MET = {True: "达标", False: "未达标", None: "—"}
COLUMNS = (
    Column("clause", "条款", 8, "code"),
    Column("zh", "目标", 36, "wrap"),
    Column("target", "目标值", 18, "text"),
    Column("unit", "单位", 12, "text"),
    Column("figure", "完成数", 16, "indicator"),
    Column("achieved", "用于比较的值", 16, "indicator"),
    Column("met", "是否达标", 10, "text"),
    Column("source_kind", "来源类型", 10, "text"),
    Column("source", "数据来源", 60, "wrap"),
    Column("quote", "原文", 50, "wrap"),
)


def export_xlsx(
    uow: UnitOfWork, actor: Actor, year: int | None, town: str | None, address: str | None = None
) -> tuple[bytes, int]:
    """The progress of ``year`` (county, or ``town``) as a workbook, one row per target; the export is audited.

    Figures are written rounded (an Excel number); the exact ones are in the API. Returns (bytes, the year).
    """
    rows = progress(uow, actor, year, town)
    year = rows[0]["year"] if rows else year
    lines: list[dict[str, Any]] = [
        {
            "clause": r["clause"],
            "zh": r["zh"],
            "target": f"{r['term']} {r['value_text']}" + ("（镇分解）" if r["aim_from"] == "share" else ""),
            "unit": r["unit"],
            "figure": float(r["figure"]) if r["figure"] is not None else None,
            "achieved": float(r["achieved"]) if r["achieved"] is not None else None,
            "met": MET[r["met"]],
            "source_kind": "计算" if r["source_kind"] == "computed" else "人工录入",
            "source": r["source"]["zh"],
            "quote": r["quote"],
        }
        for r in rows
    ]
    notes = [
        f"临政发〔2022〕22号 目标完成情况 {year} 年（{town or '全市'}）",
        "“超过”不含本数，“以上”“达到”“不低于”含本数（《民法典》第一千二百五十九条）；比较以精确数值进行。",
        "变化类目标：“用于比较的值”为相对基期的降幅或增长倍数（年均增长：达到 基期 ×（1 + 目标）^年数）。",
    ]
    content = list_workbook(f"目标完成情况{year}", COLUMNS, lines, notes_sheet="说明", notes=notes)
    with uow.write(actor, address) as w:
        w.record(events.EXPORT, "targets.xlsx", None, {"rows": len(lines), "filter": {"year": year, "town": town}})
    return bytes(content) if isinstance(content, bytes) else b"", int(year or 0)
