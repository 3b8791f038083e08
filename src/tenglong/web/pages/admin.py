"""系统管理: user accounts (admin; locked accounts shown and unlocked) and 审计日志, the read-only audit log (admin and
auditor), read as sentences and exported as filtered."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ...core.errors import Forbidden, InvalidInput, Problem
from ...registers.roles import ROLES
from ...services.accounts import users
from ...services.audit import log as audit_view
from ..api.admin import AuditFilterDep, AuditReader, UserAdmin
from ..api.imports import client_address
from ..app import render
from ..errors import audit_refusal
from ..limits import IdPath, NumberQuery, PageQuery
from ..security import ActorDep, PlatformDep, language
from .imports import local_time

router = APIRouter(include_in_schema=False)
NOTICES = ("created", "deactivated", "reactivated", "password_reset", "unlocked")


def _users_page(
    request: Request,
    p: Any,
    actor: Any,
    status_code: int = 200,
    problems: list[Problem] | None = None,
    form: dict[str, Any] | None = None,
    reset_for: int | None = None,
    notice: str | None = None,
    subject: int | None = None,
) -> Response:
    accounts = users.list_users(p, actor)
    who = next((u.username for u in accounts if u.id == subject), None)
    return render(
        request,
        "admin/users.html",
        status_code=status_code,
        accounts=accounts,
        towns=users.town_choices(),
        roles=ROLES,
        form=form or {"role": "town"},
        problems=problems or [],
        reset_for=reset_for,
        notice=notice if notice in NOTICES else None,
        who=who,
        min_password=users.MIN_PASSWORD,
        when=local_time,
    )


@router.get("/admin")
def admin_home(actor: ActorDep) -> Response:
    """系统管理: the users page for an administrator, the audit log for an auditor; 403 for the other roles."""
    if not (actor.can("manage_users") or actor.can("read_audit")):
        raise Forbidden("admin")
    return RedirectResponse("/admin/users" if actor.can("manage_users") else "/admin/audit", status_code=303)


@router.get("/admin/users")
def users_page(
    request: Request, p: PlatformDep, actor: UserAdmin, notice: str | None = None, user: NumberQuery = None
) -> Response:
    """Every account with its role and scope; create, deactivate, reactivate, reset a password."""
    return _users_page(request, p, actor, notice=notice, subject=user)


@router.post("/admin/users")
def create_user(
    request: Request,
    p: PlatformDep,
    actor: UserAdmin,
    username: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    town: Annotated[str, Form()] = "",
    credit_code: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "",
) -> Response:
    """Create the account, or show the form again with every problem (422; the password is never sent back)."""
    new = users.NewUser(
        username.strip(), display_name, password, role, town or None, credit_code or None, department or None
    )
    try:
        uid = users.create(p, actor, new, client_address(request))
    except InvalidInput as exc:
        audit_refusal(request, 422, exc.code, exc.message_zh, exc.message_en, exc.problems)  # the form answers it
        form = {
            "username": new.username,
            "display_name": display_name,
            "role": role,
            "town": town,
            "credit_code": credit_code,
            "department": department,
        }
        return _users_page(request, p, actor, status_code=422, problems=exc.problems, form=form)
    return RedirectResponse(f"/admin/users?notice=created&user={uid}", status_code=303)


@router.post("/admin/users/{user_id}/deactivate")
def deactivate(request: Request, user_id: IdPath, p: PlatformDep, actor: UserAdmin) -> Response:
    """Deactivate the account and end its sessions."""
    users.deactivate(p, actor, user_id, client_address(request))
    return RedirectResponse(f"/admin/users?notice=deactivated&user={user_id}", status_code=303)


@router.post("/admin/users/{user_id}/reactivate")
def reactivate(request: Request, user_id: IdPath, p: PlatformDep, actor: UserAdmin) -> Response:
    """Reactivate the account."""
    users.reactivate(p, actor, user_id, client_address(request))
    return RedirectResponse(f"/admin/users?notice=reactivated&user={user_id}", status_code=303)


@router.post("/admin/users/{user_id}/reset-password")
def reset_password(
    request: Request, user_id: IdPath, p: PlatformDep, actor: UserAdmin, password: Annotated[str, Form()] = ""
) -> Response:
    """Set a new password (the account's sessions end), or show the problem next to that account (422)."""
    try:
        users.reset_password(p, actor, user_id, password, client_address(request))
    except InvalidInput as exc:
        return _users_page(request, p, actor, status_code=422, problems=exc.problems, reset_for=user_id)
    return RedirectResponse(f"/admin/users?notice=password_reset&user={user_id}", status_code=303)


@router.post("/admin/users/{user_id}/unlock")
def unlock(request: Request, user_id: IdPath, p: PlatformDep, actor: UserAdmin) -> Response:
    """Lift the login lock of an account (409 when it is not locked); audited."""
    users.unlock(p, actor, user_id, client_address(request))
    return RedirectResponse(f"/admin/users?notice=unlocked&user={user_id}", status_code=303)


@router.get("/admin/audit")
def audit_page(
    request: Request, p: PlatformDep, actor: AuditReader, f: AuditFilterDep, page: PageQuery = 1
) -> Response:
    """The audit log: filters (any may be empty), each record as a sentence with its labelled values and the stored
    record, export of the filtered set to Excel and CSV."""
    lang = language(request)
    result = audit_view.entries(p, actor, f, page)
    readings = {e.id: e.reading(lang) for e in result.items}
    query = urlencode(f.query_items())
    return render(
        request,
        "admin/audit.html",
        result=result,
        readings=readings,
        f=f,
        query=query,
        choices=audit_view.filter_choices(p, actor, lang),
        orders=audit_view.ORDERS,
        action_label=audit_view.action_label(f.action, lang) if f.action else "",
    )
