"""The campaign registers on the platform (SQLite and PostgreSQL): proposals from a published evaluation, the
高耗低效 loop from proposal to 销号 or 关停退出, the zero-land entry and start rules, deadlines at their boundary,
scope by town, enterprise and responsible unit, the demo county's registers, and the export."""

from __future__ import annotations

import collections
import datetime as dt
import io
import json
from types import SimpleNamespace

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tenglong.adapters.db.tables import audit_log, evaluation_results, evaluation_runs, register_entries, users
from tenglong.cli import main
from tenglong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tenglong.registers.roles import Actor
from tenglong.services import attachments, todo
from tenglong.services.accounts.auth import actor_of
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.campaign import entries, seeding, views
from tenglong.services.campaign.export import export, export_document
from tenglong.services.enterprises import projects
from tenglong.services.evaluation import runs
from tenglong.services.evaluation.runs import create_run, execute_run

from ..web.conftest import make_platform

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
HCLE, ZERO = "high_consumption_low_efficiency", "zero_land"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
CLEAR = {"eliminated_by_order": False, "restricted_category": False, "listed_for_relocation": False}
MARCH = dt.date(2023, 3, 1)
ENTRY_KEYS = {"credit_code", "town", "category", "state", "overdue", "opened", "history"}


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory):
    """The demo county (with its registers) on each backend, the demo accounts as actors."""
    tmp = tmp_path_factory.mktemp("campaign")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'campaign.db'}"
    else:
        url = request.getfixturevalue("pg_database")("tenglong_campaign")
    p = make_platform(url, upload_dir=str(tmp / "uploads"), attachment_dir=str(tmp / "files"))
    with p.uow.read() as conn:
        actors = {r.username: actor_of(r) for r in conn.execute(select(users))}
        run = conn.execute(
            select(evaluation_runs).where(evaluation_runs.c.status == "published").order_by(evaluation_runs.c.year)
        ).all()[-1]
    yield SimpleNamespace(p=p, a=actors, url=url, run=run, tmp=tmp, backend=request.param)
    p.engine.dispose()


def _proposals(site, kind: str, town: str = DEMO_TOWN) -> list[int]:
    with site.p.uow.read() as conn:
        return list(
            conn.execute(
                select(register_entries.c.id)
                .where(
                    register_entries.c.kind == kind,
                    register_entries.c.town == town,
                    register_entries.c.status == "proposed",
                )
                .order_by(register_entries.c.id.desc())
            ).scalars()
        )


def _upload(site, actor: Actor, kind: str, entry_id: int, evidence: str) -> int:
    return attachments.upload(site.p, actor, kind, entry_id, evidence, f"{evidence}.pdf", io.BytesIO(PDF))


def _plan(target: str, deadline: str, unit: str = "natural_resources_bureau") -> dict:
    return {
        "category": "buy_back",
        "measures": "收回闲置厂房，整体流转给 A 类企业",
        "targets": {"tax_per_mu": target},
        "deadline": deadline,
        "responsible_unit": unit,
    }


def _entry(site, entry_id: int, day: dt.date = MARCH) -> dict:
    return views.entry(site.p.uow, site.a["admin"], entry_id, day)


def test_demo_when_started_shows_registers_in_realistic_states(site):
    """First start: proposals from the latest run, entries identified, planned, rectifying (two overdue), one
    closed off, one dismissed, a zero-land project late to start, and an entry in each other register."""
    found = views.list_entries(site.p.uow, site.a["admin"])
    states = collections.Counter((e["kind"], e["status"]) for e in found)
    for key in ("proposed", "identified", "planned", "rectifying", "closed", "dismissed"):
        assert states[(HCLE, key)] >= 1, key
    assert sum(e["overdue"] for e in found if e["kind"] == HCLE) == 2
    assert [e["overdue"] for e in found if e["kind"] == ZERO and e["status"] == "approved"] == [True]
    assert {e["kind"] for e in found} == set(views.KINDS)
    closed = next(e for e in found if e["status"] == "closed")
    assert [h["move"] for h in _entry(site, closed["id"])["history"]] == [
        "propose",
        "confirm",
        "plan",
        "start",
        "request_acceptance",
        "close_off",
    ]


