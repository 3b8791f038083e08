"""The project life cycle (A.4.2): every move allowed and refused, dates at their boundaries (not in the future, not
before an earlier stage), scope by town, the 重点项目 mark at 1000万元 exactly, the audit events, the zero-land sync and
the demo county's projects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tenglong.adapters.db.tables import audit_log, enterprises, projects, users
from tenglong.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tenglong.services.accounts.auth import actor_of
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.enterprises import lifecycle, project_list
from tenglong.services.enterprises import projects as project_service

from ..web.conftest import make_platform

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
FILED = dt.date(2023, 3, 1)
DAY = dt.date(2023, 6, 1)
"""The day the dates are judged on in these tests (as if it were today in Beijing)."""


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory):
    """The demo county on each backend, its accounts as actors, a firm of the demo town and one of another town."""
    tmp = tmp_path_factory.mktemp("lifecycle")
    url = (
        f"sqlite:///{tmp / 'lifecycle.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_database")("tenglong_lifecycle")
    )
    p = make_platform(url, upload_dir=str(tmp / "uploads"), attachment_dir=str(tmp / "files"))
    with p.uow.read() as conn:
        actors = {r.username: actor_of(r) for r in conn.execute(select(users))}
        own = conn.execute(
            select(enterprises.c.credit_code).where(enterprises.c.town == DEMO_TOWN).order_by(enterprises.c.credit_code)
        ).first()[0]
        foreign = conn.execute(
            select(enterprises.c.credit_code).where(enterprises.c.town != DEMO_TOWN).order_by(enterprises.c.credit_code)
        ).first()[0]
    yield SimpleNamespace(p=p, a=actors, own=own, foreign=foreign)
    p.engine.dispose()


def _project(site, code: str | None = None, total: str = "15000000", filed: dt.date = FILED) -> int:
    inputs = {"total_investment": Decimal(total), "equipment_investment": 5000000}
    return project_service.create_project(site.p.uow, site.a["admin"], code or site.own, "测试项目", filed, inputs)


def _row(site, pid: int):
    with site.p.uow.read() as conn:
        return conn.execute(select(projects.c.stage, projects.c.lifecycle).where(projects.c.id == pid)).one()


def _move(site, role: str, pid: int, action: str, given: dict, day: dt.date = DAY) -> dict:
    return lifecycle.move(site.p.uow, site.a[role], pid, action, given, day=day)


def _codes(exc: InvalidInput) -> list[tuple[str, str]]:
    return [(p.code, p.where) for p in exc.problems]


def test_create_project_when_saved_is_filed_on_its_application_date(site):
    """A new project is 已备案, its life cycle holding only ``filed_on`` (the application date)."""
    pid = _project(site)
    row = _row(site, pid)
    assert row.stage == "filed" and row.lifecycle == {"filed_on": "2023-03-01"}
    shown = project_service.get_project(site.p.uow, site.a["town"], pid)
    assert (shown["stage"], shown["stage_zh"], shown["stage_en"]) == ("filed", "已备案", "filed")


def test_move_when_town_walks_its_project_to_acceptance_records_every_stage_with_the_keys_others_read(site):
    """start → complete → produce → accept by the town: stage and life cycle exactly as the contract says."""
    pid = _project(site)
    _move(site, "town", pid, "start", {"started_on": "2023-03-01"})  # the filing day itself
    _move(site, "town", pid, "complete", {"completed_on": "2023-04-01"})
    _move(site, "department", pid, "produce", {"producing_on": "2023-04-01"})  # the same day as the completion
    after = _move(
        site,
        "town",
        pid,
        "accept",
        {
            "accepted_on": "2023-06-01",
            "actual_investment": "15,200,000.5",
            "actual_plot_ratio": " 1.60 ",
            "opinion": "达产",
        },
    )
    row = _row(site, pid)
    assert row.stage == "accepted" and after["terminal"] and after["moves"] == []
    assert row.lifecycle == {
        "filed_on": "2023-03-01",
        "started_on": "2023-03-01",
        "completed_on": "2023-04-01",
        "producing_on": "2023-04-01",
        "accepted_on": "2023-06-01",
        "actual_investment": "15200000.50",
        "actual_plot_ratio": "1.60",
    }
    with pytest.raises(Conflict):
        _move(site, "admin", pid, "accept", {"accepted_on": "2023-06-01", "actual_investment": "1"})


def test_move_when_made_is_audited_as_a_typed_event_with_the_stage_before_and_after(site):
    """Each move appends ``project.<action>`` by its actor, with the stage before and after and the date recorded."""
    pid = _project(site)
    _move(site, "town", pid, "start", {"started_on": "2023-05-20"})
    with site.p.uow.read() as conn:
        ev = conn.execute(
            select(audit_log)
            .where(audit_log.c.entity_type == "project", audit_log.c.entity_id == str(pid))
            .order_by(audit_log.c.id)
        ).all()
    assert [e.action for e in ev] == ["project.create", "project.start"]
    assert ev[1].actor == "town" and ev[1].before == {"stage": "filed"}
    assert ev[1].after == {"stage": "started", "started_on": "2023-05-20"}


@pytest.mark.parametrize("role", ["enterprise", "auditor"])
def test_move_when_role_records_no_stage_is_forbidden(site, role):
    """The enterprise and the auditor see the project but record no stage (403); nothing changes."""
    pid = _project(site)
    with pytest.raises(Forbidden):
        _move(site, role, pid, "start", {"started_on": "2023-05-20"})
    assert _row(site, pid).stage == "filed"


def test_move_when_project_is_of_another_town_is_not_found_for_the_town_but_allowed_for_department_and_admin(site):
    """Scope: a town records only its own town's projects (another town's is 404, as one that does not exist)."""
    pid = _project(site, site.foreign)
    with pytest.raises(NotFound):
        _move(site, "town", pid, "start", {"started_on": "2023-05-20"})
    with pytest.raises(NotFound):
        _move(site, "town", 2_000_000, "start", {"started_on": "2023-05-20"})
    _move(site, "department", pid, "start", {"started_on": "2023-05-20"})
    _move(site, "admin", pid, "complete", {"completed_on": "2023-05-21"})
    assert _row(site, pid).stage == "completed"


def test_move_when_stage_does_not_allow_it_or_it_is_unknown_is_refused(site):
    """complete from 已备案 is 409; an unknown move is 404; the project stays filed."""
    pid = _project(site)
    with pytest.raises(Conflict):
        _move(site, "admin", pid, "complete", {"completed_on": "2023-05-20"})
    with pytest.raises(Conflict):
        _move(site, "admin", pid, "accept", {"accepted_on": "2023-05-20", "actual_investment": "1"})
    with pytest.raises(NotFound):
        _move(site, "admin", pid, "destroy", {})
    assert _row(site, pid).stage == "filed"


def test_move_when_date_is_today_passes_and_tomorrow_is_refused_as_future(site):
    """Not in the future: today (Beijing) is allowed, the next day is refused, naming the start date in words."""
    pid = _project(site)
    with pytest.raises(InvalidInput) as exc:
        _move(site, "town", pid, "start", {"started_on": (DAY + dt.timedelta(days=1)).isoformat()})
    assert _codes(exc.value) == [("future_date", "started_on")]
    assert "开工日期" in exc.value.problems[0].message_zh and "start date" in exc.value.problems[0].message_en
    assert "started_on" not in exc.value.problems[0].message_zh + exc.value.problems[0].message_en
    _move(site, "town", pid, "start", {"started_on": DAY.isoformat()})
    assert _row(site, pid).lifecycle["started_on"] == DAY.isoformat()


def test_move_when_date_is_before_an_earlier_stage_is_refused_and_the_same_day_passes(site):
    """In order: the start no earlier than the filing, the completion no earlier than the start (same day allowed)."""
    pid = _project(site)
    with pytest.raises(InvalidInput) as exc:
        _move(site, "town", pid, "start", {"started_on": "2023-02-28"})
    assert _codes(exc.value) == [("date_order", "started_on")]
    assert "备案日期" in exc.value.problems[0].message_zh
    _move(site, "town", pid, "start", {"started_on": "2023-04-10"})
    with pytest.raises(InvalidInput) as exc:
        _move(site, "town", pid, "complete", {"completed_on": "2023-04-09"})
    assert _codes(exc.value) == [("date_order", "completed_on")]
    assert "开工日期 2023-04-10" in exc.value.problems[0].message_zh
    _move(site, "town", pid, "complete", {"completed_on": "2023-04-10"})


def test_move_when_several_things_are_wrong_lists_every_problem_at_once(site):
    """The acceptance without its investment, with a future date and a bad plot ratio: three problems, one answer."""
    pid = _project(site)
    for action, key in (("start", "started_on"), ("complete", "completed_on"), ("produce", "producing_on")):
        _move(site, "admin", pid, action, {key: "2023-05-01"})
    with pytest.raises(InvalidInput) as exc:
        _move(site, "town", pid, "accept", {"accepted_on": "2023-06-02", "actual_plot_ratio": "很高"})
    assert sorted(_codes(exc.value)) == [
        ("future_date", "accepted_on"),
        ("invalid_field", "actual_plot_ratio"),
        ("missing_input", "actual_investment"),
    ]
    with pytest.raises(InvalidInput) as exc:
        _move(site, "town", pid, "accept", {"accepted_on": "2023-02-30", "actual_investment": "12.345"})
    assert sorted(_codes(exc.value)) == [("invalid_field", "accepted_on"), ("invalid_field", "actual_investment")]
    assert _row(site, pid).stage == "producing"


@pytest.mark.parametrize(("total", "marked"), [("10000000.00", True), ("9999999.99", False), ("32000000", True)])
def test_key_project_when_total_is_at_or_around_ten_million_follows_the_zero_land_mark(site, total, marked):
    """重点项目: 1000万元以上 includes 10,000,000.00 (《民法典》1259); 9,999,999.99 is not one."""
    pid = _project(site, total=total)
    shown = project_service.get_project(site.p.uow, site.a["admin"], pid)
    assert bool(shown["key_project"]) is marked
    if marked:
        assert shown["key_project"][0]["clause"] == "A.3.15" and "1000万元以上" in shown["key_project"][0]["zh"]
    listed = project_list.list_projects(site.p.uow, site.a["admin"], project_list.ProjectFilter(key="yes"))
    assert (pid in {p["id"] for p in listed}) is marked


def test_record_start_from_register_when_project_is_filed_records_it_and_otherwise_leaves_it(site):
    """The zero-land register's start: a filed project starts on its date (audited); a started one is left alone."""
    pid, other = _project(site), _project(site)
    with site.p.uow.write(site.a["town"]) as w:
        assert lifecycle.record_start_from_register(w, pid, dt.date(2023, 4, 2)) is True
    assert _row(site, pid).lifecycle["started_on"] == "2023-04-02"
    with site.p.uow.write(site.a["town"]) as w:
        assert lifecycle.record_start_from_register(w, pid, "2023-05-01") is False
        assert lifecycle.record_start_from_register(w, other, "2023-02-01") is False  # before the filing
    assert _row(site, pid).lifecycle["started_on"] == "2023-04-02"


