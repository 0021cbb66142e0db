"""The gate at dial time: gather fresh facts from the database, evaluate, store the decision.

The rules themselves are pure functions in :mod:`compliance`; this module is the adapter that
reads the lead's consent records and the number's DNC entries inside the dial transaction (with
the lead row locked), calls :func:`compliance.evaluate`, and stores every decision with its
reasons, rule versions and facts so an auditor can replay it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance import ConsentFact, DncFact, GateDecision, GateInput, evaluate
from dialer.audit import record_event
from dialer.dnc import internal_dnc_entries
from dialer.models import Campaign, ConsentRecord, GateDecisionRecord, Lead


def gather_gate_input(session: Session, *, lead: Lead, campaign: Campaign) -> GateInput:
    """Read the facts the gate needs for ``lead`` now (consent records, internal DNC entries)."""
    consents = session.scalars(
        select(ConsentRecord).where(ConsentRecord.lead_id == lead.id).order_by(ConsentRecord.id)
    ).all()
    return GateInput(
        phone_e164=lead.phone_e164,
        seller_name=campaign.seller_name,
        address_state=lead.state,
        address_zip=lead.zip,
        consents=tuple(
            ConsentFact(
                consent_type=str(c.consent_type),
                phone_e164=c.phone_e164,
                seller_name=c.seller_name,
                covers_artificial_voice=c.covers_artificial_voice,
                signed_at=c.signed_at,
                revoked_at=c.revoked_at,
                method=str(c.method),
                evidence=c.evidence,
            )
            for c in consents
        ),
        dnc=tuple(
            DncFact(list_name=e.list_name, requested_at=e.requested_at, source=e.source)
            for e in internal_dnc_entries(session, phone_e164=lead.phone_e164)
        ),
    )


def decide_and_record(
    session: Session, *, lead: Lead, campaign: Campaign, now: datetime
) -> tuple[GateDecision, GateDecisionRecord]:
    """Evaluate the gate for ``lead`` at ``now``, store the decision and its audit event.

    Returns:
        The decision and its stored row (flushed, so it has an id).
    """
    decision = evaluate(gather_gate_input(session, lead=lead, campaign=campaign), now=now)
    record = GateDecisionRecord(
        campaign_id=campaign.id,
        lead_id=lead.id,
        decided_at=decision.decided_at,
        allowed=decision.allowed,
        reasons=[str(r) for r in decision.reasons],
        notes=list(decision.notes),
        rule_versions=dict(decision.rule_versions),
        facts=decision.facts,
        next_allowed_at=decision.next_allowed_at,
    )
    session.add(record)
    session.flush()
    record_event(
        session,
        kind="gate.decision",
        occurred_at=now,
        campaign_id=campaign.id,
        lead_id=lead.id,
        payload={
            "gate_decision_id": record.id,
            "allowed": decision.allowed,
            "reasons": record.reasons,
            "notes": record.notes,
            "candidate_zones": list(decision.candidate_zones),
            "next_allowed_at": decision.next_allowed_at,
            "rule_versions": record.rule_versions,
            "phone_e164": lead.phone_e164,
        },
    )
    return decision, record
