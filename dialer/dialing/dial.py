"""The dial step: take capacity, then gate and create the attempt, then place the call at once.

Decide after the wait (issue 7): the task first takes a pacing slot and a concurrency lease
(:mod:`dialer.calls.capacity`, a bounded wait; without one in time the lead goes back to the
hopper), then, in ONE transaction with the lead row locked (``SELECT ... FOR UPDATE``), reads
fresh facts, evaluates the gate (DESIGN rule 2), stores the decision and creates the attempt, and
after commit sends the request at once. A DNC request, a revocation or a closing calling window
that commits while the task waits for its slot therefore blocks the call. A slot the gate did not
use is given back.

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
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import redis
from sqlalchemy import bindparam, case, func, select, text, update
from sqlalchemy.orm import Session

from dialer.audit import record_attempt_event
from dialer.calls.capacity import UNLIMITED, Capacity, Lease, acquire
from dialer.calls.capacity_stores import LocalCapacity
from dialer.calls.carrier import PlaceCallRequest
from dialer.calls.reconcile import fail_attempt
from dialer.db import lock_for_update, transaction
from dialer.dialing.attempt import call_request, create_attempt, skip_blocked
from dialer.dialing.gate import decide_and_record
from dialer.dialing.hopper import active_attempts
from dialer.errors import CarrierError, CarrierUnavailableError
from dialer.models import (
    AttemptStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    Campaign,
    CampaignStatus,
    Lead,
    LeadStatus,
)
from dialer.registry import registry_store

if TYPE_CHECKING:
    from dialer.runtime import Runtime

log = logging.getLogger(__name__)

_UNPACED = LocalCapacity()
"""Used when a runtime names no capacity (tests' hand-built runtimes): no CPS limit."""


class DialResult(StrEnum):
    """What one execution of the dial task did."""

    NOT_QUEUED = "not_queued"
    CAMPAIGN_NOT_RUNNING = "campaign_not_running"
    AT_CAPACITY = "at_capacity"
    SLOT_EXPIRED = "slot_expired"
    BLOCKED = "blocked"
    PLACED = "placed"
    CARRIER_REFUSED = "carrier_refused"
    OUTCOME_UNKNOWN = "outcome_unknown"


@dataclass(frozen=True)
class _Prepared:
    attempt_id: int
    campaign_id: int
    lead_id: int
    request: PlaceCallRequest

    @property
    def id(self) -> int:  # the audit log's attempt-like shape
        return self.attempt_id


def _release(lead: Lead) -> None:
    lead.status = LeadStatus.PENDING if lead.attempt_count == 0 else LeadStatus.WAITING
    lead.queued_at = None


# Built once (bound per dial): building and cache-keying statements is a dial's dearest CPU.
_CALLBACK_PENDING = (
    select(Callback.id).where(Callback.lead_id == Lead.id, Callback.status == CallbackStatus.PENDING).exists()
)
"""Whether a callback waits: read with the lock, so a lead without one needs no ``UPDATE``."""
_LOCK_QUERY = (
    select(Lead, Campaign, _CALLBACK_PENDING)
    .join(Campaign, Campaign.id == Lead.campaign_id)
    .where(Lead.id == bindparam("lead_id"))
)
_LOCK_LEAD = _LOCK_QUERY.with_for_update(of=[Lead])
_LOCK_LEAD_AND_CAMPAIGN = _LOCK_QUERY.with_for_update(of=[Lead, Campaign])
_PEEK = (
    select(Lead.status, Campaign.id, Campaign.caller_id, Campaign.max_concurrent_calls)
    .join(Campaign, Campaign.id == Lead.campaign_id)
    .where(Lead.id == bindparam("lead_id"))
)
_STORE_SID = (
    update(CallAttempt)
    .where(CallAttempt.id == bindparam("attempt_id"))
    .values(
        call_sid=func.coalesce(CallAttempt.call_sid, bindparam("sid")),
        status=case(
            (CallAttempt.status == AttemptStatus.REQUESTING, AttemptStatus.QUEUED.value),
            else_=CallAttempt.status,
        ),
    )
    .execution_options(synchronize_session=False)
)


def _prepare(
    session: Session, runtime: Runtime, *, lead_id: int, capacity: Capacity
) -> DialResult | _Prepared:
    """Lock the lead, gate it on fresh facts and create its attempt (the caller commits)."""
    if session.get_bind().dialect.name == "sqlite":
        query = _LOCK_QUERY
    else:
        # Without leases the campaign row serialises its dials' counts; with them only the lead is locked.
        query = _LOCK_LEAD_AND_CAMPAIGN if capacity.counts_in_database else _LOCK_LEAD
    row = session.execute(query, {"lead_id": lead_id}).one_or_none()
    if row is None or row[0].status != LeadStatus.QUEUED:
        return DialResult.NOT_QUEUED
    lead, campaign, has_pending_callback = row
    if campaign.status != CampaignStatus.RUNNING:
        _release(lead)
        return DialResult.CAMPAIGN_NOT_RUNNING
    if capacity.counts_in_database and _at_capacity(session, campaign, capacity):
        _release(lead)
        return DialResult.AT_CAPACITY
    now = runtime.clock.now()  # after the lock: the gate judges the moment the call is placed
    decision, record = decide_and_record(
        session, lead=lead, campaign=campaign, now=now, registry=registry_store(runtime.settings)
    )
    if not decision.allowed:
        skip_blocked(session, lead, campaign, decision, record.id, now)
        return DialResult.BLOCKED
    attempt = create_attempt(session, lead, campaign, record.id, now)
    if has_pending_callback:  # the due ones are done: this call is the callback
        session.execute(
            update(Callback)
            .where(
                Callback.lead_id == lead.id, Callback.status == CallbackStatus.PENDING, Callback.due_at <= now
            )
            .values(status=CallbackStatus.DONE)
            .execution_options(synchronize_session=False)
        )
    request = call_request(runtime, attempt, campaign)
    return _Prepared(attempt_id=attempt.id, campaign_id=campaign.id, lead_id=lead.id, request=request)


def _at_capacity(session: Session, campaign: Campaign, capacity: Capacity) -> bool:
    if active_attempts(session, campaign_id=campaign.id) >= campaign.max_concurrent_calls:
        return True
    total = capacity.limits.total_concurrent
    return total >= 0 and active_attempts(session) >= total


def _peek(runtime: Runtime, lead_id: int) -> tuple[int, str, int] | None:
    """``(campaign id, caller ID, campaign cap)`` of a queued lead, read without locks; else None."""
    query, params = _PEEK, {"lead_id": lead_id}
    engine = runtime.sessions.kw.get("bind")
    if engine is not None and engine.dialect.name == "postgresql":
        # One autocommit read: no BEGIN/COMMIT round trips, no locks.
        with engine.connect() as connection:
            row = (
                connection.execution_options(isolation_level="AUTOCOMMIT")
                .execute(query, params)
                .one_or_none()
            )
    else:
        with runtime.sessions() as session:
            row = session.execute(query, params).one_or_none()
    if row is None or row[0] != LeadStatus.QUEUED:
        return None
    return row[1], row[2], row[3]


def _give_lead_back(runtime: Runtime, lead_id: int) -> None:
    """No capacity in time: the claimed lead returns to the hopper (its next tick claims it again)."""
    with transaction(runtime.sessions) as session:
        lead = session.scalars(lock_for_update(select(Lead).where(Lead.id == lead_id), session)).one_or_none()
        if lead is not None and lead.status == LeadStatus.QUEUED:
            _release(lead)


def _give_back(capacity: Capacity, lease: Lease) -> None:
    try:
        capacity.give_back(lease)
    except redis.RedisError as exc:  # the slot and lease expire on their own
        log.warning("could not give back lease %s: %s", lease.member, exc)


def _mark_sent(capacity: Capacity, lease: Lease, *, attempt_id: int) -> bool:
    """Stamp the slot; if Redis fails now, send anyway: the slot was granted and is still held."""
    try:
        return capacity.mark_sent(lease, attempt_id=attempt_id)
    except redis.RedisError as exc:
        log.warning(
            "could not stamp the slot of attempt %s (sending on the granted slot): %s", attempt_id, exc
        )
        return True


def dial_lead(runtime: Runtime, *, lead_id: int) -> DialResult:
    """Take capacity, gate the claimed lead and, if allowed, place exactly one call for a new attempt.

    Order (see the module docstring): pacing slot + concurrency lease (waits at most
    ``settings.slot_wait_seconds``; none in time -> the lead goes back, ``AT_CAPACITY``), then one
    transaction with the lead locked (gate, decision, attempt), then the request at once. Safe to
    run any number of times for the same lead id.

    Raises:
        Nothing for carrier failures: they are recorded on the attempt and its lead.
    """
    capacity = runtime.capacity or _UNPACED
    peeked = _peek(runtime, lead_id)
    if peeked is None:
        return DialResult.NOT_QUEUED
    campaign_id, caller_id, campaign_limit = peeked
    try:
        lease = acquire(
            capacity,
            campaign_id=campaign_id,
            caller_id=caller_id,
            campaign_limit=UNLIMITED if capacity.counts_in_database else campaign_limit,
            timeout_s=runtime.settings.slot_wait_seconds,
        )
    except redis.RedisError as exc:  # Redis down or restarting: nothing decided yet, try again later
        log.warning("no capacity for lead %s, Redis failed: %s; the lead goes back", lead_id, exc)
        lease = None
    if lease is None:
        _give_lead_back(runtime, lead_id)
        return DialResult.AT_CAPACITY
    try:
        with transaction(runtime.sessions) as session:
            prepared = _prepare(session, runtime, lead_id=lead_id, capacity=capacity)
    except BaseException:
        _give_back(capacity, lease)
        raise
    if isinstance(prepared, DialResult):
        _give_back(capacity, lease)
        return prepared
    if not _mark_sent(capacity, lease, attempt_id=prepared.attempt_id):
        fail_attempt(
            runtime,
            attempt_id=prepared.attempt_id,
            error=None,
            note="the pacing slot expired before the request could be sent; nothing was sent",
        )
        return DialResult.SLOT_EXPIRED
    try:
        placed = runtime.carrier.place_call(prepared.request)
    except CarrierUnavailableError as exc:
        _mark_unknown_outcome(runtime, attempt_id=prepared.attempt_id, error=exc)
        return DialResult.OUTCOME_UNKNOWN
    except CarrierError as exc:
        fail_attempt(runtime, attempt_id=prepared.attempt_id, error=exc)
        return DialResult.CARRIER_REFUSED
    with transaction(runtime.sessions) as session:
        if session.get_bind().dialect.name == "postgresql":
            # Losing this commit in a crash is safe (reconciliation adopts the call by its number),
            # so it need not wait for the WAL flush.
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        # One guarded UPDATE: a status callback may already have stored the CallSid and moved on.
        session.execute(_STORE_SID, {"attempt_id": prepared.attempt_id, "sid": placed.sid})
        record_attempt_event(
            session,
            attempt=prepared,
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
