"""Sessions (HttpOnly, SameSite cookies), CSRF tokens and the current user."""

from __future__ import annotations

import hmac
import io
import ipaddress
from functools import lru_cache
from typing import Annotated, Any, BinaryIO

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData, UploadFile

from ..registers.roles import Actor
from ..services.accounts import auth
from ..services.kernel.platform import Platform

SESSION_COOKIE = "tl_session"
LOGIN_CSRF_COOKIE = "tl_login_csrf"
LANG_COOKIE = "tl_lang"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def platform(request: Request) -> Platform:
    """The platform the app was built with."""
    return request.app.state.platform


ADDRESS_MAX = 64
"""Longest client address kept (the ``address`` columns); an IPv6 address has at most 45 characters."""


@lru_cache(maxsize=8)
def _networks(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n) for n in setting.split(",") if n)


def _trusted(host: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in n for n in networks)


def _host(hop: str) -> str:
    """The host of one ``X-Forwarded-For`` entry: ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80`` or ``::1``."""
    if hop.startswith("[") and "]" in hop:
        return hop[1 : hop.index("]")]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


def client_address(request: Request) -> str | None:
    """The client's address, for the login throttle and the audit log (None when the server gives no peer).

    The peer address, unless the peer is one of ``TENGLONG_TRUSTED_PROXIES``: then the
    ``X-Forwarded-For`` entries are read from the right (each proxy appends the address it
    saw) and the first one that is not a trusted proxy is the client — the rule of uvicorn's
    proxy headers, which ``tenglong serve`` enables with the same setting, so both agree.
    With the setting empty (the default) the header is ignored: anyone can write it.
    The answer is cut to :data:`ADDRESS_MAX` characters.
    """
    peer = request.client.host if request.client else None
    networks = _networks(platform(request).settings.trusted_proxies)
    address = peer
    if peer is not None and networks and _trusted(peer, networks):
        hops = [h.strip() for v in request.headers.getlist("x-forwarded-for") for h in v.split(",") if h.strip()]
        if hops:
            address = next((h for h in map(_host, reversed(hops)) if not _trusted(h, networks)), _host(hops[0]))
    return address[:ADDRESS_MAX] if address is not None else None


def current(request: Request) -> auth.Session | None:
    """The signed-in session of the request (looked up once per request)."""
    if not hasattr(request.state, "session"):
        request.state.session = auth.session(platform(request).uow, request.cookies.get(SESSION_COOKIE))
    return request.state.session


def language(request: Request) -> str:
    """zh (default) or en: the session's choice, else the language cookie."""
    s = current(request)
    if s is not None:
        return s.lang
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


class CsrfRefused(HTTPException):
    """403 for an unsafe request without the session's CSRF token.

    Such a request may be forged by another site, so it is not recorded as the user's refused write.
    """


class NotSignedIn(Exception):
    """Raised for a page that needs a session; the app redirects to the login page."""


def signed_in(request: Request) -> auth.Session:
    """The session, or 401 (API) / a redirect to the login page (pages).

    A plain function: FastAPI runs it in its threadpool, since it reads the session from the database.
    """
    s = current(request)
    if s is None:
        if request.url.path.startswith("/api/"):
            raise HTTPException(401)
        raise NotSignedIn()
    return s


async def require_session(request: Request, s: Annotated[auth.Session, Depends(signed_in)]) -> auth.Session:
    """The session (looked up off the event loop by ``signed_in``); checks the CSRF token on unsafe methods.

    Async only to read a posted form for its ``csrf_token`` field; it does no blocking work.
    """
    if request.method in UNSAFE:
        token = request.headers.get("x-csrf-token")
        if token is None and "form" in request.headers.get("content-type", ""):
            token = (await request.form()).get("csrf_token")
        if not token or not hmac.compare_digest(str(token), s.csrf_token):
            raise CsrfRefused(
                403,
                detail={
                    "zh": "表单已过期或缺少 CSRF 令牌，请刷新页面后重试。",
                    "en": "Missing or stale CSRF token; reload the page and try again.",
                },
            )
    return s


async def posted_form(request: Request) -> FormData:
    """The posted form, read on the event loop so that the route using it can be a plain ``def`` (in the threadpool)."""
    return await request.form()


async def posted_body(request: Request) -> bytes:
    """The raw request body, read on the event loop so that the route using it can be a plain ``def``."""
    return await request.body()


def posted_file(form: Any, field: str) -> tuple[str | None, BinaryIO]:
    """A form's file field as (its name, its stream); sent without a file, (None, no bytes) — the service then says
    "choose a file"."""
    f = form.get(field)
    return (f.filename, f.file) if isinstance(f, UploadFile) else (None, io.BytesIO())


SessionDep = Annotated[auth.Session, Depends(require_session)]
PlatformDep = Annotated[Platform, Depends(platform)]
FormDep = Annotated[FormData, Depends(posted_form)]
BodyDep = Annotated[bytes, Depends(posted_body)]


def actor(s: SessionDep) -> Actor:
    """The signed-in actor."""
    return s.actor


ActorDep = Annotated[Actor, Depends(actor)]


def require(permission: str):
    """A dependency that refuses (403) actors whose role lacks ``permission``."""

    def check(s: SessionDep) -> Actor:
        if not s.actor.can(permission):
            raise HTTPException(403)
        return s.actor

    return Depends(check)
