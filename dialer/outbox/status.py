"""Reading the outbox's state: per destination, message by message, and each message's delivery log.

What ``dialer crm outbox`` prints (and the console will show): how many messages each destination
has pending, due, delivered and dead, the oldest one still waiting and the last error; the
messages themselves; the tries of one message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dialer.errors import NotFoundError
from dialer.models import OutboxDelivery, OutboxEvent, OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class DestinationState:
    """One destination's messages by state.

    Attributes:
        due: pending messages whose time has come (``next_attempt_at <= now``).
        delivered: messages delivered in the last :data:`DELIVERED_WINDOW` (not the whole history).
        oldest_pending_at: when the oldest pending message's event happened (UTC), or None.
    """

    destination: str
    pending: int
    due: int
    delivered: int
    dead: int
    oldest_pending_at: datetime | None


DELIVERED_WINDOW = timedelta(hours=24)
"""How far back :func:`destination_states` counts deliveries."""


@dataclass(frozen=True)
class MessageState:
    """One message as operators see it (``next_attempt_at`` UTC; ``last_error`` the latest failure)."""

    id: int
    event_type: str
    event_key: str
    destination: str
    status: OutboxStatus
    attempts: int
    occurred_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None


def destination_states(session: Session, *, now: datetime) -> list[DestinationState]:
    """Every destination with pending, dead or lately delivered messages, by name.

    Three grouped queries, each on its partial index (pending, dead, delivered by time): their
    cost follows the work outstanding and the last day's deliveries, not the history.
    """
    pending = session.execute(
        select(
            OutboxMessage.destination,
            func.count(),
            func.count(case((OutboxMessage.next_attempt_at <= now, 1))),
            func.min(OutboxEvent.occurred_at),
        )
        .join(OutboxEvent, OutboxEvent.id == OutboxMessage.event_id)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .group_by(OutboxMessage.destination)
    ).all()
    dead = session.execute(
        select(OutboxMessage.destination, func.count())
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .group_by(OutboxMessage.destination)
    ).all()
    delivered = session.execute(
        select(OutboxMessage.destination, func.count())
        .where(
            OutboxMessage.status == OutboxStatus.DELIVERED,
            OutboxMessage.delivered_at >= now - DELIVERED_WINDOW,
        )
        .group_by(OutboxMessage.destination)
    ).all()
    waiting = {name: (n, due, oldest) for name, n, due, oldest in pending}
    dead_by: dict[str, int] = {name: n for name, n in dead}
    delivered_by: dict[str, int] = {name: n for name, n in delivered}
    names = sorted({*waiting, *dead_by, *delivered_by})
    return [
        DestinationState(
            name,
            *waiting.get(name, (0, 0, None))[:2],
            delivered_by.get(name, 0),
            dead_by.get(name, 0),
            waiting.get(name, (0, 0, None))[2],
        )
        for name in names
    ]


def last_errors(session: Session) -> dict[str, str]:
    """Each destination's latest failure: the ``last_error`` of its newest message that has one."""
    newest = (
        select(func.max(OutboxMessage.id))
        .where(OutboxMessage.last_error.is_not(None))
        .group_by(OutboxMessage.destination)
    )
    rows = session.execute(
        select(OutboxMessage.destination, OutboxMessage.last_error).where(OutboxMessage.id.in_(newest))
    )
    return {destination: error for destination, error in rows if error is not None}


def unrouted_events(session: Session) -> int:
    """Events not yet turned into messages (the next drain routes them)."""
    return int(session.scalar(select(func.count()).where(OutboxEvent.fanned_out_at.is_(None))) or 0)


def list_messages(
    session: Session, *, status: OutboxStatus | None = None, limit: int = 20
) -> list[MessageState]:
    """The newest ``limit`` messages (of ``status``, if given), newest first."""
    statement = (
        select(OutboxMessage, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == OutboxMessage.event_id)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    if status is not None:
        statement = statement.where(OutboxMessage.status == status)
    return [
        MessageState(
            id=m.id,
            event_type=e.event_type,
            event_key=e.event_key,
            destination=m.destination,
            status=m.status,
            attempts=m.attempts,
            occurred_at=e.occurred_at,
            next_attempt_at=m.next_attempt_at,
            delivered_at=m.delivered_at,
            last_error=m.last_error,
        )
        for m, e in session.execute(statement)
    ]


def delivery_log(session: Session, *, message_id: int) -> list[OutboxDelivery]:
    """Every try of one message, first first.

    Raises:
        NotFoundError: there is no such message.
    """
    if session.get(OutboxMessage, message_id) is None:
        raise NotFoundError(f"there is no outbox message {message_id}")
    return list(
        session.scalars(
            select(OutboxDelivery).where(OutboxDelivery.message_id == message_id).order_by(OutboxDelivery.id)
        )
    )


@dataclass(frozen=True)
class DeliveryState:
    """One try of one message, with where its message stands now (the console's delivery log).

    Attributes:
        attempt: which try of the message this was (1 for the first).
        started_at: when the try began (UTC).
        status_code: the HTTP status the destination answered, None when it did not answer.
        error: why the try failed, None on success.
        message_status: the message's state now; ``next_attempt_at`` its next try when pending.
    """

    delivery_id: int
    message_id: int
    event_type: str
    event_key: str
    destination: str
    attempt: int
    started_at: datetime
    ok: bool
    status_code: int | None
    error: str | None
    message_status: OutboxStatus
    next_attempt_at: datetime


def recent_deliveries(
    session: Session, *, destination_prefix: str = "", limit: int = 50
) -> list[DeliveryState]:
    """The newest ``limit`` tries, newest first, of destinations starting with ``destination_prefix``.

    ``destination_prefix="webhook:"`` gives the webhook delivery log; ``""`` every destination's.
    """
    statement = (
        select(OutboxDelivery, OutboxMessage, OutboxEvent)
        .join(OutboxMessage, OutboxMessage.id == OutboxDelivery.message_id)
        .join(OutboxEvent, OutboxEvent.id == OutboxMessage.event_id)
        .order_by(OutboxDelivery.id.desc())
        .limit(limit)
    )
    if destination_prefix:
        statement = statement.where(OutboxMessage.destination.startswith(destination_prefix, autoescape=True))
    return [
        DeliveryState(
            delivery_id=d.id,
            message_id=m.id,
            event_type=e.event_type,
            event_key=e.event_key,
            destination=m.destination,
            attempt=d.attempt,
            started_at=d.started_at,
            ok=d.ok,
            status_code=d.status_code,
            error=d.error,
            message_status=m.status,
            next_attempt_at=m.next_attempt_at,
        )
        for d, m, e in session.execute(statement)
    ]
