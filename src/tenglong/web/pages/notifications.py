"""通知 (/notifications): the signed-in user's notifications, marked read one by one or all at once; the bell's count.

Opening a notification (``open=1``) marks it read and goes to its record's page, which the
server takes from the notification (never from the form).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ...services import notifications as service
from ..app import render, templates
from ..limits import IdPath, PageQuery
from ..notices import notice_text
from ..security import ActorDep, FormDep, PlatformDep, current, platform

router = APIRouter(include_in_schema=False)


def unread_notifications(request: Request) -> int:
    """How many unread notifications the signed-in user has (the bell of ``base.html``; 0 when signed out)."""
    s = current(request)
    return service.unread_count(platform(request).uow, s.actor) if s is not None else 0


templates.env.globals["unread_notifications"] = unread_notifications
templates.env.globals["notice_text"] = notice_text


@router.get("/notifications")
def notifications_page(
    request: Request, p: PlatformDep, actor: ActorDep, unread: bool = False, page: PageQuery = 1
) -> Response:
    """The user's notifications, newest first (``unread=1``: only the unread ones)."""
    data = service.inbox(p.uow, actor, unread, page)
    return render(request, "notifications/index.html", data=data, unread_only=unread)


@router.post("/notifications/read-all")
def read_all(request: Request, p: PlatformDep, actor: ActorDep) -> Response:
    """Mark every unread notification read, then show the list again."""
    service.mark_all_read(p.uow, actor)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id}/read")
def read_one(request: Request, notification_id: IdPath, p: PlatformDep, actor: ActorDep, form: FormDep) -> Response:
    """Mark one notification read; with ``open=1`` go on to its record, else back to the list."""
    n = service.mark_read(p.uow, actor, notification_id)
    if form.get("open") == "1" and n["link"]:
        return RedirectResponse(n["link"], status_code=303)
    return RedirectResponse("/notifications", status_code=303)