def test_seeding_when_an_evaluation_is_published_proposes_each_flagged_firm_once_saying_why(site):
    """Every firm the published run flags (高耗低效 candidate, A.2 低效, 亿元低税) and every class A/B firm is
    proposed once, each with its clause, run and values; proposing again adds nothing; only published runs."""
    r = evaluation_results.c
    with site.p.uow.read() as conn:
        flagged = set(
            conn.execute(
                select(r.credit_code).where(
                    r.run_id == site.run.id,
                    r.high_consumption_low_efficiency_candidate
                    | r.low_efficiency_enterprise
                    | r.billion_yuan_low_tax_enterprise,
                )
            ).scalars()
        )
        quality = set(
            conn.execute(
                select(r.credit_code).where(r.run_id == site.run.id, r.mujun_class.in_(("A", "B")), r.evaluated)
            ).scalars()
        )
    found = views.list_entries(site.p.uow, site.a["admin"])
    hcle = [e for e in found if e["kind"] == HCLE and e["basis"].get("run_id") == site.run.id]
    # Each flagged firm has its entry: from this run, or from an earlier run's proposal still in the loop.
    assert {e["credit_code"] for e in hcle} <= flagged <= {e["credit_code"] for e in found if e["kind"] == HCLE}
    assert hcle and len(hcle) == len({e["credit_code"] for e in hcle})
    for e in hcle:
        b = e["basis"]
        assert b["clause"] == "A.3.1" and f"#{site.run.id}" in b["why_zh"] and "A.3.1" in b["why_zh"] and b["flags"]
    assert {e["credit_code"] for e in found if e["kind"] == "quality_retention"} >= quality
    assert seeding.propose_after_publish(site.p.uow, site.run.id)[HCLE] == 0
    with pytest.raises(NotFound):
        seeding.propose_after_publish(site.p.uow, 999_999)
    unpublished = create_run(site.p.uow, site.a["admin"], site.run.year, method_title="未发布 / draft")
    execute_run(site.p.uow, unpublished)
    with pytest.raises(Conflict):
        seeding.propose_after_publish(site.p.uow, unpublished)


def test_seeding_when_a_zero_land_project_is_entered_proposes_it_and_nothing_else(site):
    """A zero-new-land project is proposed as it is entered (once), stating its name and the clause; an ordinary 技改
    is not."""
    with site.p.uow.read() as conn:
        code = conn.execute(
            select(evaluation_results.c.credit_code)
            .where(evaluation_results.c.run_id == site.run.id, evaluation_results.c.town == "331082001")
            .order_by(evaluation_results.c.credit_code)
        ).first()[0]
    zero = {"zero_land_renovation": True, "self_owned_and_used": True, "total_investment": 8000000}
    pid = projects.create_project(site.p.uow, site.a["admin"], code, "零增地加层项目", "2023-03-01", zero)
    projects.create_project(
        site.p.uow, site.a["admin"], code, "设备更新", "2023-03-01", {"equipment_investment": 3000000}
    )
    assert seeding.propose_projects(site.p.uow) == 0  # create_project's follow-up proposed it already
    proposal = next(e for e in views.list_entries(site.p.uow, site.a["admin"]) if e["project_id"] == pid)
    assert proposal["status"] == "proposed" and "零增地加层项目" in proposal["basis"]["why_zh"]
    assert proposal["fields"]["investment"] == "8000000.00" and proposal["marks"] == []


