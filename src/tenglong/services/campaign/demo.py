"""The registers of the demo county: a living campaign on first start, the same every time.

After the demo years are evaluated and published, the latest run's proposals are computed (``seeding.py``), and
the demo accounts work some of them, always the same firms (the first ones of 杜桥镇, the demo town, by credit
code): proposals confirmed or dismissed, plans made, rectifications under way — two of them past their deadline
—, one entry closed off with its acceptance report; a zero-land project approved more than three months ago and
not started (a late start), the other kinds with an entry or two; and three projects granted 2.10 and 2.11 support:
one commitment to record, one being fulfilled, one defaulted — its clawback demanded in the ledger and partly
recovered, the firm on the 严重失信名单. Dates are set relative to the day the demo is created, so that the overdue
ones are overdue and the others are not, whenever it is.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from ...adapters.db.tables import enterprises, evaluation_results, evaluation_runs, register_entries, users
from ...registers.roles import Actor
from .. import attachments
from ..accounts.auth import actor_of
from ..enterprises import projects
from ..enterprises.lifecycle import apply_move
from ..enterprises.projects import insert_project
from ..kernel.platform import Platform
from ..subsidies import applications
from . import commitments
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
FIELD_OF = {"start": "started_on", "complete": "completed_on", "produce": "producing_on"}


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


def _supported(p: Platform, admin: Actor, code: str, name: str, applied: str, pay: bool) -> int:
    """A project of ``code`` with its 2.10 and 2.11 applications approved (and paid); the project's id. The
    approvals propose recording its commitment (``commitments.propose_for_approved``)."""
    project_id = projects.create_project(p.uow, admin, code, name, applied, ZERO_LAND_PROJECT)
    for clause in ("2.10", "2.11"):
        application_id = applications.create_application(p.uow, admin, project_id, clause)
        for action in ("submit", "start_review", "approve"):
            applications.act(p.uow, admin, application_id, action, note="材料齐全，同意（演示）")
        if pay:
            applications.act(p.uow, admin, application_id, "pay", reference=f"LHCZ-演示-{application_id}")
    return project_id


def _commitment_of(p: Platform, project_id: int) -> int:
    with p.uow.read() as conn:
        return int(conn.execute(select(E.id).where(E.kind == "commitment", E.project_id == project_id)).scalar_one())


def _commitments(p: Platform, a: dict[str, Actor], town: str, run_id: int, day: dt.date) -> None:
    """Three supported projects of class A/B firms of ``town``: one defaulted (never started), its clawback partly
    recovered and the firm on the 严重失信名单; one being fulfilled (started, completed and in production in time,
    its 亩均税收 awaiting the data of the year after full production); one approved, its commitment to record."""
    r = evaluation_results.c
    with p.uow.read() as conn:
        accounts = select(users.c.credit_code).where(users.c.credit_code.is_not(None))
        firms = list(
            conn.execute(
                select(r.credit_code)
                .join(enterprises, enterprises.c.credit_code == r.credit_code)
                .where(r.run_id == run_id, r.mujun_class.in_(("A", "B")), enterprises.c.town == town)
                .where(r.credit_code.not_in(accounts))
                .order_by(r.credit_code.desc())
                .offset(5)
                .limit(3)
            ).scalars()
        )
    if len(firms) < 3:
        return
    admin = a["admin"]
    late = _supported(p, admin, firms[0], "智能装备厂房加层技改项目（演示）", "2023-03-01", pay=True)
    kept = _supported(p, admin, firms[1], "数字化车间“零增地”技改项目（演示）", "2023-04-10", pay=True)
    _supported(p, admin, firms[2], "高端阀门厂房改建项目（演示）", "2023-05-20", pay=False)
    promise = {
        "legal_representative": "陈某某（演示）",
        "agreement_reference": "临经信承〔2023〕演示1号",
        "investment": "15000000.00",
        "land_area_mu": "30",
        "investment_intensity": "50",
        "tax_per_mu": "20",
        "start_by": "2023-06-30",
        "complete_by": "2024-06-30",
        "full_production_by": "2024-12-31",
    }
    for project_id, who in ((late, "陈某某（演示）"), (kept, "林某某（演示）")):
        entry = _commitment_of(p, project_id)
        _evidence(p, a["town"], "commitment", entry, "commitment_letter", "企业承诺书（演示）.pdf")
        fields = {**promise, "legal_representative": who}
        record = {"category": "support", "responsible_unit": "economy_bureau", "note": "企业承诺书已签订"}
        move(p.uow, a["town"], entry, "record", record, fields=fields, day=day)
    with p.uow.write(a["town"]) as w:  # the kept one started, was completed and produces, each in time
        for action, on in (("start", "2023-06-15"), ("complete", "2024-05-30"), ("produce", "2024-11-20")):
            apply_move(w, a["town"], kept, action, {FIELD_OF[action]: on}, day)
    commitments.check_all(p.uow, day, "demo")
    entry = _commitment_of(p, late)
    _evidence(p, admin, "commitment", entry, "default_finding", "违约认定书（演示）.pdf")
    finding = {
        "opinion": "承诺开工日期已过，经约谈仍未开工建设，认定违约",
        "repay_by": (day + dt.timedelta(days=60)).isoformat(),
    }
    move(p.uow, admin, entry, "find_default", finding, day=day)
    move(p.uow, admin, entry, "recover_part", {"amount": "200000.00", "reference": "LHCZ-HK-演示-1"}, day=day)
    listing = _proposals(p, "dishonesty", town)
    if listing:
        _evidence(p, admin, "dishonesty", listing[0], "decision", "列入严重失信名单决定书（演示）.pdf")
        move(p.uow, admin, listing[0], "confirm", {"opinion": "经工作专班审议，列入严重失信名单"}, day=day)


def _awards(p: Platform, a: dict[str, Actor], day: dt.date) -> None:
    """The yearly selection of examples (A.4.3) as if run every year since the first published evaluation; the
    first candidate found is selected by the bureau."""
    from ..reports.awards import AWARD, propose_candidates

    with p.uow.read() as conn:
        first = conn.execute(select(func.min(evaluation_runs.c.year))).scalar()
    for year in range(int(first or day.year), day.year + 1):
        propose_candidates(p.uow, year)
    with p.uow.read() as conn:
        found = conn.execute(select(E.id).where(E.kind == AWARD).order_by(E.id).limit(1)).scalar()
    if found is not None:
        opinion = {"opinion": "经工作专班审议，列为年度“零增地”技改示范企业"}
        move(p.uow, a["admin"], found, "confirm", opinion, day=day)


def load_demo_registers(p: Platform, run_id: int, town: str) -> dict[str, int]:
    """Propose from the published run ``run_id`` and work some entries of ``town`` (the demo town); the counts of
    entries per kind."""
    day = today()
    propose_after_publish(p.uow, run_id, day)
    actors = _actors(p)
    _hcle(p, actors, town, day)
    _zero_land(p, actors, town, day)
    _others(p, actors, town, day)
    _commitments(p, actors, town, run_id, day)
    _awards(p, actors, day)
    with p.uow.read() as conn:
        kinds = conn.execute(select(register_entries.c.kind)).scalars().all()
    return {k: kinds.count(k) for k in sorted(set(kinds))}
