"""A project's life cycle in a real browser (A.4.2): the town official opens 项目管理, finds a project of the town
that is only filed, records its start from the project's page, and sees the stage and the date on the timeline. The
project's page is photographed at desktop width and at 390 px.

Screenshots: test-results/screenshots/project-{list,detail}-{desktop,phone}.png.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from .conftest import PASSWORD, screenshot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _filed_project(server: str) -> int:
    """A new project of a firm of the town, filed on 2023-03-01 (the town files it through the API)."""
    with httpx.Client(base_url=server, timeout=60) as c:
        r = c.post("/api/v1/session", json={"username": "town", "password": PASSWORD})
        assert r.status_code == 200
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        firm = c.get("/api/v1/enterprises", params={"page_size": 1}).json()["items"][0]["credit_code"]
        made = c.post(
            "/api/v1/projects",
            json={
                "credit_code": firm,
                "name": "浏览器测试技改项目",
                "application_date": "2023-03-01",
                "inputs": {"total_investment": 12000000, "equipment_investment": 7000000},
            },
        )
        assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_project_lifecycle_when_town_records_the_start_shows_it_on_the_timeline(page, server, login, render_errors):
    """项目管理 → the filed project → 登记开工 with a date → 已开工, the start date on the timeline."""
    pid = _filed_project(server)
    page.set_viewport_size(DESKTOP)
    login("town")
    page.click('nav.mainnav a[href="/projects"]')
    page.select_option("#filters select[name=stage]", "filed")
    page.click("#filters button[type=submit]")
    row = page.locator(f'tr[data-project="{pid}"]')
    expect(row).to_be_visible()
    screenshot(page, "project-list-desktop")
    row.locator(f'a[href="/projects/{pid}"]').click()
    expect(page.locator("#project-stage")).to_have_text("已备案")
    expect(page.locator("#key-project")).to_be_visible()
    form = page.locator('form[data-action="start"]')
    form.locator('[name="started_on"]').fill("2023-04-18")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    expect(page.locator("#project-stage")).to_have_text("已开工")
    expect(page.locator('[data-stage="started"] time')).to_have_text("2023-04-18")
    expect(page.locator('form[data-action="complete"]')).to_be_visible()
    # the date was typed wrong: corrected with a reason, the stage stays
    page.locator("#correct > summary").click()
    fix = page.locator('form[data-action="correct"]')
    expect(fix.locator('[name="started_on"]')).to_have_value("2023-04-18")
    fix.locator('[name="started_on"]').fill("2023-04-08")
    fix.locator('[name="reason"]').fill("按施工许可证更正")
    fix.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    expect(page.locator('[data-stage="started"] time')).to_have_text("2023-04-08")
    expect(page.locator("#project-stage")).to_have_text("已开工")
    screenshot(page, "project-detail-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "project-detail-phone")
    page.goto(f"{server}/projects")
    screenshot(page, "project-list-phone")
    assert render_errors == [], "\n".join(render_errors)
