"""The calculator as officials use it every day, in a real browser: amounts in 万元 and rates in %, the result in 万元
with the exact 元, a printout an office can file, a phone, the validity notice and the enterprise type-ahead.

Screenshots (desktop, phone, print) are saved under test-results/screenshots/calculator-daily-*.png.
"""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tenglong.web.i18n import t

from .conftest import screenshot

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"
BATCH = {
    "as_of": "2023-03-01",
    "enterprises": {"E1": {}},
    "projects": {
        f"P{k}": {
            "enterprise": "E1",
            "name": f"临海市示例机械有限公司第{k}期数控化技术改造项目",
            "total_investment": 15000000,
            "equipment_investment": 8000000,
            "tech_renovation_tier": None,
            "tech_renovation_subsidy": None,
        }
        for k in (1, 2)
    },
}


def _fill_2_10(page) -> None:
    """A 2.10 major project of a "2513" firm, typed as an official would: 1,500 万元, 800 万元, growth 15 %."""
    page.fill("#calc-form input[name=application_date]", "2023-03-01")
    page.fill("#calc-form input[name=name]", "数控化改造项目")
    page.fill("#calc-form input[name=total_investment]", "1500")
    page.fill("#calc-form input[name=equipment_investment]", "800")
    page.select_option("#calc-form select[name='ent.is_2513_enterprise']", "true")
    page.fill("#calc-form input[name='ent.local_contribution_growth']", "15")
    page.fill("#calc-form input[name='ent.industrial_equipment_investment']", "600")
    page.select_option("#calc-form select[name=key_industrial_project]", "true")


def test_calculator_when_filled_in_wan_with_a_percentage_shows_80_wan_and_the_exact_yuan(
    page, server, login, render_errors, csp_violations
):
    """万元 is the default for investments (the exact 元 shows as it is typed); 15 in the % field is 15 %: the subsidy
    reads "80.00 万元（800,000.00 元）" and the "2513" reward 15 % of 800万.
    """
    login("town")
    page.goto(f"{server}/calculator")
    expect(page.locator("#calc-form select[name=total_investment__unit]")).to_have_value("万元")
    expect(page.locator("label[data-field='ent.local_contribution_growth'] .suffix")).to_have_text("%")
    _fill_2_10(page)
    expect(page.locator("[data-exact=equipment_investment]")).to_have_text(
        t("calculator.exact_yuan", "zh", yuan="8,000,000.00")
    )
    page.click("#calc-form button[type=submit]")
    clause = page.locator("#results article[data-clause='2.10']")
    expect(clause.locator("[data-output=tech_renovation_tier] .value")).to_have_text(t("calculator.enum.major", "zh"))
    expect(clause.locator("[data-output=key_project_reward_2513] .value")).to_have_text(
        "120.00 万元（1,200,000.00 元）"
    )
    expect(page.locator("#inputs-table tr[data-input=total_investment] td.num")).to_have_text(
        "1,500.00 万元（15,000,000.00 元）"
    )
    expect(page.locator("#inputs-table tr[data-input='ent.local_contribution_growth'] td.num")).to_have_text("15%")
    page.select_option("#calc-form select[name='ent.is_2513_enterprise']", "false")
    page.click("#calc-form button[type=submit]")
    expect(clause.locator("[data-output=tech_renovation_subsidy] .value")).to_have_text("80.00 万元（800,000.00 元）")
    screenshot(page, "calculator-daily-desktop")
    assert csp_violations == [], "\n".join(csp_violations)
    assert render_errors == [], "\n".join(render_errors)


def test_calculator_when_growth_typed_500_percent_refuses_it_at_the_field(page, server, login, render_errors):
    """500 % is outside the plausible range: said at the field, nothing computed."""
    login("town")
    page.goto(f"{server}/calculator")
    _fill_2_10(page)
    page.fill("#calc-form input[name='ent.local_contribution_growth']", "500")
    page.click("#calc-form button[type=submit]")
    error = page.locator("label[data-field='ent.local_contribution_growth'] .field-error")
    expect(error).to_contain_text("500%")
    expect(error).to_contain_text("300%")
    expect(page.locator("#results")).to_have_count(0)
    assert render_errors == [], "\n".join(render_errors)


