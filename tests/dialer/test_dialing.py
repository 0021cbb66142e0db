"""The dial path on real PostgreSQL: claim, gate at dial time, one call per attempt."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from dialer.db import transaction
from dialer.dialing import DialResult, claim_dialable_leads, dial_lead
from dialer.errors import CarrierError, CarrierUnavailableError
from dialer.models import (
    AttemptStatus,
    AuditEvent,
    CallAttempt,
    Campaign,
    CampaignStatus,
    Disposition,
    DncEntry,
    GateDecisionRecord,
    Lead,
    LeadStatus,
)
from dialer.reconcile import reconcile_requesting_attempts
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
