"""The what-if page in a real browser: an official raises the 规上 A quota from 20 % to 30 % and sees the heatmap and
the summary follow (B takes the rest), sweeps the quota and sees the line chart, saves the reform and opens its link;
on a phone the page stays within the screen.

Screenshots are saved under test-results/screenshots/simulate-*.png.
"""

from __future__ import annotations

import json

from playwright.sync_api import expect

from .conftest import SHOTS, screenshot

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"
QUOTA_A = 'input[data-path="mujun.quotas_above_scale"][data-key="A"]'
QUOTA_B = 'input[data-path="mujun.quotas_above_scale"][data-key="B"]'
HEAT = "#chart-mig-above_scale"


def _open_mujun(page) -> None:
    """Unfold the 亩均 method's parameters (folded on a phone)."""
    ns = page.locator('details.ns[data-namespace="mujun"]')
    if ns.get_attribute("open") is None:
        ns.locator("> summary").click()


def test_simulate_when_the_a_quota_rises_to_30_moves_firms_to_a_sweeps_and_saves(
    page, server, login, render_errors, csp_violations
):
    login("admin")
    page.goto(f"{server}/simulate")
    results = page.locator("#sim-results")
    expect(results).to_have_attribute("data-runs", "1")
    expect(page.locator(HEAT)).to_have_attribute("data-chart-ready", "1")
    baseline_a = int(page.get_attribute(HEAT, "data-reform-a"))
    assert page.get_attribute(HEAT, "data-moved") == "0"  # the baseline against itself: nobody moves
    expect(page.locator("#sim-firms-changed")).to_have_text("0")

    _open_mujun(page)
    expect(page.locator(QUOTA_A)).to_have_value("20")
    page.fill(QUOTA_A, "30")
    expect(page.locator(QUOTA_B)).to_have_value("50")  # B takes the rest
    expect(results).to_have_attribute("data-runs", "2")
    reform_a = int(page.get_attribute(HEAT, "data-reform-a"))
    assert reform_a > baseline_a
    matrix = json.loads(page.get_attribute(HEAT, "data-matrix"))
    assert matrix["B"]["A"] == reform_a - baseline_a > 0  # the newcomers to A come from B
    expect(page.locator("#sim-firms-changed")).not_to_have_text("0")
    expect(page.locator("#sim-firms tbody tr").first).to_be_visible()
    expect(page.locator('.param[data-param="mujun.quotas_above_scale"]')).to_have_class("param changed")
    expect(page.locator("#sim-changes tbody")).to_contain_text("mujun.quotas_above_scale")
    assert int(results.get_attribute("data-took-ms").split(".")[0]) < 2000

    # Why: a firm that moved from B to A, both sides with the quotas each used and the 2.11 reward that follows
    moved = page.locator("#sim-firms tbody tr", has=page.locator("td:nth-child(3) .badge.B")).filter(
        has=page.locator("td:nth-child(4) .badge.A")
    )
    moved.first.locator("button[data-why]").click()
    why = page.locator("#sim-why")
    expect(why).to_have_attribute("data-ready", "1")
    expect(why.locator(".why-side").first.locator(".badge").first).to_have_text("B")
    expect(why.locator(".why-side.reform .badge").first).to_have_text("A")
    why.locator(".why-side.reform details").first.locator("summary").click()
    expect(why.locator(".why-side.reform")).to_contain_text("A 30%、B 50%")
    expect(page.locator("#sim-why-changes")).to_contain_text("A 20%、B 60%、C 15%、D 5% → A 30%、B 50%")
    screenshot(page, "simulate-admin-why")
    why.screenshot(path=str(SHOTS / "simulate-admin-why-panel.png"))

    page.select_option("#sweep-path", "quota:mujun.quotas_above_scale")
    expect(page.locator("#sweep-figure")).to_have_value("a_above")
    page.fill("#sweep-from", "20")
    page.fill("#sweep-to", "30")
    page.fill("#sweep-step", "5")
    page.click("#sweep-run")
    sweep = page.locator("#chart-sweep")
    expect(sweep).to_have_attribute("data-chart-ready", "1")
    expect(sweep).to_have_attribute("data-points", "3")
    points = json.loads(sweep.get_attribute("data-values"))
    assert [x for x, _ in points] == [20, 25, 30] and points[0][1] < points[-1][1]  # more A as the quota rises
    assert points[-1][1] == reform_a
    screenshot(page, "simulate-admin-desktop")

    page.fill("#save-form input[name=title]", "规上A类提高到30%")
    page.click("#save-new")
    expect(page.locator("#save-result")).to_be_visible()
    href = page.get_attribute("#share-link", "href")
    assert href.startswith("/simulate?reform=")
    page.goto(f"{server}{href}")
    expect(page.locator("#sim-loaded")).to_contain_text("规上A类提高到30%")
    expect(page.locator(QUOTA_A)).to_have_value("30")
    expect(page.locator("#sim-results")).to_have_attribute("data-runs", "1")
    assert int(page.get_attribute(HEAT, "data-reform-a")) == reform_a  # the link shows the same reform
    assert page.locator("#save-version").is_visible()
    assert not render_errors, render_errors
    assert not csp_violations, csp_violations