def test_hcle_loop_when_worked_from_proposal_to_close_off_lets_only_the_right_people_act(site):
    """Town confirms and plans; the responsible department starts; acceptance needs the report; every move is an
    audited step of the entry's history; roles, scope and state refuse the rest."""
    a, uow = site.a, site.p.uow
    entry_id = _proposals(site, HCLE)[0]
    with pytest.raises(Forbidden):
        entries.move(uow, a["auditor"], entry_id, "confirm", day=MARCH)
    with pytest.raises(Forbidden):
        entries.move(uow, a["department"], entry_id, "confirm", day=MARCH)
    other_town = Actor(a["town"].id, "town", "镇", "town", town="331082001")
    with pytest.raises(NotFound):
        entries.move(uow, other_town, entry_id, "confirm", day=MARCH)
    assert entries.move(uow, a["town"], entry_id, "confirm", {"note": "核实"}, day=MARCH)["status"] == "identified"
    with pytest.raises(InvalidInput) as exc:
        entries.move(uow, a["town"], entry_id, "plan", {}, day=MARCH)
    assert {p.where for p in exc.value.problems} == {"category", "measures", "targets", "deadline", "responsible_unit"}
    planned = entries.move(uow, a["town"], entry_id, "plan", _plan("0.0001", "2023-12-31"), day=MARCH)
    assert planned["deadline"] == dt.date(2023, 12, 31) and planned["category_zh"] == "回收流转"
    assert planned["plan"]["targets"] == {"tax_per_mu": "0.0001"} and planned["unit_zh"] == "市自然资源规划局"
    tax_bureau = Actor(a["department"].id, "department", "部门", "department", department="市税务局")
    with pytest.raises(Forbidden):  # a unit of A.3.1, but not this entry's responsible unit
        entries.move(uow, tax_bureau, entry_id, "start", day=MARCH)
    with pytest.raises(NotFound):  # an enterprise sees only its own entries
        entries.move(uow, a["enterprise"], entry_id, "start", day=MARCH)
    entries.move(uow, a["department"], entry_id, "start", day=MARCH)
    entries.move(uow, a["town"], entry_id, "request_acceptance", day=dt.date(2023, 6, 1))
    with pytest.raises(InvalidInput) as exc:
        entries.move(uow, a["department"], entry_id, "close_off", {"opinion": "达标"}, day=dt.date(2023, 6, 1))
    assert [p.where for p in exc.value.problems] == ["attachments.acceptance_report"]
    _upload(site, a["town"], HCLE, entry_id, "acceptance_report")
    detail = _entry(site, entry_id)
    assert detail["targets"]["met"] is True and detail["targets"]["year"] >= 2023
    done = entries.move(uow, a["department"], entry_id, "close_off", {"opinion": "达标"}, day=dt.date(2023, 6, 1))
    assert done["status"] == "closed" and done["terminal"]
    history = _entry(site, entry_id)["history"]
    assert [h["move"] for h in history] == ["propose", "confirm", "plan", "start", "request_acceptance", "close_off"]
    assert [h["by"] for h in history] == ["system", "town", "town", "department", "town", "department"]
    assert history[-1]["after"]["clause"] == "A.3.1" and history[-1]["move_zh"] == "达标销号"
    with pytest.raises(Conflict):
        entries.move(uow, a["admin"], entry_id, "remove", {"reason": "x"}, day=MARCH)
    with pytest.raises(Conflict):
        _upload(site, a["town"], HCLE, entry_id, "other")


