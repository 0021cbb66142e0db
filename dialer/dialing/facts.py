"""The gate's facts for a whole batch of leads, read set-based: one statement per kind of fact.

:func:`dialer.dialing.gate.gather_call_facts` reads eight statements per lead; a batch of N leads here
reads seven statements in all (consents, revocations, calls, outside contacts, EBRs, internal
DNC requests, RND answers; each ``IN (:ids)`` over the batch's numbers or lead ids) plus the
emergency flags and each campaign's abandonment counts, inside the dial transaction with the
leads locked (DESIGN rule 2). The facts built per lead are the same :class:`compliance.CallFacts`
the per-lead reader builds, so the pure gate decides exactly as it did.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from compliance import (
    Address,
    CallFacts,
    CampaignFacts,
    Consent,
    Ebr,
    HistoryEntry,
    LeadFacts,
    RndResult,
    conservative_policy,
    same_seller,
)
from dialer.consent import effective_revocation
from dialer.dialing.gate import EMERGENCY_FLAGS, cached_abandonment_rate, history_window
from dialer.models import (
    CallAttempt,
    Campaign,
    ComplianceFlag,
    ConsentRecord,
    ConsentRevocation,
    ContactAttempt,
    DncEntry,
    EbrRecord,
)
from dialer.models import RndResult as RndRecord
from dialer.registry import RegistryStore


@dataclass(frozen=True)
class LeadRow:
    """What the gate and the dial need of one locked lead (a row of the dial's locking ``SELECT``)."""

    id: int
    campaign_id: int
    phone_e164: str
    state: str | None
    zip: str | None
    attempt_count: int


def _ids(name: str) -> Any:
    return bindparam(name, expanding=True)


_CONSENTS = (
    select(ConsentRecord.__table__)
    .where(ConsentRecord.lead_id.in_(_ids("lead_ids")) | ConsentRecord.phone_e164.in_(_ids("phones")))
    .order_by(ConsentRecord.id)
)
_REVOCATIONS = select(ConsentRevocation.__table__).where(ConsentRevocation.phone_e164.in_(_ids("phones")))
_CALLS = (
    select(
        CallAttempt.to_e164,
        CallAttempt.requested_at,
        CallAttempt.created_at,
        CallAttempt.from_e164,
        CallAttempt.answered_at,
        Campaign.subject,
    )
    .join(Campaign, Campaign.id == CallAttempt.campaign_id)
    .where(
        CallAttempt.to_e164.in_(_ids("phones")),
        func.coalesce(CallAttempt.requested_at, CallAttempt.created_at) > bindparam("since"),
    )
)
_CONTACTS = select(ContactAttempt.__table__).where(
    ContactAttempt.phone_e164.in_(_ids("phones")), ContactAttempt.attempted_at > bindparam("since")
)
_EBR = (
    select(EbrRecord.phone_e164, EbrRecord.seller_name, EbrRecord.kind, EbrRecord.occurred_at)
    .where(EbrRecord.phone_e164.in_(_ids("phones")))
    .order_by(EbrRecord.occurred_at.desc())
)
_INTERNAL_DNC = (
    select(DncEntry.phone_e164, func.max(DncEntry.requested_at))
    .where(
        DncEntry.phone_e164.in_(_ids("phones")),
        DncEntry.list_name == "internal",
        DncEntry.removed_at.is_(None),  # withdrawn by an admin (dialer.consent.remove_internal_dnc)
    )
    .group_by(DncEntry.phone_e164)
)
_RND = select(
    RndRecord.phone_e164, RndRecord.queried_at, RndRecord.id, RndRecord.consent_date, RndRecord.result
).where(RndRecord.phone_e164.in_(_ids("phones")))
_FLAGS = select(ComplianceFlag.name).where(
    ComplianceFlag.active.is_(True), ComplianceFlag.name.in_(EMERGENCY_FLAGS)
)


def _by(rows: Iterable[Any], key: str) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


def _consents(lead: LeadRow, records: Sequence[Any], revocations: Sequence[Any]) -> tuple[Consent, ...]:
    """As :func:`dialer.dialing.gate._consents`: the lead's or its number's records, with their revocation."""
    return tuple(
        Consent(
            # An "ebr" consent row names no purchase or inquiry date kind: oral consent, not an EBR.
            type="oral" if str(record.consent_type) == "ebr" else str(record.consent_type),
            obtained_at=record.signed_at,
            sellers=tuple(s for s in (record.seller_name, *record.other_sellers) if s),
            covers_artificial_voice=record.covers_artificial_voice,
            phone_e164=record.phone_e164,
            revoked_at=effective_revocation(record, revocations),
            method=str(record.method),
        )
        for record in records
        if record.lead_id == lead.id or record.phone_e164 == lead.phone_e164
    )


def _history(calls: Sequence[Any], contacts: Sequence[Any]) -> tuple[HistoryEntry, ...]:
    """As :func:`dialer.dialing.gate._history`: calls in every campaign and outside contacts, oldest first."""
    entries = [
        HistoryEntry(
            at=call.requested_at or call.created_at,
            subject=call.subject,
            channel="voice",
            caller_id=call.from_e164,
            answered=call.answered_at is not None,
        )
        for call in calls
    ]
    entries.extend(
        HistoryEntry(
            at=c.attempted_at,
            subject=c.subject,
            channel=c.channel,
            caller_id=c.caller_id,
            answered=c.answered,
        )
        for c in contacts
    )
    return tuple(sorted(entries, key=lambda e: e.at))


def _ebr(rows: Sequence[Any], seller: str) -> Ebr | None:
    for row in rows:  # latest first
        if same_seller(row.seller_name, seller):
            return Ebr(type=row.kind, at=row.occurred_at)
    return None


def _latest_rnd(rows: Sequence[Any]) -> RndResult | None:
    """As :func:`dialer.registry.rnd.latest_rnd`: the latest ``queried_at``, then the latest stored."""
    if not rows:
        return None
    row = max(rows, key=lambda r: (r.queried_at, r.id))
    consent_date: date = row.consent_date
    return RndResult(row.queried_at, consent_date, row.result)


@dataclass(frozen=True)
class _Read:
    """Every fact row of one batch, grouped by lead number (consents stay one list)."""

    consents: list[Any]
    revocations: dict[str, list[Any]]
    calls: dict[str, list[Any]]
    contacts: dict[str, list[Any]]
    ebrs: dict[str, list[Any]]
    internal: dict[str, datetime]
    rnd: dict[str, list[Any]]
    emergencies: frozenset[str]


def _read(conn: Connection, leads: Sequence[LeadRow], now: datetime) -> _Read:
    phones = sorted({lead.phone_e164 for lead in leads})
    by_phone = {"phones": phones}
    since = now - history_window(conservative_policy())
    return _Read(
        consents=list(conn.execute(_CONSENTS, {"lead_ids": [lead.id for lead in leads], **by_phone})),
        revocations=_by(conn.execute(_REVOCATIONS, by_phone), "phone_e164"),
        calls=_by(conn.execute(_CALLS, {**by_phone, "since": since}), "to_e164"),
        contacts=_by(conn.execute(_CONTACTS, {**by_phone, "since": since}), "phone_e164"),
        ebrs=_by(conn.execute(_EBR, by_phone), "phone_e164"),
        internal={phone: at for phone, at in conn.execute(_INTERNAL_DNC, by_phone)},
        rnd=_by(conn.execute(_RND, by_phone), "phone_e164"),
        emergencies=frozenset(conn.scalars(_FLAGS)),
    )


def _lead_facts(lead: LeadRow, seller: str, read: _Read, registry: RegistryStore) -> LeadFacts:
    hits = registry.lookup(lead.phone_e164)
    phone = lead.phone_e164
    return LeadFacts(
        phone_e164=phone,
        address=Address(state=lead.state, zip=lead.zip) if (lead.state or lead.zip) else None,
        consents=_consents(lead, read.consents, read.revocations.get(phone, [])),
        ebr=_ebr(read.ebrs.get(phone, []), seller),
        national_dnc=hits.national if hits.national_present else None,
        state_dnc=hits.state_lists,
        internal_dnc_requested_at=read.internal.get(phone),
        call_history=_history(read.calls.get(phone, []), read.contacts.get(phone, [])),
        rnd=_latest_rnd(read.rnd.get(phone, [])),
    )


def gather_batch_facts(
    session: Session,
    *,
    leads: Sequence[LeadRow],
    campaigns: dict[int, Any],
    now: datetime,
    registry: RegistryStore,
) -> dict[int, CallFacts | Exception]:
    """The gate's facts for every lead of a batch at ``now``, read in one pass (see the module).

    Args:
        leads: the locked leads.
        campaigns: campaign rows by id (``seller_name``, ``subject``).
        registry: the DNC registry files.

    Returns:
        Lead id -> its facts, or the exception that kept them from being read (a registry file
        unreadable): the caller stores a fail-closed ``GATE_ERROR`` decision for that lead.
    """
    read = _read(session.connection(), leads, now)
    campaign_facts: dict[int, CampaignFacts | Exception] = {}
    for campaign_id in {lead.campaign_id for lead in leads}:
        campaign = campaigns[campaign_id]
        try:
            age = registry.national_age(now)
            campaign_facts[campaign_id] = CampaignFacts(
                seller=campaign.seller_name,
                subject=campaign.subject,
                dnc_data_age_days=None if age is None else age.total_seconds() / 86400,
                abandonment_rate_30d=cached_abandonment_rate(session, campaign_id=campaign_id, now=now),
                active_emergencies=read.emergencies,
            )
        except Exception as exc:  # fail closed: DESIGN rule 1
            campaign_facts[campaign_id] = exc
    facts: dict[int, CallFacts | Exception] = {}
    for lead in leads:
        shared = campaign_facts[lead.campaign_id]
        if isinstance(shared, Exception):
            facts[lead.id] = shared
            continue
        try:
            facts[lead.id] = CallFacts(
                lead=_lead_facts(lead, shared.seller or "", read, registry), campaign=shared
            )
        except Exception as exc:  # fail closed: DESIGN rule 1
            facts[lead.id] = exc
    return facts
