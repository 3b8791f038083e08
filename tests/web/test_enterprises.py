"""The enterprise list, its Excel export and 企业画像: filters, scope per role (404 outside it), money as exact
strings.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, insert, select

from tenglong.adapters.db.tables import (
    enterprise_years,
    enterprises,
    evaluation_results,
    evaluation_runs,
    projects,
    subsidy_applications,
    users,
)
from tenglong.services.bootstrap import DEMO_TOWN

from .conftest import ROLES, client_for, make_platform

GUESSED = "91331082MA0000000X"


def _codes(p) -> dict[str, str]:
    """The enterprise account's firm, another firm of 杜桥镇, and a firm of another town."""
    with p.uow.read() as conn:
        own = conn.execute(select(users.c.credit_code).where(users.c.username == "enterprise")).scalar_one()
        same_town = conn.execute(
            select(enterprises.c.credit_code)
            .where(enterprises.c.town == DEMO_TOWN, enterprises.c.credit_code != own)
            .order_by(enterprises.c.credit_code)
        ).first()[0]
        other = conn.execute(
            select(enterprises.c.credit_code).where(enterprises.c.town != DEMO_TOWN).order_by(enterprises.c.credit_code)
        ).first()[0]
    return {"own": own, "same_town": same_town, "other_town": other, "guessed": GUESSED}


# role → the codes it may open (the others answer 404, like a guessed code)
VISIBLE = {
    "admin": {"own", "same_town", "other_town"},
    "department": {"own", "same_town", "other_town"},
    "auditor": {"own", "same_town", "other_town"},
    "town": {"own", "same_town"},
    "enterprise": {"own"},
}


@pytest.mark.parametrize("role", ROLES)
def test_profile_when_each_role_opens_each_firm_answers_200_or_404(platform, client_as, role):
    """Every role opens what is in its scope (API and page) and gets 404 for the rest and for a guessed code."""
    codes = _codes(platform)
    c = client_as(role)
    for which, code in codes.items():
        api = c.get(f"/api/v1/enterprises/{code}")
        page = c.get(f"/enterprises/{code}", headers={"accept": "text/html"})
        for sub in ("projects", "subsidies"):
            assert c.get(f"/api/v1/enterprises/{code}/{sub}").status_code == (200 if which in VISIBLE[role] else 404), (
                role,
                which,
                sub,
            )
        if which in VISIBLE[role]:
            assert api.status_code == 200 and api.json()["enterprise"]["credit_code"] == code, (role, which)
            assert page.status_code == 200 and code in page.text and 'id="class-history"' in page.text
        else:
            assert api.status_code == 404 and api.json()["code"] == "not_found", (role, which)
            assert page.status_code == 404 and 'id="profile-head"' not in page.text


@pytest.mark.parametrize("role", ROLES)
def test_list_when_each_role_asks_shows_only_its_scope(platform, client_as, role):
    """admin, department, auditor list the whole county; the town official only 杜桥镇; the enterprise only itself."""
    codes = _codes(platform)
    with platform.uow.read() as conn:
        run_id = conn.execute(
            select(evaluation_runs.c.id).where(evaluation_runs.c.year == 2023, evaluation_runs.c.status == "published")
        ).scalar_one()
        county = conn.execute(
            select(func.count()).select_from(evaluation_results).where(evaluation_results.c.run_id == run_id)
        ).scalar_one()
        town = conn.execute(
            select(func.count())
            .select_from(
                evaluation_results.join(enterprises, enterprises.c.credit_code == evaluation_results.c.credit_code)
            )
            .where(evaluation_results.c.run_id == run_id, enterprises.c.town == DEMO_TOWN)
        ).scalar_one()
    body = client_as(role).get("/api/v1/enterprises", params={"year": 2023, "page_size": 200}).json()
    expected = {"town": town, "enterprise": 1}.get(role, county)
    assert body["total"] == expected and body["year"] == 2023 and body["years"] == [2021, 2022, 2023]
    if role == "enterprise":
        assert [i["credit_code"] for i in body["items"]] == [codes["own"]]


def test_list_when_town_official_pages_through_contains_only_duqiao_firms(client_as):
    """Every row of every page the 杜桥镇 official gets is a 杜桥镇 firm; filtering another town finds nothing."""
    c = client_as("town")
    first = c.get("/api/v1/enterprises", params={"page_size": 200}).json()
    rows = list(first["items"])
    for page in range(2, first["pages"] + 1):
        rows += c.get("/api/v1/enterprises", params={"page_size": 200, "page": page}).json()["items"]
    assert len(rows) == first["total"] > 100
    assert {r["town"] for r in rows} == {DEMO_TOWN} and {r["town_name"] for r in rows} == {"杜桥镇"}
    assert c.get("/api/v1/enterprises", params={"town": "331082001"}).json()["total"] == 0
    page = c.get("/enterprises", headers={"accept": "text/html"})
    assert page.status_code == 200 and 'data-town="331082112"' in page.text and 'data-town="331082001"' not in page.text


