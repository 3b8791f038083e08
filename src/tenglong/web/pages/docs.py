"""The API documentation at /api/v1/docs: Swagger UI from the vendored files under /static/vendor/.

FastAPI's own page (``get_swagger_ui_html``) loads Swagger UI from a CDN and starts it with an inline script, which the
Content-Security-Policy refuses; ``create_app`` turns it off (``docs_url=None``) and this route serves a small page of
local files started by ``static/swagger-init.js``. Open by design, like the OpenAPI document it shows.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)


@router.get("/api/v1/docs")
async def api_docs(request: Request) -> Response:
    """Swagger UI for the OpenAPI document of the app (no session needed; it runs no blocking work)."""
    app = request.app
    return app.state.templates.TemplateResponse(
        request, "api_docs.html", {"title": app.title, "openapi_url": app.openapi_url}
    )
