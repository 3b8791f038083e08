"""首页驾驶舱: the published figures exactly, the town's own figures beside the county's, the enterprise's card
first.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import select

from tenglong.adapters.db.tables import evaluation_runs
from tenglong.core import reference_data
from tenglong.core.targets import RATIOS
from tenglong.services.accounts.auth import create_user
from tenglong.services.bootstrap import DEMO_TOWN, ensure_database
from tenglong.services.evaluation import dashboard as service
from tenglong.services.kernel.platform import Platform
from tenglong.settings import DEMO_PASSWORD, Settings

from .conftest import ROLES, client_for


def _summary(p, year: int) -> dict:
    with p.uow.read() as conn:
        return conn.execute(
            select(evaluation_runs.c.summary).where(
                evaluation_runs.c.year == year, evaluation_runs.c.status == "published"
            )
        ).scalar_one()


def test_dashboard_api_when_read_equals_the_stored_run_summary(any_platform):
    """County figures, targets, met flags and class counts are the published run's summary, on SQLite and PostgreSQL."""
    body = client_for(any_platform, "department").get("/api/v1/dashboard").json()
    summary = _summary(any_platform, 2023)
    assert body["year"] == 2023 and body["years"] == [2021, 2022, 2023]
    assert {k["key"]: (k["value"], Decimal(k["target"]), k["met"]) for k in body["county"]} == {
        k: (v["value"], Decimal(str(v["target"])), v["met"]) for k, v in summary["county"].items()
    }
    assert body["counts"] == summary["counts"]
    assert {k["key"]: k["comparison"] for k in body["county"]} == {
        "tax_per_mu": ">",
        "value_added_per_mu": ">",
        "labor_productivity": ">",
        "rd_intensity": ">=",
    }
    trend = {p["year"]: p for p in body["trend"]}
    for year in (2021, 2022, 2023):
        s = _summary(any_platform, year)
        assert trend[year]["county"] == {k: v["value"] for k, v in s["county"].items()}
        assert trend[year]["classes"]["D"] == s["counts"]["above_scale"]["D"] + s["counts"]["below_scale"]["D"]
    older = client_for(any_platform, "auditor").get("/api/v1/dashboard", params={"year": 2021}).json()
    assert older["year"] == 2021 and older["counts"] == _summary(any_platform, 2021)["counts"]


def test_town_figures_when_summed_over_all_towns_give_the_county_figures(platform):
    """The towns' exact 规上 sums add up to the county figures of the published summary (same aggregation)."""
    summary = _summary(platform, 2023)
    with platform.uow.read() as conn:
        run_id = conn.execute(
            select(evaluation_runs.c.id).where(evaluation_runs.c.year == 2023, evaluation_runs.c.status == "published")
        ).scalar_one()
        towns = service.town_figures(conn, [run_id])[run_id]
    columns = ("tax_paid", "value_added", "land_area_mu", "employees", "rd_expense", "revenue")
    total = {k: sum(Decimal(t[k]) for t in towns.values()) for k in columns}
    for key, (num, den, scale) in RATIOS.items():
        value = Fraction(total[num]) / (Fraction(total[den]) * scale)
        assert round(float(value), 6) == summary["county"][key]["value"], key
    assert set(towns) <= {t.code for t in reference_data.towns()}


def test_dashboard_when_town_official_shows_town_figures_beside_county(platform, client_as):
    """The 杜桥镇 official sees the town's KPIs and class counts next to the county's; the ranking lists all 21
    units.
    """
    body = client_as("town").get("/api/v1/dashboard").json()
    assert body["town"] == DEMO_TOWN and [k["key"] for k in body["town_figures"]] == [
        "tax_per_mu",
        "value_added_per_mu",
        "labor_productivity",
        "rd_intensity",
    ]
    ranking = {r["code"]: r for r in body["ranking"]}
    assert len(ranking) == 21 and [r["rank"] for r in body["ranking"] if r["rank"]] == list(
        range(1, len([r for r in body["ranking"] if r["rank"]]) + 1)
    )
    mine = next(k for k in body["town_figures"] if k["key"] == "tax_per_mu")
    assert mine["value"] == pytest.approx(ranking[DEMO_TOWN]["tax_per_mu"]) and mine["met"] == (
        Fraction(mine["value"]) > Fraction(Decimal(mine["target"]))
    )
    assert sum(body["town_counts"]["above_scale"].values()) + sum(body["town_counts"]["below_scale"].values()) > 300
    page = client_as("town").get("/dashboard", headers={"accept": "text/html"}).text
    assert (
        'id="town-kpis"' in page
        and 'id="county-kpis"' in page
        and 'data-scope="town"' in page
        and 'class="mine" data-town="331082112"' in page
    )