def test_close_off_when_the_data_misses_the_target_is_refused_and_the_entry_shut_down(site):
    """Acceptance against the data: a target the latest year does not reach refuses 销号 (409, naming the
    condition); once the deadline has passed the entry cannot go back to rectifying, and 关停退出 needs the
    decision."""
    a, uow = site.a, site.p.uow
    entry_id = _proposals(site, HCLE)[1]
    entries.move(uow, a["town"], entry_id, "confirm", day=MARCH)
    entries.move(uow, a["town"], entry_id, "plan", _plan("999", "2023-12-31", "towns"), day=MARCH)
    entries.move(uow, a["town"], entry_id, "start", day=MARCH)
    entries.move(uow, a["town"], entry_id, "request_acceptance", day=MARCH)
    _upload(site, a["town"], HCLE, entry_id, "acceptance_report")
    with pytest.raises(Conflict) as exc:
        entries.move(uow, a["admin"], entry_id, "close_off", {"opinion": "达标"}, day=MARCH)
    assert "方案的各项指标均已达到目标值" in exc.value.message_zh
    lines = _entry(site, entry_id)["targets"]["lines_zh"]
    assert len(lines) == 1 and "未达到" in lines[0] and "目标 999 万元/亩" in lines[0]
    with pytest.raises(Conflict):
        entries.move(uow, a["admin"], entry_id, "reject", {"opinion": "未达标"}, day=dt.date(2024, 1, 1))
    with pytest.raises(InvalidInput):
        entries.move(uow, a["admin"], entry_id, "shut_down", {"reason": "整改后仍未达标"}, day=dt.date(2024, 1, 1))
    _upload(site, a["admin"], HCLE, entry_id, "shutdown_decision")
    gone = entries.move(uow, a["admin"], entry_id, "shut_down", {"reason": "整改后仍未达标"}, day=dt.date(2024, 1, 1))
    assert gone["status"] == "shut_down" and gone["state_zh"] == "关停退出"


def test_rectification_when_past_its_deadline_is_overdue_from_the_next_day_on(site):
    """Deadline 2023-06-30: not overdue on 06-29 or 06-30, overdue on 07-01 — in the list filter, the flag, and
    the moves (关停退出 only after it, 申请验收 only before)."""
    a, uow = site.a, site.p.uow
    entry_id = _proposals(site, HCLE)[2]
    entries.move(uow, a["town"], entry_id, "confirm", day=MARCH)
    entries.move(uow, a["town"], entry_id, "plan", _plan("5", "2023-06-30", "towns"), day=MARCH)
    entries.move(uow, a["town"], entry_id, "start", day=MARCH)
    _upload(site, a["admin"], HCLE, entry_id, "shutdown_decision")
    deadline = dt.date(2023, 6, 30)
    for offset, late in ((-1, False), (0, False), (1, True)):
        day = deadline + dt.timedelta(days=offset)
        overdue = views.EntryFilter(kind=HCLE, overdue=True)
        assert (entry_id in {e["id"] for e in views.list_entries(uow, a["admin"], overdue, day)}) is late
        not_overdue = views.EntryFilter(kind=HCLE, overdue=False, state="rectifying")
        assert (entry_id in {e["id"] for e in views.list_entries(uow, a["admin"], not_overdue, day)}) is not late
        assert _entry(site, entry_id, day)["overdue"] is late
    with pytest.raises(Conflict):
        entries.move(uow, a["admin"], entry_id, "shut_down", {"reason": "逾期"}, day=deadline)
    with pytest.raises(Conflict):
        entries.move(uow, a["town"], entry_id, "request_acceptance", day=deadline + dt.timedelta(days=1))
    done = entries.move(
        uow, a["admin"], entry_id, "shut_down", {"reason": "逾期未整改"}, day=deadline + dt.timedelta(1)
    )
    assert done["status"] == "shut_down" and not done["overdue"]