def test_view_when_town_looks_at_a_filed_project_offers_the_start_with_its_date_field(site):
    """The next moves of the actor: the town may start it (date required); the enterprise has none."""
    pid = _project(site)
    town = project_list.detail(site.p.uow, site.a["town"], pid)
    assert [m["action"] for m in town["moves"]] == ["start"]
    assert town["moves"][0]["fields"][0]["key"] == "started_on" and town["moves"][0]["fields"][0]["required"]
    assert [s["reached"] for s in town["stages"]] == [True, False, False, False, False]
    assert project_list.detail(site.p.uow, site.a["department"], pid)["moves"][0]["action"] == "start"


def test_demo_county_when_created_has_projects_at_every_stage_with_ordered_dates(site):
    """The demo projects: 2022 ones mostly under way, some 2023 ones filed only, a few accepted with investment."""
    found = project_list.list_projects(site.p.uow, site.a["admin"])
    stages = {p["stage"] for p in found}
    assert stages == set(lifecycle.STAGES)
    accepted = [p for p in found if p["stage"] == "accepted"]
    assert accepted and all(p["lifecycle"]["actual_investment"] for p in accepted)
    assert any(p["stage"] == "filed" and p["application_date"].year == 2023 and p["town"] == DEMO_TOWN for p in found)
    for p in found:
        dates = [p["lifecycle"].get(lifecycle.DATES[s]) for s in lifecycle.STAGES]
        reached = [d for d in dates if d]
        assert reached == sorted(reached) and len(reached) == lifecycle.STAGES.index(p["stage"]) + 1, p


