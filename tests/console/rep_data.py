"""Realistic meetings and outbox rows for the rep and CRM pages (route tests and screenshots)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import SecretStr

from crm.assignments import assign_meeting
from crm.meetings import book_meeting
from dialer import accounts
from dialer.db import transaction
from dialer.models import OutboxDelivery, OutboxEvent, OutboxMessage, OutboxStatus, Speaker, TranscriptTurn
from dialer.runtime import Runtime
from tests.api.conftest import PASSWORD
from tests.factories import create_attempt, create_campaign, create_lead

FEED_SECRET = "team-feed-" + "s" * 30
"""The tests' ``DIALER_CALENDAR_FEED_TOKEN``."""

CALL = (
    (Speaker.AGENT, "Hi, this is Alex, an AI assistant calling on behalf of Northwind Analytics, Inc."),
    (Speaker.CALLER, "Okay, go ahead."),
    (Speaker.AGENT, "We help operations teams catch bad data before it reaches a dashboard."),
    (Speaker.CALLER, "We do have trouble with our shipment feeds."),
    (Speaker.AGENT, "Would a 30-minute intro call with one of our specialists help?"),
    (Speaker.CALLER, "Sure. {when} works for me."),
    (Speaker.AGENT, "Great. What email should the invite go to?"),
    (Speaker.CALLER, "It's {email}."),
)
"""A call up to the booking; the agent confirms after it."""


COMPANIES = {
    "Ava": "Brightlane Logistics",
    "Marcus": "Pacific Freightworks",
    "Emma": "Lakeside Cold Chain",
    "Grace": "Hudson Parcel",
}


NOTES = {
    "Ava": "Runs a 40-truck fleet; shipment feeds break weekly.",
    "Marcus": "Wants pricing for 12 pipelines before the call.",
    "Grace": "Evaluating two vendors; decision in January.",
}


@dataclass(frozen=True)
class RepMeetings:
    """The meetings made: ids by lead first name, and who they belong to."""

    ids: dict[str, int]
    owners: dict[str, str | None]


def with_feeds(runtime: Runtime) -> Runtime:
    """``runtime`` with calendar feeds on (:data:`FEED_SECRET`)."""
    settings = runtime.settings.model_copy(update={"calendar_feed_token": SecretStr(FEED_SECRET)})
    return replace(runtime, settings=settings)


def _call_and_book(session, campaign, lead, *, when: str, email: str, booked_at: datetime, zone: str) -> int:
    attempt = create_attempt(session, campaign, lead)
    start = booked_at - timedelta(seconds=5 * len(CALL))
    for n, (speaker, text) in enumerate(CALL):
        said = text.format(when=when, email=email)
        session.add(
            TranscriptTurn(
                attempt_id=attempt.id,
                speaker=speaker,
                text=said,
                occurred_at=start + timedelta(seconds=5 * n),
            )
        )
    meeting, _ = book_meeting(
        session,
        campaign_id=campaign.id,
        lead_id=lead.id,
        attempt_id=attempt.id,
        preferred_time=when,
        email=email,
        lead_timezone=zone,
        now=booked_at,
        notes=NOTES.get(lead.first_name or "", ""),
    )
    confirm = f"You're booked for {when}. The invite is on its way to {email}."
    session.add(
        TranscriptTurn(
            attempt_id=attempt.id,
            speaker=Speaker.AGENT,
            text=confirm,
            occurred_at=booked_at + timedelta(seconds=2),
        )
    )
    return meeting.id


def make_meetings(runtime: Runtime) -> RepMeetings:
    """Four meetings: Ava (upcoming) and Grace (past) for ``rep``, Marcus for ``rhea``, Emma unassigned.

    Creates the second rep ``rhea`` (password :data:`PASSWORD`). Needs the ``users`` fixture.
    """
    now = runtime.clock.now()
    leads = (
        ("Ava", "Thompson", "+13125550101", "IL", "Tuesday at 2pm", "America/Chicago", now, "rep"),
        ("Marcus", "Lee", "+14155550102", "CA", "Wednesday at 10am", "America/Los_Angeles", now, "rhea"),
        ("Emma", "Davis", "+13125550103", "IL", "Thursday at 3pm", "America/Chicago", now, None),
        (
            "Grace",
            "Kim",
            "+12125550104",
            "NY",
            "Tuesday at 9am",
            "America/New_York",
            now - timedelta(days=7),
            "rep",
        ),
    )
    ids: dict[str, int] = {}
    with transaction(runtime.sessions) as session:
        accounts.create_user(session, username="rhea", role="rep", password=PASSWORD, now=now, actor="test")
        campaign = create_campaign(session, name="Q4 logistics outreach")
        for first, last, phone, state, when, zone, booked, _owner in leads:
            company = COMPANIES[first]
            lead = create_lead(
                session, campaign, phone, first_name=first, last_name=last, state=state, company=company
            )
            email = f"{first.lower()}@{company.split()[0].lower()}.example"
            ids[first] = _call_and_book(
                session, campaign, lead, when=when, email=email, booked_at=booked, zone=zone
            )
        for first, *_, owner in leads:
            if owner:
                assign_meeting(session, meeting_id=ids[first], username=owner, now=now, actor="user:ops")
    return RepMeetings(ids=ids, owners={lead[0]: lead[-1] for lead in leads})


def make_outbox(runtime: Runtime) -> dict[str, int]:
    """Outbox rows: HubSpot delivered, a webhook that failed once then delivered, one dead, one pending.

    Returns the message ids by name: ``delivered``, ``retried``, ``dead``, ``pending``.
    """
    now = runtime.clock.now()
    plan = (
        (
            "delivered",
            "call.completed:attempt-41",
            "crm:hubspot",
            OutboxStatus.DELIVERED,
            [(True, 201, None)],
        ),
        (
            "retried",
            "meeting.booked:meeting-12",
            "webhook:ops",
            OutboxStatus.DELIVERED,
            [(False, 503, "HTTP 503: upstream busy"), (True, 200, None)],
        ),
        (
            "dead",
            "dnc.added:dnc-7",
            "webhook:ops",
            OutboxStatus.DEAD,
            [(False, 410, "HTTP 410: endpoint gone")],
        ),
        (
            "pending",
            "call.completed:attempt-42",
            "webhook:ops",
            OutboxStatus.PENDING,
            [(False, None, "connection refused")],
        ),
    )
    ids = {}
    with transaction(runtime.sessions) as session:
        for name, key, destination, status, tries in plan:
            event = OutboxEvent(
                event_type=key.split(":")[0],
                event_key=key,
                payload={},
                occurred_at=now,
                fanned_out_at=now,
            )
            session.add(event)
            session.flush()
            last_error = next((error for ok, _, error in reversed(tries) if not ok), None)
            message = OutboxMessage(
                event_id=event.id,
                destination=destination,
                status=status,
                attempts=len(tries),
                next_attempt_at=now + timedelta(seconds=30),
                last_error=last_error,
                delivered_at=now if status == OutboxStatus.DELIVERED else None,
            )
            session.add(message)
            session.flush()
            for attempt, (ok, code, error) in enumerate(tries, start=1):
                session.add(
                    OutboxDelivery(
                        message_id=message.id,
                        attempt=attempt,
                        started_at=now,
                        finished_at=now,
                        ok=ok,
                        status_code=code,
                        error=error,
                    )
                )
            ids[name] = message.id
    return ids
