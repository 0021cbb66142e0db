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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Row, exists, insert, select, update
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
        first_try: no try of this message was claimed or logged before (not even one re-queued
            by ``dialer crm retry``): nothing can have reached the destination yet.
    """

    message_id: int
    destination: str
    attempt: int
    event_id: int
    event_type: str
    event_key: str
    payload: dict[str, Any]
    occurred_at: datetime
    first_try: bool = False


@dataclass(frozen=True)
class Try:
    """How one delivery try of a claimed message ended (``error`` None: delivered).

    Attributes:
        started_at, finished_at: the try's span (UTC).
        result: the destination's answer on success (its ids).
    """

    claimed: ClaimedMessage
    started_at: datetime
    finished_at: datetime
    result: dict[str, Any] | None = None
    error: DeliveryError | None = None


def backoff_seconds(attempts: int, params: OutboxParams) -> float:
    """The wait after the ``attempts``-th failed try: ``base * 2 ** (attempts - 1)``, capped.

    ``attempts`` >= 1; with the defaults: 30 s, 60 s, 120 s, ... up to 3,600 s.
    """
    exponent = min(max(attempts - 1, 0), 60)
    return float(min(params.max_delay_seconds, params.base_delay_seconds * 2**exponent))


@dataclass(frozen=True)
class Routed:
    """What one :func:`fan_out` did: events routed (with or without a destination), messages made."""

    events: int
    messages: int


FAN_OUT_LIMIT = 1000
"""Events one :func:`fan_out` routes at most (the drain calls it until fewer are left)."""


def fan_out(
    session: Session,
    *,
    destinations_for: Callable[[str], Iterable[str]],
    now: datetime,
    limit: int = FAN_OUT_LIMIT,
) -> Routed:
    """Make the messages of up to ``limit`` events not routed yet, oldest first, in two statements.

    Args:
        destinations_for: event type -> destination names (``CrmSettings.destinations_for``).
            An event routed nowhere is marked routed and has no message.
    """
    events = session.execute(
        select(OutboxEvent.id, OutboxEvent.event_type)
        .where(OutboxEvent.fanned_out_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not events:
        return Routed(0, 0)
    routes = {t: list(destinations_for(t)) for t in {e.event_type for e in events}}
    rows = [
        {"event_id": e.id, "destination": d, "status": OutboxStatus.PENDING, "attempts": 0,
         "next_attempt_at": now, "created_at": now}
        for e in events
        for d in routes[e.event_type]
    ]  # fmt: skip
    if rows:
        session.execute(insert(OutboxMessage), rows)
    session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_([e.id for e in events])).values(fanned_out_at=now)
    )
    return Routed(len(events), len(rows))


def claim_due(
    session: Session, *, now: datetime, params: OutboxParams, limit: int | None = None
) -> list[ClaimedMessage]:
    """Claim up to ``limit`` (default ``params.batch_size``) due pending messages, oldest due first.

    Each claimed message's ``attempts`` goes up by one and it is leased until
    ``now + params.lease_seconds``, in one ``UPDATE``. Commit before delivering.
    """
    tried = exists().where(OutboxDelivery.message_id == OutboxMessage.id)
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.destination, OutboxMessage.attempts, tried, OutboxEvent)
        .join(OutboxEvent, OutboxEvent.id == OutboxMessage.event_id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit or params.batch_size)
        .with_for_update(of=OutboxMessage, skip_locked=True)
    ).all()
    if not rows:
        return []
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([r[0] for r in rows]))
        .values(
            attempts=OutboxMessage.attempts + 1,
            next_attempt_at=now + timedelta(seconds=params.lease_seconds),
        )
        .execution_options(synchronize_session=False)
    )
    return [
        ClaimedMessage(
            message_id=message_id,
            destination=destination,
            attempt=attempts + 1,
            event_id=event.id,
            event_type=event.event_type,
            event_key=event.event_key,
            payload=dict(event.payload),
            occurred_at=event.occurred_at,
            first_try=attempts == 0 and not was_tried,
        )
        for message_id, destination, attempts, was_tried, event in rows
    ]


def _outcome(current: Row[Any], done: Try, params: OutboxParams) -> dict[str, Any] | None:
    """The message's new column values after ``done`` (None: it stays as it is)."""
    if current.status != OutboxStatus.PENDING:
        return None
    if done.error is None:
        return {"status": OutboxStatus.DELIVERED, "delivered_at": done.finished_at,
                "result": done.result, "last_error": None}  # fmt: skip
    if current.attempts != done.claimed.attempt:  # a newer claim is out: the older try never wins
        return None
    error = done.error.message[:2000]
    if not done.error.retryable or done.claimed.attempt >= params.max_attempts:
        return {"status": OutboxStatus.DEAD, "last_error": error}
    delay = timedelta(seconds=backoff_seconds(done.claimed.attempt, params))
    return {"last_error": error, "next_attempt_at": done.finished_at + delay}


def settle_many(session: Session, *, tries: Sequence[Try], params: OutboxParams) -> list[OutboxStatus]:
    """Log tries and move their messages on, set-based; return each message's status afterwards.

    The messages are locked in id order (two settlers never deadlock); the log is one
    multi-row ``INSERT`` and the changes one ``UPDATE`` per shape of change. A success
    (``error`` None) marks the message delivered, whoever claimed it last. A failure applies only
    while its try holds the latest claim (a slower, older try never overrides a newer one): not
    retryable or the ``max_attempts``-th try -> dead; else due again after :func:`backoff_seconds`.

    Raises:
        NotFoundError: a message does not exist (any more).
    """
    ids = sorted({t.claimed.message_id for t in tries})
    current = {
        row.id: row
        for row in session.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.id)
            .with_for_update()
        )
    }
    missing = [i for i in ids if i not in current]
    if missing:
        raise NotFoundError(f"there is no outbox message {', '.join(map(str, missing))}")
    session.execute(
        insert(OutboxDelivery),
        [
            {"message_id": t.claimed.message_id, "attempt": t.claimed.attempt, "started_at": t.started_at,
             "finished_at": t.finished_at, "ok": t.error is None,
             "status_code": t.error.http_status if t.error is not None else None,
             "error": None if t.error is None else t.error.message[:2000]}
            for t in tries
        ],
    )  # fmt: skip
    changes: list[dict[str, Any]] = []
    statuses = []
    for done in tries:
        before = current[done.claimed.message_id]
        change = _outcome(before, done, params)
        if change is not None:
            changes.append({"id": done.claimed.message_id, **change})
        statuses.append(OutboxStatus((change or {}).get("status", before.status)))
    if changes:  # ORM bulk UPDATE by primary key: one executemany per set of columns changed
        session.execute(update(OutboxMessage), changes)
    return statuses


def settle(
    session: Session,
    *,
    claimed: ClaimedMessage,
    started_at: datetime,
    finished_at: datetime,
    params: OutboxParams,
    result: dict[str, Any] | None = None,
    error: DeliveryError | None = None,
) -> OutboxStatus:
    """Log one try and move its message on (:func:`settle_many` of one); return its status afterwards."""
    done = Try(claimed, started_at, finished_at, result=result, error=error)
    return settle_many(session, tries=[done], params=params)[0]


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