def test_zero_land_when_listed_applies_the_entry_rules_and_flags_a_late_start(site):
    """A.3.15: a proposal is listed only with its category and the entry facts, and never when 明令淘汰 (with the
    reason); an approval on 31 Jan must be followed by a start by 30 Apr — late from 1 May."""
    a, uow = site.a, site.p.uow
    entry_id = _proposals(site, ZERO)[0]
    with pytest.raises(InvalidInput) as exc:
        entries.move(uow, a["town"], entry_id, "confirm", {}, day=MARCH)
    assert {p.where for p in exc.value.problems} == {"category", *(f"fields.{k}" for k in CLEAR)}
    with pytest.raises(InvalidInput) as exc:
        entries.move(
            uow, a["town"], entry_id, "confirm", {"category": "extend"}, fields={**CLEAR, "eliminated_by_order": "是"}
        )
    (refusal,) = exc.value.problems
    assert refusal.code == "refused_by_rule" and "明令淘汰" in refusal.message_zh and "A.3.15" in refusal.message_zh
    entries.move(uow, a["town"], entry_id, "confirm", {"category": "extend"}, fields=CLEAR, day=MARCH)
    _upload(site, a["admin"], ZERO, entry_id, "approval")
    approval = {
        "approved_on": "2023-01-31",
        "approval_reference": "临经信技改备〔2023〕7号",
        "responsible_unit": "economy_bureau",
    }
    with pytest.raises(Forbidden):
        entries.move(uow, a["town"], entry_id, "approve", approval, day=MARCH)
    approved = entries.move(uow, a["admin"], entry_id, "approve", approval, day=MARCH)
    assert approved["deadline"] == dt.date(2023, 4, 30) and approved["deadline_zh"] == "开工期限"
    late = views.EntryFilter(kind=ZERO, overdue=True)
    assert entry_id not in {e["id"] for e in views.list_entries(uow, a["admin"], late, dt.date(2023, 4, 30))}
    assert entry_id in {e["id"] for e in views.list_entries(uow, a["admin"], late, dt.date(2023, 5, 1))}
    _upload(site, a["town"], ZERO, entry_id, "start_proof")
    started = entries.move(uow, a["town"], entry_id, "start", {"started_on": "2023-05-01"}, day=dt.date(2023, 5, 1))
    assert started["status"] == "building" and not started["overdue"]


def test_scope_when_listing_and_acting_follows_town_enterprise_and_responsible_unit(site):
    """A town lists its town's entries, an enterprise its own, the others all; a department acts only as the
    responsible unit; additions need the role, the scope, a reason and no open entry of the same firm."""
    a, uow = site.a, site.p.uow
    everything = views.list_entries(uow, a["admin"])
    assert {e["town"] for e in views.list_entries(uow, a["town"])} == {DEMO_TOWN}
    own = views.list_entries(uow, a["enterprise"])
    assert {e["credit_code"] for e in own} <= {a["enterprise"].credit_code}
    assert (
        len(views.list_entries(uow, a["department"])) == len(everything) == len(views.list_entries(uow, a["auditor"]))
    )
    towns_entry = next(e for e in everything if e["responsible_unit"] == "towns" and e["status"] == "planned")
    with pytest.raises(Forbidden):
        entries.move(uow, a["department"], towns_entry["id"], "start")
    dept_items = {i.key for i in todo.items(uow, a["department"])}
    assert dept_items and all(k.startswith(HCLE) for k in dept_items if "." in k and k.split(".")[0] in views.KINDS)
    assert not [i for i in todo.items(uow, a["enterprise"]) if i.key.split(".")[0] in views.KINDS]
    town_items = {i.key for i in todo.items(uow, a["town"])}
    assert {f"{HCLE}.overdue", f"{HCLE}.proposed", f"{ZERO}.overdue"} <= town_items
    code = towns_entry["credit_code"]
    with pytest.raises(Forbidden):
        entries.add(uow, a["enterprise"], "low_scattered_disorderly", code, reason="x")
    fours = {"no_licence": True, "no_safety": False, "no_legal_premises": False, "no_environmental_measures": False}
    with pytest.raises(InvalidInput) as exc:
        entries.add(uow, a["town"], "low_scattered_disorderly", code, reason=" ", fields={"no_licence": "maybe"})
    assert {p.where for p in exc.value.problems} >= {"reason", "fields.no_licence", "fields.no_safety"}
    foreign = next(e["credit_code"] for e in everything if e["town"] != DEMO_TOWN)
    with pytest.raises(NotFound):
        entries.add(uow, a["town"], "low_scattered_disorderly", foreign, reason="排摸发现", fields=fours)
    new = entries.add(uow, a["town"], "low_scattered_disorderly", code, reason="排摸发现", fields=fours, day=MARCH)
    assert _entry(site, new)["history"][0]["move"] == "add" and _entry(site, new)["basis"]["reason"] == "排摸发现"
    with pytest.raises(Conflict):
        entries.add(uow, a["town"], "low_scattered_disorderly", code, reason="再次排摸", fields=fours)
    with pytest.raises(NotFound):
        entries.add(uow, a["town"], "no_such_register", code, reason="x")


