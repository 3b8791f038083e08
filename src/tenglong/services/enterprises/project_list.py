"""The projects an actor sees, with their life cycle (A.4.2): the filtered list, one project, the Excel export.

Filters: town, stage, 重点项目 (yes/no) and the year of the filing. Amounts are 元 inside; the pages and the export
show 万元. The export is audited as one ``export.download``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, extract, select

from ...adapters.db.tables import enterprises, projects, register_entries, subsidy_applications
from ...adapters.tabular.xlsx import Book, Column
from ...registers import events, workflows
from ...registers.roles import Actor
from .. import attachments
from ..campaign.common import KINDS
from ..kernel.scope import enterprise_scope, require, visible_record
from ..kernel.uow import UnitOfWork
from .lifecycle import DATES, OWNER, STAGES, view

__all__ = ["ProjectFilter", "detail", "export_xlsx", "list_projects"]

APPLICATIONS = workflows.load("subsidy_application")


@dataclass(frozen=True)
class ProjectFilter:
    """What the list shows: a town's code, a stage, 重点项目 or not (``"yes"``/``"no"``), a filing year."""

    town: str | None = None
    stage: str | None = None
    key: str | None = None
    year: int | None = None


def _rows(conn: Connection, actor: Actor, f: ProjectFilter) -> list[Any]:
    query = (
        select(projects, enterprises.c.name.label("enterprise_name"), enterprises.c.town)
        .join(enterprises, enterprises.c.credit_code == projects.c.credit_code)
        .where(enterprise_scope(actor))
        .order_by(projects.c.application_date.desc(), projects.c.id.desc())
    )
    if f.town:
        query = query.where(enterprises.c.town == f.town)
    if f.stage in STAGES:
        query = query.where(projects.c.stage == f.stage)
    if f.year:
        query = query.where(extract("year", projects.c.application_date) == f.year)
    return list(conn.execute(query).all())


def list_projects(uow: UnitOfWork, actor: Actor, f: ProjectFilter | None = None) -> list[dict[str, Any]]:
    """The projects ``actor`` sees that pass ``f``, newest filing first, each as ``lifecycle.view`` shows it.

    Raises:
        Forbidden: without ``read``.
    """
    require(actor, "read")
    f = f or ProjectFilter()
    with uow.read() as conn:
        found = [view(r) for r in _rows(conn, actor, f)]
    if f.key in ("yes", "no"):
        found = [p for p in found if bool(p["key_project"]) == (f.key == "yes")]
    return found


def detail(uow: UnitOfWork, actor: Actor, project_id: int) -> dict[str, Any]:
    """One project with its life cycle, the actor's next moves, its applications and its zero-land entry (if any).

    Raises:
        Forbidden: without ``read``. NotFound: absent or outside the actor's scope.
    """
    require(actor, "read")
    with uow.read() as conn:
        row = visible_record(conn, actor, projects, project_id)
        apps = conn.execute(
            select(subsidy_applications.c.id, subsidy_applications.c.clause, subsidy_applications.c.status)
            .where(subsidy_applications.c.project_id == row.id)
            .order_by(subsidy_applications.c.id)
        ).all()
        entry = conn.execute(
            select(register_entries.c.id, register_entries.c.kind, register_entries.c.status)
            .where(register_entries.c.project_id == row.id, register_entries.c.kind == "zero_land")
            .order_by(register_entries.c.id.desc())
            .limit(1)
        ).first()
        files = attachments.listing(conn, actor, OWNER.key, row.id, row.stage)
    out = view(row, actor)
    out["attachments"] = files
    out["may_attach"] = attachments.may_upload(actor, OWNER.key, row.stage)
    out["applications"] = [
        {
            "id": a.id,
            "clause": a.clause,
            "status": a.status,
            "state_zh": APPLICATIONS.state(a.status).zh,
            "state_en": APPLICATIONS.state(a.status).en,
        }
        for a in apps
    ]
    out["zero_land"] = None
    if entry is not None:
        kind = KINDS[entry.kind]
        state = kind.workflow.state(entry.status)
        out["zero_land"] = {
            "id": entry.id,
            "kind": kind.key,
            "kind_zh": kind.zh,
            "kind_en": kind.en,
            "state_zh": state.zh,
            "state_en": state.en,
        }
    return out


def _columns() -> list[Column]:
    wf = workflows.load("project_lifecycle")
    return [
        Column("credit_code", "统一社会信用代码", 22, "code"),
        Column("enterprise_name", "企业名称", 28, "wrap"),
        Column("name", "项目名称", 28, "wrap"),
        Column("town_zh", "镇（街道）", 12),
        Column("total_wan", "总投资", 14, "wan", "万元"),
        Column("key_zh", "重点项目", 10),
        Column("stage_zh", "阶段", 12),
        Column("filed_on", "备案日期", 12, "date"),
        *(Column(DATES[s], wf.fields[DATES[s]].zh, 12, "date") for s in STAGES[1:]),
        Column("actual_wan", "实际完成投资", 14, "wan", "万元"),
        Column("actual_plot_ratio", "实际容积率", 10),
    ]


def _row(p: dict[str, Any]) -> dict[str, Any]:
    life = p["lifecycle"]
    actual = life.get("actual_investment")
    return {
        **p,
        **{k: _date(life.get(k)) for k in DATES.values()},
        "total_wan": p["total_investment"].scaleb(-4) if p["total_investment"] is not None else None,
        "key_zh": "是" if p["key_project"] else "否",
        "actual_wan": Decimal(actual).scaleb(-4) if actual else None,
        "actual_plot_ratio": life.get("actual_plot_ratio"),
    }


def _date(text: Any) -> Any:
    try:
        return dt.date.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return text


def export_xlsx(uow: UnitOfWork, actor: Actor, f: ProjectFilter, address: str | None = None) -> bytes:
    """The filtered list as a workbook (Chinese headers, units in them, 万元), audited as one export.

    Raises:
        Forbidden: without ``read``.
    """
    found = list_projects(uow, actor, f)
    with Book(None) as book:
        book.list_sheet("项目全周期", _columns(), [_row(p) for p in found])
    content = book.close()
    criteria = {k: v for k, v in vars(f).items() if v not in (None, "")}
    with uow.write(actor, address) as w:
        w.record(events.EXPORT, "projects.xlsx", None, {"rows": len(found), "filter": criteria})
    return bytes(content)
