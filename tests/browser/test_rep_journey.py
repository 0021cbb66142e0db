"""In Chromium: a real sandbox campaign books a meeting, ops assign it, the rep finds it and in their feed.

The campaign is ``dialer demo`` on the production stack (the run's PostgreSQL, a Redis broker, a
Celery worker and beat, the real bridge, the sandbox carrier and agent over loopback) with one
lead of the example file, Ava Thompson, whose sandbox prospect books "Tuesday at 2pm". It runs in
the fixture through the CLI, as in ``tests/e2e``; the people's part is in the browser: ops assign
the meeting with the console's control, the rep logs in, sees it in "My meetings" with both
zones and the call's words, copies the feed URL, and the feed at that URL has the meeting's VEVENT.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from icalendar import Calendar
from playwright.sync_api import Page, expect

from dialer.runtime import Runtime
from tests.browser.conftest import LiveApp, log_in, screenshot
from tests.console.rep_data import with_feeds

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("America/Chicago"))  # the tests' clock: a Monday


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    """The tests' runtime with calendar feeds on (the served app's)."""
    return with_feeds(runtime)


def _one_lead_file(directory: Path, first_name: str) -> Path:
    header, *rows = (ROOT / "leads.example.csv").read_text().splitlines()
    path = directory / "one-lead.csv"
    path.write_text("\n".join([header, next(r for r in rows if r.startswith(f"{first_name},"))]) + "\n")
    return path


@pytest.fixture
def booked_by_campaign(live_app: LiveApp, pg_url: str, broker_url: str, tmp_path: Path) -> Iterator[dict]:
    """Run the sandbox campaign on the served app's database; its report (one meeting booked)."""
    broker = redis.Redis.from_url(broker_url)
    broker.flushdb()
    report = tmp_path / "report.json"
    args = [sys.executable, "-m", "dialer.cli", "demo", "--leads", str(_one_lead_file(tmp_path, "Ava"))]
    args += ["--report", str(report), "--at", AT.isoformat(), "--workdir", str(tmp_path / "run")]
    args += ["--timeout", "300", "--database-url", pg_url, "--broker-url", broker_url, "--workers", "1"]
    run = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    yield json.loads(report.read_text())
    broker.flushdb()


def test_a_meeting_booked_by_a_campaign_reaches_the_reps_page_and_feed(
    page: Page, live_app: LiveApp, booked_by_campaign: dict
) -> None:
    assert [m["lead"] for m in booked_by_campaign["meetings"]] == ["Ava Thompson"]
    log_in(page, live_app, "ops", next_path="/console/meetings")
    card = page.locator("article.meeting", has_text="Ava Thompson")
    expect(card.locator(".rep")).to_have_text("unassigned")
    card.get_by_label("Rep for Ava Thompson").select_option("rep")
    card.get_by_role("button", name="Assign").click()
    expect(page.locator("article.meeting", has_text="Ava Thompson").locator(".rep")).to_have_text("rep")
    page.context.clear_cookies()

    log_in(page, live_app, "rep")
    assert page.url == f"{live_app.url}/console/meetings"
    card = page.locator("article.meeting", has_text="Ava Thompson")
    expect(card).to_be_visible()
    expect(card.locator(".rep-time")).to_contain_text("Tue Nov 24, 8:00 PM UTC")
    expect(card.locator(".lead-time")).to_contain_text("Tue Nov 24, 2:00 PM CST")
    expect(card.locator(".turn.caller").first).to_be_visible()  # the prospect's words around the booking
    page.get_by_label("Show times in").select_option("America/Chicago")
    page.get_by_role("button", name="Use this zone").click()
    expect(page.locator("article.meeting .rep-time")).to_contain_text("Tue Nov 24, 2:00 PM CST")
    screenshot(page, "my-meetings-after-campaign")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    feed_url = page.get_by_label("Calendar feed URL").input_value()
    assert feed_url.startswith(f"{live_app.url}/crm/calendar.ics?token=cal_")
    answer = page.request.get(feed_url)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/calendar")
    (event,) = Calendar.from_ical(answer.body()).walk("VEVENT")
    assert str(event["summary"]) == "Intro call: Ava Thompson (Brightlane Logistics)"
    assert event.decoded("dtstart").isoformat() == "2026-11-24T20:00:00+00:00"
    assert str(event["attendee"]) == "mailto:ava.thompson@brightlane.example"
