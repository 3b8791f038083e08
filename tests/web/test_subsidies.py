"""补助申请: projects, exact amounts, the 2.10 yearly cap, the workflow with its audit trail, and who may see and do
what.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from tenglong.adapters.db.tables import audit_log, enterprises, subsidy_applications, users
from tenglong.services.enterprises.projects import published_class

from .conftest import ROLES, client_for

DUQIAO = "331082112"
MAJOR = {"total_investment": 15000000, "equipment_investment": 8000000}


def _firms(p) -> dict[str, str]:
    """The demo enterprise's own firm, another firm of its town, and firms of other towns."""
    with p.uow.read() as conn:
        own = conn.execute(select(users.c.credit_code).where(users.c.username == "enterprise")).scalar_one()
        same = (
            conn.execute(
                select(enterprises.c.credit_code)
                .where(enterprises.c.town == DUQIAO, enterprises.c.credit_code != own)
                .order_by(enterprises.c.credit_code)
                .limit(3)
            )
            .scalars()
            .all()
        )
        other = (
            conn.execute(
                select(enterprises.c.credit_code)
                .where(enterprises.c.town != DUQIAO)
                .order_by(enterprises.c.credit_code)
                .limit(6)
            )
            .scalars()
            .all()
        )
    return {
        "own": own,
        "same_town": same[0],
        "same_town_2": same[1],
        "same_town_3": same[2],
        "other_town": other[0],
        "cap_a": other[1],
        "cap_b": other[2],
        "exact": other[3],
        "other_town_2": other[4],
    }


