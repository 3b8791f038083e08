"""Register entries: a person's addition (with a reason) and every move of an entry's loop, each audited.

A move is decided by the kind's workflow (``registers/workflow.py``): the role may make it, the state allows it,
its conditions hold (``overdue``: the deadline has passed; ``target_met``: the plan's targets checked against the
enterprise-year data, when there is data), its fields are valid and the entry holds the attachments it needs.
The services add the scope (``common.acts_on``) and, when a proposal is listed, the entry rules: every required
field present and no refusal of the kind (A.3.15: 明令淘汰, 限制类, 列入搬迁改造). Whatever the move carries that
belongs to the entry is kept on it: the category, the responsible unit, the deadline (a date, or N months after
one), the plan (一企一方案) and any entry fields sent with it. The move's audit event is the entry's history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, desc, insert, null, select

from ...adapters.db.tables import attachments, enterprise_years, projects, register_entries
from ...core.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from ...registers.kinds import Kind
from ...registers.rectification import Check, add_months, check_targets, indicator_values, is_overdue
from ...registers.roles import Actor
from ...registers.workflow import Move
from .. import attachments as attachment_files
from ..kernel.scope import require, visible_enterprise
from ..kernel.uow import UnitOfWork, Writer, now
from .common import KINDS, E, acts_on, kind_of, plain, today, view, visible_entry

__all__ = ["OWNERS", "add", "after_move", "facts_of", "move", "propose", "register_facts", "target_check"]

REASON_MAX = 2000
"""Most characters of the reason of a person's addition."""
Facts = Callable[[Connection, Kind, Any, Mapping[str, Any] | None, dt.date], dict[str, bool | None]]
AfterMove = Callable[[Writer, Kind, Any, Move, dict[str, Any], dt.date], dict[str, Any]]
_FACTS: dict[str, Facts] = {}
_AFTER: dict[tuple[str, str], AfterMove] = {}


def register_facts(kind_key: str, facts: Facts) -> None:
    """Let a module compute the facts of a kind's conditions beyond ``overdue`` and ``target_met`` (the
    commitments: ``commitment_met``, ``settles``, ``nothing_due``), from the entry, the move's fields and the day."""
    _FACTS[kind_key] = facts


def after_move(kind_key: str, action: str, apply: AfterMove) -> None:
    """Let a module do what a move of a kind brings beyond the entry, in the move's transaction (the default's
    clawback in the ledger); what it returns is added to the move's audit event."""
    _AFTER[(kind_key, action)] = apply


def _entries_of(key: str) -> Any:
    """The entries of one kind, as the attachments service looks an owner up (``id``, ``credit_code``, ``status``)."""
    return select(register_entries).where(E.kind == key).subquery(f"entries_{key}")


OWNERS = {
    k.key: attachment_files.register_owner(
        attachment_files.Owner(
            key=k.key,
            table=_entries_of(k.key),
            noun_zh=k.entry_zh,
            noun_en=k.entry_en,
            kinds=k.evidence,
            open_states=k.open_states,
            open_zh="未办结",
            open_en="an open",
            permission="register_evidence",
            sealing_events=tuple(sorted({m.event.name for m in k.workflow.moves if m.event is not None})),
        )
    )
    for k in KINDS.values()
}
"""Entries take evidence files (each kind its own kinds of file) while their loop is open; a file is evidence
once a move was made after it was uploaded."""


def held(conn: Connection, kind: Kind, entry_id: int) -> set[str]:
    """The kinds of attachment the entry holds (files not removed)."""
    a = attachments.c
    return set(
        conn.execute(
            select(a.kind).where(a.owner_type == kind.key, a.owner_id == entry_id, a.deleted_at.is_(None))
        ).scalars()
    )


