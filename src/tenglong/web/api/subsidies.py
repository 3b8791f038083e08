"""Projects and 补助申请 (subsidy applications): create, compute, and the workflow.

The workflow: submit → review → approve/reject → pay.

Money is returned as exact decimal text (``"1234567.90"``). Scope: an object of
an enterprise the caller may not see is 404; a move the role may not make is
403; a move the application's state does not allow is 409.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ...core.errors import NotFound
from ...services.calculation.contract import parse_json
from ...services.enterprises import projects
from ...services.subsidies import applications as subsidies
from ..security import ActorDep, BodyDep, PlatformDep, language

router = APIRouter(prefix="/api/v1", tags=["projects and applications"])

_PROJECT_EXAMPLE = {
    "credit_code": "91331082MA2AB3CF7N",
    "name": "数控化改造项目",
    "application_date": "2023-03-01",
    "inputs": {"total_investment": 15000000, "equipment_investment": 8000000, "is_2513_enterprise": False},
}


def _json(data: Any, status: int = 200) -> Response:
    """JSON with exact decimals as text and dates in ISO form."""
    text = json.dumps(
        data,
        ensure_ascii=False,
        default=lambda o: str(o) if isinstance(o, Decimal) else o.isoformat() if hasattr(o, "isoformat") else str(o),
    )
    return Response(text, status_code=status, media_type="application/json")


def _doc(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body ({} when empty or not an object)."""
    doc = parse_json(raw) if raw.strip() else {}
    return doc if isinstance(doc, dict) else {}


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post(
    "/projects",
    status_code=201,
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "example": _PROJECT_EXAMPLE}}}}
    },
)
def create_project(request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep) -> Response:
    """Create a project for an enterprise in your scope with its 2.10/2.11 inputs.

    Admin, department, town and enterprise accounts.
    """
    b = _doc(raw)
    pid = projects.create_project(
        p.uow,
        actor,
        str(b.get("credit_code") or ""),
        str(b.get("name") or ""),
        b.get("application_date"),
        b.get("inputs") or {},
        _address(request),
    )
    return _json(projects.get_project(p.uow, actor, pid), 201)


@router.get("/projects/{project_id}")
def get_project(project_id: int, actor: ActorDep, p: PlatformDep) -> Response:
    """A project with its inputs and applications."""
    return _json(projects.get_project(p.uow, actor, project_id))


@router.patch("/projects/{project_id}")
def update_project(project_id: int, request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep) -> Response:
    """Change a project's name, date or inputs (only while its applications are drafts; else 409)."""
    b = _doc(raw)
    projects.update_project(
        p.uow, actor, project_id, b.get("name"), b.get("application_date"), b.get("inputs"), _address(request)
    )
    return _json(projects.get_project(p.uow, actor, project_id))


@router.post("/projects/{project_id}/compute")
def compute_project(project_id: int, request: Request, actor: ActorDep, p: PlatformDep) -> Response:
    """The calculation answer of a project (the calculate contract).

    With the enterprise's class and the projects counted against the 2.10 cap.
    """
    return _json(projects.compute(p.uow, actor, project_id, language(request)))


@router.post(
    "/applications",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object", "example": {"project_id": 1, "clause": "2.10"}}}
            }
        }
    },
)
def create_application(request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep) -> Response:
    """Compute the project and store a draft application for clause 2.10 or 2.11 (admin, town, enterprise)."""
    b = _doc(raw)
    try:
        project_id = int(b.get("project_id"))
    except (TypeError, ValueError):
        raise NotFound(b.get("project_id")) from None
    aid = subsidies.create_application(p.uow, actor, project_id, str(b.get("clause") or ""), _address(request))
    return _json(subsidies.get_application(p.uow, actor, aid), 201)


@router.get("/applications")
def list_applications(
    actor: ActorDep,
    p: PlatformDep,
    status: str | None = None,
    clause: str | None = None,
    town: str | None = None,
    credit_code: str | None = None,
    page: int = Query(1, ge=1),
    per_page: int = Query(50, ge=1, le=200),
) -> Response:
    """Applications in your scope, newest first (filters: status, clause, town, credit_code; paged)."""
    return _json(subsidies.list_applications(p.uow, actor, status, clause, town, credit_code, page, per_page))


@router.get("/applications/{application_id}")
def get_application(application_id: int, actor: ActorDep, p: PlatformDep) -> Response:
    """One application: amount, parts, explanation snapshot, parameters version, audit trail and your moves."""
    return _json(subsidies.get_application(p.uow, actor, application_id))


@router.post(
    "/applications/{application_id}/{action}",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {"type": "object", "example": {"note": "材料齐全", "reference": "LHCZ-2023-0012"}}
                }
            }
        }
    },
)
def application_action(
    application_id: int, action: str, request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep
) -> Response:
    """A move: submit | start_review | approve | reject | pay | revise | withdraw | recompute.

    ``reject`` needs a note, ``pay`` a reference; ``recompute`` is for drafts only.
    """
    b = _doc(raw)
    subsidies.act(p.uow, actor, application_id, action, b.get("note"), b.get("reference"), _address(request))
    return _json(subsidies.get_application(p.uow, actor, application_id))
