"""The results of ``tenglong evaluate`` as files: an XLSX workbook for officials, CSV and JSON.

The workbook (xlsxwriter, ``constant_memory`` so 100,000 firms stay flat in memory):

* 汇总 / Summary — title, method, class counts with a native clustered-column chart
  beside them, the county 规上 figures against the A.2 targets (met in green, not met
  in red) and the benchmarks used;
* A类 … D类 / Class A … Class D — the firms of each final class, sorted by group then
  rank, with indicators, policy consequences and the explanation;
* 未参评 / Not evaluated — the firms left out, with the reason.

In ``constant_memory`` mode every sheet is written strictly row by row; charts,
merged cells, autofilters and conditional formats still work that way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from ...core import reference_data
from ...core.mujun import indicators as ind
from ...core.mujun.explain import REASONS, VETO, group_label
from ...services.evaluation.evaluate import (
    CLASSES,
    Evaluation,
    benchmark_table,
    results_frame,
    summary,
    summary_table,
    target_table,
    to_json,
)

SUFFIXES = (".xlsx", ".csv", ".json")

OVERRIDE_TEXT = {
    "force_A": ("第（八）项：列入A类（不占比例）", "clause 2.8: class A, outside the quota"),
    "not_D": ("第（八）项：不列入D类（D→C）", "clause 2.8: not class D (D → C)"),
}
FORMATS = {
    "text": {},
    "int": {"num_format": "0"},
    "score": {"num_format": "0.000"},
    "indicator": {"num_format": "0.0000"},
    "pct": {"num_format": "0%"},
    "money": {"num_format": "0.00"},
    "wrap": {"text_wrap": True},
}


@dataclass(frozen=True)
class Column:
    """One column of a class sheet: key in the display frame, headers, width and kind of number."""

    key: str
    zh: str
    en: str
    width: float
    kind: str = "text"

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def _indicator_columns() -> list[Column]:
    cols = []
    for k in ind.ALL:
        zh, en = ind.LABELS[k]
        unit = ind.UNITS[k]
        cols.append(Column(k, f"{zh}({unit})" if unit else zh, f"{en} ({ind.UNITS_EN[unit]})", 14, "indicator"))
    return cols


HEAD = [
    Column("credit_code", "统一社会信用代码", "unified social credit code", 21),
    Column("name", "企业名称", "enterprise", 30),
    Column("town_name", "镇(街道)", "town", 12),
    Column("industry_label", "行业", "industry", 24),
    Column("group_label", "规上/规下", "group", 9),
]
CLASS_COLUMNS = [
    *HEAD,
    Column("mujun_score", "综合得分", "score", 10, "score"),
    Column("rank", "排名", "rank", 7, "int"),
    Column("group_size", "参评家数", "firms ranked", 9, "int"),
    Column("mujun_class_computed", "按排名类别", "class by rank", 10),
    Column("mujun_class", "最终类别", "final class", 9),
    Column("adjustment", "调整原因", "adjustment", 26),
    *_indicator_columns(),
    Column("land_use_tax_relief_rate", "城镇土地使用税减免", "land-use tax relief", 12, "pct"),
    Column("electricity_surcharge", "差别电价(元/千瓦时)", "electricity surcharge (yuan/kWh)", 12, "money"),
    Column("carbon_grade", "碳效等级", "carbon efficiency grade", 9, "int"),
    Column("low_efficiency_enterprise", "低效企业", "low-efficiency firm", 9),
    Column("billion_yuan_low_tax_enterprise", "亿元低效企业", "100-million-yuan low-tax firm", 12),
    Column(
        "high_consumption_low_efficiency_candidate", "高耗低效候选", "high-consumption low-efficiency candidate", 12
    ),
    Column("explanation", "说明", "explanation", 90, "wrap"),
]
NOT_EVALUATED_COLUMNS = [
    *HEAD,
    Column("land_area_mu", "用地面积(亩)", "land (mu)", 12, "indicator"),
    Column("tax_paid_wan", "实缴税金(万元)", "tax paid (10k yuan)", 12, "money"),
    Column("reason_text", "未参评原因", "reason", 60, "wrap"),
]


def write_benchmarks(ws, fmt: dict, top: int, header: list[str], rows: list[tuple[str, str, float | None, str]]) -> int:
    """The benchmarks table (header row at ``top``); returns the first row after it."""
    for j, v in enumerate(header):
        ws.write_string(top, j, v, fmt["header"])
    i = top + 1
    for label, group, value, unit in rows:
        ws.write_string(i, 0, label, fmt["cell"])
        ws.write_string(i, 1, group, fmt["cell"])
        if value is None:
            ws.write_string(i, 2, "—", fmt["cell"])
        else:
            ws.write_number(i, 2, value, fmt["bench"])
        ws.write_string(i, 3, unit, fmt["cell"])
        i += 1
    return i


def write_results(ev: Evaluation, path: str | Path, lang: str = "zh") -> Path:
    """Write the results in the format the suffix of ``path`` names (.xlsx, .csv or .json).

    Raises:
        ValueError: for any other suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        write_results_xlsx(ev, path, lang)
    elif suffix == ".csv":
        write_results_csv(ev, path, lang)
    elif suffix == ".json":
        write_results_json(ev, path)
    else:
        raise ValueError(f"unsupported output {path.name!r}: use one of {', '.join(SUFFIXES)}")
    return path