def test_calculator_print_when_emulated_shows_the_filing_layout_and_omits_what_was_not_computed(
    page, server, login, render_errors
):
    """Printed: the heading, project, inputs with units, the computed clause with its text, validity, print time and
    the signature line (经办人 / 审核人 / 日期); not the form, nor the clauses that were not computed.
    """
    login("town")
    page.goto(f"{server}/calculator")
    _fill_2_10(page)
    page.click("#calc-form button[type=submit]")
    expect(page.locator("#results article[data-clause='2.10']")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("#signatures")).to_be_visible()
    for key in ("calculator.print.handler", "calculator.print.reviewer", "calculator.print.date"):
        expect(page.locator("#signatures")).to_contain_text(t(key, "zh"))
    expect(page.locator(".print-head")).to_be_visible()
    expect(page.locator("#results")).to_contain_text("数控化改造项目")
    expect(page.locator("#results")).to_contain_text("2022-07-16 至 2023-12-31")
    expect(page.locator("[data-print-time]")).to_contain_text("北京时间")
    expect(page.locator("#inputs-table")).to_be_visible()
    expect(page.locator("#results article[data-clause='2.10'] blockquote").first).to_be_visible()
    expect(page.locator("#results article[data-clause='2.11']")).to_be_hidden()
    expect(page.locator("#results article[data-clause='2.6']")).to_be_hidden()
    expect(page.locator("#calc-form")).to_be_hidden()
    expect(page.locator("#enterprise-pick")).to_be_hidden()
    screenshot(page, "calculator-daily-print")
    page.emulate_media(media="screen")
    expect(page.locator("#signatures")).to_be_hidden()
    expect(page.locator("#results article[data-clause='2.11']")).to_be_visible()
    assert render_errors == [], "\n".join(render_errors)


def test_calculator_when_on_a_390px_phone_has_no_horizontal_scroll(page, server, login, render_errors):
    """At 390×844 the form and the results (with their tables) fit the screen's width: nothing scrolls sideways."""
    login("town")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/calculator")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    _fill_2_10(page)
    page.click("#calc-form button[type=submit]")
    expect(page.locator("#results article[data-clause='2.10']")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    screenshot(page, "calculator-daily-phone")
    page.set_input_files(
        "#batch input[type=file]",
        files=[{"name": "r.json", "mimeType": "application/json", "buffer": json.dumps(BATCH).encode()}],
    )
    page.click("#batch button[type=submit]")
    expect(page.locator("#batch-result tr[data-row='P1.tech_renovation_subsidy']")).to_contain_text("80.00 万元")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert render_errors == [], "\n".join(render_errors)


def test_calculator_when_today_is_after_the_validity_says_so_and_sets_the_last_day_on_request(
    page, server, login, render_errors
):
    """Today (after 2023-12-31) is the default date; the notice at the top says so, and its button puts 2023-12-31
    in the date field.
    """
    login("department")
    page.goto(f"{server}/calculator")
    notice = page.locator("#validity-notice")
    expect(notice).to_contain_text("2022-07-16 至 2023-12-31")
    today = page.locator("#calc-form input[name=application_date]").input_value()
    assert today > "2023-12-31"
    notice.locator("button[data-set-date]").click()
    expect(page.locator("#calc-form input[name=application_date]")).to_have_value("2023-12-31")
    assert render_errors == [], "\n".join(render_errors)


def test_calculator_when_part_of_a_name_is_typed_suggests_firms_and_prefills_by_name(
    page, server, login, render_errors
):
    """Typing part of a name fills the suggestions (htmx); 按企业预填 with a name found once prefills that firm."""
    login("town")
    page.goto(f"{server}/calculator")
    picker = page.locator("#enterprise-pick input[name=enterprise]")
    picker.press_sequentially("临海市", delay=20)
    expect(page.locator("#enterprise-options option").first).to_be_attached()
    first = page.locator("#enterprise-options option").first
    code, name = first.get_attribute("value"), first.inner_text()
    picker.fill(name)
    with page.expect_navigation():
        page.click("#enterprise-pick button[type=submit]")
    expect(page.locator("#enterprise-pick .prefilled")).to_contain_text(code)
    assert render_errors == [], "\n".join(render_errors)
