"""Selection (the hopper): which leads the tick hands to dial tasks, and when a campaign is done.

The tick claims leads by moving them ``pending|waiting -> queued`` under ``FOR UPDATE SKIP
LOCKED``, per running campaign, in this order:

1. callbacks due (a pending :class:`~dialer.models.Callback` with ``due_at`` passed),
2. retries due (``waiting`` with ``next_attempt_at`` passed: retry delays, and calling windows or
   caps a gate decision deferred to its ``next_allowed_at``),
3. new leads (``pending``),

each in ``priority`` order (higher first), then oldest due (or first imported) first. A lead not
yet due is never read: every query is a range scan on a partial index that matches it (migration
0005), one priority level at a time, so a tick costs the same at 10 k and 1 M leads
(``bench/hopper.py``). The batch follows free capacity: the campaign's cap (and the dialer's
total cap) less its live leases and the leads already queued.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from dialer.audit import record_event
from dialer.calls.capacity import UNLIMITED, Capacity
from dialer.db import lock_for_update
from dialer.models import (
    ACTIVE_ATTEMPT_STATUSES,
    FINAL_LEAD_STATUSES,
    CallAttempt,
    Callback,
    CallbackStatus,
    Campaign,
    CampaignStatus,
    Lead,
    LeadStatus,
)

OPEN_LEAD_STATUSES = tuple(s for s in LeadStatus if s not in FINAL_LEAD_STATUSES)


def active_attempts(session: Session, *, campaign_id: int | None = None) -> int:
    """Attempts whose call has not ended (of one campaign, or of all when ``campaign_id`` is None)."""
    query = (
        select(func.count())
        .select_from(CallAttempt)
        .where(CallAttempt.status.in_(list(ACTIVE_ATTEMPT_STATUSES)))
    )
    if campaign_id is not None:
        query = query.where(CallAttempt.campaign_id == campaign_id)
    return session.scalar(query) or 0


def _queued(session: Session, campaign_id: int | None = None) -> int:
    query = select(func.count()).select_from(Lead).where(Lead.status == LeadStatus.QUEUED)
    if campaign_id is not None:
        query = query.where(Lead.campaign_id == campaign_id)
    return session.scalar(query) or 0


def _by_priority(
    session: Session,
    *,
    campaign_id: int,
    status: LeadStatus,
    due: ColumnElement[bool],
    order: tuple[InstrumentedAttribute[Any], ...],
    limit: int,
) -> list[Lead]:
    """Lock up to ``limit`` due leads of one status, highest priority level first.

    One index probe finds the next priority level present, one range scan takes its due leads, so
    leads not yet due and lower levels are never read.
    """
    taken: list[Lead] = []
    level: int | None = None
    while len(taken) < limit:
        probe = select(func.max(Lead.priority)).where(Lead.campaign_id == campaign_id, Lead.status == status)
        if level is not None:
            probe = probe.where(Lead.priority < level)
        level = session.scalar(probe)
        if level is None:
            break
        rows = session.scalars(
            lock_for_update(
                select(Lead)
                .where(Lead.campaign_id == campaign_id, Lead.status == status, Lead.priority == level, due)
                .order_by(*order)
                .limit(limit - len(taken)),
                session,
                skip_locked=True,
            )
        ).all()
        taken.extend(rows)
    return taken


def _callbacks_due(session: Session, *, campaign_id: int, now: datetime, limit: int) -> list[Lead]:
    rows = session.scalars(
        lock_for_update(
            select(Lead)
            .join(Callback, Callback.lead_id == Lead.id)
            .where(
                Callback.campaign_id == campaign_id,
                Callback.status == CallbackStatus.PENDING,
                Callback.due_at <= now,
                Lead.status == LeadStatus.WAITING,
                or_(Lead.next_attempt_at.is_(None), Lead.next_attempt_at <= now),
            )
            .order_by(Lead.priority.desc(), Callback.due_at, Lead.id)
            .limit(limit),
            session,
            skip_locked=True,
        )
    ).all()
    return list(dict.fromkeys(rows))


def _claim_campaign(session: Session, *, campaign: Campaign, now: datetime, room: int) -> list[Lead]:
    leads = _callbacks_due(session, campaign_id=campaign.id, now=now, limit=room)
    for lead in leads:
        lead.status = LeadStatus.QUEUED
        lead.queued_at = now
    queues: list[Callable[[int], list[Lead]]] = [
        lambda n: _by_priority(
            session,
            campaign_id=campaign.id,
            status=LeadStatus.WAITING,
            due=Lead.next_attempt_at <= now,
            order=(Lead.next_attempt_at, Lead.id),
            limit=n,
        ),
        lambda n: _by_priority(
            session,
            campaign_id=campaign.id,
            status=LeadStatus.PENDING,
            due=or_(Lead.next_attempt_at.is_(None), Lead.next_attempt_at <= now),
            order=(Lead.id,),
            limit=n,
        ),
    ]
    for queue in queues:
        if len(leads) >= room:
            break
        batch = queue(room - len(leads))
        for lead in batch:  # queued at once, so the next queue's query no longer sees them
            lead.status = LeadStatus.QUEUED
            lead.queued_at = now
        leads.extend(batch)
    return leads


def claim_dialable_leads(
    session: Session,
    *,
    now: datetime,
    requeue_after: timedelta,
    capacity: Capacity | None = None,
    batch_limit: int | None = None,
) -> list[int]:
    """Claim leads to dial now, per running campaign, within free capacity (see the module docstring).

    Each running campaign's row is locked, so overlapping ticks count each other's claims and never
    exceed the cap together; lead rows locked by anyone else (a DNC update, a dial task) are
    skipped, not waited for. Leads ``queued`` longer than ``requeue_after`` (their task was lost)
    are returned again; the dial task is idempotent. Runs in the caller's transaction; enqueue the
    returned ids only after it commits.

    Args:
        capacity: where live calls are counted (leases); None or a database-counting capacity
            counts live attempts in the database.
        batch_limit: most leads to claim in this tick over every campaign (e.g. what the CPS can
            dial before the tasks' slot wait runs out); None for no limit.

    Returns:
        Lead ids to enqueue dial tasks for.
    """
    claimed: list[int] = []
    leased = capacity is not None and not capacity.counts_in_database
    total_limit = capacity.limits.total_concurrent if capacity is not None else UNLIMITED
    total_room: int | None = None
    budget = batch_limit
    running = lock_for_update(
        select(Campaign).where(Campaign.status == CampaignStatus.RUNNING).order_by(Campaign.id), session
    )
    for campaign in session.scalars(running).all():
        stale = session.scalars(
            lock_for_update(
                select(Lead).where(
                    Lead.campaign_id == campaign.id,
                    Lead.status == LeadStatus.QUEUED,
                    Lead.queued_at < now - requeue_after,
                ),
                session,
                skip_locked=True,
            )
        ).all()
        for lead in stale:
            lead.queued_at = now
            claimed.append(lead.id)
        if leased:
            assert capacity is not None
            live, total_live = capacity.in_use(campaign_id=campaign.id)
        else:
            live = active_attempts(session, campaign_id=campaign.id)
            total_live = active_attempts(session) if total_limit >= 0 else 0
        room = campaign.max_concurrent_calls - live - _queued(session, campaign.id)
        if total_limit >= 0:
            if total_room is None:
                total_room = total_limit - total_live - _queued(session)
            room = min(room, total_room)
        if budget is not None:
            room = min(room, budget)
        if room <= 0:
            continue
        leads = _claim_campaign(session, campaign=campaign, now=now, room=room)
        claimed.extend(lead.id for lead in leads)
        if total_room is not None:
            total_room -= len(leads)
        if budget is not None:
            budget -= len(leads)
    return claimed


def complete_finished_campaigns(session: Session, *, now: datetime) -> list[int]:
    """Mark running campaigns whose every lead is final as ``completed``; return their ids.

    One index probe per campaign (is there any open lead?), not a count of its leads.
    """
    done: list[int] = []
    for campaign in session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.RUNNING)):
        has_open = session.scalar(
            select(exists().where(Lead.campaign_id == campaign.id, Lead.status.in_(list(OPEN_LEAD_STATUSES))))
        )
        if not has_open and active_attempts(session, campaign_id=campaign.id) == 0:
            campaign.status = CampaignStatus.COMPLETED
            record_event(
                session,
                kind="campaign.status",
                occurred_at=now,
                campaign_id=campaign.id,
                payload={"from": CampaignStatus.RUNNING, "to": CampaignStatus.COMPLETED},
            )
            done.append(campaign.id)
    return done
