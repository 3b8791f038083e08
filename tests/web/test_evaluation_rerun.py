"""Rerunning a failed evaluation run (admin only): POST /api/v1/evaluations/{id}/rerun and the button of the run page.

On a private demo platform (SQLite): the shared one must not get extra runs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenglong.adapters.db.tables import audit_log, users
from tenglong.services.accounts.auth import actor_of
from tenglong.services.evaluation import runs
from tenglong.services.kernel.platform import Platform

from .conftest import client_for, make_platform

YEAR = 2023
REASON = "测试：服务器在计算过程中停止 / test: the server stopped during the run"
PAGE = {"accept": "text/html"}


@pytest.fixture(scope="module")
def private(tmp_path_factory) -> Platform:
    """A demo platform of this module alone."""
    tmp = tmp_path_factory.mktemp("rerun")
    return make_platform(f"sqlite:///{tmp / 'rerun.db'}", upload_dir=str(tmp / "uploads"))


@pytest.fixture(scope="module")
def clients(private) -> Iterator[dict[str, TestClient]]:
    """A signed-in client per role that matters here."""
    out = {role: client_for(private, role) for role in ("admin", "department", "town", "auditor")}
    yield out
    for c in out.values():
        c.close()


def failed_run(p: Platform) -> int:
    """A run of the year that failed with REASON."""
    with p.uow.read() as conn:
        admin = actor_of(conn.execute(select(users).where(users.c.username == "admin")).one())
    run_id = runs.create_run(p.uow, admin, YEAR, method_title="rerun test")
    assert runs.fail(p.uow, run_id, REASON)
    return run_id


def finished(c: TestClient, run_id: int, timeout: float = 120) -> dict[str, Any]:
    """The run, once it is no longer queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        run = c.get(f"/api/v1/evaluations/{run_id}").json()
        if run["status"] not in runs.ACTIVE:
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)


def test_rerun_api_when_admin_reruns_a_failed_run_queues_it_and_it_ends_done(private, clients):
    """202 with the run (the schema of GET), queued again with no message; it ends done, with results; audited."""
    admin = clients["admin"]
    run_id = failed_run(private)
    before = admin.get(f"/api/v1/evaluations/{run_id}").json()
    assert before["status"] == "failed" and before["message"] == REASON
    r = admin.post(f"/api/v1/evaluations/{run_id}/rerun")
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body) == set(before) and body["id"] == run_id and body["year"] == YEAR
    assert body["status"] in (*runs.ACTIVE, "done") and body["message"] != REASON
    assert body["method_title"] == "rerun test"
    done = finished(admin, run_id)
    assert done["status"] == "done" and done["progress"] == 1.0 and done["message"] is None
    assert admin.get(f"/api/v1/evaluations/{run_id}/results").json()["total"] > 0
    with private.uow.read() as conn:
        actions = conn.execute(
            select(audit_log.c.action, audit_log.c.actor).where(
                audit_log.c.entity_type == "evaluation_run", audit_log.c.entity_id == str(run_id)
            )
        ).all()
    assert ("evaluation.rerun", "admin") in [tuple(a) for a in actions], actions


def test_rerun_api_when_not_admin_is_refused_and_the_run_stays_failed(private, clients):
    """Department and auditor (who see the run): 403; town (who does not): 404. Nothing changes."""
    run_id = failed_run(private)
    for role, status, code in (
        ("department", 403, "forbidden"),
        ("auditor", 403, "forbidden"),
        ("town", 404, "not_found"),
    ):
        r = clients[role].post(f"/api/v1/evaluations/{run_id}/rerun")
        assert r.status_code == status and r.json()["code"] == code, (role, r.text)
    run = clients["admin"].get(f"/api/v1/evaluations/{run_id}").json()
    assert run["status"] == "failed" and run["message"] == REASON


def test_rerun_api_when_run_has_not_failed_answers_409(private, clients):
    """A done run (and a published one) cannot be rerun: 409 in the error envelope, the run unchanged."""
    admin = clients["admin"]
    run_id = failed_run(private)
    assert admin.post(f"/api/v1/evaluations/{run_id}/rerun").status_code == 202
    assert finished(admin, run_id)["status"] == "done"
    published = next(r["id"] for r in admin.get("/api/v1/evaluations").json() if r["status"] == "published")
    for target in (run_id, published):
        r = admin.post(f"/api/v1/evaluations/{target}/rerun")
        assert r.status_code == 409 and r.json()["code"] == "conflict", r.text
    assert admin.get(f"/api/v1/evaluations/{run_id}").json()["status"] == "done"
    assert admin.post("/api/v1/evaluations/999999/rerun").status_code == 404


def test_run_page_when_run_failed_shows_the_reason_and_the_rerun_button_to_admin_only(private, clients):
    """Admin sees the failure reason and the rerun button; the department sees the reason and no button."""
    run_id = failed_run(private)
    admin_page = clients["admin"].get(f"/evaluations/{run_id}").text
    assert 'id="run-failure"' in admin_page and "测试：服务器在计算过程中停止" in admin_page
    assert re.search(rf'<form method="post" action="/evaluations/{run_id}/rerun"[^>]*id="rerun-form"', admin_page)
    assert "重新计算" in admin_page
    department_page = clients["department"].get(f"/evaluations/{run_id}").text
    assert 'id="run-failure"' in department_page and 'id="rerun-form"' not in department_page


def test_rerun_page_when_admin_posts_the_form_redirects_to_the_run_which_ends_done(private, clients):
    """The button posts the form (with its CSRF token): 303 to the run's page; the run ends done and the button goes."""
    admin = clients["admin"]
    run_id = failed_run(private)
    token = re.search(r'name="csrf_token" value="([^"]+)"', admin.get(f"/evaluations/{run_id}").text)[1]
    url, form = f"/evaluations/{run_id}/rerun", {"csrf_token": token}
    with TestClient(admin.app) as anonymous:
        r = anonymous.post(url, data=form, headers=PAGE, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with TestClient(admin.app, cookies=admin.cookies) as browser:  # the form's token, no X-CSRF-Token header
        r = browser.post(url, data={"csrf_token": "stale"}, headers=PAGE, follow_redirects=False)
        assert r.status_code == 403 and admin.get(f"/api/v1/evaluations/{run_id}").json()["status"] == "failed"
        r = browser.post(url, data=form, headers=PAGE, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/evaluations/{run_id}"
    assert finished(admin, run_id)["status"] == "done"
    page = admin.get(f"/evaluations/{run_id}").text
    assert 'id="rerun-form"' not in page and 'id="run-failure"' not in page
    r = admin.post(f"/evaluations/{run_id}/rerun", headers=PAGE, follow_redirects=False)
    assert r.status_code == 409 and "text/html" in r.headers["content-type"]
