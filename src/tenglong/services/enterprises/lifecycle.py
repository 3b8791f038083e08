"""项目全周期管理 (A.4.2 项目全周期管理服务): a project's stages from its filing to its acceptance, each dated.

A project moves along ``registers/workflows/project_lifecycle.yaml``: 已备案 (``filed``) → 已开工 → 已竣工 →
已投产 → 已达产验收 (``accepted``, terminal). ``projects.stage`` holds the stage; ``projects.lifecycle`` the dates
(``filed_on`` — the application date, set when the project is created —, ``started_on``, ``completed_on``,
``producing_on``, ``accepted_on``, ISO text) and what the acceptance found (``actual_investment`` in 元 as exact
text with two places, ``actual_plot_ratio`` as text). These keys are read elsewhere (an enterprise's commitments
are checked against them): they are a contract, keep them.

Who: the town for its own town's projects, the departments and the bureau for all (permission ``lifecycle``); the
enterprise sees its projects but records no stage. Each of them, the enterprise included, may add evidence files to
the project (开工证明, 竣工验收材料, 投产证明, 达产验收报告; permission ``project_evidence``). Outside the scope a
project does not exist (404).

Readings (``docs``: the service's own, stated to the user in the messages):

* a stage's date is a real day and never in the future: today (Beijing time) is allowed, tomorrow is not;
* the dates follow the stages: each is no earlier than the date of every stage before it (the filing included);
  the same day is allowed (a project may be completed and put in production on one day).

重点项目 (A.3.15, 每年实施一批1000万元以上重点“零增地”技术改造项目): a project whose total investment is 1000万元 or
more. The mark is the zero-land register's (``policy/registers/zero_land.yaml``, ``marks``), the one definition;
以上 includes the number (《民法典》第一千二百五十九条).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update

from ...adapters.db.tables import projects
from ...core.errors import Conflict, InvalidInput, NotFound, Problem
from ...registers import workflows
from ...registers.events import PROJECT_CORRECT
from ...registers.roles import Actor
from ...registers.workflow import Move
from .. import attachments as attachment_files
from ..campaign.common import KINDS, today, town_names
from ..kernel.scope import require, visible_record
from ..kernel.uow import UnitOfWork, Writer

__all__ = [
    "CORRECT",
    "DATES",
    "OWNER",
    "STAGES",
    "WORKFLOW",
    "apply_move",
    "check",
    "correct",
    "key_project",
    "move",
    "next_moves",
    "record_start_from_register",
    "total_investment",
    "view",
]

WORKFLOW = workflows.load("project_lifecycle")
STAGES = tuple(WORKFLOW.states)
"""The stages in their order: filed, started, completed, producing, accepted."""
DATES = {stage: f"{stage}_on" for stage in STAGES}
"""The date key of each stage in ``projects.lifecycle``."""
OWNER = attachment_files.register_owner(
    attachment_files.Owner(
        key=WORKFLOW.entity,
        table=select(projects.c.id, projects.c.credit_code, projects.c.stage.label("status")).subquery("stages"),
        noun_zh=WORKFLOW.noun_zh,
        noun_en=WORKFLOW.noun_en,
        kinds=WORKFLOW.evidence,
        open_states=STAGES,
        open_zh="任一阶段",
        open_en="a",
        permission="project_evidence",
        sealing_events=tuple(m.event.name for m in WORKFLOW.moves if m.event is not None),
    )
)
"""Projects take evidence (开工证明, 竣工验收材料, 投产证明, 达产验收报告…) at any stage, from the enterprise too;
a file uploaded before a later stage was recorded is evidence and stays."""
FILED_ZH, FILED_EN = "备案日期", "filing date"
CENT = Decimal("0.01")


def total_investment(inputs: Mapping[str, Any] | None) -> Decimal | None:
    """The project's total investment in 元 (exact), or None when it has none."""
    value = (inputs or {}).get("total_investment")
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def key_project(inputs: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The 重点项目 mark of a project (A.3.15), as the zero-land register marks its entries: [] or one mark.

    >>> [m["key"] for m in key_project({"total_investment": "10000000.00"})]
    ['key_project']
    >>> key_project({"total_investment": "9999999.99"}), key_project({})
    ([], [])
    """
    total = total_investment(inputs)
    if total is None:
        return []
    marks = KINDS["zero_land"].marked({"investment": total})
    return [{"key": m.key, "zh": m.zh, "en": m.en, "clause": m.clause} for m in marks]


def _field_name(key: str, lang: str) -> str:
    if key == "filed_on":
        return FILED_ZH if lang == "zh" else FILED_EN
    f = WORKFLOW.fields[key]
    return f.zh if lang == "zh" else f.en


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def _date_problems(m: Move, given: Mapping[str, Any], lifecycle: Mapping[str, Any], day: dt.date) -> list[Problem]:
    """The move's date: not after ``day``, and no earlier than any earlier stage's date (each named in words)."""
    key = DATES[m.target]
    got = _day(given.get(key))
    if got is None:
        return []  # missing or not a date: the workflow says so
    name_zh, name_en = _field_name(key, "zh"), _field_name(key, "en")
    out = []
    if got > day:
        out.append(
            Problem(
                "future_date",
                key,
                got.isoformat(),
                f"不晚于今天（{day.isoformat()}）的日期",
                f"a date no later than today ({day.isoformat()})",
                day.isoformat(),
                f"{name_zh} {got.isoformat()} 晚于今天（{day.isoformat()}，北京时间）；只能登记已经发生的日期。",
                f"The {name_en} {got.isoformat()} is after today ({day.isoformat()}, Beijing time); "
                "only a day that has passed can be recorded.",
            )
        )
    earlier = [(DATES[s], _day(lifecycle.get(DATES[s]))) for s in STAGES[: STAGES.index(m.target)]]
    for before_key, before in earlier:
        if before is not None and got < before:
            b_zh, b_en = _field_name(before_key, "zh"), _field_name(before_key, "en")
            out.append(
                Problem(
                    "date_order",
                    key,
                    got.isoformat(),
                    f"不早于{b_zh}（{before.isoformat()}）的日期",
                    f"a date no earlier than the {b_en} ({before.isoformat()})",
                    before.isoformat(),
                    f"{name_zh} {got.isoformat()} 早于{b_zh} {before.isoformat()}；"
                    "各阶段的日期不能早于之前阶段的日期。",
                    f"The {name_en} {got.isoformat()} is before the {b_en} {before.isoformat()}; "
                    "a stage cannot be dated before the stages that come before it.",
                )
            )
    return out


def _plot_ratio(given: Mapping[str, Any]) -> tuple[str | None, list[Problem]]:
    """The acceptance's plot ratio as text (a number greater than 0), or None when not given."""
    raw = given.get("actual_plot_ratio")
    text = raw.strip() if isinstance(raw, str) else ("" if raw is None else str(raw))
    if not text:
        return None, []
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number <= 0:
        f = WORKFLOW.fields["actual_plot_ratio"]
        return None, [
            Problem(
                "invalid_field",
                f.key,
                text[:40],
                "大于 0 的数",
                "a number greater than 0",
                f.example,
                f"{f.zh} {text[:40]!r} 不是大于 0 的数，例如 {f.example}。",
                f"The {f.en} {text[:40]!r} is not a number greater than 0, e.g. {f.example}.",
            )
        ]
    return format(number, "f"), []


def _record(m: Move, values: Mapping[str, Any], plot_ratio: str | None) -> dict[str, Any]:
    """What the move adds to ``projects.lifecycle``: its date, and the acceptance's figures."""
    out: dict[str, Any] = {DATES[m.target]: values[DATES[m.target]].isoformat()}
    if values.get("actual_investment") is not None:
        out["actual_investment"] = format(Decimal(values["actual_investment"]).quantize(CENT), "f")
    if plot_ratio is not None:
        out["actual_plot_ratio"] = plot_ratio
    return out


def _apply(w: Writer, row: Any, m: Move, record: dict[str, Any], note: Mapping[str, Any]) -> dict[str, Any]:
    """Write the stage and the merged life cycle (only if the project is still in the stage read), audited."""
    before = dict(row.lifecycle or {})
    after = {**before, **record}
    done = w.conn.execute(
        update(projects)
        .where(projects.c.id == row.id, projects.c.stage == row.stage)
        .values(stage=m.target, lifecycle=after)
    )
    if done.rowcount != 1:
        raise Conflict(
            f"项目 #{row.id} 的阶段已被他人改变，请刷新后重试。",
            f"Project #{row.id} changed meanwhile; reload and try again.",
        )
    if m.event is None:
        raise ValueError(f"move {m.action} has no event")
    w.record(m.event, row.id, {"stage": row.stage}, {"stage": m.target, **record, **note})
    return after


def move(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    action: str,
    given: Mapping[str, Any] | None = None,
    *,
    day: dt.date | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """Record one stage of a project (A.4.2), audited as ``project.<action>``; the project's view after it.

    Args:
        uow: the unit of work.
        actor: who records it (town: its town's projects; department, admin: all).
        project_id: the project.
        action: ``start``, ``complete``, ``produce`` or ``accept``.
        given: the move's fields: its date (``started_on``…), for ``accept`` also ``actual_investment`` (元) and
            optionally ``actual_plot_ratio`` and ``opinion``.
        day: the day the dates are judged against (default: today in Beijing).
        address: the client address, for the audit log.

    Raises:
        NotFound: no such project in the actor's scope, or no such move (404).
        Forbidden: the role records no stage (enterprise, auditor; 403).
        Conflict: the stage does not allow the move, or it changed meanwhile (409).
        InvalidInput: a field is missing or wrong, a date is in the future or before an earlier stage's (422, all
            listed at once).
    """
    with uow.write(actor, address) as w:
        return apply_move(w, actor, project_id, action, given, day or today())


def apply_move(
    w: Writer, actor: Actor, project_id: int, action: str, given: Mapping[str, Any] | None, day: dt.date
) -> dict[str, Any]:
    """:func:`move` inside a write transaction the caller holds (the demo county records many at once)."""
    row = visible_record(w.conn, actor, projects, project_id)
    m, record, note = _decide(actor, row, action, given or {}, day)
    _apply(w, row, m, record, note)
    return view(visible_record(w.conn, actor, projects, project_id), actor)


def check(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    action: str,
    given: Mapping[str, Any] | None = None,
    *,
    day: dt.date | None = None,
) -> dict[str, Any]:
    """Decide a move as :func:`move` does, changing nothing (a page asks before the acceptance); what it would record.

    Raises:
        NotFound, Forbidden, Conflict, InvalidInput: as :func:`move`.
    """
    with uow.read() as conn:
        row = visible_record(conn, actor, projects, project_id)
        _, record, note = _decide(actor, row, action, given or {}, day or today())
    return {**record, **note}


def _decide(
    actor: Actor, row: Any, action: str, given: Mapping[str, Any], day: dt.date
) -> tuple[Move, dict[str, Any], dict[str, Any]]:
    """The move, what it adds to the life cycle and its opinion; every problem at once (InvalidInput)."""
    problems: list[Problem] = []
    try:
        m, values = WORKFLOW.check(actor, row.stage, action, dict(given))
    except InvalidInput as exc:
        m, values, problems = WORKFLOW.move(action, row.stage), {}, list(exc.problems)
    if m is None:
        raise NotFound(action)
    problems += _date_problems(m, given, row.lifecycle or {}, day)
    plot_ratio, bad = _plot_ratio(given) if "actual_plot_ratio" in m.accepts else (None, [])
    problems += bad
    if problems:
        raise InvalidInput(problems)
    note = {"opinion": values["opinion"]} if values.get("opinion") else {}
    return m, _record(m, values, plot_ratio), note


CORRECT = "correct"
"""The action that corrects what was recorded (no move of the workflow: the stage stays)."""
REASON_MAX = 2000
"""The longest reason of a correction."""


def correct(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    given: Mapping[str, Any] | None = None,
    *,
    day: dt.date | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """Correct what was recorded for the stages a project has reached — a date typed wrong, the acceptance's
    investment or plot ratio — with a ``reason``; audited as ``project.correct`` with each value before and after.
    The stage stays; the dates must still follow the stages and none may be in the future.

    Args:
        given: the corrected values (``started_on`` … ``accepted_on``, ``actual_investment``, ``actual_plot_ratio``;
            only those of stages reached) and the ``reason``.

    Raises:
        NotFound: no such project in the actor's scope (404). Forbidden: the role records no stage (403).
        Conflict: the project changed meanwhile (409).
        InvalidInput: no reason, nothing changed, a value of a stage not reached, a date that is not a day, in the
            future or out of the stages' order, an amount that is not one (422, all listed at once).
    """
    given = dict(given or {})
    day = day or today()
    with uow.write(actor, address) as w:
        row = visible_record(w.conn, actor, projects, project_id)
        require(actor, "lifecycle")
        changes, reason, problems = _corrections(row, given, day)
        if problems:
            raise InvalidInput(problems)
        before = dict(row.lifecycle or {})
        done = w.conn.execute(
            update(projects)
            .where(projects.c.id == row.id, projects.c.stage == row.stage)
            .values(lifecycle={**before, **changes})
        )
        if done.rowcount != 1:  # pragma: no cover - a stage recorded in between
            raise Conflict(
                f"项目 #{row.id} 的阶段已被他人改变，请刷新后重试。", f"Project #{row.id} changed meanwhile."
            )
        w.record(PROJECT_CORRECT, row.id, {k: before.get(k) for k in changes}, {**changes, "reason": reason})
    with uow.read() as conn:
        return view(visible_record(conn, actor, projects, project_id), actor)


def _corrections(row: Any, given: Mapping[str, Any], day: dt.date) -> tuple[dict[str, Any], str, list[Problem]]:
    """What a correction changes (only values that differ), its reason, and every problem."""
    problems: list[Problem] = []
    reason = str(given.get("reason") or "").strip()
    if not reason or len(reason) > REASON_MAX:
        problems.append(
            Problem(
                "invalid_field", "reason", reason[:40], f"1 至 {REASON_MAX} 个字", f"1 to {REASON_MAX} characters",
                "开工日期录入有误，按施工许可证更正",
                "请写明更正的理由。" if not reason else f"理由不能超过 {REASON_MAX} 个字。",
                "State why the record is corrected." if not reason else f"The reason is longer than {REASON_MAX}.",
            )
        )  # fmt: skip
    reached = STAGES[1 : STAGES.index(row.stage) + 1] if row.stage in STAGES else ()
    allowed = {DATES[s] for s in reached} | (
        {"actual_investment", "actual_plot_ratio"} if row.stage == "accepted" else set()
    )
    before = dict(row.lifecycle or {})
    changes: dict[str, Any] = {}
    for key in (*(DATES[s] for s in STAGES[1:]), "actual_investment", "actual_plot_ratio"):
        raw = given.get(key)
        text = str(raw).strip() if raw is not None else ""
        if not text:
            continue
        name_zh, name_en = _field_name(key, "zh"), _field_name(key, "en")
        if key not in allowed:
            problems.append(
                Problem(
                    "not_reached", key, text[:40], "已登记阶段的记录", "a record of a stage already reached", "",
                    f"{name_zh}所属的阶段尚未登记，不能更正；请先登记该阶段。",
                    f"The stage of the {name_en} has not been recorded yet: record it first.",
                )
            )  # fmt: skip
            continue
        if key == "actual_plot_ratio":
            value, bad = _plot_ratio({key: text})
        else:  # a date, or the investment: read as the workflow reads its fields
            clean, bad = WORKFLOW.fields[key].problems(text)
            value = None if clean is None else clean.isoformat() if key != "actual_investment" else f"{clean:.2f}"
        problems += bad
        if bad:
            continue
        if value != before.get(key):
            changes[key] = value
    if not changes and not problems:
        problems.append(
            Problem(
                "nothing_changed", "$", None, "至少一项与已登记不同的值", "at least one value that differs", "",
                "没有任何记录被更正：填写的值与已登记的相同。", "Nothing to correct: the values are those recorded.",
            )
        )  # fmt: skip
    merged = {**before, **changes}
    for s in reached:  # every reached stage's date against the stages before it, as the record will stand
        into = next(m for m in WORKFLOW.moves if m.target == s)
        if DATES[s] in merged:
            for p in _date_problems(into, {DATES[s]: merged[DATES[s]]}, merged, day):
                if p not in problems:
                    problems.append(p)
    return changes, reason, problems


def record_start_from_register(w: Writer, project_id: int, started_on: dt.date | str) -> bool:
    """Record a project's start made in the zero-land register (its ``start`` move), when it is still 已备案.

    Called inside the register move's transaction; its audit event is the project's own ``project.start`` (by the
    same actor). A project already past 已备案, or one with a filing date after ``started_on``, or a start in the
    future, is left alone: the register's date is then no stage of the project's (whoever keeps the project records
    it there).

    Returns:
        Whether the project's start was recorded.
    """
    row = w.conn.execute(select(projects).where(projects.c.id == project_id)).first()
    day = _day(started_on.isoformat() if isinstance(started_on, dt.date) else started_on)
    if row is None or row.stage != "filed" or day is None or day > today():
        return False
    filed = _day((row.lifecycle or {}).get("filed_on"))
    if filed is not None and day < filed:
        return False
    m = WORKFLOW.move("start", "filed")
    if m is None:  # pragma: no cover - the workflow file has it
        return False
    _apply(w, row, m, {"started_on": day.isoformat()}, {"source": "zero_land"})
    return True


def next_moves(actor: Actor | None, stage: str) -> list[dict[str, Any]]:
    """The moves ``actor`` may make from ``stage``: action, names, fields (required or not), whether final."""
    out = []
    for m in WORKFLOW.available(actor, stage) if actor is not None else []:
        fields = [
            {
                "key": k,
                "zh": WORKFLOW.fields[k].zh,
                "en": WORKFLOW.fields[k].en,
                "kind": WORKFLOW.fields[k].kind,
                "required": k in m.requires,
                "max_length": WORKFLOW.fields[k].max_length,
                "example": WORKFLOW.fields[k].example,
            }
            for k in (*m.requires, *m.accepts)
        ]
        final = WORKFLOW.states[m.target].terminal
        out.append({"action": m.action, "zh": m.zh, "en": m.en, "fields": fields, "final": final})
    return out


def view(row: Any, actor: Actor | None = None) -> dict[str, Any]:
    """A project's life cycle as the pages and the API show it.

    ``row`` has the project's columns and its enterprise's ``enterprise_name`` and ``town``.
    """
    stage = row.stage or "filed"
    lifecycle = dict(row.lifecycle or {})
    state = WORKFLOW.state(stage)
    reached = STAGES.index(stage) if stage in STAGES else 0
    town = town_names().get(row.town, (row.town, row.town))
    total = total_investment(row.inputs)
    return {
        "id": int(row.id),
        "name": row.name,
        "credit_code": row.credit_code,
        "enterprise_name": row.enterprise_name,
        "town": row.town,
        "town_zh": town[0],
        "town_en": town[1],
        "application_date": row.application_date,
        "total_investment": total,
        "key_project": key_project(row.inputs),
        "stage": stage,
        "stage_zh": state.zh,
        "stage_en": state.en,
        "terminal": state.terminal,
        "lifecycle": lifecycle,
        "stages": [
            {
                "key": s,
                "zh": WORKFLOW.states[s].zh,
                "en": WORKFLOW.states[s].en,
                "date": lifecycle.get(DATES[s]),
                "reached": i <= reached,
                "current": s == stage,
            }
            for i, s in enumerate(STAGES)
        ],
        "moves": next_moves(actor, stage),
        "may_correct": bool(actor is not None and actor.can("lifecycle") and reached > 0),
    }
