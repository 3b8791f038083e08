"""首页驾驶舱 (/dashboard): the 待办 panel, the county KPIs against the A.2 targets, classes, towns and the trend."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...services import todo
from ...services.evaluation import dashboard as service
from ..app import render
from ..figures import CLASS_KEYS, FIGURES, town_name
from ..i18n import t
from ..limits import year_param
from ..notices import todo_text
from ..security import ActorDep, PlatformDep, language

router = APIRouter(include_in_schema=False)
COLOURS = {"A": "#1f7a3d", "B": "#2c6fb7", "C": "#c98a00", "D": "#b22d2d"}


@router.get("/dashboard")
def dashboard_page(request: Request, p: PlatformDep, actor: ActorDep, year: str | None = None) -> Response:
    """The dashboard of a published year (default: the latest), below what waits on the user (待办)."""
    d = service.dashboard(p.uow, actor, year_param(year))
    lang = language(request)
    return render(
        request,
        "dashboard/index.html",
        d=d,
        f=FIGURES,
        todo=todo.items(p.uow, actor),
        todo_text=todo_text,
        charts=charts(d, actor.sees_all_enterprises, lang) if d.year else {},
    )


def _list_url(year: int, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"/enterprises?year={year}" + (f"&{query}" if query else "")


def charts(d: service.Dashboard, sees_all: bool, lang: str) -> dict[str, Any]:
    """ECharts options of the four dashboard charts, with click targets into the enterprise list where it lists
    what was clicked.

    The class chart shows the caller's scope (a town official: the town), so its
    bars link to the (scoped) list; the county-wide charts link only for those who see all.
    """
    scope_counts = d.town_counts or d.counts
    groups = (("above_scale", 1), ("below_scale", 0))
    classes = {
        "option": {
            "tooltip": {"trigger": "axis"},
            "legend": {"bottom": 0},
            "grid": {"left": 48, "right": 16, "top": 24, "bottom": 48},
            "xAxis": {"type": "category", "data": [t("dashboard.class_n", lang, k=k) for k in CLASS_KEYS]},
            "yAxis": {"type": "value", "name": t("dashboard.firms", lang)},
            "series": [
                {
                    "type": "bar",
                    "name": t(f"enterprises.{'above_scale' if g == 'above_scale' else 'below_scale'}", lang),
                    "label": {"show": True, "position": "top"},
                    "data": [scope_counts.get(g, {}).get(k, 0) for k in CLASS_KEYS],
                }
                for g, _ in groups
            ],
        },
        "links": [[_list_url(d.year, **{"class": k, "above_scale": flag}) for k in CLASS_KEYS] for _, flag in groups]
        if sees_all or d.town_code
        else None,
    }
    ranked = [r for r in reversed(d.ranking)]
    towns = {
        "option": _narrow(
            {
                "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
                "legend": {"bottom": 0},
                "grid": {"left": 150, "right": 24, "top": 40, "bottom": 40},
                "yAxis": {
                    "type": "category",
                    "data": [town_name(r.code, lang) for r in ranked],
                    "axisLabel": {"width": 136, "overflow": "truncate"},
                },
                "xAxis": [
                    {"type": "value", "name": t("enterprises.ind.tax_per_mu", lang), "position": "bottom"},
                    {"type": "value", "name": t("enterprises.ind.value_added_per_mu", lang), "position": "top"},
                ],
                "series": [
                    {
                        "type": "bar",
                        "name": t("enterprises.ind.tax_per_mu", lang),
                        "xAxisIndex": 0,
                        "data": [_round(r.tax_per_mu) for r in ranked],
                        "itemStyle": {"color": "#1a5fa8"},
                        "markLine": {
                            "symbol": "none",
                            "data": [{"xAxis": _round(_county(d, "tax_per_mu")), "name": t("dashboard.county", lang)}],
                            "label": {"formatter": t("dashboard.county", lang), "position": "insideStartTop"},
                        },
                    },
                    {
                        "type": "bar",
                        "name": t("enterprises.ind.value_added_per_mu", lang),
                        "xAxisIndex": 1,
                        "data": [_round(r.value_added_per_mu) for r in ranked],
                        "itemStyle": {"color": "#9db9d9"},
                    },
                ],
            },
            {
                # A phone: town names truncated to a narrower band, each axis named under (above) its own labels.
                "grid": {"left": 96, "right": 16, "top": 64, "bottom": 76},
                "yAxis": {"axisLabel": {"width": 86, "overflow": "truncate", "fontSize": 11}},
                "xAxis": [
                    {"nameLocation": "middle", "nameGap": 26, "splitNumber": 3},
                    {"nameLocation": "middle", "nameGap": 26, "splitNumber": 3},
                ],
            },
        ),
        "links": [
            _list_url(d.year, town=r.code, above_scale=1) if sees_all or r.code == d.town_code else None for r in ranked
        ],
    }
    years = [str(p.year) for p in d.trend]
    lines = [
        {
            "type": "line",
            "name": t("dashboard.county_of", lang, what=t(f"enterprises.ind.{k}", lang)),
            "yAxisIndex": i,
            "data": [_round(p.county.get(k)) for p in d.trend],
        }
        for i, k in enumerate(("tax_per_mu", "value_added_per_mu"))
    ]
    if d.town_code:
        lines += [
            {
                "type": "line",
                "name": t("dashboard.town_of", lang, what=t(f"enterprises.ind.{k}", lang)),
                "yAxisIndex": i,
                "lineStyle": {"type": "dashed"},
                "data": [_round((p.town or {}).get(k)) for p in d.trend],
            }
            for i, k in enumerate(("tax_per_mu", "value_added_per_mu"))
        ]
    trend = {
        "option": _narrow(
            {
                "tooltip": {"trigger": "axis"},
                "legend": {"bottom": 0},
                "grid": {"left": 56, "right": 56, "top": 40, "bottom": 56},
                "xAxis": {"type": "category", "data": years},
                "yAxis": [
                    {"type": "value", "name": t("enterprises.ind.tax_per_mu", lang), "scale": True},
                    {"type": "value", "name": t("enterprises.ind.value_added_per_mu", lang), "scale": True},
                ],
                "series": lines,
            },
            {"grid": {"left": 44, "right": 44, "bottom": 84}},  # a phone: the legend takes two lines
        )
    }
    trend_classes = {
        "option": {
            "tooltip": {"trigger": "axis"},
            "legend": {"bottom": 0},
            "grid": {"left": 56, "right": 16, "top": 24, "bottom": 48},
            "xAxis": {"type": "category", "data": years},
            "yAxis": {"type": "value", "name": t("dashboard.firms", lang)},
            "series": [
                {
                    "type": "bar",
                    "stack": "classes",
                    "name": t("dashboard.class_n", lang, k=k),
                    "itemStyle": {"color": COLOURS[k]},
                    "data": [p.classes.get(k, 0) for p in d.trend],
                }
                for k in CLASS_KEYS
            ],
        },
        "links": [[_list_url(p.year, **{"class": k}) for p in d.trend] for k in CLASS_KEYS] if sees_all else None,
    }
    return {"classes": classes, "towns": towns, "trend": trend, "trend_classes": trend_classes}


PHONE_WIDTH = 500
"""Charts narrower than this (px) take the phone form of their option (an ECharts media query, resized live)."""


def _narrow(option: dict[str, Any], phone: dict[str, Any]) -> dict[str, Any]:
    """``option``, with ``phone`` merged into it while the chart is narrower than :data:`PHONE_WIDTH` (ECharts takes
    the root of an option with ``media`` as its base option).
    """
    return {**option, "media": [{"query": {"maxWidth": PHONE_WIDTH}, "option": phone}]}


def _county(d: service.Dashboard, key: str) -> float | None:
    return next((k.value for k in d.county if k.key == key), None)


def _round(x: float | None) -> float | None:
    return round(x, 4) if x is not None else None
