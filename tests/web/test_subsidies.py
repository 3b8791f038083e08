"""补助申请: projects, exact amounts, the 2.10 yearly cap, the workflow with its audit trail, and who may see and do
what.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tenglong.adapters.db.tables import audit_log, enterprises, subsidy_applications, users

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


def test_application_when_enterprise_has_approved_ordinary_project_applies_the_200_wan_cap(platform, client_as):
    """An approved 1,500,000 ordinary project leaves 500,000 of the 2,000,000 yearly cap; the snapshot names the project
    counted.
    """
    admin = client_as("admin")
    firm = _firms(platform)["cap_a"]
    first = _application(
        admin,
        _project(admin, firm, {"total_investment": 3000000, "equipment_investment": 30000000}, "2022-09-01", "第一期"),
    )
    assert first["amount"] == "1500000.00" and first["amount_detail"]["tech_renovation_tier"] == "ordinary"
    for action, body in (("submit", {}), ("start_review", {}), ("approve", {"note": "同意"})):
        assert _move(admin, first["id"], action, **body).status_code == 200
    pid = _project(admin, firm, {"total_investment": 3000000, "equipment_investment": 20000000}, "2022-10-01", "第二期")
    computed = admin.post(f"/api/v1/projects/{pid}/compute").json()
    assert computed["answer"]["projects"][f"P-{pid}"]["tech_renovation_subsidy"] == 500000
    second = _application(admin, pid)
    assert second["amount"] == "500000.00"
    counted = second["amount_detail"]["counted_projects"]
    assert [(c["application_id"], c["granted"]) for c in counted] == [(first["id"], "1500000.00")]
    assert "此前已核定普通技改补助 1,500,000.00 元" in " ".join(
        second["explanation"]["zh"]["tech_renovation_subsidy"]["because"]
    )
    page = admin.get(f"/applications/{second['id']}").text
    assert f'data-counted="{counted[0]["project_id"]}"' in page


def test_approve_when_it_would_pass_the_yearly_cap_is_refused(platform, client_as):
    """Two ordinary drafts computed before either was approved cannot both be approved beyond 2,000,000 (409)."""
    admin = client_as("admin")
    firm = _firms(platform)["cap_b"]
    a = _application(
        admin, _project(admin, firm, {"total_investment": 3000000, "equipment_investment": 30000000}, "2022-09-01")
    )
    b = _application(
        admin, _project(admin, firm, {"total_investment": 3000000, "equipment_investment": 20000000}, "2022-10-01")
    )
    assert (a["amount"], b["amount"]) == ("1500000.00", "1000000.00")
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
