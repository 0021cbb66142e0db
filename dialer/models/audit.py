"""The append-only audit log and the seals that chain it in batches (see :mod:`dialer.audit`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import FetchedValue, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base


class AuditEvent(Base):
    """One audited fact: a gate decision, tool call, disposition, DNC change, consent import...

    Appending is a plain ``INSERT``: the ``id`` (a sequence / autoincrement) gives the log's order,
    and no other row is read or locked. :class:`AuditSeal` rows chain the events later.

    Attributes:
        id: position in the log (allocation order of the sequence).
        occurred_at: when it happened (UTC, product clock).
        kind: dotted event name, e.g. ``gate.decision``, ``tool.book_meeting``, ``dnc.added``.
        actor: ``system``, ``agent`` or ``user:<name>``.
        payload: the event's facts as JSON.
        hash: content hash, sha256 (hex) over the canonical JSON of the fields above but ``id``
            (:func:`dialer.audit.content_hash`); the seal binds it to ``id``.
        recorded_at: the database server's clock when the row was inserted (PostgreSQL
            ``clock_timestamp()``); the sealer uses it to tell a rolled-back id from one still in
            flight. Not hashed.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[int | None] = mapped_column(index=True)
    lead_id: Mapped[int | None] = mapped_column(index=True)
    attempt_id: Mapped[int | None] = mapped_column(index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime | None] = mapped_column(server_default=FetchedValue())


class AuditSeal(Base):
    """One sealed batch of consecutive event ids, chained to the previous seal.

    Attributes:
        id: the seal's number, 1, 2, 3... (the previous seal's plus one).
        first_id, last_id: the event id range covered (``first_id`` = previous ``last_id`` + 1).
        event_count: events in the range (the range's size less the gaps).
        gaps: id ranges ``[[from, to], ...]`` inside the range that held no event when sealed
            (ids of rolled-back transactions), so a later row there is known to be inserted.
        event_hashes: the covered events' content hashes, 32 raw bytes each, in id order.
        merkle_root: RFC 9162 Merkle tree hash (hex) over the leaves ``"<id>:<content hash>"``.
        prev_seal_hash: the previous seal's ``seal_hash`` (64 zeros for the first seal).
        seal_hash: sha256 over the canonical JSON of every field above and ``sealed_at``.
        sealed_at: when the seal was made (UTC, product clock).
    """

    __tablename__ = "audit_seals"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    first_id: Mapped[int] = mapped_column(unique=True)
    last_id: Mapped[int]
    event_count: Mapped[int]
    gaps: Mapped[list[Any]] = mapped_column(default=list)
    event_hashes: Mapped[bytes] = mapped_column(LargeBinary)
    merkle_root: Mapped[str] = mapped_column(String(64))
    prev_seal_hash: Mapped[str] = mapped_column(String(64))
    seal_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sealed_at: Mapped[datetime]
