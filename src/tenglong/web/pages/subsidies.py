"""补助申请 pages: the list, a new application (compute first, then save a draft), one application with its moves,
the correction of a returned application, and its attachments (upload, download, removal).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...core.errors import InvalidInput, NotFound, Problem, TooLarge
from ...registers.roles import Actor
from ...services import attachments
from ...services.audit import trail as audit_trail
from ...services.calculation import calculator, project_form
from ...services.enterprises import lifecycle
from ...services.reports import figures as target_figures
from ...services.subsidies import applications as subsidies
from .. import figures
from ..app import render
from ..limits import IdPath, PageQuery
from ..security import ActorDep, FormDep, PlatformDep, client_address, language, posted_file, require
from . import projects, registers, targets

router = APIRouter(include_in_schema=False)
APPLY = require("apply")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MOVE_FIELDS = ("opinion", "recommended_amount", "approved_amount", "reason")
"""Fields a move form may carry besides ``note`` and ``reference``."""


def yuan(value: Decimal | str | None) -> str:
    """An amount in 元 with thousands separators and two decimals (``—`` for none)."""
    return "—" if value is None or value == "" else f"{Decimal(str(value)):,.2f}"


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
        towns=figures.towns(language(request)) if actor.sees_all_enterprises else [],
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


def _redirect(request: Request, url: str) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


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
            return _redirect(request, f"/applications/{aid}")
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


def _form_of(a: dict[str, Any]) -> dict[str, str]:
    """The new-application form filled in from a stored application (inputs as the form writes them)."""
    form = {
        "credit_code": a["credit_code"],
        "name": a["project"]["name"],
        "application_date": a["project"]["application_date"],
        "clause": a["clause"],
    }
    return {**form, **project_form.form_of_inputs(a["project"]["inputs"] or {})}


def _edit_context(request: Request, p, actor, a: dict[str, Any], form: dict, **kw: Any) -> dict:
    ctx = _new_context(request, p, actor, form, **kw)
    if actor.role in ("town", "enterprise"):  # the application's enterprise only: a correction keeps it
        ctx["options"] = [o for o in ctx["options"] if o["credit_code"] == a["credit_code"]]
    return {**ctx, "a": a, "editing": True, "form_action": f"/applications/{a['id']}/edit"}


@router.get("/applications/{application_id}/edit")
def edit_page(request: Request, application_id: IdPath, p: PlatformDep, actor=APPLY) -> Response:
    """The new-application form, filled in from a draft or returned application, to correct and submit again."""
    a = subsidies.get_application(p.uow, actor, application_id)
    if not a["editable"]:
        return RedirectResponse(f"/applications/{application_id}", status_code=303)
    return render(request, "subsidies/edit.html", **_edit_context(request, p, actor, a, _form_of(a)))


@router.post("/applications/{application_id}/edit")
def edit_submit(
    request: Request, application_id: IdPath, p: PlatformDep, actor: Annotated[Actor, APPLY], posted: FormDep
) -> Response:
    """``do=preview``: compute the corrected amount; ``do=save``: keep the correction as a draft; ``do=submit``: keep it
    and submit the application again (one transaction each, audited).
    """
    a = subsidies.get_application(p.uow, actor, application_id)
    form = {k: str(v) for k, v in posted.items() if k != "csrf_token"}
    inputs = project_form.inputs_from_form(form)
    hx = bool(request.headers.get("hx-request"))
    try:
        if form.get("do") in ("save", "submit"):
            subsidies.revise_application(
                p.uow,
                actor,
                application_id,
                form.get("name", ""),
                form.get("application_date", ""),
                inputs,
                form.get("credit_code", "").strip() or None,
                form.get("clause") or None,
                submit=form.get("do") == "submit",
                address=client_address(request),
            )
            return _redirect(request, f"/applications/{application_id}")
        result = subsidies.preview(
            p.uow,
            actor,
            a["credit_code"],
            form.get("name", ""),
            form.get("application_date", ""),
            inputs,
            a["clause"],
            language(request),
        )
        ctx = _edit_context(request, p, actor, a, form, result=result)
    except InvalidInput as exc:
        keyed, rest = project_form.problems_by_field(exc.problems)
        ctx = _edit_context(request, p, actor, a, form, problems=keyed, general=rest)
        if not hx:
            return render(request, "subsidies/edit.html", status_code=422, **ctx)
    return render(request, "subsidies/_new_main.html" if hx else "subsidies/edit.html", **ctx)


def _detail(request: Request, p, actor, application_id: int, status_code: int = 200, **kw: Any) -> Response:
    return render(
        request,
        "subsidies/detail.html",
        status_code=status_code,
        a=subsidies.get_application(p.uow, actor, application_id),
        labels=subsidies.input_labels(),
        kinds=attachments.kinds_of(subsidies.OWNER.key),
        max_attachment_mb=p.settings.max_attachment_mb,
        yuan=yuan,
        printed_at=dt.datetime.now(dt.UTC),
        **kw,
    )


@router.get("/applications/{application_id}")
def detail_page(request: Request, application_id: IdPath, actor: ActorDep, p: PlatformDep) -> Response:
    """One application: amounts, inputs, explanation with the clause text, attachments, audit trail and the actor's
    moves; printable.
    """
    return _detail(request, p, actor, application_id)


def _amount_text(value: str) -> Any:
    """A typed amount as the workflow reads it (thousands separators dropped); text that is no number as it is."""
    text = value.replace(",", "").replace("，", "").strip()
    try:
        return str(Decimal(text)) if text else None
    except InvalidOperation:
        return value


@router.post("/applications/{application_id}/{action}")
def action_submit(
    request: Request, application_id: IdPath, action: str, actor: ActorDep, p: PlatformDep, form: FormDep
) -> Response:
    """Make a move from the detail page, then show the application again.

    Approving, paying, returning and withdrawing need ``confirm=1`` (the page's confirmation dialog sets it);
    without it the move is checked and a confirmation page says what it would do — nothing is done.
    """
    note, reference = str(form.get("note") or ""), str(form.get("reference") or "")
    fields = {k: str(form.get(k) or "") for k in MOVE_FIELDS}
    fields = {k: (_amount_text(v) if k.endswith("_amount") else v) for k, v in fields.items()}
    try:
        if action in subsidies.CONFIRMED and str(form.get("confirm") or "") != "1":
            preview = subsidies.preview_move(p.uow, actor, application_id, action, note, reference, fields)
            return render(
                request,
                "subsidies/confirm.html",
                a=subsidies.get_application(p.uow, actor, application_id),
                preview=preview,
                posted={"note": note, "reference": reference, **{k: str(form.get(k) or "") for k in MOVE_FIELDS}},
                yuan=yuan,
            )
        subsidies.act(p.uow, actor, application_id, action, note, reference, client_address(request), fields)
    except InvalidInput as exc:
        posted = {"note": note, "reference": reference, **{k: str(form.get(k) or "") for k in MOVE_FIELDS}}
        return _detail(request, p, actor, application_id, 422, failed=action, move_problems=exc.problems, posted=posted)
    return RedirectResponse(f"/applications/{application_id}", status_code=303)


@router.post("/attachments")
async def attachment_upload(request: Request, actor: ActorDep, p: PlatformDep, form: FormDep) -> Response:
    """Upload one attachment (fields ``owner``, ``owner_id``, ``kind``, ``file``; limit ``TENGLONG_MAX_ATTACHMENT_MB``)
    to a record in scope, then show the record again.
    """
    owner, owner_id = str(form.get("owner") or ""), str(form.get("owner_id") or "")
    valid_id = owner_id.isascii() and owner_id.isdigit() and len(owner_id) <= 10 and 1 <= int(owner_id) <= 2**31 - 1
    if owner not in attachments.OWNERS or not valid_id:
        raise NotFound(owner_id)
    name, stream = posted_file(form, "file")
    try:
        await run_in_threadpool(
            attachments.upload,
            p,
            actor,
            owner,
            int(owner_id),
            str(form.get("kind") or ""),
            name,
            stream,
            client_address(request),
        )
    except (InvalidInput, TooLarge) as exc:
        problems = exc.problems if isinstance(exc, InvalidInput) else [_too_large(exc)]
        status = 422 if isinstance(exc, InvalidInput) else 413
        pages = {
            subsidies.OWNER.key: _detail,
            lifecycle.OWNER.key: projects.detail_response,
            target_figures.OWNER.key: targets.figure_response,
        }
        return await run_in_threadpool(
            pages.get(owner) or _register_entry(owner),
            request,
            p,
            actor,
            int(owner_id),
            status,
            upload_problems=problems,
            upload_kind=form.get("kind"),
        )
    url = await run_in_threadpool(_record_url, p, actor, owner, int(owner_id))
    return RedirectResponse(f"{url}#attachments", status_code=303)


def _record_url(p: Any, actor: Actor, owner: str, owner_id: int) -> str:
    """The page of the record an attachment belongs to: an application, a project (its life cycle), a target (at the
    year and scope of the entered figure), or a register entry (its owner is the register kind, registered by
    ``services/campaign/entries.py``)."""
    if owner == lifecycle.OWNER.key:
        return f"/projects/{owner_id}"
    if owner == target_figures.OWNER.key:
        return targets.figure_url(p, actor, owner_id)
    return f"/applications/{owner_id}" if owner == subsidies.OWNER.key else f"/registers/{owner}/{owner_id}"


def _register_entry(owner: str) -> Any:
    """The entry page of a register kind, shown again with the upload's problems."""
    return lambda request, p, actor, entry_id, status, **kw: registers.entry_response(
        request, p, actor, owner, entry_id, status, **kw
    )


def _too_large(exc: TooLarge) -> Problem:
    return Problem("too_large", "file", None, "", "", "", exc.message_zh, exc.message_en)


@router.get("/attachments/{attachment_id}")
def attachment_download(attachment_id: IdPath, actor: ActorDep, p: PlatformDep) -> Response:
    """The file of an attachment in scope, always as a download of its sniffed type (never shown inline)."""
    d = attachments.open_download(p, actor, attachment_id)
    return FileResponse(
        d.path,
        media_type=d.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(d.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.post("/attachments/{attachment_id}/remove")
def attachment_remove(request: Request, attachment_id: IdPath, actor: ActorDep, p: PlatformDep) -> Response:
    """Remove an attachment not yet submitted (it is marked; the file is kept), then show its record again."""
    owner = attachments.remove(p, actor, attachment_id, client_address(request))
    url = _record_url(p, actor, owner["owner_type"], owner["owner_id"])
    return RedirectResponse(f"{url}#attachments", status_code=303)
