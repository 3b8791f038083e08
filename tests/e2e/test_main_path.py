"""The main path in a real browser: dashboard → enterprise → class explanation → calculator (2.10) → a subsidy through
payment.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from playwright.sync_api import expect

from tenglong.core.loader import parameters, policy
from tenglong.core.mujun.method import Method
from tenglong.web.figures import state_name
from tenglong.web.i18n import t

from .conftest import chart_ink, wait_for_charts

DEMO_ENTERPRISE = "913310821003686548"  # the `enterprise` demo account's firm (规上, 杜桥镇)
KPIS = ("tax_per_mu", "value_added_per_mu", "labor_productivity", "rd_intensity")
RANK = re.compile(r"参与排名 (\d+) 家，本企业第 (\d+) 名")
QUOTAS = re.compile(r"A 类 (\d+) 家、B 类 (\d+) 家、C 类 (\d+) 家、D 类 (\d+) 家")
CLASS_FROM_RANK = re.compile(r"按排名计算的类别：([ABCD])")


def _number(text: str) -> Decimal:
    """The first number in ``text`` (thousands separators dropped)."""
    return Decimal(re.search(r"-?[\d,]+(?:\.\d+)?", text).group().replace(",", ""))


def test_dashboard_when_admin_signs_in_shows_kpis_against_the_2023_targets_and_the_class_chart(
    page, login, render_errors
):
    """The four county KPI cards quote the seed's 2023 targets and say met/not met consistently; the class chart matches
    its table.
    """
    login("admin")
    wait_for_charts(page)
    targets = Method.of(parameters(), policy(), 2023).targets
    cards = page.locator("#county-kpis .kpi")
    expect(cards).to_have_count(4)
    for key in KPIS:
        card = page.locator(f"#county-kpis .kpi[data-kpi='{key}']")
        value, target = _number(card.locator(".value").inner_text()), _number(card.locator(".target").inner_text())
        expected = targets[key].value * (100 if key == "rd_intensity" else 1)  # R&D intensity shows as a percentage
        assert target == expected.quantize(target), (key, target, expected)
        met = "met" in card.get_attribute("class").split()
        assert card.locator(".status").inner_text().strip() == t("dashboard.met" if met else "dashboard.not_met", "zh")
        if abs(value - target) > Decimal("0.01"):  # the displayed value is rounded; only judge clear cases
            assert met == (value > target), (key, value, target)
    table = [
        [int(c) for c in page.locator(f"#class-table tr[data-scope=county][data-group={g}] td").all_inner_texts()[:4]]
        for g in ("above_scale", "below_scale")
    ]
    series = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-classes')).getOption()"
        ".series.map(s => s.data.map(Number))"
    )
    assert series == table
    ink = {c["id"]: c for c in chart_ink(page)}
    assert ink["chart-classes"]["ink"] > 0.01 and ink["chart-classes"]["colours"] > 3
    assert render_errors == []


def test_main_path_when_admin_follows_a_class_count_reaches_the_explanation_with_rank_and_quota(
    page, server, login, render_errors
):
    """Dashboard A-count link → the list of exactly those firms → the first firm's profile → a year's explanation cites
    rank of N and the quotas.
    """
    login("admin")
    wait_for_charts(page)
    link = page.locator("#class-table tr[data-scope=county][data-group=above_scale] a[data-class-link=A]")
    count = int(link.inner_text())
    link.click()
    page.wait_for_url(re.compile(r"/enterprises\?.*class=A"))
    expect(page.locator("#list-total")).to_contain_text(f"{count:,}" if count >= 1000 else str(count))
    first = page.locator("#enterprise-table tbody tr").first
    name = first.locator("td a").first.inner_text()
    first.locator("td a").first.click()
    page.wait_for_url(re.compile(r"/enterprises/[0-9A-Z]{18}$"))
    expect(page.locator("h1")).to_contain_text(name)
    wait_for_charts(page)

    ranked = page.locator("#class-history tr[data-year]").filter(has_text="/")
    assert ranked.count() >= 1
    row = ranked.last  # the oldest ranked year: unless it is the only one, its explanation starts closed
    year = row.get_attribute("data-year")
    rank, n = (int(x) for x in row.locator("td").nth(2).inner_text().split("/"))
    details = row.locator("xpath=following-sibling::tr[1]//details")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    expect(details.locator("summary")).to_contain_text(year)
    text = details.locator(".explain").inner_text()
    assert RANK.search(text) and tuple(map(int, RANK.search(text).groups())) == (n, rank), text
    quotas = tuple(map(int, QUOTAS.search(text).groups()))
    assert sum(quotas) == n, (quotas, n)  # the quota counts share out exactly the ranked group
    assert CLASS_FROM_RANK.search(text).group(1) == row.locator("td").nth(3).inner_text().strip()
    assert render_errors == []


def test_calculator_when_a_2_10_major_project_is_entered_shows_800000_and_the_clause_with_a_working_link(
    page, server, login, render_errors
):
    """Equipment 8,000,000 in a 15,000,000 traditional-industry project: tier major, 800,000.00 元, clause 2.10 quoted,
    link to /policy#c2-10.
    """
    login("admin")
    page.goto(f"{server}/calculator")
    page.fill("#calc-form input[name=application_date]", "2023-03-01")  # within the validity, whatever today is
    page.fill("#calc-form input[name=equipment_investment]", "800")  # 万元, the fields' first unit
    page.fill("#calc-form input[name=total_investment]", "1500")
    page.select_option("#calc-form select[name=traditional_industry]", "true")
    page.click("#calc-form button[type=submit]")
    clause = page.locator("#results article[data-clause='2.10']")
    expect(clause).to_be_visible()
    expect(clause.locator("[data-output=tech_renovation_tier] .value")).to_have_text(t("calculator.enum.major", "zh"))
    expect(clause.locator("[data-output=tech_renovation_subsidy] .value")).to_have_text("80.00 万元（800,000.00 元）")
    expect(clause.locator("[data-output=tech_renovation_subsidy] .status")).to_have_text(
        t("calculator.status.applied", "zh")
    )
    quote = clause.locator("[data-output=tech_renovation_subsidy] blockquote")
    text_zh = policy()["2.10"].text_zh
    quoted = quote.inner_text().split("“", 1)[1].rstrip("”")
    assert quoted and quoted in text_zh and "设备投资额的10%" in quoted
    quote.locator("a[href='/policy#c2-10']").click()
    page.wait_for_url(f"{server}/policy#c2-10")
    target = page.locator("#c2-10")
    expect(target).to_be_in_viewport()
    expect(target.locator(".text[lang=zh-Hans]")).to_contain_text(quoted)
    assert render_errors == []


def _act(page, action: str, **fields: str) -> None:
    """Make one move from the application page (its form posts and redirects back); a move that asks first (批准,
    拨付, 退回修改, 撤回) is confirmed in its dialog.
    """
    form = page.locator(f"#actions form[data-action={action}]")
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    if form.get_attribute("data-confirm") is None:
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        return
    form.locator("button[type=submit]").click()
    with page.expect_navigation():
        page.locator("#confirm-dialog #confirm-ok").click()


def _actions(page) -> list[str]:
    return page.locator("#actions form[data-action]").evaluate_all("fs => fs.map(f => f.dataset.action)")


def test_subsidy_when_each_owner_makes_its_step_ends_paid_with_every_step_in_the_audit_trail(
    page, server, login, render_errors
):
    """enterprise creates and submits, department reviews (审核意见 and a recommended amount), admin approves and pays;
    each role sees only its moves; the trail shows all.
    """
    project = f"E2E 技改 {uuid.uuid4().hex[:8]}"
    reference = f"TZ-{uuid.uuid4().hex[:10].upper()}"
    login("enterprise")
    page.goto(f"{server}/applications/new")
    expect(page.locator("input[name=credit_code]")).to_have_value(DEMO_ENTERPRISE)
    page.fill("input[name=name]", project)
    page.fill("input[name=application_date]", "2023-03-01")
    page.fill("input[name=total_investment]", "1500")
    page.fill("input[name=equipment_investment]", "800")
    page.select_option("select[name=traditional_industry]", "true")
    page.click("button[name=do][value=preview]")
    expect(page.locator("#preview .amount")).to_have_text("800,000.00")
    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        page.click("#create-draft")
    url = page.url
    expect(page.locator("#status")).to_have_text(state_name("subsidy_application", "draft", "zh"))
    expect(page.locator("#amount")).to_have_text("800,000.00")
    assert "submit" in _actions(page) and not {"start_review", "approve", "pay"} & set(_actions(page))
    _act(page, "submit")
    expect(page.locator("#status")).to_have_text(state_name("subsidy_application", "submitted", "zh"))
    assert _actions(page) == []  # the enterprise waits for the department

    login("department")
    page.goto(url)
    assert _actions(page) == ["start_review"]
    _act(page, "start_review")
    expect(page.locator("#status")).to_have_text(state_name("subsidy_application", "under_review", "zh"))
    assert _actions(page) == ["recommend"]
    _act(page, "recommend", recommended_amount="800000", opinion="材料齐全，建议按计算金额补助")
    expect(page.locator("#status")).to_have_text(state_name("subsidy_application", "recommended", "zh"))
    assert _actions(page) == []  # the department reviews; it does not decide

    login("admin")
    page.goto(url)
    assert set(_actions(page)) == {"approve", "reject"}
    _act(page, "approve", note="符合2.10重大技改项目条件")
    expect(page.locator("#status")).to_have_text(state_name("subsidy_application", "approved", "zh"))
    assert _actions(page) == ["pay"]
    _act(page, "pay", reference=reference)
    expect(page.locator("#status")).to_have_text(state_name("subsidy_application", "paid", "zh"))
    assert _actions(page) == []
    expect(page.locator("section.card dl.facts")).to_contain_text(reference)

    trail = page.locator("#audit tbody tr")
    steps = trail.evaluate_all("rs => rs.map(r => r.dataset.audit)")
    moves = ("create", "submit", "start_review", "recommend", "approve", "pay")
    assert steps == [f"application.{a}" for a in moves], steps
    who = [trail.nth(i).locator("td").nth(1).inner_text() for i in range(6)]
    roles = ["enterprise", "enterprise", "department", "department", "admin", "admin"]
    assert [w.split(" · ")[0] for w in who] == roles and all(
        w.endswith(t(f"role.{r}", "zh")) for w, r in zip(who, roles, strict=True)
    )
    after = [trail.nth(i).locator("td").nth(4).inner_text() for i in range(6)]
    states = ("draft", "submitted", "under_review", "recommended", "approved", "paid")
    assert [a.split(" · ")[0] for a in after] == [state_name("subsidy_application", s, "zh") for s in states]
    assert after[0].endswith("800,000.00") and "材料齐全" in after[3] and "800,000.00" in after[3]
    assert "符合2.10重大技改项目条件" in after[4] and reference in after[5]

    page.goto(f"{server}/enterprises/{DEMO_ENTERPRISE}")  # the profile lists it as paid
    row = page.locator("#subsidies tbody tr", has_text=project)
    expect(row).to_contain_text(state_name("subsidy_application", "paid", "zh"))
    expect(row).to_contain_text("800,000.00")
    assert render_errors == []
