"""Evaluation runs (/evaluations): list, start, review, publish, rerun, compare, export.

Admin starts a run (in the background, with a polled progress bar), publishes a
finished one and reruns a failed one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from ...core.errors import Forbidden, InvalidInput, Problem, ReformError
from ...services.audit import trail as audit_trail
from ...services.enterprises.directory import FLAGS, SORTS
from ...services.evaluation import methods
from ...services.evaluation import views as service
from ..app import render
from ..evaluation_workbooks import run_workbook_response
from ..figures import CLASS_KEYS, FIGURES, divisions, towns
from ..i18n import t
from ..limits import BoundedFilterDep, IdPath, NumberQuery, PageQuery
from ..security import ActorDep, PlatformDep, SessionDep, client_address, language

router = APIRouter(include_in_schema=False)
MAX_METHOD_BYTES = 1_000_000


def _index(
    request: Request, p: PlatformDep, actor: Any, problems: list[Problem] | None = None, status_code: int = 200
) -> Response:
    runs = service.list_runs(p.uow, actor)
    published = sorted({r.year for r in runs if r.status == "published"})
    return render(
        request,
        "evaluations/index.html",
        status_code=status_code,
        runs=runs,
        published=published,
        f=FIGURES,
        data_years=service.data_years(p.uow) if actor.can("evaluate") else [],
        problems=problems or [],
    )


@router.get("/evaluations")
def evaluations_page(request: Request, p: PlatformDep, actor: ActorDep) -> Response:
    """The runs the actor may see; admin also gets the start form."""
    return _index(request, p, actor)


def _method(upload: UploadFile | None) -> tuple[dict[str, Any] | None, str | None]:
    """The uploaded method file, parsed and checked (no file: the default method). Blocking: call from a plain def."""
    if upload is None or not upload.filename:
        return None, None
    raw = upload.file.read(MAX_METHOD_BYTES + 1)
    name = upload.filename
    if len(raw) > MAX_METHOD_BYTES:
        raise InvalidInput(
            [
                Problem(
                    "too_large",
                    name,
                    None,
                    "≤ 1 MB",
                    "≤ 1 MB",
                    "method.yaml",
                    "方法文件超过 1 MB。",
                    "The method file is larger than 1 MB.",
                )
            ]
        )
    method = methods.from_bytes(raw, name)
    return method.changes, method.title


@router.post("/evaluations")
def start_run(
    request: Request,
    p: PlatformDep,
    s: SessionDep,
    year: Annotated[str, Form()],
    method: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Start a run (admin): check the method file in full, queue the run, evaluate it in the background.

    Then its page shows the progress.
    """
    actor = s.actor
    if not actor.can("evaluate"):
        raise Forbidden("evaluate")
    try:
        changes, title = _method(method)
        if not year.strip().isdigit():
            raise InvalidInput(
                [Problem("invalid_filter", "year", year, "年度", "a year", "2023", "请选择年度。", "Choose a year.")]
            )
        run = service.start_run(p.uow, actor, int(year), changes, title, client_address(request))
    except (ReformError, InvalidInput) as exc:
        return _index(request, p, actor, exc.problems, 422)
    return RedirectResponse(f"/evaluations/{run.id}", status_code=303)


@router.get("/evaluations/compare")
def compare_page(
    request: Request,
    p: PlatformDep,
    actor: ActorDep,
    a: NumberQuery = None,
    b: NumberQuery = None,
    direction: str | None = None,
    page: PageQuery = 1,
) -> Response:
    """Two published years side by side, with the firms whose class changed."""
    c = service.compare(p.uow, actor, a, b, direction or None, page)
    return render(request, "evaluations/compare.html", c=c, f=FIGURES, classes=CLASS_KEYS)


@router.get("/evaluations/{run_id}")
def run_page(request: Request, run_id: IdPath, p: PlatformDep, actor: ActorDep, f: BoundedFilterDep) -> Response:
    """Review a run: progress while it runs; then class counts, county vs targets, benchmarks and the results table."""
    run, page = service.run_results(p.uow, actor, run_id, f)
    lang = language(request)
    return render(
        request,
        "evaluations/run.html",
        run=run,
        page=page,
        flt=f.checked(),
        f=FIGURES,
        towns=towns(lang),
        divisions=divisions(lang),
        flags=list(FLAGS),
        sorts=SORTS,
        chart=class_chart(run, lang),
    )


@router.get("/evaluations/{run_id}/results")
def results_fragment(
    request: Request, run_id: IdPath, p: PlatformDep, actor: ActorDep, f: BoundedFilterDep
) -> Response:
    """The results table alone (htmx swaps it in when the filters change)."""
    run, page = service.run_results(p.uow, actor, run_id, f)
    return render(request, "evaluations/_results.html", run=run, page=page, f=FIGURES)


@router.get("/evaluations/{run_id}/progress")
def progress_fragment(request: Request, run_id: IdPath, p: PlatformDep, actor: ActorDep, reload: int = 0) -> Response:
    """The progress bar of a run; polled every second while the run is queued or running.

    When it is no longer, the review page reloads itself.
    """
    run = service.get_run(p.uow, actor, run_id)
    resp = render(request, "evaluations/_progress.html", run=run, reload=reload)
    if reload and not run.active:
        resp.headers["HX-Refresh"] = "true"
    return resp


@router.post("/evaluations/{run_id}/publish")
def publish(request: Request, run_id: IdPath, p: PlatformDep, s: SessionDep) -> Response:
    """Publish a finished run (admin), then back to its page."""
    service.publish_run(p.uow, s.actor, run_id, client_address(request))
    return RedirectResponse(f"/evaluations/{run_id}", status_code=303)


@router.post("/evaluations/{run_id}/rerun")
def rerun(request: Request, run_id: IdPath, p: PlatformDep, s: SessionDep) -> Response:
    """Rerun a failed run (admin) with its method, in the background; then its page, which shows the progress."""
    service.rerun_run(p.uow, s.actor, run_id, client_address(request))
    return RedirectResponse(f"/evaluations/{run_id}", status_code=303)


@router.get("/evaluations/{run_id}/export.xlsx")
def export(request: Request, run_id: IdPath, p: PlatformDep, actor: ActorDep) -> Response:
    """The run's stored results as an Excel workbook (the export is audited)."""
    run, rows = audit_trail.export_run(p, actor, run_id, client_address(request))
    return run_workbook_response(run, rows, language(request))


def class_chart(run: service.RunInfo, lang: str) -> dict[str, Any]:
    """ECharts option of the run's class counts (规上 and 规下)."""
    counts = (run.summary or {}).get("counts") or {}
    return {
        "option": {
            "tooltip": {"trigger": "axis"},
            "legend": {"bottom": 0},
            "grid": {"left": 48, "right": 16, "top": 24, "bottom": 48},
            "xAxis": {"type": "category", "data": list(CLASS_KEYS)},
            "yAxis": {"type": "value", "name": t("dashboard.firms", lang)},
            "series": [
                {
                    "type": "bar",
                    "name": t(f"enterprises.{g}", lang),
                    "label": {"show": True, "position": "top"},
                    "data": [int(counts.get(g, {}).get(k, 0)) for k in CLASS_KEYS],
                }
                for g in ("above_scale", "below_scale")
            ],
        }
    }
