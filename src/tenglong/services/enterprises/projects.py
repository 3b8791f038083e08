"""Projects of enterprises (the 2.10 技改 and 2.11 垂直工业 inputs) and their calculation.

A project belongs to one enterprise and is visible to whoever sees that
enterprise (admin, department and auditor: all; town: its town's firms;
enterprise: its own). Its inputs are stored as JSON with exact decimals as text.

Computing a project calls ``services.calculation.contract.calculate`` — the same code path
as the CLI and ``POST /api/v1/calculate`` — with the enterprise's final class
from its latest published evaluation, and with the enterprise's other approved
or paid *ordinary* 2.10 projects of the same calendar year, so that the 200万
per-enterprise yearly cap counts the money already granted. Those projects are
put first in the allotment order (their application date is moved no later than
this project's, within the same year) and never take the "2513" reward, so the
cap they use is what they were granted; the answer says which were counted.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ...adapters.db.tables import evaluation_results, evaluation_runs, projects, subsidy_applications
from ...core import loader
from ...core.errors import Conflict, InvalidInput, Problem
from ...core.situation import read_situation
from ...registers import events
from ...registers.roles import Actor
from ..calculation.contract import calculate, dumps
from ..kernel.scope import require, visible_enterprise, visible_record
from ..kernel.uow import UnitOfWork, Writer, now
from ..subsidies import ledger
from . import lifecycle

ENTERPRISE_INPUTS = ("is_2513_enterprise", "local_contribution_growth", "industrial_equipment_investment")
OUTPUTS = {
    "2.10": ("tech_renovation_tier", "tech_renovation_subsidy", "key_project_reward_2513"),
    "2.11": ("vertical_industry_route", "vertical_industry_reward"),
}
TRIGGERS = {"2.10": ("total_investment", "equipment_investment"), "2.11": ("zero_land_renovation",)}


def project_inputs() -> tuple[str, ...]:
    """Names of the project inputs a project may hold (the 2.10 and 2.11 project variables)."""
    return tuple(v.name for v in loader.variables().of("projects") if v.role == "input" and v.clause in OUTPUTS)


def _where(name: str) -> str:
    return f"inputs.{name}"


def check_inputs(inputs: dict[str, Any], application_date: Any = "2023-01-01") -> dict[str, Any]:
    """Validate project inputs against the contract and return them JSON-safe (decimals as text).

    Raises:
        InvalidInput: listing every unknown name and every bad value (``where`` = ``inputs.<name>``).
    """
    allowed = set(project_inputs()) | set(ENTERPRISE_INPUTS)
    problems = [
        Problem(
            "unknown_input",
            _where(k),
            k,
            "",
            "",
            ", ".join(sorted(allowed))[:200],
            f"输入项 {k} 不是第（十）、（十一）项的项目输入。",
            f"{k} is not a 2.10/2.11 project input.",
        )
        for k in inputs
        if k not in allowed
    ]
    doc = {
        "as_of": str(application_date),
        "enterprises": {"E": {k: v for k, v in inputs.items() if k in ENTERPRISE_INPUTS}},
        "projects": {
            "P": {"enterprise": "E", **{k: v for k, v in inputs.items() if k in allowed and k not in ENTERPRISE_INPUTS}}
        },
    }
    try:
        read_situation(doc, loader.variables())
    except InvalidInput as exc:
        for p in exc.problems:
            name = p.where.split(".")[2] if p.where.count(".") >= 2 else p.where
            problems.append(
                Problem(
                    p.code,
                    _where(name) if p.where.startswith(("projects.P.", "enterprises.E.")) else p.where,
                    p.value,
                    p.expected_zh,
                    p.expected_en,
                    p.example,
                    p.message_zh.replace(p.where, _where(name)),
                    p.message_en.replace(p.where, _where(name)),
                )
            )
    if problems:
        raise InvalidInput(problems)
    # Numbers are kept as exact decimal text, whether they came as JSON integers or decimals.
    return {
        k: format(Decimal(v), "f") if isinstance(v, (int, Decimal)) and not isinstance(v, bool) else v
        for k, v in inputs.items()
        if v is not None
    }


def revive(inputs: dict[str, Any]) -> dict[str, Any]:
    """Stored inputs back to contract values (decimal text → Decimal)."""
    reg = loader.variables()
    out = {}
    for k, v in inputs.items():
        var = reg.get("enterprises" if k in ENTERPRISE_INPUTS else "projects", k)
        out[k] = (
            Decimal(v)
            if var is not None
            and var.type.base in ("decimal", "int")
            and isinstance(v, (str, int, float))
            and not isinstance(v, bool)
            else v
        )
    return out


def visible_project(conn: Connection, actor: Actor, project_id: int):
    """The project row (with its enterprise's name and town), or NotFound when out of scope."""
    return visible_record(conn, actor, projects, project_id)


def published_class(conn: Connection, credit_code: str) -> dict[str, Any] | None:
    """The enterprise's final 亩均 class in the latest published evaluation ({class, year, run_id}), or None."""
    row = conn.execute(
        select(evaluation_results.c.mujun_class, evaluation_runs.c.year, evaluation_runs.c.id)
        .join(evaluation_runs, evaluation_runs.c.id == evaluation_results.c.run_id)
        .where(evaluation_results.c.credit_code == credit_code, evaluation_runs.c.status == "published")
        .order_by(evaluation_runs.c.year.desc())
        .limit(1)
    ).first()
    return {"mujun_class": row.mujun_class, "year": row.year, "run_id": row.id} if row and row.mujun_class else None


def draft_project(credit_code: str, name: str, application_date: Any, inputs: dict[str, Any]) -> SimpleNamespace:
    """An unsaved project (checked inputs) that ``calculate_project`` accepts.

    Raises:
        InvalidInput: bad date or inputs.
    """
    day = _date(application_date)
    return SimpleNamespace(
        id=None,
        credit_code=credit_code,
        name=name or "",
        application_date=day,
        inputs=check_inputs(inputs, day.isoformat()),
    )


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(
            [
                Problem(
                    "invalid_date",
                    "application_date",
                    str(value),
                    "日期 YYYY-MM-DD",
                    "a date YYYY-MM-DD",
                    "2023-03-01",
                    f"申请日期 {value} 不是有效日期。",
                    f"The application date {value} is not a valid date.",
                )
            ]
        ) from None


NAME_MAX = 200
"""Longest project name (the database's CHECK holds the same limit)."""


def checked_name(name: Any) -> str:
    """A project name, stripped; refused when blank or longer than :data:`NAME_MAX` (never cut short).

    Raises:
        InvalidInput: naming the field and the limit.
    """
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        problem = Problem(
            "missing_input",
            "name",
            None,
            "项目名称",
            "a project name",
            "数控化改造项目",
            "请填写项目名称。",
            "Give the project a name.",
        )
    elif len(text) > NAME_MAX:
        problem = Problem(
            "too_long",
            "name",
            text[:40] + "…",
            f"不超过 {NAME_MAX} 个字符",
            f"at most {NAME_MAX} characters",
            "数控化改造项目",
            f"项目名称有 {len(text)} 个字符，最多 {NAME_MAX} 个。",
            f"The project name has {len(text)} characters; at most {NAME_MAX} are allowed.",
        )
    else:
        return text
    raise InvalidInput([problem])


def insert_project(
    w: Writer, actor: Actor, credit_code: str, name: str, application_date: Any, inputs: dict[str, Any]
) -> int:
    """Insert a checked project inside a write transaction (audited); the caller checked scope and permission."""
    day = _date(application_date)
    clean = check_inputs(inputs, day.isoformat())
    name = checked_name(name)
    pid = w.conn.execute(
        insert(projects).values(
            credit_code=credit_code,
            name=name,
            application_date=day,
            inputs=clean,
            created_by=actor.id,
            created_at=now(),
            stage="filed",  # A.4.2 life cycle (services/enterprises/lifecycle.py): filed on its application date
            lifecycle={"filed_on": day.isoformat()},
        )
    ).inserted_primary_key[0]
    w.record(
        events.PROJECT_CREATE,
        pid,
        None,
        {"credit_code": credit_code, "name": name.strip(), "application_date": day, "inputs": clean},
    )
    return int(pid)


def create_project(
    uow: UnitOfWork,
    actor: Actor,
    credit_code: str,
    name: str,
    application_date: Any,
    inputs: dict[str, Any],
    address: str | None = None,
) -> int:
    """Create a project for an enterprise in the actor's scope.

    Raises:
        Forbidden: the role may not create projects (403).
        NotFound: the enterprise is outside the actor's scope (404).
        InvalidInput: bad inputs (422, every problem listed).
    """
    require(actor, "create_project")
    with uow.write(actor, address) as w:
        visible_enterprise(w.conn, actor, credit_code)
        project_id = insert_project(w, actor, credit_code, name, application_date, inputs)
    follow_up(uow)
    return project_id


def follow_up(uow: UnitOfWork) -> None:
    """A zero-new-land renovation is proposed for its register (A.3.15), after the project's transaction."""
    from ..campaign.follow_up import after_project  # the campaign builds on the projects, not the reverse

    after_project(uow)


def update_project(
    uow: UnitOfWork,
    actor: Actor,
    project_id: int,
    name: str | None,
    application_date: Any,
    inputs: dict[str, Any] | None,
    address: str | None = None,
) -> None:
    """Change a project's name, date or inputs while none of its applications is past draft (then 409).

    Raises:
        Forbidden, NotFound, InvalidInput, Conflict.
    """
    require(actor, "create_project")
    with uow.write(actor, address) as w:
        row = visible_project(w.conn, actor, project_id)
        states = set(
            w.conn.execute(
                select(subsidy_applications.c.status).where(subsidy_applications.c.project_id == project_id)
            ).scalars()
        )
        if states - {"draft", "withdrawn"}:
            raise Conflict(
                "该项目已有提交的补助申请，不能再修改。",
                "The project has a submitted application; it can no longer change.",
            )
        day = _date(application_date) if application_date else row.application_date
        values = {
            "name": checked_name(name if name is not None else row.name),
            "application_date": day,
            "inputs": check_inputs(inputs if inputs is not None else revive(row.inputs), day.isoformat()),
        }
        w.conn.execute(update(projects).where(projects.c.id == project_id).values(**values))
        w.record(
            events.PROJECT_UPDATE,
            project_id,
            {"name": row.name, "application_date": row.application_date, "inputs": row.inputs},
            values,
        )
    follow_up(uow)


def get_project(uow: UnitOfWork, actor: Actor, project_id: int) -> dict[str, Any]:
    """A project in the actor's scope with its applications (Forbidden without ``read``; NotFound out of scope)."""
    require(actor, "read")
    with uow.read() as conn:
        row = visible_project(conn, actor, project_id)
        apps = conn.execute(
            select(
                subsidy_applications.c.id,
                subsidy_applications.c.clause,
                subsidy_applications.c.status,
                subsidy_applications.c.amount,
            )
            .where(subsidy_applications.c.project_id == project_id)
            .order_by(subsidy_applications.c.id)
        ).all()
    return {
        "id": row.id,
        "credit_code": row.credit_code,
        "enterprise_name": row.enterprise_name,
        "town": row.town,
        "name": row.name,
        "application_date": row.application_date.isoformat(),
        "inputs": row.inputs,
        "created_at": row.created_at.isoformat(),
        "applications": [{"id": a.id, "clause": a.clause, "status": a.status, "amount": a.amount} for a in apps],
        **_life(row),
    }


def _life(row: Any) -> dict[str, Any]:
    """The project's stage (zh/en), life-cycle dates and 重点项目 mark (``lifecycle.py``)."""
    v = lifecycle.view(row)
    return {k: v[k] for k in ("stage", "stage_zh", "stage_en", "lifecycle", "key_project")}


def counted_projects(
    conn: Connection, credit_code: str, year: int, exclude_project: int | None
) -> list[dict[str, Any]]:
    """The enterprise's projects whose ordinary 2.10 subsidy of ``year`` the ledger counts against the yearly cap.

    What each was granted is the ledger's sum for its application (not the amount it asked for).
    """
    granted = ledger.granted_against(conn, credit_code, ledger.ORDINARY_CAP, year)
    if not granted:
        return []
    rows = conn.execute(
        select(
            subsidy_applications.c.id,
            subsidy_applications.c.status,
            projects.c.id.label("project_id"),
            projects.c.name,
            projects.c.application_date,
            projects.c.inputs,
        )
        .join(projects, projects.c.id == subsidy_applications.c.project_id)
        .where(subsidy_applications.c.id.in_(list(granted)))
        .order_by(projects.c.application_date, projects.c.id)
    ).all()
    return [
        {
            "application_id": r.id,
            "project_id": r.project_id,
            "name": r.name,
            "status": r.status,
            "application_date": r.application_date.isoformat(),
            "granted": str(granted[r.id]),
            "inputs": r.inputs,
        }
        for r in rows
        if r.project_id != exclude_project
    ]


def computable(inputs: dict[str, Any]) -> list[str]:
    """The clauses whose inputs the project has (2.10: investment; 2.11: zero-new-land renovation)."""
    return [c for c, names in TRIGGERS.items() if any(inputs.get(n) is not None for n in names)]


def build_request(conn: Connection, project) -> tuple[dict[str, Any], str, list[dict[str, Any]], dict[str, Any] | None]:
    """The calculation request of a project: (document, its id in it, counted projects, class used)."""
    day: dt.date = project.application_date
    inputs = revive(project.inputs)
    cls = published_class(conn, project.credit_code)
    ent = {k: inputs[k] for k in ENTERPRISE_INPUTS if k in inputs}
    if cls:
        ent["mujun_class"] = cls["mujun_class"]
    counted = counted_projects(conn, project.credit_code, day.year, project.id)
    rows: dict[str, dict[str, Any]] = {}
    own_2_10 = {v for v in project_inputs() if loader.variables()[("projects", v)].clause == "2.10"}
    for i, c in enumerate(counted, start=1):
        theirs = {k: v for k, v in revive(c["inputs"]).items() if k in own_2_10}
        rows[f"A{i:04d}-{c['project_id']}"] = {
            **theirs,
            "enterprise": "E",
            "application_date": min(dt.date.fromisoformat(c["application_date"]), day).isoformat(),
            "key_industrial_project": False,
            "tech_renovation_subsidy": None,
        }
    key = f"P-{project.id}"
    mine = {k: v for k, v in inputs.items() if k not in ENTERPRISE_INPUTS}
    rows[key] = {
        **mine,
        "enterprise": "E",
        "name": project.name,
        "application_date": day.isoformat(),
        **{o: None for clause in computable(inputs) for o in OUTPUTS[clause]},
    }
    doc = {"as_of": day.isoformat(), "period": str(day.year), "enterprises": {"E": ent}, "projects": rows}
    return doc, key, counted, cls


def calculate_project(conn: Connection, project, lang: str = "zh") -> dict[str, Any]:
    """Compute a project (see the module docstring); JSON-safe.

    Returns:
        ``{"project_id", "request", "answer", "key", "counted", "enterprise_class", "clauses"}``.

    Raises:
        InvalidInput: when an input a clause needs is missing (e.g. no published class for 2.11).
    """
    doc, key, counted, cls = build_request(conn, project)
    answer = calculate(doc, explain=True, lang=lang)
    plain = json.loads(dumps({"request": doc, "answer": answer}))
    for i, c in enumerate(
        counted, start=1
    ):  # what the engine allotted each counted project, beside what it was granted
        c["allotted_now"] = plain["answer"]["projects"][f"A{i:04d}-{c['project_id']}"]["tech_renovation_subsidy"]
        c.pop("inputs", None)
    return {
        "project_id": project.id,
        "key": key,
        "request": plain["request"],
        "answer": plain["answer"],
        "counted": counted,
        "enterprise_class": cls,
        "clauses": computable(project.inputs),
    }


def compute(uow: UnitOfWork, actor: Actor, project_id: int, lang: str = "zh") -> dict[str, Any]:
    """Compute a project in the actor's scope (``calculate`` permission; nothing is stored).

    Raises:
        Forbidden, NotFound, InvalidInput.
    """
    require(actor, "calculate")
    with uow.read() as conn:
        return calculate_project(conn, visible_project(conn, actor, project_id), lang)
