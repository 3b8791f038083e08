"""Data import API (admin only): upload, status, validation report, commit, discard."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...core.errors import PolicyError
from ...registers.roles import Actor
from ...services.audit import trail as audit_trail
from ...services.data import report
from ...services.data import uploads as imports
from .. import security
from ..limits import IdPath, PageQuery
from ..security import PlatformDep, require
from .evaluation_schemas import UtcDateTime

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ImportActor = Annotated[Actor, require("import")]
_MULTIPART_SLACK = 64 * 1024  # boundaries and headers around the file part


class ImportPublic(BaseModel):
    """An upload: its status, progress 0–1 and counts.

    Status: validating | invalid | validated | committing | committed | discarded | failed.
    """

    id: int
    filename: str
    status: str
    progress: float
    message: str | None
    rows_read: int
    rows_valid: int
    error_count: int
    warning_count: int
    counts_by_code: dict[str, int]
    warnings_by_code: dict[str, int]
    years: list[int]
    uploaded_by: str
    uploaded_at: UtcDateTime
    committed_at: UtcDateTime | None
    commit: dict[str, int] | None
    stalled: bool
    can_commit: bool
    can_discard: bool


class ImportList(BaseModel):
    """A page of uploads, newest first."""

    items: list[ImportPublic]
    total: int
    page: int
    pages: int


class Accepted(BaseModel):
    """The upload was stored; validation (or the commit) runs in the background: poll GET /api/v1/imports/{id}."""

    id: int
    status: str


class ProblemPublic(BaseModel):
    """One problem of the validation report: where, the bad value, what is expected, an example (zh and en)."""

    level: str
    code: str
    where: str
    sheet: str | None
    row: int | None
    column: str | None
    header: str | None
    value: str | None
    expected_zh: str
    expected_en: str
    example: str
    message_zh: str
    message_en: str


class ProblemPagePublic(BaseModel):
    """A page of the validation report (50 problems), optionally of one error code."""

    items: list[ProblemPublic]
    total: int
    page: int
    pages: int
    page_size: int
    code: str | None


def public(v: imports.ImportView) -> ImportPublic:
    """The API shape of an import."""
    return ImportPublic(
        id=v.id,
        filename=v.filename,
        status=v.status,
        progress=v.progress,
        message=v.message,
        rows_read=v.rows_read,
        rows_valid=v.rows_valid,
        error_count=v.error_count,
        warning_count=v.warning_count,
        counts_by_code=v.by_code,
        warnings_by_code=v.warnings_by_code,
        years=v.years,
        uploaded_by=v.uploaded_by,
        uploaded_at=v.uploaded_at,
        committed_at=v.committed_at,
        commit=v.commit,
        stalled=v.stalled,
        can_commit=v.can_commit,
        can_discard=v.can_discard,
    )


def download(content: bytes, filename: str, media_type: str = XLSX) -> Response:
    """An attachment with a UTF-8 file name."""
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


def client_address(request: Request) -> str | None:
    """The client's address, for audit records (``security.client_address``: proxies only when trusted)."""
    return security.client_address(request)


async def receive_upload(request: Request, p: Any, actor: Actor) -> int:
    """Parse the multipart form (field ``file``), refusing a too large body first (413), and store it.

    Async only to read the form with its limits; storing the file (and the database) runs in the threadpool.
    """
    limit = p.settings.max_upload_mb * 1024 * 1024
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
        raise _too_large(imports.too_large(p.settings.max_upload_mb))
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise PolicyError("请选择要上传的文件（表单字段 file）。", "Choose a file to upload (form field `file`).")
        return await run_in_threadpool(imports.receive, p, actor, upload.filename, upload.file, client_address(request))
    except imports.TooLarge as exc:
        raise _too_large(exc) from None
    finally:
        await form.close()


def _too_large(exc: imports.TooLarge) -> HTTPException:
    return HTTPException(413, detail={"zh": exc.message_zh, "en": exc.message_en})


@router.get("", response_model=ImportList)
def list_imports(p: PlatformDep, actor: ImportActor, page: PageQuery = 1) -> ImportList:
    """Uploads, newest first (50 per page)."""
    items, total = imports.list_imports(p, actor, page)
    return ImportList(
        items=[public(v) for v in items], total=total, page=page, pages=max(1, math.ceil(total / imports.PAGE_SIZE))
    )


FILE_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
"""The OpenAPI request body of an upload of one spreadsheet (field ``file``), for every route that takes one."""


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    openapi_extra=FILE_UPLOAD,
)
async def upload(request: Request, p: PlatformDep, actor: ImportActor) -> Accepted:
    """Upload an enterprise-year XLSX or CSV (field ``file``; limit ``TENGLONG_MAX_UPLOAD_MB``, else 413).

    It is validated in the background.
    """
    import_id = await receive_upload(request, p, actor)
    return Accepted(id=import_id, status="validating")


@router.get("/template.xlsx", response_class=Response)
def template(actor: ImportActor, lang: str = "zh") -> Response:
    """The import template (Chinese headers and 万元 by default; ``lang=en`` for English headers and 元)."""
    name = "企业数据导入模板.xlsx" if lang != "en" else "enterprise-data-template.xlsx"
    return download(report.template_workbook(actor, lang), name)


@router.get("/{import_id}", response_model=ImportPublic)
def get_import(import_id: IdPath, p: PlatformDep, actor: ImportActor) -> ImportPublic:
    """Status, progress and counts of one upload."""
    return public(imports.get_import(p, actor, import_id))


@router.get("/{import_id}/problems", response_model=ProblemPagePublic)
def problems(
    import_id: IdPath, p: PlatformDep, actor: ImportActor, code: str | None = None, page: PageQuery = 1
) -> ProblemPagePublic:
    """The validation report, 50 problems a page, optionally only one error code."""
    r = report.problems(p, actor, import_id, code or None, page)
    return ProblemPagePublic(
        items=[ProblemPublic(**i) for i in r.items],
        total=r.total,
        page=r.page,
        pages=r.pages,
        page_size=r.page_size,
        code=r.code,
    )


@router.get("/{import_id}/report.xlsx", response_class=Response)
def report_xlsx(import_id: IdPath, request: Request, p: PlatformDep, actor: ImportActor) -> Response:
    """The whole validation report as a workbook (Chinese and English columns); the export is audited."""
    content = audit_trail.export_import_report(p, actor, import_id, client_address(request))
    return download(content, f"import-{import_id}-report.xlsx")


@router.post("/{import_id}/commit", status_code=202, response_model=Accepted)
def commit(import_id: IdPath, request: Request, p: PlatformDep, actor: ImportActor) -> Accepted:
    """Commit a validated import (all or nothing, in the background); 409 unless it is validated without errors."""
    imports.commit(p, actor, import_id, client_address(request))
    return Accepted(id=import_id, status="committing")


@router.post("/{import_id}/discard", response_model=ImportPublic)
def discard(import_id: IdPath, request: Request, p: PlatformDep, actor: ImportActor) -> ImportPublic:
    """Discard an import that is not committed; its stored file is deleted (409 when committed or running)."""
    imports.discard(p, actor, import_id, client_address(request))
    return public(imports.get_import(p, actor, import_id))