def write_results_csv(ev: Evaluation, path: str | Path, lang: str = "zh") -> None:
    """One row per enterprise, English column names, UTF-8 with BOM so Excel reads the Chinese."""
    results_frame(ev.result, lang=lang).write_csv(path, include_bom=True)


def write_results_json(ev: Evaluation, path: str | Path) -> None:
    """The ``to_json`` document, UTF-8, Chinese kept as is."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_json(ev), f, ensure_ascii=False, indent=2, allow_nan=False)
        f.write("\n")


def write_results_xlsx(ev: Evaluation, path: str | Path, lang: str = "zh") -> None:
    """The workbook for officials (see the module docstring); ``lang`` is ``"zh"`` or ``"en"``."""
    zh = lang == "zh"
    frame = _display_frame(ev, lang)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        fmt = _formats(wb)
        _write_summary(wb, fmt, ev, lang)
        evaluated = frame.filter(pl.col("evaluated"))
        for c in CLASSES:
            rows = evaluated.filter(pl.col("mujun_class") == c).sort(
                ["group", "unranked", "rank", "mujun_score", "credit_code"],
                descending=[False, False, False, True, False],
            )
            _write_list(wb, fmt, f"{c}类" if zh else f"Class {c}", CLASS_COLUMNS, rows, lang)
        rest = frame.filter(~pl.col("evaluated")).sort(["group", "credit_code"])
        _write_list(wb, fmt, "未参评" if zh else "Not evaluated", NOT_EVALUATED_COLUMNS, rest, lang)
    finally:
        wb.close()


def _lookup(values: pl.Series, name: Callable[[str], str]) -> pl.Series:
    """Map the distinct values of a column through ``name`` (vectorised: one call per distinct value)."""
    uniq = [v for v in values.unique().to_list() if v is not None]
    return values.replace_strict({v: name(v) for v in uniq}, default=None, return_dtype=pl.String)


def _town_name(lang: str) -> Callable[[str], str]:
    names = {t.code: (t.name_zh if lang == "zh" else t.name_en) for t in reference_data.towns()}
    return lambda v: names.get(reference_data.normalise_town(v) or v, v)


def _industry_label(lang: str) -> Callable[[str], str]:
    def label(code: str) -> str:
        names = reference_data.industry_name(code) or reference_data.industry_name(code[:3])
        return f"{code} {names[0 if lang == 'zh' else 1]}" if names else code

    return label


def _display_frame(ev: Evaluation, lang: str) -> pl.DataFrame:
    """``results_frame`` plus the display columns of the sheets (names, labels, texts)."""
    zh = lang == "zh"
    r = ev.result
    f = results_frame(r, lang=lang)
    yes = "是" if zh else "yes"
    flags = [
        "low_efficiency_enterprise",
        "billion_yuan_low_tax_enterprise",
        "high_consumption_low_efficiency_candidate",
    ]
    veto_text = {k: ("一票否决：" + v[0]) if zh else ("veto: " + v[1]) for k, v in VETO.items()}
    reason_text = {
        k: v[0 if zh else 1].format(min=f"{r.method.below_min_land_mu4 / 10_000:g}") for k, v in REASONS.items()
    }
    adjustment = (
        pl.when(pl.col("vetoed"))
        .then(pl.col("veto").replace_strict(veto_text, default=pl.col("veto")))
        .otherwise(
            pl.col("mujun_class_override").replace_strict(
                {k: v[0 if zh else 1] for k, v in OVERRIDE_TEXT.items()}, default=None
            )
        )
    )
    return f.with_columns(
        town_name=_lookup(f["town"], _town_name(lang)),
        industry_label=_lookup(f["industry"], _industry_label(lang)),
        group_label=_lookup(f["group"], lambda g: group_label(g, lang)),
        adjustment=adjustment,
        reason_text=pl.col("not_evaluated_reason").replace_strict(reason_text, default=pl.col("not_evaluated_reason")),
        tax_paid_wan=pl.col("tax_paid") / 10_000,
        unranked=pl.col("rank") <= 0,
        rank=pl.when(pl.col("rank") > 0).then(pl.col("rank")),
        group_size=pl.when(pl.col("rank") > 0).then(pl.col("group_size")),
        **{k: pl.when(pl.col(k)).then(pl.lit(yes)) for k in flags},
    )


def _formats(wb: xlsxwriter.Workbook) -> dict[str, Any]:
    out = {k: wb.add_format({"valign": "top", **v}) for k, v in FORMATS.items()}
    out.update(
        {
            "title": wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}),
            "section": wb.add_format({"bold": True, "font_size": 12}),
            "header": wb.add_format(
                {
                    "bold": True,
                    "bg_color": "#DDEBF7",
                    "border": 1,
                    "text_wrap": True,
                    "valign": "vcenter",
                    "align": "center",
                }
            ),
            "cell": wb.add_format({"border": 1}),
            "count": wb.add_format({"border": 1, "num_format": "0"}),
            "bench": wb.add_format({"border": 1, "num_format": "0.0000"}),
            "met": wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"}),
            "unmet": wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
        }
    )
    return out


def _write_list(
    wb: xlsxwriter.Workbook, fmt: dict[str, Any], name: str, columns: list[Column], rows: pl.DataFrame, lang: str
) -> None:
    """A list sheet: bold header row frozen, autofilter, widths and number formats per column."""
    ws = wb.add_worksheet(name)
    for j, c in enumerate(columns):
        ws.set_column(j, j, c.width, fmt[c.kind])
    ws.set_row(0, 32)
    for j, c in enumerate(columns):
        ws.write_string(0, j, c.header(lang), fmt["header"])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(rows.height, 1), len(columns) - 1)
    writers = [
        (j, ws.write_number if c.kind not in ("text", "wrap") else ws.write_string, fmt[c.kind])
        for j, c in enumerate(columns)
    ]
    for i, row in enumerate(rows.select([c.key for c in columns]).iter_rows(), start=1):
        for (j, write, f), v in zip(writers, row):
            if v is not None:
                write(i, j, v, f)


def _write_summary(wb: xlsxwriter.Workbook, fmt: dict[str, Any], ev: Evaluation, lang: str) -> None:
    """The summary sheet, written top to bottom (constant_memory)."""
    zh = lang == "zh"
    r = ev.result
    m = r.method
    ws = wb.add_worksheet("汇总" if zh else "Summary")
    for j, w in enumerate((26, 16, 20, 12, 10, 10, 10)):
        ws.set_column(j, j, w)
    ws.set_row(0, 30)
    ws.merge_range(
        0,
        0,
        0,
        6,
        f"临海市 {ev.year} 年度亩均效益综合评价结果"
        if zh
        else f"Linhai {ev.year}: per-mu efficiency evaluation results",
        fmt["title"],
    )
    method = ev.method_title or ("默认方法（参数 mujun.*）" if zh else "default method (parameters mujun.*)")
    share = lambda q: ("、" if zh else ", ").join(f"{k} {float(v):.0%}" for k, v in q.items())  # noqa: E731
    bench_mode = {
        "aggregate": ("当年全县参评企业合计之比", "this year's county aggregates of the evaluated firms"),
        "constants": ("公布常数", "published constants"),
    }.get(m.benchmark_mode, (m.benchmark_mode, m.benchmark_mode))[0 if zh else 1]
    lines = (
        [
            f"评价方法：{method}",
            f"基准值口径：{bench_mode}",
            f"排名比例：规上 {share(m.quotas_above)}；规下 {share(m.quotas_below)}",
        ]
        if zh
        else [
            f"Method: {method}",
            f"Benchmarks: {bench_mode}",
            f"Quotas: above-scale {share(m.quotas_above)}; below-scale {share(m.quotas_below)}",
        ]
    )
    for i, text in enumerate(lines, start=1):
        ws.write_string(i, 0, text)

    top = 5
    ws.write_string(top, 0, "一、分类结果（家）" if zh else "1. Firms by class", fmt["section"])
    table = summary_table(r, lang)
    counts = [[int(x) for x in row[1:]] for row in table[1:]]
    table.append(["合计" if zh else "total", *(str(sum(col)) for col in zip(*counts))])
    for i, row in enumerate(table):
        for j, v in enumerate(row):
            if i == 0 or j == 0:
                ws.write_string(top + 1 + i, j, v, fmt["header"] if i == 0 else fmt["cell"])
            else:
                ws.write_number(top + 1 + i, j, int(v), fmt["count"])
    _insert_chart(wb, ws, ev.year, top, lang)

    top += len(table) + 2
    ws.write_string(
        top,
        0,
        "二、全县规上亩均效益与目标（临政发〔2022〕22号 附件 二）"
        if zh
        else "2. County above-scale figures against the targets (annex A.2)",
        fmt["section"],
    )
    targets = target_table(r, lang)
    for i, row in enumerate(targets):
        for j, v in enumerate(row):
            ws.write_string(top + 1 + i, j, v, fmt["header"] if i == 0 else fmt["cell"])
    met_col = len(targets[0]) - 1
    for text, style in (("是" if zh else "yes", "met"), ("否" if zh else "no", "unmet")):
        ws.conditional_format(
            top + 2,
            met_col,
            top + len(targets),
            met_col,
            {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": fmt[style]},
        )

    top += len(targets) + 2
    ws.write_string(top, 0, "三、评价基准值" if zh else "3. Benchmarks used", fmt["section"])
    head = ["指标", "组别", "基准值", "单位"] if zh else ["indicator", "group", "benchmark", "unit"]
    i = write_benchmarks(ws, fmt, top + 1, head, benchmark_table(r, lang))
    totals = summary(r)["counts"]
    ws.write_string(
        i + 1,
        0,
        (
            f"参评企业 {sum(totals[g][c] for g in totals for c in CLASSES)} 家，未参评 {sum(totals[g]['not_evaluated'] for g in totals)} 家；各类企业名单见 A类—D类、未参评 工作表。"
            if zh
            else f"{sum(totals[g][c] for g in totals for c in CLASSES)} firms evaluated, {sum(totals[g]['not_evaluated'] for g in totals)} not evaluated; the lists are on the class sheets."
        ),
    )


def _insert_chart(wb: xlsxwriter.Workbook, ws: Any, year: int, top: int, lang: str) -> None:
    """Clustered columns of class counts, 规上 and 规下, beside the class table."""
    zh = lang == "zh"
    chart = wb.add_chart({"type": "column"})
    header = top + 1
    for k, colour in ((1, "#4472C4"), (2, "#ED7D31")):
        chart.add_series(
            {
                "name": [ws.name, header + k, 0],
                "categories": [ws.name, header, 1, header, 4],
                "values": [ws.name, header + k, 1, header + k, 4],
                "fill": {"color": colour},
                "data_labels": {"value": True},
            }
        )
    chart.set_title(
        {"name": f"{year} 年度亩均效益分类企业数" if zh else f"{year}: firms by class", "name_font": {"size": 12}}
    )
    chart.set_x_axis({"name": "类别" if zh else "class"})
    chart.set_y_axis({"name": "企业数（家）" if zh else "firms", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    ws.insert_chart(top, 8, chart, {"x_scale": 1.2, "y_scale": 1.1})
