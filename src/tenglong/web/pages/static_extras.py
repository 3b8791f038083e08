"""Files browsers ask for at the root: /favicon.ico (open; the pages link the cacheable /static/favicon.svg, so only
clients that ignore the link ask here, and the answer is ``no-store`` like everything outside /static)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static"


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """The site icon (16, 32 and 48 px) for browsers that ask at the root; no session needed, no blocking work."""
    return FileResponse(STATIC / "favicon.ico", media_type="image/vnd.microsoft.icon")
