"""The set-based dial on real PostgreSQL: a batch of leads gated at once, one call per attempt."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import timedelta

import redis
from sqlalchemy import func, select

from dialer.audit import seal_pending, verify_chain
from dialer.calls import CapacityLimits, RedisCapacity
from dialer.calls.capacity import SESSION_KEY
from dialer.db import session_factory, transaction
from dialer.dialing import DialResult, claim_dialable_leads, dial_batch
from dialer.errors import CarrierError, CarrierUnavailableError
from dialer.models import (
    AttemptStatus,
    AuditEvent,
    CallAttempt,
    Disposition,
    DncEntry,
    GateDecisionRecord,
    Lead,
    LeadStatus,
)
from tests.factories import create_campaign, create_lead

REQUEUE = timedelta(minutes=2)


def _phone(i: int) -> str:
    return f"+1312555{101 + i:04d}"


def _setup(runtime, n, *, without_consent=(), **campaign):
    with transaction(runtime.sessions) as s:
        c = create_campaign(s, **campaign)
        ids = [create_lead(s, c, phone=_phone(i), consent=i not in without_consent).id for i in range(n)]
    with transaction(runtime.sessions) as s:
        claimed = claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=REQUEUE)
    assert sorted(claimed) == ids
    return ids


def _with_capacity(runtime, capacity, **settings):
    return dataclasses.replace(
        runtime,
        capacity=capacity,
        settings=runtime.settings.model_copy(update=settings),
        sessions=session_factory(runtime.sessions.kw["bind"], info={SESSION_KEY: capacity}),
    )


def _kinds_by_lead(runtime) -> dict[int, list[str]]:
    with runtime.sessions() as s:
        rows = s.execute(select(AuditEvent.lead_id, AuditEvent.kind).order_by(AuditEvent.id)).all()
    kinds: dict[int, list[str]] = {}
    for lead_id, kind in rows:
        kinds.setdefault(lead_id, []).append(kind)
    return kinds


def test_a_batch_gates_each_lead_on_its_own_facts_and_calls_the_allowed_ones_once(runtime, carrier, clock):
    ids = _setup(runtime, 6, without_consent={2}, max_concurrent_calls=10)
    with transaction(runtime.sessions) as s:  # an opt-out committed after the claim, before the dial
        s.add(DncEntry(phone_e164=_phone(4), source="cli", requested_at=clock.now() - timedelta(seconds=1)))
    results = dial_batch(runtime, ids)
    assert results == {
        ids[0]: DialResult.PLACED,
        ids[1]: DialResult.PLACED,
        ids[2]: DialResult.BLOCKED,
        ids[3]: DialResult.PLACED,
        ids[4]: DialResult.BLOCKED,
        ids[5]: DialResult.PLACED,
    }
    assert sorted(r.to for r in carrier.placed) == [_phone(i) for i in (0, 1, 3, 5)]
    with runtime.sessions() as s:
        attempts = s.scalars(select(CallAttempt).order_by(CallAttempt.lead_id)).all()
        assert [a.status for a in attempts] == [AttemptStatus.QUEUED] * 4
        assert {a.call_sid for a in attempts} == {c.sid for c in carrier.existing}
        for attempt in attempts:  # each request names its own attempt
            request = next(r for r in carrier.placed if r.to == attempt.to_e164)
            assert request.twiml_url.endswith(f"/twilio/voice?attempt={attempt.id}")
        assert s.get(Lead, ids[2]).status == LeadStatus.BLOCKED
        assert s.get(Lead, ids[4]).status == LeadStatus.BLOCKED
        assert s.get(Lead, ids[0]).status == LeadStatus.IN_PROGRESS and s.get(Lead, ids[0]).attempt_count == 1
        reasons = dict(s.execute(select(GateDecisionRecord.lead_id, GateDecisionRecord.reasons)).all())
        assert reasons[ids[2]] == ["CONSENT_MISSING"] and "DNC_INTERNAL" in reasons[ids[4]]
        notes = dict(s.execute(select(Disposition.lead_id, Disposition.notes)).all())
        assert notes[ids[2]] == "CONSENT_MISSING"
    kinds = _kinds_by_lead(runtime)
    for i in (0, 1, 3, 5):  # the events the per-lead dial writes, in the same order
        assert kinds[ids[i]] == ["gate.decision", "call.attempt_created", "call.placed"]
    for i in (2, 4):
        assert kinds[ids[i]] == ["gate.decision", "disposition"]
    with transaction(runtime.sessions) as s:
        seal_pending(s, now=clock.now())
    with runtime.sessions() as s:
        assert verify_chain(s).ok


def test_a_batch_delivered_twice_or_twice_at_once_places_one_call_per_lead(runtime, carrier):
    ids = _setup(runtime, 8, max_concurrent_calls=10)
    results: list[dict[int, DialResult]] = []
    barrier = threading.Barrier(3)

    def worker(lead_ids):
        barrier.wait()
        results.append(dial_batch(runtime, lead_ids))

    # Three executions over overlapping lead sets at once: the row locks (taken in id order) let
    # each lead through once, and no two batches deadlock.
    threads = [
        threading.Thread(target=worker, args=(ids,)),
        threading.Thread(target=worker, args=(list(reversed(ids)),)),
        threading.Thread(target=worker, args=(ids[2:6],)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    placed = [lead for result in results for lead, r in result.items() if r == DialResult.PLACED]
    assert sorted(placed) == ids
    assert len(carrier.placed) == 8
    assert dial_batch(runtime, ids) == {lead_id: DialResult.NOT_QUEUED for lead_id in ids}
    assert len(carrier.placed) == 8


class _SelectiveCarrier:
    """The fake carrier, failing the requests to some numbers with a given error."""

    def __init__(self, inner, failures):
        self.inner = inner
        self.failures = failures

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def place_call(self, request):
        if request.to in self.failures:
            self.inner.placed.append(request)
            raise self.failures[request.to]
        return self.inner.place_call(request)


def test_an_unknown_outcome_in_a_batch_is_left_for_reconciliation_and_never_resent(runtime, carrier):
    ids = _setup(runtime, 4, max_concurrent_calls=10)
    flaky = dataclasses.replace(
        runtime,
        carrier=_SelectiveCarrier(
            carrier,
            {
                _phone(1): CarrierUnavailableError("carrier unreachable: connection reset"),
                _phone(2): CarrierError(
                    "carrier refused (HTTP 400, code 21217)", code=21217, http_status=400
                ),
            },
        ),
    )
    results = dial_batch(flaky, ids)
    assert [results[i] for i in ids] == [
        DialResult.PLACED,
        DialResult.OUTCOME_UNKNOWN,
        DialResult.CARRIER_REFUSED,
        DialResult.PLACED,
    ]
    assert dial_batch(flaky, ids) == {lead_id: DialResult.NOT_QUEUED for lead_id in ids}
    assert len(carrier.placed) == 4  # one request per attempt, the unknown one never re-sent
    with runtime.sessions() as s:
        status = dict(s.execute(select(CallAttempt.lead_id, CallAttempt.status)).all())
        assert status[ids[1]] == AttemptStatus.REQUESTING and status[ids[2]] == AttemptStatus.FAILED
        assert s.get(Lead, ids[2]).status == LeadStatus.WAITING
    assert _kinds_by_lead(runtime)[ids[1]] == [
        "gate.decision",
        "call.attempt_created",
        "call.request_outcome_unknown",
    ]


def test_leads_without_a_slot_in_time_go_back_to_the_hopper_and_unused_slots_are_given_back(
    runtime, carrier, redis_url
):
    ids = _setup(runtime, 5, without_consent={0}, max_concurrent_calls=10)
    capacity = RedisCapacity(
        redis.Redis.from_url(redis_url), CapacityLimits(account_cps=3), key_prefix=f"test:{uuid.uuid4().hex}"
    )
    paced = _with_capacity(runtime, capacity, slot_wait_seconds=0.3)
    results = dial_batch(paced, ids)
    # Three slots in the window: the first three leads are decided; the blocked one's slot is
    # given back unused and goes to the fourth lead; the fifth gets no slot within the wait and
    # is not dialed.
    assert [results[i] for i in ids] == [
        DialResult.BLOCKED,
        DialResult.PLACED,
        DialResult.PLACED,
        DialResult.PLACED,
        DialResult.AT_CAPACITY,
    ]
    assert sorted(r.to for r in carrier.placed) == [_phone(1), _phone(2), _phone(3)]
    with runtime.sessions() as s:
        campaign_id = s.get(Lead, ids[0]).campaign_id
        assert s.get(Lead, ids[4]).status == LeadStatus.PENDING
        assert s.scalar(select(func.count()).select_from(CallAttempt)) == 3
    assert capacity.in_use(campaign_id=campaign_id) == (3, 3)  # the live calls' leases only
    with transaction(runtime.sessions) as s:  # the next tick claims it again
        again = claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=REQUEUE, capacity=capacity)
    assert again == [ids[4]]


def test_the_tick_publishes_its_claim_as_batches_of_the_batch_size(runtime, carrier, monkeypatch):
    from dialer import tasks

    with transaction(runtime.sessions) as s:
        c = create_campaign(s, max_concurrent_calls=7)
        ids = [create_lead(s, c, phone=_phone(i)).id for i in range(9)]
    sized = dataclasses.replace(
        runtime, settings=runtime.settings.model_copy(update={"dial_batch_size": 3, "dial_cps": 100})
    )
    published: list[list[int]] = []
    monkeypatch.setattr(tasks, "get_runtime", lambda: sized)
    monkeypatch.setattr(tasks.dial_batch_task, "delay", published.append)
    assert tasks.tick() == 7  # the campaign's free capacity
    assert published == [ids[0:3], ids[3:6], ids[6:7]]
    for batch in published:  # what the worker then runs
        assert set(tasks.dial_batch_task(batch)) == {"placed"}
    assert len(carrier.placed) == 7
