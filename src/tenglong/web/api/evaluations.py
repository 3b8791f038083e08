"""Evaluation runs (list, start, status, publish, rerun, results, export, compare) and the dashboard figures.

Admin, department and auditor see every run; town and enterprise accounts the
published ones and those they superseded (others are 404). Only admin starts
(202, then poll the run), publishes (409 when the run is not finished or its year
is already published), supersedes a year's published run with a newer finished
one (with a reason; 409 when there is nothing to supersede) and reruns a failed
run (202, then poll; 409 when the run has not failed). Results are scoped like
the enterprise list.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ...core.errors import Forbidden
from ...services.audit import trail as audit_trail
from ...services.evaluation import compare as comparing
from ...services.evaluation import dashboard as dashboard_service
from ...services.evaluation import methods
from ...services.evaluation import views as service
from ..evaluation_workbooks import run_workbook_response
from ..limits import MAX_ID, BoundedFilterDep, IdPath, PageQuery, year_param
from ..security import ActorDep, PlatformDep, client_address, language
from .evaluation_schemas import (
    ClassChangePublic,
    ComparisonPublic,
    DashboardPublic,
    ResultPagePublic,
    ResultRowPublic,
    RunCreate,
    RunDetailPublic,
    RunPublic,
    SupersedeIn,
    dashboard_public,
    run_public,
)

router = APIRouter(prefix="/api/v1", tags=["evaluations"])  # error answers: app.document_errors
WRITE_ERRORS = {403: {"description": "Only admin starts, publishes and reruns runs (error envelope)"}}


@router.get("/dashboard", response_model=DashboardPublic, tags=["dashboard"])
def dashboard(
    p: PlatformDep,
    actor: ActorDep,
    year: Annotated[str | None, Query(description="A published year (default: the latest)")] = None,
) -> DashboardPublic:
    """首页驾驶舱: county 规上 figures against the A.2 targets, class counts, town ranking, trend.

    A town also gets its own figures.
    """
    return dashboard_public(dashboard_service.dashboard(p.uow, actor, year_param(year)))


@router.get("/evaluations", response_model=list[RunPublic])
def list_runs(p: PlatformDep, actor: ActorDep) -> list[RunPublic]:
    """The runs the caller may see, newest first."""
    return [run_public(r) for r in service.list_runs(p.uow, actor)]


@router.post("/evaluations", response_model=RunPublic, status_code=202, responses=WRITE_ERRORS)
def start_run(request: Request, body: RunCreate, p: PlatformDep, actor: ActorDep) -> RunPublic:
    """Start an evaluation of ``year`` in the background (admin).

    Poll ``GET /api/v1/evaluations/{id}`` until ``done`` or ``failed``. A method with invalid changes
    is refused with every problem (422) and nothing starts.
    """
    if not actor.can("evaluate"):
        raise Forbidden("evaluate")
    method = methods.from_json(body.method.model_dump() if body.method else None)
    return run_public(service.start_run(p.uow, actor, body.year, method.changes, method.title, client_address(request)))


@router.get("/evaluations/compare", response_model=ComparisonPublic)
def compare(
    p: PlatformDep,
    actor: ActorDep,
    a: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="The earlier published year (default: the second latest)")
    ] = None,
    b: Annotated[int | None, Query(ge=1, le=MAX_ID, description="The later published year (default: the latest)")] = (
        None
    ),
    direction: Annotated[str | None, Query(description="up or down: only firms whose class improved / fell")] = None,
    page: PageQuery = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_ID)] = 50,
) -> ComparisonPublic:
    """Two published years side by side: class counts, county figures, and the (visible) firms whose class changed,
    each with why (a veto, a 2.8 override, a change of group, its score against the quota edges). The same year
    twice is refused (422)."""
    c = comparing.compare(p.uow, actor, a, b, direction, page, page_size)
    return ComparisonPublic(
        before=run_public(c.before, True),
        after=run_public(c.after, True),
        up=c.up,
        down=c.down,
        items=[ClassChangePublic.of(r) for r in c.page.items],
        total=c.page.total,
        page=c.page.page,
        pages=c.page.pages,
    )


@router.get("/evaluations/{run_id}", response_model=RunDetailPublic)
def get_run(run_id: IdPath, p: PlatformDep, actor: ActorDep) -> RunPublic:
    """A run: status, progress (0–1), method, benchmarks and summary."""
    return run_public(service.get_run(p.uow, actor, run_id), detail=True)


@router.post(
    "/evaluations/{run_id}/publish",
    response_model=RunDetailPublic,
    responses={**WRITE_ERRORS, 409: {"description": "Not finished, or the year is already published (error envelope)"}},
)
def publish_run(request: Request, run_id: IdPath, p: PlatformDep, actor: ActorDep) -> RunPublic:
    """Publish a finished run (admin; audited). A second publication of the year is refused (409)."""
    return run_public(service.publish_run(p.uow, actor, run_id, client_address(request)), detail=True)


@router.post(
    "/evaluations/{run_id}/supersede",
    response_model=RunDetailPublic,
    responses={
        **WRITE_ERRORS,
        409: {"description": "Not finished, nothing published for its year, or the published run is newer"},
        422: {"description": "The reason is missing or longer than 500 characters (error envelope)"},
    },
)
def supersede_run(
    request: Request, run_id: IdPath, p: PlatformDep, actor: ActorDep, body: SupersedeIn | None = None
) -> RunPublic:
    """Publish a finished run in place of its year's published run, with a reason (admin; audited).

    The run it replaces becomes ``superseded``: it stays, read-only, with a link to this run and the reason;
    this run links back (``supersedes``). Its year keeps one published run.
    """
    reason = body.reason if body else None
    return run_public(service.supersede_run(p.uow, actor, run_id, reason, client_address(request)), detail=True)


@router.post(
    "/evaluations/{run_id}/rerun",
    response_model=RunDetailPublic,
    status_code=202,
    responses={**WRITE_ERRORS, 409: {"description": "The run has not failed (error envelope)"}},
)
def rerun_run(request: Request, run_id: IdPath, p: PlatformDep, actor: ActorDep) -> RunPublic:
    """Rerun a failed run with its method (admin; audited), in the background.

    Poll ``GET /api/v1/evaluations/{id}`` until ``done`` or ``failed``. A run that has not failed is refused (409).
    """
    return run_public(service.rerun_run(p.uow, actor, run_id, client_address(request)), detail=True)


@router.get("/evaluations/{run_id}/results", response_model=ResultPagePublic)
def run_results(run_id: IdPath, p: PlatformDep, actor: ActorDep, f: BoundedFilterDep) -> ResultPagePublic:
    """A page of the run's results the caller may see, filtered like the enterprise list.

    Each firm comes with its explanation.
    """
    run, pg = service.run_results(p.uow, actor, run_id, f)
    return ResultPagePublic(
        run=run_public(run),
        items=[ResultRowPublic.of(r) for r in pg.items],
        total=pg.total,
        page=pg.page,
        pages=pg.pages,
        page_size=pg.page_size,
    )


@router.get(
    "/evaluations/{run_id}/export.xlsx",
    response_class=Response,
    responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
)
def export_run(request: Request, run_id: IdPath, p: PlatformDep, actor: ActorDep) -> Response:
    """The run's stored results as an Excel workbook.

    A summary sheet with a native chart, and every visible result with its explanation. The export is audited.
    """
    run, rows = audit_trail.export_run(p, actor, run_id, client_address(request))
    return run_workbook_response(run, rows, language(request))
