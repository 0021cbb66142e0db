"""Reconciling attempts with the carrier when our view of a call is incomplete.

Two cases, both run by the scheduler tick:

- an attempt stuck in ``requesting``: the REST request's outcome is unknown (the worker died, the
  response was lost). A matching call at the carrier is adopted; otherwise the attempt is given
  up as ``unknown``. The request is never sent again (one call per attempt).
- a live attempt (``queued``, ``ringing``, ``in_progress``) not heard from for
  ``reconcile_silent_after_seconds`` (default 60 s; its ``updated_at``, the database write time,
  moves with every callback applied): the carrier is asked for the call (REST ``GET
  /Calls/{sid}.json``) and its answer goes through :func:`dialer.calls.attempts.apply_call_status`, the
  path every status callback takes. So a lost final callback ends the attempt, settles its lead
  and frees its concurrency slot about a minute after the call ended, not after ring time + the
  call time limit. A call the carrier still reports live is marked as heard from and looked up
  again a threshold later. At most ``reconcile_batch_size`` look-ups per tick, least recently heard
  from first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from dialer.audit import record_attempt_event
from dialer.calls.attempts import CallStatusUpdate, apply_call_status
from dialer.calls.capacity import release_after_commit
from dialer.calls.carrier import PlacedCall
from dialer.calls.outcomes import record_disposition, settle_lead
from dialer.db import lock_for_update, transaction
from dialer.errors import CarrierError
from dialer.models import (
    ACTIVE_ATTEMPT_STATUSES,
    AttemptStatus,
    CallAttempt,
    Campaign,
    DispositionName,
    DispositionSource,
    Lead,
)

if TYPE_CHECKING:
    from dialer.runtime import Runtime  # which builds this room's carrier and capacity: types only


def reconcile_requesting_attempts(runtime: Runtime) -> int:
    """Resolve attempts stuck in ``requesting`` (unknown REST outcome); return how many were resolved.

    A call to the attempt's number created after the attempt, and not owned by another attempt,
    is adopted; otherwise the attempt is given up as ``unknown`` (its lead follows the retry
    policy with a fresh gate decision). The request itself is never sent again.
    """
    now = runtime.clock.now()
    after = timedelta(seconds=runtime.settings.reconcile_requesting_after_seconds)
    with runtime.sessions() as session:
        stuck = session.scalars(
            select(CallAttempt.id)
            .where(
                CallAttempt.status == AttemptStatus.REQUESTING,
                CallAttempt.call_sid.is_(None),
                CallAttempt.requested_at < now - after,
            )
            .order_by(CallAttempt.requested_at)
            .limit(runtime.settings.reconcile_batch_size)
        ).all()
    resolved = 0
    for attempt_id in stuck:
        with runtime.sessions() as session:
            attempt = session.get_one(CallAttempt, attempt_id)
            # created_at is the database write time (the carrier's real clock), unlike requested_at,
            # which is on the product clock (shifted in sandbox rehearsals).
            to, since = attempt.to_e164, attempt.created_at - timedelta(seconds=5)
        try:
            candidates = runtime.carrier.calls_to(to, since=since)
        except CarrierError:
            continue
        with transaction(runtime.sessions) as session:
            sids = [c.sid for c in candidates]
            owned = set(session.scalars(select(CallAttempt.call_sid).where(CallAttempt.call_sid.in_(sids))))
            match = next((c for c in candidates if c.sid not in owned), None)
            attempt = session.scalars(
                lock_for_update(select(CallAttempt).where(CallAttempt.id == attempt_id), session)
            ).one()
            if attempt.status != AttemptStatus.REQUESTING or attempt.call_sid is not None:
                continue
            if match is not None:
                attempt.call_sid = match.sid
                attempt.status = AttemptStatus.QUEUED
                record_attempt_event(
                    session,
                    attempt=attempt,
                    kind="call.reconciled",
                    occurred_at=now,
                    payload={"adopted_call_sid": match.sid},
                )
                resolved += 1
                continue
        fail_attempt(
            runtime,
            attempt_id=attempt_id,
            error=None,
            status=AttemptStatus.UNKNOWN,
            note="the carrier has no record of the call request; it was not re-sent",
        )
        resolved += 1
    return resolved


def reconcile_overdue_calls(runtime: Runtime) -> int:
    """Ask the carrier about live attempts not heard from lately; return how many were closed.

    Silent: not final, with a CallSid, ``updated_at`` older than ``reconcile_silent_after_seconds``
    (real time: ``updated_at`` is the database write time). A call the carrier no longer knows is
    given up as ``unknown``; any other answer is applied as a status callback without a
    ``SequenceNumber`` (a no-op unless it moves the attempt forward). Carrier errors leave the
    attempt for the next tick.
    """
    silent_before = datetime.now(UTC) - timedelta(seconds=runtime.settings.reconcile_silent_after_seconds)
    closed = 0
    for attempt_id, call_sid in _silent_attempts(runtime, silent_before):
        if _reconcile_silent_call(
            runtime, attempt_id=attempt_id, call_sid=call_sid, silent_before=silent_before
        ):
            closed += 1
    return closed


def _silent_attempts(runtime: Runtime, silent_before: datetime) -> list[tuple[int, str]]:
    """Live attempts with a CallSid last written before ``silent_before``, least recently first.

    Returns:
        At most ``reconcile_batch_size`` ``(attempt id, CallSid)`` pairs.
    """
    with runtime.sessions() as session:
        rows = session.execute(
            select(CallAttempt.id, CallAttempt.call_sid)
            .where(
                CallAttempt.status.in_(list(ACTIVE_ATTEMPT_STATUSES - {AttemptStatus.REQUESTING})),
                CallAttempt.call_sid.is_not(None),
                CallAttempt.updated_at < silent_before,
            )
            .order_by(CallAttempt.updated_at)
            .limit(runtime.settings.reconcile_batch_size)
        ).all()
    return [(attempt_id, call_sid) for attempt_id, call_sid in rows if call_sid is not None]


def _reconcile_silent_call(
    runtime: Runtime, *, attempt_id: int, call_sid: str, silent_before: datetime
) -> bool:
    """Ask the carrier about one silent call and act on its answer; True if the attempt was closed.

    No such call at the carrier: the attempt is given up as ``unknown``. A carrier error or a status
    this code does not know leaves the attempt for the next tick (False).
    """
    try:
        call = runtime.carrier.fetch_call(call_sid)
    except CarrierError:
        return False
    if call is None:
        fail_attempt(
            runtime,
            attempt_id=attempt_id,
            error=None,
            status=AttemptStatus.UNKNOWN,
            note=f"the carrier no longer knows call {call_sid} and no final status arrived",
        )
        return True
    try:
        status = AttemptStatus.from_twilio(call.status)
    except ValueError:
        return False
    return _apply_carrier_status(
        runtime,
        attempt_id=attempt_id,
        call_sid=call_sid,
        call=call,
        status=status,
        silent_before=silent_before,
    )


def _apply_carrier_status(
    runtime: Runtime,
    *,
    attempt_id: int,
    call_sid: str,
    call: PlacedCall,
    status: AttemptStatus,
    silent_before: datetime,
) -> bool:
    """Apply the carrier's answer as a status callback without a ``SequenceNumber``, in one transaction.

    An applied answer is audited as ``call.reconciled``. An answer that changes nothing (the call is
    still live) marks the attempt as heard from now, so it is looked up again a threshold later.

    Returns:
        True if the answer was applied and is final (the attempt is closed).
    """
    with transaction(runtime.sessions) as session:
        now = runtime.clock.now()
        applied = apply_call_status(
            session,
            attempt_id=attempt_id,
            update_=CallStatusUpdate(
                call_sid=call_sid,
                status=status,
                sequence_number=None,
                duration_seconds=call.duration_seconds,
            ),
            now=now,
        )
        if applied:
            record_attempt_event(
                session,
                attempt=session.get_one(CallAttempt, attempt_id),
                kind="call.reconciled",
                occurred_at=now,
                payload={
                    "call_sid": call_sid,
                    "carrier_status": call.status,
                    "reason": "no status callback arrived for a while",
                },
            )
        else:
            # still live at the carrier: heard from now, so look again a threshold later
            session.execute(
                update(CallAttempt)
                .where(CallAttempt.id == attempt_id, CallAttempt.updated_at < silent_before)
                .values(updated_at=datetime.now(UTC))
                .execution_options(synchronize_session=False)
            )
    return applied and status.is_final


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
        release_after_commit(session, campaign_id=attempt.campaign_id, attempt_id=attempt.id)
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
