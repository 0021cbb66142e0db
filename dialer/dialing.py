"""Placing calls: claim dialable leads (the tick) and dial one lead (the dial task).

One call per attempt (DESIGN rule 3) rests on three guards:

1. The tick claims a lead by moving it ``pending|waiting -> queued`` under ``FOR UPDATE SKIP
   LOCKED``; the dial task only proceeds for a ``queued`` lead it has locked, and moves it to
   ``in_progress`` in the same transaction that creates the attempt. A task delivered twice
   finds the lead no longer ``queued`` and does nothing.
2. The attempt is created in state ``requesting`` and the REST request is sent only by the task
   execution that created it, after commit. Nothing ever re-sends a ``requesting`` attempt: if
   the outcome of the request is unknown (worker died, transport error), reconciliation looks the
   call up at the carrier and adopts it, or gives the attempt up as ``unknown``.
3. The CallSid is stored with ``call_sid IS NULL`` guards, and status callbacks find the attempt
   by the id in their URL.

The gate is evaluated inside the transaction that creates the attempt, with the lead row locked
(DESIGN rule 2), on facts read after the lock was taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dialer.audit import record_attempt_event, record_event
from dialer.carrier import PlaceCallRequest
from dialer.db import lock_for_update, transaction
from dialer.errors import CarrierError, CarrierUnavailableError
from dialer.gate import decide_and_record
from dialer.models import (
    ACTIVE_ATTEMPT_STATUSES,
    FINAL_LEAD_STATUSES,
    AttemptStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    Campaign,
    CampaignStatus,
    DispositionName,
    DispositionSource,
    Lead,
    LeadStatus,
)
from dialer.outcomes import lead_state_after, record_disposition, settle_lead
from dialer.registry import registry_store
from dialer.runtime import Runtime


def active_attempts(session: Session, *, campaign_id: int) -> int:
    """Attempts of a campaign whose call has not ended (they hold a concurrency slot)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(CallAttempt)
            .where(
                CallAttempt.campaign_id == campaign_id, CallAttempt.status.in_(list(ACTIVE_ATTEMPT_STATUSES))
            )
        )
        or 0
    )


def claim_dialable_leads(session: Session, *, now: datetime, requeue_after: timedelta) -> list[int]:
    """Claim leads to dial now, per running campaign, within its concurrency cap.

    Dialable: ``pending`` or ``waiting`` with ``next_attempt_at`` unset or past. Claimed leads
    become ``queued``. Each running campaign's row is locked, so overlapping ticks count each
    other's claims and never exceed the cap together; lead rows locked by anyone else (a DNC
    update, a dial task) are skipped, not waited for. Leads ``queued`` longer than
    ``requeue_after`` (their task was lost) are returned again; the dial task is idempotent.
    Runs in the caller's transaction; enqueue the returned ids only after it commits.

    Returns:
        Lead ids to enqueue dial tasks for.
    """
    claimed: list[int] = []
    running = lock_for_update(
        select(Campaign).where(Campaign.status == CampaignStatus.RUNNING).order_by(Campaign.id), session
    )
    for campaign in session.scalars(running).all():
        queued = (
            session.scalar(
                select(func.count())
                .select_from(Lead)
                .where(Lead.campaign_id == campaign.id, Lead.status == LeadStatus.QUEUED)
            )
            or 0
        )
        stale = session.scalars(
            lock_for_update(
                select(Lead).where(
                    Lead.campaign_id == campaign.id,
                    Lead.status == LeadStatus.QUEUED,
                    Lead.queued_at < now - requeue_after,
                ),
                session,
                skip_locked=True,
            )
        ).all()
        for lead in stale:
            lead.queued_at = now
            claimed.append(lead.id)
        room = campaign.max_concurrent_calls - active_attempts(session, campaign_id=campaign.id) - queued
        if room <= 0:
            continue
        leads = session.scalars(
            lock_for_update(
                select(Lead)
                .where(
                    Lead.campaign_id == campaign.id,
                    Lead.status.in_([LeadStatus.PENDING, LeadStatus.WAITING]),
                    or_(Lead.next_attempt_at.is_(None), Lead.next_attempt_at <= now),
                )
                .order_by(Lead.next_attempt_at.is_not(None), Lead.next_attempt_at, Lead.id)
                .limit(room),
                session,
                skip_locked=True,
            )
        ).all()
        for lead in leads:
            lead.status = LeadStatus.QUEUED
            lead.queued_at = now
            claimed.append(lead.id)
    return claimed


