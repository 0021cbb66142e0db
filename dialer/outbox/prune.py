"""Pruning the outbox: delivered messages (and their delivery log) once they are old.

Delivered messages are history; kept forever they make every status view and the due scan's
table grow without end. :func:`prune_delivered` deletes those delivered before a cutoff
(``DIALER_CRM__OUTBOX__KEEP_DELIVERED_DAYS``, 30 by default: the drain task runs it; ``dialer
crm prune --older-than 30d`` by hand), their tries with them, and then the events routed before
the cutoff that have no message left (a re-published key after that is a new event). Pending
and dead messages are never pruned: they are work still to do.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, select
from sqlalchemy.orm import Session

from dialer.errors import InvalidInputError
from dialer.models import OutboxEvent, OutboxMessage, OutboxStatus

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([dh])")


def parse_age(text: str, *, where: str = "--older-than") -> timedelta:
    """``30d`` (days) or ``12h`` (hours) as a duration.

    Raises:
        InvalidInputError: another shape, or zero; the message starts with ``where``.
    """
    match = _AGE.fullmatch(text.strip().lower())
    if match is None or float(match.group(1)) == 0:
        raise InvalidInputError(f"{where} {text!r}: write a positive age in days or hours, e.g. 30d or 12h")
    amount = float(match.group(1))
    return timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount)


def prune_delivered(session: Session, *, before: datetime, limit: int = 10_000) -> tuple[int, int]:
    """Delete up to ``limit`` messages delivered before ``before`` (UTC), then their bare events.

    Returns:
        (messages deleted, events deleted).
    """
    old = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.DELIVERED, OutboxMessage.delivered_at < before)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    messages = session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(old.scalar_subquery())))
    bare = (
        select(OutboxEvent.id)
        .where(
            OutboxEvent.fanned_out_at < before,
            ~exists().where(OutboxMessage.event_id == OutboxEvent.id),
        )
        .limit(limit)
    )
    events = session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(bare.scalar_subquery())))
    return (
        int(cast(CursorResult[Any], messages).rowcount),
        int(cast(CursorResult[Any], events).rowcount),
    )
