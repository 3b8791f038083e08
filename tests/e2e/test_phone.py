"""Phones (390 × 844): the dashboard, the enterprise profile, the calculator, the applications list and an application,
and the notifications, for each role that uses them — no sideways scrolling of the page, charts within the screen.

Each page is saved as a screenshot (test-results/screenshots/phone-<page>-<role>.png) to be looked at.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, screenshot, wait_for_charts

DEMO_ENTERPRISE = "913310821003686548"  # the `enterprise` demo account's firm (规上, 杜桥镇)
PHONE = {"width": 390, "height": 844}
ROLES = ("admin", "town", "enterprise")
PAGE_WIDTH = "() => document.documentElement.scrollWidth"
WIDE = """() => [...document.querySelectorAll('body *')].filter(e => {
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.right <= window.innerWidth + 0.5) return false;
  for (let p = e.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX;
    if (o === 'auto' || o === 'scroll' || o === 'hidden') return false;  // scrolls (or is clipped) in its own box
  }
  return true;
}).slice(0, 5).map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')}`
  + ` right=${Math.round(e.getBoundingClientRect().right)}`)"""
"""Elements that reach past the right edge of the screen without a scrolling box around them (what to fix)."""


def _api(server: str, role: str) -> httpx.Client:
    c = httpx.Client(base_url=server, timeout=60)
    r = c.post("/api/v1/session", json={"username": role, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


@pytest.fixture(scope="module")
def returned_application(server) -> int:
    """An application of the demo enterprise, returned for revision by the bureau (it notifies the enterprise)."""
    ent, admin = _api(server, "enterprise"), _api(server, "admin")
    try:
        project = ent.post(
            "/api/v1/projects",
            json={
                "credit_code": DEMO_ENTERPRISE,
                "name": "数控化改造项目（手机）",
                "application_date": "2023-03-01",
                "inputs": {"total_investment": 15000000, "equipment_investment": 8000000},
            },
        ).json()["id"]
        aid = ent.post("/api/v1/applications", json={"project_id": project, "clause": "2.10"}).json()["id"]
        assert ent.post(f"/api/v1/applications/{aid}/submit", json={}).status_code == 200
        assert admin.post(f"/api/v1/applications/{aid}/start_review", json={}).status_code == 200
        r = admin.post(
            f"/api/v1/applications/{aid}/reject", json={"note": "请补充设备发票和设备清单，核对设备投资额。"}
        )
        assert r.status_code == 200, r.text
    finally:
        ent.close()
        admin.close()
    return aid


def _pages(aid: int) -> dict[str, str]:
    return {
        "dashboard": "/dashboard",
        "profile": f"/enterprises/{DEMO_ENTERPRISE}",
        "calculator": f"/calculator?enterprise={DEMO_ENTERPRISE}",
        "applications": "/applications",
        "application": f"/applications/{aid}",
        "notifications": "/notifications",
    }


@pytest.mark.parametrize("role", ROLES)
def test_pages_when_opened_on_a_390px_phone_never_scroll_sideways(
    page, server, login, render_errors, csp_violations, returned_application, role
):
    """Every page of the role at 390 px: the page is no wider than the screen, its charts fit, nothing fails."""
    page.set_viewport_size(PHONE)
    login(role)
    found = []
    for name, path in _pages(returned_application).items():
        page.goto(f"{server}{path}")
        if page.locator(".chart").count():
            wait_for_charts(page)
            widths = page.evaluate("() => [...document.querySelectorAll('.chart canvas')].map(c => c.clientWidth)")
            found += [f"{name}: a chart {w} px wide" for w in widths if w > PHONE["width"]]
        else:
            page.wait_for_load_state("networkidle")
        screenshot(page, f"phone-{name}-{role}")
        width = page.evaluate(PAGE_WIDTH)
        if width > PHONE["width"]:
            found.append(f"{name}: the page is {width} px wide; too wide: {page.evaluate(WIDE)}")
    assert not found, "\n".join(found)
    assert not render_errors and not csp_violations, render_errors + csp_violations


def test_calculator_when_computed_on_a_phone_keeps_its_result_within_the_screen(
    page, server, login, render_errors, csp_violations
):
    """The enterprise computes a 2.10 project on its phone: the result and its explanation fit the screen."""
    page.set_viewport_size(PHONE)
    login("enterprise")
    page.goto(f"{server}/calculator?enterprise={DEMO_ENTERPRISE}")
    page.fill("#calc-form input[name=application_date]", "2023-03-01")
    page.fill("#calc-form input[name=total_investment]", "1500")  # 万元, the default unit of investments
    page.fill("#calc-form input[name=equipment_investment]", "800")
    page.click("#calc-form button[type=submit]")
    expect(page.locator("#results article[data-clause='2.10']")).to_be_visible()
    page.wait_for_load_state("networkidle")
    screenshot(page, "phone-calculator-result-enterprise")
    width = page.evaluate(PAGE_WIDTH)
    assert width <= PHONE["width"], f"the result page is {width} px wide: {page.evaluate(WIDE)}"
    assert not render_errors and not csp_violations, render_errors + csp_violations
