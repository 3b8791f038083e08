"""One error shape everywhere: a JSON envelope for the API, one HTML page for people.

The envelope (pinned by tests/web/test_errors.py)::

    {"ok": false, "status": 422, "code": "invalid_input",
     "message": {"zh": "…", "en": "…"},
     "problems": [{"code", "where", "value", "expected_zh", "expected_en", "example", "message_zh", "message_en"}]}
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from ..core.errors import InvalidInput, PolicyError, Problem, ReformError

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


def envelope(
    status: int, code: str, zh: str, en: str, problems: list[Problem] | list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The error envelope."""
    items = [p.as_dict() if isinstance(p, Problem) else p for p in (problems or [])]
    return {"ok": False, "status": status, "code": code, "message": {"zh": zh, "en": en}, "problems": items}


def wants_html(request: Request) -> bool:
    """A page request (not the API, not an htmx fragment)."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


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


def install(app, render_error) -> None:
    """Register the handlers that turn every error into the one shape."""

    def respond(request: Request, status: int, code: str, zh: str, en: str, problems=None) -> Response:
        if wants_html(request):
            return render_error(request, status, zh, en, problems or [])
        return JSONResponse(envelope(status, code, zh, en, problems), status_code=status)

    @app.exception_handler(PolicyError)
    async def _policy(request: Request, exc: PolicyError) -> Response:
        return respond(
            request, status_of(exc), exc.code, exc.message_zh, exc.message_en, getattr(exc, "problems", None)
        )

    @app.exception_handler(PermissionError)
    async def _forbidden(request: Request, exc: PermissionError) -> Response:
        return respond(request, 403, "forbidden", *MESSAGES[403])

    @app.exception_handler(LookupError)
    async def _missing(request: Request, exc: LookupError) -> Response:
        return respond(request, 404, "not_found", *MESSAGES[404])

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        zh, en = MESSAGES.get(exc.status_code, (str(exc.detail), str(exc.detail)))
        if isinstance(exc.detail, dict):
            zh, en = exc.detail.get("zh", zh), exc.detail.get("en", en)
        resp = respond(request, exc.status_code, CODES.get(exc.status_code, "http_error"), zh, en)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
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
        return respond(request, 422, "invalid_request", "请求参数无效。", "The request is invalid.", problems)