def _correct(site, role: str, pid: int, given: dict, day: dt.date = DAY) -> dict:
    return lifecycle.correct(site.p.uow, site.a[role], pid, given, day=day)


def test_correct_when_a_date_was_typed_wrong_fixes_it_keeps_the_stage_and_audits_before_and_after(site):
    pid = _project(site)
    _move(site, "town", pid, "start", {"started_on": "2023-05-20"})
    _move(site, "town", pid, "complete", {"completed_on": "2023-05-25"})
    after = _correct(
        site, "town", pid, {"started_on": "2023-04-20", "completed_on": "2023-05-25", "reason": "按施工许可证更正"}
    )
    row = _row(site, pid)
    assert row.stage == "completed" and after["stage"] == "completed"
    assert row.lifecycle["started_on"] == "2023-04-20" and row.lifecycle["completed_on"] == "2023-05-25"
    with site.p.uow.read() as conn:
        ev = conn.execute(
            select(audit_log)
            .where(audit_log.c.entity_type == "project", audit_log.c.entity_id == str(pid))
            .order_by(audit_log.c.id.desc())
        ).first()
    assert ev.action == "project.correct" and ev.actor == "town"
    assert ev.before == {"started_on": "2023-05-20"}  # only what changed
    assert ev.after == {"started_on": "2023-04-20", "reason": "按施工许可证更正"}


