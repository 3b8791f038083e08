"""补助申请 pages: the list, a new application (compute first, then save a draft), one application with its moves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ...core.errors import InvalidInput, NotFound
from ...registers.roles import Actor
from ...services.audit import trail as audit_trail
from ...services.calculation import calculator, project_form
from ...services.subsidies import applications as subsidies
from ..app import render
from ..limits import IdPath, PageQuery
from ..security import ActorDep, FormDep, PlatformDep, client_address, language, require

router = APIRouter(include_in_schema=False)
APPLY = require("apply")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/applications")
def list_page(
    request: Request,
    actor: ActorDep,
    p: PlatformDep,
    status: str = "",
    clause: str = "",
    town: str = "",
    page: PageQuery = 1,
) -> Response:
    """Applications in the actor's scope, filtered by status, clause and (for county roles) town."""
    data = subsidies.list_applications(p.uow, actor, status or None, clause or None, town or None, None, page)
    return render(
        request,
        "subsidies/list.html",
        data=data,
        status=status,
        clause=clause,
        town=town,
        states=subsidies.STATES,
        clauses=subsidies.CLAUSES,
        towns=subsidies.town_choices(language(request)) if actor.sees_all_enterprises else [],
    )


@router.get("/applications.xlsx")
def list_export(
    request: Request, actor: ActorDep, p: PlatformDep, status: str = "", clause: str = "", town: str = ""
) -> Response:
    """The filtered list as an Excel workbook (Chinese headers, frozen header row); the export is audited."""
    return Response(
        audit_trail.export_applications(
            p, actor, status or None, clause or None, town or None, client_address(request)
        ),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="subsidy-applications.xlsx"'},
    )


def _new_context(request: Request, p, actor, form: dict, result=None, problems=None, general=None) -> dict:
    code = form.get("credit_code") or (actor.credit_code if actor.role == "enterprise" else "")
    try:
        ent = calculator.enterprise_prefill(p.uow, actor, code) if code else None
    except NotFound:  # a code typed that is unknown or outside the actor's scope: said at the field
        ent, problems = None, {**(problems or {}), "credit_code": [subsidies.unknown_enterprise(code)]}
    options = calculator.enterprise_options(p.uow, actor, "", 1000) if actor.role in ("town", "enterprise") else []
    return {
        "form": form,
        "ent": ent,
        "options": options,
        "sections": project_form.sections(),
        "titles": {
            c: calculator.clause_titles(calculator.KINDS["project"], language(request))[c] for c in ("2.10", "2.11")
        },
        "result": result,
        "problems": problems or {},
        "general_problems": general or [],
        "default_date": calculator.default_date().isoformat(),
        "labels": subsidies.input_labels(),
    }


@router.get("/applications/new")
def new_page(request: Request, p: PlatformDep, actor=APPLY, enterprise: str = "") -> Response:
    """Pick an enterprise in scope and enter the project's inputs."""
    return render(
        request, "subsidies/new.html", **_new_context(request, p, actor, {"credit_code": enterprise, "clause": "2.10"})
    )


@router.post("/applications/new")
def new_submit(request: Request, p: PlatformDep, actor: Annotated[Actor, APPLY], posted: FormDep) -> Response:
    """``do=preview``: compute and show the amount with its explanation.

    ``do=create``: save the project and a draft application.
    """
    form = {k: str(v) for k, v in posted.items() if k != "csrf_token"}
    inputs = project_form.inputs_from_form(form)
    args = (form.get("credit_code", "").strip(), form.get("name", ""), form.get("application_date", ""), inputs)
    hx = bool(request.headers.get("hx-request"))
    try:
        if form.get("do") == "create":
            aid = subsidies.apply_for_project(p.uow, actor, *args, form.get("clause", "2.10"), client_address(request))
            return (
                Response(status_code=204, headers={"HX-Redirect": f"/applications/{aid}"})
                if hx
                else RedirectResponse(f"/applications/{aid}", status_code=303)
            )
        result = subsidies.preview(p.uow, actor, *args, form.get("clause", "2.10"), language(request))
        ctx = _new_context(request, p, actor, form, result=result)
    except (InvalidInput, NotFound) as exc:
        keyed, rest = project_form.problems_by_field(
            exc.problems if isinstance(exc, InvalidInput) else [subsidies.unknown_enterprise(args[0])]
        )
        ctx = _new_context(request, p, actor, form, problems=keyed, general=rest)
        if not hx:
            return render(request, "subsidies/new.html", status_code=422, **ctx)
    return render(request, "subsidies/_new_main.html" if hx else "subsidies/new.html", **ctx)


@router.get("/applications/{application_id}")
def detail_page(request: Request, application_id: IdPath, actor: ActorDep, p: PlatformDep) -> Response:
    """One application: inputs, amount, explanation snapshot with the clause text, audit trail and the actor's moves."""
    return render(
        request,
        "subsidies/detail.html",
        a=subsidies.get_application(p.uow, actor, application_id),
        labels=subsidies.input_labels(),
    )


@router.post("/applications/{application_id}/{action}")
def action_submit(
    request: Request, application_id: IdPath, action: str, actor: ActorDep, p: PlatformDep, form: FormDep
) -> Response:
    """Make a move from the detail page, then show the application again."""
    subsidies.act(
        p.uow,
        actor,
        application_id,
        action,
        str(form.get("note") or ""),
        str(form.get("reference") or ""),
        client_address(request),
    )
    return RedirectResponse(f"/applications/{application_id}", status_code=303)
