"""One error shape everywhere: a JSON envelope for the API, one HTML page for people.

The envelope (pinned by tests/web/test_errors.py)::

    {"ok": false, "status": 422, "code": "invalid_input",
     "message": {"zh": "…", "en": "…"},
     "problems": [{"code", "where", "value", "expected_zh", "expected_en", "example", "message_zh", "message_en"}]}

Only the typed errors of ``core/errors.py`` say 404 or 403 (``NotFound``,
``Forbidden``): a built-in ``KeyError`` or ``PermissionError`` is a bug. Any
exception nobody expected is answered 500 with a short random error id, shown to
the user in zh and en, sent as the ``X-Error-Id`` header, and logged with its
traceback under the same id (logger ``tenglong.web``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException  # also FastAPI's (a subclass), and the router's own 404/405
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.errors import InvalidInput, PolicyError, Problem, ReformError
from ..services.audit import trail as audit_trail
from .i18n import t
from .security import UNSAFE, CsrfRefused, client_address, current, platform

log = logging.getLogger("tenglong.web")

MESSAGES = {
    401: ("请先登录。", "Please sign in."),
    403: ("您没有权限查看或操作此内容。", "You are not allowed to see or do this."),
    404: ("找不到该记录。", "Not found."),
    405: ("不支持该请求方法。", "Method not allowed."),
    409: ("当前状态不允许此操作。", "The record's state does not allow this."),
    413: ("上传的文件太大。", "The upload is too large."),
    429: ("请求过于频繁，请稍后再试。", "Too many requests; try again later."),
}
CODES = {
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "throttled",
}
INTERNAL_CODE = "internal_error"
ERROR_ID_HEADER = "X-Error-Id"

RenderError = Callable[[Request, int, str, str, list], Response]


class ProblemOut(BaseModel):
    """One problem of a refused request: where, the bad value, what is expected, an example (zh and en)."""

    code: str = Field(description="stable machine id, e.g. number_too_long")
    where: str = Field(description="where the problem is, e.g. projects.P1.total_investment")
    value: Any = Field(description="the offending value as sent (null when missing)")
    expected_zh: str
    expected_en: str
    example: str
    message_zh: str
    message_en: str
    context: dict[str, Any] | None = Field(None, description="more about where (a sheet, a row), when known")


class MessageOut(BaseModel):
    """One sentence in both languages."""

    zh: str
    en: str


class ErrorEnvelope(BaseModel):
    """The one error shape of the API (every 4xx and 5xx answer of /api/v1)."""

    ok: Literal[False]
    status: int = Field(description="the HTTP status again")
    code: str = Field(description="e.g. not_signed_in, forbidden, not_found, conflict, too_large, invalid_input")
    message: MessageOut
    problems: list[ProblemOut]


def envelope(
    status: int, code: str, zh: str, en: str, problems: list[Problem] | list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The error envelope."""
    items = [p.as_dict() if isinstance(p, Problem) else p for p in (problems or [])]
    return {"ok": False, "status": status, "code": code, "message": {"zh": zh, "en": en}, "problems": items}


def wants_html(request: Request) -> bool:
    """A page request or an htmx request from a page (not the API)."""
    if request.url.path.startswith("/api/"):
        return False
    return request.headers.get("hx-request") == "true" or "text/html" in request.headers.get("accept", "")


def status_of(exc: PolicyError) -> int:
    """HTTP status of a domain error."""
    if isinstance(exc, (InvalidInput, ReformError)):
        return 422
    return {
        "login_failed": 401,
        "login_throttled": 429,
        "forbidden": 403,
        "not_found": 404,
        "conflict": 409,
        "too_large": 413,
    }.get(exc.code, 400)


def new_error_id() -> str:
    """A short random id that ties what the user sees to the logged traceback."""
    return secrets.token_hex(4)


def internal_messages(error_id: str) -> tuple[str, str]:
    """What the user is told about an unexpected error (zh, en): the error id, and to give it to the administrator."""
    return t("error.internal", "zh", id=error_id), t("error.internal", "en", id=error_id)


def respond(
    render_error: RenderError, request: Request, status: int, code: str, zh: str, en: str, problems=None
) -> Response:
    """The error page for a page request, else the envelope."""
    if wants_html(request):
        return render_error(request, status, zh, en, problems or [])
    return JSONResponse(envelope(status, code, zh, en, problems), status_code=status)