def test_dashboard_when_enterprise_shows_its_own_class_card_first(platform, client_as):
    """The enterprise account's page opens with its own class card, linking to its profile."""
    c = client_as("enterprise")
    own = c.get("/api/v1/dashboard").json()["own"]
    assert own["mujun_class"] in "ABCD"
    page = c.get("/dashboard", headers={"accept": "text/html"}).text
    assert page.index('id="own-card"') < page.index('id="kpis"') and f'href="/enterprises/{own["credit_code"]}"' in page


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_page_when_each_role_opens_shows_numbers_charts_and_scoped_links(platform, client_as, role):
    """Every role gets the page with the four charts; class counts link into the list only where the list shows them."""
    page = client_as(role).get("/dashboard?year=2022", headers={"accept": "text/html"})
    assert page.status_code == 200
    for chart in ("chart-classes", "chart-towns", "chart-trend", "chart-trend-classes"):
        assert f'id="{chart}"' in page.text and f'<script type="application/json" data-chart="{chart}">' in page.text
    d22 = _summary(platform, 2022)["counts"]["above_scale"]["D"]
    linked = f'href="/enterprises?year=2022&class=D&above_scale=1" data-class-link="D">{d22}</a>'
    assert (linked in page.text) == (role in ("admin", "department", "auditor"))
    assert re.search(r"<option value=\"2022\" selected", page.text)


def test_dashboard_when_year_unpublished_or_anonymous_is_refused(platform, client_as):
    """A year without a published run is 422; without a session the API answers 401 and the page redirects to
    sign-in.
    """
    r = client_as("admin").get("/api/v1/dashboard", params={"year": 2020})
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "year"
    anonymous = client_as(None)
    assert anonymous.get("/api/v1/dashboard").status_code == 401
    page = anonymous.get("/dashboard", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_dashboard_page_when_english_uses_english_labels(platform):
    """After switching to English the dashboard's labels are English (town names stay the official data)."""
    c = client_for(platform, "admin")
    c.get("/lang/en")
    page = c.get("/dashboard", headers={"accept": "text/html"}).text
    assert "Above-scale figures against the 2023 targets" in page and "首页驾驶舱" not in page.split("<main")[1]


def test_pages_when_nothing_is_published_yet_say_so(tmp_path):
    """On a database without a published run the dashboard, list and export answer 200 and say nothing is published."""
    p = Platform.from_settings(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", demo=False))
    ensure_database(p, say=lambda m: None)
    create_user(p.uow, None, "admin", "管理员", DEMO_PASSWORD, "admin")
    c = client_for(p, "admin")
    assert c.get("/api/v1/dashboard").json() == {
        "year": None,
        "years": [],
        "run_id": None,
        "county": [],
        "counts": {},
        "town": None,
        "town_figures": [],
        "town_counts": {},
        "ranking": [],
        "trend": [],
        "own": None,
    }
    for url in ("/dashboard", "/enterprises"):
        page = c.get(url, headers={"accept": "text/html"})
        assert page.status_code == 200 and "尚无已发布的亩均评价" in page.text
    assert c.get("/api/v1/enterprises").json()["total"] == 0
    assert c.get("/enterprises/export.xlsx").status_code == 200
    assert c.get("/evaluations", headers={"accept": "text/html"}).status_code == 200


def test_dashboard_page_when_opened_names_the_published_run_its_classes_come_from(client_as):
    """The dashboard says which published run its figures and classes use, with a link to it (issue 9: after a
    supersede, everything that uses classes shows which run)."""
    c = client_as("town")
    year = c.get("/api/v1/dashboard").json()["year"]
    run = next(r for r in c.get("/api/v1/evaluations").json() if r["status"] == "published" and r["year"] == year)
    page = c.get("/dashboard", headers={"accept": "text/html"}).text
    used = page.split('id="run-used"')[1].split("</p>")[0]
    assert f'data-run="{run["id"]}"' in page and f'href="/evaluations/{run["id"]}"' in used
    assert f"{year} 年度已发布评价 #{run['id']}" in used and "北京时间" in used
