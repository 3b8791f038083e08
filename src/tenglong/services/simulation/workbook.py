"""The simulation as a workbook for officials (``tenglong simulate --out result.xlsx``, the page's export).

Drawn from the same document as the JSON (:func:`services.simulation.to_json`), so both carry the same figures:
the reform's changes with the values before and after and what each reaches; the class migrations (规上, 规下);
the support by clause, town and industry in 万元 with native charts; the firms that change; the A.2 targets and
the differential prices.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...adapters.tabular.xlsx import Book, Column, ColumnChart
from ...core.simulate import CLASSES

__all__ = ["simulation_xlsx"]

WHO = {"baseline": "基准", "reform": "改革", "change": "变化"}


def _wan(text: str | None) -> Decimal | None:
    return None if text in (None, "") else Decimal(str(text)) / 10_000


def _money_rows(block: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    return [{"name": k, **{w: _wan(v[w]) for w in WHO}} for k, v in block.items()]


def _charted(book: Book, name: str, first: str, rows: list[dict[str, Any]], title: str) -> None:
    """A list of (name, baseline, reform, change) in 万元, and below it a column chart of baseline and reform."""
    ws, n = book.list_sheet(
        name,
        [
            Column("name", first, 28, "wrap"),
            *(Column(w, WHO[w], 16, "wan", "万元") for w in WHO),
        ],
        rows,
    )
    if not rows:
        return
    top = n + 2  # the chart's table: one row per side, one column per category
    ws.write(top, 0, title, book.style("header"))
    for j, r in enumerate(rows, start=1):
        ws.text(top, j, r["name"], book.style("header"))
    for i, w in enumerate(("baseline", "reform"), start=1):
        ws.write(top + i, 0, WHO[w])
        for j, r in enumerate(rows, start=1):
            ws.write(top + i, j, r[w], book.style("wan"))
    chart = ColumnChart(title, first, "万元", top, [top + 1, top + 2], 1, len(rows))
    ws.column_chart(top + 4, 0, chart)


def simulation_xlsx(doc: dict[str, Any], changes: list[dict[str, Any]]) -> bytes:
    """The workbook of a simulation document and its changes (``changes_detail``)."""
    book = Book()
    cover = book.sheet("概览")
    cover.widths([34, 60])
    lines = [
        ("政策模拟（基准对比改革）", ""),
        ("数据年度", str(doc["year"])),
        ("改革方案", doc["reform"]["title"] or "—"),
        ("资金单位", "万元（明细中精确到元）"),
    ]
    for i, (k, v) in enumerate(lines):
        cover.text(i, 0, k, book.style("title" if i == 0 else "header"))
        if v:
            cover.text(i, 1, v)
    book.list_sheet(
        "参数变化",
        [
            Column("zh", "参数", 34, "wrap"),
            Column("clause", "条款", 8),
            Column("unit", "单位", 10),
            Column("baseline", "基准取值", 24, "wrap"),
            Column("reform", "改革取值", 24, "wrap"),
            Column("reaches", "影响", 30, "wrap"),
            Column("assumption_text", "假设参数", 10),
        ],
        [{**c, "assumption_text": "是" if c["assumption"] else ""} for c in changes],
    )
    ws = book.sheet("类别迁移")
    ws.widths([14, 10, 10, 10, 10, 10])
    row = 0
    for group, zh in (("above_scale", "规上企业"), ("below_scale", "规下企业")):
        g = doc["classes"][group]
        ws.text(row, 0, f"{zh}：行为基准类别，列为改革类别", book.style("header"))
        ws.write_row(row + 1, 1, list(CLASSES), book.style("header"))
        for i, a in enumerate(CLASSES, start=2):
            ws.text(row + i, 0, f"基准 {a}", book.style("header"))
            for j, b in enumerate(CLASSES, start=1):
                ws.write(row + i, j, g["migration"][a][b], book.style("count"))
        ws.text(row + 6, 0, "合计（基准→改革）")
        ws.text(row + 6, 1, "  ".join(f"{c}:{g['baseline'][c]}→{g['reform'][c]}" for c in CLASSES))
        row += 8
    s = doc["support"]
    clauses = [k for k in s["baseline"] if k != "total"]
    _charted(
        book,
        "资金（按条款）",
        "条款",
        [{"name": k, **{w: _wan(s[w][k]) for w in WHO}} for k in clauses]
        + [{"name": "合计", **{w: _wan(s[w]["total"]) for w in WHO}}],
        "扶持资金（万元）",
    )
    _charted(book, "按镇（街道）", "镇（街道）", _money_rows(doc["by_town"]), "按镇（街道）扶持资金（万元）")
    _charted(book, "按行业", "行业", _money_rows(doc["by_industry"]), "按行业扶持资金（万元）")
    book.list_sheet(
        "变化的企业",
        [
            Column("credit_code", "统一社会信用代码", 22, "code"),
            Column("town", "镇（街道）", 14),
            Column("class_baseline", "基准类别", 10),
            Column("class_reform", "改革类别", 10),
            Column("support_baseline", "基准扶持", 16, "money", "元"),
            Column("support_reform", "改革扶持", 16, "money", "元"),
            Column("change", "变化", 16, "money", "元"),
            Column("why", "变化原因", 40, "wrap"),
        ],
        [
            {
                **f,
                **{k: Decimal(f[k]) for k in ("support_baseline", "support_reform", "change")},
                "why": _why(f, changes),
            }
            for f in doc["firms"]
        ],
    )
    book.list_sheet(
        "目标",
        [
            Column("zh", "目标", 36, "wrap"),
            Column("clause", "条款", 8),
            Column("b", "基准", 22),
            Column("r", "改革", 22),
        ],
        [{**t, "b": _target_text(t["baseline"]), "r": _target_text(t["reform"])} for t in doc["targets"]],
    )
    e = doc["surcharges"]["electricity"]
    book.list_sheet(
        "差别电价",
        [Column("name", "项目", 30), *(Column(w, WHO[w], 18, "money", "元") for w in WHO)],
        [{"name": "差别电价加价总额（2.15）", **{w: Decimal(e[w]) for w in WHO}}],
    )
    out = book.close()
    if not isinstance(out, bytes):  # pragma: no cover - a Book without a target returns bytes
        raise TypeError("the workbook was not written to bytes")
    return out


def _why(firm: dict[str, Any], changes: list[dict[str, Any]]) -> str:
    """Which changes moved a firm: its class (the evaluation's parameters, and through it 2.11), or the rules'."""
    evaluation = [c for c in changes if c["reaches"].startswith("亩均评价")]
    rules = [c for c in changes if not c["reaches"].startswith("亩均评价")]
    out = []
    if firm["class_baseline"] != firm["class_reform"] and evaluation:
        names = "、".join(c["zh"] for c in evaluation)
        out.append(f"类别 {firm['class_baseline']}→{firm['class_reform']}（{names}），2.11 奖励随类别")
    if firm["change"] != "0.00" and rules:
        out.append("、".join(f"{c['zh']} {c['baseline']}→{c['reform']}（第 {c['clause']} 条）" for c in rules))
    return "；".join(out)


def _target_text(side: Any) -> str:
    if isinstance(side, dict):
        met = "达到" if side["met"] else "未达到"
        return f"{side['figure'] or '—'}（{side['term']} {side['target']}，{met}）"
    return str(side)
