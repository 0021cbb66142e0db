"""In Chromium: every role logs in through the form and lands on its own section."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from bridge.console.home import LANDING
from tests.browser.conftest import ROLES, LiveApp, log_in, screenshot


def test_each_role_logs_in_and_lands_on_its_section(page: Page, live_app: LiveApp) -> None:
    page.goto(f"{live_app.url}/console")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login")
    for role in ROLES:
        log_in(page, live_app, role)
        assert page.url == f"{live_app.url}{LANDING[role]}", role
        page.context.clear_cookies()


def test_a_wrong_password_is_refused_on_the_form(page: Page, live_app: LiveApp) -> None:
    page.goto(f"{live_app.url}/console/login")
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert "/console/login" in page.url
