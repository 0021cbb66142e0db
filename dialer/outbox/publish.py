"""Writing events to the outbox, inside the caller's transaction (the transactional outbox).

The business change (a meeting, a final call status, a DNC entry) and its event commit or roll
back together: an event exists exactly when its change does, and nothing is sent from inside the
transaction. Each event has an idempotency key; publishing the same key twice (a repeated
callback, a retried task) keeps the first event and writes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, insert, literal, select
from sqlalchemy.orm import Session

from dialer.models import (
    CallAttempt,
    Campaign,
    DispositionName,
    DncEntry,
    Lead,
    Meeting,
    MeetingAssignment,
    OutboxEvent,
    OutboxEventType,
    User,
)
from dialer.models.outcome import Disposition


def publish(
    session: Session,
    *,
    event_type: OutboxEventType,
    key: str,
    payload: dict[str, Any],
    occurred_at: datetime,
) -> bool:
    """Add one event to the outbox in ``session``'s transaction.

    Args:
        key: the idempotency key, unique over all events (``meeting.booked:meeting-12``).
        payload: JSON-able data (datetimes become ISO-8601 strings).
        occurred_at: when the change happened (aware, UTC).

    Returns:
        True when the event was written, False when an event with ``key`` already existed.
    """
    row = {
        "event_type": str(event_type),
        "event_key": key,
        "payload": _jsonable(payload),
        "occurred_at": occurred_at,
        "created_at": occurred_at,
    }
    return session.connection().execute(_INSERT_IF_NEW, row).first() is not None


_COLUMNS = ("event_type", "event_key", "payload", "occurred_at", "created_at")
_INSERT_IF_NEW = (
    insert(OutboxEvent)
    .from_select(
        _COLUMNS,
        select(*(bindparam(c, type_=OutboxEvent.__table__.c[c].type) for c in _COLUMNS)).where(
            ~exists().where(OutboxEvent.event_key == bindparam("event_key"))
        ),
    )
    .returning(OutboxEvent.id)
)
"""``INSERT ... SELECT <the row> WHERE NOT EXISTS (<an event with its key>) RETURNING id``: built
and compiled once, on every dialect; a row back means it was written. The unique ``event_key``
guards what it cannot see: a concurrent insert of the same key fails that transaction instead of
doubling the event."""


def _instant(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` as plain JSON (instants as ISO-8601 UTC with ``Z``)."""
    return dict(json.loads(json.dumps(payload, default=_instant)))


def _lead(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone_e164": lead.phone_e164,
        "company": lead.company,
        "title": lead.title,
        "state": lead.state,
    }


def _rep(session: Session, *, meeting_ids: Select[tuple[int]]) -> dict[str, Any] | None:
    """``{"username", "hubspot_owner_id"}`` of the rep of the first of these meetings assigned, or None."""
    row = session.execute(
        select(User.username, User.hubspot_owner_id)
        .join(MeetingAssignment, MeetingAssignment.user_id == User.id)
        .where(MeetingAssignment.meeting_id.in_(meeting_ids))
        .order_by(MeetingAssignment.meeting_id)
        .limit(1)
    ).first()
    return None if row is None else {"username": row.username, "hubspot_owner_id": row.hubspot_owner_id}


def publish_meeting_booked(session: Session, *, meeting: Meeting, now: datetime) -> bool:
    """Publish ``meeting.booked`` for a meeting just booked (key ``meeting.booked:meeting-<id>``).

    Payload: ``meeting_id``, ``attempt_id``, ``campaign`` (name), ``lead`` (id, names, email,
    ``phone_e164``, company, title, state), ``starts_at`` (UTC ISO-8601), ``duration_minutes``,
    ``lead_timezone`` (IANA), ``email`` (the one confirmed on the call), ``requested_text``, ``notes``,
    ``rep`` (``{username, hubspot_owner_id}`` of the rep it is assigned to at booking, or null).
    """
    lead = session.get_one(Lead, meeting.lead_id)
    campaign = session.get_one(Campaign, meeting.campaign_id)
    return publish(
        session,
        event_type=OutboxEventType.MEETING_BOOKED,
        key=f"meeting.booked:meeting-{meeting.id}",
        occurred_at=now,
        payload={
            "meeting_id": meeting.id,
            "attempt_id": meeting.attempt_id,
            "campaign": campaign.name,
            "lead": _lead(lead),
            "starts_at": meeting.starts_at,
            "duration_minutes": meeting.duration_minutes,
            "lead_timezone": meeting.lead_timezone,
            "email": meeting.email,
            "requested_text": meeting.requested_text,
            "notes": meeting.notes,
            "rep": _rep(session, meeting_ids=select(literal(meeting.id))),
        },
    )


def publish_call_completed(
    session: Session, *, attempt: CallAttempt, disposition: DispositionName, now: datetime
) -> bool:
    """Publish ``call.completed`` for an attempt in its final status (key ``call.completed:attempt-<id>``).

    Payload: ``attempt_id``, ``call_sid``, ``campaign``, ``lead``, ``status`` (the final carrier
    status: ``completed``, ``busy``, ``no-answer``...), ``answered_by`` (AMD), ``disposition`` (the
    decisive one) and ``dispositions`` (all, with notes), ``from_e164``, ``to_e164``,
    ``answered_at``, ``ended_at`` (UTC ISO-8601 or null), ``duration_seconds``, ``rep`` (the rep of
    the meeting booked on the call, ``{username, hubspot_owner_id}``, or null).
    """
    lead = session.get_one(Lead, attempt.lead_id)
    campaign = session.get_one(Campaign, attempt.campaign_id)
    recorded = session.scalars(
        select(Disposition).where(Disposition.attempt_id == attempt.id).order_by(Disposition.id)
    ).all()
    return publish(
        session,
        event_type=OutboxEventType.CALL_COMPLETED,
        key=f"call.completed:attempt-{attempt.id}",
        occurred_at=now,
        payload={
            "attempt_id": attempt.id,
            "call_sid": attempt.call_sid,
            "campaign": campaign.name,
            "lead": _lead(lead),
            "status": attempt.status,
            "answered_by": attempt.answered_by,
            "disposition": disposition,
            "dispositions": [{"name": d.name, "source": d.source, "notes": d.notes} for d in recorded],
            "from_e164": attempt.from_e164,
            "to_e164": attempt.to_e164,
            "answered_at": attempt.answered_at,
            "ended_at": attempt.ended_at,
            "duration_seconds": attempt.duration_seconds,
            "rep": _rep(session, meeting_ids=select(Meeting.id).where(Meeting.attempt_id == attempt.id)),
        },
    )


def publish_dnc_added(session: Session, *, entry: DncEntry, now: datetime) -> bool:
    """Publish ``dnc.added`` for a new internal DNC entry (key ``dnc.added:entry-<id>``).

    Payload: ``entry_id``, ``phone_e164``, ``source`` (``honor_dnc``, ``phrase_check``, ``dtmf``,
    ``cli``, ``import``, ``api``), ``reason``, ``requested_at`` (UTC ISO-8601), ``lead_id``,
    ``attempt_id``.
    """
    return publish(
        session,
        event_type=OutboxEventType.DNC_ADDED,
        key=f"dnc.added:entry-{entry.id}",
        occurred_at=now,
        payload={
            "entry_id": entry.id,
            "phone_e164": entry.phone_e164,
            "source": entry.source,
            "reason": entry.reason,
            "requested_at": entry.requested_at,
            "lead_id": entry.lead_id,
            "attempt_id": entry.attempt_id,
        },
    )
