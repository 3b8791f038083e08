"""清单 pages (the campaign registers, A.3): the kinds with their counts, a kind's board and list (filters, sorting,
Excel export), the form to add an entry, the import of a register kept in Excel, and one entry with its facts,
plan, timeline, attachments and next moves.

Every page calls the campaign services (``services/campaign``); the scope is theirs: a town sees and acts on its
town, an enterprise sees its own entries and adds evidence, a department acts where it is the responsible unit.
Moves into a final state (关停退出, 销号, 不予列入…) are asked first (``form[data-confirm]``, ``confirm=1``);
without the confirmation a page says what the move would do, and nothing is done.
"""

from __future__ import annotations

import collections
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from ...core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem, TooLarge
from ...core.mujun.indicators import LABELS, UNITS
from ...registers.kinds import Kind
from ...registers.roles import Actor
from ...services import attachments
from ...services.campaign import entries, export, imports, views
from ...services.campaign.common import KINDS, kind_of
from .. import figures
from ..api.registers import Reader, entry_filter, upload_of
from ..app import render
from ..i18n import t
from ..limits import IdPath
from ..security import ActorDep, FormDep, PlatformDep, client_address, language

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILTERS = ("town", "category", "state", "overdue", "responsible_unit")
BOARD_LIMIT = 12
"""Most cards a board column shows (the list shows every entry)."""
SORTS = ("enterprise", "town", "category", "state", "deadline", "opened", "unit")
IGNORED_SHOWN = 20
"""Most ignored columns of an import the list names (the API and the CLI list them all)."""


def _name(d: dict[str, Any], stem: str, lang: str) -> str:
    return str(d.get(f"{stem}_{lang}") or d.get(f"{stem}_zh") or "")


@router.get("/registers")
def kinds_page(request: Request, actor: ActorDep, p: PlatformDep) -> Response:
    """The six kinds, each with its count per state and how many are overdue (within the caller's scope)."""
    found = views.list_entries(p.uow, actor)
    per_kind: dict[str, collections.Counter] = {k: collections.Counter() for k in KINDS}
    overdue: collections.Counter = collections.Counter()
    for e in found:
        per_kind[e["kind"]][e["status"]] += 1
        overdue[e["kind"]] += bool(e["overdue"])
    return render(request, "registers/index.html", kinds=list(KINDS.values()), counts=per_kind, overdue=overdue)


def _sorted(found: list[dict[str, Any]], sort: str, lang: str) -> list[dict[str, Any]]:
    key = sort.lstrip("-")
    if key not in SORTS:
        return found
    pick = {
        "enterprise": lambda e: e["enterprise_name"] or "",
        "town": lambda e: _name(e, "town", lang),
        "category": lambda e: _name(e, "category", lang),
        "state": lambda e: list(KINDS[e["kind"]].workflow.states).index(e["status"]),
        "deadline": lambda e: e["deadline"] or dt.date.max,
        "opened": lambda e: e["opened"],
        "unit": lambda e: _name(e, "unit", lang),
    }[key]
    return sorted(found, key=pick, reverse=sort.startswith("-"))


