"""Free text that is too long is refused with a clear 422 naming the field, never cut short or left to the database."""

from __future__ import annotations

from sqlalchemy import select

from tenglong.adapters.db.tables import enterprises

MAJOR = {"total_investment": 15000000, "equipment_investment": 8000000}


def _firm(p) -> str:
    with p.uow.read() as conn:
        return conn.execute(select(enterprises.c.credit_code).order_by(enterprises.c.credit_code).limit(1)).scalar_one()


def test_project_name_when_201_characters_is_refused_and_200_is_kept_whole(platform, client_as):
    """A 201-character project name → 422 too_long on ``name``; a 200-character one is stored exactly."""
    admin, code = client_as("admin"), _firm(platform)
    body = {"credit_code": code, "application_date": "2023-03-01", "inputs": MAJOR}
    r = admin.post("/api/v1/projects", json={**body, "name": "项" * 201})
    assert r.status_code == 422 and [(p["code"], p["where"]) for p in r.json()["problems"]] == [("too_long", "name")]
    assert "201" in r.json()["problems"][0]["message_zh"]
    ok = admin.post("/api/v1/projects", json={**body, "name": "项" * 200})
    assert ok.status_code == 201 and ok.json()["name"] == "项" * 200


def test_method_title_when_201_characters_is_refused_before_a_run_starts(platform, client_as):
    """An evaluation method whose title is 201 characters → 422 naming ``title``; no run is queued."""
    admin = client_as("admin")
    before = len(admin.get("/api/v1/evaluations").json())
    r = admin.post(
        "/api/v1/evaluations",
        json={"year": 2023, "method": {"title": "长" * 201, "changes": {"mujun.score_decimals": 3}}},
    )
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "title"
    assert len(admin.get("/api/v1/evaluations").json()) == before
