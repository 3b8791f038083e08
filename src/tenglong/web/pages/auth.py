"""Sign in, sign out, switch language."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ...services.accounts import auth
from ..app import render
from ..i18n import t
from ..security import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SessionDep,
    client_address,
    current,
    language,
    platform,
)

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/dashboard"


def set_session_cookie(response: Response, request: Request, sid: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure behind TLS."""
    p = platform(request)
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        httponly=True,
        samesite="lax",
        secure=p.settings.behind_tls,
        max_age=p.settings.session_hours * 3600,
        path="/",
    )


@router.get("/")
def root(request: Request) -> Response:
    """Home: the dashboard, or the login page."""
    return RedirectResponse("/dashboard" if current(request) else "/login", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form (with a double-submit CSRF token)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or auth.new_session_token()
    resp = render(request, "login.html", next=_safe_next(next), login_csrf=token, error=None)
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=platform(request).settings.behind_tls,
        path="/login",
    )
    return resp


@router.post("/login")
def login_submit(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/dashboard",
) -> Response:
    """Check the credentials; on success set the session cookie and go on."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    lang = language(request)
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        return render(
            request,
            "login.html",
            status_code=403,
            next=_safe_next(next),
            login_csrf=cookie or auth.new_session_token(),
            error=t("error.csrf", lang),
        )
    p = platform(request)
    try:
        s = auth.login(
            p.uow,
            username.strip(),
            password,
            client_address(request) or "?",
            p.settings.login_max_failures,
            p.settings.login_window_minutes,
            p.settings.session_hours,
            lang,
            max_failures_per_address=p.settings.login_max_failures_per_address,
        )
    except auth.Throttled as exc:
        return render(
            request,
            "login.html",
            status_code=429,
            next=_safe_next(next),
            login_csrf=cookie,
            error=t("login.throttled_wait", lang, minutes=exc.minutes),
        )
    except auth.AuthError:
        return render(
            request,
            "login.html",
            status_code=401,
            next=_safe_next(next),
            login_csrf=cookie,
            error=t("login.failed", lang),
        )
    resp = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(resp, request, s.id)
    return resp


@router.post("/logout")
def logout(request: Request, s: SessionDep) -> Response:
    """End the session."""
    auth.logout(platform(request).uow, s)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """Switch between 中文 and English (remembered in the session and a cookie)."""
    lang = "en" if code == "en" else "zh"
    s = current(request)
    if s is not None:
        auth.set_language(platform(request).uow, s, lang)
    resp = RedirectResponse(_safe_next(next) if next else "/dashboard", status_code=303)
    resp.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 86400, path="/")
    return resp
