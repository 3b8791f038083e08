"""系统管理 and 审计日志: accounts (admin only, audited without secrets) and the read-only audit log (admin and
auditor).
"""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import io
import json
import re
import uuid

import openpyxl
from sqlalchemy import select

from tenglong.adapters.db.tables import audit_log, users
from tenglong.services.accounts import users as users_service
from tenglong.services.audit import log as audit_view
from tenglong.settings import DEMO_PASSWORD

from .conftest import client_for

PASSWORD = "correct-horse-battery"


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _create(c, **fields) -> dict:
    body = {
        "username": _name("u"),
        "display_name": "测试 账号",
        "password": PASSWORD,
        "role": "town",
        "town": "331082112",
        **fields,
    }
    r = c.post("/api/v1/admin/users", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _audit_rows(p, action: str, entity_id: int) -> list:
    with p.uow.read() as conn:
        return conn.execute(
            select(audit_log).where(audit_log.c.action == action, audit_log.c.entity_id == str(entity_id))
        ).all()


def _sign_in(p, username: str, password: str):
    c = client_for(p, None)
    return c, c.post("/api/v1/session", json={"username": username, "password": password})


def test_user_admin_when_role_is_not_admin_answers_403(client_as):
    """department, town, enterprise and auditor get 403 on every user route, for existing and guessed ids."""
    for role in ("department", "town", "enterprise", "auditor"):
        c = client_as(role)
        for method, path in [
            ("get", "/api/v1/admin/users"),
            ("post", "/api/v1/admin/users/1/deactivate"),
            ("post", "/api/v1/admin/users/99999/reactivate"),
            ("get", "/admin/users"),
            ("post", "/admin/users/1/deactivate"),
        ]:
            r = getattr(c, method)(path)
            assert r.status_code == 403 and r.json()["code"] == "forbidden", (role, path)
        assert (
            c.post(
                "/api/v1/admin/users",
                json={"username": "x", "display_name": "x", "password": PASSWORD, "role": "admin"},
            ).status_code
            == 403
        )
        assert c.post("/api/v1/admin/users/1/reset-password", json={"password": PASSWORD}).status_code == 403


def test_audit_routes_when_role_may_not_read_audit_answer_403_and_auditor_200(client_as):
    """Only admin and auditor read the audit log and its exports; the auditor still cannot manage users or import."""
    for role in ("department", "town", "enterprise"):
        c = client_as(role)
        for path in ("/api/v1/audit", "/api/v1/audit/export.xlsx", "/api/v1/audit/export.csv", "/admin/audit"):
            assert c.get(path).status_code == 403, (role, path)
    auditor = client_as("auditor")
    for path in ("/api/v1/audit", "/api/v1/audit/export.xlsx", "/api/v1/audit/export.csv", "/admin/audit"):
        assert auditor.get(path).status_code == 200, path
    assert auditor.get("/admin", follow_redirects=False).headers["location"] == "/admin/audit"
    assert auditor.get("/api/v1/imports").status_code == 403 and auditor.get("/api/v1/admin/users").status_code == 403


def test_admin_routes_when_anonymous_answer_401_or_redirect_to_login(client_as):
    """Without a session: 401 from the API, a redirect to the login page from the pages."""
    c = client_as(None)
    assert c.get("/api/v1/admin/users").status_code == 401 and c.get("/api/v1/audit").status_code == 401
    for path in ("/admin/users", "/admin/audit"):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_user_routes_when_admin_guesses_an_id_answer_404(client_as):
    """An unknown account id is 404 for every action."""
    c = client_as("admin")
    for action, body in (("deactivate", None), ("reactivate", None), ("reset-password", {"password": PASSWORD})):
        assert c.post(f"/api/v1/admin/users/99999/{action}", json=body).status_code == 404


def test_create_user_when_valid_is_audited_without_secrets_and_can_sign_in(client_as, platform):
    """A town account is created with its town, audited without password or hash, and signs in with the town's scope."""
    admin = client_as("admin")
    user = _create(admin)
    assert (
        user["role"] == "town"
        and user["town"] == "331082112"
        and user["town_name"] == "杜桥镇"
        and user["active"] is True
    )
    (record,) = _audit_rows(platform, "user.create", user["id"])
    with platform.uow.read() as conn:
        stored_hash = conn.execute(select(users.c.password_hash).where(users.c.id == user["id"])).scalar_one()
    text = json.dumps([record.before, record.after], ensure_ascii=False)
    assert (
        record.actor == "admin"
        and record.address
        and PASSWORD not in text
        and stored_hash not in text
        and "password" not in text
    )
    assert stored_hash.startswith("$argon2")
    c, r = _sign_in(platform, user["username"], PASSWORD)
    assert r.status_code == 200 and r.json()["role"] == "town" and r.json()["town"] == "331082112"
    c.close()


def test_create_user_when_form_is_wrong_lists_every_problem_without_the_password(client_as):
    """Short password, unknown town, unknown enterprise and a taken username are all reported at once (422)."""
    c = client_as("admin")
    r = c.post(
        "/api/v1/admin/users",
        json={"username": "admin", "display_name": "x", "password": "short", "role": "town", "town": "331099999"},
    )
    assert r.status_code == 422
    assert {p["code"] for p in r.json()["problems"]} == {"username_taken", "password_length", "unknown_town"}
    assert all(p["value"] != "short" for p in r.json()["problems"])
    r = c.post(
        "/api/v1/admin/users",
        json={
            "username": _name("e"),
            "display_name": "x",
            "password": PASSWORD,
            "role": "enterprise",
            "credit_code": "91331082MA0000000X",
        },
    )
    assert r.status_code == 422 and [p["code"] for p in r.json()["problems"]] == ["unknown_enterprise"]
    with_code = c.get("/api/v1/admin/users").json()
    code = next(u["credit_code"] for u in with_code if u["role"] == "enterprise")
    made = _create(c, role="enterprise", town=None, credit_code=code.lower())
    assert made["credit_code"] == code and made["enterprise_name"] and made["town"] is None


def test_users_page_when_form_has_problems_shows_them_and_keeps_the_values(client_as):
    """The create form comes back (422) with the problems and the values typed, but never the password."""
    c = client_as("admin")
    name = _name("p")
    r = c.post(
        "/admin/users",
        data={
            "username": name,
            "display_name": "新 账号",
            "password": "tiny-pass",
            "role": "department",
            "department": "",
        },
    )
    assert r.status_code == 422
    assert 'data-code="password_length"' in r.text and 'data-code="missing_department"' in r.text
    assert f'value="{name}"' in r.text and "tiny-pass" not in r.text
    r = c.post(
        "/admin/users",
        data={
            "username": name,
            "display_name": "新 账号",
            "password": PASSWORD,
            "role": "department",
            "department": "市发改局",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "notice=created" in r.headers["location"]
    page = c.get(r.headers["location"]).text
    assert f"已创建账号 {name}" in page and "市发改局" in page and "杜桥镇" in page


def test_deactivate_when_done_ends_sessions_blocks_sign_in_and_is_audited(client_as, platform):
    """Deactivating ends the account's sessions and refuses its sign-in; reactivating lets it in again; both audited."""
    admin = client_as("admin")
    user = _create(admin)
    c, r = _sign_in(platform, user["username"], PASSWORD)
    assert r.status_code == 200 and c.get("/api/v1/session").status_code == 200
    r = admin.post(f"/api/v1/admin/users/{user['id']}/deactivate")
    assert r.status_code == 200 and r.json()["user"]["active"] is False and r.json()["sessions_ended"] == 1
    assert c.get("/api/v1/session").status_code == 401
    c2, r = _sign_in(platform, user["username"], PASSWORD)
    assert r.status_code == 401 and r.json()["code"] == "login_failed"
    assert admin.post(f"/api/v1/admin/users/{user['id']}/deactivate").status_code == 409
    (record,) = _audit_rows(platform, "user.deactivate", user["id"])
    assert record.before["active"] is True and record.after == {
        "username": user["username"],
        "active": False,
        "sessions_ended": 1,
    }
    assert admin.post(f"/admin/users/{user['id']}/reactivate", follow_redirects=False).status_code == 303
    assert len(_audit_rows(platform, "user.reactivate", user["id"])) == 1
    c3, r = _sign_in(platform, user["username"], PASSWORD)
    assert r.status_code == 200
    for x in (c, c2, c3):
        x.close()


def test_deactivate_when_own_account_is_refused(client_as):
    """An administrator cannot lock themselves out (409)."""
    c = client_as("admin")
    me = next(u for u in c.get("/api/v1/admin/users").json() if u["username"] == "admin")
    r = c.post(f"/api/v1/admin/users/{me['id']}/deactivate")
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_reset_password_when_done_replaces_it_ends_sessions_and_audits_no_secret(client_as, platform):
    """After a reset the old password fails, the new one works, sessions end, and the record names no secret."""
    admin = client_as("admin")
    user = _create(admin)
    c, _ = _sign_in(platform, user["username"], PASSWORD)
    assert admin.post(f"/api/v1/admin/users/{user['id']}/reset-password", json={"password": "short"}).status_code == 422
    new = "another-long-secret-42"
    r = admin.post(f"/api/v1/admin/users/{user['id']}/reset-password", json={"password": new})
    assert r.status_code == 200 and r.json()["sessions_ended"] == 1
    assert c.get("/api/v1/session").status_code == 401
    assert _sign_in(platform, user["username"], PASSWORD)[1].status_code == 401
    assert _sign_in(platform, user["username"], new)[1].status_code == 200
    (record,) = _audit_rows(platform, "user.reset_password", user["id"])
    text = json.dumps([record.before, record.after])
    assert new not in text and "$argon2" not in text and record.after["password_changed"] is True
    page = admin.post(f"/admin/users/{user['id']}/reset-password", data={"password": "x"})
    assert page.status_code == 422 and 'data-code="password_length"' in page.text


def test_audit_api_when_filtered_narrows_by_actor_action_entity_and_dates(any_platform):
    """SQLite and PostgreSQL: each criterion narrows the log; newest first; dates are whole Beijing-time days."""
    admin = client_for(any_platform, "admin")
    try:
        user = _create(admin)
        admin.post(f"/api/v1/admin/users/{user['id']}/deactivate")
        items = admin.get("/api/v1/audit", params={"entity_type": "user", "entity_id": str(user["id"])}).json()["items"]
        assert [i["action"] for i in items] == ["user.deactivate", "user.create"]
        assert items[0]["changes"][1] == {"key": "active", "before": "true", "after": "false", "kind": "changed"}
        prefixed = admin.get("/api/v1/audit", params={"action": "user."}).json()
        assert prefixed["total"] >= 6 and all(i["action"].startswith("user.") for i in prefixed["items"])
        assert admin.get("/api/v1/audit", params={"action": "user_"}).json()["total"] == 0  # _ is no wildcard
        mine = admin.get("/api/v1/audit", params={"actor": "auditor"}).json()
        assert all(i["actor"] == "auditor" for i in mine["items"])
        today = dt.datetime.now(audit_view.LOCAL).date()
        assert (
            admin.get(
                "/api/v1/audit",
                params={"date_from": today.isoformat(), "entity_id": str(user["id"]), "entity_type": "user"},
            ).json()["total"]
            == 2
        )
        assert (
            admin.get(
                "/api/v1/audit",
                params={"date_to": (today - dt.timedelta(days=1)).isoformat(), "entity_id": str(user["id"])},
            ).json()["total"]
            == 0
        )
        assert (
            admin.get("/api/v1/audit", params={"date_from": (today + dt.timedelta(days=1)).isoformat()}).json()["total"]
            == 0
        )
        ats = [i["at"] for i in admin.get("/api/v1/audit").json()["items"]]
        assert ats == sorted(ats, reverse=True)
    finally:
        admin.close()


def test_audit_exports_when_filtered_have_chinese_headers_frozen_row_and_bom(client_as):
    """XLSX: Chinese headers, frozen header row, the filtered rows; CSV: UTF-8 with BOM, the same rows."""
    c = client_as("auditor")
    params = {"action": "evaluation."}
    total = c.get("/api/v1/audit", params=params).json()["total"]
    assert total >= 6
    book = openpyxl.load_workbook(io.BytesIO(c.get("/api/v1/audit/export.xlsx", params=params).content))
    ws = book.active
    rows = list(ws.iter_rows(values_only=True))
    assert ws.freeze_panes == "A2" and rows[0] == audit_view.HEADERS and len(rows) == total + 1
    assert all(r[4].startswith("evaluation.") for r in rows[1:])
    r = c.get("/api/v1/audit/export.csv", params=params)
    assert r.content.startswith(b"\xef\xbb\xbf") and r.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert tuple(lines[0]) == audit_view.HEADERS and len(lines) == total + 1
    assert "attachment" in r.headers["content-disposition"]


def test_audit_csv_when_a_value_looks_like_a_formula_is_defused(client_as, platform):
    """A typed username such as =1+1 (from a failed sign-in) is exported as text, not a formula."""
    c, r = _sign_in(platform, "=1+1", "whatever-password")
    assert r.status_code == 401
    c.close()
    body = (
        client_as("admin")
        .get("/api/v1/audit/export.csv", params={"action": "login.failed", "entity_id": "=1+1"})
        .content.decode("utf-8-sig")
    )
    assert "'=1+1" in body


def test_audit_routes_when_asked_to_change_answer_405_or_404(client_as):
    """There is no route that changes or deletes audit records."""
    c = client_as("admin")
    for method in ("post", "put", "patch", "delete"):
        for path in ("/api/v1/audit", "/api/v1/audit/export.csv", "/admin/audit"):
            assert getattr(c, method)(path).status_code == 405, (method, path)
        assert getattr(c, method)("/api/v1/audit/1").status_code in (404, 405)


def test_audit_service_when_inspected_has_no_way_to_change_records():
    """audit_view only reads: no update/delete function and no SQL that writes."""
    names = [n for n, f in inspect.getmembers(audit_view, inspect.isfunction) if f.__module__ == audit_view.__name__]
    assert not [n for n in names if re.match(r"_?(update|delete|remove|edit|purge|insert|write)", n)]
    source = inspect.getsource(audit_view)
    assert not re.search(r"\b(update|delete|insert)\(|\.write\(", source)


def test_audit_page_when_auditor_reads_shows_filters_diff_and_exports(client_as):
    """The page lists records newest first, compares before and after key by key, and links the exports with the
    filter.
    """
    c = client_as("auditor")
    page = c.get("/admin/audit", params={"action": "evaluation.publish"})
    assert page.status_code == 200 and 'id="audit-table"' in page.text
    assert 'class="diff"' in page.text and 'class="changed"' in page.text
    assert 'href="/api/v1/audit/export.xlsx?action=evaluation.publish"' in page.text
    assert page.text.count('data-action="evaluation.publish"') == 3
    assert "/admin/users" not in re.sub(r"<header.*?</header>", "", page.text, flags=re.S)


def test_users_page_when_admin_opens_it_lists_accounts_with_roles_and_scope(client_as):
    """Each account shows its role and scope (town name, enterprise, department) and its state."""
    c = client_as("admin")
    page = c.get("/admin/users").text
    for username in ("admin", "department", "town", "enterprise", "auditor"):
        assert f'data-username="{username}"' in page
    assert "杜桥镇" in page and "市自然资源规划局" in page and DEMO_PASSWORD not in page
    towns = users_service.town_choices()
    assert len(towns) == 21 and all(f'<option value="{code}"' in page for code, _, _ in towns)  # 19 towns and 2 zones
