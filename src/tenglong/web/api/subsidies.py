"""Projects and 补助申请 (subsidy applications): create, compute, and the workflow.

The workflow: submit → review → approve/reject → pay.

Money is returned as exact decimal text (``"1234567.90"``). Scope: an object of
an enterprise the caller may not see is 404; a move the role may not make is
403; a move the application's state does not allow is 409.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ...core.errors import InvalidInput, Problem
from ...services.enterprises import lifecycle, projects
from ...services.subsidies import applications as subsidies
from ..limits import MAX_ID, IdPath, PageQuery, read_json
from ..security import ActorDep, BodyDep, PlatformDep, client_address, language
from .evaluation_schemas import utc

router = APIRouter(prefix="/api/v1", tags=["projects and applications"])

_PROJECT_EXAMPLE = {
    "credit_code": "91331082MA2AB3CF7N",
    "name": "数控化改造项目",
    "application_date": "2023-03-01",
    "inputs": {"total_investment": 15000000, "equipment_investment": 8000000, "is_2513_enterprise": False},
}


def _json(data: Any, status: int = 200) -> Response:
    """JSON with exact decimals as text, dates in ISO form and times in UTC with their offset."""
    text = json.dumps(data, ensure_ascii=False, default=_plain)
    return Response(text, status_code=status, media_type="application/json")


def _plain(o: Any) -> str:
    if isinstance(o, Decimal):
        return str(o)
    if isinstance(o, dt.datetime):
        return utc(o).isoformat()
    return o.isoformat() if hasattr(o, "isoformat") else str(o)


FIELDS = {
    # field: (accepts, expected zh, expected en, example)
    "text": (lambda v: isinstance(v, str), "文本（加引号）", "text (in quotes)", '"数控化改造项目"'),
    "object": (
        lambda v: isinstance(v, dict),
        "以输入项为键的 JSON 对象",
        "a JSON object keyed by input name",
        '{"total_investment": 15000000}',
    ),
    "amount": (
        lambda v: isinstance(v, (str, int, Decimal)) and not isinstance(v, bool),
        "金额（元）：数字或数字文本",
        "an amount in yuan: a number or decimal text",
        '"750000.00"',
    ),
    "id": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ID,
        f"1 至 {MAX_ID} 的整数（不加引号）",
        f"an integer from 1 to {MAX_ID} (without quotes)",
        "1",
    ),
}
"""The types a hand-read body field may have."""


def _doc(raw: bytes, **fields: str) -> dict[str, Any]:
    """The JSON object of a request body ({} when empty), each of ``fields`` (name → a kind of ``FIELDS``) of its type.

    Raises:
        MalformedJson: the body is not JSON (400).
        InvalidInput: refused JSON, a body that is not an object, or a field of the wrong type, each named (422).
    """
    doc = read_json(raw) if raw.strip() else {}
    if not isinstance(doc, dict):
        raise InvalidInput(
            [
                Problem(
                    "not_an_object",
                    "$",
                    _shown(doc),
                    "JSON 对象",
                    "a JSON object",
                    json.dumps(_PROJECT_EXAMPLE, ensure_ascii=False)[:80],
                    "请求内容必须是 JSON 对象。",
                    "The request body must be a JSON object.",
                )
            ]
        )
    problems = []
    for name, kind in fields.items():
        value = doc.get(name)
        accepts, zh, en, example = FIELDS[kind]
        if value is not None and not accepts(value):
            problems.append(
                Problem(
                    "wrong_type",
                    name,
                    _shown(value),
                    zh,
                    en,
                    example,
                    f"字段 {name} 应为{zh}。",
                    f"The field {name} must be {en}.",
                )
            )
    if problems:
        raise InvalidInput(problems)
    return doc


def _shown(value: Any) -> str:
    """A value as a problem shows it (JSON text, at most 80 characters)."""
    return json.dumps(value, ensure_ascii=False, default=str)[:80]


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
    b = _doc(raw, credit_code="text", name="text", application_date="text", inputs="object")
    pid = projects.create_project(
        p.uow,
        actor,
        str(b.get("credit_code") or ""),
        str(b.get("name") or ""),
        b.get("application_date"),
        b.get("inputs") or {},
        client_address(request),
    )
    return _json(projects.get_project(p.uow, actor, pid), 201)


@router.get("/projects/{project_id}")
def get_project(project_id: IdPath, actor: ActorDep, p: PlatformDep) -> Response:
    """A project with its inputs and applications."""
    return _json(projects.get_project(p.uow, actor, project_id))


@router.patch(
    "/projects/{project_id}",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "example": {"name": "数控化改造项目（二期）", "inputs": {"total_investment": 16000000}},
                    }
                }
            }
        }
    },
)
def update_project(project_id: IdPath, request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep) -> Response:
    """Change a project's name, date or inputs (only while its applications are drafts; else 409)."""
    b = _doc(raw, name="text", application_date="text", inputs="object")
    projects.update_project(
        p.uow, actor, project_id, b.get("name"), b.get("application_date"), b.get("inputs"), client_address(request)
    )
    return _json(projects.get_project(p.uow, actor, project_id))