def test_enterprise_when_adding_evidence_reaches_only_its_own_entries(site):
    """An enterprise uploads evidence to its own entry; another firm's entry is not found (404)."""
    a = site.a
    everything = views.list_entries(site.p.uow, a["admin"])
    mine = next((e for e in everything if e["credit_code"] == a["enterprise"].credit_code and not e["terminal"]), None)
    other = next(e for e in everything if e["credit_code"] != a["enterprise"].credit_code and not e["terminal"])
    if mine is not None:
        assert _upload(site, a["enterprise"], mine["kind"], mine["id"], "other") > 0
    with pytest.raises(NotFound):
        _upload(site, a["enterprise"], other["kind"], other["id"], "other")


def test_export_when_written_as_json_has_the_issue_shape_one_object_per_kind(site):
    """{"registers": [{kind, clause, name_zh, entries: [{credit_code, town, category, state, overdue, opened,
    history: [{move, at, by}]}]}]}: town, category, state and moves in Chinese; --town by name."""
    doc = export_document(site.p.uow, town="杜桥镇")
    assert list(doc) == ["registers"] and [r["kind"] for r in doc["registers"]] == list(views.KINDS)
    for register in doc["registers"]:
        assert set(register) == {"kind", "clause", "name_zh", "entries"}
        for e in register["entries"]:
            assert set(e) == ENTRY_KEYS and e["town"] == "杜桥镇" and isinstance(e["overdue"], bool)
            dt.date.fromisoformat(e["opened"])
            assert e["history"] and all(set(h) == {"move", "at", "by"} for h in e["history"])
    hcle = doc["registers"][0]
    assert hcle["clause"] == "A.3.1" and hcle["name_zh"] == "高耗低效企业清单"
    assert {e["state"] for e in hcle["entries"]} >= {"系统建议列入（待确认）", "达标销号"}
    assert "回收流转" in {e["category"] for e in hcle["entries"]}
    json.dumps(doc, ensure_ascii=False)
    with pytest.raises(InvalidInput):
        export_document(site.p.uow, town="不存在镇")
    with pytest.raises(NotFound):
        export_document(site.p.uow, kind="no_such_register")


def test_export_when_run_from_the_cli_writes_json_and_a_workbook_read_back(site, tmp_path):
    """`tenglong registers export` writes the JSON of one kind and town, and an XLSX of every kind: one sheet per
    register, Chinese headers with units, town names and states in words; a bad suffix is refused."""
    if site.backend != "sqlite":
        counts = export(site.p.uow, tmp_path / "r.xlsx", kind=HCLE)
        assert counts["kinds"] == 1 and counts["entries"] > 0
        return
    runner = CliRunner()
    out = tmp_path / "r.json"
    base = ["registers", "export", "--database-url", site.url]
    done = runner.invoke(main, [*base, "--kind", "高耗低效企业清单", "--town", "杜桥镇", "--out", str(out)])
    assert done.exit_code == 0, done.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [r["kind"] for r in doc["registers"]] == [HCLE] and all(
        e["town"] == "杜桥镇" for e in doc["registers"][0]["entries"]
    )
    book_path = tmp_path / "r.xlsx"
    assert runner.invoke(main, [*base, "--out", str(book_path)]).exit_code == 0
    book = openpyxl.load_workbook(book_path, read_only=True)
    assert book.sheetnames == [k.zh for k in views.KINDS.values()]
    rows = list(book["高耗低效企业清单"].iter_rows(values_only=True))
    header = rows[0]
    for title in (
        "统一社会信用代码",
        "镇（街道）",
        "状态",
        "是否逾期",
        "整治期限",
        "实际用地面积(亩)",
        "亩均税收(万元/亩)",
    ):
        assert title in header, title
    town_col, state_col = header.index("镇（街道）"), header.index("状态")
    assert {"杜桥镇"} <= {r[town_col] for r in rows[1:]}
    assert all(r[state_col] and not r[state_col].isascii() for r in rows[1:])
    zero = list(book["“零增地”技改项目清单"].iter_rows(values_only=True))
    assert "项目总投资(元)" in zero[0] and "项目名称" in zero[0]
    bad = runner.invoke(main, [*base, "--out", str(tmp_path / "r.csv")])
    assert bad.exit_code != 0 and ".json" in bad.output


