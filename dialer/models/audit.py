"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base


class AuditEvent(Base):
    """One audited fact: a gate decision, tool call, disposition, DNC change, consent import...

    Attributes:
        occurred_at: when it happened (UTC, product clock).
        kind: dotted event name, e.g. ``gate.decision``, ``tool.book_meeting``, ``dnc.added``.
        actor: ``system``, ``agent`` or ``user:<name>``.
        payload: the event's facts as JSON.
        prev_hash: ``hash`` of the previous event (64 zeros for the first).
        hash: sha256 over the canonical JSON of this event's fields and ``prev_hash``.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    lead_id: Mapped[int | None] = mapped_column(index=True)
    attempt_id: Mapped[int | None]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """A single row holding the chain's last hash; locked to serialize appends."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int | None]
    last_hash: Mapped[str] = mapped_column(String(64))