def test_simulate_when_a_bad_value_is_typed_shows_the_problem_next_to_the_field(page, server, login):
    login("department")
    page.goto(f"{server}/simulate")
    expect(page.locator("#sim-results")).to_have_attribute("data-runs", "1")
    page.fill('input[data-path="tech_renovation.major_rate"]', "abc")
    problems = page.locator('ul.problems[data-problems-for="tech_renovation.major_rate"]')
    expect(problems).to_be_visible()
    expect(page.locator("#sim-problems")).to_be_visible()
    expect(page.locator("#sim-summary tr[data-clause=total] td[data-side=baseline]")).not_to_have_text("-")
    page.fill('input[data-path="tech_renovation.major_rate"]', "12")
    expect(problems).to_be_hidden()
    expect(page.locator("#sim-summary tr[data-clause='2.10'] td[data-side=change]")).to_contain_text("+")


def test_simulate_when_a_town_official_opens_it_on_a_phone_stays_within_the_screen(page, server, login):
    page.set_viewport_size({"width": 390, "height": 844})
    login("town")
    page.goto(f"{server}/simulate")
    expect(page.locator("#sim-results")).to_have_attribute("data-runs", "1")
    assert page.locator("#save-form").count() == 0  # saving is for the bureau and the departments
    _open_mujun(page)
    page.fill(QUOTA_A, "30")
    expect(page.locator("#sim-results")).to_have_attribute("data-runs", "2")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    towns = set(page.locator("#sim-firms tbody tr td:nth-child(2)").all_text_contents())
    assert towns <= {"杜桥镇"}  # a town reads its own firms
    page.locator("#sim-firms tbody tr button[data-why]").first.click()  # why, for one of its own firms
    expect(page.locator("#sim-why")).to_have_attribute("data-ready", "1")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.locator("#sim-why").screenshot(path=str(SHOTS / "simulate-town-phone-why-panel.png"))
    screenshot(page, "simulate-town-phone")


def test_simulate_when_an_official_uploads_a_county_compares_on_it(page, server, login, tmp_path):
    from tenglong.demo.county import generate_county

    data = tmp_path / "county.csv"
    generate_county(2023, range(2023, 2024)).head(400).write_csv(data)
    login("department")
    page.goto(f"{server}/simulate")
    results = page.locator("#sim-results")
    expect(results).to_have_attribute("data-runs", "1")
    page.locator("#upload-box > summary").click()
    page.set_input_files('#upload-form input[name="data"]', str(data))
    page.fill('#upload-form input[name="year"]', "2023")
    page.click("#upload-run")
    expect(page.locator("#sim-uploaded")).to_be_visible()
    expect(page.locator("#sim-uploaded-text")).to_contain_text("400")  # its firms, not the platform's
    expect(results).to_have_attribute("data-runs", "2")
    assert page.locator("#year-form select").is_disabled()
    _open_mujun(page)
    page.fill(QUOTA_A, "30")
    expect(results).to_have_attribute("data-runs", "3")
    expect(page.locator("#sim-firms-changed")).not_to_have_text("0")
    screenshot(page, "simulate-department-uploaded")
