"""Dispositions and what they mean for the lead: final, retry later, call back, or never again.

The retry policy is a pure function (:func:`lead_state_after`) so it can be tested and explained:

============================  ===============================================================
disposition                   lead afterwards
============================  ===============================================================
booked, not_interested,       ``completed`` (final)
wrong_person
dnc                           ``dnc`` (final; written by the DNC service the moment it is asked)
callback                      ``waiting`` until the callback is due (callbacks the prospect asked
                              for are placed even past ``max_attempts``)
not_now, machine, no_answer,  ``waiting`` for ``retry_delay_seconds`` while attempts remain,
busy, failed, canceled,       else ``exhausted`` (final)
agent_error
skipped_compliance            ``waiting`` until ``next_allowed_at`` when only time rules blocked,
                              else ``blocked`` (final)
============================  ===============================================================

An attempt can collect several dispositions (the agent logs ``booked``; a DNC request follows);
the strongest one decides (:data:`PRECEDENCE`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.audit import record_event
from dialer.models import (
    CallAttempt,
    Callback,
    CallbackStatus,
    Campaign,
    Disposition,
    DispositionName,
    DispositionSource,
    Lead,
    LeadStatus,
)

PRECEDENCE: tuple[DispositionName, ...] = (
    DispositionName.DNC,
    DispositionName.BOOKED,
    DispositionName.CALLBACK,
    DispositionName.NOT_INTERESTED,
    DispositionName.WRONG_PERSON,
    DispositionName.NOT_NOW,
    DispositionName.MACHINE,
    DispositionName.BUSY,
    DispositionName.NO_ANSWER,
    DispositionName.FAILED,
    DispositionName.CANCELED,
    DispositionName.AGENT_ERROR,
    DispositionName.SKIPPED_COMPLIANCE,
)
_FINAL_COMPLETED = {DispositionName.BOOKED, DispositionName.NOT_INTERESTED, DispositionName.WRONG_PERSON}
_RETRYABLE = {
    DispositionName.NOT_NOW,
    DispositionName.MACHINE,
    DispositionName.NO_ANSWER,
    DispositionName.BUSY,
    DispositionName.FAILED,
    DispositionName.CANCELED,
    DispositionName.AGENT_ERROR,
}


def strongest(names: list[DispositionName]) -> DispositionName | None:
    """The disposition that decides the lead's fate among ``names`` (None for an empty list)."""
    if not names:
        return None
    return min(names, key=PRECEDENCE.index)


def lead_state_after(
    disposition: DispositionName,
    *,
    attempt_count: int,
    max_attempts: int,
    retry_delay_seconds: int,
    now: datetime,
    callback_due_at: datetime | None = None,
    next_allowed_at: datetime | None = None,
) -> tuple[LeadStatus, datetime | None]:
    """The lead's status and next dial time (UTC) after ``disposition``; see the module table.

    Args:
        attempt_count: calls already placed to the lead, this one included.
        callback_due_at: due time of the lead's pending callback (for ``callback``).
        next_allowed_at: when a time-only gate block lifts (for ``skipped_compliance``).
    """
    if disposition == DispositionName.DNC:
        return LeadStatus.DNC, None
    if disposition in _FINAL_COMPLETED:
        return LeadStatus.COMPLETED, None
    if disposition == DispositionName.CALLBACK:
        if callback_due_at is None:
            return LeadStatus.COMPLETED, None
        return LeadStatus.WAITING, callback_due_at
    if disposition == DispositionName.SKIPPED_COMPLIANCE:
        if next_allowed_at is None:
            return LeadStatus.BLOCKED, None
        return LeadStatus.WAITING, next_allowed_at
    if disposition in _RETRYABLE and attempt_count < max_attempts:
        return LeadStatus.WAITING, now + timedelta(seconds=retry_delay_seconds)
    return LeadStatus.EXHAUSTED, None


def record_disposition(
    session: Session,
    *,
    lead: Lead,
    name: DispositionName,
    source: DispositionSource,
    now: datetime,
    attempt: CallAttempt | None = None,
    notes: str = "",
    gate_decision_id: int | None = None,
) -> Disposition:
    """Store a disposition and its audit event; the lead's status is settled separately.

    Returns:
        The new disposition row (flushed).
    """
    disposition = Disposition(
        campaign_id=lead.campaign_id,
        lead_id=lead.id,
        attempt_id=attempt.id if attempt is not None else None,
        gate_decision_id=gate_decision_id,
        name=name,
        source=source,
        notes=notes,
        recorded_at=now,
    )
    session.add(disposition)
    session.flush()
    lead.last_disposition = name
    record_event(
        session,
        kind="disposition",
        occurred_at=now,
        actor=str(source),
        campaign_id=lead.campaign_id,
        lead_id=lead.id,
        attempt_id=disposition.attempt_id,
        payload={
            "disposition": name,
            "source": source,
            "notes": notes,
            "call_sid": attempt.call_sid if attempt is not None else None,
            "gate_decision_id": gate_decision_id,
        },
    )
    return disposition


def record_attempt_disposition(
    session: Session,
    *,
    attempt_id: int,
    name: DispositionName,
    source: DispositionSource,
    now: datetime,
    notes: str = "",
) -> Disposition:
    """:func:`record_disposition` for an attempt given by id (its lead is looked up)."""
    attempt = session.get_one(CallAttempt, attempt_id)
    lead = session.get_one(Lead, attempt.lead_id)
    return record_disposition(
        session, lead=lead, attempt=attempt, name=name, source=source, now=now, notes=notes
    )


def attempt_dispositions(session: Session, *, attempt_id: int) -> list[DispositionName]:
    """Names of the dispositions recorded on an attempt, oldest first."""
    rows = session.scalars(
        select(Disposition.name).where(Disposition.attempt_id == attempt_id).order_by(Disposition.id)
    ).all()
    return [DispositionName(r) for r in rows]


def settle_lead(
    session: Session, *, lead: Lead, campaign: Campaign, decisive: DispositionName, now: datetime
) -> None:
    """Apply :func:`lead_state_after` to ``lead`` (a lead already on DNC stays there)."""
    if lead.status == LeadStatus.DNC:
        return
    callback_due = None
    if decisive == DispositionName.CALLBACK:
        callback_due = session.scalar(
            select(Callback.due_at)
            .where(Callback.lead_id == lead.id, Callback.status == CallbackStatus.PENDING)
            .order_by(Callback.due_at)
            .limit(1)
        )
    status, next_at = lead_state_after(
        decisive,
        attempt_count=lead.attempt_count,
        max_attempts=campaign.max_attempts,
        retry_delay_seconds=campaign.retry_delay_seconds,
        now=now,
        callback_due_at=callback_due,
    )
    lead.status = status
    lead.next_attempt_at = next_at
    lead.queued_at = None