def internal_error(render_error: RenderError, request: Request, exc: BaseException) -> Response:
    """Log ``exc`` with its traceback under a new error id and answer 500 with that id.

    Blocking (the error page looks the session up): call it off the event loop.
    """
    error_id = new_error_id()
    log.error(
        "unexpected error %s on %s %s",
        error_id,
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    zh, en = internal_messages(error_id)
    try:
        response = respond(render_error, request, 500, INTERNAL_CODE, zh, en)
    except Exception:  # the error page itself failed (e.g. the database is down): still give the id
        log.exception("error page %s could not be rendered", error_id)
        response = (
            HTMLResponse(f"<!doctype html><meta charset=utf-8><title>500</title><p>{zh}</p><p>{en}</p>", 500)
            if wants_html(request)
            else JSONResponse(envelope(500, INTERNAL_CODE, zh, en), status_code=500)
        )
    response.headers[ERROR_ID_HEADER] = error_id
    return response


class CatchUnexpected:
    """ASGI middleware: an exception no handler took becomes the 500 answer (with its error id) instead of plain text.

    It sits inside the app's own middleware (so the 500 gets the security headers) and outside the
    handlers of the typed errors. A response already started cannot be replaced: the error is logged
    and raised again.
    """

    def __init__(self, app: ASGIApp, render_error: RenderError) -> None:
        self.app = app
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                log.error("unexpected error after the response started on %s", scope.get("path"), exc_info=exc)
                raise
            response = await run_in_threadpool(internal_error, self.render_error, Request(scope, receive), exc)
            await response(scope, receive, send)


REFUSED = frozenset({403, 404, 409, 422})
"""Statuses of a refused write that are audited."""
LOGIN_ROUTES = frozenset({"/login", "/api/v1/session"})
"""The sign-in routes: their refusals are audited although nobody is signed in."""


def audit_refusal(request: Request, status: int, code: str, zh: str, en: str, problems: Any = None) -> None:
    """Audit a write refused with 403, 404, 409 or 422 (a signed-in user's, or a sign-in), in its own transaction.

    Safe methods, other statuses and anonymous callers (but at the sign-in routes) are not
    recorded, nor (by the caller) a request refused for its CSRF token, which may be forged.
    Blocking (a write): the handlers run in the threadpool. It never raises: a failure to
    record is logged, and the refusal is answered all the same.
    """
    if request.method not in UNSAFE or status not in REFUSED:
        return
    try:
        route = getattr(request.scope.get("route"), "path", None)
        login = route in LOGIN_ROUTES
        session = current(request)
        if session is None and not login:
            return
        audit_trail.record_refusal(
            platform(request),
            session.actor if session is not None else None,
            client_address(request),
            request.method,
            route or request.url.path,
            status,
            code,
            (zh, en),
            problems or (),
            request.path_params,
            login=login and session is None,
        )
    except Exception:
        log.exception("could not audit the refused %s %s (%s)", request.method, request.url.path, status)


def install(app, render_error: RenderError) -> None:
    """Register the handlers that turn every error into the one shape.

    The handlers are plain functions: Starlette runs them in its threadpool, since the error
    page looks the session up in the database.
    """
    app.add_middleware(CatchUnexpected, render_error=render_error)

    @app.exception_handler(PolicyError)
    def _policy(request: Request, exc: PolicyError) -> Response:
        problems = getattr(exc, "problems", None)
        status = status_of(exc)
        audit_refusal(request, status, exc.code, exc.message_zh, exc.message_en, problems)
        return respond(render_error, request, status, exc.code, exc.message_zh, exc.message_en, problems)

    @app.exception_handler(HTTPException)
    def _http(request: Request, exc: HTTPException) -> Response:
        zh, en = MESSAGES.get(exc.status_code, (str(exc.detail), str(exc.detail)))
        if isinstance(exc.detail, dict):
            zh, en = exc.detail.get("zh", zh), exc.detail.get("en", en)
        code = CODES.get(exc.status_code, "http_error")
        if not isinstance(exc, CsrfRefused):  # perhaps forged by another site: not the user's act
            audit_refusal(request, exc.status_code, code, str(zh), str(en))
        resp = respond(render_error, request, exc.status_code, code, zh, en)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            Problem(
                "invalid_request",
                ".".join(str(x) for x in e.get("loc", ())),
                str(e.get("input"))[:80] if e.get("input") is not None else None,
                "见接口文档 /api/v1/docs",
                "see the API documentation at /api/v1/docs",
                "",
                f"请求参数无效：{e.get('msg')}",
                f"Invalid request: {e.get('msg')}",
            )
            for e in exc.errors()
        ]
        return respond(
            render_error, request, 422, "invalid_request", "请求参数无效。", "The request is invalid.", problems
        )

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> Response:
        # The last resort, for an error raised outside CatchUnexpected (in the app's own middleware).
        return internal_error(render_error, request, exc)
