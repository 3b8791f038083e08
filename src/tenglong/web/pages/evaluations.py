"""Evaluation runs (/evaluations): list, start, review, publish, supersede, rerun, compare, export.

Admin starts a run (in the background, with a polled progress bar), publishes a
finished one, supersedes a year's published run with a newer one (with a reason)
and reruns a failed one. Publishing and superseding cannot be undone: the page asks
first (its dialog sends ``confirm=1``); without it, the run page shows what would
happen and asks again — nothing is done.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from ...core.errors import Forbidden, InvalidInput, Problem, ReformError
from ...services.audit import trail as audit_trail
from ...services.enterprises.directory import DEFAULT_DIRECTION, FLAGS, SORTS, ResultFilter
from ...services.evaluation import compare as comparing
from ...services.evaluation import methods
from ...services.evaluation import views as service
from ..app import render
from ..evaluation_workbooks import run_workbook_response
from ..figures import CLASS_KEYS, FIGURES, divisions, towns
from ..i18n import t
from ..limits import BoundedFilterDep, IdPath, NumberQuery, PageQuery
from ..security import ActorDep, FormDep, PlatformDep, SessionDep, client_address, language

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
    """Two published years side by side, with the firms whose class changed and why.

    Years that cannot be compared (the same year twice, a year not published) are said in the form, on this page
    (200: a query form answered with its message, like a search that finds nothing; the API answers 422).
    """
    try:
        c = comparing.compare(p.uow, actor, a, b, direction or None, page)
    except InvalidInput as exc:
        years = service.published_years(p.uow, actor)
        return render(
            request,
            "evaluations/compare.html",
            c=None,
            years=years,
            chosen={"a": a, "b": b},
            problems=exc.problems,
            f=FIGURES,
            classes=CLASS_KEYS,
        )
    return render(request, "evaluations/compare.html", c=c, years=c.years, f=FIGURES, classes=CLASS_KEYS)


def _run_page(
    request: Request, p: PlatformDep, actor: Any, run_id: int, f: ResultFilter, status_code: int = 200, **extra: Any
) -> Response:
    run, page = service.run_results(p.uow, actor, run_id, f)
    lang = language(request)
    return render(
        request,
        "evaluations/run.html",
        status_code=status_code,
        run=run,
        page=page,
        flt=f.checked(),
        f=FIGURES,
        towns=towns(lang),
        divisions=divisions(lang),
        flags=list(FLAGS),
        sorts=SORTS,
        sort_dirs=DEFAULT_DIRECTION,
        chart=class_chart(run, lang),
        **extra,
    )


@router.get("/evaluations/{run_id}")
def run_page(request: Request, run_id: IdPath, p: PlatformDep, actor: ActorDep, f: BoundedFilterDep) -> Response:
    """Review a run: progress while it runs; then class counts, county vs targets, benchmarks and the results table."""
    return _run_page(request, p, actor, run_id, f)


@router.get("/evaluations/{run_id}/results")
def results_fragment(
    request: Request, run_id: IdPath, p: PlatformDep, actor: ActorDep, f: BoundedFilterDep
) -> Response:
    """The results table alone (htmx swaps it in when the filters change)."""
    run, page = service.run_results(p.uow, actor, run_id, f)
    return render(
        request,
        "evaluations/_results.html",
        run=run,
        page=page,
        flt=f.checked(),
        f=FIGURES,
        sort_dirs=DEFAULT_DIRECTION,
    )


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
def publish(request: Request, run_id: IdPath, p: PlatformDep, s: SessionDep, form: FormDep) -> Response:
    """Publish a finished run (admin) once confirmed (``confirm=1``), then back to its page.

    Without the confirmation, a run that could be published gets its page with the confirmation panel (what
    publishing makes official); nothing is published.
    """
    actor = s.actor
    unconfirmed = str(form.get("confirm") or "") != "1" and actor.can("publish")
    if unconfirmed and service.get_run(p.uow, actor, run_id).publishable:
        return _run_page(request, p, actor, run_id, ResultFilter(), confirming="publish")
    service.publish_run(p.uow, actor, run_id, client_address(request))
    return RedirectResponse(f"/evaluations/{run_id}", status_code=303)


@router.post("/evaluations/{run_id}/supersede")
def supersede(request: Request, run_id: IdPath, p: PlatformDep, s: SessionDep, form: FormDep) -> Response:
    """Publish a finished run in place of its year's published run (admin), with a reason, once confirmed.

    A missing or too long reason is said in the form (422). Without ``confirm=1``, a run that could supersede
    gets its page with the confirmation panel (which run it replaces, the reason); nothing changes.
    """
    actor, reason = s.actor, str(form.get("reason") or "")
    unconfirmed = str(form.get("confirm") or "") != "1" and actor.can("publish")
    try:
        if unconfirmed and service.get_run(p.uow, actor, run_id).supersedable:
            reason = service.check_supersede_reason(actor, reason)
            return _run_page(request, p, actor, run_id, ResultFilter(), confirming="supersede", reason=reason)
        service.supersede_run(p.uow, actor, run_id, reason, client_address(request))
    except InvalidInput as exc:
        return _run_page(request, p, actor, run_id, ResultFilter(), 422, supersede_problems=exc.problems, reason=reason)
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
