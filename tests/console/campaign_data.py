"""A campaign with calls on it for the campaigns pages: every funnel step, a live call, dispositions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dialer.db import transaction
from dialer.models import (
    AttemptStatus,
    Campaign,
    Disposition,
    DispositionName,
    DispositionSource,
    Meeting,
    Speaker,
    TranscriptTurn,
)
from dialer.runtime import Runtime
from tests.factories import create_attempt, create_campaign, create_lead


@dataclass(frozen=True)
class SeededCampaign:
    """The campaign's id and its live attempt's id."""

    campaign_id: int
    live_attempt_id: int


# (answered_by, duration s, status, disposition): one machine, a short human, two conversations.
CALLS = (
    ("machine_start", 12, AttemptStatus.COMPLETED, DispositionName.MACHINE),
    ("human", 20, AttemptStatus.COMPLETED, DispositionName.NOT_INTERESTED),
    ("human", 95, AttemptStatus.COMPLETED, DispositionName.BOOKED),
    (None, 48, AttemptStatus.COMPLETED, DispositionName.NOT_NOW),
    (None, None, AttemptStatus.NO_ANSWER, DispositionName.NO_ANSWER),
)
"""Five ended calls: 5 dials, 3 human answers, 2 conversations over 30 s, 1 meeting."""


def add_calls(runtime: Runtime, campaign_id: int, *, first_phone: int = 100) -> int:
    """Add :data:`CALLS` and a live call (two transcript turns) to the campaign; the live attempt's id."""
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        campaign = session.get_one(Campaign, campaign_id)
        for n, (answered_by, seconds, status, disposition) in enumerate(CALLS):
            lead = create_lead(session, campaign, f"+1312555{first_phone + n:04d}", first_name=f"Lead{n}")
            attempt = create_attempt(session, campaign, lead)
            attempt.call_sid = f"CA{campaign_id:04d}{first_phone + n:028d}"
            attempt.status = status
            attempt.requested_at = now - timedelta(minutes=30 - n)
            if seconds is not None:
                attempt.answered_by = answered_by
                attempt.answered_at = attempt.requested_at + timedelta(seconds=5)
                attempt.ended_at = attempt.answered_at + timedelta(seconds=seconds)
                attempt.duration_seconds = seconds
            source = DispositionSource.AGENT if seconds and seconds > 30 else DispositionSource.SYSTEM
            session.add(
                Disposition(
                    campaign_id=campaign_id,
                    lead_id=lead.id,
                    attempt_id=attempt.id,
                    name=disposition,
                    source=source,
                    recorded_at=now - timedelta(minutes=20 - 3 * n),
                )
            )
            if disposition == DispositionName.BOOKED:
                session.add(
                    Meeting(
                        campaign_id=campaign_id,
                        lead_id=lead.id,
                        attempt_id=attempt.id,
                        starts_at=now + timedelta(days=2),
                        lead_timezone="America/Chicago",
                        email="lead2@example.com",
                        requested_text="Thursday at 2pm",
                    )
                )
        lead = create_lead(
            session, campaign, f"+1312555{first_phone + 50:04d}", first_name="Maya", last_name="Ortiz"
        )
        live = create_attempt(session, campaign, lead)
        live.call_sid = f"CA{campaign_id:04d}{first_phone + 50:028d}"
        live.status = AttemptStatus.IN_PROGRESS
        live.requested_at = now - timedelta(seconds=40)
        live.answered_at = now - timedelta(seconds=35)
        live.answered_by = "human"
        for speaker, text in (
            (Speaker.AGENT, "Hi Maya, this is Alex, an AI assistant calling for Northwind Analytics."),
            (Speaker.CALLER, "Oh, hi. What is this about?"),
        ):
            session.add(TranscriptTurn(attempt_id=live.id, speaker=speaker, text=text, occurred_at=now))
        return live.id


def seed_campaign(runtime: Runtime, name: str = "spring-outreach") -> SeededCampaign:
    """A running campaign with :data:`CALLS` and one live call."""
    with transaction(runtime.sessions) as session:
        campaign_id = create_campaign(session, name=name).id
    return SeededCampaign(campaign_id, add_calls(runtime, campaign_id))
