"""目标进度 (/targets): every target of the campaign with its value, boundary word, progress, met badge and the source
of its figure; a chart of the county against the A.2 targets over the years; a year selector and a drill-down by
town; one target's page (/targets/{key}) with its towns, its entries and the forms to enter a figure with evidence,
to add or remove the evidence of the figure shown (through ``POST /attachments``, pages/subsidies.py, which comes
back here) and to set the towns' shares (目标分解); the Excel export.

Every page calls ``services/reports`` (progress, figures, export); the scope is theirs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...core import campaign_targets
from ...core.errors import InvalidInput, NotFound, Problem, TooLarge
from ...registers.roles import Actor
from ...services import attachments
from ...services.reports import export, figures, progress
from ...services.reports.shown import shown_row
from .. import figures as shown
from ..api.targets import approx
from ..app import render
from ..i18n import t
from ..limits import year_param
from ..security import ActorDep, FormDep, PlatformDep, client_address, language

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SORTS = {
    "clause": lambda r: 0,
    "target": lambda r: r["zh"],
    "status": lambda r: {True: 0, False: 1, None: 2}[r["met"]],
    "source": lambda r: r["source_kind"],
}
"""Sortable columns (``clause``: the file's order, which follows the clauses)."""


def _towns(actor: Actor, lang: str) -> list[tuple[str, str]]:
    return [(code, name) for code, name in shown.towns(lang) if actor.sees_all_enterprises or code == actor.town]


def chart(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """The county's A.2 figures over the years, each as a percentage of what it is compared with (100% = met)."""
    years = _axis_years({p["year"] for r in rows for p in r["trend"]})
    series = []
    for r in rows:
        if r["clause"] != "A.2" or r["source_kind"] != "computed":
            continue
        target = campaign_targets.load()[r["key"]]
        by_year = {p["year"]: p["achieved"] for p in r["trend"]}
        data = []
        for y in years:
            aim, got = campaign_targets.compared_with(target, y), by_year.get(y)
            data.append(approx(got / aim * 100, 2) if got is not None and aim else None)
        series.append({"type": "line", "name": target.name(lang), "data": data, "connectNulls": False})
    option = {
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "type": "scroll"},
        "grid": {"left": 56, "right": 24, "top": 24, "bottom": 64},
        "xAxis": {"type": "category", "data": [str(y) for y in years]},
        "yAxis": {"type": "value", "name": t("targets.chart_axis", lang), "axisLabel": {"formatter": "{value}%"}},
        "series": [
            *series,
            {
                "type": "line",
                "name": "100%",
                "data": [100 for _ in years],
                "lineStyle": {"type": "dashed", "color": "#888"},
                "symbol": "none",
            },
        ],
    }
    return {"option": option, "links": None}


def _axis_years(held: set[int]) -> list[int]:
    """Every year from the first held to the last, so that the axis spaces years evenly (a year without data is a gap
    in the lines, not a shorter distance)."""
    return list(range(min(held), max(held) + 1)) if held else []


def _target_chart(r: dict[str, Any], lang: str) -> dict[str, Any]:
    """One target's compared value over the years against the number it is compared with."""
    target = campaign_targets.load()[r["key"]]
    years = _axis_years({p["year"] for p in r["trend"]})
    by_year = {p["year"]: p["achieved"] for p in r["trend"]}
    option = {
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 64, "right": 24, "top": 24, "bottom": 48},
        "xAxis": {"type": "category", "data": [str(y) for y in years]},
        "yAxis": {"type": "value", "scale": True},
        "series": [
            {
                "type": "bar",
                "name": t("targets.col.achieved", lang),
                "data": [approx(by_year.get(y)) for y in years],
            },
            {
                "type": "line",
                "name": t("targets.col.value", lang),
                "data": [approx(campaign_targets.compared_with(target, y)) for y in years],
                "lineStyle": {"type": "dashed"},
            },
        ],
    }
    return {"option": option, "links": None}


