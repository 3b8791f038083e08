"""The auditor's and the administrator's day in a real browser: filter the audit log by one field (the dates left
empty), read its records as sentences, export the filtered set; unlock an account the sign-in throttle locked, and
commit an import, each after confirming in the dialog. Screenshots at desktop width and at 390 px.
"""

from __future__ import annotations

import csv
import io
import itertools
import re

import httpx
import openpyxl
from playwright.sync_api import expect

from tenglong.adapters.tabular.writer import write_enterprise_years
from tenglong.demo.county import generate_county
from tenglong.services.audit.log import HEADERS

from .conftest import PASSWORD, screenshot

PHONE = {"width": 390, "height": 844}
NEW_PASSWORD = "daily-browser-2023"
_serial = itertools.count(1)


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_auditor_when_filtering_by_actor_only_reads_sentences_and_exports_the_filtered_set(
    page, server, login, render_errors, csp_violations, tmp_path
):
    """The auditor picks an actor by name and nothing else (the dates stay empty): the page answers, every record
    reads as a sentence in Beijing time with names, not codes; the XLSX and CSV exports hold exactly the records
    counted.
    """
    login("auditor")
    page.goto(f"{server}/admin/audit")
    page.select_option("#filter-actor", "admin")
    expect(page.locator("#filter-actor option:checked")).to_have_text("市经信局 管理员（admin）")
    with page.expect_navigation():
        page.click("#filter-submit")
    assert "date_from=&" in page.url and "actor=admin" in page.url
    expect(page.locator("#audit-table")).to_be_visible()
    total = int(re.sub(r"\D", "", page.locator("#audit-count").inner_text()))
    assert total > 0
    sentences = page.locator("#audit-table p.sentence").all_inner_texts()
    assert sentences and all(
        re.match(r"市经信局 管理员（admin）于 \d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", s) for s in sentences
    ), sentences[:3]
    # a move reads with its states before and after (the demo's latest moves by admin: register entries, projects…)
    assert any(re.search(r"状态 \S+ → \S+", s) for s in sentences), sentences[:5]
    visible = page.locator("#audit-table").inner_text()  # the folded stored records are not shown
    for code in ("evaluation.publish", "evaluation_run", '"status"', "published"):
        assert code not in visible, code
    page.locator("#audit-table details.raw summary").first.click()
    # the stored record names its event code (the first row is whichever admin event came last: login, publish…)
    expect(page.locator("#audit-table details.raw").first).to_contain_text(re.compile(r"事件代码\s*[a-z_.]+"))
    screenshot(page, "auditor-audit-filtered-desktop")

    with page.expect_download() as xlsx:
        page.click("#export-xlsx")
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.value.path().read_bytes()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == HEADERS and len(rows) == total + 1
    assert {r[2] for r in rows[1:]} == {"admin"} and all("（北京时间）" in r[11] for r in rows[1:])
    with page.expect_download() as csv_file:
        page.click("#export-csv")
    text = csv_file.value.path().read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == HEADERS and len(lines) == total + 1

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("#audit-table p.sentence").first).to_be_visible()
    assert _no_horizontal_scroll(page), "the audit log scrolls sideways at 390 px"
    screenshot(page, "auditor-audit-filtered-390")
    assert render_errors == [] and csp_violations == []


def _locked_account(server: str) -> dict:
    """A new town account (made by the administrator through the API) with five failed sign-ins: locked."""
    with httpx.Client(base_url=server, timeout=30) as admin:
        token = admin.post("/api/v1/session", json={"username": "admin", "password": PASSWORD}).json()["csrf_token"]
        body = {
            "username": f"browser.locked.{next(_serial)}",
            "display_name": "锁定测试 账号",
            "password": NEW_PASSWORD,
            "role": "town",
            "town": "331082112",
        }
        r = admin.post("/api/v1/admin/users", json=body, headers={"X-CSRF-Token": token})
        assert r.status_code == 201, r.text
    with httpx.Client(base_url=server, timeout=30) as guesser:
        for _ in range(5):
            assert (
                guesser.post("/api/v1/session", json={"username": body["username"], "password": "x"}).status_code == 401
            )
        assert (
            guesser.post("/api/v1/session", json={"username": body["username"], "password": NEW_PASSWORD}).status_code
            == 429
        )
    return {**r.json(), "password": NEW_PASSWORD}


