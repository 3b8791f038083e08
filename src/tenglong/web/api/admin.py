"""Administration API: user accounts (admin) and the read-only audit log (admin and auditor)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ...registers.roles import Actor
from ...services.accounts import users
from ...services.audit import log as audit_view
from ...services.audit import trail as audit_trail
from ..limits import IdPath, PageQuery
from ..security import PlatformDep, client_address, require
from .evaluation_schemas import UtcDateTime
from .imports import download

router = APIRouter(prefix="/api/v1", tags=["admin"])
UserAdmin = Annotated[Actor, require("manage_users")]
AuditReader = Annotated[Actor, require("read_audit")]


class UserPublic(BaseModel):
    """An account (never its password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    town: str | None
    town_name: str | None
    credit_code: str | None
    enterprise_name: str | None
    department: str | None
    active: bool
    created_at: UtcDateTime
    locked_until: UtcDateTime | None = Field(
        None, description="while the login throttle refuses the account: when it may sign in again (UTC)"
    )


class UserCreate(BaseModel):
    """A new account: ``town`` (a town code) for role town, ``credit_code`` of an existing enterprise for role
    enterprise, ``department`` for role department; a password of 10–256 characters. Longer values than the
    limits are refused with 422 naming the field and its limit (checked by the service, with every problem)."""

    username: str = Field(json_schema_extra={"maxLength": 64, "pattern": "^[A-Za-z0-9_.@-]{3,64}$"})
    display_name: str = Field(json_schema_extra={"maxLength": users.MAX_DISPLAY_NAME})
    password: str = Field(json_schema_extra={"format": "password", "writeOnly": True, "maxLength": users.MAX_PASSWORD})
    role: str
    town: str | None = None
    credit_code: str | None = Field(None, json_schema_extra={"maxLength": 18})
    department: str | None = Field(None, json_schema_extra={"maxLength": users.MAX_DEPARTMENT})


class PasswordReset(BaseModel):
    """The new password (at least 10 characters)."""

    password: str = Field(json_schema_extra={"format": "password", "writeOnly": True})


class UserChanged(BaseModel):
    """The account after the change, and how many of its sessions were ended."""

    user: UserPublic
    sessions_ended: int = 0


class ChangePublic(BaseModel):
    """One key of a before/after pair."""

    key: str
    before: str | None
    after: str | None
    kind: str


class AuditEntryPublic(BaseModel):
    """One audit record (``at`` in UTC; ``at_local`` in China Standard Time)."""

    id: int
    at: UtcDateTime
    at_local: str
    actor: str
    actor_id: int | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    address: str | None
    changes: list[ChangePublic]


class AuditPagePublic(BaseModel):
    """A page of the filtered audit log, newest first."""

    items: list[AuditEntryPublic]
    total: int
    page: int
    pages: int
    page_size: int


def _user(v: users.UserView, lang: str = "zh") -> UserPublic:
    return UserPublic(
        id=v.id,
        username=v.username,
        display_name=v.display_name,
        role=v.role,
        town=v.town,
        town_name=v.town_zh if lang == "zh" else v.town_en,
        credit_code=v.credit_code,
        enterprise_name=v.enterprise_name,
        department=v.department,
        active=v.active,
        created_at=v.created_at,
        locked_until=v.locked_until,
    )


def _one(p: Any, actor: Actor, user_id: int) -> UserPublic:
    return _user(users.get_user(p, actor, user_id))


def audit_filter(
    actor: Annotated[str | None, Query(description="a username, or system")] = None,
    action: Annotated[str | None, Query(description="a prefix, e.g. evaluation.")] = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    date_from: Annotated[str | None, Query(description="first Beijing-time day, YYYY-MM-DD (empty: no bound)")] = None,
    date_to: Annotated[str | None, Query(description="last Beijing-time day, YYYY-MM-DD (empty: no bound)")] = None,
    event: Annotated[str | None, Query(description="one event name exactly, e.g. application.approve")] = None,
    order: Annotated[str | None, Query(description="newest (default) or oldest first")] = None,
) -> audit_view.AuditFilter:
    """The audit filter from the query string: any field may be empty (dates are local days, both included).

    Raises:
        InvalidInput: a date that is not YYYY-MM-DD, a start after the end, or an unknown order (422, each listed).
    """
    return audit_view.parse_filter(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        date_from=date_from,
        date_to=date_to,
        event=event,
        order=order,
    )


AuditFilterDep = Annotated[audit_view.AuditFilter, Depends(audit_filter)]


@router.get("/admin/users", response_model=list[UserPublic])
def list_users(p: PlatformDep, actor: UserAdmin) -> list[UserPublic]:
    """Every account, oldest first."""
    return [_user(v) for v in users.list_users(p, actor)]


@router.post("/admin/users", status_code=201, response_model=UserPublic)
def create_user(body: UserCreate, request: Request, p: PlatformDep, actor: UserAdmin) -> UserPublic:
    """Create an account (audited without the password); 422 lists every problem of the request."""
    uid = users.create(p, actor, users.NewUser(**body.model_dump()), client_address(request))
    return _one(p, actor, uid)


@router.post("/admin/users/{user_id}/deactivate", response_model=UserChanged)
def deactivate(user_id: IdPath, request: Request, p: PlatformDep, actor: UserAdmin) -> UserChanged:
    """Deactivate an account and end its sessions (409 for your own account or an inactive one)."""
    ended = users.deactivate(p, actor, user_id, client_address(request))
    return UserChanged(user=_one(p, actor, user_id), sessions_ended=ended)


@router.post("/admin/users/{user_id}/reactivate", response_model=UserChanged)
def reactivate(user_id: IdPath, request: Request, p: PlatformDep, actor: UserAdmin) -> UserChanged:
    """Reactivate an account (409 when it is active)."""
    users.reactivate(p, actor, user_id, client_address(request))
    return UserChanged(user=_one(p, actor, user_id))


@router.post("/admin/users/{user_id}/reset-password", response_model=UserChanged)
def reset_password(
    user_id: IdPath, body: PasswordReset, request: Request, p: PlatformDep, actor: UserAdmin
) -> UserChanged:
    """Set a new password and end the account's sessions (audited without any secret)."""
    ended = users.reset_password(p, actor, user_id, body.password, client_address(request))
    return UserChanged(user=_one(p, actor, user_id), sessions_ended=ended)


@router.post("/admin/users/{user_id}/unlock", response_model=UserChanged)
def unlock(user_id: IdPath, request: Request, p: PlatformDep, actor: UserAdmin) -> UserChanged:
    """Lift the login throttle's lock of an account (409 when it is not locked); audited as user.unlock."""
    users.unlock(p, actor, user_id, client_address(request))
    return UserChanged(user=_one(p, actor, user_id))


@router.get("/audit", response_model=AuditPagePublic)
def audit(p: PlatformDep, actor: AuditReader, f: AuditFilterDep, page: PageQuery = 1) -> AuditPagePublic:
    """The append-only audit log, filtered, newest first, 50 a page. It has no route that changes it."""
    r = audit_view.entries(p, actor, f, page)
    items = [
        AuditEntryPublic(
            id=e.id,
            at=e.at,
            at_local=e.at_local,
            actor=e.actor,
            actor_id=e.actor_id,
            action=e.action,
            entity_type=e.entity_type,
            entity_id=e.entity_id,
            before=e.before,
            after=e.after,
            address=e.address,
            changes=[ChangePublic(**vars(c)) for c in e.changes],
        )
        for e in r.items
    ]
    return AuditPagePublic(items=items, total=r.total, page=r.page, pages=r.pages, page_size=r.page_size)


@router.get("/audit/export.xlsx", response_class=Response)
def export_xlsx(request: Request, p: PlatformDep, actor: AuditReader, f: AuditFilterDep) -> Response:
    """The filtered log as XLSX (Chinese headers, frozen header row); the export is audited."""
    return download(
        audit_trail.export_audit_log(p, actor, f, "xlsx", client_address(request)),
        f"audit-{dt.date.today().isoformat()}.xlsx",
    )


@router.get("/audit/export.csv", response_class=Response)
def export_csv(request: Request, p: PlatformDep, actor: AuditReader, f: AuditFilterDep) -> Response:
    """The filtered log as CSV (UTF-8 with BOM); the export is audited."""
    return download(
        audit_trail.export_audit_log(p, actor, f, "csv", client_address(request)),
        f"audit-{dt.date.today().isoformat()}.csv",
        "text/csv; charset=utf-8",
    )