def test_zero_land_start_when_recorded_in_the_register_is_the_projects_start_too(site):
    """A.3.15 and A.4.2: the register's 开工 of a project still 已备案 records the project's start (its own audited
    event); the project then shows the stage and the date."""
    a, uow = site.a, site.p.uow
    with site.p.uow.read() as conn:
        code = conn.execute(
            select(evaluation_results.c.credit_code)
            .where(evaluation_results.c.run_id == site.run.id, evaluation_results.c.town == "331082001")
            .order_by(evaluation_results.c.credit_code.desc())
        ).first()[0]
    zero = {"zero_land_renovation": True, "self_owned_and_used": True, "total_investment": 12000000}
    pid = projects.create_project(uow, a["admin"], code, "零增地开工同步项目", "2023-01-10", zero)
    entry_id = next(e["id"] for e in views.list_entries(uow, a["admin"]) if e["project_id"] == pid)
    entries.move(uow, a["admin"], entry_id, "confirm", {"category": "rebuild"}, fields=CLEAR, day=MARCH)
    _upload(site, a["admin"], ZERO, entry_id, "approval")
    approval = {
        "approved_on": "2023-02-01",
        "approval_reference": "临经信技改备〔2023〕9号",
        "responsible_unit": "economy_bureau",
    }
    entries.move(uow, a["admin"], entry_id, "approve", approval, day=MARCH)
    _upload(site, a["admin"], ZERO, entry_id, "start_proof")
    entries.move(uow, a["admin"], entry_id, "start", {"started_on": "2023-03-01"}, day=MARCH)
    shown = projects.get_project(uow, a["admin"], pid)
    assert shown["stage"] == "started" and shown["lifecycle"]["started_on"] == "2023-03-01"
    with site.p.uow.read() as conn:
        actions = (
            conn.execute(
                select(audit_log.c.action).where(
                    audit_log.c.entity_type == "project", audit_log.c.entity_id == str(pid)
                )
            )
            .scalars()
            .all()
        )
    assert "project.start" in actions


def test_supersede_when_a_newer_run_is_published_proposes_from_it_without_being_asked(site):
    """The publish's follow-up (services/campaign/follow_up.py): the firm dismissed from the old run's proposals is
    proposed again from the new run, stating the new run — nobody called the seeding."""
    a, uow = site.a, site.p.uow
    dismissed = next(e for e in views.list_entries(uow, a["admin"]) if e["kind"] == HCLE and e["status"] == "dismissed")
    new = create_run(uow, a["admin"], site.run.year, method_title="复核")
    execute_run(uow, new)
    runs.supersede(uow, a["admin"], new, "数据更正后重新评价")
    again = [
        e
        for e in views.list_entries(uow, a["admin"])
        if e["kind"] == HCLE and e["credit_code"] == dismissed["credit_code"] and e["status"] == "proposed"
    ]
    assert [e["basis"]["run_id"] for e in again] == [new]
