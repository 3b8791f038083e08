"""The enterprise list (/enterprises, with Excel export) and 企业画像 (/enterprises/{credit_code}), with its A.3.16
tags (POST /enterprises/{credit_code}/tags)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ...core.mujun import indicators as ind
from ...services.audit import trail as audit_trail
from ...services.campaign import views as campaign_views
from ...services.enterprises import directory as service
from ...services.enterprises import tags as enterprise_tags
from ..app import render
from ..evaluation_workbooks import enterprise_list_workbook
from ..figures import FIGURES, divisions, towns
from ..i18n import t
from ..limits import BoundedFilterDep, year_param
from ..security import ActorDep, FormDep, PlatformDep, client_address, language

router = APIRouter(include_in_schema=False)


@router.get("/enterprises")
def enterprise_list(
    request: Request, p: PlatformDep, actor: ActorDep, f: BoundedFilterDep, year: str | None = None
) -> Response:
    """The filtered, sorted, paged list of a published year (scoped to the actor)."""
    listing = service.list_enterprises(p.uow, actor, year_param(year), f)
    lang = language(request)
    return render(
        request,
        "enterprises/list.html",
        listing=listing,
        f=FIGURES,
        towns=towns(lang),
        divisions=divisions(lang),
        flags=list(service.FLAGS),
        sorts=service.SORTS,
        sort_dirs=service.DEFAULT_DIRECTION,
        export_query=request.url.query,
    )


@router.get("/enterprises/export.xlsx")
def enterprise_export(
    request: Request, p: PlatformDep, actor: ActorDep, f: BoundedFilterDep, year: str | None = None
) -> Response:
    """The filtered list as an Excel workbook (the export is audited)."""
    listing = audit_trail.export_enterprises(p, actor, year_param(year), f, client_address(request))
    return enterprise_list_workbook(listing, language(request))


@router.get("/enterprises/{credit_code}")
def enterprise_profile(
    request: Request, credit_code: str, p: PlatformDep, actor: ActorDep, notice: str | None = None
) -> Response:
    """企业画像 (printable), with its A.3.16 tags (and their form for the roles that set them)."""
    prof = service.profile(p.uow, actor, credit_code)
    lang = language(request)
    registers = campaign_views.of_enterprise(p.uow, actor, prof.enterprise["credit_code"])
    return render(
        request,
        "enterprises/profile.html",
        prof=prof,
        f=FIGURES,
        keys=indicator_keys(prof),
        charts=charts(prof, lang),
        tags=enterprise_tags.TAGS,
        held=[k for k in enterprise_tags.TAGS if k in (prof.enterprise.get("tags") or [])],
        tag_clause=enterprise_tags.CLAUSE,
        notice="tags_saved" if notice == "tags_saved" else None,
        registers=registers,
    )


@router.post("/enterprises/{credit_code}/tags")
def enterprise_tags_form(
    request: Request, credit_code: str, p: PlatformDep, actor: ActorDep, form: FormDep
) -> Response:
    """Set the A.3.16 tags from the profile's checkboxes (admin; a town official for its town's firms), then show the
    profile again with a notice."""
    keys = [str(v) for v in form.getlist("tag")]
    enterprise_tags.set_tags(p.uow, actor, credit_code, keys, address=client_address(request))
    code = credit_code.strip().upper()
    return RedirectResponse(f"/enterprises/{code}?notice=tags_saved#tags", status_code=303)


def indicator_keys(prof: service.Profile) -> tuple[str, ...]:
    """The indicators of the enterprise's group (the latest evaluated year's, else the register's)."""
    latest = prof.latest
    above = latest.result["above_scale"] if latest else prof.enterprise["above_scale"]
    return ind.ABOVE if above else ind.BELOW


def charts(prof: service.Profile, lang: str) -> dict[str, Any]:
    """Two ECharts options: each indicator as a share of its county benchmark over the years, and
    亩均税收/亩均增加值 against the benchmark.
    """
    keys = indicator_keys(prof)
    years = [y for y in prof.years if y.result]
    labels = [str(y.year) for y in years]

    def ratio(y: service.YearProfile, k: str) -> float | None:
        v, b = (y.result["indicators"] or {}).get(k), (y.benchmarks or {}).get(k)
        return round(100 * v / b, 2) if v is not None and b else None

    def value(y: service.YearProfile, k: str, source: str) -> float | None:
        v = (y.result["indicators"] or {}).get(k) if source == "firm" else (y.benchmarks or {}).get(k)
        return round(v, 4) if v is not None else None

    index = {
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "type": "scroll"},
        "grid": {"left": 56, "right": 24, "top": 32, "bottom": 56},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "name": t("enterprises.profile.index_axis", lang)},
        "series": [
            {
                "type": "line",
                "name": t(f"enterprises.ind.{k}", lang),
                "data": [ratio(y, k) for y in years],
                "connectNulls": False,
            }
            for k in keys
        ],
    }
    index["series"].append(
        {
            "type": "line",
            "name": t("enterprises.profile.benchmark_line", lang),
            "data": [100 for _ in years],
            "symbol": "none",
            "lineStyle": {"type": "dashed", "color": "#66727f"},
            "itemStyle": {"color": "#66727f"},
        }
    )
    shown = [k for k in ("tax_per_mu", "value_added_per_mu") if k in keys]
    bars = {
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "type": "scroll"},
        "grid": {"left": 56, "right": 24, "top": 32, "bottom": 56},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "name": FIGURES.unit("tax_per_mu", lang)},
        "series": [
            s
            for k in shown
            for s in (
                {"type": "bar", "name": t(f"enterprises.ind.{k}", lang), "data": [value(y, k, "firm") for y in years]},
                {
                    "type": "line",
                    "name": t("enterprises.profile.benchmark_of", lang, what=t(f"enterprises.ind.{k}", lang)),
                    "data": [value(y, k, "bench") for y in years],
                    "lineStyle": {"type": "dashed"},
                },
            )
        ],
    }
    return {"index": {"option": index}, "bars": {"option": bars}}
