"""The project life-cycle pages and API (A.4.2): the list with its filters and sorting, the Excel export, a project's
page (stages, 重点项目, applications, zero-land entry), the moves made from its forms (the acceptance asked first),
the refusals of each role, and the templates' words all from the catalogue."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from tenglong import web
from tenglong.adapters.db.tables import audit_log, enterprises, projects, register_entries, users
from tenglong.services.accounts.auth import actor_of
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.enterprises import projects as project_service
from tenglong.services.subsidies import applications

from .conftest import client_for, make_platform

HTML = {"accept": "text/html"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A private demo county (projects are moved here), a client per role and the demo accounts as actors."""
    tmp = tmp_path_factory.mktemp("projects_web")
    p = make_platform(f"sqlite:///{tmp / 'p.db'}", upload_dir=str(tmp / "u"), attachment_dir=str(tmp / "f"))
    clients = {role: client_for(p, role) for role in ("admin", "department", "town", "enterprise", "auditor")}
    with p.uow.read() as conn:
        actors = {r.username: actor_of(r) for r in conn.execute(select(users))}
        own = conn.execute(
            select(enterprises.c.credit_code).where(enterprises.c.town == DEMO_TOWN).order_by(enterprises.c.credit_code)
        ).first()[0]
        foreign = conn.execute(
            select(enterprises.c.credit_code).where(enterprises.c.town != DEMO_TOWN).order_by(enterprises.c.credit_code)
        ).first()[0]
    p.test = {"actors": actors, "own": own, "foreign": foreign}  # type: ignore[attr-defined]
    yield p, clients
    for c in clients.values():
        c.close()


def _project(p, code: str, total: str = "15000000", name: str = "网页测试项目") -> int:
    inputs = {"total_investment": Decimal(total), "equipment_investment": 5_000_000}
    return project_service.create_project(p.uow, p.test["actors"]["admin"], code, name, "2023-03-01", inputs)


def _stage(p, pid: int) -> tuple[str, dict]:
    with p.uow.read() as conn:
        row = conn.execute(select(projects.c.stage, projects.c.lifecycle).where(projects.c.id == pid)).one()
    return row.stage, row.lifecycle


def test_list_when_town_looks_shows_only_its_projects_with_stage_and_dates(site):
    """/projects: a town sees its town's projects (no other town's), each linked, with the stage and the dates."""
    p, c = site
    own, foreign = _project(p, p.test["own"]), _project(p, p.test["foreign"])
    html = c["town"].get("/projects").text
    assert f'data-project="{own}"' in html and f'data-project="{foreign}"' not in html
    assert f'href="/projects/{own}"' in html and "已备案" in html and "总投资（万元）" in html
    everyone = c["department"].get("/projects").text
    assert f'data-project="{own}"' in everyone and f'data-project="{foreign}"' in everyone


def test_list_when_filtered_and_sorted_keeps_only_what_was_asked(site):
    """Filters (stage, key project, year, town) and sorting by total investment."""
    p, c = site
    small, big = _project(p, p.test["foreign"], "9999999.99"), _project(p, p.test["foreign"], "10000000.00")
    keyed = c["admin"].get("/projects", params={"key": "yes", "year": "2023", "stage": "filed"}).text
    assert f'data-project="{big}"' in keyed and f'data-project="{small}"' not in keyed
    others = c["admin"].get("/projects", params={"key": "no"}).text
    assert f'data-project="{small}"' in others and f'data-project="{big}"' not in others
    none = c["admin"].get("/projects", params={"year": "2021"}).text
    assert f'data-project="{big}"' not in none
    ordered = re.findall(r'data-project="(\d+)"', c["admin"].get("/projects", params={"sort": "-total"}).text)
    assert ordered.index(str(big)) < ordered.index(str(small))
    town_only = c["admin"].get("/projects", params={"town": DEMO_TOWN}).text
    assert f'data-project="{big}"' not in town_only


def test_export_when_downloaded_is_a_workbook_in_wan_with_units_in_headers_and_audited(site):
    """/projects/export.xlsx: the filtered list, 总投资(万元) as numbers, dates as dates; one export event."""
    p, c = site
    pid = _project(p, p.test["own"], "12345678.9", name="导出测试项目")
    r = c["town"].get("/projects/export.xlsx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    header = [cell.value for cell in ws[1]]
    assert "总投资(万元)" in header and "阶段" in header and "开工日期" in header
    rows = [dict(zip(header, (cell.value for cell in row), strict=True)) for row in ws.iter_rows(min_row=2)]
    mine = next(r for r in rows if r["项目名称"] == "导出测试项目")
    assert Decimal(str(mine["总投资(万元)"])) == Decimal("1234.56789") and mine["重点项目"] == "是"
    assert mine["备案日期"] == dt.datetime(2023, 3, 1) and mine["阶段"] == "已备案"
    with p.uow.read() as conn:
        last = conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(1)).one()
    assert last.action == "export.download" and last.entity_id == "projects.xlsx" and pid


