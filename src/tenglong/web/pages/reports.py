"""The reports page (A.4.2 月通报): choose a month (and a town), download the bulletin as PDF or Excel.

A town official gets its own town's bulletin; the county's and every town's are for the bureau, the departments
and the auditors. An enterprise has no reports here.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...core.errors import Forbidden
from ...services.campaign.common import today
from ...services.kernel.scope import require
from ...services.reports.documents import monthly_file
from .. import figures
from ..app import render
from ..security import ActorDep, PlatformDep, language

router = APIRouter(include_in_schema=False)


def _officials_only(actor) -> None:
    require(actor, "read")
    if actor.role == "enterprise":
        raise Forbidden("read", "月通报供工作专班和各镇（街道）使用。", "The bulletins are for the officials.")


def _last_month() -> str:
    first = today().replace(day=1) - dt.timedelta(days=1)
    return f"{first:%Y-%m}"


@router.get("/reports")
def reports_page(request: Request, actor: ActorDep, month: str = "", town: str = "") -> Response:
    """The month and town to report on, and the two downloads."""
    _officials_only(actor)
    lang = language(request)
    return render(
        request,
        "reports/index.html",
        month=month or _last_month(),
        town=actor.town if actor.role == "town" else town,
        towns=figures.towns(lang) if actor.role != "town" else [],
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
    _officials_only(actor)
    doc = monthly_file(p.uow, actor, month or _last_month(), town or None, fmt, language(request))
    return Response(
        doc.content,
        media_type=doc.media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc.filename)}"},
    )
