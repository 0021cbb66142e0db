"""Appending audit events: a plain ``INSERT`` carrying the event's own content hash.

Nothing is read or locked to append: the event's position is its ``id`` (the table's sequence /
autoincrement), and :mod:`dialer.audit.sealing` chains the events later, in batches. The content
hash is sha256 over the canonical JSON (sorted keys, no spaces) of
``{occurred_at, kind, actor, campaign_id, lead_id, attempt_id, payload}``; an exported event line
carries the same fields, so anyone can recompute it (:func:`content_hash`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Row, Table, insert, select
from sqlalchemy.orm import Session

from dialer.audit.query import AuditFilter, event_columns
from dialer.models import AuditEvent

GENESIS_HASH = "0" * 64
"""The ``prev_seal_hash`` of the first seal."""

HASHED_FIELDS = ("occurred_at", "kind", "actor", "campaign_id", "lead_id", "attempt_id", "payload")
"""The event fields the content hash covers (``occurred_at`` as ISO-8601 UTC)."""


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, non-JSON values as ``str``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def content_hash(fields: dict[str, Any]) -> str:
    """sha256 (hex) over the canonical JSON of the :data:`HASHED_FIELDS` of ``fields``.

    Args:
        fields: an event as exported (:func:`event_as_dict`) or any mapping with those keys;
            ``occurred_at`` must already be the ISO-8601 UTC string.
    """
    return hashlib.sha256(canonical_json({name: fields[name] for name in HASHED_FIELDS})).hexdigest()


def event_content_hash(event: AuditEvent | Row[Any]) -> str:
    """:func:`content_hash` of a stored event (ORM object or row), recomputed from its columns."""
    return content_hash(_fields(event))


def _fields(event: AuditEvent | Row[Any]) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "kind": event.kind,
        "actor": event.actor,
        "campaign_id": event.campaign_id,
        "lead_id": event.lead_id,
        "attempt_id": event.attempt_id,
        "payload": event.payload,
    }


def _hash_with_payload(fields: dict[str, Any], payload_json: bytes) -> str:
    """:func:`content_hash` given the payload's canonical JSON already (``payload`` sorts last)."""
    head = canonical_json({name: fields[name] for name in HASHED_FIELDS if name != "payload"})
    return hashlib.sha256(head[:-1] + b',"payload":' + payload_json + b"}").hexdigest()


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
    """Append one event inside the caller's transaction (an ``INSERT`` at the next flush).

    No row is read or locked, so concurrent writers never wait on each other here; the event
    commits (or rolls back) with the caller's work and is sealed into the chain afterwards.

    Args:
        session: an open session.
        kind: dotted event name, e.g. ``gate.decision``.
        occurred_at: when it happened (aware; the product's clock; stored in UTC).
        actor: ``system``, ``agent`` or ``user:<name>``.
        campaign_id, lead_id, attempt_id: what the event is about, if anything.
        payload: JSON-serializable facts (datetimes are stored as ISO-8601 strings).

    Returns:
        The pending event, its ``hash`` set; its ``id`` is assigned when the session flushes.

    Raises:
        ValueError: ``occurred_at`` is naive.
    """
    event = AuditEvent(
        **event_values(
            kind=kind,
            occurred_at=occurred_at,
            actor=actor,
            campaign_id=campaign_id,
            lead_id=lead_id,
            attempt_id=attempt_id,
            payload=payload,
        )
    )
    session.add(event)
    return event


def event_values(
    *,
    kind: str,
    occurred_at: datetime,
    actor: str = "system",
    campaign_id: int | None = None,
    lead_id: int | None = None,
    attempt_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of one event, its content ``hash`` included (see :func:`record_event`).

    Returns:
        ``{occurred_at (UTC), kind, actor, campaign_id, lead_id, attempt_id, payload, hash}``: a
        row for :func:`append_events` or the keyword arguments of an :class:`AuditEvent`.

    Raises:
        ValueError: ``occurred_at`` is naive.
    """
    if occurred_at.tzinfo is None:
        raise ValueError(f"naive occurred_at {occurred_at!r}; pass an aware instant")
    payload_json = canonical_json(payload or {})
    values: dict[str, Any] = {
        "occurred_at": occurred_at.astimezone(UTC),
        "kind": kind,
        "actor": actor,
        "campaign_id": campaign_id,
        "lead_id": lead_id,
        "attempt_id": attempt_id,
        "payload": json.loads(payload_json),  # exactly what is hashed (datetimes as ISO-8601 strings)
    }
    fields = {**values, "occurred_at": values["occurred_at"].isoformat()}
    values["hash"] = _hash_with_payload(fields, payload_json)
    return values


def append_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append many events in one ``INSERT`` (SQLAlchemy Core executemany), in list order.

    The set-based dial path's bulk append: the same rows :func:`record_event` would add one by
    one (same kinds, payloads and hashes; ids in list order from the sequence). Nothing is read
    or locked.

    Args:
        rows: :func:`event_values` results.
    """
    if rows:
        session.connection().execute(insert(cast(Table, AuditEvent.__table__)), rows)


class _AttemptLike(Protocol):
    """What an attempt event needs of its attempt (a row, or the dial path's prepared record)."""

    @property
    def id(self) -> int: ...
    @property
    def campaign_id(self) -> int: ...
    @property
    def lead_id(self) -> int: ...


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


def event_as_dict(event: AuditEvent | Row[Any]) -> dict[str, Any]:
    """An event as plain JSON-ready data (the export format): ``id``, the hashed fields, ``hash``."""
    return {"id": event.id, **_fields(event), "hash": event.hash}


def iter_events(
    session: Session,
    *,
    campaign_id: int | None = None,
    from_id: int | None = None,
    to_id: int | None = None,
    matching: AuditFilter | None = None,
) -> Iterator[Row[Any]]:
    """Stored events in id order, streamed 1,000 at a time, optionally one campaign's or an id range.

    Args:
        matching: only the events this filter matches (the console's audit log filters).

    Yields plain rows (not ORM objects: verification reads millions) whose attributes are the
    ``audit_events`` columns; :func:`event_as_dict` and :func:`event_content_hash` take them.
    """
    statement = select(*event_columns()).order_by(AuditEvent.id)  # ORM columns: pending events are flushed
    if campaign_id is not None:
        statement = statement.where(AuditEvent.campaign_id == campaign_id)
    if from_id is not None:
        statement = statement.where(AuditEvent.id >= from_id)
    if to_id is not None:
        statement = statement.where(AuditEvent.id <= to_id)
    if matching is not None:
        statement = matching.apply(statement)
    yield from session.execute(statement.execution_options(yield_per=1000))
