"""补助申请: the closed loop of 2.10 / 2.11 money, from a computed project to payment.

An application stores the amount computed for its project (exact ``Decimal``),
the amount's parts, the full explanation snapshot (zh and en explanation dicts,
the request, the counted projects, the class used) and the parameters version.
It is recomputed only in draft; once submitted it never changes. Moves follow
the ``subsidy_application`` workflow (``registers/workflows/``) and each is an
audited event with the status before and after, in the same transaction as the
change.

The money: the department's review (``recommend``) records an opinion and a
recommended amount; the bureau approves an amount (by default the computed one)
that is never higher than the computed amount and, when lower, comes with a
reason. Approval records the approved amount in the money ledger, itemised by the
clause's items (:func:`split`; after the yearly cap check, under a lock on the
enterprise); payment records the same amounts paid, item by item (paid =
approved). The recommendation and the reason live in the audited events of their
moves; the approved and paid amounts are the ledger's.

An application returned for revision (退回修改, the ``reject`` move) is corrected
by its applicant with :func:`revise_application`: every input, the amount
recomputed, and submitted again, in one transaction.

Scope: an application is visible to whoever sees its enterprise; outside that it
does not exist (404). A move the role may not make is 403; a move the state does
not allow is 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
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
from ...registers.workflow import Move
from .. import attachments as attachment_files
from ..enterprises.projects import (
    ENTERPRISE_INPUTS,
    OUTPUTS,
    calculate_project,
    check_inputs,
    checked_name,
    draft_project,
    insert_project,
    project_inputs,
    visible_project,
)
from ..enterprises.projects import follow_up as project_follow_up
from ..evaluation.runs import parameters_version
from ..kernel.scope import enterprise_scope, require, visible_enterprise, visible_record
from ..kernel.uow import UnitOfWork, Writer, now
from . import caps, ledger

CLAUSES = ("2.10", "2.11")
WORKFLOW = workflows.load("subsidy_application")
OUTPUTS_PAID = {"2.10": ("tech_renovation_subsidy", "key_project_reward_2513"), "2.11": ("vertical_industry_reward",)}
"""The outputs of each clause that are money paid to the enterprise (one ledger row each)."""
STATES = tuple(WORKFLOW.states)
CENT = Decimal("0.01")
EDITABLE = ("draft", "rejected")
"""States in which the applicant corrects an application (a draft, or one returned for revision)."""
CONFIRMED = ("approve", "pay", "reject", "withdraw")
"""Moves the pages make only after a confirmation (the form field ``confirm=1``)."""
CHINA = dt.timezone(dt.timedelta(hours=8), "UTC+8")
"""Beijing time, in which every time of the list, the detail page and the export is shown."""
OWNER = attachment_files.register_owner(
    attachment_files.Owner(
        key=WORKFLOW.entity,
        table=subsidy_applications,
        noun_zh=WORKFLOW.noun_zh,
        noun_en=WORKFLOW.noun_en,
        kinds={
            "invoice": ("发票", "invoice"),
            "equipment_list": ("设备清单", "equipment list"),
            "acceptance_report": ("验收报告", "acceptance report"),
            "other": ("其他材料", "other document"),
        },
        open_states=EDITABLE,
        open_zh="草稿或已退回修改",
        open_en="a draft or returned",
        permission="apply",
        sealing_events=("application.submit",),
    )
)
"""Applications take attachments (发票, 设备清单, 验收报告…) while the applicant may change them."""


def beijing(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored time (UTC; SQLite hands it back without a zone) in Beijing time.

    >>> beijing(dt.datetime(2023, 3, 1, 2, 0)).isoformat()
    '2023-03-01T10:00:00+08:00'
    """
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(CHINA)