@router.get("/targets")
def targets_page(
    request: Request,
    p: PlatformDep,
    actor: ActorDep,
    year: str | None = None,
    town: str | None = None,
    sort: str = "clause",
    dir: str = "asc",
) -> Response:
    """Every target's progress in a year for the county or a town, sortable, with the chart over the years."""
    lang = language(request)
    rows = progress.progress(p.uow, actor, year_param(year), town or None)
    with p.uow.read() as conn:
        years = progress.years_of(conn)
    key = sort if sort in SORTS else "clause"
    ordered = sorted(rows, key=SORTS[key], reverse=dir == "desc") if key != "clause" else rows
    return render(
        request,
        "targets/index.html",
        rows=[shown_row(r, lang) for r in ordered],
        year=rows[0]["year"] if rows else None,
        years=years,
        town=town or None,
        towns=_towns(actor, lang),
        sort=key,
        dir="desc" if dir == "desc" else "asc",
        chart=chart(rows, lang) if not town else None,
        town_name=shown.town_name,
    )


@router.get("/targets/export.xlsx")
def targets_export(request: Request, p: PlatformDep, actor: ActorDep, year: str | None = None, town: str | None = None):
    """The progress of a year (county or town) as an Excel workbook; audited."""
    content, y = export.export_xlsx(p.uow, actor, year_param(year), town or None, client_address(request))
    name = f"targets-{y}" + (f"-{town}" if town else "") + ".xlsx"
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def detail_response(
    request: Request, p: Any, actor: Actor, key: str, year: int | None, town: str | None, status_code: int = 200, **kw
) -> Response:
    """One target's page: its progress (county or town), trend, towns, entries, and the forms the actor may use."""
    lang = language(request)
    target = figures.target_of(key)
    row = (
        next(r for r in progress.progress(p.uow, actor, year, town) if r["key"] == target.key)
        if (town is None or target.by_town)
        else None
    )
    year = row["year"] if row else year
    towns = [shown_row(r, lang) for r in progress.by_town(p.uow, actor, target.key, year)] if town is None else []
    with p.uow.read() as conn:
        years = progress.years_of(conn)
        share_of = figures.shares(conn) if actor.can("share_targets") else {}
    scopes = [("", t("targets.county", lang))] if actor.role == "admin" else []
    scopes += [(c, n) for c, n in _towns(actor, lang) if target.by_town and figures.may_enter(actor, target, c)]
    kw.setdefault("problems", [])
    kw.setdefault("posted", {})
    kw.setdefault("upload_problems", [])
    return render(
        request,
        "targets/target.html",
        status_code=status_code,
        target=target,
        r=shown_row(row, lang) if row else None,
        year=year,
        years=years,
        town=town,
        towns=towns,
        entries=figures.entries_of(p.uow, actor, target.key),
        scopes=scopes if target.source == "manual" else [],
        kinds=list(figures.EVIDENCE.items()),
        shares={c: share_of.get((target.key, c), {}).get("value", "") for c, _ in shown.towns(lang)},
        may_share=actor.can("share_targets") and target.by_town,
        all_towns=shown.towns(lang),
        chart=_target_chart(row, lang) if row else None,
        town_name=shown.town_name,
        evidence=_evidence(p, actor, row),
        evidence_kinds=attachments.kinds_of(figures.OWNER.key),
        max_attachment_mb=p.settings.max_attachment_mb,
        **kw,
    )


def _evidence(p: Any, actor: Actor, row: dict[str, Any] | None) -> dict[str, Any] | None:
    """The owner, id and files of the entered figure the page shows (the latest of its target, year and scope) when
    the actor may change them — add a file, remove one; else None (its files are still listed with its source).

    The attachment service decides: the figure is ``current`` only while it is the latest and the actor may enter it.
    """
    entry_id = row["source"].get("entry_id") if row else None
    if entry_id is None:
        return None
    with p.uow.read() as conn:
        try:
            owned = figures.OWNER.visible(conn, actor, entry_id)
        except NotFound:  # an enterprise sees the county's progress, not the entered figures
            return None
        if not attachments.may_upload(actor, figures.OWNER.key, owned.status):
            return None
        files = attachments.listing(conn, actor, figures.OWNER.key, entry_id, owned.status)
    return {"owner": figures.OWNER.key, "id": entry_id, "files": files}