def target_check(conn: Connection, row: Any) -> tuple[bool | None, list[Check], int | None]:
    """The plan's targets against the latest enterprise-year data of the plan's year or later.

    Returns:
        (the verdict — None without targets or data —, one check per target, the data year used).
    """
    plan = row.plan or {}
    targets = plan.get("targets")
    if not targets:
        return None, [], None
    made = str(plan.get("made_on") or row.opened)[:4]
    data = conn.execute(
        select(enterprise_years)
        .where(enterprise_years.c.credit_code == row.credit_code, enterprise_years.c.year >= int(made))
        .order_by(desc(enterprise_years.c.year))
        .limit(1)
    ).first()
    if data is None:
        verdict, checks = check_targets(targets, {})
        return verdict, checks, None
    verdict, checks = check_targets(targets, indicator_values(dict(data._mapping)))
    return verdict, checks, int(data.year)


def facts_of(
    conn: Connection, kind: Kind, row: Any, day: dt.date, given: Mapping[str, Any] | None = None
) -> dict[str, bool | None]:
    """The conditions the kind's moves name, for this entry on ``day`` (``overdue`` whatever the state) and the
    move's fields ``given`` (a repayment's amount)."""
    out: dict[str, bool | None] = dict(_FACTS[kind.key](conn, kind, row, given, day)) if kind.key in _FACTS else {}
    if "overdue" in kind.workflow.conditions:
        out["overdue"] = is_overdue(row.deadline, day)
    if "target_met" in kind.workflow.conditions:
        out["target_met"] = target_check(conn, row)[0]
    return out


def _reason(text: Any) -> str:
    value = text.strip() if isinstance(text, str) else ""
    if value and len(value) <= REASON_MAX:
        return value
    zh = "请说明列入的理由。" if not value else f"理由有 {len(value)} 个字符，最多 {REASON_MAX} 个。"
    en = "Give the reason for the listing." if not value else f"The reason has {len(value)} characters."
    code = "missing_input" if not value else "too_long"
    raise InvalidInput([Problem(code, "reason", None, "理由", "reason", "实地排摸发现", zh, en)])


def _open_entry(conn: Connection, kind: Kind, credit_code: str, project_id: int | None) -> Any:
    """An entry of ``kind`` still in its loop for the enterprise (and project), if any."""
    query = select(E.id, E.status).where(
        E.kind == kind.key, E.credit_code == credit_code, E.status.in_(kind.open_states)
    )
    query = query.where(E.project_id == project_id if project_id is not None else E.project_id.is_(None))
    return conn.execute(query.limit(1)).first()


def _subject(conn: Connection, kind: Kind, credit_code: str, project_id: Any) -> int | None:
    """The project of an entry of a kind of projects (it must be the enterprise's); None for a kind of firms."""
    if kind.subject == "enterprise":
        if project_id is not None:
            raise InvalidInput([_bad_project(project_id, f"{kind.zh}的条目是企业，不是项目。", "entries are firms")])
        return None
    row = conn.execute(select(projects.c.id, projects.c.credit_code).where(projects.c.id == project_id)).first()
    if row is None or row.credit_code != credit_code:
        raise InvalidInput([_bad_project(project_id, "请选择该企业的一个项目。", "choose a project of the firm")])
    return int(row.id)


def _bad_project(value: Any, zh: str, en: str) -> Problem:
    return Problem("invalid_field", "project_id", value, "该企业的项目编号", "a project id of the firm", "12", zh, en)


def _duplicate(kind: Kind, found: Any) -> Conflict:
    state = kind.workflow.state(found.status)
    return Conflict(
        f"该{kind.entry_zh}已在{kind.zh}中（条目 #{found.id}，{state.zh}），不能重复列入。",
        f"It is already on the {kind.en} (entry #{found.id}, {state.en}).",
    )


