"""The outbox's state machine, in SQL: route events to destinations, claim due messages, settle tries.

A message is ``pending`` until a destination accepts it (``delivered``) or it is dead: tries ran
out, or the destination refused it for good. The drain (``crm.outbox``) runs three short
transactions around each delivery, none of them holding a lock while it waits on the network:

1. :func:`fan_out`: each new event becomes one message per destination its type is routed to;
2. :func:`claim_due`: due messages are claimed (``FOR UPDATE SKIP LOCKED``, so drains on several
   workers never take the same one); a claim counts the try and leases the message for
   ``lease_seconds`` (a worker that dies mid-delivery leaves it due again, never lost);
3. :func:`settle`: the try is logged (:class:`~dialer.models.OutboxDelivery`) and the message
   delivered, retried after an exponential backoff (:func:`backoff_seconds`), or dead.

A try whose outcome is unknown (a timeout after the request left) is retried like a failure;
the destinations make that safe (HubSpot: look-up before create; webhooks: the event id and
``Idempotency-Key`` header let a receiver drop the repeat).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from dialer.crm_settings import OutboxParams
from dialer.errors import DeliveryError, InvalidInputError, NotFoundError
from dialer.models import OutboxDelivery, OutboxEvent, OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class ClaimedMessage:
    """A message claimed for one delivery try, with its event (plain data, no session needed).

    Attributes:
        attempt: this try's number (1 for the first).
        occurred_at: when the event's change happened (UTC).
    """

    message_id: int
    destination: str
    attempt: int
    event_id: int
    event_type: str
    event_key: str
    payload: dict[str, Any]
    occurred_at: datetime


def backoff_seconds(attempts: int, params: OutboxParams) -> float:
    """The wait after the ``attempts``-th failed try: ``base * 2 ** (attempts - 1)``, capped.

    ``attempts`` >= 1; with the defaults: 30 s, 60 s, 120 s, ... up to 3,600 s.
    """
    exponent = min(max(attempts - 1, 0), 60)
    return float(min(params.max_delay_seconds, params.base_delay_seconds * 2**exponent))


def fan_out(session: Session, *, destinations_for: Callable[[str], Iterable[str]], now: datetime) -> int:
    """Make the messages of every event not routed yet; return how many messages were made.

    Args:
        destinations_for: event type -> destination names (``CrmSettings.destinations_for``).
            An event routed nowhere is marked routed and has no message.
    """
    events = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.fanned_out_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(1000)
        .with_for_update(skip_locked=True)
    ).all()
    made = 0
    for event in events:
        for destination in destinations_for(event.event_type):
            session.add(OutboxMessage(event_id=event.id, destination=destination, next_attempt_at=now))
            made += 1
        event.fanned_out_at = now
    session.flush()
    return made


def claim_due(session: Session, *, now: datetime, params: OutboxParams) -> list[ClaimedMessage]:
    """Claim up to ``params.batch_size`` due pending messages, oldest due first.

    Each claimed message's ``attempts`` goes up by one and it is leased until
    ``now + params.lease_seconds``. Commit before delivering.
    """
    rows = session.execute(
        select(OutboxMessage, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == OutboxMessage.event_id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(params.batch_size)
        .with_for_update(of=OutboxMessage, skip_locked=True)
    ).all()
    claimed = []
    for message, event in rows:
        message.attempts += 1
        message.next_attempt_at = now + timedelta(seconds=params.lease_seconds)
        claimed.append(
            ClaimedMessage(
                message_id=message.id,
                destination=message.destination,
                attempt=message.attempts,
                event_id=event.id,
                event_type=event.event_type,
                event_key=event.event_key,
                payload=dict(event.payload),
                occurred_at=event.occurred_at,
            )
        )
    session.flush()
    return claimed


def settle(
    session: Session,
    *,
    claimed: ClaimedMessage,
    started_at: datetime,
    finished_at: datetime,
    params: OutboxParams,
    result: dict[str, Any] | None = None,
    status_code: int | None = None,
    error: DeliveryError | None = None,
) -> OutboxStatus:
    """Log one try and move its message on; return the message's status afterwards.

    A success (``error`` None) marks the message delivered, whoever claimed it last. A failure
    applies only while this try holds the latest claim (a slower, older try never overrides a
    newer one): not retryable or the ``max_attempts``-th try -> dead; else due again after
    :func:`backoff_seconds`.
    """
    message = session.get(OutboxMessage, claimed.message_id, with_for_update=True)
    if message is None:
        raise NotFoundError(f"there is no outbox message {claimed.message_id}")
    session.add(
        OutboxDelivery(
            message_id=message.id,
            attempt=claimed.attempt,
            started_at=started_at,
            finished_at=finished_at,
            ok=error is None,
            status_code=error.http_status if error is not None else status_code,
            error=None if error is None else error.message[:2000],
        )
    )
    if message.status != OutboxStatus.PENDING:
        return message.status
    if error is None:
        message.status = OutboxStatus.DELIVERED
        message.delivered_at = finished_at
        message.result = result
        message.last_error = None
    elif message.attempts == claimed.attempt:
        message.last_error = error.message[:2000]
        if not error.retryable or claimed.attempt >= params.max_attempts:
            message.status = OutboxStatus.DEAD
        else:
            message.next_attempt_at = finished_at + timedelta(
                seconds=backoff_seconds(claimed.attempt, params)
            )
    session.flush()
    return message.status


def requeue(
    session: Session, *, now: datetime, message_ids: Iterable[int] = (), all_dead: bool = False
) -> int:
    """Make dead messages pending again, due ``now``, with a fresh count of tries.

    Args:
        message_ids: these messages (each must exist and be dead).
        all_dead: every dead message.

    Returns:
        How many messages were re-queued.

    Raises:
        NotFoundError: an id is not an outbox message.
        InvalidInputError: an id is not dead (pending ones are already queued; delivered ones stay).
    """
    ids = sorted(set(message_ids))
    if ids:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.status).where(OutboxMessage.id.in_(ids))
        )
        found: dict[int, OutboxStatus] = {row.id: row.status for row in rows}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFoundError(f"there is no outbox message {', '.join(map(str, missing))}")
        alive = [f"{i} ({found[i]})" for i in ids if found[i] != OutboxStatus.DEAD]
        if alive:
            raise InvalidInputError(f"only dead messages can be retried; not dead: {', '.join(alive)}")
    statement = update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD)
    if not all_dead:
        statement = statement.where(OutboxMessage.id.in_(ids))
    values = {"status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now}
    result = cast(CursorResult[Any], session.execute(statement.values(**values)))
    return int(result.rowcount)
