"""The annual evaluation as a use case: table in, results (frame, JSON, summary, files) out.

Shared by ``tenglong evaluate``, ``tenglong bench evaluate`` and the platform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ...adapters.tabular import results_writer
from ...adapters.tabular.results_writer import SUFFIXES, ResultsBook
from ...core import loader
from ...core.boundary import SYMBOL, boundary
from ...core.errors import PolicyError
from ...core.mujun import indicators as ind
from ...core.mujun.carbon import LEVELS
from ...core.mujun.data import YearData
from ...core.mujun.evaluation import ABOVE, BELOW, Result, evaluate_years
from ...core.mujun.explain import explain, group_label
from ...core.parameters import ParameterSet

CLASSES = ("A", "B", "C", "D")
TARGET_LABELS = {
    "tax_per_mu": ("规上亩均税收", "tax per mu", "万元/亩"),
    "value_added_per_mu": ("规上亩均增加值", "value added per mu", "万元/亩"),
    "labor_productivity": ("规上全员劳动生产率", "labour productivity", "万元/人"),
    "rd_intensity": ("研发经费占营业收入比重", "R&D intensity", ""),
}


@dataclass
class Evaluation:
    """Results of the evaluated years (the last is the one asked for)."""

    year: int
    results: dict[int, Result]
    params: ParameterSet
    method_title: str | None = None

    @property
    def result(self) -> Result:
        """The result of the year asked for."""
        return self.results[self.year]


def year_data(frame: pl.DataFrame) -> dict[int, YearData]:
    """Split the canonical enterprise-year table into one ``YearData`` per year."""
    out = {}
    for (year,), sub in frame.group_by(["year"], maintain_order=True):
        cols = {c: sub[c].to_numpy() for c in sub.columns}
        cols["veto"] = sub["veto"].fill_null("").to_numpy() if "veto" in sub.columns else np.full(sub.height, "")
        cols["in_construction_period"] = (
            sub["in_construction_period"].fill_null(False).to_numpy()
            if "in_construction_period" in sub.columns
            else np.zeros(sub.height, bool)
        )
        out[int(year)] = YearData.from_columns(int(year), cols)
    return out


def run_evaluation(
    frame: pl.DataFrame, year: int, params: ParameterSet | None = None, method_title: str | None = None
) -> Evaluation:
    """Evaluate ``year`` (and the consecutive years before it present in the data, for D streaks and A.2).

    Raises:
        PolicyError: when the table has no row for ``year``.
    """
    years = year_data(frame)
    if year not in years:
        have = ", ".join(str(y) for y in sorted(years)) or "—"
        raise PolicyError(
            f"数据中没有 {year} 年度的记录（现有年度：{have}）。",
            f"The data has no rows for {year} (years present: {have}).",
        )
    chain = [y for y in sorted(years) if y <= year]
    keep = [y for y in chain if all(z in years for z in range(y, year + 1))]
    results = evaluate_years({y: years[y] for y in keep}, params or loader.parameters(), loader.policy())
    return Evaluation(year, results, params or loader.parameters(), method_title)


def _f(x: float, digits: int | None = None) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits) if digits is not None else float(x)


def results_frame(r: Result, explanations: bool = True, lang: str = "zh") -> pl.DataFrame:
    """One row per enterprise with every derived output (the shape the writers and the platform use)."""
    d = r.data
    data: dict[str, Any] = {
        "credit_code": d.credit_code,
        "name": d.name,
        "town": d.town,
        "industry": d.industry,
        "above_scale": d.above_scale,
        "evaluated": r.evaluated,
        "not_evaluated_reason": pl.Series(np.where(r.evaluated, "", r.reason), dtype=pl.Utf8).replace("", None),
        "group": r.group,
    }
    for k in ind.ALL:
        data[k] = np.where(np.isfinite(r.indicators[k]), r.indicators[k], np.nan)
    for k in ind.ALL:
        data[f"score_{k}"] = r.scores[k]
    data.update(
        {
            "mujun_score": r.score,
            "rank": r.rank,
            "group_size": r.group_size,
            "mujun_class_computed": pl.Series(r.computed, dtype=pl.Utf8).replace("", None),
            "mujun_class": pl.Series(r.final, dtype=pl.Utf8).replace("", None),
            "mujun_class_override": r.override,
            "vetoed": r.vetoed,
            "veto": d.veto,
            "land_use_tax_relief_rate": np.where(r.evaluated, r.relief, np.nan),
            "electricity_surcharge": np.where(r.evaluated, r.surcharge, np.nan),
            "d_years_running": r.d_streak,
            "carbon_intensity": r.carbon_intensity,
            "carbon_level": pl.Series(np.array(LEVELS)[r.carbon_level], dtype=pl.Utf8).replace("", None),
            "carbon_efficiency_value": r.carbon_value,
            "carbon_grade": np.where(r.carbon_grade > 0, r.carbon_grade, 0),
            "low_efficiency_enterprise": r.low_efficiency,
            "billion_yuan_low_tax_enterprise": r.billion_low_tax,
            "high_consumption_low_efficiency_candidate": r.candidate,
            "land_area_mu": d["land_area_mu"],
            "tax_paid": d["tax_paid"],
            "value_added": d["value_added"],
        }
    )
    frame = pl.DataFrame(data, strict=False).with_columns(
        pl.col(pl.Float64).fill_nan(None), pl.col("carbon_grade").replace(0, None)
    )
    if explanations:
        frame = frame.with_columns(pl.Series("explanation", ["\n".join(explain(r, i, lang)) for i in range(d.n)]))
    return frame


def summary(r: Result) -> dict[str, Any]:
    """Class counts per group and the county aggregates against the A.2 targets."""
    counts = {}
    for g in (ABOVE, BELOW):
        rows = r.data.above_scale if g == ABOVE else ~r.data.above_scale
        counts[g] = {c: int(((r.final == c) & rows).sum()) for c in CLASSES}
        counts[g]["not_evaluated"] = int((~r.evaluated & rows).sum())
    county = {
        k: {"value": _f(v["value"], 6), "target": float(v["target"]), "term": v["term"], "met": bool(v["met"])}
        for k, v in r.county.items()
    }
    return {"counts": counts, "county": county, "quota_counts": r.counts}


def to_json(ev: Evaluation) -> dict[str, Any]:
    """The JSON output of ``tenglong evaluate``."""
    r = ev.result
    frame = results_frame(r, explanations=False)
    rows = []
    for i, row in enumerate(frame.iter_rows(named=True)):
        rows.append(
            {
                "credit_code": row["credit_code"],
                "name": row["name"],
                "town": row["town"],
                "industry": row["industry"],
                "above_scale": row["above_scale"],
                "evaluated": row["evaluated"],
                "not_evaluated_reason": row["not_evaluated_reason"],
                "mujun_score": row["mujun_score"],
                "mujun_class_computed": row["mujun_class_computed"],
                "mujun_class": row["mujun_class"],
                "mujun_class_override": row["mujun_class_override"],
                "rank": row["rank"] or None,
                "group": row["group"],
                "group_size": row["group_size"] or None,
                "scores": {k: row[f"score_{k}"] for k in ind.ALL if row[f"score_{k}"] is not None},
                "indicators": {k: row[k] for k in ind.ALL if row[k] is not None},
                "land_use_tax_relief_rate": row["land_use_tax_relief_rate"],
                "electricity_surcharge": row["electricity_surcharge"],
                "d_years_running": row["d_years_running"],
                "carbon_intensity": row["carbon_intensity"],
                "carbon_level": row["carbon_level"],
                "carbon_efficiency_value": row["carbon_efficiency_value"],
                "carbon_grade": row["carbon_grade"],
                "low_efficiency_enterprise": row["low_efficiency_enterprise"],
                "billion_yuan_low_tax_enterprise": row["billion_yuan_low_tax_enterprise"],
                "high_consumption_low_efficiency_candidate": row["high_consumption_low_efficiency_candidate"],
                "explanation": explain(r, i),
            }
        )
    return {
        "year": ev.year,
        "method": ev.method_title or "default",
        "benchmarks": {g: {k: _f(v) for k, v in b.items()} for g, b in r.benchmarks.items()},
        "summary": summary(r),
        "carbon_industry_intensity": {k: _f(v, 6) for k, v in r.carbon_industry.items()},
        "enterprises": rows,
    }


def summary_table(r: Result, lang: str = "zh") -> list[list[str]]:
    """Rows of the printed class summary (group × class) and the county figures against targets."""
    s = summary(r)
    zh = lang == "zh"
    rows = [
        ["组别" if zh else "group", "A", "B", "C", "D", "未参评" if zh else "not evaluated", "合计" if zh else "total"]
    ]
    for g in (ABOVE, BELOW):
        c = s["counts"][g]
        rows.append(
            [group_label(g, lang), *(str(c[k]) for k in CLASSES), str(c["not_evaluated"]), str(sum(c.values()))]
        )
    return rows


def benchmark_table(r: Result, lang: str = "zh") -> list[tuple[str, str, float | None, str]]:
    """The benchmarks used: (indicator, group, value or ``None`` when undefined, unit), 规上 then 规下."""
    zh = lang == "zh"
    rows = []
    for g in (ABOVE, BELOW):
        for k, b in r.benchmarks[g].items():
            unit = ind.UNITS.get(k, "")
            value = float(b) if b is not None and math.isfinite(b) else None
            rows.append(
                (
                    ind.LABELS[k][0 if zh else 1],
                    group_label(g, lang),
                    value,
                    (unit or "比值") if zh else ind.UNITS_EN.get(unit, unit),
                )
            )
    return rows


def target_table(r: Result, lang: str = "zh") -> list[list[str]]:
    """County 规上 figures against the A.2 targets (附件 二、主要目标)."""
    zh = lang == "zh"
    rows = [
        [
            "指标" if zh else "indicator",
            "全市" if zh else "city",
            "2023年目标" if zh else "2023 target",
            "达标" if zh else "met",
        ]
    ]
    for k, v in summary(r)["county"].items():
        label_zh, label_en, unit = TARGET_LABELS[k]
        unit = unit if zh else ind.UNITS_EN.get(unit, unit)
        fmt = (lambda x: f"{x:.2%}") if k == "rd_intensity" else (lambda x, unit=unit: f"{x:,.2f} {unit}")
        rows.append(
            [
                label_zh if zh else label_en,
                fmt(v["value"]) if v["value"] is not None else "—",
                (v["term"] if zh else SYMBOL[boundary(v["term"]).op]) + " " + fmt(v["target"]),
                ("是" if zh else "yes") if v["met"] else ("否" if zh else "no"),
            ]
        )
    return rows


def results_book(ev: Evaluation, lang: str = "zh") -> ResultsBook:
    """The plain data of the officials' workbook: the results frame and the summary tables, in ``lang``."""
    r = ev.result
    m = r.method
    counts = summary(r)["counts"]
    return ResultsBook(
        year=ev.year,
        lang=lang,
        frame=results_frame(r, lang=lang),
        method_title=ev.method_title,
        benchmark_mode=m.benchmark_mode,
        quotas_above=m.quotas_above,
        quotas_below=m.quotas_below,
        below_min_land_mu4=m.below_min_land_mu4,
        class_table=summary_table(r, lang),
        target_table=target_table(r, lang),
        benchmark_rows=benchmark_table(r, lang),
        evaluated=sum(counts[g][c] for g in counts for c in CLASSES),
        not_evaluated=sum(counts[g]["not_evaluated"] for g in counts),
    )