def _project(c, credit_code: str, inputs: dict, day: str = "2023-03-01", name: str = "数控化改造项目") -> int:
    r = c.post(
        "/api/v1/projects", json={"credit_code": credit_code, "name": name, "application_date": day, "inputs": inputs}
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _application(c, project_id: int, clause: str = "2.10") -> dict:
    r = c.post("/api/v1/applications", json={"project_id": project_id, "clause": clause})
    assert r.status_code == 201, r.text
    return r.json()


def _move(c, aid: int, action: str, **body) -> object:
    return c.post(f"/api/v1/applications/{aid}/{action}", json=body)


def test_application_when_walked_draft_to_paid_is_audited_at_every_step(any_platform):
    """Enterprise creates and submits, department reviews, admin approves and pays; each step is in audit_log with
    before/after.
    """
    firms = _firms(any_platform)
    ent, dept, admin = (client_for(any_platform, r) for r in ("enterprise", "department", "admin"))
    app = _application(ent, _project(ent, firms["own"], MAJOR))
    aid = app["id"]
    assert (
        app["status"] == "draft"
        and app["amount"] == "800000.00"
        and app["amount_detail"]["tech_renovation_tier"] == "major"
    )
    assert app["explanation"]["zh"]["tech_renovation_subsidy"]["clause"] == "2.10" and app["parameters_version"]
    assert _move(ent, aid, "submit").json()["status"] == "submitted"
    assert _move(dept, aid, "start_review").json()["status"] == "under_review"
    assert _move(admin, aid, "approve", note="材料齐全").json()["status"] == "approved"
    paid = _move(admin, aid, "pay", reference="LHCZ-2023-0012").json()
    assert (
        paid["status"] == "paid" and paid["paid_reference"] == "LHCZ-2023-0012" and paid["decision_note"] == "材料齐全"
    )
    with any_platform.uow.read() as conn:
        trail = conn.execute(
            select(audit_log.c.action, audit_log.c.actor, audit_log.c.before, audit_log.c.after)
            .where(audit_log.c.entity_type == "subsidy_application", audit_log.c.entity_id == str(aid))
            .order_by(audit_log.c.id)
        ).all()
        stored = conn.execute(
            select(subsidy_applications.c.amount, subsidy_applications.c.status).where(subsidy_applications.c.id == aid)
        ).one()
    assert [(t.action, t.actor, (t.before or {}).get("status"), t.after["status"]) for t in trail] == [
        ("application.create", "enterprise", None, "draft"),
        ("application.submit", "enterprise", "draft", "submitted"),
        ("application.start_review", "department", "submitted", "under_review"),
        ("application.approve", "admin", "under_review", "approved"),
        ("application.pay", "admin", "approved", "paid"),
    ]
    assert stored.amount == Decimal("800000.00") and isinstance(stored.amount, Decimal) and stored.status == "paid"
    assert [e["action"] for e in ent.get(f"/api/v1/applications/{aid}").json()["audit"]][-1] == "application.pay"


def test_application_amount_when_equipment_has_cents_is_stored_exactly(platform, client_as):
    """12,345,678.95 of equipment on a major project → 1,234,567.90 (half up), stored and served as an exact decimal."""
    admin = client_as("admin")
    app = _application(
        admin,
        _project(admin, _firms(platform)["exact"], {"total_investment": 15000000, "equipment_investment": 12345678.95}),
    )
    assert app["amount"] == "1234567.90"
    with platform.uow.read() as conn:
        assert conn.execute(
            select(subsidy_applications.c.amount).where(subsidy_applications.c.id == app["id"])
        ).scalar_one() == Decimal("1234567.90")


ORDINARY_49 = {"total_investment": 9900000, "equipment_investment": 9800000}  # ordinary: 5% of 980万 = 49万


def _approved_ordinary(admin, firm: str, days: tuple[str, ...]) -> list[dict]:
    apps = []
    for k, day in enumerate(days):
        app = _application(admin, _project(admin, firm, ORDINARY_49, day, f"第{k + 1}期"))
        assert app["amount"] == "490000.00" and app["amount_detail"]["tech_renovation_tier"] == "ordinary"
        for action, body in (("submit", {}), ("start_review", {}), ("approve", {"note": "同意"})):
            assert _move(admin, app["id"], action, **body).status_code == 200
        apps.append(app)
    return apps


def test_application_when_enterprise_has_approved_ordinary_project_applies_the_200_wan_cap(platform, client_as):
    """Four approved ordinary projects of 490,000 leave 40,000 of the 2,000,000 yearly cap; the snapshot names the
    projects counted.
    """
    admin = client_as("admin")
    firm = _firms(platform)["cap_a"]
    first = _approved_ordinary(admin, firm, ("2022-09-01", "2022-09-02", "2022-09-03", "2022-09-04"))
    pid = _project(admin, firm, ORDINARY_49, "2022-10-01", "第五期")
    computed = admin.post(f"/api/v1/projects/{pid}/compute").json()
    assert computed["answer"]["projects"][f"P-{pid}"]["tech_renovation_subsidy"] == 40000
    second = _application(admin, pid)
    assert second["amount"] == "40000.00"
    counted = second["amount_detail"]["counted_projects"]
    assert [(c["application_id"], c["granted"]) for c in counted] == [(a["id"], "490000.00") for a in first]
    assert "此前已核定普通技改补助 1,960,000.00 元" in " ".join(
        second["explanation"]["zh"]["tech_renovation_subsidy"]["because"]
    )
    page = admin.get(f"/applications/{second['id']}").text
    assert f'data-counted="{counted[0]["project_id"]}"' in page


def test_approve_when_it_would_pass_the_yearly_cap_is_refused(platform, client_as):
    """Two ordinary drafts computed before either was approved cannot both be approved beyond 2,000,000 (409)."""
    admin = client_as("admin")
    firm = _firms(platform)["cap_b"]
    _approved_ordinary(admin, firm, ("2022-09-01", "2022-09-02", "2022-09-03"))
    a = _application(admin, _project(admin, firm, ORDINARY_49, "2022-10-01"))
    b = _application(admin, _project(admin, firm, ORDINARY_49, "2022-10-02"))
    assert (a["amount"], b["amount"]) == ("490000.00", "490000.00")  # 1,470,000 granted leaves 530,000 for each
    for aid in (a["id"], b["id"]):
        _move(admin, aid, "submit")
        _move(admin, aid, "start_review")
    assert _move(admin, a["id"], "approve").status_code == 200
    r = _move(admin, b["id"], "approve")
    assert r.status_code == 409 and "超过年度上限" in r.json()["message"]["zh"] and "cap" in r.json()["message"]["en"]


WRONG_ROLES = {
    "submit": ("department", "auditor"),
    "start_review": ("town", "enterprise", "auditor"),
    "approve": ("department", "town", "enterprise", "auditor"),
    "reject": ("department", "town", "enterprise", "auditor"),
    "pay": ("department", "town", "enterprise", "auditor"),
    "revise": ("department", "auditor"),
}


@pytest.mark.parametrize("action", list(WRONG_ROLES))
def test_workflow_move_when_role_may_not_make_it_is_403(platform, client_as, action):
    """Every role that may not make a move gets 403 (the application is visible to all of them)."""
    town = client_as("town")
    app = _application(town, _project(town, _firms(platform)["own"], MAJOR))
    for role in WRONG_ROLES[action]:
        r = _move(client_as(role), app["id"], action, note="x", reference="y")
        assert r.status_code == 403 and r.json()["code"] == "forbidden", (action, role)
    assert client_as("admin").get(f"/api/v1/applications/{app['id']}").json()["status"] == "draft"


def test_workflow_move_when_state_does_not_allow_it_is_409_bilingual(platform, client_as):
    """Approving a draft, paying a submitted one, revising a draft, submitting twice: 409 with zh and en messages."""
    admin = client_as("admin")
    app = _application(admin, _project(admin, _firms(platform)["same_town"], MAJOR))
    aid = app["id"]
    for action in ("approve", "revise", "start_review"):
        r = _move(admin, aid, action)
        assert (
            r.status_code == 409
            and r.json()["code"] == "conflict"
            and "草稿" in r.json()["message"]["zh"]
            and "draft" in r.json()["message"]["en"]
        )
    assert _move(admin, aid, "submit").status_code == 200
    assert _move(admin, aid, "submit").status_code == 409
    assert _move(admin, aid, "pay", reference="R").status_code == 409
    assert _move(admin, aid, "recompute").status_code == 409
    assert _move(admin, aid, "fly").status_code == 404


def test_application_when_rejected_is_revised_recomputed_and_resubmitted(platform, client_as):
    """A rejection needs a note (422); the applicant revises to draft, recomputes, and submits again."""
    town, admin = client_as("town"), client_as("admin")
    aid = _application(town, _project(town, _firms(platform)["same_town_2"], MAJOR))["id"]
    for action in ("submit",):
        _move(town, aid, action)
    _move(admin, aid, "start_review")
    r = _move(admin, aid, "reject")
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "note"
    assert _move(admin, aid, "reject", note="缺少设备发票").json()["status"] == "rejected"
    assert _move(town, aid, "revise").json()["status"] == "draft"
    assert _move(town, aid, "recompute").status_code == 200
    assert _move(town, aid, "submit").json()["status"] == "submitted"
    actions = [e["action"] for e in town.get(f"/api/v1/applications/{aid}").json()["audit"]]
    assert actions[-4:] == ["application.reject", "application.revise", "application.recompute", "application.submit"]


def test_application_when_outside_scope_is_404_also_by_guessing_ids(platform, client_as):
    """A town cannot see another town's application; an enterprise gets 404 for every id that is not its own firm's."""
    admin, town, ent = client_as("admin"), client_as("town"), client_as("enterprise")
    firms = _firms(platform)
    pid = _project(admin, firms["other_town_2"], MAJOR)
    foreign = _application(admin, pid)["id"]
    neighbour = _application(admin, _project(admin, firms["same_town_3"], MAJOR))["id"]
    for c in (town, ent):
        assert c.get(f"/api/v1/applications/{foreign}").status_code == 404
        assert _move(c, foreign, "submit").status_code == 404
        assert c.get(f"/api/v1/projects/{pid}").status_code == 404
        assert c.post(f"/api/v1/projects/{pid}/compute").status_code == 404
        assert c.get(f"/applications/{foreign}", headers={"accept": "text/html"}).status_code == 404
    assert town.get(f"/api/v1/applications/{neighbour}").status_code == 200
    own = {a["id"] for a in ent.get("/api/v1/applications", params={"per_page": 200}).json()["items"]}
    for guess in range(1, neighbour + 5):
        r = ent.get(f"/api/v1/applications/{guess}")
        assert r.status_code == (200 if guess in own else 404), guess
    assert all(a["town"] == DUQIAO for a in town.get("/api/v1/applications", params={"per_page": 200}).json()["items"])
    assert town.get("/api/v1/applications", params={"town": "331082001"}).json()["total"] == 0


def test_project_when_created_checks_role_scope_and_inputs(platform, client_as):
    """Out-of-scope firm 404; auditor and department (which only reviews) 403; bad inputs 422 at inputs.<name>."""
    firms = _firms(platform)
    assert (
        client_as("town")
        .post(
            "/api/v1/projects",
            json={"credit_code": firms["other_town"], "name": "x", "application_date": "2023-03-01", "inputs": MAJOR},
        )
        .status_code
        == 404
    )
    assert (
        client_as("enterprise")
        .post(
            "/api/v1/projects",
            json={"credit_code": firms["same_town"], "name": "x", "application_date": "2023-03-01", "inputs": MAJOR},
        )
        .status_code
        == 404
    )
    assert (
        client_as("auditor")
        .post(
            "/api/v1/projects",
            json={"credit_code": firms["own"], "name": "x", "application_date": "2023-03-01", "inputs": MAJOR},
        )
        .status_code
        == 403
    )
    dept = client_as("department")
    assert (
        dept.post(
            "/api/v1/projects",
            json={"credit_code": firms["other_town"], "name": "x", "application_date": "2023-03-01", "inputs": MAJOR},
        ).status_code
        == 403
    )
    pid = _project(client_as("admin"), firms["other_town"], MAJOR)
    assert dept.post("/api/v1/applications", json={"project_id": pid, "clause": "2.10"}).status_code == 403
    bad = client_as("enterprise").post(
        "/api/v1/projects",
        json={
            "credit_code": firms["own"],
            "name": "x",
            "application_date": "2023-03-01",
            "inputs": {"equipment_investment": -5, "colour": "red"},
        },
    )
    assert bad.status_code == 422 and {p["where"] for p in bad.json()["problems"]} == {
        "inputs.equipment_investment",
        "inputs.colour",
    }


def test_application_when_project_gets_nothing_is_refused(platform, client_as):
    """A project below every 2.10 threshold cannot be applied for (422 naming the clause); a second 2.10 application of
    a project is 409.
    """
    ent = client_as("enterprise")
    pid = _project(ent, _firms(platform)["own"], {"total_investment": 1000000, "equipment_investment": 1000000})
    r = ent.post("/api/v1/applications", json={"project_id": pid, "clause": "2.10"})
    assert r.status_code == 422 and r.json()["problems"][0]["code"] == "not_eligible"
    pid2 = _project(ent, _firms(platform)["own"], MAJOR)
    _application(ent, pid2)
    assert ent.post("/api/v1/applications", json={"project_id": pid2, "clause": "2.10"}).status_code == 409


def test_application_pages_when_opened_show_snapshot_trail_and_allowed_buttons(platform, client_as):
    """The detail page shows amount, clause text, audit trail and only the moves the actor may make; the list filters by
    status.
    """
    ent, admin, auditor = client_as("enterprise"), client_as("admin"), client_as("auditor")
    aid = _application(ent, _project(ent, _firms(platform)["own"], MAJOR, name="页面项目"))["id"]
    page = ent.get(f"/applications/{aid}")
    assert (
        page.status_code == 200 and 'id="amount">800,000.00<' in page.text and "按设备投资额的10%给予补助" in page.text
    )
    assert (
        'data-action="submit"' in page.text
        and 'data-action="approve"' not in page.text
        and 'data-audit="application.create"' in page.text
    )
    with platform.uow.read() as conn:  # the class the amount was computed with names its evaluation run
        used = published_class(conn, _firms(platform)["own"])
    assert used and f'<a href="/evaluations/{used["run_id"]}">依据亩均评价 #{used["run_id"]}</a>' in page.text
    r = ent.post(
        f"/applications/{aid}/submit", data={"csrf_token": ent.headers["X-CSRF-Token"]}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/applications/{aid}"
    _move(admin, aid, "start_review")
    assert (
        'data-action="approve"' in admin.get(f"/applications/{aid}").text
        and 'data-action="reject"' in admin.get(f"/applications/{aid}").text
    )
    assert 'id="actions"' not in auditor.get(f"/applications/{aid}").text
    listing = ent.get("/applications", params={"status": "under_review"})
    assert listing.status_code == 200 and f'data-application="{aid}"' in listing.text
    assert f'data-application="{aid}"' not in ent.get("/applications", params={"status": "paid"}).text
    xlsx = admin.get("/applications.xlsx", params={"status": "under_review"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_new_application_page_when_previewed_then_created_makes_a_draft(platform, client_as):
    """/applications/new computes the amount with its grounds, then saves the project and a draft; department and
    auditor get 403.
    """
    ent = client_as("enterprise")
    form = {
        "credit_code": _firms(platform)["own"],
        "name": "网页申请",
        "application_date": "2023-05-01",
        "clause": "2.10",
        "total_investment": "15000000",
        "equipment_investment": "8000000",
        "do": "preview",
    }
    r = ent.post("/applications/new", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'class="amount">800,000.00<' in r.text and 'id="create-draft"' in r.text
    r = ent.post("/applications/new", data={**form, "do": "create"}, headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/applications/")
    assert ent.get(r.headers["HX-Redirect"]).status_code == 200
    bad = ent.post("/applications/new", data={**form, "equipment_investment": "八百万"})
    assert (
        bad.status_code == 422
        and 'class="field-error"' in bad.text.split('data-field="equipment_investment"')[1].split("</label>")[0]
    )
    for role in ("department", "auditor"):
        assert client_as(role).get("/applications/new").status_code == 403
    foreign = client_as("town").post(
        "/applications/new",
        data={**form, "credit_code": _firms(platform)["other_town"]},
        headers={"HX-Request": "true"},
    )
    assert (
        foreign.status_code == 200
        and "不在您的管理范围内" in foreign.text.split('data-field="credit_code"')[1].split("</label>")[0]
    )


def test_project_when_patched_changes_only_while_drafts(platform, client_as):
    """A project's inputs change while its application is a draft (audited); after submission the change is 409."""
    ent = client_as("enterprise")
    pid = _project(ent, _firms(platform)["own"], MAJOR)
    aid = _application(ent, pid)["id"]
    r = ent.patch(
        f"/api/v1/projects/{pid}", json={"inputs": {"total_investment": 15000000, "equipment_investment": 9000000}}
    )
    assert r.status_code == 200 and r.json()["inputs"]["equipment_investment"] == "9000000"
    assert (
        ent.patch(f"/api/v1/projects/{pid}", json={"name": "二期"}).json()["inputs"]["equipment_investment"]
        == "9000000"
    )
    assert _move(ent, aid, "recompute").json()["amount"] == "900000.00"
    _move(ent, aid, "submit")
    assert ent.patch(f"/api/v1/projects/{pid}", json={"name": "改名"}).status_code == 409
    with platform.uow.read() as conn:
        assert conn.execute(
            select(audit_log.c.action).where(audit_log.c.entity_type == "project", audit_log.c.entity_id == str(pid))
        ).scalars().all() == ["project.create", "project.update", "project.update"]


@pytest.mark.parametrize("role", ROLES)
def test_application_list_when_read_by_each_role_is_scoped(platform, client_as, role):
    """Every role reads the list; town and enterprise only see their own firms' applications."""
    r = client_as(role).get("/api/v1/applications", params={"per_page": 200})
    assert r.status_code == 200
    items = r.json()["items"]
    own = _firms(platform)["own"]
    if role == "town":
        assert all(i["town"] == DUQIAO for i in items)
    if role == "enterprise":
        assert all(i["credit_code"] == own for i in items)


def test_application_times_when_listed_and_exported_are_beijing_time_with_the_zone_named(platform, client_as):
    """A time stored as 02:00 UTC reads 10:00（北京时间） on the list, the detail page and in the Excel export."""
    import datetime as dt
    import io

    import openpyxl
    from sqlalchemy import update

    ent = client_as("enterprise")
    aid = _application(ent, _project(ent, _firms(platform)["own"], MAJOR, name="北京时间项目"))["id"]
    stored = dt.datetime(2023, 3, 1, 2, 0, tzinfo=dt.UTC)
    with platform.uow.write(None) as w:
        w.conn.execute(
            update(subsidy_applications)
            .where(subsidy_applications.c.id == aid)
            .values(created_at=stored, updated_at=stored, computed_at=stored)
        )
    row = ent.get("/applications").text.split(f'data-application="{aid}"')[1].split("</tr>")[0]
    assert "2023-03-01 10:00（北京时间）" in row and "02:00" not in row
    detail = ent.get(f"/applications/{aid}").text
    assert "2023-03-01 10:00:00（北京时间）" in detail
    book = openpyxl.load_workbook(io.BytesIO(ent.get("/applications.xlsx").content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    line = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == aid)
    created, updated = header.index("创建时间（北京时间）"), header.index("更新时间（北京时间）")
    assert line[created] == line[updated] == dt.datetime(2023, 3, 1, 10, 0)


def _returned(admin, aid: int, note: str = "设备投资需扣除非生产性设备") -> None:
    for action, body in (("start_review", {}), ("reject", {"note": note})):
        assert _move(admin, aid, action, **body).status_code == 200


def test_returned_application_when_corrected_and_resubmitted_recomputes_the_amount(platform):
    """The applicant corrects every input of a returned application: one transaction moves it back to draft, changes
    the project, recomputes (800,000 → 600,000) and submits it again, each step audited.
    """
    from tenglong.services.accounts.auth import actor_of
    from tenglong.services.subsidies import applications as subsidies

    with platform.uow.read() as conn:
        ent = actor_of(conn.execute(select(users).where(users.c.username == "enterprise")).one())
    admin = client_for(platform, "admin")
    c = client_for(platform, "enterprise")
    aid = _application(c, _project(c, _firms(platform)["own"], MAJOR, name="退回修改项目"))["id"]
    _move(c, aid, "submit")
    _returned(admin, aid)
    out = subsidies.revise_application(
        platform.uow,
        ent,
        aid,
        "退回修改项目（修改后）",
        "2023-04-01",
        {"total_investment": 15000000, "equipment_investment": 6000000, "traditional_industry": True},
        submit=True,
    )
    assert out == {"id": aid, "status": "submitted", "amount": Decimal("600000.00")}
    got = c.get(f"/api/v1/applications/{aid}").json()
    assert got["status"] == "submitted" and got["amount"] == "600000.00" and got["returned"] is True
    assert got["project"]["name"] == "退回修改项目（修改后）" and got["project"]["application_date"] == "2023-04-01"
    assert got["project"]["inputs"]["equipment_investment"] == "6000000"
    actions = [e["action"] for e in got["audit"]]
    assert actions[-5:] == [
        "application.start_review",
        "application.reject",
        "application.revise",
        "application.recompute",
        "application.submit",
    ]
    with platform.uow.read() as conn:
        assert conn.execute(
            select(audit_log.c.action)
            .where(audit_log.c.entity_type == "project", audit_log.c.entity_id == str(got["project"]["id"]))
            .order_by(audit_log.c.id)
        ).scalars().all() == ["project.create", "project.update"]
    admin.close()
    c.close()


def test_returned_application_when_the_correction_is_invalid_changes_nothing_and_lists_every_problem(
    platform, client_as
):
    """A bad date, a negative input, an empty name, another firm and another clause: 422 with all five problems; the
    application stays returned, its project and amount as they were; a submitted one cannot be corrected (409).
    """
    c, admin = client_as("enterprise"), client_as("admin")
    aid = _application(c, _project(c, _firms(platform)["own"], MAJOR, name="无效修改项目"))["id"]
    _move(c, aid, "submit")
    r = c.post(
        f"/applications/{aid}/edit",
        data={"name": "x", "application_date": "2023-03-01", "do": "save", **{k: str(v) for k, v in MAJOR.items()}},
        follow_redirects=False,
    )
    assert r.status_code == 409
    _returned(admin, aid)
    r = c.post(
        f"/applications/{aid}/edit",
        data={
            "credit_code": _firms(platform)["same_town"],
            "clause": "2.11",
            "name": " ",
            "application_date": "2023-02-30",
            "total_investment": "15000000",
            "equipment_investment": "-5",
            "do": "submit",
        },
    )
    assert r.status_code == 422
    for field in ("credit_code", "name", "application_date", "equipment_investment"):
        assert 'class="field-error"' in r.text.split(f'data-field="{field}"')[1].split("</label>")[0], field
    assert "不能更换条款" in r.text
    got = c.get(f"/api/v1/applications/{aid}").json()
    assert got["status"] == "rejected" and got["amount"] == "800000.00" and got["project"]["name"] == "无效修改项目"


def test_edit_page_when_a_returned_application_is_corrected_prefills_the_form_and_resubmits(platform, client_as):
    """The returned application's page says why and links to the form, filled in with the project; "保存并重新提交"
    recomputes and submits; the detail page labels the next submission 修改后重新提交.
    """
    c, admin = client_as("enterprise"), client_as("admin")
    aid = _application(c, _project(c, _firms(platform)["own"], MAJOR, name="页面修改项目"))["id"]
    _move(c, aid, "submit")
    _returned(admin, aid, note="请补充设备发票")
    page = c.get(f"/applications/{aid}").text
    assert "请补充设备发票" in page and f'href="/applications/{aid}/edit"' in page and "已退回修改" in page
    form = c.get(f"/applications/{aid}/edit").text
    assert 'value="页面修改项目"' in form
    # the stored 8,000,000 元 is filled back in 万元, the unit of the field, with 万元 chosen in its switch
    assert re.search(r'name="equipment_investment" [^>]*value="800"', form)
    assert re.search(r'name="equipment_investment__unit".*?<option value="万元" selected>', form, re.S)
    assert f'action="/applications/{aid}/edit"' in form and 'id="resubmit"' in form
    fields = {"name": "页面修改项目", "application_date": "2023-03-01", "total_investment": "15000000"}
    r = c.post(
        f"/applications/{aid}/edit",
        data={**fields, "equipment_investment": "9000000", "do": "preview"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and 'class="amount">900,000.00<' in r.text
    r = c.post(
        f"/applications/{aid}/edit",
        data={**fields, "equipment_investment": "9000000", "do": "save"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/applications/{aid}"
    draft = c.get(f"/applications/{aid}").text
    assert 'id="amount">900,000.00<' in draft and "修改后重新提交" in draft
    r = c.post(
        f"/applications/{aid}/edit",
        data={**fields, "equipment_investment": "7000000", "do": "submit"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    got = c.get(f"/api/v1/applications/{aid}").json()
    assert got["status"] == "submitted" and got["amount"] == "700000.00"
    assert client_as("department").get(f"/applications/{aid}/edit").status_code == 403


def _recommended(c_dept, aid: int, amount: str = "750000.00", opinion: str = "部分设备不属生产性设备") -> None:
    assert _move(c_dept, aid, "start_review").status_code == 200
    r = _move(c_dept, aid, "recommend", opinion=opinion, recommended_amount=amount)
    assert r.status_code == 200 and r.json()["status"] == "recommended", r.text


def test_approve_when_lower_than_computed_needs_a_reason_and_records_it(platform, client_as):
    """Approving 750,000 of a computed 800,000 without a reason is 422 naming the reason; with one it is approved, the
    ledger grants 750,000 and the page shows computed, recommended and approved side by side in 万元 and 元.
    """
    ent, dept, admin = client_as("enterprise"), client_as("department"), client_as("admin")
    aid = _application(ent, _project(ent, _firms(platform)["own"], MAJOR, name="核减项目"))["id"]
    _move(ent, aid, "submit")
    _recommended(dept, aid)
    r = _move(admin, aid, "approve", approved_amount="750000.00")
    assert r.status_code == 422 and [p["where"] for p in r.json()["problems"]] == ["reason"]
    assert (
        "750,000.00" in r.json()["problems"][0]["message_zh"] and "800,000.00" in r.json()["problems"][0]["message_zh"]
    )
    r = _move(admin, aid, "approve", approved_amount="750000.00", reason="部分设备不属生产性设备")
    assert r.status_code == 200 and r.json()["amounts"] == {
        "computed": "800000.00",
        "recommended": "750000.00",
        "approved": "750000.00",
        "paid": None,
    }
    assert r.json()["approval"]["reason"] == "部分设备不属生产性设备"
    page = admin.get(f"/applications/{aid}").text
    cells = {k: page.split(f'data-amount="{k}"')[1].split("</div>")[0] for k in ("computed", "recommended", "approved")}
    assert "80.00" in cells["computed"] and "800,000.00" in cells["computed"]
    assert "75.00" in cells["recommended"] and "750,000.00" in cells["recommended"]
    assert "75.00" in cells["approved"] and "750,000.00" in cells["approved"] and "万元" in cells["approved"]
    assert "部分设备不属生产性设备" in page.split('id="reduction"')[1]


def test_approve_when_higher_than_computed_is_refused_naming_both_amounts(platform, client_as):
    """An approval of 800,000.01 (or a recommendation of 900,000) of a computed 800,000 is 422, naming both amounts;
    nothing is granted.
    """
    ent, dept, admin = client_as("enterprise"), client_as("department"), client_as("admin")
    aid = _application(ent, _project(ent, _firms(platform)["own"], MAJOR, name="超额项目"))["id"]
    _move(ent, aid, "submit")
    _move(dept, aid, "start_review")
    r = _move(dept, aid, "recommend", opinion="同意", recommended_amount="900000")
    assert r.status_code == 422 and "900,000.00" in r.json()["problems"][0]["message_zh"]
    r = _move(admin, aid, "approve", approved_amount="800000.01", reason="x")
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "approved_amount"
    message = r.json()["problems"][0]
    assert "800,000.01" in message["message_zh"] and "800,000.00" in message["message_zh"]
    assert "800,000.01" in message["message_en"] and "800,000.00" in message["message_en"]
    got = admin.get(f"/api/v1/applications/{aid}").json()
    assert got["status"] == "under_review" and got["ledger"] == [] and got["amounts"]["approved"] is None


def test_page_moves_when_confirm_is_missing_show_a_confirmation_and_change_nothing(platform, client_as):
    """Approve, pay, return and withdraw posted from a page without confirm=1 answer a confirmation page saying what
    would happen ("核定补助 75.00 万元（750,000.00 元），计入 2023 年度台账"), and nothing changes; with confirm=1 the
    move is made.
    """
    ent, dept, admin = client_as("enterprise"), client_as("department"), client_as("admin")
    aid = _application(ent, _project(ent, _firms(platform)["own"], MAJOR, name="确认项目"))["id"]
    token = {"csrf_token": admin.headers["X-CSRF-Token"]}
    _move(ent, aid, "submit")
    _recommended(dept, aid)
    form = {**token, "approved_amount": "750,000.00", "reason": "部分设备不属生产性设备"}
    r = admin.post(f"/applications/{aid}/approve", data=form, follow_redirects=False)
    assert r.status_code == 200 and 'id="confirm-summary"' in r.text
    assert (
        "批准后将核定补助 75.00 万元（750,000.00 元），计入 2023 年度台账" in r.text and "核减 50,000.00 元" in r.text
    )
    assert 'name="confirm" value="1"' in r.text
    assert admin.get(f"/api/v1/applications/{aid}").json()["status"] == "recommended"
    assert (
        admin.post(f"/applications/{aid}/approve", data={**form, "confirm": "1"}, follow_redirects=False).status_code
        == 303
    )
    r = admin.post(f"/applications/{aid}/pay", data={**token, "reference": "LHCZ-2023-0777"}, follow_redirects=False)
    assert r.status_code == 200 and "拨付 75.00 万元（750,000.00 元），凭证号 LHCZ-2023-0777" in r.text
    assert admin.get(f"/api/v1/applications/{aid}").json()["status"] == "approved"
    r = admin.post(
        f"/applications/{aid}/pay",
        data={**token, "reference": "LHCZ-2023-0777", "confirm": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and admin.get(f"/api/v1/applications/{aid}").json()["amounts"]["paid"] == "750000.00"
    other = _application(ent, _project(ent, _firms(platform)["own"], MAJOR, name="撤回确认项目"))["id"]
    r = ent.post(f"/applications/{other}/withdraw", data={"csrf_token": ent.headers["X-CSRF-Token"]})
    assert r.status_code == 200 and "不能恢复" in r.text
    assert ent.get(f"/api/v1/applications/{other}").json()["status"] == "draft"
    page = admin.get(f"/applications/{aid}").text
    assert 'data-confirm-field="confirm"' not in page  # paid: no move left to confirm


def test_detail_page_when_printed_has_the_policy_inputs_trail_and_signature_lines(platform, client_as):
    """The page carries what an office files: the policy and its validity, every input with its unit, the clause text,
    the trail, the print time in Beijing time and 经办人 / 审核人 / 批准人 / 日期 lines (printed only).
    """
    ent = client_as("enterprise")
    aid = _application(ent, _project(ent, _firms(platform)["own"], MAJOR, name="打印项目"))["id"]
    page = ent.get(f"/applications/{aid}").text
    assert "临政发〔2022〕22号" in page and "2022-07-16 至 2023-12-31" in page
    inputs = page.split('id="inputs"')[1].split("</section>")[0]
    assert "15,000,000.00 元" in inputs and "8,000,000.00 元" in inputs
    signatures = page.split('id="signatures"')[1].split("</section>")[0]
    assert all(w in signatures for w in ("经办人", "审核人", "批准人", "日期", "北京时间"))
    assert 'class="print-only signatures"' in page and 'id="audit"' in page and "按设备投资额的10%给予补助" in page
