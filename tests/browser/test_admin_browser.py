"""In Chromium: the admin creates a rep on the users screen; the rep logs in; another role is refused."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, LiveApp, log_in, screenshot


def test_the_admin_creates_a_rep_who_logs_in_and_ops_is_refused_the_screen(
    page: Page, live_app: LiveApp
) -> None:
    log_in(page, live_app, "admin", next_path="/console/users")
    form = page.locator("form", has=page.get_by_role("button", name="Create user"))
    form.get_by_label("Username").fill("dana")
    form.get_by_label("Role").select_option("rep")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create user").click()
    expect(page.locator("#user-dana")).to_contain_text("active")
    screenshot(page, "users")

    page.context.clear_cookies()
    log_in(page, live_app, "dana")
    assert page.url.endswith("/console/meetings")

    page.context.clear_cookies()
    log_in(page, live_app, "ops", next_path="/console/users")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    response = page.goto(f"{live_app.url}/console/users")
    assert response is not None and response.status == 403