def test_detail_when_shown_has_the_stages_the_key_badge_applications_and_the_zero_land_entry(site):
    """/projects/{id}: the stage timeline, the key-project badge, links to its applications and register entry."""
    p, c = site
    with p.uow.read() as conn:
        entry = conn.execute(
            select(register_entries.c.id, register_entries.c.project_id).where(
                register_entries.c.kind == "zero_land", register_entries.c.project_id.is_not(None)
            )
        ).first()
    html = c["admin"].get(f"/projects/{entry.project_id}").text
    assert f'href="/registers/zero_land/{entry.id}"' in html and 'id="key-project"' in html
    assert 'data-stage="filed"' in html and 'data-stage="accepted"' in html
    pid = _project(p, p.test["own"])
    aid = applications.create_application(p.uow, p.test["actors"]["admin"], pid, "2.10")
    assert f'href="/applications/{aid}"' in c["town"].get(f"/projects/{pid}").text
    small = _project(p, p.test["own"], "9999999.99")
    assert 'id="key-project"' not in c["town"].get(f"/projects/{small}").text


def test_forms_when_town_records_the_start_move_the_project_and_a_bad_date_is_said_at_the_field(site):
    """The start form: a date before the filing is a 422 with the words at the field; a good one moves it (303)."""
    p, c = site
    pid = _project(p, p.test["own"])
    page = c["town"].get(f"/projects/{pid}").text
    assert f'action="/projects/{pid}/lifecycle/start"' in page and 'type="date" name="started_on"' in page
    bad = c["town"].post(f"/projects/{pid}/lifecycle/start", data={"started_on": "2023-02-01"}, headers=HTML)
    assert bad.status_code == 422 and "开工日期 2023-02-01 早于备案日期" in bad.text
    future = c["town"].post(f"/projects/{pid}/lifecycle/start", data={"started_on": "2999-01-01"}, headers=HTML)
    assert future.status_code == 422 and "晚于今天" in future.text
    ok = c["town"].post(
        f"/projects/{pid}/lifecycle/start", data={"started_on": "2023-04-01"}, headers=HTML, follow_redirects=False
    )
    assert ok.status_code == 303 and ok.headers["location"].startswith(f"/projects/{pid}")
    assert _stage(p, pid) == ("started", {"filed_on": "2023-03-01", "started_on": "2023-04-01"})


def test_forms_when_accepting_ask_first_and_only_the_confirmation_records_it(site):
    """达产验收 ends the loop: without ``confirm=1`` a confirmation is shown and nothing changes; with it, recorded."""
    p, c = site
    pid = _project(p, p.test["own"])
    for action, key in (("start", "started_on"), ("complete", "completed_on"), ("produce", "producing_on")):
        r = c["town"].post(f"/projects/{pid}/lifecycle/{action}", data={key: "2023-05-01"}, follow_redirects=False)
        assert r.status_code == 303, r.text
    page = c["town"].get(f"/projects/{pid}").text
    assert 'data-confirm="' in page and 'name="actual_investment"' in page
    form = {"accepted_on": "2023-06-01", "actual_investment": "15200000", "actual_plot_ratio": "1.6"}
    asked = c["town"].post(f"/projects/{pid}/lifecycle/accept", data=form, headers=HTML)
    assert asked.status_code == 200 and 'id="confirm"' in asked.text and _stage(p, pid)[0] == "producing"
    done = c["town"].post(f"/projects/{pid}/lifecycle/accept", data={**form, "confirm": "1"}, follow_redirects=False)
    assert done.status_code == 303
    stage, life = _stage(p, pid)
    assert stage == "accepted" and life["actual_investment"] == "15200000.00" and life["actual_plot_ratio"] == "1.6"
    assert 'id="actual-investment"' in c["town"].get(f"/projects/{pid}").text


def test_forms_when_role_may_not_record_are_hidden_and_refused(site):
    """The enterprise and the auditor see no form and are refused (403); another town's project is 404 for a town."""
    p, c = site
    with p.uow.read() as conn:
        code = conn.execute(select(users.c.credit_code).where(users.c.username == "enterprise")).scalar_one()
    pid = _project(p, code)
    page = c["enterprise"].get(f"/projects/{pid}").text
    assert "/lifecycle/" not in page and 'id="no-moves"' in page
    for role in ("enterprise", "auditor"):
        r = c[role].post(f"/projects/{pid}/lifecycle/start", data={"started_on": "2023-04-01"}, headers=HTML)
        assert r.status_code == 403, role
    foreign = _project(p, p.test["foreign"])
    assert c["town"].get(f"/projects/{foreign}", headers=HTML).status_code == 404
    assert _stage(p, pid)[0] == "filed"