@router.get("/registers/{kind}")
def kind_page(
    request: Request,
    kind: str,
    actor: ActorDep,
    p: PlatformDep,
    view: str = "board",
    town: str = "",
    category: str = "",
    state: str = "",
    overdue: str = "",
    responsible_unit: str = "",
    sort: str = "",
    imported: str = "",
    moved: str = "",
    ignored: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """A kind's entries as a board (a column per state) or a sortable list, with filters and the Excel export; for
    the roles that add entries, the buttons to add one and to import a register kept in Excel (``imported``: how
    many entries an import just created, said at the top). The list of one state offers the moves the role may make
    from it for many entries at once (``moved``: how many a bulk move just moved)."""
    chosen = {
        "town": town,
        "category": category,
        "state": state,
        "overdue": overdue,
        "responsible_unit": responsible_unit,
    }
    shown = {
        "imported": _count(imported),
        "moved": _count(moved),
        "ignored": [str(h)[:60] for h in (ignored or [])[:IGNORED_SHOWN]],
    }
    return _kind_response(request, p, actor, kind, view, chosen, sort, **shown)


def _count(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 7 else None


def _kind_response(
    request: Request,
    p: Any,
    actor: Actor,
    kind: str,
    view: str,
    chosen: dict[str, str],
    sort: str,
    status: int = 200,
    **shown: Any,
) -> Response:
    k = kind_of(kind)
    lang = language(request)
    f = entry_filter(k.key, *(chosen[name] for name in FILTERS))
    found = _sorted(views.list_entries(p.uow, actor, f), sort, lang)
    query = "&".join(f"{name}={value}" for name, value in chosen.items() if value)
    columns = [(s, [e for e in found if e["status"] == s.key]) for s in k.workflow.states.values()]
    listed = "list" if view == "list" else "board"
    return render(
        request,
        "registers/kind.html",
        status_code=status,
        k=k,
        view=listed,
        entries=found,
        columns=[(s, items) for s, items in columns if items or not s.terminal],
        chosen=chosen,
        query=query,
        sort=sort,
        sorts=SORTS,
        board_limit=BOARD_LIMIT,
        towns=figures.towns(lang) if actor.sees_all_enterprises else [],
        may_add=_may_add(actor, k),
        bulk=bulk_forms(k, actor, chosen["state"], lang) if listed == "list" and found else [],
        bulk_max=entries.BULK_MAX,
        **{"imported": None, "moved": None, "ignored": [], "bulk_problems": [], "posted": {}, "failed": None, **shown},
    )


def bulk_forms(k: Kind, actor: Actor, state: str, lang: str) -> list[dict[str, Any]]:
    """The moves ``actor``'s role may make from ``state`` for many entries at once, as forms (as an entry's page has
    them); none without a chosen state, and none that needs documents or targets (those are one entry's work)."""
    if state not in k.workflow.states:
        return []
    moves = [
        {"action": m.action, "zh": m.zh, "en": m.en, "requires": list(m.requires), "accepts": list(m.accepts)}
        for m in k.workflow.available(actor, state)
        if not m.evidence and all(k.workflow.fields[f].kind not in ("targets", "attachments") for f in m.requires)
    ]
    return [
        {**f, "fields": [fd for fd in f["fields"] if fd["kind"] != "targets"]}
        for f in move_forms(k, {"moves": moves, "status": state}, lang)
    ]


@router.post("/registers/{kind}/moves")
def bulk_move(request: Request, kind: str, actor: ActorDep, p: PlatformDep, form: FormDep) -> Response:
    """The same move for the entries ticked in a state's list, all or none; a move into a final state needs
    ``confirm=1`` (the page's dialog sets it). Done: back to the list, saying how many moved; else the list again
    with every entry the move cannot take."""
    k = kind_of(kind)
    state = str(form.get("state") or "")
    action = str(form.get("action") or "")
    chosen = {name: str(form.get(f"filter_{name}") or "") for name in FILTERS}
    chosen["state"] = state
    ids = [int(v) for v in form.getlist("entry") if str(v).isdigit() and len(str(v)) < 11]
    given = _given(form, k, action, state)
    target = k.workflow.move(action, state)
    final = bool(target and k.workflow.states[target.target].terminal)
    lang = language(request)
    posted = {key: str(v) for key, v in form.items() if key not in ("csrf_token", "entry")}
    try:
        if final and str(form.get("confirm") or "") != "1":
            raise InvalidInput(
                [Problem("not_confirmed", "confirm", None, "", "", "", t("registers.bulk.unconfirmed", "zh"),
                         t("registers.bulk.unconfirmed", "en"))]
            )  # fmt: skip
        moved = entries.move_many(p.uow, actor, k.key, ids, action, given, address=client_address(request))
    except InvalidInput as exc:
        problems = [q.message_zh if lang == "zh" else q.message_en for q in exc.problems]
        return _kind_response(
            request, p, actor, kind, "list", chosen, "", 422, bulk_problems=problems, posted=posted, failed=action
        )
    query = "&".join(f"{name}={value}" for name, value in chosen.items() if value)
    return RedirectResponse(f"/registers/{k.key}?view=list&{query}&moved={len(moved)}", status_code=303)


def _may_add(actor: Actor, k: Kind) -> bool:
    try:
        imports.check_intake(actor, k)
    except Forbidden:
        return False
    return True


@router.get("/registers/{kind}/export.xlsx")
def kind_export(
    request: Request,
    kind: str,
    actor: ActorDep,
    p: PlatformDep,
    town: str = "",
    category: str = "",
    state: str = "",
    overdue: str = "",
    responsible_unit: str = "",
) -> Response:
    """The filtered list as an Excel workbook (the register's columns, Chinese headers with units); audited."""
    f = entry_filter(kind, town, category, state, overdue, responsible_unit)
    content, _ = export.export_list(p.uow, actor, f, address=client_address(request))
    return Response(
        content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="register-{f.kind}.xlsx"'}
    )


def entry_inputs(k: Kind, lang: str) -> list[dict[str, Any]]:
    """The kind's entry fields as inputs of the new-entry form: name, label, input kind (``yes_no``, ``choice``,
    ``date``, ``number``, ``long`` or ``text``), unit, choices, whether required, an example."""
    out = []
    for f in k.fields.values():
        base = f.type.base
        kind = {"bool": "yes_no", "enum": "choice", "date": "date", "decimal": "number", "int": "number"}.get(base)
        out.append(
            {
                "name": f"fields.{f.key}",
                "label": f.zh if lang == "zh" else f.en,
                "kind": kind or ("long" if f.max_length > 200 else "text"),
                "unit": f.unit if lang == "zh" else f.unit_en,
                "choices": list(f.values),
                "required": f.required,
                "max_length": f.max_length,
                "example": f.type.example,
            }
        )
    return out


def _by_field(problems: list[Problem]) -> dict[str, list[Problem]]:
    out: dict[str, list[Problem]] = collections.defaultdict(list)
    for p in problems:
        out[p.where].append(p)
    return dict(out)


def _new_form(request: Request, k: Kind, status_code: int = 200, **kw: Any) -> Response:
    kw.setdefault("posted", {})
    kw.setdefault("problems", {})
    kw.setdefault("general", [])
    return render(
        request, "registers/new.html", status_code=status_code, k=k, inputs=entry_inputs(k, language(request)), **kw
    )


@router.get("/registers/{kind}/new")
def new_entry_page(request: Request, kind: str, actor: ActorDep) -> Response:
    """The form to list an enterprise (or its project) by hand: the firm, the category, the reason and every entry
    field of the kind, typed with its unit (roles of the kind's ``intake.roles`` only)."""
    k = kind_of(kind)
    imports.check_intake(actor, k)
    return _new_form(request, k)


@router.post("/registers/{kind}/new")
def new_entry(request: Request, kind: str, actor: ActorDep, p: PlatformDep, form: FormDep) -> Response:
    """List the entry (``entries.add``) and open its page; on a problem, the form again with each problem at its
    field and the values kept (a code unknown or outside the scope is a problem of the code, in the same words)."""
    k = kind_of(kind)
    posted = {key: str(v) for key, v in form.items() if key != "csrf_token" and isinstance(v, str)}
    code = posted.get("credit_code", "").strip()
    fields = {f: posted.get(f"fields.{f}", "") for f in k.fields}
    project = posted.get("project_id", "").strip()
    try:
        entry_id = entries.add(
            p.uow,
            actor,
            k.key,
            code,
            reason=posted.get("reason"),
            fields=fields,
            project_id=(int(project) if project.isdigit() and len(project) < 10 else -1) if project else None,
            category=posted.get("category") or None,
            address=client_address(request),
        )
    except InvalidInput as exc:
        return _new_form(request, k, 422, posted=posted, problems=_by_field(exc.problems))
    except NotFound:
        zh, en = (t("registers.new.unknown_firm", lang, code=code) for lang in ("zh", "en"))
        expected = (t("registers.new.firm_expected", "zh"), t("registers.new.firm_expected", "en"))
        problem = Problem("unknown_enterprise", "credit_code", code, *expected, imports.EXAMPLE_CODE, zh, en)
        return _new_form(request, k, 422, posted=posted, problems={"credit_code": [problem]})
    except Conflict as exc:
        return _new_form(request, k, 409, posted=posted, general=[(exc.message_zh, exc.message_en)])
    return RedirectResponse(f"/registers/{k.key}/{entry_id}", status_code=303)


def _import_form(request: Request, k: Kind, p: Any, status_code: int = 200, **kw: Any) -> Response:
    kw.setdefault("problems", [])
    return render(
        request,
        "registers/import.html",
        status_code=status_code,
        k=k,
        columns=imports.columns(k),
        max_mb=p.settings.max_upload_mb,
        **kw,
    )


@router.get("/registers/{kind}/template.xlsx")
def import_template(kind: str, actor: Reader) -> Response:
    """The template of the kind's import (headers with units, notes on each column, the lists of values)."""
    k = kind_of(kind)
    return Response(
        imports.template(k.key),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="register-{k.key}-template.xlsx"'},
    )


@router.get("/registers/{kind}/import")
def import_page(request: Request, kind: str, actor: ActorDep, p: PlatformDep) -> Response:
    """What the import does, the template to download, the columns explained, and the upload form."""
    k = kind_of(kind)
    imports.check_intake(actor, k)
    return _import_form(request, k, p)


@router.post("/registers/{kind}/import")
def import_upload(request: Request, kind: str, actor: ActorDep, p: PlatformDep, form: FormDep) -> Response:
    """Import the file; on any problem the page again with a table of every problem (nothing imported), else the
    register's list saying how many entries were created."""
    k = kind_of(kind)
    imports.check_intake(actor, k)
    try:
        data, name = upload_of(form)
        result = imports.import_register(
            p.uow, actor, k.key, data, name, address=client_address(request), max_mb=p.settings.max_upload_mb
        )
    except InvalidInput as exc:
        return _import_form(request, k, p, 422, problems=exc.problems, failed=len(exc.problems) + exc.more)
    except TooLarge as exc:
        problems = getattr(exc, "problems", None) or [
            Problem("too_large", "file", None, "", "", "", exc.message_zh, exc.message_en)
        ]
        return _import_form(request, k, p, 413, problems=problems, failed=len(problems))
    ignored = "".join(f"&ignored={quote(str(h)[:60])}" for h in result["ignored_columns"][:IGNORED_SHOWN])
    return RedirectResponse(f"/registers/{k.key}?view=list&imported={result['created']}{ignored}", status_code=303)


def _field_choices(k: Kind, key: str, choices: tuple[str, ...], lang: str) -> list[tuple[str, str]]:
    """(value, label) of a choice field of a move: categories and units by name, indicators by label."""
    out = []
    for c in choices:
        found = k.category(c) if key == "category" else k.unit(c) if key == "responsible_unit" else None
        label = (found.zh if lang == "zh" else found.en) if found else c
        out.append((c, label))
    return out


def move_forms(k: Kind, e: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The entry's next moves as forms: each field with its label, kind, choices and whether it is required;
    ``final`` when the move ends the loop (asked first)."""
    out = []
    for m in e["moves"]:
        target = k.workflow.move(m["action"], e["status"])
        fields = []
        for key in [*m["requires"], *m["accepts"]]:
            fd = k.workflow.fields[key]
            if fd.kind == "attachments":
                continue
            fields.append(
                {
                    "key": key,
                    "label": fd.zh if lang == "zh" else fd.en,
                    "kind": fd.kind,
                    "required": key in m["requires"],
                    "max_length": fd.max_length,
                    "example": fd.example,
                    "choices": _field_choices(k, key, fd.choices, lang) if fd.kind == "choice" else [],
                    "indicators": [(c, LABELS[c][0 if lang == "zh" else 1], UNITS[c]) for c in fd.choices]
                    if fd.kind == "targets"
                    else [],
                }
            )
        final = bool(target and k.workflow.states[target.target].terminal)
        out.append({**m, "fields": fields, "final": final, "label": m["zh"] if lang == "zh" else m["en"]})
    return out


def _given(form: Any, k: Kind, action: str, status: str) -> dict[str, Any]:
    """A move's fields from the posted form (targets from ``target.<indicator>``)."""
    m = k.workflow.move(action, status)
    keys = [*m.requires, *m.accepts] if m else []
    out: dict[str, Any] = {}
    for key in keys:
        fd = k.workflow.fields[key]
        if fd.kind == "targets":
            values = {c: str(form.get(f"target.{c}") or "").strip() for c in fd.choices}
            out[key] = {c: _number(v) for c, v in values.items() if v}
        elif fd.kind != "attachments":
            out[key] = str(form.get(key) or "")
    return out


def _number(text: str) -> str:
    clean = text.replace(",", "").replace("，", "").strip()
    try:
        return str(Decimal(clean))
    except InvalidOperation:
        return text


def entry_response(
    request: Request, p: Any, actor: Actor, kind: str, entry_id: int, status_code: int = 200, **kw: Any
) -> Response:
    e = views.entry(p.uow, actor, entry_id)
    k = kind_of(kind)
    if e["kind"] != k.key:
        raise_not_found(entry_id)
    lang = language(request)
    return render(
        request,
        "registers/entry.html",
        status_code=status_code,
        k=k,
        e=e,
        forms=move_forms(k, e, lang),
        fields=k.fields,
        indicators={c: (LABELS[c][0 if lang == "zh" else 1], UNITS[c]) for c in LABELS},
        may_attach=attachments.may_upload(actor, k.key, e["status"]),
        kinds=attachments.kinds_of(k.key),
        max_attachment_mb=p.settings.max_attachment_mb,
        **kw,
    )


def raise_not_found(entry_id: Any) -> None:
    """An entry asked for under another kind is not there (404)."""
    raise NotFound(entry_id)


@router.get("/registers/{kind}/{entry_id}")
def entry_page(request: Request, kind: str, entry_id: IdPath, actor: ActorDep, p: PlatformDep) -> Response:
    """One entry: facts, plan and its targets against data, timeline, attachments, and the caller's next moves."""
    return entry_response(request, p, actor, kind, entry_id)


@router.post("/registers/{kind}/{entry_id}/{action}")
def entry_move(
    request: Request, kind: str, entry_id: IdPath, action: str, actor: ActorDep, p: PlatformDep, form: FormDep
) -> Response:
    """Make a move from the entry's page, then show the entry again. A move into a final state needs ``confirm=1``
    (the page's dialog sets it); without it a page says what the move would do and asks again."""
    e = views.entry(p.uow, actor, entry_id)
    k = kind_of(kind)
    if e["kind"] != k.key:
        raise_not_found(entry_id)
    given = _given(form, k, action, e["status"])
    target = k.workflow.move(action, e["status"])
    final = bool(target and k.workflow.states[target.target].terminal)
    if final and str(form.get("confirm") or "") != "1":
        forms = [f for f in move_forms(k, e, language(request)) if f["action"] == action]
        if forms:
            posted = {key: str(v) for key, v in form.items() if key not in ("csrf_token", "confirm")}
            return render(request, "registers/confirm.html", k=k, e=e, f=forms[0], posted=posted)
    try:
        entries.move(p.uow, actor, entry_id, action, given, address=client_address(request))
    except InvalidInput as exc:
        posted = {key: str(v) for key, v in form.items() if key != "csrf_token"}
        return entry_response(
            request, p, actor, kind, entry_id, 422, failed=action, move_problems=exc.problems, posted=posted
        )
    return RedirectResponse(f"/registers/{k.key}/{entry_id}", status_code=303)