def write_results_xlsx(ev: Evaluation, path: str | Path, lang: str = "zh") -> Path:
    """The officials' workbook (summary with chart, A类–D类, 未参评); ``lang`` is ``"zh"`` or ``"en"``."""
    return results_writer.write_results_xlsx(results_book(ev, lang), path)


def write_results_csv(ev: Evaluation, path: str | Path, lang: str = "zh") -> Path:
    """One row per enterprise (``results_frame``), English column names, UTF-8 with BOM."""
    return results_writer.write_results_csv(results_frame(ev.result, lang=lang), path)


def write_results_json(ev: Evaluation, path: str | Path) -> Path:
    """The :func:`to_json` document, UTF-8, Chinese kept as is."""
    return results_writer.write_results_json(to_json(ev), path)


def write_results(ev: Evaluation, path: str | Path, lang: str = "zh") -> Path:
    """Write the results in the format the suffix of ``path`` names (one of :data:`SUFFIXES`).

    Raises:
        ValueError: for any other suffix (nothing is written).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_results_xlsx(ev, path, lang)
    if suffix == ".csv":
        return write_results_csv(ev, path, lang)
    if suffix == ".json":
        return write_results_json(ev, path)
    raise ValueError(f"unsupported output {path.name!r}: use one of {', '.join(SUFFIXES)}")