def _utc_text(moment: dt.datetime) -> str:
    """A stored time as ISO text in UTC with its offset (``2023-03-01T02:00:00+00:00``)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()


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
        application_id = _insert_application(w, actor, visible_project(w.conn, actor, pid), clause)
    project_follow_up(uow)
    return application_id


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


def export_xlsx(uow: UnitOfWork, actor: Actor, status: str | None, clause: str | None, town: str | None) -> bytes:
    """The filtered list (every page) as a workbook with Chinese headers, its times in Beijing time."""
    data = list_applications(uow, actor, status, clause, town, None, 1, 10**9)
    rows = [
        {**r, "created_at": beijing(r["created_at"]), "updated_at": beijing(r["updated_at"])} for r in data["items"]
    ]
    return applications_workbook(rows, {k: s.zh for k, s in WORKFLOW.states.items()})


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
    """(output, amount, cap key) of each paid-out part of an application, from its stored (computed) amounts."""
    detail = app.amount_detail or {}
    out = []
    for item in OUTPUTS_PAID[app.clause]:
        amount = Decimal(str(detail.get(item) or "0"))
        ordinary = item == "tech_renovation_subsidy" and detail.get("tech_renovation_tier") == "ordinary"
        if amount > 0:
            out.append((item, amount, ledger.ORDINARY_CAP if ordinary else None))
    return out


def split(approved: Decimal, items: list[tuple[str, Decimal, str | None]]) -> list[tuple[str, Decimal, str | None]]:
    """Share an approved amount out over the computed items (output, amount, cap key), exactly to the 分.

    Each item gets ``approved × its amount ÷ the computed total``, rounded *down* to the
    分; the few 分 left over (fewer than the number of items) go to the largest item
    (the first of equal ones; should it have no room left, to the next largest). So the
    shares sum to the approved amount to the 分, no share passes what its item computed,
    an approval of the whole computed amount gives every item exactly its own amount,
    and an item whose share is 0 gets no row.

    >>> items = [("tech_renovation_subsidy", Decimal("800000.00"), None),
    ...          ("key_project_reward_2513", Decimal("300000.00"), None)]
    >>> [(i, str(a)) for i, a, _ in split(Decimal("1000000.00"), items)]
    [('tech_renovation_subsidy', '727272.73'), ('key_project_reward_2513', '272727.27')]
    >>> [(i, str(a)) for i, a, _ in split(Decimal("1100000.00"), items)]
    [('tech_renovation_subsidy', '800000.00'), ('key_project_reward_2513', '300000.00')]
    """
    fen = [int(a * 100) for _, a, _ in items]
    total, want = sum(fen), int(approved * 100)
    shares = [want * f // total for f in fen] if total else [0 for _ in fen]
    rest = want - sum(shares)
    for i in sorted(range(len(fen)), key=lambda k: (-fen[k], k)):
        take = min(rest, fen[i] - shares[i])
        shares[i] += take
        rest -= take
    return [
        (item, Decimal(share).scaleb(-2).quantize(CENT), cap)
        for (item, _, cap), share in zip(items, shares, strict=True)
        if share > 0
    ]


def _entries(
    app, kind: str, year: int, parts: list[tuple[str, Decimal, str | None]], reference: str | None, note: str | None
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
        for item, amount, cap_key in parts
    ]


def _granted_parts(conn: Connection, app) -> list[tuple[str, Decimal, str | None]]:
    """What the ledger granted the application, item by item (in the order granted): what its payment pays."""
    parts: dict[str, list] = {}
    for e in ledger.entries(conn, application_id=app.id):
        if e["kind"] == "granted":
            parts.setdefault(e["item"], [e["item"], Decimal("0.00"), e["cap_key"]])[1] += e["amount"]
    return [tuple(v) for v in parts.values()] or _items(app)


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _amount_problems(app, key: str, amount: Decimal | None, reason: str | None) -> list[Problem]:
    """What is wrong with a recommended or approved ``amount`` against the computed one (all at once)."""
    f = WORKFLOW.fields[key]
    computed = Decimal(app.amount)
    problems = []
    if amount is not None and amount > computed:
        problems.append(
            Problem(
                "above_computed",
                key,
                str(amount),
                f"不超过计算金额 {_yuan(computed)} 元",
                f"at most the computed {_yuan(computed)} yuan",
                str(computed),
                f"{f.zh}为 {_yuan(amount)} 元，高于按政策计算的金额 {_yuan(computed)} 元；"
                "补助不能高于计算金额，可以相等或核减。",
                f"The {f.en} of {_yuan(amount)} is above the computed amount of {_yuan(computed)}; "
                "a subsidy may equal it or be lower, never higher.",
            )
        )
    elif amount is not None and amount <= 0:
        problems.append(
            Problem(
                "not_positive",
                key,
                str(amount),
                f"大于 0、不超过 {_yuan(computed)} 元",
                f"above 0 and at most {_yuan(computed)} yuan",
                str(computed),
                f"{f.zh}须大于 0；不予补助的申请请退回修改或由申请人撤回。",
                f"The {f.en} must be above 0; an application that gets nothing is returned or withdrawn.",
            )
        )
    elif key == "approved_amount" and amount is not None and amount < computed and not reason:
        r = WORKFLOW.fields["reason"]
        problems.append(
            Problem(
                "missing_input",
                "reason",
                None,
                r.zh,
                r.en,
                r.example,
                f"核定金额 {_yuan(amount)} 元低于计算金额 {_yuan(computed)} 元，须填写{r.zh}。",
                f"The approved amount of {_yuan(amount)} is below the computed {_yuan(computed)}: give the {r.en}.",
            )
        )
    return problems


@dataclass
class Decision:
    """One move decided (every check passed) and what applying it writes."""

    move: Move
    fields: dict[str, Any]
    year: int
    values: dict[str, Any] = field(default_factory=dict)
    entries: list[ledger.Entry] = field(default_factory=list)
    after: dict[str, Any] = field(default_factory=dict)

    @property
    def amount(self) -> Decimal:
        """The money the move grants or pays (0.00 for the others)."""
        return sum((e.amount for e in self.entries), Decimal("0.00"))


def _decide(conn: Connection, actor: Actor, app, action: str, given: Mapping[str, Any], lock: bool) -> Decision:
    """Check one move of ``app`` (role, state, fields, amounts, the yearly cap) and say what it writes.

    Raises:
        Forbidden, Conflict, InvalidInput (every problem of the fields at once).
    """
    move, fields = WORKFLOW.check(actor, app.status, action, given)
    fields = {k: v.quantize(CENT) if isinstance(v, Decimal) else v for k, v in fields.items()}  # amounts: to the 分
    day = conn.execute(select(projects.c.application_date).where(projects.c.id == app.project_id)).scalar_one()
    d = Decision(move, fields, day.year)
    if action == "recommend":
        bad = _amount_problems(app, "recommended_amount", fields["recommended_amount"], None)
        if bad:
            raise InvalidInput(bad)
    elif action == "approve":
        approved = fields["approved_amount"] if fields.get("approved_amount") is not None else Decimal(app.amount)
        bad = _amount_problems(app, "approved_amount", approved, fields.get("reason"))
        if bad:
            raise InvalidInput(bad)
        reduced = approved < Decimal(app.amount)
        if lock:
            ledger.lock_enterprise(conn, app.credit_code)
        parts = split(approved, _items(app))
        ordinary = sum((a for _, a, cap in parts if cap == ledger.ORDINARY_CAP), Decimal("0"))
        caps.check_ordinary_cap(conn, app.credit_code, day, ordinary, app.id)
        d.fields = {**fields, "approved_amount": approved, "reason": fields.get("reason") if reduced else None}
        d.entries = _entries(app, "granted", day.year, parts, None, d.fields["reason"] or fields.get("note"))
        d.values["decision_note"] = fields.get("note")
        d.after["computed_amount"] = Decimal(app.amount)
    elif action == "reject":
        d.values["decision_note"] = fields.get("note")
    elif action == "pay":
        d.entries = _entries(app, "paid", day.year, _granted_parts(conn, app), fields["reference"], fields.get("note"))
        d.values["paid_reference"] = fields["reference"]
    d.after.update({k: v for k, v in d.fields.items() if v is not None})
    if d.entries:
        d.after["ledger"] = [e.as_dict() for e in d.entries]
    return d


def _given(note: str | None, reference: str | None, fields: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"note": note, "reference": reference, **(fields or {})}


def act(
    uow: UnitOfWork,
    actor: Actor,
    application_id: int,
    action: str,
    note: str | None = None,
    reference: str | None = None,
    address: str | None = None,
    fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Make one workflow move (an audited event with the status before and after); ``recompute`` recomputes a draft.

    ``fields`` carries the other fields of a move: ``opinion`` and ``recommended_amount``
    (``recommend``), ``approved_amount`` and ``reason`` (``approve``). ``approve`` checks the
    amount (never above the computed one; lower only with a reason) and the yearly cap,
    and records the approved amount in the ledger, itemised (:func:`split`); ``pay``
    records the same amounts paid, with the payment reference.

    Raises:
        NotFound: unknown action, or the application is outside the actor's scope (404).
        Forbidden: the role may not make this move (403).
        Conflict: the application's state does not allow it, or approving would pass the cap (409).
        InvalidInput: a missing or invalid field, an amount above the computed one, a lower one without a reason (422).
    """
    if action == "recompute":
        recompute(uow, actor, application_id, address)
        return {"id": application_id, "status": "draft", "previous": "draft"}
    with uow.write(actor, address) as w:
        app = _visible_application(w.conn, actor, application_id)
        d = _decide(w.conn, actor, app, action, _given(note, reference, fields), lock=True)
        w.move(
            subsidy_applications, application_id, app.status, d.move, {"updated_at": now(), **d.values}, after=d.after
        )
        ledger.append(w, d.entries)
    if action == "approve":
        from ..campaign.follow_up import after_approval  # the campaign builds on the subsidies, not the reverse

        after_approval(uow)
    return {"id": application_id, "status": d.move.target, "previous": app.status}


