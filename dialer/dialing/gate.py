"""The gate at dial time: gather fresh facts from the database and the registries, evaluate, store.

The rules are pure functions in :mod:`compliance`; this module is the adapter. Inside the dial
transaction, with the lead row locked (DESIGN rule 2), it reads the consent ledger (records and
revocations from every channel), the internal DNC requests, the EBR, the number's attempts on every
channel and campaign, the latest RND answer, the national and state registry files, the campaign's
abandonment rate and the compliance flags; builds :class:`compliance.CallFacts` (the same schema as
``dialer compliance check``); calls :func:`compliance.evaluate`; and stores the whole decision (reasons,
warnings, trace, rule-data version, facts) so an auditor can replay it.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from compliance import (
    Address,
    CallFacts,
    CampaignFacts,
    Consent,
    Decision,
    Ebr,
    HistoryEntry,
    LeadFacts,
    Policy,
    RndResult,
    conservative_policy,
    error_decision,
    evaluate,
    same_seller,
)
from dialer.audit import record_event
from dialer.consent import effective_revocation
from dialer.models import (
    CallAttempt,
    Campaign,
    ComplianceFlag,
    ConsentRecord,
    ConsentRevocation,
    ContactAttempt,
    DncEntry,
    EbrRecord,
    GateDecisionRecord,
    Lead,
)
from dialer.models import RndResult as RndRecord
from dialer.registry import RegistryStore

ABANDONMENT_WINDOW = timedelta(days=30)
"""The abandonment rate is measured per campaign over 30 days (47 CFR 64.1200(a)(7))."""

EMERGENCY_FLAGS = tuple(sorted(conservative_policy().rules.emergency_flags))
"""The compliance flags of the rule data's emergency bans (``la_emergency``), read at dial time."""

_HUMAN_ANSWERS = ("human", "unknown")


# The gate's reads, built once (bound per decision): building and cache-keying a statement on
# every decision costs more CPU than running it.
_CONSENTS = (
    select(ConsentRecord)
    .where(or_(ConsentRecord.lead_id == bindparam("lead_id"), ConsentRecord.phone_e164 == bindparam("phone")))
    .order_by(ConsentRecord.id)
)
_REVOCATIONS = select(ConsentRevocation).where(ConsentRevocation.phone_e164 == bindparam("phone"))
_CALLS = (
    select(CallAttempt, Campaign.subject)
    .join(Campaign, Campaign.id == CallAttempt.campaign_id)
    .where(
        CallAttempt.to_e164 == bindparam("phone"),
        func.coalesce(CallAttempt.requested_at, CallAttempt.created_at) > bindparam("since"),
    )
)
_CONTACTS = select(ContactAttempt).where(
    ContactAttempt.phone_e164 == bindparam("phone"), ContactAttempt.attempted_at > bindparam("since")
)
_ABANDONMENT = select(
    func.count(),
    func.count().filter(or_(CallAttempt.stream_started_at.is_(None), CallAttempt.tsr_abandoned.is_(True))),
).where(
    CallAttempt.campaign_id == bindparam("campaign_id"),
    CallAttempt.answered_at.is_not(None),
    CallAttempt.answered_at > bindparam("since"),
    or_(CallAttempt.answered_by.is_(None), CallAttempt.answered_by.in_(_HUMAN_ANSWERS)),
    CallAttempt.ended_at.is_not(None),
)
_EBR = (
    select(EbrRecord).where(EbrRecord.phone_e164 == bindparam("phone")).order_by(EbrRecord.occurred_at.desc())
)
_LATEST_RND = (
    select(RndRecord.id)
    .where(RndRecord.phone_e164 == bindparam("phone"))
    .order_by(RndRecord.queried_at.desc(), RndRecord.id.desc())
    .limit(1)
    .scalar_subquery()
)
_SCALAR_FACTS = select(
    select(func.max(DncEntry.requested_at))
    .where(
        DncEntry.phone_e164 == bindparam("phone"),
        DncEntry.list_name == "internal",
        DncEntry.removed_at.is_(None),  # withdrawn by an admin (dialer.consent.remove_internal_dnc)
    )
    .scalar_subquery(),
    select(func.aggregate_strings(ComplianceFlag.name, ","))  # flag names have no commas
    .where(ComplianceFlag.active.is_(True), ComplianceFlag.name.in_(EMERGENCY_FLAGS))
    .scalar_subquery(),
    *(
        select(column).where(RndRecord.id == _LATEST_RND).scalar_subquery()
        for column in (RndRecord.queried_at, RndRecord.consent_date, RndRecord.result)
    ),
)


