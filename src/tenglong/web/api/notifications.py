"""The signed-in user's notifications: list (all or unread), mark one read, mark all read.

A notification tells of a workflow move that concerns the user (``notify:`` in
``registers/workflows/*.yaml``): its sentence in zh and en, the record it links to,
who moved it, the note given and when (UTC). Another user's notification is 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ...services import notifications as service
from ..limits import IdPath, PageQuery
from ..notices import both, notice_text
from ..security import ActorDep, PlatformDep
from .evaluation_schemas import UtcDateTime

router = APIRouter(prefix="/api/v1", tags=["notifications"])  # error answers: app.document_errors


class TextPublic(BaseModel):
    """A sentence in both languages."""

    zh: str
    en: str


class NotificationPublic(BaseModel):
    """One notification."""

    id: int
    event: str = Field(description="The audited move it tells of, e.g. application.reject")
    entity_type: str = Field(description="The kind of record moved, e.g. subsidy_application")
    entity_id: str
    link: str | None = Field(description="The record's page")
    message: TextPublic
    note: str | None = Field(description="The note or reason given with the move")
    by: str | None = Field(description="Who made the move (null: the platform)")
    created_at: UtcDateTime
    read_at: UtcDateTime | None = None


class NotificationPagePublic(BaseModel):
    """A page of notifications, newest first."""

    items: list[NotificationPublic]
    total: int = Field(description="How many the list asked for holds (all, or the unread ones)")
    unread: int
    page: int
    pages: int


class MarkedPublic(BaseModel):
    """How many notifications were marked read."""

    marked: int


def _public(n: dict[str, Any]) -> NotificationPublic:
    return NotificationPublic(
        id=n["id"],
        event=n["event"],
        entity_type=n["entity_type"],
        entity_id=n["entity_id"],
        link=n["link"],
        message=TextPublic(**both(notice_text, n)),
        note=n["note"],
        by=n["by"],
        created_at=n["created_at"],
        read_at=n["read_at"],
    )


@router.get("/notifications", response_model=NotificationPagePublic)
def list_notifications(
    p: PlatformDep,
    actor: ActorDep,
    unread: Annotated[bool, Query(description="Only the unread ones")] = False,
    page: PageQuery = 1,
) -> NotificationPagePublic:
    """The caller's notifications, newest first, 50 a page."""
    data = service.inbox(p.uow, actor, unread, page)
    return NotificationPagePublic(
        items=[_public(n) for n in data["items"]],
        total=data["total"],
        unread=data["unread"],
        page=data["page"],
        pages=data["pages"],
    )


@router.post("/notifications/read-all", response_model=MarkedPublic)
def read_all(p: PlatformDep, actor: ActorDep) -> MarkedPublic:
    """Mark every unread notification of the caller read."""
    return MarkedPublic(marked=service.mark_all_read(p.uow, actor))


@router.post("/notifications/{notification_id}/read", response_model=NotificationPublic)
def read_one(notification_id: IdPath, p: PlatformDep, actor: ActorDep) -> NotificationPublic:
    """Mark one of the caller's notifications read (reading it again changes nothing)."""
    return _public(service.mark_read(p.uow, actor, notification_id))
