"""Reconciling attempts with the carrier when our view of a call is incomplete.

Two cases, both run by the scheduler tick:

- an attempt stuck in ``requesting``: the REST request's outcome is unknown (the worker died, the
  response was lost). A matching call at the carrier is adopted; otherwise the attempt is given
  up as ``unknown``. The request is never sent again (one call per attempt).
- an attempt whose call should long have ended (ring time + call time limit + a margin) but whose
  terminal status callback never arrived: the carrier is asked for the call's status, which is
  applied like a callback, so the attempt ends, its lead is settled and its concurrency slot is
  released.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dialer.audit import record_attempt_event
from dialer.calls import CallStatusUpdate, apply_call_status
from dialer.db import lock_for_update, transaction
from dialer.dialing import fail_attempt
from dialer.errors import CarrierError
from dialer.models import ACTIVE_ATTEMPT_STATUSES, AttemptStatus, CallAttempt
from dialer.runtime import Runtime

RECONCILE_AFTER = timedelta(seconds=60)
"""A ``requesting`` attempt older than this is reconciled with the carrier."""
LATE_MARGIN = timedelta(minutes=5)
"""Slack beyond ring time + call time limit before an unfinished call is looked up."""


def reconcile_requesting_attempts(runtime: Runtime) -> int:
    """Resolve attempts stuck in ``requesting`` (unknown REST outcome); return how many were resolved.

    A call to the attempt's number created after the attempt, and not owned by another attempt,
    is adopted; otherwise the attempt is given up as ``unknown`` (its lead follows the retry
    policy with a fresh gate decision). The request itself is never sent again.
    """
    now = runtime.clock.now()
    with runtime.sessions() as session:
        stuck = session.scalars(
            select(CallAttempt.id).where(
                CallAttempt.status == AttemptStatus.REQUESTING,
                CallAttempt.call_sid.is_(None),
                CallAttempt.requested_at < now - RECONCILE_AFTER,
            )
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
    """Look up calls that should have ended but never reported it; return how many were closed."""
    settings = runtime.settings
    now = runtime.clock.now()
    overdue_before = (
        now
        - timedelta(seconds=settings.ring_timeout_seconds + settings.call_time_limit_seconds)
        - LATE_MARGIN
    )
    with runtime.sessions() as session:
        overdue = session.execute(
            select(CallAttempt.id, CallAttempt.call_sid).where(
                CallAttempt.status.in_(list(ACTIVE_ATTEMPT_STATUSES - {AttemptStatus.REQUESTING})),
                CallAttempt.call_sid.is_not(None),
                CallAttempt.requested_at < overdue_before,
            )
        ).all()
    closed = 0
    for attempt_id, call_sid in overdue:
        try:
            call = runtime.carrier.fetch_call(call_sid)
        except CarrierError:
            continue
        if call is None:
            fail_attempt(
                runtime,
                attempt_id=attempt_id,
                error=None,
                status=AttemptStatus.UNKNOWN,
                note=f"the carrier no longer knows call {call_sid} and no final status arrived",
            )
            closed += 1
            continue
        try:
            status = AttemptStatus.from_twilio(call.status)
        except ValueError:
            continue
        if not status.is_final:
            continue
        with transaction(runtime.sessions) as session:
            applied = apply_call_status(
                session,
                attempt_id=attempt_id,
                update_=CallStatusUpdate(
                    call_sid=call_sid,
                    status=status,
                    sequence_number=None,
                    duration_seconds=call.duration_seconds,
                ),
                now=runtime.clock.now(),
            )
            if applied:
                record_attempt_event(
                    session,
                    attempt=session.get_one(CallAttempt, attempt_id),
                    kind="call.reconciled",
                    occurred_at=runtime.clock.now(),
                    payload={
                        "call_sid": call_sid,
                        "carrier_status": call.status,
                        "reason": "final status callback never arrived",
                    },
                )
                closed += 1
    return closed