def test_correct_when_it_breaks_the_order_is_in_the_future_or_reaches_ahead_lists_every_problem(site):
    pid = _project(site)
    _move(site, "town", pid, "start", {"started_on": "2023-04-01"})
    _move(site, "town", pid, "complete", {"completed_on": "2023-05-01"})
    with pytest.raises(InvalidInput) as bad:
        _correct(site, "town", pid, {"started_on": "2023-05-02", "producing_on": "2023-05-03"})
    assert set(_codes(bad.value)) == {
        ("invalid_field", "reason"),  # no reason
        ("not_reached", "producing_on"),  # not produced yet
        ("date_order", "completed_on"),  # the completion would come before the start
    }
    with pytest.raises(InvalidInput) as bad:
        _correct(site, "town", pid, {"completed_on": "2023-06-02", "reason": "x"})  # the day after DAY
    assert _codes(bad.value) == [("future_date", "completed_on")]
    with pytest.raises(InvalidInput) as bad:
        _correct(site, "town", pid, {"completed_on": "2023-05-01", "reason": "x"})  # what is recorded already
    assert _codes(bad.value) == [("nothing_changed", "$")]
    with pytest.raises(InvalidInput) as bad:
        _correct(site, "town", pid, {"started_on": "2023-02-28", "reason": "x"})  # before the filing (2023-03-01)
    assert _codes(bad.value) == [("date_order", "started_on")]
    assert _row(site, pid).lifecycle["started_on"] == "2023-04-01"  # nothing changed by any of them


def test_correct_when_accepted_fixes_the_investment_and_is_refused_to_the_roles_that_record_no_stage(site):
    pid = _project(site)
    for action, given in (("start", {"started_on": "2023-04-01"}), ("complete", {"completed_on": "2023-04-02"}),
                          ("produce", {"producing_on": "2023-04-03"}),
                          ("accept", {"accepted_on": "2023-05-01", "actual_investment": "1000"})):  # fmt: skip
        _move(site, "town", pid, action, given)
    _correct(site, "admin", pid, {"actual_investment": "15,200,000.5", "reason": "以审计报告为准"})
    assert _row(site, pid).lifecycle["actual_investment"] == "15200000.50"
    with pytest.raises(InvalidInput) as bad:
        _correct(site, "admin", pid, {"actual_investment": "12.345", "reason": "x"})
    assert _codes(bad.value) == [("invalid_field", "actual_investment")]
    for role in ("enterprise", "auditor"):
        with pytest.raises((Forbidden, NotFound)):
            _correct(site, role, pid, {"accepted_on": "2023-05-02", "reason": "x"})
    foreign = _project(site, site.foreign)
    _move(site, "admin", foreign, "start", {"started_on": "2023-04-01"})
    with pytest.raises(NotFound):
        _correct(site, "town", foreign, {"started_on": "2023-04-02", "reason": "x"})
