"""One full 高耗低效 loop in a real browser, from the platform's proposal to 销号, across the town and admin roles:
the town confirms the proposal, makes the plan (一企一方案: category, measures, a target indicator, the deadline,
the responsible unit), starts the rectification and asks for the acceptance; the administrator uploads the
acceptance report and closes the entry off after the confirmation dialog. The board, the entry page and a move form
are photographed at desktop width and at 390 px. Then a town imports a register kept in Excel and adds an entry by
hand.

Screenshots: test-results/screenshots/register-{board,entry,plan-form,new}-{desktop,phone}.png.
"""

from __future__ import annotations

import io

import httpx
import openpyxl
from playwright.sync_api import expect

from .conftest import PASSWORD, screenshot

HCLE = "high_consumption_low_efficiency"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _proposal(server: str) -> dict:
    """A proposed 高耗低效 entry of the town's (the platform proposed it after the published evaluation)."""
    with httpx.Client(base_url=server, timeout=60) as c:
        assert c.post("/api/v1/session", json={"username": "town", "password": PASSWORD}).status_code == 200
        items = c.get(f"/api/v1/registers/{HCLE}", params={"state": "proposed"}).json()["items"]
    assert items, "the demo county has proposals in the town"
    return items[0]


def _move(page, action: str, fill: dict[str, str] | None = None, confirm: bool = False) -> None:
    form = page.locator(f'form[data-action="{action}"]')
    expect(form).to_be_visible()
    for name, value in (fill or {}).items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()
    if confirm:
        dialog = page.locator("#confirm-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("#confirm-ok").click()
    page.wait_for_load_state("load")


def _state(page, text: str) -> None:
    expect(page.locator("#entry-state")).to_have_text(text)


def test_register_loop_when_run_from_proposal_to_closed_off_across_town_and_admin(page, server, login, render_errors):
    """Proposal → 确认列入 → 制定方案 → 开始整治 → 申请验收 (town) → acceptance report → 达标销号 (admin, confirmed)."""
    entry = _proposal(server)
    url = f"{server}/registers/{HCLE}/{entry['id']}"
    page.set_viewport_size(DESKTOP)
    login("town")
    page.click('nav.mainnav a[href="/registers"]')
    expect(page.locator(f'[data-kind="{HCLE}"]')).to_be_visible()
    page.click(f'[data-kind="{HCLE}"] h2 a')
    expect(page.locator("#board")).to_be_visible()
    screenshot(page, "register-board-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "register-board-phone")
    page.set_viewport_size(DESKTOP)
    page.click("#view-list")
    expect(page.locator("#list")).to_be_visible()
    page.goto(url)
    _state(page, "系统建议列入（待确认）")
    _move(page, "confirm", {"note": "经实地核查属实"})
    _state(page, "已排摸列入")
    form = page.locator('form[data-action="plan"]')
    form.scroll_into_view_if_needed()
    screenshot(page, "register-plan-form-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "register-plan-form-phone")
    page.set_viewport_size(DESKTOP)
    _move(
        page,
        "plan",
        {
            "category": "renovation",
            "measures": "淘汰燃煤锅炉，新增自动化产线",
            "target.tax_per_mu": "0.0001",
            "deadline": "2099-12-31",
            "responsible_unit": "economy_bureau",
        },
    )
    _state(page, "已制定方案")
    expect(page.locator("#targets")).to_contain_text("万元/亩")
    _move(page, "start")
    _state(page, "整治中")
    _move(page, "request_acceptance", {"note": "已完成整治"})
    _state(page, "验收中")
    expect(page.locator('form[data-action="close_off"]')).to_have_count(0)  # the town does not close off

    login("admin")
    page.goto(url)
    expect(page.locator('form[data-action="close_off"]')).to_contain_text("验收报告")
    page.select_option("#upload select[name=kind]", "acceptance_report")
    page.set_input_files(
        "#upload input[type=file]", files=[{"name": "验收报告.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.click("#upload button[type=submit]")
    page.wait_for_load_state("load")
    expect(page.locator("#attachments")).to_contain_text("验收报告.pdf")
    screenshot(page, "register-entry-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "register-entry-phone")
    page.set_viewport_size(DESKTOP)
    _move(page, "close_off", {"opinion": "各项指标均已达到方案目标值，同意销号"}, confirm=True)
    _state(page, "达标销号")
    timeline = page.locator("#timeline")
    for move in ("确认列入", "制定方案", "开始整治", "申请验收", "达标销号"):
        expect(timeline).to_contain_text(move)
    expect(timeline).to_contain_text("北京时间")
    expect(page.locator("#actions")).to_have_count(0)
    assert not render_errors, render_errors


def _free_firms(server: str, n: int) -> list[str]:
    """``n`` firms of the town without a 高耗低效 entry."""
    with httpx.Client(base_url=server, timeout=60) as c:
        assert c.post("/api/v1/session", json={"username": "town", "password": PASSWORD}).status_code == 200
        listed = {e["credit_code"] for e in c.get(f"/api/v1/registers/{HCLE}").json()["items"]}
        firms = c.get("/api/v1/enterprises", params={"per_page": 200}).json()["items"]
    return [f["credit_code"] for f in firms if f["credit_code"] not in listed][:n]


def test_register_intake_when_a_town_imports_excel_and_adds_by_hand_lists_both(page, server, login, render_errors):
    """导入Excel: a file with a bad row is refused with its problems; fixed, it is imported and the list says so.
    新增条目: the form lists the firm and opens its entry. The form is photographed at desktop width and at 390 px."""
    imported, added = _free_firms(server, 2)
    login("town")
    page.goto(f"{server}/registers/{HCLE}")
    page.click("#import-entries")
    expect(page.locator("#import-template")).to_be_visible()
    for state in ("没有这个状态", "整治中"):  # a bad state first: refused, with the problem in the table
        book = openpyxl.Workbook()
        book.active.append(["统一社会信用代码", "状态", "理由"])
        book.active.append([imported, state, "迁移旧清单"])
        out = io.BytesIO()
        book.save(out)
        upload = {"name": "清单.xlsx", "mimeType": XLSX, "buffer": out.getvalue()}
        page.set_input_files("#import-form input[type=file]", files=[upload])
        page.click("#import-submit")
        page.wait_for_load_state("load")
        if state == "没有这个状态":
            expect(page.locator("#import-problems")).to_contain_text("没有这个状态")
    expect(page.locator("#imported")).to_contain_text("1")
    page.click("#new-entry")
    page.fill('input[name="credit_code"]', added)
    page.fill('textarea[name="reason"]', "实地排摸发现")
    page.fill('input[name="fields.actual_land_area_mu"]', "12.5")
    screenshot(page, "register-new-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "register-new-phone")
    page.set_viewport_size(DESKTOP)
    page.click("#new-entry-submit")
    _state(page, "已排摸列入")
    expect(page.locator("#facts")).to_contain_text("12.5")
    assert not [e for e in render_errors if "(422)" not in e and "422 (Unprocessable" not in e], render_errors


def test_register_bulk_when_a_town_ticks_proposals_confirms_them_all_after_the_dialog(page, server, login):
    """The town lists its proposed 留驻优质企业, ticks two, confirms them in one move (asked first), and the list says
    so; on a phone the list and the bulk forms stay within the screen."""
    login("town")
    page.set_viewport_size(PHONE)
    page.goto(f"{server}/registers/quality_retention?view=list&state=proposed")
    bulk = page.locator('form[data-bulk][data-action="confirm"]')
    expect(bulk.locator("button[type=submit]")).to_be_disabled()  # nothing ticked yet
    picks = page.locator("input.bulk-pick")
    assert picks.count() >= 2
    picks.nth(0).check()
    picks.nth(1).check()
    expect(page.locator("#bulk-count")).to_contain_text("2")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "register-bulk-phone")
    bulk.locator('textarea[name="note"], input[name="note"]').first.fill("年度更新批量建档")
    bulk.locator("button[type=submit]").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("2")  # the count ticked, in the question
    dialog.locator("#confirm-ok").click()
    expect(page.locator("#moved")).to_contain_text("2")
