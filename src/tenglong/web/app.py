"""create_app(platform): the FastAPI application — API under /api/v1, pages, static files."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ..services.kernel.platform import Platform
from . import errors, figures
from .i18n import t
from .limits import RequestLimits
from .security import NotSignedIn, current, language

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["t"] = t
templates.env.filters["money"] = figures.money  # exact Decimal text, never through float
templates.env.filters["when"] = figures.when  # stored UTC → Beijing time
templates.env.globals["state_name"] = figures.state_name  # a workflow state's name, from its YAML file

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
    "pages.docs",
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
