"""A meeting's excerpt is the turns around its booking, on PostgreSQL and on the demo's SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from crm.meetings import book_meeting, meetings_for_reps
from dialer.db import engine_for, session_factory, transaction
from dialer.models import Speaker, TranscriptTurn
from tests.conftest import truncate_all
from tests.factories import create_attempt, create_campaign, create_lead

BOOKED = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)


def _book(engine: Engine, *, before: int, after: int) -> None:
    with transaction(session_factory(engine)) as session:
        campaign = create_campaign(session)
        attempt = create_attempt(session, campaign, create_lead(session, campaign))
        for n in range(before):
            at = BOOKED - timedelta(seconds=5 * (before - n))
            session.add(
                TranscriptTurn(attempt_id=attempt.id, speaker=Speaker.CALLER, text=f"b{n}", occurred_at=at)
            )
        book_meeting(
            session,
            campaign_id=campaign.id,
            lead_id=attempt.lead_id,
            attempt_id=attempt.id,
            preferred_time="tomorrow at 2pm",
            email="ava@brightlane.example",
            lead_timezone="America/Chicago",
            now=BOOKED,
        )
        for n in range(after):
            at = BOOKED + timedelta(seconds=2 + n)
            session.add(
                TranscriptTurn(attempt_id=attempt.id, speaker=Speaker.AGENT, text=f"a{n}", occurred_at=at)
            )


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request, committed_pg: Engine, sqlite_url: str):
    if request.param == "postgresql":
        truncate_all(committed_pg)
        yield committed_pg
        truncate_all(committed_pg)
    else:
        yield engine_for(sqlite_url)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (8, 3, ["caller: b4", "caller: b5", "caller: b6", "caller: b7", "agent: a0", "agent: a1"]),
        (8, 0, [f"caller: b{n}" for n in range(2, 8)]),  # nothing after: six turns before
        (2, 1, ["caller: b0", "caller: b1", "agent: a0"]),
    ],
)
def test_the_excerpt_holds_the_turns_just_before_and_after_the_booking(engine, before, after, expected):
    _book(engine, before=before, after=after)
    with session_factory(engine)() as session:
        [meeting] = meetings_for_reps(session, since=BOOKED)
    assert list(meeting.excerpt) == expected
