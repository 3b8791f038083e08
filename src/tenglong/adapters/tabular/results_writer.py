"""The results of ``tenglong evaluate`` as files: an XLSX workbook for officials, CSV and JSON.

This adapter takes plain data — a :class:`ResultsBook` (the per-firm results frame
and the summary tables, already computed), a frame, or the JSON document — and
lays it out; ``services.evaluation.evaluate.write_results`` computes that data
from an evaluation and calls it.

The workbook (``constant_memory`` so 100,000 firms stay flat in memory; cells
through :mod:`.xlsx`, which guards text against formula injection):

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ...core import reference_data
from ...core.mujun import indicators as ind
from ...core.mujun.explain import REASONS, VETO, group_label
from ...core.mujun.ranking import CLASSES
from . import xlsx
from .xlsx import Book, ColumnChart, write_csv

SUFFIXES = (".xlsx", ".csv", ".json")

OVERRIDE_TEXT = {
    "force_A": ("第（八）项：列入A类（不占比例）", "clause 2.8: class A, outside the quota"),
    "not_D": ("第（八）项：不列入D类（D→C）", "clause 2.8: not class D (D → C)"),
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

    def cell(self, lang: str) -> xlsx.Column:
        """The list-sheet column in ``lang``."""
        return xlsx.Column(self.key, self.header(lang), self.width, self.kind)


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
    Column("land_use_tax_relief_rate", "城镇土地使用税减免", "land-use tax relief", 12, "rate"),
    Column("electricity_surcharge", "差别电价(元/千瓦时)", "electricity surcharge (yuan/kWh)", 12, "price"),
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
    Column("land_area_mu", "用地面积(亩)", "land (mu)", 12, "mu"),
    Column("tax_paid_wan", "实缴税金(万元)", "tax paid (10k yuan)", 12, "wan"),
    Column("reason_text", "未参评原因", "reason", 60, "wrap"),
]


@dataclass
class ResultsBook:
    """What the officials' workbook shows, computed and translated by the service.

    Attributes:
        year: the year evaluated.
        lang: ``"zh"`` or ``"en"``.
        frame: one row per enterprise (``results_frame``: credit code, name, town,
            industry, group, indicators, score, rank, classes, veto, consequences,
            flags, land, tax, explanation, …).
        method_title: the method's title (``None`` for the default method).
        benchmark_mode: ``aggregate`` or ``constants``.
        quotas_above, quotas_below: the class quotas (class → share).
        below_min_land_mu4: the land below which a firm is not evaluated (m², for the reason text).
        class_table: header and one row per group: label, then the counts as text.
        target_table: header and one row per A.2 target (the last cell is yes/no).
        benchmark_rows: (indicator, group, value or ``None``, unit).
        evaluated, not_evaluated: the numbers of firms.
    """

    year: int
    lang: str
    frame: pl.DataFrame
    method_title: str | None
    benchmark_mode: str
    quotas_above: Mapping[str, Any]
    quotas_below: Mapping[str, Any]
    below_min_land_mu4: float
    class_table: Sequence[Sequence[str]]
    target_table: Sequence[Sequence[str]]
    benchmark_rows: Sequence[tuple[str, str, float | None, str]]
    evaluated: int
    not_evaluated: int


def write_results_csv(frame: pl.DataFrame, path: str | Path) -> Path:
    """One row per enterprise, English column names, UTF-8 with BOM so Excel reads the Chinese."""
    return write_csv(path, frame.columns, frame.iter_rows())


def write_results_json(doc: Mapping[str, Any], path: str | Path) -> Path:
    """The JSON document, UTF-8, Chinese kept as is."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2, allow_nan=False)
        f.write("\n")
    return Path(path)


def write_results_xlsx(data: ResultsBook, path: str | Path) -> Path:
    """The workbook for officials (see the module docstring)."""
    zh = data.lang == "zh"
    frame = _display_frame(data.frame, data.lang, data.below_min_land_mu4)
    with Book(path, streaming=True) as book:
        _write_summary(book, data)
        evaluated = frame.filter(pl.col("evaluated"))
        for c in CLASSES:
            rows = evaluated.filter(pl.col("mujun_class") == c).sort(
                ["group", "unranked", "rank", "mujun_score", "credit_code"],
                descending=[False, False, False, True, False],
            )
            _write_list(book, f"{c}类" if zh else f"Class {c}", CLASS_COLUMNS, rows, data.lang)
        rest = frame.filter(~pl.col("evaluated")).sort(["group", "credit_code"])
        _write_list(book, "未参评" if zh else "Not evaluated", NOT_EVALUATED_COLUMNS, rest, data.lang)
    return Path(path)


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