def _consents(session: Session, lead: Lead) -> tuple[Consent, ...]:
    """Every consent record for the lead or its number, each with the earliest revocation that hits it."""
    records = session.scalars(_CONSENTS, {"lead_id": lead.id, "phone": lead.phone_e164}).all()
    revocations = session.scalars(_REVOCATIONS, {"phone": lead.phone_e164}).all()
    consents = []
    for record in records:
        consents.append(
            Consent(
                # An "ebr" consent row (from a CSV consent_type column) names no purchase or inquiry
                # date kind, so it cannot be an EBR fact; as consent it is not written consent.
                type="oral" if str(record.consent_type) == "ebr" else str(record.consent_type),
                obtained_at=record.signed_at,
                sellers=tuple(s for s in (record.seller_name, *record.other_sellers) if s),
                covers_artificial_voice=record.covers_artificial_voice,
                phone_e164=record.phone_e164,
                revoked_at=effective_revocation(record, revocations),
                method=str(record.method),
            )
        )
    return tuple(consents)


def history_window(policy: Policy) -> timedelta:
    """How far back attempts can matter: the longest frequency-cap window in the rule table (24 h)."""
    hours = [
        r.hours or 0 for rules in policy.rules.states.values() for r in rules if r.kind == "frequency_cap"
    ]
    return timedelta(hours=max(hours, default=0))


def _history(session: Session, phone_e164: str, *, now: datetime) -> tuple[HistoryEntry, ...]:
    """Attempts to the number that a frequency cap can still count (CP-9).

    This dialer's calls in every campaign and contacts made outside it, within ``history_window``
    before ``now`` (later ones too: clock skew). Older attempts cannot affect this decision or any
    later ``next_allowed_at``.
    """
    since = now - history_window(conservative_policy())
    calls = session.execute(_CALLS, {"phone": phone_e164, "since": since}).all()
    entries = [
        HistoryEntry(
            at=attempt.requested_at or attempt.created_at,
            subject=subject,
            channel="voice",
            caller_id=attempt.from_e164,
            answered=attempt.answered_at is not None,
        )
        for attempt, subject in calls
    ]
    for contact in session.scalars(_CONTACTS, {"phone": phone_e164, "since": since}):
        entries.append(
            HistoryEntry(
                at=contact.attempted_at,
                subject=contact.subject,
                channel=contact.channel,
                caller_id=contact.caller_id,
                answered=contact.answered,
            )
        )
    return tuple(sorted(entries, key=lambda e: e.at))


def abandonment_counts(session: Session, *, campaign_id: int, now: datetime) -> tuple[int, int]:
    """``(live-answered, abandoned)`` ended calls of a campaign over the 30 days before ``now``.

    One statement (``count(*)`` and ``count(*) FILTER``). See :func:`abandonment_rate` for what
    counts as live-answered and abandoned.
    """
    since = now - ABANDONMENT_WINDOW
    row = session.execute(_ABANDONMENT, {"campaign_id": campaign_id, "since": since}).one()
    return int(row[0] or 0), int(row[1] or 0)


def abandonment_rate(session: Session, *, campaign_id: int, now: datetime) -> float:
    """Abandoned / live-answered calls of a campaign over the 30 days before ``now`` (0.0 when none).

    A call counts once it has ended. It is live-answered when it was answered and AMD said ``human``
    or ``unknown`` (or gave no verdict); machines are not live answers. It is abandoned (47 CFR
    64.1200(a)(7)(i): not connected to a representative within 2 s of the completed greeting) when
    the media stream never reached the agent, or when the bridge found the agent's first audio
    later than 2 s after the callee's greeting, or none by then (``tsr_abandoned``, recorded at
    that deadline; :mod:`bridge.latency` defines the instants). A prospect who hangs up before the
    2 s are up, or during the agent's greeting, has not been abandoned.
    """
    answered, abandoned = abandonment_counts(session, campaign_id=campaign_id, now=now)
    return abandonment_fraction(answered, abandoned)


def abandonment_fraction(answered: int, abandoned: int) -> float:
    """``abandoned / answered`` as a fraction in [0, 1]; 0.0 when nothing was answered."""
    return abandoned / answered if answered else 0.0


ABANDONMENT_CACHE_SECONDS = 2.0
"""How long one worker process reuses a campaign's 30-day abandonment counts (wall-clock seconds)."""

ABANDONMENT_CACHE_MIN_ANSWERED = 1000
"""Counts are reused only for a campaign with at least this many live answers in its window."""

_abandonment_cache: dict[tuple[str, int], tuple[float, datetime, int, int]] = {}
_abandonment_lock = threading.Lock()


