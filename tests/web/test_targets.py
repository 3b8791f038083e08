"""The targets page and API (/targets, /api/v1/targets): progress computed on the demo county equals a hand
computation, a figure entered with evidence supersedes the previous one and is audited, the town's scope and its
share, the page with its chart and the Excel export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from fractions import Fraction

import openpyxl
import pytest
from sqlalchemy import and_, select

from tenglong.adapters.db.tables import (
    attachments,
    audit_log,
    enterprise_years,
    enterprises,
    evaluation_results,
    evaluation_runs,
    projects,
    target_figures,
    users,
)
from tenglong.core import campaign_targets
from tenglong.services.accounts.auth import actor_of
from tenglong.services.bootstrap import DEMO_TOWN
from tenglong.services.enterprises.projects import insert_project
from tenglong.services.reports import progress

from .conftest import client_for, make_platform

PDF = b"%PDF-1.4\n%targets\n%%EOF\n"
OTHER_TOWN = "331082001"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A private demo county (figures, shares and projects are added here), a client per role, the actors."""
    tmp = tmp_path_factory.mktemp("targets_web")
    p = make_platform(f"sqlite:///{tmp / 't.db'}", upload_dir=str(tmp / "u"), attachment_dir=str(tmp / "f"))
    clients = {role: client_for(p, role) for role in ("admin", "department", "town", "enterprise", "auditor")}
    with p.uow.read() as conn:
        actors = {r.username: actor_of(r) for r in conn.execute(select(users))}
    yield {"p": p, "c": clients, "a": actors}
    for c in clients.values():
        c.close()


def _row(rows: list[dict], key: str) -> dict:
    return next(r for r in rows if r["key"] == key)


def test_every_computation_when_named_in_the_file_is_implemented():
    """Each computation the targets file may name has one function in the progress service."""
    assert set(progress.COMPUTED) == set(campaign_targets.COMPUTATIONS)


def test_progress_when_computed_gives_tax_per_mu_equal_to_a_hand_sum_of_the_published_run(site):
    """规上亩均税收 of 2023 = Σ tax / (Σ land × 10,000) over the evaluated 规上 firms of the published run, exactly."""
    p = site["p"]
    r = evaluation_results.c
    with p.uow.read() as conn:
        run = conn.execute(
            select(evaluation_runs.c.id).where(evaluation_runs.c.year == 2023, evaluation_runs.c.status == "published")
        ).scalar_one()
        rows = conn.execute(
            select(r.tax_paid, r.land_area_mu, r.town).where(
                r.run_id == run, r.above_scale.is_(True), r.evaluated.is_(True)
            )
        ).all()
    hand = Fraction(sum(Decimal(x.tax_paid) for x in rows)) / (
        Fraction(sum(Decimal(x.land_area_mu) for x in rows)) * 10_000
    )
    got = _row(progress.progress(p.uow, site["a"]["admin"], 2023), "tax_per_mu")
    assert got["figure"] == hand
    assert got["met"] is (hand > Fraction(203, 10))
    assert f"#{run}" in got["source"]["zh"] and got["source"]["kind"] == "computed"
    town = [x for x in rows if x.town == DEMO_TOWN]
    hand_town = Fraction(sum(Decimal(x.tax_paid) for x in town)) / (
        Fraction(sum(Decimal(x.land_area_mu) for x in town)) * 10_000
    )
    assert _row(progress.progress(p.uow, site["a"]["admin"], 2023, DEMO_TOWN), "tax_per_mu")["figure"] == hand_town
    api = site["c"]["admin"].get("/api/v1/targets", params={"year": 2023}).json()
    assert _row(api["targets"], "tax_per_mu")["figure_approx"] == round(float(hand), 6)


def test_progress_when_projects_of_a_billion_exist_counts_them_as_a_hand_count(site):
    """≥ 10亿 projects filed from 2022 to the year's end are counted (10亿 exactly counts, 10亿 − 1分 does not)."""
    p, admin = site["p"], site["a"]["admin"]
    with p.uow.read() as conn:
        code = (
            conn.execute(
                select(enterprises.c.credit_code)
                .where(enterprises.c.town == DEMO_TOWN)
                .order_by(enterprises.c.credit_code)
            )
            .scalars()
            .first()
        )
    with p.uow.write(admin) as w:
        for total, day in (
            (Decimal("1000000000"), "2023-05-01"),
            (Decimal("999999999.99"), "2023-06-01"),
            (Decimal("2000000000"), "2021-06-01"),
        ):
            insert_project(
                w,
                admin,
                code,
                "十亿项目",
                dt.date.fromisoformat(day),
                {"total_investment": total, "equipment_investment": Decimal("1000")},
            )
    with p.uow.read() as conn:
        hand = sum(
            1
            for x in conn.execute(select(projects.c.inputs, projects.c.application_date))
            if dt.date(2022, 1, 1) <= x.application_date <= dt.date(2023, 12, 31)
            and Decimal(str(x.inputs.get("total_investment") or 0)) >= Decimal("1000000000")
        )
    got = _row(progress.progress(p.uow, admin, 2023), "major_projects")
    assert hand >= 1 and got["figure"] == hand
    assert got["met"] is (hand >= 6)


