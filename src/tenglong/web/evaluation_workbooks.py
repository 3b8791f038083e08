"""The Excel exports of the enterprise list and of an evaluation run, in the reader's language.

Headers and texts come from the catalogue (``enterprises.col.*``,
``evaluations.xlsx.*``); the rows are the stored results the services return;
``adapters.tabular.table_workbook`` lays them out.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from ..adapters.tabular.table_workbook import Column, RunSummary, list_workbook, run_workbook
from ..core.mujun import indicators as ind
from .figures import (
    CLASS_KEYS,
    adjustment,
    indicator,
    industry_label,
    percent,
    state_name,
    target_word,
    town_name,
    unit,
    when,
)
from .i18n import t

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FLAG_COLUMNS = (
    "low_efficiency_enterprise",
    "billion_yuan_low_tax_enterprise",
    "high_consumption_low_efficiency_candidate",
)


def columns(lang: str, explanations: bool = False) -> list[Column]:
    """The columns of a result list: identity, class, indicators, consequences, data (and the explanation)."""
    c = lambda key, width=12, kind="text": Column(key, t(f"enterprises.col.{key}", lang), width, kind)  # noqa: E731
    inds = [
        Column(
            f"ind_{k}",
            f"{indicator(k, lang)} ({unit(k, lang)})" if unit(k, lang) else indicator(k, lang),
            14,
            "pct" if k == "rd_intensity" else "indicator",
        )
        for k in ind.ALL
    ]
    out = [
        c("credit_code", 21),
        c("name", 30),
        c("town_name", 12),
        c("industry_label", 26),
        c("group", 9),
        c("mujun_score", 10, "score"),
        c("rank", 7, "int"),
        c("group_size", 9, "int"),
        c("mujun_class_computed", 10),
        c("mujun_class", 9),
        c("adjustment", 26, "wrap"),
        *inds,
        c("land_use_tax_relief_rate", 12, "rate"),
        c("electricity_surcharge", 12, "price"),
        c("d_years_running", 9, "int"),
        c("carbon_grade", 9, "int"),
        *(c(k, 12) for k in FLAG_COLUMNS),
        c("land_area_mu", 12, "mu"),
        c("tax_paid", 16, "money"),
        c("value_added", 16, "money"),
        c("employees", 9, "int"),
        c("not_evaluated_reason", 24, "wrap"),
    ]
    if explanations:
        out.append(c("explanation", 90, "wrap"))
    return out


def display_rows(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The rows with the display values the columns name (town and industry names, texts for flags and reasons)."""
    yes = t("common.yes", lang)
    out = []
    for r in rows:
        d = dict(r)
        d.update(
            town_name=town_name(r["town"], lang),
            industry_label=industry_label(r["industry"], lang),
            group=t("enterprises.above_scale" if r["above_scale"] else "enterprises.below_scale", lang),
            mujun_class=r["mujun_class"] if r["evaluated"] else t("enterprises.class.none", lang),
            adjustment=adjustment(r, lang),
            not_evaluated_reason=t(f"enterprises.reason.{r['not_evaluated_reason']}", lang)
            if r["not_evaluated_reason"]
            else None,
            explanation=r.get("explanation_zh" if lang == "zh" else "explanation_en"),
            **{f"ind_{k}": (r["indicators"] or {}).get(k) for k in ind.ALL},
            **{k: yes if r[k] else None for k in FLAG_COLUMNS},
        )
        out.append(d)
    return out


def xlsx_response(content: bytes, filename: str) -> Response:
    """The workbook as a download."""
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def enterprise_list_workbook(listing: Any, lang: str) -> Response:
    """The filtered enterprise list as an XLSX download (the filters on a second sheet)."""
    f = listing.filter
    notes = [t("enterprises.xlsx.notes_title", lang, year=listing.year or "—", total=listing.page.total)]
    stamp = getattr(listing, "run", None)
    if stamp is not None:  # which published run the classes come from (as the page says above the list)
        used = t("enterprises.xlsx.run_used", lang, year=stamp.year, id=stamp.id, at=when(stamp.published_at))
        notes.append(
            used + (t("enterprises.run_used_supersedes", lang, old=stamp.supersedes) if stamp.supersedes else "")
        )
    for key, value in (
        ("q", f.q),
        ("town", town_name(f.town, lang) if f.town else None),
        ("industry", industry_label(f.industry, lang) if f.industry else None),
        ("class", f.klass),
        (
            "above_scale",
            None
            if f.above_scale is None
            else t("enterprises.above_scale" if f.above_scale else "enterprises.below_scale", lang),
        ),
        ("flag", t(f"enterprises.flag.{f.flag}", lang) if f.flag else None),
    ):
        if value:
            notes.append(f"{t('enterprises.filter.' + key, lang)}: {value}")
    content = list_workbook(
        t("enterprises.xlsx.sheet", lang),
        columns(lang),
        display_rows(listing.page.items, lang),
        t("enterprises.xlsx.notes_sheet", lang),
        notes,
    )
    return xlsx_response(content, f"enterprises-{listing.year or 'none'}.xlsx")