def complete_finished_campaigns(session: Session, *, now: datetime) -> list[int]:
    """Mark running campaigns whose every lead is final as ``completed``; return their ids."""
    done: list[int] = []
    for campaign in session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.RUNNING)):
        open_leads = (
            session.scalar(
                select(func.count())
                .select_from(Lead)
                .where(
                    Lead.campaign_id == campaign.id,
                    Lead.status.not_in(list(FINAL_LEAD_STATUSES)),
                )
            )
            or 0
        )
        if open_leads == 0 and active_attempts(session, campaign_id=campaign.id) == 0:
            campaign.status = CampaignStatus.COMPLETED
            record_event(
                session,
                kind="campaign.status",
                occurred_at=now,
                campaign_id=campaign.id,
                payload={"from": CampaignStatus.RUNNING, "to": CampaignStatus.COMPLETED},
            )
            done.append(campaign.id)
    return done


class DialResult(StrEnum):
    """What one execution of the dial task did."""

    NOT_QUEUED = "not_queued"
    CAMPAIGN_NOT_RUNNING = "campaign_not_running"
    AT_CAPACITY = "at_capacity"
    BLOCKED = "blocked"
    PLACED = "placed"
    CARRIER_REFUSED = "carrier_refused"
    OUTCOME_UNKNOWN = "outcome_unknown"


@dataclass(frozen=True)
class _Prepared:
    attempt_id: int
    request: PlaceCallRequest


def _release(lead: Lead) -> None:
    lead.status = LeadStatus.PENDING if lead.attempt_count == 0 else LeadStatus.WAITING
    lead.queued_at = None


def _prepare(session: Session, runtime: Runtime, *, lead_id: int) -> DialResult | _Prepared:
    lead = session.scalars(lock_for_update(select(Lead).where(Lead.id == lead_id), session)).one_or_none()
    if lead is None or lead.status != LeadStatus.QUEUED:
        return DialResult.NOT_QUEUED
    campaign = session.scalars(
        lock_for_update(select(Campaign).where(Campaign.id == lead.campaign_id), session)
    ).one()
    if campaign.status != CampaignStatus.RUNNING:
        _release(lead)
        return DialResult.CAMPAIGN_NOT_RUNNING
    if active_attempts(session, campaign_id=campaign.id) >= campaign.max_concurrent_calls:
        _release(lead)
        return DialResult.AT_CAPACITY
    now = runtime.clock.now()
    decision, record = decide_and_record(
        session, lead=lead, campaign=campaign, now=now, registry=registry_store(runtime.settings)
    )
    if not decision.allowed:
        record_disposition(
            session,
            lead=lead,
            name=DispositionName.SKIPPED_COMPLIANCE,
            source=DispositionSource.SYSTEM,
            now=now,
            notes=", ".join(str(r) for r in decision.reason_codes),
            gate_decision_id=record.id,
        )
        lead.status, lead.next_attempt_at = lead_state_after(
            DispositionName.SKIPPED_COMPLIANCE,
            attempt_count=lead.attempt_count,
            max_attempts=campaign.max_attempts,
            retry_delay_seconds=campaign.retry_delay_seconds,
            now=now,
            next_allowed_at=decision.next_allowed_at,
        )
        lead.queued_at = None
        return DialResult.BLOCKED
    attempt = CallAttempt(
        campaign_id=campaign.id,
        lead_id=lead.id,
        gate_decision_id=record.id,
        attempt_number=lead.attempt_count + 1,
        status=AttemptStatus.REQUESTING,
        to_e164=lead.phone_e164,
        from_e164=campaign.caller_id,
        requested_at=now,
    )
    session.add(attempt)
    session.flush()
    lead.attempt_count += 1
    lead.status = LeadStatus.IN_PROGRESS
    lead.queued_at = None
    for callback in session.scalars(
        select(Callback).where(
            Callback.lead_id == lead.id, Callback.status == CallbackStatus.PENDING, Callback.due_at <= now
        )
    ):
        callback.status = CallbackStatus.DONE
    record_attempt_event(
        session,
        attempt=attempt,
        kind="call.attempt_created",
        occurred_at=now,
        payload={
            "attempt_number": attempt.attempt_number,
            "gate_decision_id": record.id,
            "to": attempt.to_e164,
            "from": attempt.from_e164,
        },
    )
    request = PlaceCallRequest(
        to=attempt.to_e164,
        from_=attempt.from_e164,
        twiml_url=runtime.webhook_url("/twilio/voice", attempt=attempt.id),
        status_callback_url=runtime.webhook_url("/twilio/status", attempt=attempt.id),
        amd_callback_url=runtime.webhook_url("/twilio/amd", attempt=attempt.id),
        record=campaign.record_calls,
        ring_timeout_seconds=runtime.settings.ring_timeout_seconds,
        machine_detection_timeout_seconds=runtime.settings.machine_detection_timeout_seconds,
        time_limit_seconds=runtime.settings.call_time_limit_seconds,
    )
    return _Prepared(attempt_id=attempt.id, request=request)


