"""In Chromium: sales ops create a campaign, upload the atomic CRM file with a mapping, start it, watch it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp, log_in, screenshot
from tests.console.campaign_data import add_calls, seed_campaign

ATOMIC = Path(__file__).resolve().parents[1] / "fixtures" / "atomic_crm_test_contacts.csv"
ATTESTATION = (
    "Northwind Analytics, Inc. attests that these contacts gave PEWC to AI-voice sales calls (CRM-2026-11)"
)


def _create_campaign(page: Page, app: LiveApp) -> int:
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Campaign name").fill("autumn-push")
    page.get_by_label("Seller's legal name").fill("Northwind Analytics, Inc.")
    page.get_by_label("Product").fill("a data-quality monitoring platform")
    page.get_by_label("Caller ID").fill("(312) 555-0199")
    page.get_by_label("Voice backend").select_option("openai")
    page.get_by_label("Live calls at most").fill("0")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.locator("#max_concurrent_calls-error")).to_contain_text("greater than or equal to 1")
    page.get_by_label("Live calls at most").fill("8")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("status")).to_contain_text("Campaign created")
    found = re.search(r"/console/campaigns/(\d+)", page.url)
    assert found, page.url
    return int(found.group(1))


def _upload_with_mapping(page: Page) -> None:
    page.get_by_role("link", name="Upload leads").click()
    page.get_by_label("Lead CSV (UTF-8)").set_input_files(str(ATOMIC))
    page.get_by_role("button", name="Upload and preview").click()
    expect(
        page.get_by_role("heading", name="Map the columns of atomic_crm_test_contacts.csv")
    ).to_be_visible()
    expect(page.get_by_label("phone_work maps to")).to_have_value("phone_work")  # the importer's guess
    page.get_by_label("phone_other maps to").select_option("ignore")
    page.get_by_label("sales maps to").select_option("ignore")
    page.get_by_label("Consent attestation (optional)").fill(ATTESTATION)
    screenshot(page, "lead-upload-mapping")
    page.get_by_role("button", name="Import leads").click()
    expect(page.get_by_test_id("leads-created")).not_to_have_text("0")
    expect(page.get_by_role("link", name="Download the validation report (CSV)")).to_be_visible()
    expect(page.locator("table.rejected")).to_contain_text("phone_home")


def test_ops_run_a_campaign_from_the_console(page: Page, live_app: LiveApp) -> None:
    seed_campaign(live_app.runtime, "winter-renewals")
    log_in(page, live_app, "ops")
    campaign_id = _create_campaign(page, live_app)
    _upload_with_mapping(page)

    page.get_by_role("link", name="Back to autumn-push").click()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_test_id("status")).to_have_text("running")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.get_by_role("button", name="Start")).to_have_count(0)
    expect(page.get_by_test_id("dials")).to_have_text("0")

    add_calls(live_app.runtime, campaign_id, first_phone=7000)  # the calls a worker would have placed
    expect(page.get_by_test_id("dials")).to_have_text("6")  # the funnel polls: no reload
    expect(page.get_by_test_id("meetings")).to_have_text("1")
    expect(page.locator("#live-calls")).to_contain_text("What is this about?")
    expect(page.locator("#dispositions-chart")).to_have_attribute("data-points", "5")
    screenshot(page, "campaign-detail")

    page.get_by_role("link", name="Campaigns", exact=True).first.click()
    expect(page.get_by_role("link", name="autumn-push")).to_be_visible()
    screenshot(page, "campaigns-list")


def test_compliance_reads_campaigns_and_a_rep_is_refused(page: Page, live_app: LiveApp) -> None:
    seeded = seed_campaign(live_app.runtime)
    log_in(page, live_app, "compliance")
    page.goto(f"{live_app.url}/console/campaigns/{seeded.campaign_id}")
    expect(page.get_by_test_id("dials")).to_have_text("6")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    page.context.clear_cookies()
    log_in(page, live_app, "rep")
    answer = page.goto(f"{live_app.url}/console/campaigns")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
