"""Callbacks the prospect asks for; the scheduler makes the lead dialable when one is due."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from compliance.windows import zones_outside_window
from dialer.audit import record_event
from dialer.errors import ToolArgumentError
from dialer.models import Callback
from dialer.timeparse import parse_time_phrase

MIN_CALLBACK_DELAY = timedelta(minutes=5)


def schedule_callback(
    session: Session,
    *,
    campaign_id: int,
    lead_id: int,
    attempt_id: int,
    phone_e164: str,
    preferred_time: str,
    lead_timezone: str,
    candidate_zones: tuple[str, ...],
    now: datetime,
) -> Callback:
    """Schedule a callback at the time the prospect named, inside their calling window.

    The gate checks the window again when the callback is dialed; refusing here lets the agent
    offer another time while the prospect is still on the line.

    Args:
        preferred_time: the time as said ("tomorrow at 10am"), read in ``lead_timezone``.
        candidate_zones: every zone the number may be in (CP-3); the time must be inside
            08:00-21:00 in all of them (47 CFR 64.1200(c)(1), CP-5).

    Raises:
        ToolArgumentError: unreadable time, a time in the past, or outside the calling window.
    """
    due_at = parse_time_phrase(preferred_time, zone=lead_timezone, now=now)
    if due_at < now + MIN_CALLBACK_DELAY:
        raise ToolArgumentError(f"{preferred_time!r} is not in the future; ask for a later time")
    outside = zones_outside_window(due_at, candidate_zones)
    if outside:
        raise ToolArgumentError(
            f"{preferred_time!r} is outside calling hours (8am to 9pm) for this number "
            f"(time zones {', '.join(outside)}); ask for a time between 9am and 8pm their time"
        )
    callback = Callback(
        campaign_id=campaign_id,
        lead_id=lead_id,
        attempt_id=attempt_id,
        phone_e164=phone_e164,
        due_at=due_at,
        requested_text=preferred_time[:200],
        lead_timezone=lead_timezone,
    )
    session.add(callback)
    session.flush()
    record_event(
        session,
        kind="callback.scheduled",
        occurred_at=now,
        actor="agent",
        campaign_id=campaign_id,
        lead_id=lead_id,
        attempt_id=attempt_id,
        payload={
            "callback_id": callback.id,
            "due_at": due_at,
            "requested_text": preferred_time,
            "lead_timezone": lead_timezone,
        },
    )
    return callback