@router.post("/projects/{project_id}/compute")
def compute_project(project_id: IdPath, request: Request, actor: ActorDep, p: PlatformDep) -> Response:
    """The calculation answer of a project (the calculate contract).

    With the enterprise's class and the projects counted against the 2.10 cap.
    """
    return _json(projects.compute(p.uow, actor, project_id, language(request)))


@router.post(
    "/projects/{project_id}/lifecycle/{action}",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "example": {"accepted_on": "2024-06-30", "actual_investment": "15200000.00"},
                    }
                }
            }
        }
    },
)
def lifecycle_move(
    project_id: IdPath, action: str, request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep
) -> Response:
    """Record a stage of the project's life cycle (A.4.2): start | complete | produce | accept; or ``correct`` what
    was recorded.

    Each needs its date (``started_on``, ``completed_on``, ``producing_on``, ``accepted_on``; not in the future, not
    before an earlier stage's); ``accept`` also the ``actual_investment`` in yuan and optionally ``actual_plot_ratio``
    and an ``opinion``. ``correct`` takes new values of stages already reached and a ``reason`` (the stage stays;
    audited with each value before and after). Town (its own town), department and admin; the project with its life
    cycle after it.
    """
    b = _doc(raw, reason="text", **dict.fromkeys(lifecycle.WORKFLOW.fields, "amount"))
    if action == lifecycle.CORRECT:
        lifecycle.correct(p.uow, actor, project_id, b, address=client_address(request))
        return _json(projects.get_project(p.uow, actor, project_id))
    lifecycle.move(p.uow, actor, project_id, action, b, address=client_address(request))
    return _json(projects.get_project(p.uow, actor, project_id))


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
    b = _doc(raw, project_id="id", clause="text")
    project_id = b.get("project_id")
    if project_id is None:
        _, zh, en, example = FIELDS["id"]
        raise InvalidInput(
            [
                Problem(
                    "missing_input",
                    "project_id",
                    None,
                    zh,
                    en,
                    example,
                    "请给出项目编号 project_id。",
                    "Give the project's id, project_id.",
                )
            ]
        )
    aid = subsidies.create_application(p.uow, actor, project_id, b.get("clause") or "", client_address(request))
    return _json(subsidies.get_application(p.uow, actor, aid), 201)


@router.get("/applications")
def list_applications(
    actor: ActorDep,
    p: PlatformDep,
    status: str | None = None,
    clause: str | None = None,
    town: str | None = None,
    credit_code: str | None = None,
    page: PageQuery = 1,
    per_page: int = Query(50, ge=1, le=200),
) -> Response:
    """Applications in your scope, newest first (filters: status, clause, town, credit_code; paged)."""
    return _json(subsidies.list_applications(p.uow, actor, status, clause, town, credit_code, page, per_page))


@router.get("/applications/{application_id}")
def get_application(application_id: IdPath, actor: ActorDep, p: PlatformDep) -> Response:
    """One application: amount, parts, explanation snapshot, parameters version, audit trail and your moves."""
    return _json(subsidies.get_application(p.uow, actor, application_id))


@router.post(
    "/applications/{application_id}/{action}",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "example": {
                            "note": "材料齐全",
                            "reference": "LHCZ-2023-0012",
                            "approved_amount": "750000.00",
                            "reason": "部分设备发票日期早于项目备案",
                        },
                    }
                }
            }
        }
    },
)
def application_action(
    application_id: IdPath, action: str, request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep
) -> Response:
    """A move: submit | start_review | recommend | approve | reject | pay | revise | withdraw | recompute.

    ``recommend`` needs an ``opinion`` and a ``recommended_amount``; ``approve`` takes an ``approved_amount`` (default:
    the computed amount; never higher; lower only with a ``reason``); ``reject`` (return for revision) needs a note,
    ``pay`` a reference; ``recompute`` is for drafts only. Amounts are decimal text or numbers, in yuan.
    """
    b = _doc(
        raw,
        note="text",
        reference="text",
        opinion="text",
        reason="text",
        recommended_amount="amount",
        approved_amount="amount",
    )
    more = {k: b.get(k) for k in ("opinion", "reason", "recommended_amount", "approved_amount")}
    subsidies.act(
        p.uow, actor, application_id, action, b.get("note"), b.get("reference"), client_address(request), more
    )
    return _json(subsidies.get_application(p.uow, actor, application_id))