def test_progress_when_energy_falls_compares_the_reduction_with_the_baseline_year(site):
    """The energy intensity of 2023 against 2021 from the enterprise-year sums of 规上 firms, exactly."""
    p = site["p"]
    y = enterprise_years.c
    with p.uow.read() as conn:
        sums = {
            year: conn.execute(
                select(y.energy_tce, y.value_added).where(
                    and_(y.year == year, y.above_scale.is_(True), y.energy_tce.is_not(None), y.value_added.is_not(None))
                )
            ).all()
            for year in (2021, 2023)
        }
    level = {
        k: Fraction(sum(r.energy_tce for r in v)) / Fraction(sum(Decimal(r.value_added) for r in v))
        for k, v in sums.items()
    }
    got = _row(progress.progress(p.uow, site["a"]["admin"], 2023), "energy_intensity")
    assert got["achieved"] == (level[2021] - level[2023]) / level[2021]
    assert got["met"] is (got["achieved"] >= Fraction(104, 1000))


def test_enter_figure_when_entered_twice_supersedes_keeps_both_and_audits_each(site):
    """Two entries for the same target, year and county: the latest counts, the first stays, each is audited, and the
    evidence file is kept with its entry."""
    admin = site["c"]["admin"]
    first = admin.post(
        "/targets/land_revitalised/figures",
        data={
            "year": "2023",
            "town": "",
            "value": "4000",
            "source": "市自然资源规划局 2023年快报",
            "kind": "statistics",
        },
        files={"file": ("快报.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert first.status_code == 303, first.text
    second = admin.post(
        "/api/v1/targets/land_revitalised/figures",
        json={"year": 2023, "value": "4500", "source": "市自然资源规划局 2023年年报", "note": "更正"},
    )
    assert second.status_code == 201, second.text
    rows = progress.progress(site["p"].uow, site["a"]["admin"], 2023)
    got = _row(rows, "land_revitalised")
    assert got["figure"] == 4500 and got["met"] is True  # 以上 includes 4500
    assert got["source"]["kind"] == "manual" and got["source"]["entered_by"] == "admin"
    assert got["source"]["superseded"] == 1 and got["source"]["note"] == "更正"
    with site["p"].uow.read() as conn:
        kept = conn.execute(select(target_figures).where(target_figures.c.target == "land_revitalised")).all()
        audited = (
            conn.execute(select(audit_log.c.entity_id).where(audit_log.c.action == "target.figure")).scalars().all()
        )
        files = conn.execute(select(attachments).where(attachments.c.owner_type == "target_figure")).all()
    county = [k for k in kept if k.town is None]
    assert [k.value for k in county] == ["4000", "4500"] and county[1].supersedes == county[0].id
    assert {str(k.id) for k in county} <= set(audited)
    assert [f.owner_id for f in files] == [county[0].id] and files[0].credit_code is None
    page = admin.get("/targets/land_revitalised?year=2023")
    assert page.status_code == 200 and "快报.pdf" in page.text and 'class="superseded"' in page.text
    assert admin.get(f"/attachments/{files[0].id}").content == PDF


def test_enter_figure_when_asked_by_roles_keeps_each_to_its_scope(site):
    """A town official enters its own town's figure of a target broken down by town; not another town's, not the
    county's, not a target kept by county; a computed target takes no entry; bad input lists every problem."""
    town, admin, dept = site["c"]["town"], site["c"]["admin"], site["c"]["department"]
    ok = town.post(
        "/api/v1/targets/robots/figures", json={"year": 2023, "town": DEMO_TOWN, "value": "40", "source": "镇经发办"}
    )
    assert ok.status_code == 201, ok.text
    for body in ({"town": OTHER_TOWN}, {"town": None}):
        r = town.post("/api/v1/targets/robots/figures", json={"year": 2023, "value": "1", "source": "x", **body})
        assert r.status_code == 403, r.text
    r = town.post(
        "/api/v1/targets/zhejiang_standards/figures",
        json={"year": 2023, "town": DEMO_TOWN, "value": "1", "source": "x"},
    )
    assert r.status_code == 403
    assert (
        dept.post("/api/v1/targets/robots/figures", json={"year": 2023, "value": "1", "source": "x"}).status_code == 403
    )
    r = admin.post("/api/v1/targets/tax_per_mu/figures", json={"year": 2023, "value": "25", "source": "x"})
    assert r.status_code == 409
    r = admin.post("/api/v1/targets/robots/figures", json={"year": 1800, "value": "many", "source": ""})
    assert r.status_code == 422
    assert {p["where"] for p in r.json()["problems"]} == {"year", "value", "source"}
    assert town.get("/api/v1/targets", params={"town": OTHER_TOWN}).status_code == 404
    mine = town.get("/api/v1/targets", params={"town": DEMO_TOWN, "year": 2023}).json()["targets"]
    assert _row(mine, "robots")["figure"] == "40"
    assert all(r["by_town"] for r in mine)


def test_shares_when_set_by_the_admin_are_what_the_town_figure_is_compared_with(site):
    """目标分解: the town's figure meets its share at the share's exact value (达到 includes it), one more does not;
    only the admin sets shares, each audited."""
    admin, town = site["c"]["admin"], site["c"]["town"]
    # the town's figure, entered here too: another worker may run the test that enters it first
    figure = {"year": 2023, "town": DEMO_TOWN, "value": "40", "source": "镇经发办"}
    assert town.post("/api/v1/targets/robots/figures", json=figure).status_code in (200, 201)
    assert town.put("/api/v1/targets/robots/shares", json={"shares": {DEMO_TOWN: "1"}}).status_code == 403
    r = admin.put("/api/v1/targets/robots/shares", json={"shares": {DEMO_TOWN: "40", "999": "1"}})
    assert r.status_code == 422 and r.json()["problems"][0]["where"] == "town"
    assert admin.put("/api/v1/targets/robots/shares", json={"shares": {DEMO_TOWN: "40"}}).status_code == 200
    got = _row(progress.progress(site["p"].uow, site["a"]["town"], 2023, DEMO_TOWN), "robots")
    assert (got["aim"], got["aim_from"], got["met"]) == (40, "share", True)
    r = admin.post("/targets/robots/shares", data={f"share.{DEMO_TOWN}": "41"}, follow_redirects=False)
    assert r.status_code == 303
    assert _row(progress.progress(site["p"].uow, site["a"]["town"], 2023, DEMO_TOWN), "robots")["met"] is False
    with site["p"].uow.read() as conn:
        assert len(conn.execute(select(audit_log.c.id).where(audit_log.c.action == "target.share")).all()) == 2
    assert admin.put("/api/v1/targets/zhejiang_standards/shares", json={"shares": {DEMO_TOWN: "1"}}).status_code == 422


def test_targets_page_when_opened_lists_every_target_with_badges_chart_and_sorting(site):
    """The page lists every target, a met/unmet badge, the county's chart block, a year selector, a town drill-down,
    and sorts by status."""
    admin = site["c"]["admin"]
    r = admin.get("/targets", params={"year": 2023})
    assert r.status_code == 200
    for t in campaign_targets.load():
        assert f'data-target="{t.key}"' in r.text
    assert 'data-chart="chart-targets"' in r.text and 'data-met="' in r.text and 'name="year"' in r.text
    assert "/static/vendor/echarts.min.js" in r.text
    town = admin.get("/targets", params={"year": 2023, "town": DEMO_TOWN})
    assert town.status_code == 200 and 'data-target="zhejiang_standards"' not in town.text
    by_status = admin.get("/targets", params={"year": 2023, "sort": "status"}).text
    assert by_status.index('data-met="true"') < by_status.index('data-met="none"')
    detail = admin.get("/targets/tax_per_mu", params={"year": 2023})
    assert detail.status_code == 200 and f'data-town="{DEMO_TOWN}"' in detail.text
    assert admin.get("/targets/no_such_target").status_code == 404
    en = client_for(site["p"], "admin")
    en.cookies.set("lang", "en")
    assert en.get("/targets/land_revitalised").status_code == 200


def test_targets_export_when_downloaded_has_one_row_per_target_and_is_audited(site):
    """The workbook has one row per target (Chinese headers), the figures as numbers, and the export is audited."""
    r = site["c"]["department"].get("/targets/export.xlsx", params={"year": 2023})
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["条款", "目标", "目标值"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(campaign_targets.load().targets)
    tax = next(x for x in rows if x[1] == "规上工业亩均税收")
    assert isinstance(tax[4], float) and tax[6] in ("达标", "未达标")
    with site["p"].uow.read() as conn:
        assert conn.execute(select(audit_log.c.id).where(audit_log.c.entity_id == "targets.xlsx")).first()


def test_chart_when_a_year_has_no_data_spaces_the_years_evenly_and_leaves_a_gap():
    from tenglong.web.pages.targets import chart

    key = next(x.key for x in campaign_targets.load() if x.clause == "A.2")
    aim = campaign_targets.compared_with(campaign_targets.load()[key], 2021)
    row = {"clause": "A.2", "source_kind": "computed", "key": key,
           "trend": [{"year": 2021, "achieved": aim}, {"year": 2024, "achieved": aim / 2}]}  # fmt: skip
    option = chart([row], "zh")["option"]
    assert option["xAxis"]["data"] == ["2021", "2022", "2023", "2024"]
    assert option["series"][0]["data"] == [100.0, None, None, 50.0]
