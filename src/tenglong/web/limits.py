"""What a request may be: bodies bounded while they are read, JSON bodies read strictly, ids and pages in range.

``RequestLimits`` is a pure ASGI middleware, ahead of routing and so of signing in.
Each route has a body limit (``limit_of``: the data import ``TENGLONG_MAX_UPLOAD_MB``,
the calculator's batch ``TENGLONG_MAX_BATCH_MB``, ``POST /api/v1/calculate``
``TENGLONG_MAX_CALCULATE_MB``, anything else ``TENGLONG_MAX_REQUEST_MB``, each plus
``SLACK`` for the form framing around a file). A declared ``Content-Length`` over it
is answered 413 before anything is read; otherwise ``receive`` counts the bytes as they
arrive and raises ``BodyTooLarge`` (an ``HTTPException``, so the route's error handler
answers 413 in the envelope or on the error page) as soon as the count passes it: the
rest is never read. A multipart form being parsed at that moment closes the files it
spooled (Starlette closes them when reading the stream fails).

Every JSON body of the API but ``POST /api/v1/calculate`` (whose route reads its large
body once, strictly, off the event loop) is read here first with the one strict reader,
``contract.parse_json``: a body that is not JSON is answered 400 ``invalid_json``, JSON
the platform does not take (duplicate keys, lone surrogates, absurd numbers, deep
nesting) 422, each problem with its path, so routes with pydantic bodies never see it.
These answers come before routing: they are not in the audit log of refused writes.

``IdPath`` and ``PageQuery`` bound ids and page numbers to 1 … 2³¹−1 (the database's
``integer``), so a number like 2⁶³ is a 422, never an overflow in the database driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.errors import InvalidInput, PolicyError, Problem
from ..services.calculation.contract import InvalidJson, parse_json
from ..services.campaign.common import KINDS
from ..services.enterprises.directory import ResultFilter
from ..services.kernel.platform import Platform
from ..settings import Settings
from . import errors
from .i18n import t
from .result_query import FilterDep, parse_year

MB = 1024 * 1024
SLACK = 64 * 1024
"""Bytes allowed over a route's limit: the multipart boundaries and part headers around a file of the limit's size."""
UPLOADS = {
    ("POST", "/api/v1/imports"): "max_upload_mb",
    ("POST", "/imports"): "max_upload_mb",
    ("POST", "/calculator/batch"): "max_batch_mb",
    ("POST", "/calculator/batch.xlsx"): "max_batch_mb",
    ("POST", "/attachments"): "max_attachment_mb",
    ("POST", "/api/v1/attachments"): "max_attachment_mb",
    ("POST", "/api/v1/simulations/files"): "max_upload_mb",
    **{("POST", f"{api}/registers/{kind}/import"): "max_upload_mb" for kind in KINDS for api in ("", "/api/v1")},
}
"""Routes that take a file (their 413 says "the upload"), with the setting of their limit (a register's import:
the data import's)."""
BODIES = {("POST", "/api/v1/calculate"): "max_calculate_mb"}
"""Other routes with a limit of their own; any route not named takes ``max_request_mb``."""
READS_ITS_OWN_JSON = frozenset({("POST", "/api/v1/calculate")})
"""API routes whose (large) JSON body is read strictly by the route itself, off the event loop, and not here."""
MAX_ID = 2**31 - 1
"""Largest id or page number (PostgreSQL's ``integer``)."""


@dataclass(frozen=True)
class Limit:
    """The body limit of a route: ``mb`` megabytes plus ``SLACK``."""

    mb: int
    upload: bool = False

    @property
    def bytes(self) -> int:
        """The limit in bytes."""
        return self.mb * MB + SLACK

    def messages(self) -> tuple[str, str]:
        """What the 413 says (zh, en)."""
        key = "error.upload_too_large" if self.upload else "error.body_too_large"
        return t(key, "zh", mb=self.mb), t(key, "en", mb=self.mb)


def limit_of(method: str, path: str, settings: Settings) -> Limit:
    """The body limit of ``method path``, from the settings (read per request, so a changed setting applies at once).

    >>> s = Settings(database_url="sqlite://")
    >>> limit_of("POST", "/api/v1/imports", s), limit_of("POST", "/api/v1/calculate", s).mb, limit_of("GET", "/", s).mb
    (Limit(mb=50, upload=True), 20, 1)
    """
    if (method, path) in UPLOADS:
        return Limit(getattr(settings, UPLOADS[(method, path)]), upload=True)
    return Limit(getattr(settings, BODIES.get((method, path), "max_request_mb")))


class BodyTooLarge(HTTPException):
    """The body passed its route's limit while it was read (413; the envelope, or the error page)."""

    def __init__(self, limit: Limit) -> None:
        zh, en = limit.messages()
        super().__init__(413, detail={"zh": zh, "en": en})


class MalformedJson(PolicyError):
    """A body that is not JSON, as the web answers it: 400 ``invalid_json`` with the problems (``web/errors.py``)."""

    code = "invalid_json"

    def __init__(self, exc: InvalidJson) -> None:
        super().__init__(exc.message_zh, exc.message_en)
        self.problems = exc.problems


def read_json(raw: bytes) -> Any:
    """A JSON body read with the one strict reader; text that is not JSON is a 400, refused content a 422.

    Raises:
        MalformedJson: not UTF-8, not JSON, NaN or Infinity (400).
        InvalidInput: duplicate keys, lone surrogates, absurd numbers, deep nesting (422).
    """
    try:
        return parse_json(raw)
    except InvalidJson as exc:
        raise MalformedJson(exc) from None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.strip()
            return int(text) if text.isdigit() and len(text) <= 18 else None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return kind == b"application/json" or (kind.startswith(b"application/") and kind.endswith(b"+json"))
    return False


def _reads_json_here(scope: Scope) -> bool:
    method, path = scope["method"], scope["path"]
    return (
        path.startswith("/api/")
        and method in ("POST", "PUT", "PATCH", "DELETE")
        and (method, path) not in READS_ITS_OWN_JSON
        and _is_json(scope)
    )


class _Counted:
    """``receive`` that counts the body's bytes and raises ``BodyTooLarge`` the moment they pass the limit."""

    def __init__(self, receive: Receive, limit: Limit) -> None:
        self.receive = receive
        self.limit = limit
        self.size = 0
        self.over = False

    async def __call__(self) -> Message:
        if self.over:  # the rest is not read: asked again, the body has ended
            return {"type": "http.disconnect"}
        message = await self.receive()
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit.bytes:
                self.over = True
                raise BodyTooLarge(self.limit)
        return message

    async def read_all(self) -> bytes | None:
        """The whole body (``None`` when the client went away first)."""
        chunks: list[bytes] = []
        while True:
            message = await self()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives the body already read, then whatever the server says next (a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class RequestLimits:
    """ASGI middleware: every body bounded while it is read, and every JSON body of the API read strictly first."""

    def __init__(self, app: ASGIApp, platform: Platform, render_error: errors.RenderError) -> None:
        self.app = app
        self.platform = platform
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_of(scope["method"], scope["path"], self.platform.settings)
        declared = _content_length(scope)
        if declared is not None and declared > limit.bytes:
            await self._refuse(scope, receive, send, 413, "too_large", *limit.messages())
            return
        counted = _Counted(receive, limit)
        app_receive: Receive = counted
        if _reads_json_here(scope):
            try:
                body = await counted.read_all()
            except BodyTooLarge:
                await self._refuse(scope, receive, send, 413, "too_large", *limit.messages())
                return
            if body is None:  # the client left: nobody to answer
                return
            if body.strip():
                try:
                    await run_in_threadpool(parse_json, body)
                except InvalidInput as exc:
                    status = 400 if isinstance(exc, InvalidJson) else 422
                    await self._refuse(
                        scope, receive, send, status, exc.code, exc.message_zh, exc.message_en, exc.problems
                    )
                    return
            app_receive = _replay(body, receive)
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, app_receive, tracked)
        except BodyTooLarge:  # raised where no route's handler took it
            if started:
                raise
            await self._refuse(scope, receive, send, 413, "too_large", *limit.messages())

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        code: str,
        zh: str,
        en: str,
        problems: list[Problem] | None = None,
    ) -> None:
        # The error page looks the session up in the database: off the event loop.
        response = await run_in_threadpool(
            errors.respond, self.render_error, Request(scope, receive), status, code, zh, en, problems
        )
        await response(scope, receive, send)


IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="An id, 1 to 2147483647")]
PageQuery = Annotated[int, Query(ge=1, le=MAX_ID, description="Page number, from 1")]
NumberQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _out_of_range(name: str, value: int) -> InvalidInput:
    return InvalidInput(
        [
            Problem(
                "out_of_range",
                name,
                str(value)[:20],
                f"1 至 {MAX_ID} 的整数",
                f"an integer from 1 to {MAX_ID}",
                "1",
                f"参数 {name} 超出范围（1 至 {MAX_ID}）。",
                f"Parameter {name} is outside 1 to {MAX_ID}.",
            )
        ]
    )


def bounded_filter(f: FilterDep) -> ResultFilter:
    """The result filter of the query string, with its page number in range (else 422)."""
    if f.page > MAX_ID:  # below 1 the service says so
        raise _out_of_range("page", f.page)
    return f


BoundedFilterDep = Annotated[ResultFilter, Depends(bounded_filter)]


def year_param(value: str | None) -> int | None:
    """An optional year from the query string (``result_query.parse_year``), in range (else 422)."""
    year = parse_year(value)
    if year is not None and abs(year) > MAX_ID:
        raise _out_of_range("year", year)
    return year
