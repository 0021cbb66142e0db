"""In Chromium: "My meetings" and the CRM sync page with realistic rows; a rep is refused the CRM page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dialer.runtime import Runtime
from tests.browser.conftest import LiveApp, log_in, screenshot
from tests.console.rep_data import make_meetings, make_outbox, with_feeds


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    """The tests' runtime with calendar feeds on (the served app's)."""
    return with_feeds(runtime)


def test_a_rep_reads_their_meetings_and_renews_the_feed_link(page: Page, live_app: LiveApp) -> None:
    booked = make_meetings(live_app.runtime)  # type: ignore[arg-type]
    log_in(page, live_app, "rep")
    upcoming = page.locator("article.meeting")
    expect(upcoming).to_have_count(2)  # Ava upcoming, Grace past; never rhea's Marcus
    expect(page.get_by_text("Marcus Lee")).to_have_count(0)
    page.get_by_label("Show times in").select_option("America/New_York")
    page.get_by_role("button", name="Use this zone").click()
    ava = page.locator(f"#meeting-{booked.ids['Ava']}")
    expect(ava.locator(".rep-time")).to_contain_text("Tue Nov 24, 3:00 PM EST")
    expect(ava.locator(".lead-time")).to_contain_text("2:00 PM CST")
    screenshot(page, "my-meetings")

    old = page.get_by_label("Calendar feed URL").input_value()
    page.get_by_role("button", name="New link").click()
    expect(page.get_by_label("Calendar feed URL")).not_to_have_value(old)
    assert page.request.get(old).status == 403
    assert page.request.get(page.get_by_label("Calendar feed URL").input_value()).status == 200


def test_ops_see_the_outbox_and_retry_a_dead_message(page: Page, live_app: LiveApp) -> None:
    make_meetings(live_app.runtime)  # type: ignore[arg-type]
    ids = make_outbox(live_app.runtime)  # type: ignore[arg-type]
    log_in(page, live_app, "ops", next_path="/console/crm")
    expect(page.get_by_role("heading", name="CRM sync and webhooks")).to_be_visible()
    expect(page.locator('tr[data-destination="webhook:ops"]')).to_contain_text("connection refused")
    expect(page.locator("table.deliveries tbody tr")).to_have_count(4)
    screenshot(page, "crm-outbox")
    page.get_by_role("button", name=f"Retry message {ids['dead']}").click()
    expect(page.get_by_role("status")).to_have_text("1 message re-queued; the next drain delivers it.")
    expect(page.locator("table.dead")).to_have_count(0)


def test_a_rep_is_refused_the_crm_page(page: Page, live_app: LiveApp) -> None:
    log_in(page, live_app, "rep")
    expect(page.get_by_role("link", name="CRM sync")).to_have_count(0)
    answer = page.goto(f"{live_app.url}/console/crm")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
