"""补助申请: the closed loop of 2.10 / 2.11 money, from a computed project to payment.

An application stores the amount computed for its project (exact ``Decimal``),
the amount's parts, the full explanation snapshot (zh and en explanation dicts,
the request, the counted projects, the class used) and the parameters version.
It is recomputed only in draft; once submitted it never changes. Moves follow
the ``subsidy_application`` workflow (``registers/workflows/``) and each is an
audited event with the status before and after, in the same transaction as the
change. Approval records the amounts granted in the money ledger (after the
yearly cap check, under a lock on the enterprise), payment the amounts paid.

Scope: an application is visible to whoever sees its enterprise; outside that it
does not exist (404). A move the role may not make is 403; a move the state does
not allow is 409.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...adapters.db.tables import audit_log, enterprises, projects, subsidy_applications, users
from ...adapters.tabular.applications_sheet import applications_workbook
from ...core import loader
from ...core.errors import Conflict, InvalidInput, Problem
from ...core.reference_data import towns
from ...registers import events, workflows
from ...registers.roles import Actor
from ..enterprises.projects import (
    ENTERPRISE_INPUTS,
    OUTPUTS,
    calculate_project,
    draft_project,
    insert_project,
    project_inputs,
    visible_project,
)
from ..evaluation.runs import parameters_version
from ..kernel.scope import enterprise_scope, require, visible_enterprise, visible_record
from ..kernel.uow import UnitOfWork, now
from . import caps, ledger

CLAUSES = ("2.10", "2.11")
WORKFLOW = workflows.load("subsidy_application")
OUTPUTS_PAID = {"2.10": ("tech_renovation_subsidy", "key_project_reward_2513"), "2.11": ("vertical_industry_reward",)}
"""The outputs of each clause that are money paid to the enterprise (one ledger row each)."""
STATES = tuple(WORKFLOW.states)
CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    """A contract money value (a JSON number with at most two decimals) as an exact Decimal."""
    return Decimal(repr(value) if isinstance(value, float) else str(value or 0)).quantize(CENT)


def _ineligible(clause: str, because: list[str]) -> InvalidInput:
    zh = f"按第 {clause} 项计算，本项目可得金额为 0，不能申请。" + ("（" + "；".join(because) + "）" if because else "")
    return InvalidInput(
        [
            Problem(
                "not_eligible",
                "clause",
                clause,
                "可得金额大于 0 的条款",
                "a clause that pays something",
                "2.10",
                zh,
                f"Under clause {clause} the project gets nothing; there is nothing to apply for.",
            )
        ]
    )


def snapshot(conn: Connection, project, clause: str, allow_zero: bool = False) -> dict[str, Any]:
    """Amount, its parts and the explanation snapshot of ``project`` under ``clause``.

    Raises:
        InvalidInput: the clause's inputs are missing, or the amount is 0 (unless ``allow_zero``).
    """
    if clause not in CLAUSES:
        raise InvalidInput(
            [
                Problem(
                    "invalid_clause",
                    "clause",
                    clause,
                    "2.10 或 2.11",
                    "2.10 or 2.11",
                    "2.10",
                    f"条款 {clause} 不能申请补助。",
                    f"No subsidy can be applied for under {clause}.",
                )
            ]
        )
    zh = calculate_project(conn, project, "zh")
    if clause not in zh["clauses"]:
        name = "total_investment / equipment_investment" if clause == "2.10" else "zero_land_renovation"
        raise InvalidInput(
            [
                Problem(
                    "missing_input",
                    f"inputs.{name}",
                    None,
                    "",
                    "",
                    "",
                    f"项目缺少第 {clause} 项的输入（{name}）。",
                    f"The project lacks the inputs of {clause} ({name}).",
                )
            ]
        )
    en = calculate_project(conn, project, "en")
    values = zh["answer"]["projects"][zh["key"]]
    notes_zh = zh["answer"]["explanations"]["projects"][zh["key"]]
    notes_en = en["answer"]["explanations"]["projects"][zh["key"]]
    if clause == "2.10":
        parts = {
            "tech_renovation_subsidy": money(values["tech_renovation_subsidy"]),
            "key_project_reward_2513": money(values["key_project_reward_2513"]),
        }
        detail = {
            "tech_renovation_tier": values["tech_renovation_tier"],
            **{k: str(v) for k, v in parts.items()},
            "counted_projects": zh["counted"],
        }
    else:
        parts = {"vertical_industry_reward": money(values["vertical_industry_reward"])}
        detail = {"vertical_industry_route": values["vertical_industry_route"], **{k: str(v) for k, v in parts.items()}}
    amount = sum(parts.values(), Decimal("0.00"))
    if amount <= 0 and not allow_zero:
        raise _ineligible(
            clause,
            [b for o in OUTPUTS[clause] for b in notes_zh.get(o, {}).get("because", []) if b.startswith("不满足")],
        )
    c = loader.policy()[clause]
    explanation = {
        "zh": {o: notes_zh[o] for o in OUTPUTS[clause]},
        "en": {o: notes_en[o] for o in OUTPUTS[clause]},
        "clause": {
            "id": clause,
            "anchor": c.anchor,
            "title_zh": c.title_zh(),
            "title_en": c.heading_en,
            "text_zh": c.text_zh,
            "text_en": c.text_en,
        },
        "request": zh["request"],
        "counted_projects": zh["counted"],
        "enterprise_class": zh["enterprise_class"],
    }
    return {
        "amount": amount,
        "amount_detail": detail,
        "explanation": explanation,
        "parameters_version": parameters_version(loader.parameters()),
    }


def _after(values: dict[str, Any]) -> dict[str, Any]:
    return {k: values[k] for k in ("status", "amount", "amount_detail", "parameters_version") if k in values}


def create_application(uow: UnitOfWork, actor: Actor, project_id: int, clause: str, address: str | None = None) -> int:
    """Compute the project and store a draft application for ``clause`` (one per project and clause).

    Raises:
        Forbidden (403), NotFound (404), InvalidInput (422), Conflict (409, one exists already).
    """
    require(actor, "apply")
    with uow.write(actor, address) as w:
        project = visible_project(w.conn, actor, project_id)
        return _insert_application(w, actor, project, clause)


def _insert_application(w, actor: Actor, project, clause: str) -> int:
    live = (
        subsidy_applications.c.project_id == project.id,
        subsidy_applications.c.clause == clause,
        subsidy_applications.c.status != "withdrawn",
    )
    existing = w.conn.execute(select(subsidy_applications.c.id).where(*live)).first()
    if existing is not None:
        raise _duplicate(clause, existing.id)
    snap = snapshot(w.conn, project, clause)
    at = now()
    values = {
        "project_id": project.id,
        "credit_code": project.credit_code,
        "clause": clause,
        "status": WORKFLOW.initial,
        **snap,
        "computed_at": at,
        "created_by": actor.id,
        "created_at": at,
        "updated_at": at,
    }
    try:
        with w.conn.begin_nested():  # the unique index on live (project, clause) settles a race of two creators
            aid = int(w.conn.execute(insert(subsidy_applications).values(**values)).inserted_primary_key[0])
    except IntegrityError:
        raise _duplicate(clause, w.conn.execute(select(subsidy_applications.c.id).where(*live)).scalar()) from None
    w.record(events.APPLICATION_CREATE, aid, None, _after(values))
    return aid


def _duplicate(clause: str, existing: int | None) -> Conflict:
    return Conflict(
        f"项目已有第 {clause} 项的补助申请 #{existing}；如需重新申请，请先撤回原申请。",
        f"The project already has a {clause} application (#{existing}); withdraw it first to apply again.",
    )


def apply_for_project(
    uow: UnitOfWork,
    actor: Actor,
    credit_code: str,
    name: str,
    application_date: Any,
    inputs: dict[str, Any],
    clause: str,
    address: str | None = None,
) -> int:
    """Create a project and its draft application in one transaction (nothing is kept if either fails)."""
    require(actor, "apply", "create_project")
    with uow.write(actor, address) as w:
        visible_enterprise(w.conn, actor, credit_code)
        pid = insert_project(w, actor, credit_code, name, application_date, inputs)
        return _insert_application(w, actor, visible_project(w.conn, actor, pid), clause)


def preview(
    uow: UnitOfWork,
    actor: Actor,
    credit_code: str,
    name: str,
    application_date: Any,
    inputs: dict[str, Any],
    clause: str,
    lang: str = "zh",
) -> dict[str, Any]:
    """What an application for an unsaved project would hold (amount may be 0; nothing is stored).

    Raises:
        Forbidden (403), NotFound (404), InvalidInput (422).
    """
    require(actor, "calculate")
    with uow.read() as conn:
        visible_enterprise(conn, actor, credit_code)
        snap = snapshot(conn, draft_project(credit_code, name, application_date, inputs), clause, allow_zero=True)
    return {
        **snap,
        "clause": clause,
        "eligible": snap["amount"] > 0,
        "explanation_lang": snap["explanation"][lang if lang in ("zh", "en") else "zh"],
    }


def unknown_enterprise(credit_code: str) -> Problem:
    """The problem of a credit code that is unknown or outside the actor's scope (the same words for both: nothing
    is revealed).
    """
    return Problem(
        "unknown_enterprise",
        "credit_code",
        credit_code,
        "您范围内企业的统一社会信用代码",
        "the credit code of an enterprise in your scope",
        "913310821003686548",
        f"找不到企业 {credit_code}，或它不在您的管理范围内。",
        f"No enterprise {credit_code} in your scope.",
    )


def input_labels() -> dict[str, dict[str, str]]:
    """Label, unit and type of every project input and 2.10/2.11 output (for showing a project and its amount)."""
    reg = loader.variables()
    out = {}
    for name in (*ENTERPRISE_INPUTS, *project_inputs(), *(o for c in CLAUSES for o in OUTPUTS[c])):
        v = reg.get("enterprises" if name in ENTERPRISE_INPUTS else "projects", name)
        out[name] = {"zh": v.zh, "en": v.en, "unit": v.unit, "type": v.type.name}
    return out


def town_choices(lang: str = "zh") -> list[tuple[str, str]]:
    """(code, name) of every town, for filters."""
    return [(t.code, t.name_zh if lang == "zh" else t.name_en) for t in towns()]


def export_xlsx(uow: UnitOfWork, actor: Actor, status: str | None, clause: str | None, town: str | None) -> bytes:
    """The filtered list (every page) as a workbook with Chinese headers."""
    data = list_applications(uow, actor, status, clause, town, None, 1, 10**9)
    return applications_workbook(data["items"], {k: s.zh for k, s in WORKFLOW.states.items()})


def _visible_application(conn: Connection, actor: Actor, application_id: int):
    return visible_record(conn, actor, subsidy_applications, application_id)


def recompute(uow: UnitOfWork, actor: Actor, application_id: int, address: str | None = None) -> None:
    """Compute a draft application again from its project (409 once submitted)."""
    require(actor, "apply")
    with uow.write(actor, address) as w:
        app = _visible_application(w.conn, actor, application_id)
        if app.status != "draft":
            s = WORKFLOW.state(app.status)
            raise Conflict(
                f"补助申请当前状态为“{s.zh}”，只有草稿可以重新计算。",
                f"The subsidy application is {s.en}; only a draft can be recomputed.",
            )
        snap = snapshot(w.conn, visible_project(w.conn, actor, app.project_id), app.clause)
        w.conn.execute(
            update(subsidy_applications)
            .where(subsidy_applications.c.id == application_id)
            .values(**snap, computed_at=now(), updated_at=now())
        )
        w.record(
            events.APPLICATION_RECOMPUTE,
            application_id,
            {
                "status": app.status,
                "amount": app.amount,
                "amount_detail": app.amount_detail,
                "parameters_version": app.parameters_version,
            },
            {"status": app.status, **_after(snap)},
        )


def _items(app) -> list[tuple[str, Decimal, str | None]]:
    """(output, amount, cap key) of each paid-out part of an application, from its stored amounts."""
    detail = app.amount_detail or {}
    out = []
    for item in OUTPUTS_PAID[app.clause]:
        amount = Decimal(str(detail.get(item) or "0"))
        ordinary = item == "tech_renovation_subsidy" and detail.get("tech_renovation_tier") == "ordinary"
        if amount > 0:
            out.append((item, amount, ledger.ORDINARY_CAP if ordinary else None))
    return out


def _ledger_entries(
    app, kind: str, year: int, reference: str | None = None, note: str | None = None
) -> list[ledger.Entry]:
    return [
        ledger.Entry(
            app.credit_code,
            app.clause,
            item,
            kind,
            amount,
            year,
            "subsidy_application",
            str(app.id),
            app.project_id,
            app.id,
            cap_key,
            reference,
            note,
        )
        for item, amount, cap_key in _items(app)
    ]


def act(
    uow: UnitOfWork,
    actor: Actor,
    application_id: int,
    action: str,
    note: str | None = None,
    reference: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """Make one workflow move (an audited event with the status before and after); ``recompute`` recomputes a draft.

    ``approve`` checks the yearly cap and records the amounts granted in the
    ledger; ``pay`` records the amounts paid, with the payment reference.

    Raises:
        NotFound: unknown action, or the application is outside the actor's scope (404).
        Forbidden: the role may not make this move (403).
        Conflict: the application's state does not allow it, or approving would pass the cap (409).
        InvalidInput: a reject without a note, a payment without a reference, or a field too long (422).
    """
    if action == "recompute":
        recompute(uow, actor, application_id, address)
        return {"id": application_id, "status": "draft", "previous": "draft"}
    with uow.write(actor, address) as w:
        app = _visible_application(w.conn, actor, application_id)
        move, fields = WORKFLOW.check(actor, app.status, action, {"note": note, "reference": reference})
        day = w.conn.execute(select(projects.c.application_date).where(projects.c.id == app.project_id)).scalar_one()
        money_moved: list[ledger.Entry] = []
        if action == "approve":
            ledger.lock_enterprise(w.conn, app.credit_code)
            ordinary = sum((a for _, a, cap in _items(app) if cap == ledger.ORDINARY_CAP), Decimal("0"))
            caps.check_ordinary_cap(w.conn, app.credit_code, day, ordinary, app.id)
            money_moved = _ledger_entries(app, "granted", day.year, note=fields.get("note"))
        elif action == "pay":
            money_moved = _ledger_entries(app, "paid", day.year, fields["reference"], fields.get("note"))
        values: dict[str, Any] = {"updated_at": now()}
        if action in ("approve", "reject"):
            values["decision_note"] = fields.get("note")
        if action == "pay":
            values["paid_reference"] = fields["reference"]
        after = {k: v for k, v in fields.items() if v is not None}
        if money_moved:
            after["ledger"] = [e.as_dict() for e in money_moved]
        w.move(subsidy_applications, application_id, app.status, move, values, after=after)
        ledger.append(w, money_moved)
    return {"id": application_id, "status": move.target, "previous": app.status}


def allowed_actions(actor: Actor, status: str) -> list[str]:
    """The moves this actor may make on an application in ``status`` (for the buttons)."""
    return [m.action for m in WORKFLOW.available(actor, status)]


def _town_names() -> dict[str, tuple[str, str]]:
    return {t.code: (t.name_zh, t.name_en) for t in towns()}


def list_applications(
    uow: UnitOfWork,
    actor: Actor,
    status: str | None = None,
    clause: str | None = None,
    town: str | None = None,
    credit_code: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> dict[str, Any]:
    """Applications in the actor's scope, newest first, filtered and paged (Forbidden without ``read``)."""
    require(actor, "read")
    a, e = subsidy_applications, enterprises
    cond = [enterprise_scope(actor)]
    for col, value in ((a.c.status, status), (a.c.clause, clause), (e.c.town, town), (a.c.credit_code, credit_code)):
        if value:
            cond.append(col == value)
    base = select(a.c.id).join(e, e.c.credit_code == a.c.credit_code).where(*cond)
    page, per_page = max(1, page), max(1, per_page)
    with uow.read() as conn:
        total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        rows = conn.execute(
            select(
                a.c.id,
                a.c.project_id,
                a.c.credit_code,
                a.c.clause,
                a.c.status,
                a.c.amount,
                a.c.created_at,
                a.c.updated_at,
                e.c.name.label("enterprise_name"),
                e.c.town,
                projects.c.name.label("project_name"),
            )
            .join(e, e.c.credit_code == a.c.credit_code)
            .join(projects, projects.c.id == a.c.project_id)
            .where(*cond)
            .order_by(a.c.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
    names = _town_names()
    items = [
        {
            **dict(r._mapping),
            "town_name_zh": names.get(r.town, (r.town, r.town))[0],
            "town_name_en": names.get(r.town, (r.town, r.town))[1],
        }
        for r in rows
    ]
    return {"items": items, "total": total, "page": page, "per_page": per_page, "pages": max(1, -(-total // per_page))}


def get_application(uow: UnitOfWork, actor: Actor, application_id: int) -> dict[str, Any]:
    """One application in scope: project, amount, snapshot, audit trail, and the moves the actor may make.

    Raises:
        Forbidden: without ``read`` (403). NotFound: unknown, or outside the actor's scope (404).
    """
    require(actor, "read")
    with uow.read() as conn:
        app = _visible_application(conn, actor, application_id)
        project = conn.execute(select(projects).where(projects.c.id == app.project_id)).one()
        trail = conn.execute(
            select(
                audit_log.c.id,
                audit_log.c.at,
                audit_log.c.actor,
                audit_log.c.action,
                audit_log.c.before,
                audit_log.c.after,
                users.c.role,
            )
            .outerjoin(users, users.c.id == audit_log.c.actor_id)
            .where(audit_log.c.entity_type == WORKFLOW.entity, audit_log.c.entity_id == str(application_id))
            .order_by(audit_log.c.id)
        ).all()
    names = _town_names().get(app.town, (app.town, app.town))
    return {
        "id": app.id,
        "clause": app.clause,
        "status": app.status,
        "amount": app.amount,
        "amount_detail": app.amount_detail,
        "explanation": app.explanation,
        "parameters_version": app.parameters_version,
        "computed_at": app.computed_at.isoformat(),
        "created_at": app.created_at.isoformat(),
        "updated_at": app.updated_at.isoformat(),
        "decision_note": app.decision_note,
        "paid_reference": app.paid_reference,
        "credit_code": app.credit_code,
        "enterprise_name": app.enterprise_name,
        "town": app.town,
        "town_name_zh": names[0],
        "town_name_en": names[1],
        "project": {
            "id": project.id,
            "name": project.name,
            "application_date": project.application_date.isoformat(),
            "inputs": project.inputs,
        },
        "audit": [
            {
                "id": t.id,
                "at": t.at.isoformat(),
                "actor": t.actor,
                "role": t.role,
                "action": t.action,
                "before": t.before,
                "after": t.after,
            }
            for t in trail
        ],
        "actions": allowed_actions(actor, app.status)
        + (["recompute"] if app.status == "draft" and actor.can("apply") else []),
    }
