"""Sign in for API clients, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ...services.accounts import auth
from ..security import SessionDep, platform

router = APIRouter(prefix="/api/v1", tags=["session"])


class Credentials(BaseModel):
    """Username and password."""

    username: str
    password: str


class Me(BaseModel):
    """The signed-in user; send ``csrf_token`` back as the X-CSRF-Token header on every write."""

    username: str
    display_name: str
    role: str
    town: str | None
    credit_code: str | None
    csrf_token: str
    lang: str


@router.post("/session", response_model=Me)
def sign_in(request: Request, body: Credentials) -> JSONResponse:
    """Sign in (throttled); sets the HttpOnly session cookie."""
    p = platform(request)
    s = auth.login(
        p.uow,
        body.username,
        body.password,
        request.client.host if request.client else "?",
        p.settings.login_max_failures,
        p.settings.login_window_minutes,
        p.settings.session_hours,
    )
    resp = JSONResponse(_me(s).model_dump())
    from ..pages.auth import set_session_cookie

    set_session_cookie(resp, request, s.id)
    return resp


@router.get("/session", response_model=Me)
def whoami(s: SessionDep) -> Me:
    """The signed-in user and the CSRF token for writes."""
    return _me(s)


def _me(s: auth.Session) -> Me:
    a = s.actor
    return Me(
        username=a.username,
        display_name=a.display_name,
        role=a.role,
        town=a.town,
        credit_code=a.credit_code,
        csrf_token=s.csrf_token,
        lang=s.lang,
    )
