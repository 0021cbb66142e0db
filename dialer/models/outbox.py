"""The transactional outbox: events for the CRM and webhooks, their deliveries and the delivery log.

An :class:`OutboxEvent` is written in the same transaction as the business change it reports
(a meeting booked, a call completed, a DNC entry added), so it exists exactly when the change
does. The drain turns each event into one :class:`OutboxMessage` per destination (HubSpot, each
webhook endpoint subscribed to its type), delivers them outside any business transaction, and
logs every try as an :class:`OutboxDelivery`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base, StrEnumColumn
from dialer.models._columns import utcnow


class OutboxEventType(StrEnum):
    """The events the product publishes (webhook ``type``; HubSpot syncs the first two)."""

    CALL_COMPLETED = "call.completed"
    MEETING_BOOKED = "meeting.booked"
    DNC_ADDED = "dnc.added"


class OutboxStatus(StrEnum):
    """A message's state: ``pending`` (due at ``next_attempt_at``), ``delivered``, or ``dead``.

    ``dead`` is the dead-letter state: the tries ran out (``max_attempts``) or the destination
    refused the message for good (a 4xx other than 408/429). ``dialer crm retry`` re-queues it.
    """

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class OutboxEvent(Base):
    """One published event, written with the change it reports.

    Attributes:
        event_type: an :class:`OutboxEventType` value.
        event_key: the idempotency key, unique: ``meeting.booked:meeting-12``. Webhook receivers
            get it as the event ``id`` and the ``Idempotency-Key`` header.
        payload: the event's data as of the change (a snapshot; later edits do not alter it).
        occurred_at: when the change happened (UTC, the product's clock).
        fanned_out_at: when the drain made its per-destination messages (None until then).
    """

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index(
            "ix_outbox_events_unrouted",
            "id",
            postgresql_where=text("fanned_out_at IS NULL"),
            sqlite_where=text("fanned_out_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime]
    fanned_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """One event on its way to one destination.

    Attributes:
        destination: ``crm:hubspot`` or ``webhook:<endpoint name>``.
        attempts: deliveries tried so far.
        next_attempt_at: when it is due (pending), or when a claimed delivery's lease ends.
        last_error: the last failure, as shown to operators (HTTP status and body, or the error).
        delivered_at: when the destination accepted it.
        result: what the destination answered on success (HubSpot ids), for the console.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("event_id", "destination"),
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(  # the status views count dead letters by it, without scanning the history
            "ix_outbox_messages_dead",
            "destination",
            postgresql_where=text("status = 'dead'"),
            sqlite_where=text("status = 'dead'"),
        ),
        Index(  # pruning and the status views' "delivered lately" find delivered ones by it
            "ix_outbox_messages_delivered",
            "delivered_at",
            postgresql_where=text("status = 'delivered'"),
            sqlite_where=text("status = 'delivered'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # (event_id, destination)'s unique index serves look-ups by event_id: no index of its own.
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    destination: Mapped[str] = mapped_column(String(100))
    status: Mapped[OutboxStatus] = mapped_column(
        StrEnumColumn(OutboxStatus, 12), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxDelivery(Base):
    """The delivery log: one row per try of a message, successful or not.

    Attributes:
        attempt: 1 for the first try of the message, 2 for its first retry, ...
        started_at, finished_at: the try's span (UTC).
        ok: the destination accepted the message.
        status_code: the HTTP status the destination answered, if it answered.
        error: why it failed (None on success).
    """

    __tablename__ = "outbox_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    ok: Mapped[bool]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
