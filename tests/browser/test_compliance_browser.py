"""In Chromium, compliance filters the log by phone, opens a DNC call's evidence, manages DNC, verifies.

The data is made by the product's own services (the gate dials, the carrier's callbacks, the
bridge's recorder, the agent's ``honor_dnc`` tool: :mod:`tests.console.compliance_data`), on the
served app's database.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from dialer.consent import add_internal_dnc
from dialer.db import transaction
from tests.browser.conftest import LiveApp, log_in, screenshot
from tests.console.compliance_data import DncCall, make_dnc_call
from tests.factories import dial_one_lead


def _data(app: LiveApp) -> DncCall:
    """Two other calls, an opt-out by email, and the call on which the prospect opted out."""
    runtime = app.runtime
    for phone in ("+13125550102", "+13125550103"):
        dial_one_lead(runtime, phone, name=f"Winter follow-up {phone[-2:]}")
    with transaction(runtime.sessions) as s:
        add_internal_dnc(
            s,
            phone_e164="+13125550160",
            source="cli",
            now=runtime.clock.now(),
            actor="user:rhea",
            reason="asked by email on 2026-11-02",
        )
    return make_dnc_call(runtime, name="Spring outreach")


def _national(e164: str) -> str:
    return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"


def test_compliance_audits_a_dnc_call_manages_dnc_and_verifies_the_log(page: Page, live_app: LiveApp) -> None:
    call = _data(live_app)
    log_in(page, live_app, "compliance")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()

    page.get_by_label("Phone").fill(_national(call.phone_e164))
    page.get_by_role("button", name="Filter").click()
    events = page.get_by_role("table", name="Audit events")
    expect(events.get_by_text("dnc.added", exact=True)).to_be_visible()
    expect(events.get_by_text("tool.honor_dnc", exact=True)).to_be_visible()
    assert "phone=" in page.url
    screenshot(page, "audit-log")

    events.get_by_role("link", name=f"evidence of call {call.attempt_id}").first.click()
    expect(page.get_by_role("heading", name=f"Evidence of call attempt {call.attempt_id}")).to_be_visible()
    expect(page.locator("#transcript")).to_contain_text("Please take me off your list")
    expect(page.locator("#disposition")).to_contain_text("dnc")
    expect(page.locator("#dnc")).to_contain_text("honor_dnc")
    expect(page.locator("#disclosure")).to_contain_text("UTC")
    screenshot(page, "attempt-evidence")

    page.get_by_role("navigation").get_by_role("link", name="DNC").click()
    page.get_by_label("Number to add").fill("312-555-0170")
    page.get_by_label("Reason", exact=True).fill("asked by phone to the front desk")
    page.get_by_role("button", name="Add to DNC").click()
    entries = page.get_by_role("table", name="DNC entries")
    expect(entries).to_contain_text("+13125550170")
    expect(entries).to_contain_text("asked by phone to the front desk")
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)  # compliance may not remove
    page.get_by_role("link", name="Whole list").click()
    page.get_by_label("Number", exact=True).fill("+1 312 555 0160")
    page.get_by_role("button", name="Search").click()
    expect(entries).to_contain_text("asked by email on 2026-11-02")
    expect(entries.locator("tr[data-entry]")).to_have_count(1)
    page.get_by_role("link", name="Whole list").click()
    expect(entries.locator("tr[data-entry]")).to_have_count(3)
    screenshot(page, "dnc")

    page.get_by_role("navigation").get_by_role("link", name="Audit").click()
    page.get_by_role("button", name="Verify audit log").click()
    expect(page.get_by_role("status")).to_contain_text("OK")
    expect(page.locator(".verify-result")).to_contain_text(re.compile(r"events \d+ to \d+"))
    screenshot(page, "audit-verify")


def test_ops_opening_the_audit_log_gets_the_403_page(page: Page, live_app: LiveApp) -> None:
    log_in(page, live_app, "ops")
    expect(page.get_by_role("navigation").get_by_role("link", name="Audit")).to_have_count(0)
    answer = page.goto(f"{live_app.url}/console/audit")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    answer = page.goto(f"{live_app.url}/console/dnc")
    assert answer is not None and answer.status == 403
