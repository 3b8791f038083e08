"""Sign in for API clients, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ...services.accounts import auth
from ..security import SessionDep, client_address, platform

router = APIRouter(prefix="/api/v1", tags=["session"])


class Credentials(BaseModel):
    """Username (at most 64 characters) and password (at most 1024); a longer one is refused with 422."""

    # The limits are checked by auth.login (one bilingual 422 for the page and the API, before anything is stored).
    username: str = Field(json_schema_extra={"maxLength": auth.USERNAME_MAX})
    password: str = Field(json_schema_extra={"maxLength": auth.PASSWORD_MAX, "format": "password", "writeOnly": True})


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
    """Sign in (throttled per account and per address: 429 says how many minutes remain); sets the HttpOnly session
    cookie. A username over 64 characters, or a password over 1024, is refused with 422 before anything is stored."""
    p = platform(request)
    s = auth.login(
        p.uow,
        body.username,
        body.password,
        client_address(request) or "?",
        p.settings.login_max_failures,
        p.settings.login_window_minutes,
        p.settings.session_hours,
        max_failures_per_address=p.settings.login_max_failures_per_address,
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