def test_api_when_moving_answers_the_project_with_its_life_cycle(site):
    """POST /api/v1/projects/{id}/lifecycle/start; GET shows stage, life cycle and the key-project mark."""
    p, c = site
    pid = _project(p, p.test["own"], "10000000.00")
    r = c["town"].post(f"/api/v1/projects/{pid}/lifecycle/start", json={"started_on": "2023-04-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stage"] == "started" and body["lifecycle"]["started_on"] == "2023-04-01"
    assert body["key_project"][0]["key"] == "key_project"
    wrong = c["town"].post(f"/api/v1/projects/{pid}/lifecycle/start", json={"started_on": "2023-04-01"})
    assert wrong.status_code == 409
    typed = c["town"].post(f"/api/v1/projects/{pid}/lifecycle/complete", json={"completed_on": ["2023-05-01"]})
    assert typed.status_code == 422


def test_pages_when_shown_in_english_and_on_a_phone_have_no_chinese_words_of_their_own(site):
    """The templates hold no Chinese literal (every word from locale/projects.yaml) and set the viewport."""
    folder = Path(web.__file__).parent / "templates" / "projects"
    for name in ("index.html", "detail.html"):
        text = (folder / name).read_text(encoding="utf-8")
        assert not CJK.search(text), name
        assert "<script" not in text and "style=" not in text, name
    _, c = site
    c["admin"].get("/lang/en")
    try:
        html = c["admin"].get("/projects").text
        assert "Project life cycle" in html and 'name="viewport"' in html
    finally:
        c["admin"].get("/lang/zh")


def test_evidence_when_the_enterprise_uploads_a_proof_it_is_kept_and_sealed_by_the_next_stage(site):
    """The enterprise adds 开工证明 to its project (it records no stage); once the start is recorded the file is
    evidence and can no longer be removed; a wrong kind is said on the project's page (422)."""
    p, c = site
    with p.uow.read() as conn:
        code = conn.execute(select(users.c.credit_code).where(users.c.username == "enterprise")).scalar_one()
    pid = _project(p, code)
    page = c["enterprise"].get(f"/projects/{pid}").text
    assert 'id="upload"' in page and 'value="start_proof"' in page
    pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    sent = c["enterprise"].post(
        "/attachments",
        data={"owner": "project", "owner_id": str(pid), "kind": "start_proof"},
        files={"file": ("施工许可证.pdf", pdf, "application/pdf")},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/projects/{pid}#attachments"
    wrong = c["enterprise"].post(
        "/attachments",
        data={"owner": "project", "owner_id": str(pid), "kind": "nonsense"},
        files={"file": ("x.pdf", pdf, "application/pdf")},
        headers=HTML,
    )
    assert wrong.status_code == 422 and 'id="stages"' in wrong.text
    assert "施工许可证.pdf" in c["town"].get(f"/projects/{pid}").text
    assert (
        c["admin"].post(f"/api/v1/projects/{pid}/lifecycle/start", json={"started_on": "2023-04-01"}).status_code == 200
    )
    html = c["enterprise"].get(f"/projects/{pid}").text
    assert "施工许可证.pdf" in html and "/remove" not in html
    assert 'id="upload"' not in c["auditor"].get(f"/projects/{pid}").text


def test_forms_when_a_recorded_date_is_corrected_say_the_problems_at_the_fields_then_correct_it(site):
    """The correction form (the stages reached, prefilled): without a reason a 422 at the field, nothing changed; with
    one the date is corrected and the stage stays. A filed project offers none; the auditor corrects nothing."""
    p, c = site
    pid = _project(p, p.test["own"])
    assert 'id="correct"' not in c["town"].get(f"/projects/{pid}").text  # nothing recorded yet to correct
    c["town"].post(f"/projects/{pid}/lifecycle/start", data={"started_on": "2023-04-01"}, follow_redirects=False)
    page = c["town"].get(f"/projects/{pid}").text
    assert 'id="correct"' in page and 'name="started_on" value="2023-04-01"' in page
    assert 'id="correct"' not in c["auditor"].get(f"/projects/{pid}").text
    bad = c["town"].post(f"/projects/{pid}/lifecycle/correct", data={"started_on": "2023-04-02"}, headers=HTML)
    assert (
        bad.status_code == 422
        and "请写明更正的理由" in bad.text
        and '<details class="card no-print" id="correct" open' in bad.text
    )
    assert _stage(p, pid)[1]["started_on"] == "2023-04-01"
    ok = c["town"].post(
        f"/projects/{pid}/lifecycle/correct", data={"started_on": "2023-04-02", "reason": "按开工报告更正"},
        headers=HTML, follow_redirects=False,
    )  # fmt: skip
    assert ok.status_code == 303 and _stage(p, pid) == (
        "started",
        {"filed_on": "2023-03-01", "started_on": "2023-04-02"},
    )
    assert (
        c["auditor"].post(f"/projects/{pid}/lifecycle/correct", data={"reason": "x"}, headers=HTML).status_code == 403
    )
