"""The reports page (A.4.2 月通报、季擂台、年评优): choose a month (and a town), a quarter or a year, download the
bulletin, the quarterly contest or the annual awards as PDF or Excel; the chosen quarter's ranking is on the page.

A town official gets its own town's bulletin; the county's and every town's are for the bureau, the departments
and the auditors. The contests rank every town and zone and are public among them: every official reads them
whole. An enterprise has no reports here.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...core import reference_data
from ...core.errors import InvalidInput
from ...services.campaign.common import today
from ...services.reports import contest, officials_only
from ...services.reports.documents import contest_file, contest_rows, monthly_file
from .. import figures
from ..app import render
from ..limits import year_param
from ..security import ActorDep, PlatformDep, language

router = APIRouter(include_in_schema=False)


def _last_month() -> str:
    first = today().replace(day=1) - dt.timedelta(days=1)
    return f"{first:%Y-%m}"


def _last_quarter() -> str:
    """The last finished quarter (``2023Q2``)."""
    day = today()
    q = (day.month - 1) // 3  # the quarters finished this year
    return f"{day.year}Q{q}" if q else f"{day.year - 1}Q4"


def _last_year() -> str:
    return str(today().year - 1)


OFFICIAL_ORDER = {t.code: i for i, t in enumerate(reference_data.towns())}
"""The 镇(街道) and zones in the official order (街道, then 镇, by their codes; the zones last) — how the county's
documents list them, so sorting "by unit" follows it rather than the characters' code points."""
RANKING_SORTS = {
    "rank": lambda r: (r["rank"] is None, r["rank"] or 0),
    "unit": lambda r: (OFFICIAL_ORDER.get(r["code"], len(OFFICIAL_ORDER)), r["name"]),
    "composite": lambda r: (r["composite"] is not None, r["composite"] or 0),
}


@router.get("/reports")
def reports_page(
    request: Request,
    actor: ActorDep,
    p: PlatformDep,
    month: str = "",
    town: str = "",
    quarter: str = "",
    year: str = "",
    sort: str = "rank",
    dir: str = "asc",
) -> Response:
    """The month and town, the quarter and the year to report on, the downloads, and the quarter's ranking
    (sortable by rank, unit or composite)."""
    officials_only(actor)
    lang = language(request)
    year_param(year or None)  # a year out of range is a 422, as on every page
    quarter = quarter.strip() or _last_quarter()
    rows: list[dict] = []
    indicators: list[dict] = []
    problem = ""
    try:
        c = contest.quarterly(p.uow, actor, quarter)
        quarter, rows, indicators = c.period, contest_rows(c, lang), list(c.indicators)
    except InvalidInput as exc:
        problem = exc.problems[0].message_zh if lang == "zh" else exc.problems[0].message_en
    key = sort if sort in RANKING_SORTS else "rank"
    descending = dir == "desc"
    if key != "rank" or descending:
        ranked = sorted((r for r in rows if r["rank"] is not None), key=RANKING_SORTS[key], reverse=descending)
        rows = ranked + [r for r in rows if r["rank"] is None]  # the unranked stay last
    return render(
        request,
        "reports/index.html",
        month=month or _last_month(),
        town=actor.town if actor.role == "town" else town,
        towns=figures.towns(lang) if actor.role != "town" else [],
        quarter=quarter,
        year=year.strip() or _last_year(),
        ranking=rows,
        indicators=indicators,
        ranking_problem=problem,
        sort=key,
        dir="desc" if descending else "asc",
    )


@router.get("/reports/monthly.pdf")
def monthly_pdf(request: Request, actor: ActorDep, p: PlatformDep, month: str = "", town: str = "") -> Response:
    """The monthly bulletin as PDF (a download; a town gets its own town's)."""
    return _download(request, actor, p, month, town, "pdf")


@router.get("/reports/monthly.xlsx")
def monthly_xlsx(request: Request, actor: ActorDep, p: PlatformDep, month: str = "", town: str = "") -> Response:
    """The monthly bulletin as an Excel workbook (a download; a town gets its own town's)."""
    return _download(request, actor, p, month, town, "xlsx")


def _download(request: Request, actor, p, month: str, town: str, fmt: str) -> Response:
    officials_only(actor)
    doc = monthly_file(p.uow, actor, month or _last_month(), town or None, fmt, language(request))
    return Response(
        doc.content,
        media_type=doc.media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}"},
    )


@router.get("/reports/quarterly.pdf")
def quarterly_pdf(request: Request, actor: ActorDep, p: PlatformDep, quarter: str = "") -> Response:
    """The quarterly contest (季擂台) as PDF (a download; the whole ranking)."""
    return _contest_download(request, actor, p, quarter or _last_quarter(), False, "pdf")


@router.get("/reports/quarterly.xlsx")
def quarterly_xlsx(request: Request, actor: ActorDep, p: PlatformDep, quarter: str = "") -> Response:
    """The quarterly contest (季擂台) as an Excel workbook (a download; the whole ranking)."""
    return _contest_download(request, actor, p, quarter or _last_quarter(), False, "xlsx")


@router.get("/reports/annual.pdf")
def annual_pdf(request: Request, actor: ActorDep, p: PlatformDep, year: str = "") -> Response:
    """The annual awards (年评优) as PDF (a download)."""
    return _contest_download(request, actor, p, year or _last_year(), True, "pdf")


@router.get("/reports/annual.xlsx")
def annual_xlsx(request: Request, actor: ActorDep, p: PlatformDep, year: str = "") -> Response:
    """The annual awards (年评优) as an Excel workbook (a download)."""
    return _contest_download(request, actor, p, year or _last_year(), True, "xlsx")


def _contest_download(request: Request, actor, p, period: str, annual: bool, fmt: str) -> Response:
    officials_only(actor)
    doc = contest_file(p.uow, actor, period, annual, fmt, language(request))
    return Response(
        doc.content,
        media_type=doc.media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}"},
    )
