"""A DNC entry an admin withdrew no longer blocks the gate; one in force still does (both gate paths)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dialer.consent import remove_internal_dnc
from dialer.db import transaction
from dialer.dialing import DialResult, claim_dialable_leads, dial_batch
from dialer.dialing.gate import gather_call_facts
from dialer.models import Campaign, DncEntry, GateDecisionRecord, Lead
from dialer.registry import registry_store
from tests.factories import create_campaign, create_lead


def test_a_withdrawn_entry_stops_blocking_and_one_in_force_still_blocks(runtime):
    now = runtime.clock.now()
    with transaction(runtime.sessions) as s:
        campaign = create_campaign(s)
        kept, withdrawn = (create_lead(s, campaign, phone).id for phone in ("+13125550141", "+13125550142"))
        for phone in ("+13125550141", "+13125550142"):
            s.add(DncEntry(phone_e164=phone, source="cli", requested_at=now - timedelta(days=1)))
    with transaction(runtime.sessions) as s:
        entry_id = s.scalars(select(DncEntry.id).where(DncEntry.phone_e164 == "+13125550142")).one()
        remove_internal_dnc(s, entry_id=entry_id, now=now, actor="user:admin", reason="wrong number typed")
    with runtime.sessions() as s:
        store = registry_store(runtime.settings)
        for lead_id, blocked in ((kept, True), (withdrawn, False)):
            lead = s.get_one(Lead, lead_id)
            facts = gather_call_facts(
                s, lead=lead, campaign=s.get_one(Campaign, lead.campaign_id), now=now, registry=store
            )
            assert (facts.lead.internal_dnc_requested_at is not None) is blocked
    with transaction(runtime.sessions) as s:
        claim_dialable_leads(s, now=now, requeue_after=timedelta(minutes=2))
    results = dial_batch(runtime, [kept, withdrawn])
    assert results == {kept: DialResult.BLOCKED, withdrawn: DialResult.PLACED}
    with runtime.sessions() as s:
        reasons = dict(s.execute(select(GateDecisionRecord.lead_id, GateDecisionRecord.reasons)).all())
    assert "DNC_INTERNAL" in reasons[kept] and reasons[withdrawn] == []
