"""Meetings as the agent's tool books them, with times read in the lead's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from bridge.app import create_app
from crm.meetings import book_meeting
from dialer.db import transaction
from dialer.errors import ToolArgumentError
from dialer.models import Speaker, TranscriptTurn
from tests.conftest import make_settings
from tests.factories import create_attempt, create_campaign, create_lead, dial_one_lead
from tests.fakes.agent import FakeVoiceAgent

MONDAY_11_CHICAGO = datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("America/Chicago"))
NY = ZoneInfo("America/New_York")


def test_booking_is_idempotent_and_validated(db):
    campaign = create_campaign(db)
    lead = create_lead(db, campaign)
    attempt = create_attempt(db, campaign, lead)
    kwargs = dict(
        campaign_id=campaign.id,
        lead_id=lead.id,
        attempt_id=attempt.id,
        lead_timezone="America/Chicago",
        now=MONDAY_11_CHICAGO,
    )
    meeting, created = book_meeting(
        db, preferred_time="Tuesday at 2pm", email=" Ava@Example.COM ", tool_call_id="call_1", **kwargs
    )
    assert created and meeting.email == "Ava@example.com"
    again, created_again = book_meeting(
        db, preferred_time="Tuesday at 2pm", email="ava@example.com", tool_call_id="call_2", **kwargs
    )
    assert not created_again and again.id == meeting.id
    with pytest.raises(ToolArgumentError, match="not valid"):
        book_meeting(db, preferred_time="Tuesday at 3pm", email="ava at example", **kwargs)
    with pytest.raises(ToolArgumentError, match="not in the future"):
        book_meeting(db, preferred_time="today at 11:05am", email="ava@example.com", **kwargs)


def test_calendar_feed_for_reps(runtime):
    attempt = dial_one_lead(runtime)
    with transaction(runtime.sessions) as s:
        book_meeting(
            s,
            campaign_id=attempt.campaign_id,
            lead_id=attempt.lead_id,
            attempt_id=attempt.id,
            preferred_time="Tuesday at 2pm",
            email="ava@brightlane.example",
            lead_timezone="America/Chicago",
            now=runtime.clock.now(),
        )
        s.add(
            TranscriptTurn(
                attempt_id=attempt.id,
                speaker=Speaker.CALLER,
                text="Tuesday at 2pm works for me.",
                occurred_at=runtime.clock.now(),
            )
        )
    disabled = TestClient(create_app(runtime=runtime, agent=FakeVoiceAgent()))
    assert disabled.get("/crm/calendar.ics", params={"token": "x"}).status_code == 404

    secret = "feed-" + "k" * 30
    enabled_runtime = runtime.__class__(
        **{
            **runtime.__dict__,
            "settings": make_settings(database_url=runtime.settings.database_url, calendar_feed_token=secret),
        }
    )
    client = TestClient(create_app(runtime=enabled_runtime, agent=FakeVoiceAgent()))
    assert client.get("/crm/calendar.ics", params={"token": "wrong"}).status_code == 403
    response = client.get("/crm/calendar.ics", params={"token": secret})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["summary"]) == "Intro call: Ava Thompson (Brightlane Logistics)"
    assert event.decoded("dtstart").isoformat() == "2026-11-24T20:00:00+00:00"
    description = str(event["description"])
    assert "Their time: Tuesday November 24, 2:00 PM CST" in description
    assert "caller: Tuesday at 2pm works for me." in description
    assert str(event["attendee"]) == "mailto:ava@brightlane.example"
