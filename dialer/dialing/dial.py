"""The dial step, set-based: take capacity for a batch, gate and create its attempts at once, place the calls.

Decide after the wait (issue 7): a batch of claimed leads first takes k of N pacing slots and
live-call leases in one capacity call (:func:`dialer.calls.capacity.acquire_many`, a bounded
wait; leads that got no slot in time go back to the hopper, neither dropped nor dialed), then,
in ONE transaction with the leads locked (:mod:`dialer.dialing.decide`), reads fresh facts for
all of them, evaluates the gate per lead (DESIGN rule 2), stores the decisions and creates the
attempts in bulk; after commit the requests go out at once, concurrently
(:mod:`dialer.dialing.placing`). A DNC request, a revocation or a closing calling window that
commits while the batch waits for its slots therefore blocks the call. Slots the gate did not
use are given back. :func:`dial_lead` is a batch of one: there is one code path.

One call per attempt (DESIGN rule 3) rests on three guards:

1. The tick claims a lead by moving it ``pending|waiting -> queued`` under ``FOR UPDATE SKIP
   LOCKED``; the dial only proceeds for a ``queued`` lead it has locked, and moves it to
   ``in_progress`` in the same transaction that creates the attempt. A task delivered twice
   finds the lead no longer ``queued`` and does nothing.
2. The attempt is created in state ``requesting`` and the REST request is sent only by the task
   execution that created it, after commit. Nothing ever re-sends a ``requesting`` attempt: if
   the outcome of the request is unknown (worker died, transport error), reconciliation looks the
   call up at the carrier and adopts it, or gives the attempt up as ``unknown``.
3. The CallSid is stored with ``call_sid IS NULL`` guards, and status callbacks find the attempt
   by the id in their URL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import redis
from sqlalchemy import bindparam, select

from dialer.calls.capacity import UNLIMITED, Capacity, Lease, acquire_many
from dialer.calls.capacity_stores import LocalCapacity
from dialer.calls.reconcile import fail_attempt
from dialer.db import transaction
from dialer.dialing.decide import DialResult, Prepared, decide_batch, release_leads
from dialer.dialing.placing import place_calls
from dialer.models import Campaign, Lead, LeadStatus

if TYPE_CHECKING:
    from dialer.runtime import Runtime

__all__ = ["DialResult", "Prepared", "dial_batch", "dial_lead", "fail_attempt"]

log = logging.getLogger(__name__)

_UNPACED = LocalCapacity()
"""Used when a runtime names no capacity (tests' hand-built runtimes): no CPS limit."""

_PEEK = (
    select(Lead.id, Lead.status, Campaign.id, Campaign.caller_id, Campaign.max_concurrent_calls)
    .join(Campaign, Campaign.id == Lead.campaign_id)
    .where(Lead.id.in_(bindparam("lead_ids", expanding=True)))
    .order_by(Lead.id)
)

_Group = tuple[int, str, int]
"""``(campaign id, caller ID, campaign cap)``: the leads that share one set of capacity keys."""


def _peek(runtime: Runtime, lead_ids: list[int]) -> dict[_Group, list[int]]:
    """The queued leads among ``lead_ids`` by campaign and caller ID, read without locks."""
    params = {"lead_ids": lead_ids}
    engine = runtime.sessions.kw.get("bind")
    if engine is not None and engine.dialect.name == "postgresql":
        # One autocommit read: no BEGIN/COMMIT round trips, no locks.
        with engine.connect() as connection:
            rows = connection.execution_options(isolation_level="AUTOCOMMIT").execute(_PEEK, params).all()
    else:
        with runtime.sessions() as session:
            rows = session.execute(_PEEK, params).all()
    groups: dict[_Group, list[int]] = {}
    for lead_id, status, campaign_id, caller_id, cap in rows:
        if status == LeadStatus.QUEUED:
            groups.setdefault((campaign_id, caller_id, cap), []).append(lead_id)
    return groups


def _give_leads_back(runtime: Runtime, lead_ids: list[int]) -> None:
    """No capacity in time: the claimed leads return to the hopper (its next tick claims them again)."""
    with transaction(runtime.sessions) as session:
        release_leads(session.connection(), lead_ids)


def _give_back(capacity: Capacity, leases: list[Lease]) -> None:
    try:
        capacity.give_back_many(leases)
    except redis.RedisError as exc:  # the slots and leases expire on their own
        log.warning("could not give back %s leases: %s", len(leases), exc)


def _dial_chunk(
    runtime: Runtime, capacity: Capacity, lead_ids: list[int], leases: list[Lease]
) -> dict[int, DialResult]:
    """Gate and create the attempts of ``lead_ids`` (one slot each, held), then place the calls."""
    try:
        with transaction(runtime.sessions) as session:
            decided = decide_batch(
                session,
                runtime,
                lead_ids=lead_ids,
                counts_in_database=capacity.counts_in_database,
                total_limit=capacity.limits.total_concurrent,
            )
    except BaseException:
        _give_back(capacity, leases)
        raise
    used = len(decided.prepared)
    if used < len(leases):
        _give_back(capacity, leases[used:])
    if not decided.prepared:
        return decided.results
    return {
        **decided.results,
        **place_calls(runtime, capacity, list(zip(leases, decided.prepared, strict=False))),
    }


def _take(capacity: Capacity, group: _Group, count: int, timeout_s: float) -> list[Lease]:
    campaign_id, caller_id, cap = group
    try:
        return acquire_many(
            capacity,
            campaign_id=campaign_id,
            caller_id=caller_id,
            campaign_limit=UNLIMITED if capacity.counts_in_database else cap,
            count=count,
            timeout_s=timeout_s,
        )
    except redis.RedisError as exc:  # Redis down or restarting: nothing decided yet, try again later
        log.warning("no capacity for %s leads, Redis failed: %s; they go back", count, exc)
        return []


def _dial_group(
    runtime: Runtime, capacity: Capacity, group: _Group, lead_ids: list[int]
) -> dict[int, DialResult]:
    """Dial one campaign's and caller ID's leads in chunks as slots are granted, until the wait ends."""
    results: dict[int, DialResult] = {}
    deadline = time.monotonic() + runtime.settings.slot_wait_seconds
    remaining = lead_ids
    while remaining:
        leases = _take(capacity, group, len(remaining), max(0.0, deadline - time.monotonic()))
        if not leases:
            break
        chunk, remaining = remaining[: len(leases)], remaining[len(leases) :]
        results.update(_dial_chunk(runtime, capacity, chunk, leases))
    if remaining:
        _give_leads_back(runtime, remaining)
        results.update({lead_id: DialResult.AT_CAPACITY for lead_id in remaining})
    return results


def dial_batch(runtime: Runtime, lead_ids: Iterable[int]) -> dict[int, DialResult]:
    """Take capacity, gate the claimed leads and place exactly one call per new attempt, set-based.

    Order (see the module docstring): k of N pacing slots and leases per campaign and caller ID
    (waiting at most ``settings.slot_wait_seconds`` in all; leads without one by then go back,
    ``AT_CAPACITY``), then one transaction per granted chunk with its leads locked (gate,
    decisions, attempts, in bulk), then the requests at once. Safe to run any number of times
    for the same lead ids.

    Args:
        lead_ids: claimed lead ids (duplicates are dialed once).

    Returns:
        Lead id -> what this execution did for it.

    Raises:
        Nothing for carrier failures: they are recorded on the attempts and their leads.
    """
    capacity = runtime.capacity or _UNPACED
    ids = list(dict.fromkeys(lead_ids))
    groups = _peek(runtime, ids)
    results = {lead_id: DialResult.NOT_QUEUED for lead_id in ids}
    for group, members in groups.items():
        results.update(_dial_group(runtime, capacity, group, members))
    return results


def dial_lead(runtime: Runtime, *, lead_id: int) -> DialResult:
    """:func:`dial_batch` of one lead: its result (``PLACED``, ``BLOCKED``, ``AT_CAPACITY``, ...)."""
    return dial_batch(runtime, [lead_id])[lead_id]
