"""The gate at dial time reads every fact fresh: registries, the consent ledger, history, flags.

Each test dials through the real dial task on PostgreSQL with the tests' national registry (see
``dnc_dir`` in conftest) and checks the stored decision, which must replay to the same answer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from compliance import replay
from compliance.facts import LA_EMERGENCY_FLAG
from dialer.db import transaction
from dialer.dialing import DialResult, claim_dialable_leads, dial_lead, gate
from dialer.dialing.gate import abandonment_rate, cached_abandonment_rate
from dialer.models import (
    AttemptStatus,
    AuditEvent,
    CallAttempt,
    Campaign,
    ComplianceFlag,
    ConsentRevocation,
    ContactAttempt,
    EbrRecord,
    GateDecisionRecord,
    Lead,
    LeadStatus,
)
from tests.conftest import MONDAY_11_CHICAGO, NATIONAL_DNC_NUMBER, build_test_registry
from tests.factories import SIGNED, create_attempt, create_campaign, create_lead


def _dial(runtime, phone="+13125550101", *, campaign=None, **lead):
    with transaction(runtime.sessions) as s:
        c = create_campaign(s, **(campaign or {}))
        lead_id = create_lead(s, c, phone=phone, **lead).id
        campaign_id = c.id
    return campaign_id, lead_id


def _run(runtime, lead_id):
    with transaction(runtime.sessions) as s:
        claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=timedelta(minutes=2))
    result = dial_lead(runtime, lead_id=lead_id)
    with runtime.sessions() as s:
        record = s.scalars(
            select(GateDecisionRecord)
            .where(GateDecisionRecord.lead_id == lead_id)
            .order_by(GateDecisionRecord.id)
        ).all()[-1]
        s.expunge(record)
    return result, record


def _replays(record):
    replayed = replay({"facts": record.facts, "evaluated_at": record.decided_at.isoformat()})
    assert [str(r) for r in replayed.reason_codes] == record.reasons
    assert list(replayed.warnings) == record.warnings
    assert replayed.rule_data_version == record.rule_data_version


def test_allowed_decision_stores_trace_version_and_replays(runtime):
    _, lead_id = _dial(runtime)
    result, record = _run(runtime, lead_id)
    assert result == DialResult.PLACED and record.allowed
    rules = {entry["rule"] for entry in record.trace}
    assert {"number", "zones", "consent.pewc", "dnc.national", "dnc.scrub_age"} <= rules
    assert "federal.window.0@America/Chicago" in rules
    assert record.rule_data_version.startswith("CP;rules=")
    _replays(record)
    with runtime.sessions() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.kind == "gate.decision")).one()
    assert event.payload["trace"] == record.trace  # the audit log shows why, rule by rule
    assert event.payload["rule_data_version"] == record.rule_data_version


def test_number_on_the_national_registry_is_blocked_without_an_exemption(runtime, carrier):
    _, lead_id = _dial(runtime, NATIONAL_DNC_NUMBER, consent=False)
    result, record = _run(runtime, lead_id)
    assert result == DialResult.BLOCKED and carrier.placed == []
    assert record.reasons == ["DNC_NATIONAL", "CONSENT_MISSING"]
    _replays(record)


def test_pewc_naming_seller_and_number_exempts_from_the_national_registry(runtime):
    _, lead_id = _dial(runtime, NATIONAL_DNC_NUMBER)
    result, record = _run(runtime, lead_id)
    assert result == DialResult.PLACED and "NATIONAL_DNC_EXEMPT_BY_PEWC" in record.warnings


def test_ebr_exempts_from_the_national_registry_but_does_not_replace_pewc(runtime):
    _, lead_id = _dial(runtime, NATIONAL_DNC_NUMBER, consent=False)
    with transaction(runtime.sessions) as s:
        s.add(
            EbrRecord(
                phone_e164=NATIONAL_DNC_NUMBER,
                seller_name="Northwind Analytics",
                kind="purchase",
                occurred_at=MONDAY_11_CHICAGO - timedelta(days=90),
            )
        )
    _, record = _run(runtime, lead_id)
    assert record.reasons == ["CONSENT_MISSING"]
    assert {"EBR_DOES_NOT_REPLACE_PEWC", "NATIONAL_DNC_EXEMPT_BY_EBR"} <= set(record.warnings)


def test_stale_national_data_blocks_every_call(runtime, dnc_dir):
    build_test_registry(dnc_dir, downloaded_at=MONDAY_11_CHICAGO - timedelta(days=32), numbers=())
    _, lead_id = _dial(runtime)
    result, record = _run(runtime, lead_id)
    assert result == DialResult.BLOCKED and record.reasons == ["DNC_SCRUB_STALE"]


def test_no_national_registry_at_all_blocks(runtime, dnc_dir):
    (dnc_dir / "national.dncr").unlink()
    _, lead_id = _dial(runtime, consent=False)
    _, record = _run(runtime, lead_id)
    # Membership unknown: without an exemption the number counts as registered (fail closed).
    assert record.facts["lead"]["national_dnc"] is None
    assert record.reasons == ["DNC_NATIONAL", "DNC_SCRUB_STALE", "CONSENT_MISSING"]


def test_revocation_from_any_channel_revokes_the_consent(runtime):
    _, lead_id = _dial(runtime)
    with transaction(runtime.sessions) as s:
        s.add(
            ConsentRevocation(
                phone_e164="+13125550101",
                revoked_at=MONDAY_11_CHICAGO - timedelta(hours=1),
                channel="api",
                source="test",
            )
        )
    _, record = _run(runtime, lead_id)
    assert record.reasons == ["CONSENT_REVOKED"]


def test_revocation_before_the_consent_does_not_revoke_it(runtime):
    _, lead_id = _dial(runtime)
    with transaction(runtime.sessions) as s:
        s.add(
            ConsentRevocation(
                phone_e164="+13125550101",
                revoked_at=SIGNED - timedelta(days=1),
                channel="import",
                source="test",
            )
        )
    result, _ = _run(runtime, lead_id)
    assert result == DialResult.PLACED


def test_louisiana_emergency_flag_blocks_louisiana_numbers_only(runtime):
    with transaction(runtime.sessions) as s:
        s.add(
            ComplianceFlag(name=LA_EMERGENCY_FLAG, active=True, updated_at=MONDAY_11_CHICAGO, updated_by="t")
        )
    _, la_lead = _dial(runtime, "+15045550101", state="LA", zip="70112")
    _, il_lead = _dial(runtime, "+13125550102")
    assert _run(runtime, la_lead)[1].reasons == ["STATE_EMERGENCY_LA"]
    assert _run(runtime, il_lead)[0] == DialResult.PLACED


def test_frequency_cap_counts_calls_from_other_campaigns_and_other_channels(runtime):
    """Florida: 3 attempts per rolling 24 h on the same subject (Fla. Stat. 501.616(6), CP-9)."""
    phone = "+13055550101"
    with transaction(runtime.sessions) as s:
        other = create_campaign(s, name="other", subject="data platform")
        earlier = create_lead(s, other, phone=phone, state="FL", zip="33101")
        for minutes in (60, 30):
            attempt = create_attempt(s, other, earlier)
            attempt.attempt_number = minutes
            attempt.requested_at = MONDAY_11_CHICAGO - timedelta(minutes=minutes)
            attempt.status = AttemptStatus.COMPLETED
            s.flush()
        s.add(
            ContactAttempt(
                phone_e164=phone,
                attempted_at=MONDAY_11_CHICAGO - timedelta(minutes=15),
                channel="sms",
                subject="data platform",
            )
        )
    _, lead_id = _dial(runtime, phone, campaign={"subject": "data platform"}, state="FL", zip="33101")
    result, record = _run(runtime, lead_id)
    assert result == DialResult.BLOCKED and record.reasons == ["FREQUENCY_CAP_EXCEEDED"]
    # The oldest of the three leaves the rolling window 24 h after it was made: the lead waits for that.
    assert record.next_allowed_at == MONDAY_11_CHICAGO - timedelta(minutes=60) + timedelta(hours=24)
    with runtime.sessions() as s:
        lead = s.get(Lead, lead_id)
        assert lead.status == LeadStatus.WAITING and lead.next_attempt_at == record.next_allowed_at


def test_abandonment_rate_counts_ended_live_answers_the_agent_never_reached(db):
    campaign = create_campaign(db)
    lead = create_lead(db, campaign)
    for i, (answered_by, played) in enumerate([("human", True), ("human", False), ("machine_start", False)]):
        attempt = create_attempt(db, campaign, lead)
        attempt.attempt_number = 10 + i
        attempt.status = AttemptStatus.COMPLETED
        attempt.answered_at = MONDAY_11_CHICAGO - timedelta(days=1)
        attempt.answered_by = answered_by
        attempt.ended_at = attempt.answered_at + timedelta(minutes=1)
        attempt.stream_started_at = attempt.answered_at if played else None
        db.flush()
    assert abandonment_rate(db, campaign_id=campaign.id, now=MONDAY_11_CHICAGO) == 0.5
    assert abandonment_rate(db, campaign_id=campaign.id, now=MONDAY_11_CHICAGO + timedelta(days=31)) == 0.0


def _answered(db, campaign, lead, *, reached):
    attempt = create_attempt(db, campaign, lead)
    attempt.attempt_number = db.query(CallAttempt).count() + 10
    attempt.status = AttemptStatus.COMPLETED
    attempt.answered_at = MONDAY_11_CHICAGO - timedelta(days=1)
    attempt.answered_by = "human"
    attempt.ended_at = attempt.answered_at + timedelta(minutes=1)
    attempt.stream_started_at = attempt.answered_at if reached else None
    db.flush()


def test_abandonment_counts_are_reused_only_for_big_campaigns_and_briefly(db, monkeypatch):
    campaign = create_campaign(db)
    lead = create_lead(db, campaign)
    _answered(db, campaign, lead, reached=True)
    assert cached_abandonment_rate(db, campaign_id=campaign.id, now=MONDAY_11_CHICAGO) == 0.0
    _answered(db, campaign, lead, reached=False)  # below the threshold: counted afresh
    assert cached_abandonment_rate(db, campaign_id=campaign.id, now=MONDAY_11_CHICAGO) == 0.5
    monkeypatch.setattr(gate, "ABANDONMENT_CACHE_MIN_ANSWERED", 2)
    monkeypatch.setattr(gate, "ABANDONMENT_CACHE_SECONDS", 3600.0)  # wide: a loaded machine is slow
    assert cached_abandonment_rate(db, campaign_id=campaign.id, now=MONDAY_11_CHICAGO) == 0.5
    _answered(db, campaign, lead, reached=False)
    # Reused within the span (the new abandonment is missed) ...
    assert cached_abandonment_rate(db, campaign_id=campaign.id, now=MONDAY_11_CHICAGO) == 0.5
    # ... but not for a product time outside it, nor once the wall-clock span has passed.
    later = MONDAY_11_CHICAGO + timedelta(seconds=gate.ABANDONMENT_CACHE_SECONDS + 1)
    assert cached_abandonment_rate(db, campaign_id=campaign.id, now=later) == 2 / 3
    monkeypatch.setattr(gate, "ABANDONMENT_CACHE_SECONDS", 0.0)
    _answered(db, campaign, lead, reached=False)
    assert cached_abandonment_rate(db, campaign_id=campaign.id, now=later) == 3 / 4


def test_campaign_over_the_abandonment_limit_is_blocked(runtime):
    campaign_id, lead_id = _dial(runtime)
    with transaction(runtime.sessions) as s:
        campaign = s.get(Campaign, campaign_id)
        other = create_lead(s, campaign, phone="+13125550155")
        attempt = create_attempt(s, campaign, other)
        attempt.status = AttemptStatus.COMPLETED
        attempt.answered_at = MONDAY_11_CHICAGO - timedelta(hours=2)
        attempt.ended_at = MONDAY_11_CHICAGO - timedelta(hours=1)
        attempt.answered_by = "human"
    _, record = _run(runtime, lead_id)
    assert record.reasons == ["ABANDONMENT_RATE_EXCEEDED"]
    with runtime.sessions() as s:
        assert s.scalars(select(CallAttempt).where(CallAttempt.lead_id == lead_id)).first() is None
