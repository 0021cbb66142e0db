"""Finding audit events: one filter for the console's audit log, its exports and the REST API's.

:class:`AuditFilter` narrows ``audit_events`` by what an auditor asks about (a phone number, a lead,
a campaign, an attempt, an event kind, a time range); :func:`dialer.audit.iter_events` streams the
matches in id order (exports, verification) and :func:`page_events` reads one page of them newest
first, by keyset (``id < before_id``, served by the primary key at any depth, never ``OFFSET``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, or_, select, text
from sqlalchemy.orm import Session

from dialer.models import AuditEvent, Lead

MAX_PAGE = 500
"""Most events one page holds."""


@dataclass(frozen=True)
class AuditFilter:
    """Which events an auditor asks for; every field set narrows the match (None: any).

    Attributes:
        phone_e164: events about the number (E.164): those of a lead with that number, and those
            whose payload names it as ``phone_e164`` (DNC entries, revocations made off a call).
        lead_id, campaign_id, attempt_id: events about that row.
        kind: one event kind, exactly (``dnc.added``), or a family by its prefix ending in a dot
            (``dnc.`` matches ``dnc.added`` and ``dnc.removed``).
        since, until: ``occurred_at`` from ``since`` (inclusive) to ``until`` (exclusive), aware.
    """

    phone_e164: str | None = None
    lead_id: int | None = None
    campaign_id: int | None = None
    attempt_id: int | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def is_empty(self) -> bool:
        """True when nothing is narrowed (every event matches)."""
        return all(getattr(self, f.name) is None for f in fields(self))

    def apply(self, statement: Select[Any]) -> Select[Any]:
        """``statement`` (over ``audit_events``) narrowed to the matching events."""
        if self.phone_e164 is not None:
            leads = select(Lead.id).where(Lead.phone_e164 == self.phone_e164)
            statement = statement.where(
                or_(
                    AuditEvent.lead_id.in_(leads),
                    AuditEvent.payload["phone_e164"].as_string() == self.phone_e164,
                )
            )
        for column, value in (
            (AuditEvent.lead_id, self.lead_id),
            (AuditEvent.campaign_id, self.campaign_id),
            (AuditEvent.attempt_id, self.attempt_id),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if self.kind is not None:
            if self.kind.endswith("."):
                statement = statement.where(AuditEvent.kind.startswith(self.kind, autoescape=True))
            else:
                statement = statement.where(AuditEvent.kind == self.kind)
        if self.since is not None:
            statement = statement.where(AuditEvent.occurred_at >= self.since)
        if self.until is not None:
            statement = statement.where(AuditEvent.occurred_at < self.until)
        return statement


def event_columns() -> list[Any]:
    """The ``audit_events`` columns as ORM attributes (selecting them flushes pending events)."""
    return [getattr(AuditEvent, column.key) for column in AuditEvent.__table__.columns]


def page_events(
    session: Session, matching: AuditFilter, *, before_id: int | None = None, limit: int = 50
) -> list[Row[Any]]:
    """One page of matching events, newest (highest id) first.

    Args:
        matching: the filter.
        before_id: only events with a smaller id: the last id of the previous page (keyset).
        limit: page size, 1 to :data:`MAX_PAGE`.

    Returns:
        Rows with the ``audit_events`` columns (as :func:`dialer.audit.iter_events` yields).
    """
    statement = matching.apply(select(*event_columns()))
    if before_id is not None:
        statement = statement.where(AuditEvent.id < before_id)
    statement = statement.order_by(AuditEvent.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    return list(session.execute(statement))


_KINDS = text(
    """
    WITH RECURSIVE kinds(kind) AS (
        SELECT min(kind) FROM audit_events
        UNION ALL
        SELECT (SELECT min(kind) FROM audit_events WHERE kind > kinds.kind)
        FROM kinds WHERE kinds.kind IS NOT NULL
    )
    SELECT kind FROM kinds WHERE kind IS NOT NULL
    """
)
"""A loose index scan: one probe of ``ix_audit_events_kind`` per distinct kind, however long the log
(``SELECT DISTINCT`` would read the whole index on every page view)."""


def event_kinds(session: Session) -> list[str]:
    """Every event kind in the log, sorted (the filter's choices)."""
    session.flush()
    return list(session.scalars(_KINDS))
