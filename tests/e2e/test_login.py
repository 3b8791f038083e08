"""Signing in and out in a real browser, for every role."""

from __future__ import annotations

import pytest

ROLES = ("admin", "department", "town", "enterprise", "auditor")


@pytest.mark.parametrize("role", ROLES)
def test_login_when_each_role_signs_in_sees_its_name_and_can_sign_out(page, server, login, role):
    """Every demo account signs in, sees who it is in the header, and signs out back to the login page."""
    login(role)
    assert page.locator(".who").inner_text().strip()
    page.click("button:has-text('退出')")
    page.wait_for_url(f"{server}/login")


def test_login_when_password_wrong_shows_the_message(page, server):
    """A wrong password keeps the user on the login page with a clear message."""
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.locator(".alert").inner_text()
