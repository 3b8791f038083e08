"""The 待办 panel and the bell in a real browser: an enterprise submits, the department sees the task on its dashboard
with its count, follows it to the filtered list, and opens the notification from the bell.

Screenshots: test-results/screenshots/todo-department-{desktop,phone}.png, notifications-department-phone.png.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tenglong.web.i18n import t

from .conftest import PASSWORD, screenshot

DEMO_ENTERPRISE = "913310821003686548"
PHONE = {"width": 390, "height": 844}


def _api(server: str, role: str) -> httpx.Client:
    c = httpx.Client(base_url=server, timeout=60)
    r = c.post("/api/v1/session", json={"username": role, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def _submitted_application(server: str) -> int:
    """A 2.10 application of the demo enterprise, submitted by it (which notifies the department)."""
    c = _api(server, "enterprise")
    try:
        project = c.post(
            "/api/v1/projects",
            json={
                "credit_code": DEMO_ENTERPRISE,
                "name": "待办面板测试项目",
                "application_date": "2023-03-01",
                "inputs": {"total_investment": 15000000, "equipment_investment": 8000000},
            },
        ).json()["id"]
        aid = c.post("/api/v1/applications", json={"project_id": project, "clause": "2.10"}).json()["id"]
        assert c.post(f"/api/v1/applications/{aid}/submit", json={}).status_code == 200
    finally:
        c.close()
    return aid


def test_panel_when_an_application_is_submitted_shows_it_to_the_department_and_the_bell_leads_to_it(
    page, server, login, render_errors, csp_violations
):
    """Dashboard: the submitted applications with their exact count → the filtered list; the bell's count → the
    notification → the application, after which the bell counts one fewer.
    """
    aid = _submitted_application(server)
    department = _api(server, "department")
    try:
        item = next(
            i for i in department.get("/api/v1/todo").json()["items"] if i["key"] == "subsidy_application.submitted"
        )
        unread = department.get("/api/v1/notifications", params={"unread": True}).json()["unread"]
    finally:
        department.close()
    assert item["count"] >= 1 and unread >= 1

    login("department")
    task = page.locator('#todo li[data-todo="subsidy_application.submitted"]')
    expect(task.locator(".todo-count")).to_have_text(f"{item['count']:,}")
    expect(task.locator(".todo-text")).to_have_text("补助申请：已提交，待您开始审核")
    expect(page.locator("#bell-count")).to_have_text(str(unread))
    screenshot(page, "todo-department-desktop")

    with page.expect_navigation():
        task.locator("a").click()
    assert page.url.endswith("/applications?status=submitted")
    expect(page.locator("tr[data-application]")).to_have_count(min(item["count"], 50))
    expect(page.locator(f'tr[data-application="{aid}"]')).to_be_visible()

    page.set_viewport_size(PHONE)
    page.goto(f"{server}/dashboard")
    expect(page.locator("#todo")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "todo-department-phone")

    with page.expect_navigation():
        page.click("#bell")
    notice = page.locator(f'li.notice-item[data-event="application.submit"]:has-text("#{aid} ")').first
    expect(notice.locator(".notice-text")).to_contain_text(f"的补助申请 #{aid} 已提交，请审核。")
    expect(notice).to_contain_text(t("notifications.at", "zh", at=""))  # （北京时间 UTC+8）
    screenshot(page, "notifications-department-phone")
    with page.expect_navigation():
        notice.locator("button.primary").click()
    assert page.url.endswith(f"/applications/{aid}")
    if unread > 1:
        expect(page.locator("#bell-count")).to_have_text(str(unread - 1))
    else:
        expect(page.locator("#bell-count")).to_have_count(0)
    assert not render_errors and not csp_violations, render_errors + csp_violations
