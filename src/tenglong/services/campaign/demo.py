"""The registers of the demo county: a living campaign on first start, the same every time.

After the demo years are evaluated and published, the latest run's proposals are computed (``seeding.py``), and
the demo accounts work some of them, always the same firms (the first ones of 杜桥镇, the demo town, by credit
code): proposals confirmed or dismissed, plans made, rectifications under way — two of them past their deadline
—, one entry closed off with its acceptance report; a zero-land project approved more than three months ago and
not started (a late start), the other kinds with an entry or two. Dates are set relative to the day the demo is
created, so that the overdue ones are overdue and the others are not, whenever it is.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ...adapters.db.tables import enterprises, register_entries, users
from ...registers.roles import Actor
from .. import attachments
from ..accounts.auth import actor_of
from ..enterprises.projects import insert_project
from ..kernel.platform import Platform
from .common import E, today
from .entries import add, move
from .seeding import HCLE, QUALITY, ZERO_LAND, propose_after_publish, propose_projects

__all__ = ["load_demo_registers"]

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
"""A minimal PDF: the demo's evidence files."""
ZERO_LAND_PROJECT = {
    "zero_land_renovation": True,
    "self_owned_and_used": True,
    "land_area": 20000,
    "plot_ratio_before": Decimal("1.0"),
    "plot_ratio_after": Decimal("1.6"),
    "renovated_floor_area": 12000,
    "total_floor_area_after": 32000,
    "total_investment": 15000000,
    "equipment_investment": 6000000,
}
CLEAR = {"eliminated_by_order": False, "restricted_category": False, "listed_for_relocation": False}


def _actors(p: Platform) -> dict[str, Actor]:
    with p.uow.read() as conn:
        rows = conn.execute(select(users).where(users.c.username.in_(("admin", "town", "department")))).all()
    return {r.username: actor_of(r) for r in rows}


def _evidence(p: Platform, actor: Actor, kind: str, entry_id: int, evidence: str, name: str) -> None:
    attachments.upload(p, actor, kind, entry_id, evidence, name, io.BytesIO(PDF))


def _proposals(p: Platform, kind: str, town: str) -> list[int]:
    with p.uow.read() as conn:
        return list(
            conn.execute(
                select(E.id).where(E.kind == kind, E.town == town, E.status == "proposed").order_by(E.credit_code)
            ).scalars()
        )


def _plan(deadline: dt.date, unit: str, category: str = "renovation") -> dict[str, Any]:
    return {
        "category": category,
        "measures": "淘汰落后设备，新增自动化产线；盘活闲置厂房，引进配套企业租用",
        "targets": {"tax_per_mu": "5"},
        "deadline": deadline.isoformat(),
        "responsible_unit": unit,
    }


def _hcle(p: Platform, a: dict[str, Actor], town: str, day: dt.date) -> None:
    ids = _proposals(p, HCLE, town)
    if len(ids) < 9:
        return
    town_actor, admin, dept = a["town"], a["admin"], a["department"]
    for i in ids[:8]:
        move(p.uow, town_actor, i, "confirm", {"note": "经实地排摸核实"}, day=day)
    move(p.uow, town_actor, ids[8], "dismiss", {"reason": "企业已完成技术改造，亩均税收回升"}, day=day)
    deadlines = {2: 150, 3: 150, 4: 90, 5: -20, 6: -45, 7: 60}
    for k, days in deadlines.items():
        unit = "natural_resources_bureau" if k in (3, 5) else "towns"
        category = "buy_back" if unit == "natural_resources_bureau" else "renovation"
        move(p.uow, town_actor, ids[k], "plan", _plan(day + dt.timedelta(days=days), unit, category), day=day)
    move(p.uow, town_actor, ids[4], "start", day=day)
    move(p.uow, dept, ids[5], "start", {"note": "已启动土地回收程序"}, day=day)
    move(p.uow, town_actor, ids[6], "start", day=day)
    move(p.uow, town_actor, ids[7], "start", day=day)
    move(p.uow, town_actor, ids[7], "request_acceptance", {"note": "整治措施已全部完成"}, day=day)
    _evidence(p, town_actor, HCLE, ids[7], "acceptance_report", "验收报告（演示）.pdf")
    move(p.uow, admin, ids[7], "close_off", {"opinion": "整治到位，亩均税收达到方案目标，同意销号"}, day=day)