def _insert(
    w: Writer, kind: Kind, enterprise: dict, project_id: int | None, state: str, values: dict[str, Any], day
) -> int:
    at = now()
    row = {
        "kind": kind.key,
        "credit_code": enterprise["credit_code"],
        "project_id": project_id,
        "town": enterprise["town"],
        "status": state,
        "opened": day,
        "fields": {},
        "basis": {},
        "created_at": at,
        "updated_at": at,
        **values,
    }
    return int(w.conn.execute(insert(register_entries).values(**row)).inserted_primary_key[0])


def add(
    uow: UnitOfWork,
    actor: Actor,
    kind_key: str,
    credit_code: str,
    *,
    reason: Any,
    fields: dict[str, Any] | None = None,
    project_id: Any = None,
    category: str | None = None,
    day: dt.date | None = None,
    address: str | None = None,
) -> int:
    """A person lists an enterprise (or its project) on a register, with the reason; the new entry's id.

    The entry starts in the kind's ``intake.manual`` state. Its required fields must be given, and the kind's
    entry rules must not refuse it. A department account becomes the entry's responsible unit.

    Raises:
        NotFound: an unknown kind, or an enterprise outside the actor's scope.
        Forbidden: the role may not add to this register.
        Conflict: the enterprise (project) is already in the register's loop.
        InvalidInput: the reason, a field, the category or the project is missing or wrong (all listed).
    """
    kind = kind_of(kind_key)
    require(actor, "register")
    if actor.role not in kind.intake_roles:
        raise Forbidden("register")
    clean, problems = kind.read_fields(fields, complete=True)
    problems += kind.refused(clean)
    try:
        text = _reason(reason)
    except InvalidInput as exc:
        problems += exc.problems
    if category is not None and kind.category(category) is None:
        names_zh, names_en = "、".join(c.zh for c in kind.categories), ", ".join(c.en for c in kind.categories)
        problems.append(
            Problem(
                "invalid_field",
                "category",
                category,
                names_zh,
                names_en,
                kind.categories[0].key,
                f"类别 {category!r} 不是{kind.zh}的类别（{names_zh}）。",
                f"{category!r} is not a category of the {kind.en} ({names_en}).",
            )
        )
    if problems:
        raise InvalidInput(problems)
    unit = None
    if actor.role == "department":
        unit = next((u.key for u in kind.units if u.zh == actor.department), None)
        if unit is None:
            raise Forbidden("register")
    day = day or today()
    with uow.write(actor, address) as w:
        enterprise = visible_enterprise(w.conn, actor, credit_code)
        project = _subject(w.conn, kind, enterprise["credit_code"], project_id)
        found = _open_entry(w.conn, kind, enterprise["credit_code"], project)
        if found is not None:
            raise _duplicate(kind, found)
        basis = {"source": "manual", "clause": kind.clause, "reason": text}
        values = {"fields": clean, "basis": basis, "category": category, "responsible_unit": unit}
        entry_id = _insert(w, kind, enterprise, project, kind.manual_state, {**values, "created_by": actor.id}, day)
        after = plain({"status": kind.manual_state, "project_id": project, **values})
        w.record(kind.events["add"], entry_id, None, after)
    return entry_id


def propose(
    w: Writer, kind: Kind, enterprise: dict, project_id: int | None, fields: dict, basis: dict, day: dt.date
) -> int | None:
    """The platform proposes an entry (in the kind's proposal state), stating why; None when it is in the loop."""
    if kind.proposal_state is None:
        raise ValueError(f"the register {kind.key} takes no proposals")
    if _open_entry(w.conn, kind, enterprise["credit_code"], project_id) is not None:
        return None
    values = {"fields": plain(fields), "basis": plain(basis)}
    entry_id = _insert(w, kind, enterprise, project_id, kind.proposal_state, values, day)
    # The event keeps the facts of the proposal (source, clause, values); its sentences stay on the entry's basis.
    facts = {k: v for k, v in values["basis"].items() if k not in ("why_zh", "why_en")}
    w.record(kind.events["propose"], entry_id, None, {"status": kind.proposal_state, **facts})
    return entry_id


