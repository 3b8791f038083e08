"""Daily use of a subsidy application in a real browser: returned, corrected with an attachment, reviewed, approved
lower with a reason after the confirmation dialog, paid — and the enterprise's pages on a 390 px phone.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tenglong.web.figures import state_name

from .conftest import screenshot

DEMO_ENTERPRISE = "913310821003686548"  # the `enterprise` demo account's firm (规上, 杜桥镇)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _status(page, state: str) -> None:
    expect(page.locator("#status")).to_have_text(state_name("subsidy_application", state, "zh"))


def _act(page, action: str, confirm: str | None = None, **fields: str) -> None:
    """Fill a move's form on the application page and send it; with ``confirm``, the dialog must say it, then OK."""
    form = page.locator(f"#actions form[data-action={action}]")
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    if confirm is None:
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        return
    form.locator("button[type=submit]").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-text")).to_contain_text(confirm)
    with page.expect_navigation():
        dialog.locator("#confirm-ok").click()


def _money(page, name: str, yuan: str) -> None:
    """Fill an amount in 元 (choosing 元 where the form offers a 万元/元 switch)."""
    unit = page.locator(f"select[name={name}__unit]")
    if unit.count():
        unit.select_option("元")
    page.fill(f"input[name={name}]", yuan)


def _no_sideways_scroll(page, where: str) -> None:
    assert page.evaluate(NO_SIDEWAYS), f"{where} scrolls sideways at {page.viewport_size['width']} px"


def test_application_when_returned_corrected_reviewed_approved_lower_and_paid_shows_each_step(
    page, server, login, render_errors, csp_violations
):
    """enterprise applies (800,000) → returned → uploads an invoice and corrects the equipment (900,000), submits
    again → department recommends 850,000 → admin approves 850,000 with a reason after the dialog → pays; the amounts
    read side by side in 万元 and 元; the enterprise's pages fit a 390 px phone.
    """
    project = f"日常技改 {uuid.uuid4().hex[:6]}"
    reference = f"TZ-{uuid.uuid4().hex[:8].upper()}"
    login("enterprise")
    page.set_viewport_size(PHONE)
    page.goto(f"{server}/applications/new")
    _no_sideways_scroll(page, "the new-application form")
    page.fill("input[name=name]", project)
    page.fill("input[name=application_date]", "2023-03-01")  # within the policy's validity, whatever today is
    _money(page, "total_investment", "15000000")
    _money(page, "equipment_investment", "8000000")
    page.select_option("select[name=traditional_industry]", "true")
    page.click("button[name=do][value=preview]")
    expect(page.locator("#preview .amount")).to_have_text("800,000.00")
    _no_sideways_scroll(page, "the new-application form with its result")
    screenshot(page, "daily-01-new-390")
    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        page.click("#create-draft")
    url = page.url
    _act(page, "submit")
    _status(page, "submitted")

    login("department")
    page.goto(url)
    _act(page, "start_review")
    login("admin")
    page.goto(url)
    _act(page, "reject", confirm="请补充设备发票", note="请补充设备发票，并按实际设备投资修改")
    _status(page, "rejected")

    login("enterprise")
    page.set_viewport_size(PHONE)
    page.goto(url)
    expect(page.locator("#returned")).to_contain_text("请补充设备发票")
    page.select_option("#upload select[name=kind]", "invoice")
    page.set_input_files(
        "#upload input[type=file]", files=[{"name": "设备发票.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    with page.expect_navigation():
        page.click("#upload button[type=submit]")
    row = page.locator("#attachments tr[data-attachment]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("设备发票.pdf")
    expect(row).to_contain_text("enterprise")
    _no_sideways_scroll(page, "the returned application")
    screenshot(page, "daily-02-returned-390")
    page.click("#edit-application")
    page.wait_for_url(re.compile(r"/applications/\d+/edit$"))
    expect(page.locator("input[name=name]")).to_have_value(project)
    expect(page.locator("input[name=equipment_investment]")).to_have_value("800")  # filled back in 万元
    expect(page.locator("select[name=equipment_investment__unit]")).to_have_value("万元")
    _no_sideways_scroll(page, "the correction form")
    _money(page, "equipment_investment", "9000000")
    page.click("button[name=do][value=preview]")
    expect(page.locator("#preview .amount")).to_have_text("900,000.00")
    screenshot(page, "daily-03-edit-390")
    with page.expect_navigation(url=re.compile(r"/applications/\d+$")):
        page.click("#resubmit")
    _status(page, "submitted")
    expect(page.locator("#amount")).to_have_text("900,000.00")

    login("department")
    page.goto(url)
    _act(page, "start_review")
    _act(page, "recommend", recommended_amount="850000", opinion="一台设备为办公用途，不予计入")
    _status(page, "recommended")

    login("admin")
    page.goto(url)
    form = page.locator("#actions form[data-action=approve]")
    expect(form.locator("input[name=approved_amount]")).to_have_value("850000.00")
    form.locator("[name=reason]").fill("按部门审核意见核减办公设备")
    form.locator("button[type=submit]").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog.locator("#confirm-text")).to_contain_text(
        "批准后将核定补助 85.00 万元（850,000.00 元），计入 2023 年度台账"
    )
    screenshot(page, "daily-04-approve-dialog")
    dialog.locator("#confirm-cancel").click()  # cancelled: nothing happens
    expect(dialog).to_be_hidden()
    _status(page, "recommended")
    _act(page, "approve", confirm="85.00 万元", reason="按部门审核意见核减办公设备")
    _status(page, "approved")
    _act(page, "pay", confirm=reference, reference=reference)
    _status(page, "paid")
    cells = {k: page.locator(f"#amounts [data-amount={k}]") for k in ("computed", "recommended", "approved", "paid")}
    for key, wan, yuan in (
        ("computed", "90.00", "900,000.00"),
        ("recommended", "85.00", "850,000.00"),
        ("approved", "85.00", "850,000.00"),
        ("paid", "85.00", "850,000.00"),
    ):
        expect(cells[key].locator(".wan")).to_contain_text(wan)
        expect(cells[key].locator(".yuan")).to_contain_text(yuan)
    expect(page.locator("#reduction")).to_contain_text("按部门审核意见核减办公设备")
    expect(page.locator("#ledger tbody tr")).to_have_count(2)
    steps = page.locator("#audit tbody tr").evaluate_all("rs => rs.map(r => r.dataset.audit)")
    assert [s for s in steps if s.startswith("application.")][-8:] == [
        f"application.{a}"
        for a in ("reject", "revise", "recompute", "submit", "start_review", "recommend", "approve", "pay")
    ], steps
    assert "attachment.upload" in steps
    page.set_viewport_size(DESKTOP)
    screenshot(page, "daily-05-paid-desktop")
    page.emulate_media(media="print")
    expect(page.locator("#signatures")).to_be_visible()
    expect(page.locator("#actions")).to_have_count(0)
    screenshot(page, "daily-06-print")
    page.emulate_media(media="screen")

    login("enterprise")
    page.set_viewport_size(PHONE)
    page.goto(url)
    _no_sideways_scroll(page, "the paid application")
    screenshot(page, "daily-07-paid-390")
    page.goto(f"{server}/applications")
    expect(page.locator(f"tr[data-application='{url.rsplit('/', 1)[1]}']")).to_contain_text("北京时间")
    _no_sideways_scroll(page, "the application list")
    screenshot(page, "daily-08-list-390")
    assert render_errors == [] and csp_violations == []