def dial_lead(runtime: Runtime, *, lead_id: int) -> DialResult:
    """Run the gate for a claimed lead and, if allowed, place exactly one call for a new attempt.

    Safe to run any number of times for the same lead id (see the module docstring).

    Raises:
        Nothing for carrier failures: they are recorded on the attempt and its lead.
    """
    with transaction(runtime.sessions) as session:
        prepared = _prepare(session, runtime, lead_id=lead_id)
    if isinstance(prepared, DialResult):
        return prepared
    runtime.pacer.wait_for_slot()
    try:
        placed = runtime.carrier.place_call(prepared.request)
    except CarrierUnavailableError as exc:
        _mark_unknown_outcome(runtime, attempt_id=prepared.attempt_id, error=exc)
        return DialResult.OUTCOME_UNKNOWN
    except CarrierError as exc:
        fail_attempt(runtime, attempt_id=prepared.attempt_id, error=exc)
        return DialResult.CARRIER_REFUSED
    with transaction(runtime.sessions) as session:
        attempt = session.scalars(
            lock_for_update(select(CallAttempt).where(CallAttempt.id == prepared.attempt_id), session)
        ).one()
        if attempt.call_sid is None:
            attempt.call_sid = placed.sid
        if attempt.status == AttemptStatus.REQUESTING:
            attempt.status = AttemptStatus.QUEUED
        record_attempt_event(
            session,
            attempt=attempt,
            kind="call.placed",
            occurred_at=runtime.clock.now(),
            payload={"call_sid": placed.sid, "carrier_status": placed.status},
        )
    return DialResult.PLACED


def _mark_unknown_outcome(runtime: Runtime, *, attempt_id: int, error: CarrierError) -> None:
    """Leave the attempt ``requesting`` for reconciliation; never re-send it."""
    with transaction(runtime.sessions) as session:
        attempt = session.get_one(CallAttempt, attempt_id)
        attempt.error_code = str(error.code or error.http_status or "transport")
        attempt.error_message = error.message
        record_attempt_event(
            session,
            attempt=attempt,
            kind="call.request_outcome_unknown",
            occurred_at=runtime.clock.now(),
            payload={"error": error.message},
        )


def fail_attempt(
    runtime: Runtime,
    *,
    attempt_id: int,
    error: CarrierError | None,
    status: AttemptStatus = AttemptStatus.FAILED,
    note: str | None = None,
) -> None:
    """End an attempt that produced no call (or none we can find) with the ``failed`` disposition."""
    with transaction(runtime.sessions) as session:
        attempt = session.scalars(
            lock_for_update(select(CallAttempt).where(CallAttempt.id == attempt_id), session)
        ).one()
        if attempt.status.is_final:
            return
        now = runtime.clock.now()
        attempt.status = status
        attempt.ended_at = now
        if error is not None:
            attempt.error_code = str(error.code or error.http_status or "")
            attempt.error_message = error.message
        lead = session.get_one(Lead, attempt.lead_id)
        campaign = session.get_one(Campaign, attempt.campaign_id)
        record_disposition(
            session,
            lead=lead,
            attempt=attempt,
            name=DispositionName.FAILED,
            source=DispositionSource.SYSTEM,
            now=now,
            notes=note or (error.message if error else ""),
        )
        settle_lead(session, lead=lead, campaign=campaign, decisive=DispositionName.FAILED, now=now)
