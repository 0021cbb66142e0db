"""The audit log: append-only, hash-chained events, with export and verification.

Each event's ``hash`` is sha256 over the canonical JSON of its fields plus the previous event's
hash, so deleting, editing or reordering any stored event breaks every later hash. Appends lock
the single ``audit_chain_head`` row, so concurrent writers (dial tasks, the bridge, the CLI)
extend one chain; the lock is held until the caller's transaction commits, which keeps the chain
in commit order.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.db import lock_for_update
from dialer.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def _canonical(event_fields: dict[str, Any]) -> bytes:
    return json.dumps(event_fields, sort_keys=True, separators=(",", ":"), default=str).encode()


def _event_hash(event: AuditEvent, prev_hash: str) -> str:
    """sha256 over the canonical JSON of the event's fields and the previous event's hash."""
    body = {
        "prev_hash": prev_hash,
        "occurred_at": event.occurred_at.isoformat(),
        "kind": event.kind,
        "actor": event.actor,
        "campaign_id": event.campaign_id,
        "lead_id": event.lead_id,
        "attempt_id": event.attempt_id,
        "payload": event.payload,
    }
    return hashlib.sha256(_canonical(body)).hexdigest()


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    """Round-trip through JSON so the stored payload is exactly what was hashed."""
    return json.loads(json.dumps(payload, default=str))


def record_event(
    session: Session,
    *,
    kind: str,
    occurred_at: datetime,
    actor: str = "system",
    campaign_id: int | None = None,
    lead_id: int | None = None,
    attempt_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction.

    Args:
        session: an open session; the event commits (or rolls back) with the caller's work.
        kind: dotted event name, e.g. ``gate.decision``.
        occurred_at: when it happened (aware; the product's clock).
        actor: ``system``, ``agent`` or ``user:<name>``.
        payload: JSON-serializable facts (datetimes are stored as ISO-8601 strings).

    Returns:
        The flushed event (its ``id`` and ``hash`` are set).
    """
    head = session.execute(
        lock_for_update(select(AuditChainHead).where(AuditChainHead.id == 1), session)
    ).scalar_one()
    event = AuditEvent(
        occurred_at=occurred_at.astimezone(UTC),
        kind=kind,
        actor=actor,
        campaign_id=campaign_id,
        lead_id=lead_id,
        attempt_id=attempt_id,
        payload=_jsonable(payload or {}),
        prev_hash=head.last_hash,
    )
    event.hash = _event_hash(event, head.last_hash)
    session.add(event)
    session.flush()
    head.last_hash = event.hash
    head.last_event_id = event.id
    return event


class _AttemptLike(Protocol):
    id: int
    campaign_id: int
    lead_id: int


def record_attempt_event(
    session: Session,
    *,
    attempt: _AttemptLike,
    kind: str,
    occurred_at: datetime,
    payload: dict[str, Any],
    actor: str = "system",
) -> AuditEvent:
    """:func:`record_event` for something that happened on one call attempt."""
    return record_event(
        session,
        kind=kind,
        occurred_at=occurred_at,
        actor=actor,
        campaign_id=attempt.campaign_id,
        lead_id=attempt.lead_id,
        attempt_id=attempt.id,
        payload=payload,
    )


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_chain`.

    Attributes:
        ok: True when every event's hash and link check out and the head matches the last event.
        events_checked: how many events were read.
        first_bad_event_id: the first event whose hash or link is wrong, if any.
        problem: what is wrong, in words.
    """

    ok: bool
    events_checked: int
    first_bad_event_id: int | None = None
    problem: str | None = None


def _events(session: Session, campaign_id: int | None = None) -> Iterator[AuditEvent]:
    statement = select(AuditEvent).order_by(AuditEvent.id)
    if campaign_id is not None:
        statement = statement.where(AuditEvent.campaign_id == campaign_id)
    yield from session.execute(statement.execution_options(yield_per=1000)).scalars()


def verify_chain(session: Session) -> VerifyResult:
    """Recompute every hash in id order and check each link and the chain head."""
    prev = GENESIS_HASH
    count = 0
    last_id: int | None = None
    for event in _events(session):
        count += 1
        expected = _event_hash(event, prev)
        if event.prev_hash != prev:
            return VerifyResult(False, count, event.id, "link to the previous event is broken")
        if event.hash != expected:
            return VerifyResult(False, count, event.id, "event content does not match its hash")
        prev = event.hash
        last_id = event.id
    head = session.get(AuditChainHead, 1)
    if head is None or head.last_hash != prev or head.last_event_id != last_id:
        return VerifyResult(False, count, None, "chain head does not match the last event (events removed?)")
    return VerifyResult(True, count)


def event_as_dict(event: AuditEvent) -> dict[str, Any]:
    """An event as plain JSON-ready data (the export format)."""
    return {
        "id": event.id,
        "occurred_at": event.occurred_at.isoformat(),
        "kind": event.kind,
        "actor": event.actor,
        "campaign_id": event.campaign_id,
        "lead_id": event.lead_id,
        "attempt_id": event.attempt_id,
        "payload": event.payload,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def export_events(
    session: Session,
    destination: Path,
    *,
    fmt: Literal["jsonl", "csv"] = "jsonl",
    campaign_id: int | None = None,
) -> int:
    """Write audit events to ``destination`` in id order; return how many were written.

    ``jsonl`` writes one event object a line; ``csv`` writes the same fields with ``payload`` as
    a JSON string. Events carry their hashes so an exported file can be checked on its own.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with destination.open("w", encoding="utf-8", newline="") as out:
        writer: csv.DictWriter[str] | None = None
        for event in _events(session, campaign_id):
            row = event_as_dict(event)
            if fmt == "jsonl":
                out.write(json.dumps(row, sort_keys=True) + "\n")
            else:
                if writer is None:
                    writer = csv.DictWriter(out, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow({**row, "payload": json.dumps(row["payload"], sort_keys=True)})
            count += 1
    return count
