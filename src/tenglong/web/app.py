"""create_app(platform): the FastAPI application — API under /api/v1, pages, static files."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ..services.kernel.platform import Platform
from . import errors, figures
from .i18n import t
from .limits import RequestLimits
from .security import UNSAFE, NotSignedIn, current, language, require, require_session, signed_in

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["t"] = t
templates.env.filters["money"] = figures.money  # exact Decimal text, never through float
templates.env.globals["wan"] = figures.wan  # an amount in 元 shown in 万元, exact
templates.env.filters["when"] = figures.when  # stored UTC → Beijing time
templates.env.filters["parameter_names"] = figures.parameter_names  # stored explanations: parameters by name
templates.env.globals["state_name"] = figures.state_name  # a workflow state's name, from its YAML file
templates.env.globals["where_label"] = figures.where_label  # where a problem is, as its label (the error box)

# Routers, in the order their paths are matched. Each module exposes `router`.
API_MODULES = (
    "api.session",
    "api.calculate",
    "api.policy",
    "api.enterprises",
    "api.evaluations",
    "api.subsidies",
    "api.imports",
    "api.admin",
    "api.notifications",
    "api.todo",
    "api.registers",
    "api.targets",
    "api.attachments",
    "api.simulation",
)  # api.evaluations also serves /dashboard
PAGE_MODULES = (
    "pages.auth",
    "pages.dashboard",
    "pages.enterprises",
    "pages.evaluations",
    "pages.calculator",
    "pages.subsidies",
    "pages.policy",
    "pages.imports",
    "pages.admin",
    "pages.notifications",
    "pages.registers",
    "pages.projects",
    "pages.targets",
    "pages.reports",
    "pages.simulate",
    "pages.docs",
    "pages.static_extras",
)


def render(request: Request, name: str, status_code: int = 200, **context: object) -> Response:
    """Render a page template with the common context (session, language, CSRF token)."""
    s = current(request)
    lang = language(request)
    base = {
        "request": request,
        "session": s,
        "actor": s.actor if s else None,
        "lang": lang,
        "csrf": s.csrf_token if s else "",
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def _render_error(request: Request, status: int, zh: str, en: str, problems: list) -> Response:
    # An htmx request swaps the answer into part of the page: give it the error box alone, not a whole page.
    fragment = request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"
    return render(
        request,
        "_error_box.html" if fragment else "error.html",
        status_code=status,
        status=status,
        message=zh if language(request) == "zh" else en,
        problems=problems,
    )


ERROR_ANSWERS = {
    400: "Not JSON (invalid_json), or a request the route cannot take (error envelope)",
    401: "Not signed in; at sign-in, a wrong username or password (error envelope)",
    403: "The role may not do this, or a write lacks the X-CSRF-Token header (error envelope)",
    404: "Unknown, or outside the caller's scope (error envelope)",
    409: "The record's state does not allow this, or it exists already (error envelope)",
    413: "The request body passed its limit, or an uploaded file one of its limits (error envelope)",
    422: "Invalid input, every problem listed (error envelope)",
    429: "Too many failed sign-ins; the message says how many minutes remain (error envelope)",
}
"""What each documented error status of the API means; every one is answered in ``errors.ErrorEnvelope``."""
SIGN_IN = ("POST", "/api/v1/session")
ROLE_CHECK = f"{require.__qualname__}.<locals>.check"
"""The dependency ``security.require(permission)`` adds: a 403 for a role without the permission."""


def _dependencies(d: Dependant) -> list[Dependant]:
    found, stack = [], [d]
    while stack:
        d = stack.pop()
        found.append(d)
        stack += d.dependencies
    return found


def error_statuses(route: APIRoute, method: str) -> list[int]:
    """The error statuses ``method route`` can answer, from what it takes.

    Any request: 413 (every body is bounded, ``limits.RequestLimits``). A write: 400 (not JSON, or a request it
    cannot take) and 422 (JSON refused by the strict reader, or invalid fields). Signed in: 401; 403 for a write
    (the role, or the CSRF token) or a route whose role is checked (``security.require``); with anything that
    names a record (a path, query or body), 404 and 422; a write, 409. The sign-in: 401 (wrong credentials) and
    429 (throttled). Every role may read, so a read without a role check is never 403.
    """
    deps = _dependencies(route.dependant)
    write = method in UNSAFE
    session = any(d.call in (signed_in, require_session) for d in deps)
    role_checked = any(getattr(d.call, "__qualname__", "") == ROLE_CHECK for d in deps)
    takes_input = write or any(d.path_params or d.query_params or d.body_params for d in deps)
    statuses = {413}
    if write:
        statuses |= {400, 422}
    if takes_input:
        statuses.add(422)
    if session:
        statuses.add(401)
        if write or role_checked:
            statuses.add(403)
        if takes_input:
            statuses.add(404)
        if write:
            statuses.add(409)
    if (method, route.path_format) == SIGN_IN:
        statuses |= {401, 429}
    return sorted(statuses)


def document_errors(app: FastAPI) -> None:
    """Document, on every API operation, each error status it can answer (``error_statuses``) with the one envelope.

    The one place error answers are documented: a route may give a status its own description (its ``responses``),
    the schema of the body is always ``ErrorEnvelope``. FastAPI's own 422 shape (``HTTPValidationError``) is never
    answered, so it is replaced.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # cached by FastAPI until the routes change
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "ErrorEnvelope" in components:
            return schema
        envelope = errors.ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(envelope.pop("$defs", {}))
        components["ErrorEnvelope"] = envelope
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
        for context in iter_route_contexts(app.routes):
            route = context.route
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            for method in route.methods:
                operation = schema["paths"].get(context.path_format, {}).get(method.lower())
                if operation is None:
                    continue
                for status in error_statuses(route, method):
                    answer = operation["responses"].setdefault(str(status), {})
                    answer.setdefault("description", ERROR_ANSWERS[status])
                    answer["content"] = content
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(platform: Platform) -> FastAPI:
    """The application for ``platform`` (the same services the CLI uses)."""
    app = FastAPI(
        title="tenglong API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # FastAPI's page fetches Swagger UI from a CDN, with an inline script: see pages.docs
        redoc_url=None,
        description=(
            "临政发〔2022〕22号 — the calculation contract, the 亩均 evaluation and the campaign registers. "
            "Errors share one envelope (see the `ok: false` shape)."
        ),
    )
    app.state.platform = platform
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    # Bodies bounded while read, JSON bodies of the API read strictly: before routing (and so before signing in),
    # inside CatchUnexpected (added by errors.install, so outside this) and the security headers of _headers below.
    app.add_middleware(RequestLimits, platform=platform, render_error=_render_error)
    errors.install(app, _render_error)

    @app.exception_handler(NotSignedIn)
    async def _login_first(request: Request, exc: NotSignedIn) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    for name in API_MODULES + PAGE_MODULES:
        app.include_router(import_module(f"{__package__}.{name}").router)
    document_errors(app)

    @app.middleware("http")  # async, and it does no blocking work (bodies are bounded by RequestLimits, inside it)
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        headers = response.headers
        # Only our own files; no inline script or style (templates carry data, static/app.js the behaviour), no eval,
        # no plugins, no framing, forms only back to us. img-src data: for the SVG icons of Swagger UI (/api/v1/docs).
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        if platform.settings.behind_tls:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Everything but /static/ may hold personal data (API answers, exports, pages after sign-in): never stored by
        # a browser or a proxy. The vendored and own static files stay cacheable (ETag / Last-Modified).
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        return response

    return app