def cached_abandonment_rate(session: Session, *, campaign_id: int, now: datetime) -> float:
    """:func:`abandonment_rate`, reusing this process's counts for up to 2 s on big campaigns.

    The 30-day count is the gate's dearest read (about 50 ms at 166,000 answered calls, even
    index-only). A campaign with fewer than :data:`ABANDONMENT_CACHE_MIN_ANSWERED` live answers is
    counted afresh on every decision (cheap, and one call moves its rate visibly). Above that, the
    counts are reused for :data:`ABANDONMENT_CACHE_SECONDS` of wall-clock time while ``now`` (the
    product clock) stays within the same span of the time they were counted at: calls that end in
    those 2 s are missed, which moves a 30-day rate over 1,000+ live answers by at most
    (calls ended in 2 s) / 1,000 (47 CFR 64.1200(a)(7) measures the rate per campaign over 30 days;
    the staleness is documented in the README's "Dial engine" section). A stored decision records
    the rate it used in its facts.
    """
    key = (str(session.get_bind().engine.url), campaign_id)
    clock = time.monotonic()
    with _abandonment_lock:
        cached = _abandonment_cache.get(key)
    if cached is not None:
        counted_at, counted_now, answered, abandoned = cached
        if (
            clock - counted_at <= ABANDONMENT_CACHE_SECONDS
            and abs((now - counted_now).total_seconds()) <= ABANDONMENT_CACHE_SECONDS
        ):
            return abandonment_fraction(answered, abandoned)
    answered, abandoned = abandonment_counts(session, campaign_id=campaign_id, now=now)
    with _abandonment_lock:
        if answered >= ABANDONMENT_CACHE_MIN_ANSWERED:
            _abandonment_cache[key] = (clock, now, answered, abandoned)
        else:
            _abandonment_cache.pop(key, None)
    return abandonment_fraction(answered, abandoned)


def _ebr(session: Session, phone_e164: str, seller: str) -> Ebr | None:
    rows = session.scalars(_EBR, {"phone": phone_e164}).all()
    for row in rows:
        if same_seller(row.seller_name, seller):
            return Ebr(type=row.kind, at=row.occurred_at)
    return None


def _scalar_facts(
    session: Session, phone_e164: str
) -> tuple[datetime | None, frozenset[str], RndResult | None]:
    """``(internal DNC requested_at, emergency flags on, latest RND answer)`` in one statement.

    The internal DNC entry is the latest request for the number; the RND answer is the one
    :func:`dialer.registry.rnd.latest_rnd` returns (latest ``queried_at``, then latest stored).
    """
    row = session.execute(_SCALAR_FACTS, {"phone": phone_e164}).one()
    internal, flags_on, queried_at, consent_date, result = row
    answer = None if queried_at is None else RndResult(queried_at, consent_date, result)
    return internal, frozenset(flags_on.split(",") if flags_on else ()), answer


def gather_call_facts(
    session: Session, *, lead: Lead, campaign: Campaign, now: datetime, registry: RegistryStore
) -> CallFacts:
    """Read every fact the gate needs for ``lead`` now, from the database and the registry files.

    Raises:
        dialer.registry.store.RegistryError: a registry file is unreadable (the caller fails closed).
    """
    hits = registry.lookup(lead.phone_e164)
    age = registry.national_age(now)
    internal, emergencies, rnd = _scalar_facts(session, lead.phone_e164)
    address = None
    if lead.state or lead.zip:
        address = Address(state=lead.state, zip=lead.zip)
    return CallFacts(
        lead=LeadFacts(
            phone_e164=lead.phone_e164,
            address=address,
            consents=_consents(session, lead),
            ebr=_ebr(session, lead.phone_e164, campaign.seller_name),
            national_dnc=hits.national if hits.national_present else None,
            state_dnc=hits.state_lists,
            internal_dnc_requested_at=internal,
            call_history=_history(session, lead.phone_e164, now=now),
            rnd=rnd,
        ),
        campaign=CampaignFacts(
            seller=campaign.seller_name,
            subject=campaign.subject,
            dnc_data_age_days=None if age is None else age.total_seconds() / 86400,
            abandonment_rate_30d=cached_abandonment_rate(session, campaign_id=campaign.id, now=now),
            active_emergencies=emergencies,
        ),
    )


def decide_and_record(
    session: Session, *, lead: Lead, campaign: Campaign, now: datetime, registry: RegistryStore
) -> tuple[Decision, GateDecisionRecord]:
    """Evaluate the gate for ``lead`` at ``now``, store the decision and its audit event.

    A failure while gathering facts (an unreadable registry file, say) is itself a decision: the
    gate's ``GATE_ERROR`` block, stored like any other (fail closed, DESIGN rule 1).

    Returns:
        The decision and its stored row (flushed, so it has an id).
    """
    try:
        facts = gather_call_facts(session, lead=lead, campaign=campaign, now=now, registry=registry)
    except Exception as exc:  # fail closed: DESIGN rule 1
        decision = error_decision(None, None, now, exc)
    else:
        decision = evaluate(facts, None, now)
    record = GateDecisionRecord(
        campaign_id=campaign.id,
        lead_id=lead.id,
        decided_at=decision.evaluated_at,
        allowed=decision.allowed,
        reasons=[str(r) for r in decision.reason_codes],
        warnings=list(decision.warnings),
        rule_data_version=decision.rule_data_version,
        trace=[c.to_dict() for c in decision.trace],
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
            "warnings": record.warnings,
            "zones": list(decision.zones),
            "states": list(decision.states),
            "next_allowed_at": decision.next_allowed_at,
            "rule_data_version": decision.rule_data_version,
            "phone_e164": lead.phone_e164,
            "trace": record.trace,
        },
    )
    return decision, record