def test_admin_when_an_account_is_locked_sees_until_when_and_unlocks_it_after_confirming(
    page, server, login, render_errors, csp_violations, browser
):
    """The users page marks the locked account with its end in Beijing time; 解除锁定 asks first in a dialog (cancel
    keeps the lock); confirmed, the page says so, the audit log has the sentence, and the account signs in."""
    user = _locked_account(server)
    login("admin")
    page.goto(f"{server}/admin/users")
    row = page.locator(f'tr[data-username="{user["username"]}"]')
    expect(row.locator("td.lock")).to_contain_text("已锁定至")
    expect(row.locator("td.lock")).to_contain_text("（北京时间）")
    expect(page.locator("#locked-summary")).to_be_visible()
    row.locator('button[data-action="unlock"]').click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-text")).to_contain_text(f"解除账号“锁定测试 账号（{user['username']}）”的登录锁定")
    screenshot(page, "admin-unlock-dialog-desktop")
    page.click("#confirm-cancel")
    expect(dialog).to_be_hidden()
    expect(row.locator("td.lock")).to_contain_text("已锁定至")
    row.locator('button[data-action="unlock"]').click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    expect(page.locator("#admin-notice")).to_contain_text("已解除账号")
    expect(page.locator(f'tr[data-username="{user["username"]}"] td.lock')).to_contain_text("未锁定")
    screenshot(page, "admin-unlocked-desktop")

    page.goto(f"{server}/admin/audit?event=user.unlock&entity_id={user['id']}")
    expect(page.locator("#audit-table p.sentence").first).to_contain_text(f"解除账号 #{user['id']} 的登录锁定：锁定至 ")
    expect(page.locator("#audit-table p.sentence").first).to_contain_text("计入锁定的登录失败次数 5 → 0")

    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    phone = context.new_page()
    phone.goto(f"{server}/login")
    phone.fill("input[name=username]", user["username"])
    phone.fill("input[name=password]", NEW_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(f"{server}/dashboard")
    context.close()

    page.set_viewport_size(PHONE)
    page.goto(f"{server}/admin/users")
    assert _no_horizontal_scroll(page), "the users page scrolls sideways at 390 px (its table may, in its box)"
    screenshot(page, "admin-users-390")
    assert render_errors == [] and csp_violations == []


def test_admin_when_committing_an_import_confirms_the_summary_in_a_dialog_first(
    page, server, login, render_errors, csp_violations, tmp_path
):
    """A validated upload states what its commit writes; 提交导入 opens the dialog with that summary (cancel commits
    nothing); confirmed, the import commits."""
    path = write_enterprise_years(generate_county(11, [2024]).head(3), tmp_path / "三家企业.csv")
    login("admin")
    page.goto(f"{server}/imports")
    page.set_input_files("#upload-file", str(path))
    with page.expect_navigation(url=lambda u: "/imports/" in u):
        page.click("#upload-submit")
    page.wait_for_selector("#import-status[data-status=validated]", timeout=90_000)
    page.wait_for_load_state("networkidle")
    summary = "提交后将写入 3 家企业 2024 年度数据（新增 3 家，更新 0 家，共 3 行），并替换这些企业该年度的原有数据。"
    expect(page.locator("#commit-summary")).to_contain_text(summary)
    page.click("#commit-button")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-title")).to_have_text("确认提交导入")
    expect(dialog.locator("#confirm-text")).to_contain_text(summary)
    expect(dialog.locator("#confirm-text")).to_contain_text("提交后不可撤销")
    screenshot(page, "admin-import-confirm-desktop")
    page.click("#confirm-cancel")
    expect(dialog).to_be_hidden()
    expect(page.locator("#import-status")).to_have_attribute("data-status", "validated")
    page.set_viewport_size(PHONE)
    page.click("#commit-button")
    expect(dialog).to_be_visible()
    screenshot(page, "admin-import-confirm-390")
    with page.expect_navigation():
        page.click("#confirm-ok")
    page.wait_for_selector("#import-status[data-status=committed]", timeout=90_000)
    expect(page.locator("#commit-done")).to_be_visible()
    assert render_errors == [] and csp_violations == []