def _zero_land(p: Platform, a: dict[str, Actor], town: str, day: dt.date) -> None:
    with p.uow.read() as conn:
        accounts = select(users.c.credit_code).where(users.c.credit_code.is_not(None))
        firms = list(  # two firms of the town without an account of their own (the demo enterprise keeps its own data)
            conn.execute(
                select(enterprises.c.credit_code)
                .where(enterprises.c.town == town, enterprises.c.above_scale.is_(True))
                .where(enterprises.c.credit_code.not_in(accounts))
                .order_by(enterprises.c.credit_code.desc())
                .limit(2)
            ).scalars()
        )
    applied = (day - dt.timedelta(days=150)).isoformat()
    with p.uow.write(a["town"]) as w:
        for n, code in enumerate(firms):
            insert_project(w, a["town"], code, f"厂房加层“零增地”技改项目（演示 {n + 1}）", applied, ZERO_LAND_PROJECT)
    propose_projects(p.uow, day)
    ids = _proposals(p, ZERO_LAND, town)
    if not ids:
        return
    move(p.uow, a["town"], ids[0], "confirm", {"category": "rebuild"}, fields=CLEAR, day=day)
    _evidence(p, a["admin"], ZERO_LAND, ids[0], "approval", "技改项目备案通知书（演示）.pdf")
    approval = {
        "approved_on": (day - dt.timedelta(days=100)).isoformat(),
        "approval_reference": "临经信技改备〔演示〕1号",
        "responsible_unit": "economy_bureau",
    }
    move(p.uow, a["admin"], ids[0], "approve", approval, day=day)


def _others(p: Platform, a: dict[str, Actor], town: str, day: dt.date) -> None:
    ids = _proposals(p, QUALITY, town)
    for i in ids[:2]:
        move(p.uow, a["town"], i, "confirm", {"note": "企业有扩产意向"}, day=day)
    if ids:
        plan = {
            "measures": "智能化扩产项目；优先保障用能指标和用地需求",
            "deadline": (day + dt.timedelta(days=240)).isoformat(),
            "responsible_unit": "development_reform_bureau",
        }
        move(p.uow, a["town"], ids[0], "implement", plan, day=day)
    with p.uow.read() as conn:
        accounts = select(users.c.credit_code).where(users.c.credit_code.is_not(None))
        codes = list(
            conn.execute(
                select(enterprises.c.credit_code)
                .where(enterprises.c.town == town, enterprises.c.credit_code.not_in(accounts))
                .order_by(enterprises.c.credit_code.desc())
                .limit(3)
            ).scalars()
        )
    if len(codes) < 3:
        return
    two_high = add(
        p.uow,
        a["admin"],
        "two_high_project",
        codes[0],
        reason="年综合能耗超过 5000 吨标准煤，纳入“两高”项目评估检查",
        fields={"project_name": "年产 2 万吨化工中间体技改项目", "stage": "在建", "energy_tce": "6200"},
        day=day,
    )
    _evidence(p, a["admin"], "two_high_project", two_high, "assessment_report", "评估检查报告（演示）.pdf")
    check = {"category": "dispose", "opinion": "节能审查批复与实际建设内容不符，需补办手续"}
    move(p.uow, a["admin"], two_high, "check", check, day=day)
    fours = {"no_licence": True, "no_safety": True, "no_legal_premises": False, "no_environmental_measures": True}
    census = add(
        p.uow, a["town"], "low_scattered_disorderly", codes[1], reason="联合执法检查发现", fields=fours, day=day
    )
    plan = {
        "category": "rectify",
        "measures": "限期补办营业执照，配齐消防和环保设施",
        "deadline": (day + dt.timedelta(days=60)).isoformat(),
        "responsible_unit": "market_supervision_bureau",
    }
    move(p.uow, a["town"], census, "plan", plan, day=day)
    add(
        p.uow,
        a["admin"],
        "core_technology",
        codes[2],
        reason="企业申报“领雁”计划攻关项目",
        fields={"project_name": "高端液压阀芯精密加工技术攻关", "technology": "高精度阀芯微米级加工工艺"},
        day=day,
    )


def load_demo_registers(p: Platform, run_id: int, town: str) -> dict[str, int]:
    """Propose from the published run ``run_id`` and work some entries of ``town`` (the demo town); the counts of
    entries per kind."""
    day = today()
    propose_after_publish(p.uow, run_id, day)
    actors = _actors(p)
    _hcle(p, actors, town, day)
    _zero_land(p, actors, town, day)
    _others(p, actors, town, day)
    with p.uow.read() as conn:
        kinds = conn.execute(select(register_entries.c.kind)).scalars().all()
    return {k: kinds.count(k) for k in sorted(set(kinds))}