def _display_frame(f: pl.DataFrame, lang: str, below_min_land_mu4: float) -> pl.DataFrame:
    """``results_frame`` plus the display columns of the sheets (names, labels, texts)."""
    zh = lang == "zh"
    yes = "是" if zh else "yes"
    flags = [
        "low_efficiency_enterprise",
        "billion_yuan_low_tax_enterprise",
        "high_consumption_low_efficiency_candidate",
    ]
    veto_text = {k: ("一票否决：" + v[0]) if zh else ("veto: " + v[1]) for k, v in VETO.items()}
    reason_text = {k: v[0 if zh else 1].format(min=f"{below_min_land_mu4 / 10_000:g}") for k, v in REASONS.items()}
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


def _write_list(book: Book, name: str, columns: list[Column], rows: pl.DataFrame, lang: str) -> None:
    """A list sheet: bold header row frozen, autofilter, widths and number formats per column."""
    book.list_sheet(name, [c.cell(lang) for c in columns], rows.select([c.key for c in columns]).iter_rows())


def _write_summary(book: Book, data: ResultsBook) -> None:
    """The summary sheet, written top to bottom (constant_memory)."""
    zh = data.lang == "zh"
    ws = book.sheet("汇总" if zh else "Summary")
    ws.widths((26, 16, 20, 12, 10, 10, 10))
    ws.row_height(0, 30)
    ws.merge(
        0,
        0,
        0,
        6,
        f"临海市 {data.year} 年度亩均效益综合评价结果"
        if zh
        else f"Linhai {data.year}: per-mu efficiency evaluation results",
        "title",
    )
    method = data.method_title or ("默认方法（参数 mujun.*）" if zh else "default method (parameters mujun.*)")
    share = lambda q: ("、" if zh else ", ").join(f"{k} {float(v):.0%}" for k, v in q.items())  # noqa: E731
    bench_mode = {
        "aggregate": ("当年全市参评企业合计之比", "this year's county aggregates of the evaluated firms"),
        "constants": ("公布常数", "published constants"),
    }.get(data.benchmark_mode, (data.benchmark_mode, data.benchmark_mode))[0 if zh else 1]
    lines = (
        [
            f"评价方法：{method}",
            f"基准值口径：{bench_mode}",
            f"排名比例：规上 {share(data.quotas_above)}；规下 {share(data.quotas_below)}",
        ]
        if zh
        else [
            f"Method: {method}",
            f"Benchmarks: {bench_mode}",
            f"Quotas: above-scale {share(data.quotas_above)}; below-scale {share(data.quotas_below)}",
        ]
    )
    for i, text in enumerate(lines, start=1):
        ws.write(i, 0, text)

    top = 5
    ws.write(top, 0, "一、分类结果（家）" if zh else "1. Firms by class", "section")
    counts = [[row[0], *(int(x) for x in row[1:])] for row in data.class_table[1:]]
    counts.append(["合计" if zh else "total", *(sum(col) for col in zip(*(row[1:] for row in counts), strict=True))])
    ws.table(top + 1, data.class_table[0], counts)
    ws.column_chart(
        top,
        8,
        ColumnChart(
            f"{data.year} 年度亩均效益分类企业数" if zh else f"{data.year}: firms by class",
            "类别" if zh else "class",
            "企业数（家）" if zh else "firms",
            header_row=top + 1,
            series_rows=(top + 2, top + 3),
        ),
    )

    top += len(counts) + 3
    ws.write(
        top,
        0,
        "二、全市规上亩均效益与目标（临政发〔2022〕22号 附件 二）"
        if zh
        else "2. County above-scale figures against the targets (annex A.2)",
        "section",
    )
    targets = data.target_table
    ws.table(top + 1, targets[0], targets[1:])
    met_col = len(targets[0]) - 1
    for text, style in (("是" if zh else "yes", "met"), ("否" if zh else "no", "unmet")):
        ws.highlight(top + 2, met_col, top + len(targets), text, style)

    top += len(targets) + 2
    ws.write(top, 0, "三、评价基准值" if zh else "3. Benchmarks used", "section")
    head = ["指标", "组别", "基准值", "单位"] if zh else ["indicator", "group", "benchmark", "unit"]
    i = ws.table(top + 1, head, data.benchmark_rows, "cell_indicator")
    ws.write(
        i + 1,
        0,
        (
            f"参评企业 {data.evaluated} 家，未参评 {data.not_evaluated} 家；各类企业名单见 A类—D类、未参评 工作表。"
            if zh
            else f"{data.evaluated} firms evaluated, {data.not_evaluated} not evaluated; "
            "the lists are on the class sheets."
        ),
    )