def preview_move(
    uow: UnitOfWork,
    actor: Actor,
    application_id: int,
    action: str,
    note: str | None = None,
    reference: str | None = None,
    fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a move would do, checked as :func:`act` checks it, without doing it (for the confirmation).

    Returns:
        ``action``, ``status`` (the state it would reach), ``fields`` (cleaned), ``year`` (the ledger's budget
        year), ``amount`` (granted or paid; 0.00 for other moves) and ``entries`` (the ledger rows it would write).

    Raises:
        As :func:`act`.
    """
    with uow.read() as conn:
        app = _visible_application(conn, actor, application_id)
        d = _decide(conn, actor, app, action, _given(note, reference, fields), lock=False)
    return {
        "action": action,
        "status": d.move.target,
        "fields": d.fields,
        "year": d.year,
        "amount": d.amount,
        "computed": Decimal(app.amount),
        "entries": [e.as_dict() for e in d.entries],
    }


def allowed_actions(actor: Actor, status: str) -> list[str]:
    """The moves this actor may make on an application in ``status`` (for the buttons)."""
    return [m.action for m in WORKFLOW.available(actor, status)]


def _other_problem(where: str, value: str, zh: str, en: str, expected_zh: str, expected_en: str) -> Problem:
    return Problem("cannot_change", where, value, expected_zh, expected_en, expected_zh, zh, en)


def revise_application(
    uow: UnitOfWork,
    actor: Actor,
    application_id: int,
    name: str,
    application_date: Any,
    inputs: dict[str, Any],
    credit_code: str | None = None,
    clause: str | None = None,
    submit: bool = False,
    address: str | None = None,
) -> dict[str, Any]:
    """Correct a draft or returned application: the project's name, date and every input, the amount recomputed.

    In one transaction: a returned application (已退回修改) moves back to draft
    (``revise``), the project changes (``project.update``), the amount is computed again
    (``application.recompute``) and, with ``submit``, the application is submitted again
    (``submit``) — each an audited event; if anything fails, nothing changes. The
    enterprise and the clause stay those of the application.

    Raises:
        Forbidden (403), NotFound (404), Conflict (409: not a draft or returned application, or another application of
        the project was submitted), InvalidInput (422: every problem of the form at once, or an amount of 0).
    """
    require(actor, "apply", "create_project")
    with uow.write(actor, address) as w:
        app = _visible_application(w.conn, actor, application_id)
        if app.status not in EDITABLE:
            s = WORKFLOW.state(app.status)
            raise Conflict(
                f"补助申请当前状态为“{s.zh}”，只有草稿或已退回修改的申请可以修改。",
                f"The subsidy application is {s.en}; only a draft or a returned one can be corrected.",
            )
        others = set(
            w.conn.execute(
                select(subsidy_applications.c.status).where(
                    subsidy_applications.c.project_id == app.project_id, subsidy_applications.c.id != application_id
                )
            ).scalars()
        )
        if others - {"draft", "withdrawn"}:
            raise Conflict(
                "该项目的另一份补助申请已提交，项目不能再修改。",
                "Another application of this project was submitted; the project can no longer change.",
            )
        problems = []
        if credit_code and credit_code.strip().upper() != app.credit_code:
            problems.append(
                _other_problem(
                    "credit_code",
                    credit_code,
                    f"修改申请时不能更换企业（本申请属于 {app.enterprise_name}）。",
                    f"A correction cannot move the application to another enterprise (it is {app.enterprise_name}'s).",
                    app.credit_code,
                    app.credit_code,
                )
            )
        if clause and clause != app.clause:
            problems.append(
                _other_problem(
                    "clause",
                    clause,
                    f"修改申请时不能更换条款（本申请按第 {app.clause} 项）；如需按其他条款申请，请撤回后新建。",
                    f"A correction keeps the clause ({app.clause}); withdraw it and apply anew for another clause.",
                    app.clause,
                    app.clause,
                )
            )
        try:
            clean_name = checked_name(name)
        except InvalidInput as exc:
            problems += exc.problems
        try:
            draft = draft_project(app.credit_code, "-", application_date, inputs)
        except InvalidInput as exc:
            problems += exc.problems
            if not any(p.where.startswith("inputs.") for p in exc.problems):  # the date was wrong: check the inputs too
                try:
                    check_inputs(inputs)
                except InvalidInput as more:
                    problems += more.problems
        if problems:
            raise InvalidInput(problems)
        if app.status == "rejected":
            _move(w, actor, app.id, "rejected", "revise")
        project = w.conn.execute(select(projects).where(projects.c.id == app.project_id)).one()
        values = {"name": clean_name, "application_date": draft.application_date, "inputs": draft.inputs}
        w.conn.execute(update(projects).where(projects.c.id == project.id).values(**values))
        w.record(
            events.PROJECT_UPDATE,
            project.id,
            {"name": project.name, "application_date": project.application_date, "inputs": project.inputs},
            values,
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
            {"status": "draft", "amount": app.amount, "amount_detail": app.amount_detail},
            {"status": "draft", **_after(snap)},
        )
        if submit:
            _move(w, actor, app.id, "draft", "submit")
    return {"id": application_id, "status": "submitted" if submit else "draft", "amount": snap["amount"]}


def _move(w: Writer, actor: Actor, application_id: int, state: str, action: str) -> None:
    move, _ = WORKFLOW.check(actor, state, action)
    w.move(subsidy_applications, application_id, state, move, {"updated_at": now()})


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
        dishonest = _dishonest(conn, [r.credit_code for r in rows])
    names = _town_names()
    items = [
        {
            **dict(r._mapping),
            "town_name_zh": names.get(r.town, (r.town, r.town))[0],
            "town_name_en": names.get(r.town, (r.town, r.town))[1],
            "dishonest": r.credit_code in dishonest,
        }
        for r in rows
    ]
    return {"items": items, "total": total, "page": page, "per_page": per_page, "pages": max(1, -(-total // per_page))}


def _dishonest(conn: Connection, credit_codes: list[str]) -> dict[str, dict[str, Any]]:
    """The enterprises among ``credit_codes`` on the 严重失信名单 (A.4.2: flagged wherever they appear)."""
    from ..campaign.commitments import listed  # the campaign builds on the subsidies, not the reverse

    return listed(conn, credit_codes)


def _trail(conn: Connection, entity: str, ids: list[str]) -> list[Any]:
    if not ids:
        return []
    return conn.execute(
        select(
            audit_log.c.id,
            audit_log.c.at,
            audit_log.c.actor,
            audit_log.c.action,
            audit_log.c.entity_id,
            audit_log.c.before,
            audit_log.c.after,
            users.c.role,
        )
        .outerjoin(users, users.c.id == audit_log.c.actor_id)
        .where(audit_log.c.entity_type == entity, audit_log.c.entity_id.in_(ids))
        .order_by(audit_log.c.id)
    ).all()


def _review(trail: list[Any]) -> dict[str, Any]:
    """The money decisions read from the audited moves: the recommendation of the current round (after the latest
    submission), the latest approval, and whether the application was ever returned for revision.
    """
    last_submit = max((t.id for t in trail if t.action == "application.submit"), default=0)
    rec = next((t for t in reversed(trail) if t.action == "application.recommend" and t.id > last_submit), None)
    ok = next((t for t in reversed(trail) if t.action == "application.approve"), None)

    def who(t) -> dict[str, Any]:
        return {"by": t.actor, "role": t.role, "at": _utc_text(t.at)}

    return {
        "recommendation": {
            "opinion": rec.after.get("opinion"),
            "amount": Decimal(rec.after["recommended_amount"]),
            **who(rec),
        }
        if rec is not None and rec.after and rec.after.get("recommended_amount") is not None
        else None,
        "approval": {
            "amount": Decimal(ok.after["approved_amount"]) if ok.after.get("approved_amount") else None,
            "reason": ok.after.get("reason"),
            "note": ok.after.get("note"),
            **who(ok),
        }
        if ok is not None and ok.after
        else None,
        "returned": any(t.action == "application.reject" for t in trail),
    }


def get_application(uow: UnitOfWork, actor: Actor, application_id: int) -> dict[str, Any]:
    """One application in scope: project, amounts, snapshot, attachments, audit trail, and the moves the actor may make.

    ``amounts`` holds the computed amount, the department's recommendation (of the current
    round of review), what the ledger granted (approved) and paid — ``None`` where there is none.
    Times are ISO text in UTC with the offset.

    Raises:
        Forbidden: without ``read`` (403). NotFound: unknown, or outside the actor's scope (404).
    """
    require(actor, "read")
    with uow.read() as conn:
        app = _visible_application(conn, actor, application_id)
        project = conn.execute(select(projects).where(projects.c.id == app.project_id)).one()
        files = attachment_files.listing(conn, actor, OWNER.key, application_id, app.status)
        trail = _trail(conn, WORKFLOW.entity, [str(application_id)])
        file_trail = _trail(conn, "attachment", [str(f["id"]) for f in files])
        sums = ledger.balances(conn, application_id=application_id)
        rows = ledger.entries(conn, application_id=application_id)
        dishonest = _dishonest(conn, [app.credit_code]).get(app.credit_code)
    names = _town_names().get(app.town, (app.town, app.town))
    review = _review(trail)
    pol, clause = loader.policy(), loader.policy()[app.clause]
    merged = sorted([*trail, *file_trail], key=lambda t: t.id)
    return {
        "id": app.id,
        "clause": app.clause,
        "status": app.status,
        "amount": app.amount,
        "amount_detail": app.amount_detail,
        "amounts": {
            "computed": app.amount,
            "recommended": review["recommendation"]["amount"] if review["recommendation"] else None,
            "approved": sums["granted"] if any(r["kind"] == "granted" for r in rows) else None,
            "paid": sums["paid"] if any(r["kind"] == "paid" for r in rows) else None,
        },
        "recommendation": review["recommendation"],
        "approval": review["approval"],
        "returned": review["returned"],
        "ledger": [
            {k: r[k] for k in ("id", "kind", "item", "amount", "year", "cap_key", "reference", "note", "actor")}
            | {"at": _utc_text(r["at"])}
            for r in rows
        ],
        "explanation": app.explanation,
        "policy": {
            "number": pol.number,
            "title_zh": pol.title_zh,
            "title_en": pol.title_en,
            "validity_zh": clause.window.text_zh(),
            "validity_en": clause.window.text_en(),
        },
        "year": project.application_date.year,
        "parameters_version": app.parameters_version,
        "computed_at": _utc_text(app.computed_at),
        "created_at": _utc_text(app.created_at),
        "updated_at": _utc_text(app.updated_at),
        "decision_note": app.decision_note,
        "paid_reference": app.paid_reference,
        "credit_code": app.credit_code,
        "enterprise_name": app.enterprise_name,
        "dishonest": dishonest,
        "town": app.town,
        "town_name_zh": names[0],
        "town_name_en": names[1],
        "project": {
            "id": project.id,
            "name": project.name,
            "application_date": project.application_date.isoformat(),
            "inputs": project.inputs,
        },
        "attachments": [
            {
                **f,
                "uploaded_at": _utc_text(f["uploaded_at"]),
                "deleted_at": _utc_text(f["deleted_at"]) if f["deleted_at"] else None,
            }
            for f in files
        ],
        "may_attach": attachment_files.may_upload(actor, OWNER.key, app.status),
        "editable": app.status in EDITABLE and actor.can("apply") and actor.can("create_project"),
        "audit": [
            {
                "id": t.id,
                "at": _utc_text(t.at),
                "actor": t.actor,
                "role": t.role,
                "action": t.action,
                "entity_id": t.entity_id,
                "before": t.before,
                "after": t.after,
            }
            for t in merged
        ],
        "actions": allowed_actions(actor, app.status)
        + (["recompute"] if app.status == "draft" and actor.can("apply") else []),
    }
