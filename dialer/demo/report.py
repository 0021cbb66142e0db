"""The demo's report: what happened to every lead, read back from the database and the sandbox."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialer.audit import verify_chain
from dialer.calls.costs import campaign_costs
from dialer.calls.latency import campaign_latency
from dialer.dialing.gate import abandonment_counts, abandonment_fraction
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
from dialer.settings import Settings

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


def _dispositions(session: Session, campaign_id: int) -> dict[str, int]:
    """Count of each disposition recorded in the campaign, sorted by name."""
    counts = Counter(
        str(name)
        for name in session.scalars(select(Disposition.name).where(Disposition.campaign_id == campaign_id))
    )
    return dict(sorted(counts.items()))


def _skipped(session: Session, campaign_id: int) -> dict[str, int]:
    """Count of each reason the gate gave for refusing a call in the campaign, sorted by reason."""
    counts: Counter[str] = Counter()
    for reasons in session.scalars(
        select(GateDecisionRecord.reasons).where(
            GateDecisionRecord.campaign_id == campaign_id, GateDecisionRecord.allowed.is_(False)
        )
    ):
        counts.update(reasons)
    return dict(sorted(counts.items()))


def _meetings(session: Session, campaign_id: int, leads: dict[int, Lead]) -> list[dict[str, Any]]:
    """The campaign's booked meetings in booking order, each with its lead and local start time."""
    return [
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


def _callbacks(session: Session, campaign_id: int, leads: dict[int, Lead]) -> list[dict[str, Any]]:
    """The campaign's requested callbacks in request order, each with its local due time and status."""
    return [
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


def _dnc_entries(session: Session, leads: dict[int, Lead]) -> list[dict[str, Any]]:
    """Internal DNC entries (any source) for the campaign's phone numbers, in the order they were added."""
    phones = {lead.phone_e164 for lead in leads.values()}
    return [
        {
            "phone": e.phone_e164,
            "source": e.source,
            "requested_at": e.requested_at.isoformat(),
            "reason": e.reason,
        }
        for e in session.scalars(select(DncEntry).order_by(DncEntry.id))
        if e.phone_e164 in phones
    ]


def _scheduled(leads: dict[int, Lead]) -> list[dict[str, Any]]:
    """The leads still waiting on a next attempt, with when it is due and their last disposition."""
    return [
        {
            "lead": _name(lead),
            "status": str(lead.status),
            "next_attempt_at": lead.next_attempt_at.isoformat(),
            "last_disposition": lead.last_disposition,
        }
        for lead in leads.values()
        if lead.status == LeadStatus.WAITING and lead.next_attempt_at is not None
    ]


_CARRIER_KEYS = (
    "calls_created",
    "unexpected_calls",
    "voicemail_messages_left",
    "stream_url_query_violations",
    "protocol_violations",
    "webhook_failures",
    "by_persona",
)
"""The sandbox carrier's statistics the report passes on (missing ones as ``None``)."""


def _audit(session: Session) -> dict[str, Any]:
    """The audit log's size and the result of verifying its hash chain (:func:`dialer.audit.verify_chain`)."""
    chain = verify_chain(session)
    return {
        "events": session.scalar(select(func.count()).select_from(AuditEvent)),
        "chain_intact": chain.ok,
        "seals": chain.seals_checked,
        "unsealed_events": chain.unsealed_events,
        "last_seal_hash": chain.last_seal_hash,
    }


def _costs(session: Session, campaign_id: int, settings: Settings) -> dict[str, Any]:
    """The campaign's estimated spend in US dollars (:func:`dialer.calls.costs.campaign_costs`)."""
    spend = campaign_costs(session, campaign_id=campaign_id, settings=settings)

    def usd(value: Decimal | None) -> float | None:
        return None if value is None else round(float(value), 6)

    return {
        "currency": "USD",
        "note": "estimates from the price table (DIALER_PRICES__*), not an invoice",
        "by_component": {name: usd(amount) for name, amount in spend.parts.items()},
        "total": usd(spend.total),
        "per_call": usd(spend.per_call),
        "per_meeting": usd(spend.per_meeting),
        "unpriced": list(spend.unpriced),
    }


def _latency(session: Session, campaign_id: int, now: datetime) -> dict[str, Any]:
    """Answer and greeting to first agent audio, turn latencies (ms), and the gate's abandonment rate."""
    answered, abandoned = abandonment_counts(session, campaign_id=campaign_id, now=now)
    return {
        **campaign_latency(session, campaign_id=campaign_id).to_dict(),
        "abandonment_30d": {
            "live_answered": answered,
            "abandoned": abandoned,
            "rate": abandonment_fraction(answered, abandoned),
        },
    }


def build_report(
    session: Session,
    *,
    settings: Settings,
    campaign_id: int,
    clock_instant: datetime,
    clock_zone: str,
    carrier_stats: dict[str, Any],
    import_summary: dict[str, Any],
    elapsed_seconds: float,
) -> dict[str, Any]:
    """Everything the demo reports, as JSON-ready data (see README "The demo report").

    Args:
        session: reads the campaign's leads, attempts, dispositions, gate decisions, meetings,
            callbacks, DNC entries and the audit log; writes nothing.
        settings: the run's settings (the price table the costs are estimated with).
        campaign_id: the demo's campaign.
        clock_instant: the sandbox clock's instant the gate decided on (aware).
        clock_zone: the IANA zone the sandbox clock is shown in.
        carrier_stats: the sandbox carrier's statistics (``duplicate_calls`` and :data:`_CARRIER_KEYS`).
        import_summary: the lead import's summary, passed through as ``"import"``.
        elapsed_seconds: the run's wall time, rounded to 0.1 s in the report.

    Returns:
        A dict of JSON-ready values (strings, numbers, lists and dicts); timestamps are ISO 8601.
    """
    leads = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.campaign_id == campaign_id))}
    attempts = list(session.scalars(select(CallAttempt).where(CallAttempt.campaign_id == campaign_id)))
    callbacks = _callbacks(session, campaign_id, leads)
    dnc_entries = _dnc_entries(session, leads)
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
        "dispositions": _dispositions(session, campaign_id),
        "meetings": _meetings(session, campaign_id, leads),
        "callbacks": callbacks,
        "dnc_added": sum(1 for e in dnc_entries if e["source"] in {"honor_dnc", "phrase_check", "dtmf"}),
        "dnc_entries": dnc_entries,
        "skipped": _skipped(session, campaign_id),
        "disclosures_played": sum(1 for a in attempts if a.disclosure_played_at is not None),
        "scheduled": _scheduled(leads),
        "duplicate_calls": carrier_stats.get("duplicate_calls"),
        "carrier": {key: carrier_stats.get(key) for key in _CARRIER_KEYS},
        "audit": _audit(session),
        "costs": _costs(session, campaign_id, settings),
        "latency": _latency(session, campaign_id, clock_instant),
        "pending_callbacks": sum(1 for c in callbacks if c["status"] == CallbackStatus.PENDING),
        "elapsed_seconds": round(elapsed_seconds, 1),
    }
