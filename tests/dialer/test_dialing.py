"""The dial path on real PostgreSQL: claim, gate at dial time, one call per attempt."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select

from dialer.calls import UNLIMITED, CapacityLimits, Lease, RedisCapacity
from dialer.calls.attempts import CallStatusUpdate, apply_call_status
from dialer.calls.capacity import SESSION_KEY
from dialer.calls.reconcile import reconcile_requesting_attempts
from dialer.db import session_factory, transaction
from dialer.dialing import DialResult, claim_dialable_leads, dial_lead
from dialer.errors import CarrierError, CarrierUnavailableError
from dialer.models import (
    AttemptStatus,
    AuditEvent,
    CallAttempt,
    Callback,
    CallbackStatus,
    Campaign,
    CampaignStatus,
    ConsentRevocation,
    Disposition,
    DncEntry,
    GateDecisionRecord,
    Lead,
    LeadStatus,
)
from tests.factories import create_campaign, create_lead

REQUEUE = timedelta(minutes=2)


def _claim(runtime) -> list[int]:
    with transaction(runtime.sessions) as s:
        return claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=REQUEUE)


def _setup(runtime, n=1, **campaign):
    with transaction(runtime.sessions) as s:
        c = create_campaign(s, **campaign)
        leads = [create_lead(s, c, phone=f"+1312555{101 + i:04d}") for i in range(n)]
        return c.id, [lead.id for lead in leads]


def test_claimed_lead_is_gated_and_dialed_once(runtime, carrier):
    _, (lead_id,) = _setup(runtime)
    assert _claim(runtime) == [lead_id]
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.PLACED
    assert len(carrier.placed) == 1
    request = carrier.placed[0]
    assert request.to == "+13125550101" and request.from_ == "+13125550199"
    with runtime.sessions() as s:
        attempt = s.scalars(select(CallAttempt)).one()
        assert request.twiml_url == f"https://dialer.example.com/twilio/voice?attempt={attempt.id}"
        assert request.amd_callback_url.endswith(f"/twilio/amd?attempt={attempt.id}")
        assert attempt.call_sid == carrier.existing[0].sid and attempt.status == AttemptStatus.QUEUED
        decision = s.get(GateDecisionRecord, attempt.gate_decision_id)
        assert decision.allowed and decision.reasons == []
        assert decision.facts["lead"]["phone_e164"] == "+13125550101"
        assert s.get(Lead, lead_id).status == LeadStatus.IN_PROGRESS
        kinds = s.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)).all()
        assert kinds == ["gate.decision", "call.attempt_created", "call.placed"]


def test_dialing_a_lead_closes_its_due_callback_and_keeps_a_later_one(runtime, carrier):
    campaign_id, (lead_id,) = _setup(runtime)
    now = runtime.clock.now()
    with transaction(runtime.sessions) as s:
        for due_at in (now - timedelta(minutes=5), now + timedelta(days=1)):
            s.add(
                Callback(
                    campaign_id=campaign_id,
                    lead_id=lead_id,
                    phone_e164="+13125550101",
                    due_at=due_at,
                    requested_text="later",
                    lead_timezone="America/Chicago",
                )
            )
    _claim(runtime)
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.PLACED
    with runtime.sessions() as s:
        statuses = s.execute(select(Callback.due_at, Callback.status).order_by(Callback.due_at)).all()
    assert [status for _, status in statuses] == [CallbackStatus.DONE, CallbackStatus.PENDING]


def test_dial_task_delivered_twice_places_one_call(runtime, carrier):
    _, (lead_id,) = _setup(runtime)
    _claim(runtime)
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.PLACED
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.NOT_QUEUED
    assert len(carrier.placed) == 1


def test_concurrent_executions_of_one_dial_task_place_one_call(runtime, carrier):
    """Eight workers receive the same message at once: the lead row lock lets exactly one through."""
    _, (lead_id,) = _setup(runtime)
    _claim(runtime)
    results: list[DialResult] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(dial_lead(runtime, lead_id=lead_id))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(DialResult.PLACED) == 1
    assert len(carrier.placed) == 1
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CallAttempt)) == 1


def test_lead_without_consent_is_skipped_and_blocked(runtime, carrier):
    with transaction(runtime.sessions) as s:
        c = create_campaign(s)
        lead_id = create_lead(s, c, consent=False).id
    _claim(runtime)
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.BLOCKED
    assert carrier.placed == []
    with runtime.sessions() as s:
        lead = s.get(Lead, lead_id)
        assert lead.status == LeadStatus.BLOCKED and lead.last_disposition == "skipped_compliance"
        disposition = s.scalars(select(Disposition)).one()
        assert disposition.name == "skipped_compliance" and disposition.notes == "CONSENT_MISSING"
        assert s.scalars(select(GateDecisionRecord.reasons)).one() == ["CONSENT_MISSING"]


def test_before_eight_local_the_lead_waits_for_the_window(runtime, carrier, clock):
    clock.at = clock.at.replace(hour=12, minute=59)  # 06:59 Chicago
    _, (lead_id,) = _setup(runtime)
    _claim(runtime)
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.BLOCKED
    with runtime.sessions() as s:
        lead = s.get(Lead, lead_id)
        assert lead.status == LeadStatus.WAITING
        # The federal window opens at 08:00, but Illinois' ADAD hours (815 ILCS 305, applied to AI
        # voice by CP-7) only at 09:00 Chicago.
        assert lead.next_attempt_at == clock.at.replace(hour=15, minute=0)
    clock.at = clock.at.replace(hour=15, minute=0)
    assert _claim(runtime) == [lead_id]
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.PLACED


def test_dnc_entry_committed_after_claim_blocks_the_dial(runtime, carrier, clock):
    """Decide at dial time: the claim happened before the opt-out, the dial after it."""
    _, (lead_id,) = _setup(runtime)
    _claim(runtime)
    with transaction(runtime.sessions) as s:
        s.add(
            DncEntry(phone_e164="+13125550101", source="cli", requested_at=clock.now() - timedelta(seconds=1))
        )
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.BLOCKED
    assert carrier.placed == []
    with runtime.sessions() as s:
        assert "DNC_INTERNAL" in s.scalars(select(GateDecisionRecord.reasons)).one()


def test_concurrency_cap_is_honoured(runtime, carrier):
    campaign_id, lead_ids = _setup(runtime, n=5, max_concurrent_calls=2)
    claimed = _claim(runtime)
    assert len(claimed) == 2 and _claim(runtime) == []
    for lead_id in claimed:
        dial_lead(runtime, lead_id=lead_id)
    assert _claim(runtime) == []
    with transaction(runtime.sessions) as s:
        attempt = s.scalars(select(CallAttempt).limit(1)).one()
        attempt.status = AttemptStatus.COMPLETED
    assert len(_claim(runtime)) == 1


def test_paused_campaign_releases_claimed_lead(runtime, carrier):
    campaign_id, (lead_id,) = _setup(runtime)
    _claim(runtime)
    with transaction(runtime.sessions) as s:
        s.get(Campaign, campaign_id).status = CampaignStatus.PAUSED
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.CAMPAIGN_NOT_RUNNING
    with runtime.sessions() as s:
        assert s.get(Lead, lead_id).status == LeadStatus.PENDING
    assert carrier.placed == []


def test_carrier_refusal_fails_the_attempt_and_schedules_a_retry(runtime, carrier, clock):
    _, (lead_id,) = _setup(runtime)
    _claim(runtime)
    carrier.fail_with = CarrierError("carrier refused (HTTP 400, code 21217)", code=21217, http_status=400)
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.CARRIER_REFUSED
    with runtime.sessions() as s:
        attempt = s.scalars(select(CallAttempt)).one()
        assert attempt.status == AttemptStatus.FAILED and attempt.error_code == "21217"
        lead = s.get(Lead, lead_id)
        assert lead.status == LeadStatus.WAITING and lead.next_attempt_at == clock.now() + timedelta(
            seconds=600
        )


def test_unknown_request_outcome_is_never_resent(runtime, carrier, clock):
    """A transport failure after sending: the call may exist. Reconcile; never send the attempt again."""
    _, (lead_id,) = _setup(runtime)
    _claim(runtime)
    carrier.fail_with = CarrierUnavailableError("carrier unreachable: connection reset")
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.OUTCOME_UNKNOWN
    assert dial_lead(runtime, lead_id=lead_id) == DialResult.NOT_QUEUED
    with runtime.sessions() as s:
        assert s.scalars(select(CallAttempt.status)).one() == AttemptStatus.REQUESTING
    assert reconcile_requesting_attempts(runtime) == 0  # too recent to judge
    clock.advance(minutes=2)
    assert reconcile_requesting_attempts(runtime) == 1
    assert len(carrier.placed) == 1
    with runtime.sessions() as s:
        assert s.scalars(select(CallAttempt.status)).one() == AttemptStatus.UNKNOWN
        assert s.get(Lead, lead_id).status == LeadStatus.WAITING


def test_reconciliation_adopts_the_call_the_carrier_did_create(runtime, carrier, clock):
    _, (lead_id,) = _setup(runtime)
    _claim(runtime)

    class Flaky:
        def __getattr__(self, name):
            return getattr(carrier, name)

        def place_call(self, request):
            carrier.fail_with = None
            carrier.place_call(request)  # the carrier got it...
            raise CarrierUnavailableError("read timeout")  # ...but the response was lost

    flaky_runtime = runtime.__class__(**{**runtime.__dict__, "carrier": Flaky()})
    assert dial_lead(flaky_runtime, lead_id=lead_id) == DialResult.OUTCOME_UNKNOWN
    clock.advance(minutes=2)
    assert reconcile_requesting_attempts(runtime) == 1
    with runtime.sessions() as s:
        attempt = s.scalars(select(CallAttempt)).one()
        assert attempt.call_sid == carrier.existing[0].sid and attempt.status == AttemptStatus.QUEUED
    assert len(carrier.placed) == 1


def test_lead_queued_too_long_is_claimed_again(runtime, carrier, clock):
    _, (lead_id,) = _setup(runtime)
    assert _claim(runtime) == [lead_id]
    assert _claim(runtime) == []
    clock.advance(minutes=3)
    assert _claim(runtime) == [lead_id]


class _WaitWatcher:
    """A real capacity that signals when a dial task starts waiting for its slot."""

    def __init__(self, inner):
        self.inner = inner
        self.waiting = threading.Event()
        self.counts_in_database = inner.counts_in_database

    @property
    def limits(self):
        return self.inner.limits

    def try_acquire(self, **kwargs):
        got = self.inner.try_acquire(**kwargs)
        if not isinstance(got, Lease):
            self.waiting.set()
        return got

    def take(self, **kwargs):
        got = self.inner.take(**kwargs)
        if not isinstance(got, list):
            self.waiting.set()
        return got

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _redis_capacity(redis_url, **limits):
    return RedisCapacity(
        redis.Redis.from_url(redis_url),
        CapacityLimits(**limits),
        key_prefix=f"test:{uuid.uuid4().hex}",
    )


def _with_capacity(runtime, capacity, **settings):
    return dataclasses.replace(
        runtime,
        capacity=capacity,
        settings=runtime.settings.model_copy(update=settings),
        sessions=session_factory(runtime.sessions.kw["bind"], info={SESSION_KEY: capacity}),
    )


def _dnc_request(now):
    return DncEntry(phone_e164="+13125550101", source="cli", requested_at=now - timedelta(seconds=1))


def _revocation(now):
    return ConsentRevocation(phone_e164="+13125550101", revoked_at=now - timedelta(seconds=1), channel="api")


@pytest.mark.parametrize(
    ("opt_out", "reason"),
    [(_dnc_request, "DNC_INTERNAL"), (_revocation, "CONSENT_REVOKED")],
    ids=["dnc", "revoked"],
)
def test_opt_out_committed_while_the_task_waits_for_its_slot_stops_the_call(
    runtime, carrier, clock, redis_url, opt_out, reason
):
    """Issue 7 item 1: the gate runs after the wait, so an opt-out made during it is honoured.

    Another dial holds the account's only CPS slot; the task waits for it; while it waits a DNC
    request (or a consent revocation) commits; the slot frees; the task gates on fresh facts and
    no call reaches the carrier.
    """
    _, (lead_id,) = _setup(runtime)
    _claim(runtime)
    capacity = _WaitWatcher(_redis_capacity(redis_url, account_cps=1))
    paced = _with_capacity(runtime, capacity, slot_wait_seconds=30.0)
    holder = capacity.try_acquire(campaign_id=0, caller_id="+13125550100", campaign_limit=UNLIMITED)
    assert isinstance(holder, Lease)
    results: list[DialResult] = []
    task = threading.Thread(target=lambda: results.append(dial_lead(paced, lead_id=lead_id)))
    task.start()
    assert capacity.waiting.wait(10), "the dial task never waited for a slot"
    with transaction(runtime.sessions) as s:
        s.add(opt_out(clock.now()))
    capacity.give_back(holder)
    task.join(30)
    assert results == [DialResult.BLOCKED]
    assert carrier.placed == []
    with runtime.sessions() as s:
        assert reason in s.scalars(select(GateDecisionRecord.reasons)).one()
        assert s.scalar(select(func.count()).select_from(CallAttempt)) == 0
    assert capacity.in_use(campaign_id=0) == (0, 0)  # the unused slot and lease were given back


def test_no_slot_in_time_sends_the_lead_back_to_the_hopper(runtime, carrier, redis_url):
    _, (lead_id,) = _setup(runtime)
    _claim(runtime)
    capacity = _redis_capacity(redis_url, account_cps=1)
    paced = _with_capacity(runtime, capacity, slot_wait_seconds=0.2)
    assert isinstance(capacity.try_acquire(campaign_id=0, caller_id="+1", campaign_limit=UNLIMITED), Lease)
    assert dial_lead(paced, lead_id=lead_id) == DialResult.AT_CAPACITY
    assert carrier.placed == []
    with runtime.sessions() as s:
        assert s.get(Lead, lead_id).status == LeadStatus.PENDING
    assert _claim(runtime) == [lead_id]


def test_final_status_releases_the_calls_lease(runtime, carrier, clock, redis_url):
    """The concurrency lease lives from the dial until the final status callback is applied."""
    campaign_id, (lead_id,) = _setup(runtime)
    _claim(runtime)
    capacity = _redis_capacity(redis_url)
    paced = _with_capacity(runtime, capacity)
    assert dial_lead(paced, lead_id=lead_id) == DialResult.PLACED
    assert capacity.in_use(campaign_id=campaign_id) == (1, 1)
    with paced.sessions() as s:
        attempt = s.scalars(select(CallAttempt)).one()
    update_ = CallStatusUpdate(attempt.call_sid, AttemptStatus.NO_ANSWER, 3, 0)
    with transaction(paced.sessions) as s:
        assert apply_call_status(s, attempt_id=attempt.id, update_=update_, now=clock.now())
    assert capacity.in_use(campaign_id=campaign_id) == (0, 0)


def test_lead_with_a_full_campaign_lease_set_waits_then_goes_back(runtime, carrier, redis_url):
    campaign_id, lead_ids = _setup(runtime, n=2, max_concurrent_calls=1)
    capacity = _redis_capacity(redis_url)
    paced = _with_capacity(runtime, capacity, slot_wait_seconds=0.3)
    with transaction(runtime.sessions) as s:
        claimed = claim_dialable_leads(s, now=clock_now(runtime), requeue_after=REQUEUE, capacity=capacity)
    assert claimed == [lead_ids[0]]
    assert dial_lead(paced, lead_id=lead_ids[0]) == DialResult.PLACED
    with transaction(runtime.sessions) as s:  # the lease is live: nothing more to claim
        assert claim_dialable_leads(s, now=clock_now(runtime), requeue_after=REQUEUE, capacity=capacity) == []
        s.get(Lead, lead_ids[1]).status = LeadStatus.QUEUED  # as if an older tick had claimed it
    assert dial_lead(paced, lead_id=lead_ids[1]) == DialResult.AT_CAPACITY
    assert len(carrier.placed) == 1


def clock_now(runtime):
    return runtime.clock.now()


def test_redis_down_before_the_decision_sends_the_lead_back_and_places_nothing(runtime, carrier):
    _, (lead_id,) = _setup(runtime)
    _claim(runtime)
    unreachable = RedisCapacity(
        redis.Redis(port=1, socket_connect_timeout=0.2), CapacityLimits(account_cps=5)
    )
    assert dial_lead(_with_capacity(runtime, unreachable), lead_id=lead_id) == DialResult.AT_CAPACITY
    assert carrier.placed == []
    with runtime.sessions() as s:
        assert s.get(Lead, lead_id).status == LeadStatus.PENDING
