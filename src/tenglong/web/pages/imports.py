"""数据导入 (admin): upload form → validation report with progress → commit or discard."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ...services.audit.log import LOCAL
from ...services.data import report
from ...services.data import uploads as imports
from ..api.imports import ImportActor, client_address, download, receive_upload
from ..app import render
from ..i18n import catalogue, t
from ..limits import IdPath, PageQuery
from ..security import PlatformDep, language

router = APIRouter(include_in_schema=False)


def local_time(moment: Any) -> str:
    """A UTC time as ``YYYY-MM-DD HH:MM`` in China Standard Time (empty for None)."""
    return "" if moment is None else moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


def code_label(lang: str) -> Callable[[str], str]:
    """The translated name of an error code (the code itself when the catalogue has none)."""
    known = catalogue()
    return lambda code: t(f"imports.code.{code}", lang) if f"imports.code.{code}" in known else code


def _helpers(request: Request) -> dict[str, Any]:
    return {"when": local_time, "code_label": code_label(language(request))}


def commit_summary(imp: imports.ImportView, lang: str) -> str:
    """What committing writes, as one sentence (empty when the import cannot be committed)."""
    if not imp.can_commit:
        return ""
    s = imp.summary
    years = "、".join(str(y) for y in imp.years) if lang == "zh" else ", ".join(str(y) for y in imp.years)
    if s is None:
        return t("imports.commit.summary_rows", lang, rows=f"{imp.rows_valid:,}", years=years)
    return t(
        "imports.commit.summary",
        lang,
        n=f"{s.enterprises:,}",
        years=years,
        rows=f"{s.rows:,}",
        new=f"{s.new:,}",
        updated=f"{s.updated:,}",
    )


def _report(request: Request, p: Any, actor: Any, import_id: int, code: str, page: int, confirming: bool = False):
    imp = imports.get_import(p, actor, import_id)
    problems = report.problems(p, actor, import_id, code or None, page)
    return render(
        request,
        "imports/report.html",
        imp=imp,
        problems=problems,
        code=code,
        summary=commit_summary(imp, language(request)),
        confirming=confirming and imp.can_commit,
        **_helpers(request),
    )


@router.get("/imports")
def imports_page(request: Request, p: PlatformDep, actor: ImportActor, page: PageQuery = 1) -> Response:
    """The upload form, the template download and the uploads so far."""
    items, total = imports.list_imports(p, actor, page)
    return render(
        request,
        "imports/list.html",
        uploads=items,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / imports.PAGE_SIZE)),
        max_mb=p.settings.max_upload_mb,
        **_helpers(request),
    )


@router.post("/imports")
async def upload(request: Request, p: PlatformDep, actor: ImportActor) -> Response:
    """Store the file and go to its report page, where validation progress shows."""
    import_id = await receive_upload(request, p, actor)
    return RedirectResponse(f"/imports/{import_id}", status_code=303)


@router.get("/imports/template.xlsx")
def template(request: Request, actor: ImportActor, lang: str | None = None) -> Response:
    """The import template, in the page language unless ``lang`` says otherwise."""
    chosen = lang or language(request)
    name = "enterprise-data-template.xlsx" if chosen == "en" else "企业数据导入模板.xlsx"
    return download(report.template_workbook(actor, chosen), name)


@router.get("/imports/{import_id}")
def report_page(
    request: Request,
    import_id: IdPath,
    p: PlatformDep,
    actor: ImportActor,
    code: str | None = None,
    page: PageQuery = 1,
) -> Response:
    """Status and progress, counts by code, the problems (paged, filterable), commit (confirmed first) and discard."""
    return _report(request, p, actor, import_id, code or "", page)


@router.get("/imports/{import_id}/status")
def status_fragment(request: Request, import_id: IdPath, p: PlatformDep, actor: ImportActor) -> Response:
    """The status box, polled every second by htmx while the worker runs; when it is done, htmx reloads the page."""
    imp = imports.get_import(p, actor, import_id)
    response = render(request, "imports/_status.html", imp=imp, **_helpers(request))
    if not imp.running and request.headers.get("hx-request"):
        response.headers["HX-Refresh"] = "true"
    return response


@router.post("/imports/{import_id}/commit")
def commit(
    request: Request, import_id: IdPath, p: PlatformDep, actor: ImportActor, confirm: Annotated[str, Form()] = ""
) -> Response:
    """Start the commit once confirmed (``confirm=1``, sent by the page's confirmation) and show its progress; without
    it, the report page asks for the confirmation with the summary and commits nothing (409 unless validated without
    errors either way)."""
    if confirm != "1":
        imp = imports.get_import(p, actor, import_id)
        if imp.can_commit:
            return _report(request, p, actor, import_id, "", 1, confirming=True)
    imports.commit(p, actor, import_id, client_address(request))
    return RedirectResponse(f"/imports/{import_id}", status_code=303)


@router.post("/imports/{import_id}/discard")
def discard(request: Request, import_id: IdPath, p: PlatformDep, actor: ImportActor) -> Response:
    """Discard the import and delete its file."""
    imports.discard(p, actor, import_id, client_address(request))
    return RedirectResponse(f"/imports/{import_id}", status_code=303)
