"""项目全周期 pages (A.4.2): the projects an actor sees (filters, sorting, Excel export) and one project with its
stages, its 重点项目 mark, its applications, its zero-land entry and the next moves as forms.

Every page calls the services (``services/enterprises/lifecycle.py``, ``project_list.py``); the scope is theirs. The
acceptance (达产验收) ends the loop: it is asked first (``form[data-confirm]``, ``confirm=1``); without the
confirmation the page says what it would record, and nothing is done.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ...core.errors import InvalidInput
from ...registers.roles import Actor
from ...services import attachments
from ...services.campaign.common import today
from ...services.enterprises import lifecycle, project_list
from .. import figures
from ..app import render
from ..limits import IdPath, year_param
from ..security import ActorDep, FormDep, PlatformDep, client_address, language

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SORTS = ("enterprise", "name", "total", "stage", *lifecycle.DATES.values())
FIRST_YEAR = 2021
"""The first filing year offered by the year filter (the demo county's first year)."""


def _filter(town: str, stage: str, key: str, year: str) -> project_list.ProjectFilter:
    """The list's filters; a year out of range is refused (422, as on every page), an empty one is every year."""
    return project_list.ProjectFilter(town or None, stage or None, key or None, year_param(year or None))


def _sorted(found: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    key = sort.lstrip("-")
    if key not in SORTS:
        return found
    pick = {
        "enterprise": lambda p: p["enterprise_name"] or "",
        "name": lambda p: p["name"] or "",
        "total": lambda p: p["total_investment"] if p["total_investment"] is not None else Decimal(-1),
        "stage": lambda p: lifecycle.STAGES.index(p["stage"]) if p["stage"] in lifecycle.STAGES else 0,
    }.get(key, lambda p: p["lifecycle"].get(key) or "")
    return sorted(found, key=pick, reverse=sort.startswith("-"))


@router.get("/projects")
def index_page(
    request: Request,
    actor: ActorDep,
    p: PlatformDep,
    town: str = "",
    stage: str = "",
    key: str = "",
    year: str = "",
    sort: str = "",
) -> Response:
    """The projects in the caller's scope with their stage and dates; filters, sorting and the Excel export."""
    f = _filter(town, stage, key, year)
    found = _sorted(project_list.list_projects(p.uow, actor, f), sort)
    chosen = {"town": town, "stage": stage, "key": key, "year": year}
    query = "&".join(f"{name}={value}" for name, value in chosen.items() if value)
    return render(
        request,
        "projects/index.html",
        projects=found,
        chosen=chosen,
        query=query,
        sort=sort,
        stages=lifecycle.WORKFLOW.states.values(),
        dates=[(lifecycle.DATES[s], s) for s in lifecycle.STAGES],
        years=list(range(today().year, FIRST_YEAR - 1, -1)),
        towns=figures.towns(language(request)) if actor.sees_all_enterprises else [],
    )


@router.get("/projects/export.xlsx")
def export(
    request: Request, actor: ActorDep, p: PlatformDep, town: str = "", stage: str = "", key: str = "", year: str = ""
) -> Response:
    """The filtered list as an Excel workbook (Chinese headers with units, 万元); audited."""
    content = project_list.export_xlsx(p.uow, actor, _filter(town, stage, key, year), client_address(request))
    return Response(content, media_type=XLSX, headers={"Content-Disposition": 'attachment; filename="projects.xlsx"'})


def detail_response(
    request: Request, p: Any, actor: Actor, project_id: int, status_code: int = 200, **kw: Any
) -> Response:
    """One project's page (also shown again with a move's problems, or to confirm the acceptance)."""
    return render(
        request,
        "projects/detail.html",
        status_code=status_code,
        project=project_list.detail(p.uow, actor, project_id),
        today=today().isoformat(),
        kinds=attachments.kinds_of(lifecycle.OWNER.key),
        max_attachment_mb=p.settings.max_attachment_mb,
        **kw,
    )


@router.get("/projects/{project_id}")
def detail_page(request: Request, project_id: IdPath, actor: ActorDep, p: PlatformDep) -> Response:
    """One project: its stages with their dates, the 重点项目 mark, its applications, its zero-land entry, the moves."""
    return detail_response(request, p, actor, project_id)


@router.post("/projects/{project_id}/lifecycle/{action}")
def move_submit(
    request: Request, project_id: IdPath, action: str, actor: ActorDep, p: PlatformDep, form: FormDep
) -> Response:
    """Record a stage from the project's page, then show it again; the acceptance needs ``confirm=1``. ``correct``
    corrects what was recorded for the stages reached, with a reason."""
    posted = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "confirm")}
    if action == lifecycle.CORRECT:
        try:
            lifecycle.correct(p.uow, actor, project_id, posted, address=client_address(request))
        except InvalidInput as exc:
            return detail_response(
                request, p, actor, project_id, 422, failed=action, move_problems=exc.problems, posted=posted
            )
        return RedirectResponse(f"/projects/{project_id}#stages", status_code=303)
    given = {k: posted.get(k, "") for k in lifecycle.WORKFLOW.fields}
    final = any(m.action == action and lifecycle.WORKFLOW.states[m.target].terminal for m in lifecycle.WORKFLOW.moves)
    try:
        if final and str(form.get("confirm") or "") != "1":
            lifecycle.check(p.uow, actor, project_id, action, given)
            return detail_response(request, p, actor, project_id, confirming=action, posted=posted)
        lifecycle.move(p.uow, actor, project_id, action, given, address=client_address(request))
    except InvalidInput as exc:
        return detail_response(
            request, p, actor, project_id, 422, failed=action, move_problems=exc.problems, posted=posted
        )
    return RedirectResponse(f"/projects/{project_id}#stages", status_code=303)