def test_list_when_filtered_returns_matching_rows_sorted(client_as):
    """Class, 规上, flag, industry and search filters combine; the default sort is the score, highest first."""
    c = client_as("admin")
    d = c.get("/api/v1/enterprises", params={"class": "D", "above_scale": "1", "page_size": 200}).json()
    assert d["total"] > 0 and all(r["mujun_class"] == "D" and r["above_scale"] for r in d["items"])
    scores = [r["mujun_score"] for r in d["items"] if r["mujun_score"] is not None]
    assert scores == sorted(scores, reverse=True)
    none = c.get("/api/v1/enterprises", params={"class": "none"}).json()
    assert none["total"] > 0 and all(not r["evaluated"] and r["mujun_class"] is None for r in none["items"])
    veto = c.get("/api/v1/enterprises", params={"flag": "veto"}).json()
    assert all(r["flags"]["vetoed"] for r in veto["items"])
    c27 = c.get("/api/v1/enterprises", params={"industry": "C27", "town": "杜桥镇"}).json()
    assert all(r["industry"].startswith("C27") and r["town"] == DEMO_TOWN for r in c27["items"])
    one = d["items"][0]
    by_code = c.get("/api/v1/enterprises", params={"q": one["credit_code"][:14].lower()}).json()
    assert one["credit_code"] in {r["credit_code"] for r in by_code["items"]}
    by_name = c.get("/api/v1/enterprises", params={"q": one["name"][3:7]}).json()
    assert one["credit_code"] in {r["credit_code"] for r in by_name["items"]}
    ranked = c.get("/api/v1/enterprises", params={"sort": "rank", "above_scale": "1", "page_size": 5}).json()["items"]
    assert [r["rank"] for r in ranked] == [1, 2, 3, 4, 5]


def test_list_when_filters_are_invalid_reports_every_problem(client_as):
    """Bad filter values are refused (422) with one problem per value, in the error envelope."""
    r = client_as("admin").get(
        "/api/v1/enterprises",
        params={"class": "E", "town": "nowhere", "flag": "bad", "industry": "C99", "page_size": "0"},
    )
    assert r.status_code == 422 and r.json()["ok"] is False
    assert {p["where"] for p in r.json()["problems"]} == {"class", "town", "flag", "industry", "page_size"}
    unpublished = client_as("admin").get("/api/v1/enterprises", params={"year": 2019})
    assert unpublished.status_code == 422 and unpublished.json()["problems"][0]["code"] == "unpublished_year"


def test_list_page_when_rendered_has_filters_pager_and_export_link(client_as):
    """The list page keeps the filters, pages, links each firm to its profile and exports the same filter."""
    r = client_as("admin").get("/enterprises?class=D&above_scale=1&sort=rank", headers={"accept": "text/html"})
    assert r.status_code == 200
    assert 'href="/enterprises/export.xlsx?class=D&amp;above_scale=1&amp;sort=rank"' in r.text
    assert '<option value="D" selected' in r.text and 'data-class="D"' in r.text and 'data-class="A"' not in r.text


