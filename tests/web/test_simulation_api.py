"""What-if through the API on the demo county (SQLite and PostgreSQL): a comparison over a stored year, a sweep, a bad
reform refused whole, saved reforms versioned and audited, and who may do what."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tenglong.adapters.db.tables import audit_log, reforms

from .conftest import client_for, make_platform

QUOTA = {"A": 0.25, "B": 0.55, "C": 0.15, "D": 0.05}  # numbers, as JSON sends them (read as exact decimals)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("simulation")
    url = (
        f"sqlite:///{tmp / 's.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_database")("tenglong_simulation")
    )
    p = make_platform(url, upload_dir=str(tmp / "up"), attachment_dir=str(tmp / "files"))
    clients = {r: client_for(p, r) for r in ("admin", "department", "town", "enterprise", "auditor")}
    yield SimpleNamespace(p=p, c=clients)
    p.engine.dispose()


def test_simulation_when_the_quota_rises_moves_firms_to_a_and_says_what_it_used(site):
    r = site.c["admin"].post("/api/v1/simulations", json={"year": 2023, "reform": {"title": "A 25%", "changes": {
        "mujun.quotas_above_scale": QUOTA}}})  # fmt: skip
    assert r.status_code == 200, r.text
    doc = r.json()
    above = doc["classes"]["above_scale"]
    assert above["reform"]["A"] > above["baseline"]["A"] and above["migration"]["B"]["A"] > 0
    assert sum(above["migration"][a][b] for a in "ABCD" for b in "ABCD") == sum(above["baseline"].values())
    moved = [f for f in doc["firms"] if (f["class_baseline"], f["class_reform"]) == ("B", "A")]
    assert len(moved) == above["migration"]["B"]["A"]
    [change] = doc["changes"]
    assert (
        change["baseline"] == "A 20%、B 60%、C 15%、D 5%"
        and change["reform"] == "A 25%、B 55%、C 15%、D 5%"
        and change["reform_en"] == "A 25%, B 55%, C 15%, D 5%"
    )
    assert isinstance(doc["took_ms"], float)
    total = doc["support"]["change"]["total"]
    assert Decimal(total) == sum(Decimal(v["change"]) for v in doc["by_town"].values())
    mine = site.c["town"].post("/api/v1/simulations", json={"year": 2023, "reform": {"title": "A 25%", "changes": {
        "mujun.quotas_above_scale": QUOTA}}}).json()  # fmt: skip
    assert mine["firms"] == [f for f in doc["firms"] if f["town"] == "杜桥镇"]  # a town sees its own firms
    assert mine["support"] == doc["support"] and mine["by_town"] == doc["by_town"]  # and the county's sums


def test_simulation_when_only_2_10_changes_moves_no_class_and_the_budget_follows(site):
    r = site.c["admin"].post("/api/v1/simulations", json={"year": 2023, "reform": {"title": "技改 12%", "changes": {
        "tech_renovation.major_rate": 0.12}}})  # fmt: skip
    doc = r.json()
    for group in ("above_scale", "below_scale"):
        m = doc["classes"][group]["migration"]
        assert all(m[a][b] == 0 for a in "ABCD" for b in "ABCD" if a != b)
    assert Decimal(doc["support"]["change"]["2.10"]) > 0 and doc["support"]["change"]["2.11"] == "0.00"
    assert all(f["class_baseline"] == f["class_reform"] for f in doc["firms"])


def test_simulation_when_the_reform_is_bad_lists_every_problem(site):
    r = site.c["admin"].post("/api/v1/simulations", json={"year": 2023, "reform": {"title": "坏", "changes": {
        "tech_renovation.major_rte": 1, "tech_renovation.major_rate": 0.123456,
        "mujun.quotas_above_scale": {"A": 0.3, "B": 0.6, "C": 0.15, "D": 0.05}}}})  # fmt: skip
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert {p["where"] for p in problems} == {
        "tech_renovation.major_rte", "tech_renovation.major_rate", "mujun.quotas_above_scale"
    }  # fmt: skip
    assert next(p for p in problems if p["code"] == "quotas_not_whole")["value"] == "1.10"
    text = {"title": "文本", "changes": {"tech_renovation.major_rate": "0.12"}}  # decimal text, as the tree gives it
    assert site.c["admin"].post("/api/v1/simulations", json={"year": 2023, "reform": text}).status_code == 200
    r = site.c["admin"].post("/api/v1/simulations", json={"year": 1999, "reform": {}})
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "year"


def test_sweep_when_the_rate_varies_gives_a_budget_per_point(site):
    values = [0.08, 0.10, 0.12]
    r = site.c["auditor"].post(
        "/api/v1/simulations/sweep", json={"year": 2023, "path": "tech_renovation.major_rate", "values": values}
    )
    assert r.status_code == 200, r.text
    budgets = [Decimal(p["support"]["2.10"]) for p in r.json()["points"]]
    assert budgets == sorted(budgets) and budgets[0] < budgets[-1]
    too_many = {"year": 2023, "path": "tech_renovation.major_rate", "values": [0.1] * 102}
    assert site.c["admin"].post("/api/v1/simulations/sweep", json=too_many).status_code == 422


def test_reforms_when_saved_are_versioned_audited_and_shared_by_link(site):
    admin = site.c["admin"]
    first = admin.post("/api/v1/reforms", json={"reform": {"title": "技改 12%", "changes": {
        "tech_renovation.major_rate": 0.12}}})  # fmt: skip
    assert first.status_code == 201, first.text
    one = first.json()
    second = (
        site.c["department"]
        .post(
            "/api/v1/reforms",
            json={
                "of": one["id"],
                "reform": {"title": "技改 13%", "changes": {"tech_renovation.major_rate": 0.13}},
            },
        )
        .json()
    )
    assert (second["lineage"], second["version"]) == (one["id"], 2) and second[
        "url"
    ] == f"/simulate?reform={second['id']}"
    got = site.c["town"].get(f"/api/v1/reforms/{one['id']}").json()
    assert got["changes"] == {"tech_renovation.major_rate": 0.12} and got["version"] == 1  # version 1 unchanged
    assert [r["id"] for r in admin.get("/api/v1/reforms").json()["reforms"]][:2] == [second["id"], one["id"]]
    with site.p.uow.read() as conn:
        events = conn.execute(select(audit_log.c.action, audit_log.c.entity_id).where(
            audit_log.c.entity_type == "reform")).all()  # fmt: skip
        assert {(a, int(i)) for a, i in events} >= {("reform.save", one["id"]), ("reform.save", second["id"])}
        before = conn.execute(select(reforms.c.id)).all()
    bad = admin.post("/api/v1/reforms", json={"reform": {"title": "", "changes": {"nothing.here": 1}}})
    assert bad.status_code == 422
    with site.p.uow.read() as conn:
        assert conn.execute(select(reforms.c.id)).all() == before  # nothing saved
    assert site.c["town"].post("/api/v1/reforms", json={"reform": {"title": "x"}}).status_code == 403
    assert site.c["auditor"].post("/api/v1/reforms", json={"reform": {"title": "x"}}).status_code == 403
    assert admin.get("/api/v1/reforms/999999").status_code == 404


def test_simulation_when_asked_by_an_enterprise_is_refused(site):
    e = site.c["enterprise"]
    assert e.post("/api/v1/simulations", json={"year": 2023, "reform": {}}).status_code == 403
    assert e.get("/api/v1/simulation/parameters").status_code == 403
    assert e.get("/api/v1/reforms").status_code == 403


def test_parameters_when_listed_give_each_value_unit_clause_and_words(site):
    doc = site.c["department"].get("/api/v1/simulation/parameters?year=2023").json()
    assert doc["years"][-1] == 2023 and next(n["namespace"] for n in doc["tree"]) == "tech_renovation"
    rate = next(p for n in doc["tree"] for p in n["parameters"] if p["path"] == "tech_renovation.major_rate")
    assert (rate["value"], rate["unit"], rate["clause"]) == ("0.10", "ratio", "2.10") and "10%" in rate["quote"]
    quotas = next(p for n in doc["tree"] for p in n["parameters"] if p["path"] == "mujun.quotas_above_scale")
    assert quotas["assumption"] is True and quotas["value"]["A"] == "0.20"


def test_uploaded_county_when_simulated_is_its_uploaders_alone(site, tmp_path):
    from tenglong.demo.county import generate_county

    data = tmp_path / "county.csv"
    generate_county(2023, range(2022, 2024)).write_csv(data)
    files = {"data": ("county.csv", data.read_bytes(), "text/csv")}
    r = site.c["town"].post("/api/v1/simulations/files", files=files, data={"year": "2023"})
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["year"] == 2023 and up["firms"] > 1000 and up["projects"] == 0
    quota = {"title": "A 25%", "changes": {"mujun.quotas_above_scale": QUOTA}}
    doc = site.c["town"].post("/api/v1/simulations", json={"snapshot": up["snapshot"], "reform": quota}).json()
    assert doc["year"] == 2023 and doc["classes"]["above_scale"]["migration"]["B"]["A"] > 0
    other = site.c["admin"].post("/api/v1/simulations", json={"snapshot": up["snapshot"], "reform": quota})
    assert other.status_code == 404  # a county uploaded by one official is not another's
    bad = site.c["town"].post(
        "/api/v1/simulations/files", files={"data": ("county.docx", b"PK\x03\x04", "application/zip")},
        data={"year": "20x3"},
    )  # fmt: skip
    assert bad.status_code == 422 and {p["where"] for p in bad.json()["problems"]} == {"data", "year"}
    assert site.c["enterprise"].post("/api/v1/simulations/files", files=files, data={"year": "2023"}).status_code == 403


def test_firm_explanation_when_asked_for_a_moved_firm_says_both_sides_with_the_values_used(site):
    reform = {"title": "A 25%", "changes": {"mujun.quotas_above_scale": QUOTA}}
    doc = site.c["admin"].post("/api/v1/simulations", json={"year": 2023, "reform": reform}).json()
    firm = next(f for f in doc["firms"] if (f["class_baseline"], f["class_reform"]) == ("B", "A"))
    r = site.c["admin"].post(
        "/api/v1/simulations/firm", json={"year": 2023, "reform": reform, "credit_code": firm["credit_code"]}
    )
    assert r.status_code == 200, r.text
    why = r.json()
    assert (why["baseline"]["class"], why["reform"]["class"]) == ("B", "A")
    assert (why["baseline"]["total"], why["reform"]["total"]) == (firm["support_baseline"], firm["support_reform"])
    assert why["change"] == firm["change"] and [c["path"] for c in why["changes"]] == ["mujun.quotas_above_scale"]
    assert any("A 25%、B 55%" in line for line in why["reform"]["class_lines"])
    assert all(p["name"] for p in why["reform"]["projects"])  # the project's own name, as the platform holds it
    en = (
        site.c["auditor"]
        .post(
            "/api/v1/simulations/firm?lang=en",
            json={"year": 2023, "reform": reform, "credit_code": firm["credit_code"]},
        )
        .json()
    )
    assert en["reform"]["class_lines"][0].startswith("data year 2023")
    # a town official asks about the firms of the town only
    for f in (
        next(f for f in doc["firms"] if f["town"] == "杜桥镇"),
        next(f for f in doc["firms"] if f["town"] != "杜桥镇"),
    ):
        asked = {"year": 2023, "reform": reform, "credit_code": f["credit_code"]}
        status = site.c["town"].post("/api/v1/simulations/firm", json=asked).status_code
        assert status == (200 if f["town"] == "杜桥镇" else 404)


def test_firm_explanation_when_the_code_is_mistyped_says_what_is_wrong_in_both_languages(site):
    r = site.c["admin"].post(
        "/api/v1/simulations/firm",
        json={"year": 2023, "reform": {"title": "t", "changes": {}}, "credit_code": "91331082MA2AB3CF7M"},
    )
    assert r.status_code == 422
    [problem] = r.json()["problems"]
    assert "第18位校验码应为「N」" in problem["message_zh"] and "should be 'N'" in problem["message_en"]
