"""The demo's report: what happened to every lead, read back from the database and the sandbox."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.audit import verify_chain
from dialer.models import (
    FINAL_LEAD_STATUSES,
    AuditEvent,
    CallAttempt,
    Callback,
    CallbackStatus,
    Disposition,
    DncEntry,
    GateDecisionRecord,
    Lead,
    LeadStatus,
    Meeting,
)

SETTLE_HORIZON = timedelta(seconds=60)
"""A waiting lead due further out than this is scheduled for later: settled for this run."""


def settled_counts(session: Session, *, campaign_id: int, now: datetime) -> tuple[int, int]:
    """(settled, total) leads of a campaign: final, or waiting beyond :data:`SETTLE_HORIZON`."""
    total = session.scalar(select(func.count()).select_from(Lead).where(Lead.campaign_id == campaign_id)) or 0
    final = (
        session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(
                Lead.campaign_id == campaign_id,
                Lead.status.in_(list(FINAL_LEAD_STATUSES)),
            )
        )
        or 0
    )
    later = (
        session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(
                Lead.campaign_id == campaign_id,
                Lead.status == LeadStatus.WAITING,
                Lead.next_attempt_at > now + SETTLE_HORIZON,
            )
        )
        or 0
    )
    return final + later, total


def _name(lead: Lead) -> str:
    return " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.phone_e164


def _local_iso(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).isoformat()


def build_report(
    session: Session,
    *,
    campaign_id: int,
    clock_instant: datetime,
    clock_zone: str,
    carrier_stats: dict[str, Any],
    import_summary: dict[str, Any],
    elapsed_seconds: float,
) -> dict[str, Any]:
    """Everything the demo reports, as JSON-ready data (see README "The demo report")."""
    leads = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.campaign_id == campaign_id))}
    attempts = list(session.scalars(select(CallAttempt).where(CallAttempt.campaign_id == campaign_id)))
    dispositions = Counter(
        str(name)
        for name in session.scalars(select(Disposition.name).where(Disposition.campaign_id == campaign_id))
    )
    skipped: Counter[str] = Counter()
    for reasons in session.scalars(
        select(GateDecisionRecord.reasons).where(
            GateDecisionRecord.campaign_id == campaign_id, GateDecisionRecord.allowed.is_(False)
        )
    ):
        skipped.update(reasons)
    meetings = [
        {
            "lead": _name(leads[m.lead_id]),
            "phone": leads[m.lead_id].phone_e164,
            "company": leads[m.lead_id].company,
            "starts_at": _local_iso(m.starts_at, m.lead_timezone),
            "starts_at_utc": m.starts_at.isoformat(),
            "timezone": m.lead_timezone,
            "email": m.email,
            "said": m.requested_text,
        }
        for m in session.scalars(
            select(Meeting).where(Meeting.campaign_id == campaign_id).order_by(Meeting.id)
        )
    ]
    callbacks = [
        {
            "lead": _name(leads[c.lead_id]),
            "due_at": _local_iso(c.due_at, c.lead_timezone),
            "said": c.requested_text,
            "status": str(c.status),
        }
        for c in session.scalars(
            select(Callback).where(Callback.campaign_id == campaign_id).order_by(Callback.id)
        )
    ]
    phones = {lead.phone_e164 for lead in leads.values()}
    dnc_entries = [
        {
            "phone": e.phone_e164,
            "source": e.source,
            "requested_at": e.requested_at.isoformat(),
            "reason": e.reason,
        }
        for e in session.scalars(select(DncEntry).order_by(DncEntry.id))
        if e.phone_e164 in phones
    ]
    scheduled = [
        {
            "lead": _name(lead),
            "status": str(lead.status),
            "next_attempt_at": lead.next_attempt_at.isoformat(),
            "last_disposition": lead.last_disposition,
        }
        for lead in leads.values()
        if lead.status == LeadStatus.WAITING and lead.next_attempt_at is not None
    ]
    chain = verify_chain(session)
    return {
        "clock": {
            "instant": clock_instant.isoformat(),
            "zone": clock_zone,
            "local": clock_instant.astimezone(ZoneInfo(clock_zone)).isoformat(),
            "note": "the gate decided on this sandbox clock; nothing outside the sandbox run uses it",
        },
        "import": import_summary,
        "leads": len(leads),
        "leads_by_status": dict(Counter(str(lead.status) for lead in leads.values())),
        "attempts": len(attempts),
        "calls_placed": sum(1 for a in attempts if a.call_sid),
        "dispositions": dict(sorted(dispositions.items())),
        "meetings": meetings,
        "callbacks": callbacks,
        "dnc_added": sum(1 for e in dnc_entries if e["source"] in {"honor_dnc", "phrase_check", "dtmf"}),
        "dnc_entries": dnc_entries,
        "skipped": dict(sorted(skipped.items())),
        "disclosures_played": sum(1 for a in attempts if a.disclosure_played_at is not None),
        "scheduled": scheduled,
        "duplicate_calls": carrier_stats.get("duplicate_calls"),
        "carrier": {
            key: carrier_stats.get(key)
            for key in (
                "calls_created",
                "unexpected_calls",
                "voicemail_messages_left",
                "stream_url_query_violations",
                "protocol_violations",
                "webhook_failures",
                "by_persona",
            )
        },
        "audit": {
            "events": session.scalar(select(func.count()).select_from(AuditEvent)),
            "chain_intact": chain.ok,
            "seals": chain.seals_checked,
            "unsealed_events": chain.unsealed_events,
            "last_seal_hash": chain.last_seal_hash,
        },
        "pending_callbacks": sum(1 for c in callbacks if c["status"] == CallbackStatus.PENDING),
        "elapsed_seconds": round(elapsed_seconds, 1),
    }
