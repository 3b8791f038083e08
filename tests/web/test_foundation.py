"""The platform's foundation: sign-in, sessions, CSRF, throttling, the error envelope, settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from tenglong.adapters.db.tables import audit_log, evaluation_runs
from tenglong.settings import DEMO_SECRET, Settings

from .conftest import client_for, make_platform


def test_settings_when_production_with_demo_secret_refuse_to_start():
    """Production refuses the shipped secret and the demo accounts, naming the variable."""
    with pytest.raises(ValidationError, match="TENGLONG_SECRET_KEY"):
        Settings(environment="production", secret_key=DEMO_SECRET, demo=False)
    with pytest.raises(ValidationError, match="TENGLONG_DEMO"):
        Settings(environment="production", secret_key="x" * 40, demo=True)
    assert Settings(environment="production", secret_key="x" * 40, demo=False).environment == "production"


def test_bootstrap_when_database_empty_loads_evaluates_and_publishes(any_platform):
    """First start creates the demo county and one published run per year, each audited."""
    with any_platform.uow.read() as conn:
        runs = conn.execute(select(evaluation_runs.c.year, evaluation_runs.c.status)).all()
        audits = conn.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.action == "evaluation.publish")
        ).scalar_one()
    assert sorted(runs) == [(2021, "published"), (2022, "published"), (2023, "published")]
    assert audits == 3


def test_login_when_password_wrong_is_refused_and_then_throttled(tmp_path):
    """Five failures within the window lock the account for that address (429), even with the right password."""
    p = make_platform(f"sqlite:///{tmp_path / 'x.db'}")
    c = client_for(p, None)
    for _ in range(5):
        r = c.post("/api/v1/session", json={"username": "admin", "password": "wrong"})
        assert r.status_code == 401 and r.json()["code"] == "login_failed"
    r = c.post("/api/v1/session", json={"username": "admin", "password": "demo-tenglong-2023"})
    assert r.status_code == 429 and r.json()["message"]["en"].startswith("Too many")


def test_session_cookie_when_signed_in_is_httponly_and_samesite(platform):
    """The session cookie is HttpOnly and SameSite=Lax."""
    c = client_for(platform, None)
    r = c.post("/api/v1/session", json={"username": "admin", "password": "demo-tenglong-2023"})
    cookie = r.headers["set-cookie"]
    assert "tl_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


def test_writes_when_csrf_token_missing_are_refused(platform):
    """An unsafe request without the session's CSRF token gets 403 in the error envelope."""
    c = client_for(platform, "admin")
    del c.headers["X-CSRF-Token"]
    r = c.post("/api/v1/calculate", json={"as_of": "2023-01-01"})
    assert r.status_code == 403
    body = r.json()
    assert body["ok"] is False and body["code"] == "forbidden" and body["message"]["zh"] and body["message"]["en"]


def test_api_when_not_signed_in_answers_401_envelope(platform):
    """Anonymous API calls get 401 with the same envelope."""
    r = client_for(platform, None).get("/api/v1/session")
    assert r.status_code == 401 and r.json() == {
        "ok": False,
        "status": 401,
        "code": "not_signed_in",
        "message": {"zh": "请先登录。", "en": "Please sign in."},
        "problems": [],
    }


def test_calculate_api_when_posted_serves_the_cli_contract(platform):
    """POST /api/v1/calculate gives the same answer as `tenglong calculate`; bad input is 422 with every problem."""
    c = client_for(platform, "enterprise")
    doc = {
        "as_of": "2023-03-01",
        "enterprises": {"E1": {}},
        "projects": {
            "P1": {
                "enterprise": "E1",
                "total_investment": 15000000,
                "equipment_investment": 8000000,
                "tech_renovation_subsidy": None,
            }
        },
    }
    r = c.post("/api/v1/calculate", json=doc)
    assert r.status_code == 200 and r.json()["projects"]["P1"]["tech_renovation_subsidy"] == 800000
    assert r.json()["explanations"]["projects"]["P1"]["tech_renovation_subsidy"]["clause"] == "2.10"
    bad = c.post(
        "/api/v1/calculate",
        content=b'{"as_of": "2023-02-30", "projects": {"P1": {"enterprise": "E9"}}}',
        headers={"content-type": "application/json"},
    )
    assert bad.status_code == 422
    assert {p["code"] for p in bad.json()["problems"]} == {"invalid_date", "missing_reference"}


def test_login_page_when_submitted_sets_cookie_and_redirects(platform):
    """The HTML sign-in form (with its double-submit token) signs in and redirects to the dashboard."""
    c = client_for(platform, None)
    page = c.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = c.post(
        "/login",
        data={"username": "town", "password": "demo-tenglong-2023", "csrf_token": token, "next": "/dashboard"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/dashboard" and "tl_session" in r.headers["set-cookie"]
    r = c.post(
        "/login",
        data={"username": "town", "password": "demo-tenglong-2023", "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403