def run_summary(run: Any, visible: int, lang: str) -> RunSummary:
    """The summary sheet of a run: method, class counts, county figures against the A.2 targets, benchmarks."""
    s = run.summary or {}
    counts = s.get("counts") or {}
    groups = [("above_scale", "enterprises.above_scale"), ("below_scale", "enterprises.below_scale")]
    rows = []
    for g, key in groups:
        c = counts.get(g, {})
        values = [int(c.get(k, 0)) for k in (*CLASS_KEYS, "not_evaluated")]
        rows.append((t(key, lang), [*values, sum(values)]))
    rows.append((t("evaluations.total", lang), [sum(col) for col in zip(*(r[1] for r in rows), strict=True)]))
    targets = []
    for k, v in (s.get("county") or {}).items():
        fmt = (lambda x: percent(x)) if k == "rd_intensity" else (lambda x, k=k: f"{x:,.2f} {unit(k, lang)}")
        op = target_word(k, v, lang)
        targets.append(
            (
                [
                    indicator(k, lang),
                    fmt(v["value"]) if v["value"] is not None else "—",
                    f"{op} {fmt(v['target'])}",
                    t("common.yes" if v["met"] else "common.no", lang),
                ],
                bool(v["met"]),
            )
        )
    bench = [
        (indicator(k, lang), t(key, lang), b, unit(k, lang))
        for g, key in groups
        for k, b in ((run.benchmarks or {}).get(g) or {}).items()
    ]
    method = run.method_title or t("evaluations.default_method", lang)
    lines = [
        t("evaluations.xlsx.method", lang, method=method),
        t("evaluations.xlsx.version", lang, version=run.parameters_version),
        t("evaluations.xlsx.status", lang, status=state_name("evaluation_run", run.status, lang), run=run.id),
        t("evaluations.xlsx.started", lang, who=run.started_by, at=when(run.started_at)),
    ]
    if run.published_at:
        lines.append(t("evaluations.xlsx.published", lang, who=run.published_by, at=when(run.published_at)))
    return RunSummary(
        title=t("evaluations.xlsx.title", lang, year=run.year),
        lines=lines,
        class_title=t("evaluations.xlsx.classes", lang),
        class_header=[
            t("evaluations.group", lang),
            *CLASS_KEYS,
            t("enterprises.class.none", lang),
            t("evaluations.total", lang),
        ],
        class_rows=rows,
        chart_title=t("evaluations.xlsx.chart", lang, year=run.year),
        chart_x=t("evaluations.class", lang),
        chart_y=t("evaluations.firms", lang),
        target_title=t("evaluations.xlsx.targets", lang),
        target_header=[
            t("evaluations.indicator", lang),
            t("evaluations.county", lang),
            t("evaluations.target_2023", lang),
            t("evaluations.met", lang),
        ],
        target_rows=targets,
        bench_title=t("evaluations.xlsx.benchmarks", lang),
        bench_header=[
            t("evaluations.indicator", lang),
            t("evaluations.group", lang),
            t("evaluations.benchmark", lang),
            t("evaluations.unit", lang),
        ],
        bench_rows=bench,
        notes=[t("evaluations.xlsx.visible", lang, n=visible)],
    )


def run_workbook_response(run: Any, rows: list[dict[str, Any]], lang: str) -> Response:
    """A run's results as an XLSX download: the summary sheet with its chart, then every visible result with its
    explanation.
    """
    content = run_workbook(
        run_summary(run, len(rows), lang),
        t("evaluations.xlsx.summary_sheet", lang),
        t("evaluations.xlsx.results_sheet", lang),
        columns(lang, explanations=True),
        display_rows(rows, lang),
    )
    return xlsx_response(content, f"evaluation-{run.year}-run{run.id}.xlsx")
