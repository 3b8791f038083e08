"""The campaign registers (清单, A.3): the kinds, the entries of a kind (filtered), one entry with its history,
attachments, target check and next moves, a person's addition (with a reason), a move, the Excel export, and the
import of a register kept in Excel (its template; every row checked, all imported or none).

Scope is the services': a town sees and acts on its own town's entries, an enterprise sees its own, a department
acts where it is the responsible unit. An entry outside the caller's scope is 404; a move the caller may not make
is 403; a move the state or a condition does not allow is 409; missing or wrong fields are 422, all listed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from ...core.errors import InvalidInput, NotFound, Problem
from ...registers.roles import Actor
from ...services.campaign import entries, export, imports, views
from ...services.campaign.common import KINDS, kind_of
from ..limits import IdPath
from ..security import ActorDep, BodyDep, FormDep, PlatformDep, client_address, require
from .imports import FILE_UPLOAD
from .subsidies import _doc, _json

router = APIRouter(prefix="/api/v1", tags=["registers"])
Reader = Annotated[Actor, require("read")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _body(example: dict[str, Any]) -> dict[str, Any]:
    """The documented JSON body of a write (an object; its fields are read by the route)."""
    return {"requestBody": {"content": {"application/json": {"schema": {"type": "object", "example": example}}}}}


def kind_public(key: str) -> dict[str, Any]:
    """A kind as the API shows it: key, clause, names, states, categories, units, fields, evidence."""
    k = KINDS[key]
    return {
        "key": k.key,
        "clause": k.clause,
        "zh": k.zh,
        "en": k.en,
        "cycle": k.cycle,
        "states": [{"key": s.key, "zh": s.zh, "en": s.en, "terminal": s.terminal} for s in k.workflow.states.values()],
        "categories": [{"key": c.key, "zh": c.zh, "en": c.en} for c in k.categories],
        "responsible_units": [{"key": u.key, "zh": u.zh, "en": u.en} for u in k.units],
        "fields": [
            {"key": f.key, "zh": f.zh, "en": f.en, "unit": f.type.unit, "required": f.required}
            for f in k.fields.values()
        ],
        "evidence": [{"key": e, "zh": zh, "en": en} for e, (zh, en) in k.evidence.items()],
    }


def entry_filter(
    kind: str, town: str | None, category: str | None, state: str | None, overdue: str | None, unit: str | None
) -> views.EntryFilter:
    """The filter of a list (``overdue``: ``true``/``1`` or ``false``/``0``; anything else is no filter)."""
    flag = {"true": True, "1": True, "false": False, "0": False}.get(str(overdue or "").lower())
    return views.EntryFilter(
        kind=kind_of(kind).key,
        town=town or None,
        category=category or None,
        state=state or None,
        overdue=flag,
        responsible_unit=unit or None,
    )


def _same_kind(e: dict[str, Any], kind: str) -> dict[str, Any]:
    if e["kind"] != kind_of(kind).key:
        raise NotFound(e["id"])
    return e


@router.get("/registers")
def list_kinds(actor: Reader) -> Response:
    """The register kinds, in the order of their clauses, with their states, categories, units and fields."""
    return _json({"kinds": [kind_public(k) for k in KINDS]})


@router.get("/registers/{kind}")
def list_kind_entries(
    kind: str,
    actor: ActorDep,
    p: PlatformDep,
    town: str | None = None,
    category: str | None = None,
    state: str | None = None,
    overdue: str | None = None,
    responsible_unit: str | None = None,
) -> Response:
    """The entries of a kind in your scope (filters: town name or code, category, state, overdue, responsible unit)."""
    f = entry_filter(kind, town, category, state, overdue, responsible_unit)
    found = views.list_entries(p.uow, actor, f)
    return _json({"kind": f.kind, "items": found, "total": len(found)})


@router.get("/registers/{kind}/export.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def export_kind(
    kind: str,
    request: Request,
    actor: ActorDep,
    p: PlatformDep,
    town: str | None = None,
    category: str | None = None,
    state: str | None = None,
    overdue: str | None = None,
    responsible_unit: str | None = None,
) -> Response:
    """The filtered list of a kind as an Excel workbook (Chinese headers with units); the export is audited."""
    f = entry_filter(kind, town, category, state, overdue, responsible_unit)
    content, _ = export.export_list(p.uow, actor, f, address=client_address(request))
    return Response(
        content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="register-{f.kind}.xlsx"'}
    )


def upload_of(form: Any) -> tuple[bytes, str]:
    """The file of a posted form (field ``file``) and its name.

    Raises:
        InvalidInput: no file was sent.
    """
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(
            [
                Problem(
                    "missing_input",
                    "file",
                    None,
                    "一个 Excel 文件（.xlsx）",
                    "an Excel file (.xlsx)",
                    "清单.xlsx",
                    "请选择要导入的 Excel 文件（表单字段 file）。",
                    "Choose the Excel file to import (form field `file`).",
                )
            ]
        )
    return upload.file.read(), upload.filename or ""  # a plain def (in the threadpool): read synchronously


@router.get("/registers/{kind}/template.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def import_template(kind: str, actor: Reader) -> Response:
    """The Excel template of a register's import: a header row with the Chinese names and units, the notes on each
    column (what it takes, an example) and the lists of categories, states and responsible units."""
    k = kind_of(kind)
    return Response(
        imports.template(k.key),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="register-{k.key}-template.xlsx"'},
    )


@router.post(
    "/registers/{kind}/import",
    status_code=201,
    openapi_extra=FILE_UPLOAD,
)
def import_entries(kind: str, request: Request, actor: ActorDep, p: PlatformDep, form: FormDep) -> Response:
    """Import a register kept in Excel (field ``file``, the template's columns; limit ``TENGLONG_MAX_UPLOAD_MB``):
    every row is checked first; any problem is a 422 listing all of them (each with its row and column in
    ``context``) and nothing is imported; else 201 with ``created`` and the new ``entries``."""
    k = kind_of(kind)
    imports.check_intake(actor, k)
    data, name = upload_of(form)
    result = imports.import_register(
        p.uow, actor, k.key, data, name, address=client_address(request), max_mb=p.settings.max_upload_mb
    )
    return _json(result, 201)


@router.post(
    "/registers/{kind}/entries",
    status_code=201,
    openapi_extra=_body({"credit_code": "913310821003686548", "reason": "实地排摸发现"}),
)
def add_entry(kind: str, request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep) -> Response:
    """List an enterprise (or its project) on a register by hand: ``credit_code``, ``reason`` (required),
    ``category``, ``project_id``, ``fields`` (the kind's entry fields)."""
    b = _doc(raw, credit_code="text", reason="text", category="text", project_id="id", fields="object")
    entry_id = entries.add(
        p.uow,
        actor,
        kind_of(kind).key,
        str(b.get("credit_code") or ""),
        reason=b.get("reason"),
        fields=b.get("fields"),
        project_id=b.get("project_id"),
        category=b.get("category") or None,
        address=client_address(request),
    )
    return _json(views.entry(p.uow, actor, entry_id), 201)


@router.post(
    "/registers/{kind}/moves",
    openapi_extra=_body({"action": "confirm", "entries": [12, 15], "note": "年度更新批量建档"}),
)
def move_entries(kind: str, request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep) -> Response:
    """Make the same move of many entries at once (``action``, ``entries``: 1 to 500 entry ids, and the move's fields
    — ``reason``, ``note``…, the same for every entry): all of them or none, each audited as its own move. 404 when
    any entry is outside your scope or of another kind; 422 listing every entry the move cannot take (where
    ``entries[i]``, said with its enterprise) — nothing moved; else how many moved and each entry's new state."""
    b = _doc(raw, action="text")
    k = kind_of(kind)
    given = {key: v for key, v in b.items() if key not in ("action", "entries")}
    moved = entries.move_many(
        p.uow, actor, k.key, b.get("entries"), str(b.get("action") or ""), given, address=client_address(request)
    )
    return _json({"moved": len(moved), "entries": moved})


@router.get("/registers/{kind}/entries/{entry_id}")
def get_entry(kind: str, entry_id: IdPath, actor: ActorDep, p: PlatformDep) -> Response:
    """One entry: facts, plan, the targets checked against data, history (Beijing times), attachments, your moves."""
    return _json(_same_kind(views.entry(p.uow, actor, entry_id), kind))


@router.post(
    "/registers/{kind}/entries/{entry_id}/{action}",
    openapi_extra=_body(
        {
            "category": "renovation",
            "measures": "淘汰燃煤锅炉，新增自动化产线",
            "targets": {"tax_per_mu": "5"},
            "deadline": "2023-12-31",
            "responsible_unit": "economy_bureau",
        }
    ),
)
def entry_move(
    kind: str, entry_id: IdPath, action: str, request: Request, actor: ActorDep, p: PlatformDep, raw: BodyDep
) -> Response:
    """Make a move of the entry's loop: the move's fields as a JSON object (``reason``, ``note``, ``category``,
    ``measures``, ``targets`` as ``{indicator: value}``, ``deadline``, ``responsible_unit``, ``opinion``…) and
    ``fields`` (entry fields to record with it)."""
    b = _doc(raw, fields="object")
    _same_kind(views.entry(p.uow, actor, entry_id), kind)
    given = {k: v for k, v in b.items() if k != "fields"}
    entries.move(p.uow, actor, entry_id, action, given, fields=b.get("fields"), address=client_address(request))
    return _json(views.entry(p.uow, actor, entry_id))
