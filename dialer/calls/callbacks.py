"""Callbacks the prospect asks for; the scheduler makes the lead dialable when one is due."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from compliance import Address, calling_time_blocks
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
    address: Address | None,
    now: datetime,
) -> Callback:
    """Schedule a callback at the time the prospect named, inside their calling window.

    The gate checks the window again when the callback is dialed; refusing here lets the agent
    offer another time while the prospect is still on the line.

    Args:
        preferred_time: the time as said ("tomorrow at 10am"), read in ``lead_timezone``.
        address: the lead's address: with the number it gives the candidate zones and applicable
            states whose calling windows, banned days and holidays the time must pass (the gate's own
            time rules, ``compliance.calling_time_blocks``).

    Raises:
        ToolArgumentError: unreadable time, a time in the past, or outside the calling window.
    """
    due_at = parse_time_phrase(preferred_time, zone=lead_timezone, now=now)
    if due_at < now + MIN_CALLBACK_DELAY:
        raise ToolArgumentError(f"{preferred_time!r} is not in the future; ask for a later time")
    blocks = calling_time_blocks(phone_e164, address, due_at)
    if blocks is None:
        raise ToolArgumentError("this number's time zone is unknown, so no callback time can be checked")
    if blocks:
        raise ToolArgumentError(
            f"{preferred_time!r} is outside the calling hours allowed for this number "
            f"({'; '.join(blocks)}); ask for a weekday time between 10am and 5pm their time"
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
