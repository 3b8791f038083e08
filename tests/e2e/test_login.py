"""Signing in and out in a real browser, for every role."""

from __future__ import annotations

import pytest

from .conftest import chart_ink, wait_for_charts

ROLES = ("admin", "department", "town", "enterprise", "auditor")


@pytest.mark.parametrize("role", ROLES)
def test_login_when_each_role_signs_in_sees_its_name_and_can_sign_out(page, server, login, render_errors, role):
    """Every demo account signs in, lands on a dashboard whose class chart is drawn, sees who it is, and signs out."""
    login(role)
    assert page.locator(".who").inner_text().strip()
    assert wait_for_charts(page) >= 4
    classes = next(c for c in chart_ink(page) if c["id"] == "chart-classes")
    assert classes["canvas"] and classes["ink"] > 0.01 and classes["colours"] > 3, classes
    assert page.locator("#county-kpis .kpi").count() == 4
    if role == "town":
        assert page.locator("#town-kpis .kpi").count() == 4  # its own town next to the county
    if role == "enterprise":
        assert page.locator("#own-card .badge").count() == 1  # its own class first
    assert render_errors == []
    page.click("button:has-text('退出')")
    page.wait_for_url(f"{server}/login")


def test_login_when_password_wrong_shows_the_message(page, server):
    """A wrong password keeps the user on the login page with a clear message."""
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.locator(".alert").inner_text()