def _updates(kind: Kind, m: Move, values: dict[str, Any], row: Any, fields: dict, day: dt.date) -> dict[str, Any]:
    """What the move keeps on the entry: category, unit, deadline, plan, fields; any suggestion is done with."""
    out: dict[str, Any] = {"updated_at": now(), "suggestion": null()}  # SQL NULL (None would store JSON null)
    if fields:
        out["fields"] = {**(row.fields or {}), **fields}
    for key in ("category", "responsible_unit"):
        if values.get(key):
            out[key] = values[key]
    for move, field, months in kind.deadline.set_by if kind.deadline else ():
        if move == m.action and values.get(field):
            out["deadline"] = add_months(values[field], months)
    if m.action in kind.plan_moves:
        out["plan"] = plain({**(row.plan or {}), **values, "made_on": day})
    elif "deadline" in out and row.plan:
        out["plan"] = {**row.plan, "deadline": out["deadline"].isoformat()}
    return out


def move(
    uow: UnitOfWork,
    actor: Actor,
    entry_id: Any,
    action: str,
    given: dict[str, Any] | None = None,
    *,
    fields: dict[str, Any] | None = None,
    day: dt.date | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """Make one move of an entry's loop (audited); the entry after it.

    Args:
        uow: the unit of work.
        actor: who moves.
        entry_id: the entry.
        action: the move (``confirm``, ``plan``, ``close_off``…, from the kind's file).
        given: the move's fields (a reason, the plan's measures and targets, a deadline…).
        fields: entry fields to record with the move (those a proposal lacks before it is listed).
        day: the day it is judged on (default: today in Beijing).
        address: the client address, for the audit log.

    Raises:
        NotFound: an unknown entry or move, or an entry outside the actor's scope (404).
        Forbidden: the role may not make the move, or the actor does not act for the entry (403).
        Conflict: the state does not allow it, a condition does not hold, or the entry changed meanwhile (409).
        InvalidInput: a field, an entry field or an attachment is missing or wrong, or an entry rule refuses the
            entry (422, all listed).
    """
    day = day or today()
    with uow.write(actor, address) as w:
        moved = _move_in(w, actor, entry_id, action, given, fields, day)
        return view(visible_entry(w.conn, actor, moved), day)


def _move_in(
    w: Writer, actor: Actor, entry_id: Any, action: str, given: dict[str, Any] | None, fields: Any, day: dt.date
) -> int:
    """One move inside the writer's transaction (the checks of :func:`move`, then the move); the entry's id."""
    row = visible_entry(w.conn, actor, entry_id)  # 404 outside the scope, before anything else is said
    require(actor, "register")
    kind = KINDS[row.kind]
    if not kind.workflow.named(action):
        raise NotFound(action)
    if not acts_on(kind, actor, row.town, row.responsible_unit):
        raise Forbidden(
            "register",
            f"您不是该{kind.entry_zh}的责任单位，不能办理。",
            f"You are not the responsible unit of this {kind.entry_en}.",
        )
    clean, problems = kind.read_fields(fields)
    try:
        facts, files = facts_of(w.conn, kind, row, day, given), held(w.conn, kind, row.id)
        m, values = kind.workflow.check(actor, row.status, action, given, facts=facts, held=files)
    except InvalidInput as exc:
        m, values, problems = None, {}, [*exc.problems, *problems]
    target = kind.workflow.move(action, row.status)
    if target is not None and kind.admission(row.status, target.target):
        merged = {**(row.fields or {}), **clean}
        problems += kind.missing(merged) + kind.refused(merged)
    if problems or m is None:
        raise InvalidInput(problems)
    updates = _updates(kind, m, values, row, clean, day)
    after = {**plain(values), **({"fields": clean} if clean else {}), "clause": kind.clause}
    apply = _AFTER.get((kind.key, m.action))
    if apply is not None:
        after.update(plain(apply(w, kind, row, m, values, day)))
    w.move(register_entries, row.id, row.status, m, updates, after=after)
    return int(row.id)


BULK_MAX = 500
"""The most entries one bulk move takes."""


def move_many(
    uow: UnitOfWork,
    actor: Actor,
    kind_key: str,
    entry_ids: Any,
    action: str,
    given: dict[str, Any] | None = None,
    *,
    day: dt.date | None = None,
    address: str | None = None,
) -> list[dict[str, Any]]:
    """The same move, with the same fields, of many entries of one kind (e.g. confirm every proposed 留驻优质企业): all
    of them or none, each audited as its own move; each entry's id and state after it, in order.

    Raises:
        NotFound: an unknown kind or move, or an entry absent, of another kind or outside the actor's scope (404 for
            the whole request, as for one entry).
        InvalidInput: not a list of 1 to ``BULK_MAX`` distinct entry ids; or the entries the move cannot take, every
            one named with its enterprise and why (a state that does not allow it, a missing field or document, not
            the actor's to make) — nothing is moved.
    """
    if kind_key not in KINDS:
        raise NotFound(kind_key)
    ids = _entry_ids(entry_ids)
    day = day or today()
    with uow.write(actor, address) as w:
        rows = [visible_entry(w.conn, actor, i) for i in ids]  # 404 for any outside the scope, before anything else
        for r in rows:
            if r.kind != kind_key:
                raise NotFound(r.id)
        require(actor, "register")  # a role that moves no entry is refused as a whole (403), as for one entry
        flow = KINDS[kind_key].workflow
        if not flow.named(action):
            raise NotFound(action)
        if not any(m.action == action for state in flow.states for m in flow.available(actor, state)):
            raise Forbidden("register", "您的角色不能办理此事项。", "Your role may not make this move.")
        problems: list[Problem] = []
        move_fields = flow.fields
        for at, r in enumerate(rows):
            try:
                _move_in(w, actor, r.id, action, given, None, day)
            except InvalidInput as exc:
                for p in exc.problems:  # a field of the move is the same for every entry: said once
                    if p.where not in move_fields:
                        problems.append(_of_entry(p, at, r))
                    elif p not in problems:
                        problems.append(p)
            except (Conflict, Forbidden) as exc:
                refused = Problem(exc.code, "", r.status, "", "", "", exc.message_zh, exc.message_en)
                problems.append(_of_entry(refused, at, r))
        if problems:
            raise InvalidInput(problems)  # the transaction rolls back: no entry moved
        now_in = dict(w.conn.execute(select(E.id, E.status).where(E.id.in_(ids))).all())
    return [
        {"id": i, "status": now_in[i], "state_zh": flow.state(now_in[i]).zh, "state_en": flow.state(now_in[i]).en}
        for i in ids
    ]


def _entry_ids(raw: Any) -> list[int]:
    ok = (
        isinstance(raw, list)
        and 1 <= len(raw) <= BULK_MAX
        and all(isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= 2**31 - 1 for i in raw)
        and len(set(raw)) == len(raw)
    )
    if not ok:
        raise InvalidInput(
            [
                Problem(
                    "invalid_field", "entries", str(raw)[:40], f"1 至 {BULK_MAX} 个不重复的条目编号",
                    f"1 to {BULK_MAX} distinct entry ids", "[12, 15, 31]",
                    f"请选择 1 至 {BULK_MAX} 个条目（不重复）。", f"Choose 1 to {BULK_MAX} entries, each once.",
                )
            ]
        )  # fmt: skip
    return list(raw)


def _of_entry(p: Problem, at: int, row: Any) -> Problem:
    """An entry's problem in a bulk move: located by its place in the list, said with its enterprise's name."""
    firm = row.enterprise_name or row.credit_code
    where = f"entries[{at}]" + (f".{p.where}" if p.where else "")
    return replace(p, where=where, message_zh=f"{firm}：{p.message_zh}", message_en=f"{firm}: {p.message_en}")