@pytest.mark.parametrize("role", ROLES)
def test_export_when_each_role_downloads_has_its_scope_frozen_header_and_formats(platform, client_as, role):
    """The Excel export lists exactly the filtered, scoped rows under Chinese headers, header row frozen, money
    formatted.
    """
    c = client_as(role)
    total = c.get("/api/v1/enterprises", params={"above_scale": "1"}).json()["total"]
    r = c.get("/enterprises/export.xlsx", params={"above_scale": "1"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb["企业名单"]
    headers = [cell.value for cell in ws[1]]
    assert (
        headers[:3] == ["统一社会信用代码", "企业名称", "镇(街道)"]
        and "实缴税金(元)" in headers
        and "亩均税收 (万元/亩)" in headers
    )
    assert ws.freeze_panes == "A2" and ws.max_row - 1 == total
    tax = headers.index("实缴税金(元)") + 1
    assert ws.cell(2, tax).number_format == "#,##0.00" and isinstance(ws.cell(2, tax).value, float)
    towns = {ws.cell(i, 3).value for i in range(2, ws.max_row + 1)}
    if role in ("town", "enterprise"):
        assert towns == {"杜桥镇"}
    assert "筛选条件" in wb.sheetnames
    notes = [str(c.value) for row in wb["筛选条件"].iter_rows() for c in row if c.value]
    assert any(n.startswith("名单中的类别来自 2023 年度已发布评价 #") for n in notes)  # the run the classes come from


def test_profile_api_when_read_sends_money_as_strings_and_benchmarks_of_each_year(platform, client_as):
    """Money comes as decimal strings (2 places), land with 4; each year carries its class, explanation and the run's
    benchmarks.
    """
    code = _codes(platform)["own"]
    body = client_as("enterprise").get(f"/api/v1/enterprises/{code}").json()
    years = {y["year"]: y for y in body["years"]}
    assert sorted(years) == [2021, 2022, 2023]
    with platform.uow.read() as conn:
        row = conn.execute(
            select(enterprise_years.c.tax_paid, enterprise_years.c.land_area_mu).where(
                enterprise_years.c.credit_code == code, enterprise_years.c.year == 2023
            )
        ).one()
        bench = conn.execute(
            select(evaluation_runs.c.benchmarks).where(
                evaluation_runs.c.year == 2023, evaluation_runs.c.status == "published"
            )
        ).scalar_one()
    y = years[2023]
    assert y["data"]["tax_paid"] == f"{row.tax_paid:.2f}" and Decimal(y["data"]["tax_paid"]) == row.tax_paid
    assert y["data"]["land_area_mu"] == f"{row.land_area_mu:.4f}"
    ev = y["evaluation"]
    assert (
        ev["mujun_class"] in "ABCD"
        and ev["benchmarks"] == bench["above_scale"]
        and ev["explanation_zh"].startswith("2023 年度数据")
    )
    assert ev["explanation_en"].startswith("data year 2023") and set(ev["carbon"]) == {
        "grade",
        "level",
        "intensity",
        "efficiency_value",
    }
    assert set(ev["prices"]) == {"land_use_tax_relief_rate", "electricity_surcharge", "d_years_running"}
    assert body["enterprise"]["town_name"] == "杜桥镇"


def test_profile_page_when_english_shows_english_explanations(platform):
    """The class history shows each year's explanation in the session language."""
    code = _codes(platform)["own"]
    c = client_for(platform, "enterprise")
    zh = c.get(f"/enterprises/{code}", headers={"accept": "text/html"}).text
    assert "2023 年度数据" in zh and "data year 2023" not in zh
    c.get("/lang/en")
    en = c.get(f"/enterprises/{code}", headers={"accept": "text/html"}).text
    assert "data year 2023" in en and "2023 年度数据" not in en and 'id="chart-index"' in en


@pytest.fixture(scope="module")
def project_platform(tmp_path_factory):
    """A private demo platform with one project and one subsidy application of the enterprise account's firm."""
    p = make_platform(f"sqlite:///{tmp_path_factory.mktemp('ent') / 'p.db'}")
    code = _codes(p)["own"]
    now = dt.datetime.now(dt.UTC)
    with p.uow.write(None) as w:
        pid = w.conn.execute(
            insert(projects).values(
                credit_code=code,
                name="智能化技改项目",
                application_date=dt.date(2023, 3, 1),
                inputs={},
                created_by=1,
                created_at=now,
            )
        ).inserted_primary_key[0]
        w.conn.execute(
            insert(subsidy_applications).values(
                project_id=pid,
                credit_code=code,
                clause="2.10",
                status="submitted",
                amount=Decimal("800000.00"),
                amount_detail={},
                explanation={},
                parameters_version="x",
                computed_at=now,
                created_by=1,
                created_at=now,
                updated_at=now,
            )
        )
    return p


def test_profile_when_firm_has_projects_lists_them_with_application_links(project_platform):
    """Projects and subsidy applications of the firm are listed; amounts are exact strings; the page links to
    /applications/{id}.
    """
    code = _codes(project_platform)["own"]
    c = client_for(project_platform, "town")
    assert c.get(f"/api/v1/enterprises/{code}/projects").json()[0]["name"] == "智能化技改项目"
    sub = c.get(f"/api/v1/enterprises/{code}/subsidies").json()
    assert (
        sub[0]["amount"] == "800000.00"
        and sub[0]["url"] == f"/applications/{sub[0]['id']}"
        and sub[0]["status"] == "submitted"
    )
    page = c.get(f"/enterprises/{code}", headers={"accept": "text/html"}).text
    assert f'href="/applications/{sub[0]["id"]}"' in page and "800,000.00" in page and "已提交" in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_profile_when_explanations_cite_parameters_names_them_never_by_path(client_as, lang):
    """The stored explanation cites its parameters by path (mujun.benchmark_mode = aggregate); the page reads each
    as its name and a choice as its label (issue 9: no internal identifier reaches a user)."""
    c = client_as("enterprise")
    if lang == "en":
        c.get("/lang/en")
    try:
        code = c.get("/api/v1/session").json()["credit_code"]
        page = c.get(f"/enterprises/{code}", headers={"accept": "text/html"}).text
    finally:
        c.get("/lang/zh")
    explained = " ".join(block.split("</div>")[0] for block in page.split('<div class="explain">')[1:])
    assert explained, "the profile shows no explanation"
    assert not re.search(r"\b(mujun|low_efficiency|class_override)\.[a-z_]+", explained), explained[:500]
    assert "= aggregate" not in explained
    assert ("“基准值口径” = 当年参评企业合计之比" if lang == "zh" else "“How benchmarks are set”") in explained


# --- the A.3.16 tags -----------------------------------------------------------------------------------------------


@pytest.fixture
def tagged(platform):
    """A firm of the demo town (not the enterprise account's); its tags are put back after the test."""
    code = _codes(platform)["same_town"]
    with platform.uow.read() as conn:
        held = conn.execute(select(enterprises.c.tags).where(enterprises.c.credit_code == code)).scalar_one()
    yield code
    with platform.uow.write(None) as w:
        w.conn.execute(enterprises.update().where(enterprises.c.credit_code == code).values(tags=held))


def test_tags_api_when_admin_puts_them_answers_and_the_profile_shows_them(client_as, tagged):
    """PUT sets the tags (names accepted too) and answers them in the clause's order; the profile API includes them."""
    c = client_as("admin")
    r = c.put(f"/api/v1/enterprises/{tagged}/tags", json={"tags": ["key_2513", "上市企业"]})
    assert r.status_code == 200 and r.json() == {
        "credit_code": tagged,
        "tags": ["listed", "key_2513"],
        "clause": "A.3.16",
    }
    assert c.get(f"/api/v1/enterprises/{tagged}").json()["enterprise"]["tags"] == ["listed", "key_2513"]
    page = c.get(f"/enterprises/{tagged}", headers={"accept": "text/html"}).text
    assert "企业标签（A.3.16）" in page and 'data-tag="listed"' in page and 'data-tag="key_2513"' in page
    assert 'id="tags-edit"' in page and f'action="/enterprises/{tagged}/tags"' in page


def test_tags_api_when_a_tag_is_unknown_or_the_role_may_not_tag_refuses(client_as, tagged):
    """An unknown tag is 422 naming it; department and auditor (who see the firm) 403; a town elsewhere would be 404."""
    c = client_as("admin")
    r = c.put(f"/api/v1/enterprises/{tagged}/tags", json={"tags": ["listed", "龙头企业"]})
    assert r.status_code == 422 and r.json()["problems"][0]["value"] == "龙头企业"
    assert r.json()["problems"][0]["code"] == "unknown_tag" and "上市企业" in r.json()["problems"][0]["expected_zh"]
    for role in ("department", "auditor"):
        r = client_as(role).put(f"/api/v1/enterprises/{tagged}/tags", json={"tags": ["listed"]})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert client_as("admin").get(f"/api/v1/enterprises/{tagged}").json()["enterprise"]["tags"] != ["listed"]


def test_tags_form_when_town_ticks_boxes_saves_them_and_shows_a_notice(client_as, tagged):
    """The town's form (checkboxes, CSRF) sets the tags, redirects to the profile with a notice; none ticked clears."""
    c = client_as("town")
    page = c.get(f"/enterprises/{tagged}", headers={"accept": "text/html"}).text
    assert 'name="tag" value="little_giant"' in page and 'name="csrf_token"' in page
    r = c.post(
        f"/enterprises/{tagged}/tags",
        data={"tag": ["little_giant", "future_factory"]},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/enterprises/{tagged}?notice=tags_saved#tags"
    page = c.get(r.headers["location"].split("#")[0], headers={"accept": "text/html"}).text
    assert 'id="tags-notice"' in page and "企业标签已保存" in page
    assert 'data-tag="little_giant"' in page and 'value="future_factory" checked' in page
    r = c.post(f"/enterprises/{tagged}/tags", data={}, headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get(f"/api/v1/enterprises/{tagged}").json()["enterprise"]["tags"] == []


@pytest.mark.parametrize("role", ["department", "enterprise", "auditor"])
def test_profile_when_role_may_not_tag_shows_the_tags_without_the_form(client_as, role):
    """Roles without ``tag_enterprise`` see the tags (or 无) but no form."""
    c = client_as(role)
    code = (
        c.get("/api/v1/session").json().get("credit_code")
        or c.get("/api/v1/enterprises").json()["items"][0]["credit_code"]
    )
    page = c.get(f"/enterprises/{code}", headers={"accept": "text/html"}).text
    assert 'id="tags"' in page and 'id="tags-edit"' not in page and "/tags" not in page