def figure_place(p: Any, actor: Actor, figure_id: int) -> tuple[str, int, str | None] | None:
    """(target, year, town) of an entered figure the actor sees, or None (for the page to show after a change to its
    files)."""
    with p.uow.read() as conn:
        for (key, year, town), latest in figures.latest_figures(conn).items():
            if latest["id"] == figure_id:
                return key, year, town
    for target in campaign_targets.load():  # superseded since: its history
        if target.source == "manual":
            for e in figures.entries_of(p.uow, actor, target.key):
                if e["id"] == figure_id:
                    return target.key, int(e["year"]), e["town"]
    return None


def figure_url(p: Any, actor: Actor, figure_id: int) -> str:
    """The page of the target an entered figure belongs to, at its year and scope (``/targets`` when not found)."""
    place = figure_place(p, actor, figure_id)
    if place is None:
        return "/targets"
    key, year, town = place
    return f"/targets/{key}?year={year}" + (f"&town={town}" if town else "")


def figure_response(request: Request, p: Any, actor: Actor, figure_id: int, status_code: int = 200, **kw) -> Response:
    """The target page of an entered figure (its year and scope), e.g. again with the problems of an upload to it."""
    place = figure_place(p, actor, figure_id)
    if place is None:
        raise NotFound(figure_id)
    key, year, town = place
    return detail_response(request, p, actor, key, year, town, status_code, **kw)


@router.get("/targets/{key}")
def target_page(
    request: Request, key: str, p: PlatformDep, actor: ActorDep, year: str | None = None, town: str | None = None
):
    """One target: its progress for the county (or a town), over the years, by town, its entries and forms."""
    return detail_response(request, p, actor, key, year_param(year), town or None)


@router.post("/targets/{key}/figures")
async def target_enter(request: Request, key: str, p: PlatformDep, actor: ActorDep, form: FormDep) -> Response:
    """Enter a figure (year, scope, value, source, note) with an optional evidence file, then show the target."""
    posted = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    town = posted.get("town") or None
    try:
        fid = await run_in_threadpool(
            figures.enter_figure,
            p.uow,
            actor,
            key,
            posted.get("year"),
            town,
            posted.get("value"),
            posted.get("source"),
            posted.get("note"),
            client_address(request),
        )
    except InvalidInput as exc:
        return await run_in_threadpool(
            detail_response, request, p, actor, key, None, None, 422, problems=exc.problems, posted=posted
        )
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        try:
            await run_in_threadpool(
                attachments.upload,
                p,
                actor,
                figures.OWNER.key,
                fid,
                posted.get("kind") or "other",
                upload.filename,
                upload.file,
                client_address(request),
            )
        except (InvalidInput, TooLarge) as exc:
            problems = exc.problems if isinstance(exc, InvalidInput) else [_too_large(exc)]
            return await run_in_threadpool(
                detail_response, request, p, actor, key, None, None, 422, problems=problems, saved_without_file=True
            )
    year = posted.get("year", "")
    url = f"/targets/{figures.target_of(key).key}?year={year if year.isdigit() else ''}"
    return RedirectResponse(url + (f"&town={town}" if town and town.isdigit() else ""), status_code=303)


def _too_large(exc: TooLarge) -> Problem:
    return Problem("too_large", "file", None, "", "", "", exc.message_zh, exc.message_en)


@router.post("/targets/{key}/shares")
def target_shares(request: Request, key: str, p: PlatformDep, actor: ActorDep, form: FormDep) -> Response:
    """Set the towns' shares of the target (目标分解, admin), then show the target."""
    given = {k.removeprefix("share."): str(v) for k, v in form.items() if k.startswith("share.") and isinstance(v, str)}
    try:
        figures.set_shares(p.uow, actor, key, given, client_address(request))
    except InvalidInput as exc:
        return detail_response(request, p, actor, key, None, None, 422, problems=exc.problems)
    return RedirectResponse(f"/targets/{figures.target_of(key).key}#shares", status_code=303)
