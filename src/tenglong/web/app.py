"""create_app(platform): the FastAPI application — API under /api/v1, pages, static files."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from ..services.kernel.platform import Platform
from . import errors, figures
from .i18n import t
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
    return render(
        request,
        "error.html",
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
        docs_url="/api/v1/docs",
        redoc_url=None,
        description=(
            "临政发〔2022〕22号 — the calculation contract, the 亩均 evaluation and the campaign registers. "
            "Errors share one envelope (see the `ok: false` shape)."
        ),
    )
    app.state.platform = platform
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    errors.install(app, _render_error)

    @app.exception_handler(NotSignedIn)
    async def _login_first(request: Request, exc: NotSignedIn) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    for name in API_MODULES + PAGE_MODULES:
        app.include_router(import_module(f"{__package__}.{name}").router)

    @app.middleware("http")  # async, and it does no blocking work (the error page of a 413 is drawn in the threadpool)
    async def _headers(request: Request, call_next):
        # Refuse a declared body over the upload limit before reading it (routes also count the bytes).
        mb = platform.settings.max_upload_mb
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > mb * 1024 * 1024:
            zh, en = f"上传的文件超过 {mb} MB 的上限。", f"The upload exceeds the {mb} MB limit."
            # The error page looks the session up in the database: off the event loop.
            response = await run_in_threadpool(errors.respond, _render_error, request, 413, "too_large", zh, en)
        else:
            response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
