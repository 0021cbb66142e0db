"""Time phrases read in the lead's zone, and callbacks scheduled inside the calling window."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from compliance import Address
from dialer.calls.callbacks import schedule_callback
from dialer.errors import ToolArgumentError
from dialer.timeparse import parse_time_phrase
from tests.factories import create_attempt, create_campaign, create_lead

MONDAY_11_CHICAGO = datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("America/Chicago"))
NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("said", "expected_local"),
    [
        ("Tuesday at 2pm", "2026-11-24T14:00"),
        ("tomorrow at 10am", "2026-11-24T10:00"),
        ("Monday at 8am", "2026-11-30T08:00"),  # today's 08:00 has passed: next Monday
        ("tonight at 7:30 pm", "2026-11-23T19:30"),
        ("Dec 1 at 3:30pm", "2026-12-01T15:30"),
        ("noon tomorrow", "2026-11-24T12:00"),
        ("2026-11-24T14:00", "2026-11-24T14:00"),
    ],
)
def test_time_phrases_in_the_prospects_zone(said, expected_local):
    when = parse_time_phrase(said, zone="America/New_York", now=MONDAY_11_CHICAGO)
    assert when.tzinfo is not None
    assert when.astimezone(NY).strftime("%Y-%m-%dT%H:%M") == expected_local


@pytest.mark.parametrize("said", ["tomorrow", "", "sometime next week", "whenever"])
def test_phrases_without_a_time_are_refused(said):
    with pytest.raises(ToolArgumentError):
        parse_time_phrase(said, zone="America/New_York", now=MONDAY_11_CHICAGO)


def _callback_kwargs(db, phone: str, address: Address, zone: str) -> dict:
    campaign = create_campaign(db)
    lead = create_lead(db, campaign, phone=phone, state=address.state, zip=address.zip)
    attempt = create_attempt(db, campaign, lead)
    return dict(
        campaign_id=campaign.id,
        lead_id=lead.id,
        attempt_id=attempt.id,
        phone_e164=lead.phone_e164,
        lead_timezone=zone,
        address=address,
        now=MONDAY_11_CHICAGO,
    )


def test_callback_must_be_inside_every_candidate_zones_window(db):
    kwargs = _callback_kwargs(db, "+19075550122", Address(state="AK", zip="99501"), "America/Anchorage")
    with pytest.raises(ToolArgumentError, match="outside the calling hours.*America/Adak"):
        schedule_callback(db, preferred_time="tomorrow at 8:30am", **kwargs)  # 07:30 in Adak
    callback = schedule_callback(db, preferred_time="tomorrow at 10am", **kwargs)
    assert callback.due_at.astimezone(ZoneInfo("America/Anchorage")).hour == 10


def test_callback_must_pass_the_states_own_rules(db):
    """A Texas number on a Sunday: Tex. Bus. & Com. Code 301.051 allows only 12:00-21:00."""
    kwargs = _callback_kwargs(db, "+12145550122", Address(state="TX", zip="75201"), "America/Chicago")
    with pytest.raises(ToolArgumentError, match="301.051"):
        schedule_callback(db, preferred_time="Sunday at 10am", **kwargs)
    callback = schedule_callback(db, preferred_time="Sunday at 1pm", **kwargs)
    assert callback.due_at.astimezone(ZoneInfo("America/Chicago")).hour == 13
