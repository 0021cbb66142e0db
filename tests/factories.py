"""Factories for rows the tests need (real models, real database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.db import transaction
from dialer.dialing import claim_dialable_leads, dial_lead
from dialer.models import (
    CallAttempt,
    Campaign,
    CampaignStatus,
    ConsentMethod,
    ConsentRecord,
    ConsentType,
    GateDecisionRecord,
    Lead,
    LeadStatus,
)

SELLER = "Northwind Analytics, Inc."
SIGNED = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)


def create_campaign(session: Session, **overrides: object) -> Campaign:
    values: dict[str, object] = dict(
        name=f"campaign-{datetime.now(UTC).timestamp()}",
        seller_name=SELLER,
        caller_id="+13125550199",
        callback_number="+13125550199",
        product="a data-quality monitoring platform",
        status=CampaignStatus.RUNNING,
        max_concurrent_calls=5,
        max_attempts=3,
        retry_delay_seconds=600,
    )
    values.update(overrides)
    campaign = Campaign(**values)
    session.add(campaign)
    session.flush()
    return campaign


def create_lead(
    session: Session,
    campaign: Campaign,
    phone: str = "+13125550101",
    *,
    consent: bool = True,
    **overrides: object,
) -> Lead:
    values: dict[str, object] = dict(
        campaign_id=campaign.id,
        phone_e164=phone,
        phone_raw=phone,
        first_name="Ava",
        last_name="Thompson",
        company="Brightlane Logistics",
        title="VP Operations",
        state="IL",
        zip="60601",
        status=LeadStatus.PENDING,
        fields={"industry": "logistics"},
    )
    values.update(overrides)
    lead = Lead(**values)
    session.add(lead)
    session.flush()
    if consent:
        create_consent(session, lead)
    return lead


def create_consent(session: Session, lead: Lead, **overrides: object) -> ConsentRecord:
    """A PEWC covering AI voice for ``lead``'s number, signed at :data:`SIGNED` (overrides win)."""
    values: dict[str, object] = dict(
        lead_id=lead.id,
        phone_e164=lead.phone_e164,
        seller_name=SELLER,
        consent_type=ConsentType.PEWC,
        covers_artificial_voice=True,
        signed_at=SIGNED,
        method=ConsentMethod.CSV_COLUMNS,
        evidence="https://northwind.example/optin/test",
    )
    values.update(overrides)
    record = ConsentRecord(**values)
    session.add(record)
    session.flush()
    return record


def dial_one_lead(runtime, phone: str = "+13125550101", **campaign_overrides: object) -> CallAttempt:
    """Create a consented lead in a running campaign, claim it and dial it; return its attempt."""
    with transaction(runtime.sessions) as session:
        lead_id = create_lead(session, create_campaign(session, **campaign_overrides), phone).id
    with transaction(runtime.sessions) as session:
        claim_dialable_leads(session, now=runtime.clock.now(), requeue_after=timedelta(minutes=2))
    dial_lead(runtime, lead_id=lead_id)
    with runtime.sessions() as session:
        return session.scalars(select(CallAttempt).where(CallAttempt.lead_id == lead_id)).one()


def create_attempt(session: Session, campaign: Campaign, lead: Lead) -> CallAttempt:
    """An attempt (with the allowing gate decision it needs) for services that act on a call."""
    decision = GateDecisionRecord(campaign_id=campaign.id, lead_id=lead.id, decided_at=SIGNED, allowed=True)
    session.add(decision)
    session.flush()
    attempt = CallAttempt(
        campaign_id=campaign.id,
        lead_id=lead.id,
        gate_decision_id=decision.id,
        attempt_number=1,
        to_e164=lead.phone_e164,
        from_e164=campaign.caller_id,
    )
    session.add(attempt)
    session.flush()
    return attempt
