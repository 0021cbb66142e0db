"""The set-based dial transaction: lock a batch's leads, gate them all, write every row in bulk.

In ONE transaction (DESIGN rule 2; the caller commits): the batch's leads are locked
(``SELECT ... FOR UPDATE`` in id order, so two batches never deadlock), the gate's facts for all
of them are read set-based (:mod:`dialer.dialing.facts`), the pure gate decides per lead
(:func:`compliance.evaluate`), and the decisions, attempts, dispositions and audit events are
inserted with SQLAlchemy Core bulk statements (``RETURNING`` ids in parameter order), the leads
updated in bulk. A DNC request or revocation committed before the lock blocks its lead's call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Table, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from compliance import Decision, error_decision, evaluate
from dialer.audit import append_events
from dialer.calls.carrier import PlaceCallRequest
from dialer.dialing.attempt import (
    attempt_event,
    attempt_row,
    call_request,
    decision_event,
    decision_row,
    skip_rows,
)
from dialer.dialing.facts import LeadRow, gather_batch_facts
from dialer.models import (
    ACTIVE_ATTEMPT_STATUSES,
    CallAttempt,
    Callback,
    CallbackStatus,
    Campaign,
    CampaignStatus,
    Disposition,
    GateDecisionRecord,
    Lead,
    LeadStatus,
)
from dialer.registry import registry_store

if TYPE_CHECKING:
    from dialer.runtime import Runtime


class DialResult(StrEnum):
    """What one execution of the dial did for one lead."""

    NOT_QUEUED = "not_queued"
    CAMPAIGN_NOT_RUNNING = "campaign_not_running"
    AT_CAPACITY = "at_capacity"
    SLOT_EXPIRED = "slot_expired"
    BLOCKED = "blocked"
    PLACED = "placed"
    CARRIER_REFUSED = "carrier_refused"
    OUTCOME_UNKNOWN = "outcome_unknown"


@dataclass(frozen=True)
class Prepared:
    """An attempt created ``requesting`` in the committed transaction, its request not sent yet."""

    attempt_id: int
    campaign_id: int
    lead_id: int
    request: PlaceCallRequest

    @property
    def id(self) -> int:
        """The attempt id (the audit log's attempt-like shape)."""
        return self.attempt_id


@dataclass
class Decided:
    """The outcome of :func:`decide_batch`: leads settled without a call, and attempts to send."""

    results: dict[int, DialResult] = field(default_factory=dict)
    prepared: list[Prepared] = field(default_factory=list)


_CALLBACK_PENDING = (
    select(Callback.id).where(Callback.lead_id == Lead.id, Callback.status == CallbackStatus.PENDING).exists()
)
_LOCK = (
    select(
        Lead.id,
        Lead.campaign_id,
        Lead.phone_e164,
        Lead.state,
        Lead.zip,
        Lead.attempt_count,
        Lead.status,
        Campaign.status.label("campaign_status"),
        Campaign.seller_name,
        Campaign.subject,
        Campaign.caller_id,
        Campaign.max_concurrent_calls,
        Campaign.max_attempts,
        Campaign.retry_delay_seconds,
        Campaign.record_calls,
        Campaign.max_call_seconds,
        _CALLBACK_PENDING.label("has_callback"),
    )
    .join(Campaign, Campaign.id == Lead.campaign_id)
    .where(Lead.id.in_(bindparam("lead_ids", expanding=True)))
    .order_by(Lead.id)
)
_LOCK_LEADS = _LOCK.with_for_update(of=[Lead.__table__])
_LOCK_LEADS_AND_CAMPAIGNS = _LOCK.with_for_update(of=[Lead.__table__, Campaign.__table__])
_LEADS = cast(Table, Lead.__table__)
_IDS: Any = bindparam("lead_ids", expanding=True)
_RELEASE = (
    update(_LEADS)
    .where(_LEADS.c.id.in_(_IDS), _LEADS.c.status == LeadStatus.QUEUED.value)
    .values(
        status=case((_LEADS.c.attempt_count == 0, LeadStatus.PENDING.value), else_=LeadStatus.WAITING.value),
        queued_at=None,
    )
)
_DIALING = (
    update(_LEADS)
    .where(_LEADS.c.id.in_(_IDS))
    .values(status=LeadStatus.IN_PROGRESS.value, attempt_count=_LEADS.c.attempt_count + 1, queued_at=None)
)
_SKIPPED = (
    update(_LEADS)
    .where(_LEADS.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        last_disposition=bindparam("b_last"),
        queued_at=None,
    )
)
_CALLBACKS_DONE = (
    update(cast(Table, Callback.__table__))
    .where(
        Callback.lead_id.in_(_IDS),
        Callback.status == CallbackStatus.PENDING,
        Callback.due_at <= bindparam("now"),
    )
    .values(status=CallbackStatus.DONE.value)
)
_DECISIONS = cast(Table, GateDecisionRecord.__table__)
_INSERT_DECISIONS = insert(_DECISIONS).returning(_DECISIONS.c.id, sort_by_parameter_order=True)
_ATTEMPTS = cast(Table, CallAttempt.__table__)
_INSERT_ATTEMPTS = insert(_ATTEMPTS).returning(_ATTEMPTS.c.id, sort_by_parameter_order=True)
_INSERT_DISPOSITIONS = insert(cast(Table, Disposition.__table__))
_ACTIVE = (
    select(CallAttempt.campaign_id, func.count())
    .where(CallAttempt.status.in_([s.value for s in ACTIVE_ATTEMPT_STATUSES]))
    .group_by(CallAttempt.campaign_id)
)


def release_leads(conn: Connection, lead_ids: list[int]) -> None:
    """Claimed leads not dialed now go back to the hopper: queued ones become ``pending``/``waiting``."""
    if lead_ids:
        conn.execute(_RELEASE, {"lead_ids": lead_ids})


def _lock(session: Session, lead_ids: list[int], *, counts_in_database: bool) -> list[Any]:
    if session.get_bind().dialect.name == "sqlite":  # BEGIN IMMEDIATE holds the write lock
        query = _LOCK
    else:  # without leases the campaign rows serialise their dials' counts
        query = _LOCK_LEADS_AND_CAMPAIGNS if counts_in_database else _LOCK_LEADS
    return list(session.connection().execute(query, {"lead_ids": lead_ids}))


def _with_room(conn: Connection, rows: list[Any], total_limit: int) -> tuple[list[Any], list[Any]]:
    """``(rows with room, rows without)`` when live calls are counted from the attempts."""
    active: dict[int, int] = {campaign_id: n for campaign_id, n in conn.execute(_ACTIVE)}
    total_room = total_limit - sum(active.values()) if total_limit >= 0 else len(rows)
    used: dict[int, int] = {}
    kept, full = [], []
    for row in rows:
        taken = used.get(row.campaign_id, 0)
        if total_room > 0 and row.max_concurrent_calls - active.get(row.campaign_id, 0) - taken > 0:
            used[row.campaign_id] = taken + 1
            total_room -= 1
            kept.append(row)
        else:
            full.append(row)
    return kept, full


def _dialable(
    session: Session,
    lead_ids: list[int],
    decided: Decided,
    *,
    counts_in_database: bool,
    total_limit: int,
) -> list[Any]:
    """Lock the leads; return the rows still queued in a running campaign (with room).

    The rest are settled now: not queued any more (a duplicate task), or given back to the
    hopper (campaign not running; no room when live calls are counted in the database).
    """
    rows = _lock(session, lead_ids, counts_in_database=counts_in_database)
    conn = session.connection()
    queued = [r for r in rows if r.status == LeadStatus.QUEUED]
    for lead_id in set(lead_ids) - {r.id for r in queued}:
        decided.results[lead_id] = DialResult.NOT_QUEUED
    live = [r for r in queued if r.campaign_status == CampaignStatus.RUNNING]
    stopped = [r for r in queued if r.campaign_status != CampaignStatus.RUNNING]
    decided.results.update({r.id: DialResult.CAMPAIGN_NOT_RUNNING for r in stopped})
    full: list[Any] = []
    if counts_in_database and live:
        live, full = _with_room(conn, live, total_limit)
        decided.results.update({r.id: DialResult.AT_CAPACITY for r in full})
    release_leads(conn, [r.id for r in stopped + full])
    return live


def _decide(facts: Any, now: datetime) -> Decision:
    if isinstance(facts, Exception):  # the facts could not be read: fail closed (DESIGN rule 1)
        return error_decision(None, None, now, facts)
    try:
        return evaluate(facts, None, now)
    except Exception as exc:  # evaluate fails closed itself; this is belt and braces
        return error_decision(facts, None, now, exc)


def _lead(row: Any) -> LeadRow:
    return LeadRow(row.id, row.campaign_id, row.phone_e164, row.state, row.zip, row.attempt_count)


def decide_batch(
    session: Session, runtime: Runtime, *, lead_ids: list[int], counts_in_database: bool, total_limit: int
) -> Decided:
    """Lock, gate and write the dial of every lead in ``lead_ids`` (the caller commits once).

    Args:
        lead_ids: claimed leads whose pacing slots and leases are already held.
        counts_in_database: live calls are counted from the attempts (no leases): the campaign
            rows are locked too and leads beyond the room go back (``AT_CAPACITY``).
        total_limit: live calls allowed over every campaign (-1: no limit).

    Returns:
        Each lead's result if it is settled without a call, and the attempts created (in lead
        id order) whose requests the caller sends after commit.
    """
    decided = Decided()
    rows = _dialable(
        session, lead_ids, decided, counts_in_database=counts_in_database, total_limit=total_limit
    )
    if not rows:
        return decided
    now = runtime.clock.now()  # after the lock: the gate judges the moment the call is placed
    leads = [_lead(r) for r in rows]
    campaigns = {r.campaign_id: r for r in rows}
    facts = gather_batch_facts(
        session, leads=leads, campaigns=campaigns, now=now, registry=registry_store(runtime.settings)
    )
    decisions = [_decide(facts[lead.id], now) for lead in leads]
    _write(session, runtime, rows, leads, decisions, decided, now)
    return decided


def _write(
    session: Session,
    runtime: Runtime,
    rows: list[Any],
    leads: list[LeadRow],
    decisions: list[Decision],
    decided: Decided,
    now: datetime,
) -> None:
    """Insert the decisions, then the attempts or skips, their events in per-lead order; update leads."""
    conn = session.connection()
    decision_rows = [decision_row(d, lead) for d, lead in zip(decisions, leads, strict=True)]
    decision_ids = list(conn.execute(_INSERT_DECISIONS, decision_rows).scalars())
    attempts, skips, skipped_leads, events_by_lead = [], [], [], []
    for row, lead, decision, values, decision_id in zip(
        rows, leads, decisions, decision_rows, decision_ids, strict=True
    ):
        event = decision_event(decision, values, decision_id, lead, now)
        if decision.allowed:
            attempts.append(attempt_row(lead, row.caller_id, decision_id, now))
            events_by_lead.append([event])
            continue
        disposition, skip_event, lead_values = skip_rows(
            lead,
            decision,
            decision_id,
            max_attempts=row.max_attempts,
            retry_delay_seconds=row.retry_delay_seconds,
            now=now,
        )
        skips.append(disposition)
        skipped_leads.append(lead_values)
        events_by_lead.append([event, skip_event])
        decided.results[lead.id] = DialResult.BLOCKED
    attempt_ids = list(conn.execute(_INSERT_ATTEMPTS, attempts).scalars()) if attempts else []
    allowed = [(r, e) for r, d, e in zip(rows, decisions, events_by_lead, strict=True) if d.allowed]
    for (row, events), values, attempt_id in zip(allowed, attempts, attempt_ids, strict=True):
        events.append(attempt_event(values, attempt_id, now))
        request = call_request(
            runtime,
            attempt_id=attempt_id,
            to=row.phone_e164,
            from_=row.caller_id,
            record=row.record_calls,
            max_call_seconds=row.max_call_seconds,
        )
        decided.prepared.append(Prepared(attempt_id, row.campaign_id, row.id, request))
    _bulk(
        conn,
        skips,
        skipped_leads,
        [r.id for r, _ in allowed],
        [r.id for r, _ in allowed if r.has_callback],
        now,
    )
    append_events(session, [e for events in events_by_lead for e in events])


def _bulk(
    conn: Connection,
    skips: list[dict[str, Any]],
    skipped_leads: list[dict[str, Any]],
    dialing: list[int],
    with_callback: list[int],
    now: datetime,
) -> None:
    """The skips' dispositions and lead states, the dialed leads' state, their due callbacks done."""
    if skips:
        conn.execute(_INSERT_DISPOSITIONS, skips)
        conn.execute(_SKIPPED, skipped_leads)
    if dialing:
        conn.execute(_DIALING, {"lead_ids": dialing})
    if with_callback:  # the due ones are done: this call is the callback
        conn.execute(_CALLBACKS_DONE, {"lead_ids": with_callback, "now": now})
