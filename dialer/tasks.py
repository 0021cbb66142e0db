"""Celery tasks: thin wrappers that take ids, call a service, and enqueue after commit."""

from __future__ import annotations

import logging
import math
from collections import Counter
from datetime import timedelta

from dialer.audit import seal_pending
from dialer.calls.reconcile import reconcile_overdue_calls, reconcile_requesting_attempts
from dialer.celery_app import app
from dialer.db import transaction
from dialer.dialing import claim_dialable_leads, complete_finished_campaigns, dial_batch
from dialer.runtime import get_runtime

log = logging.getLogger(__name__)


@app.task(name="dialer.tick", ignore_result=True)
def tick() -> int:
    """Claim dialable leads of running campaigns and enqueue them as ``dialer.dial_batch`` tasks.

    The claim is the free capacity (see :func:`claim_dialable_leads`); it is published in batches
    of at most ``settings.dial_batch_size`` lead ids, in claim order (so a batch mostly holds
    one campaign's leads), for as many workers as are free to take.

    Returns:
        How many leads were enqueued.
    """
    runtime = get_runtime()
    requeue_after = timedelta(seconds=runtime.settings.requeue_after_seconds)
    settings = runtime.settings
    # No more than the CPS lets the tasks dial before their slot wait runs out.
    batch_limit = max(1, math.ceil(settings.dial_cps * settings.slot_wait_seconds))
    with transaction(runtime.sessions) as session:
        lead_ids = claim_dialable_leads(
            session,
            now=runtime.clock.now(),
            requeue_after=requeue_after,
            capacity=runtime.capacity,
            batch_limit=batch_limit,
        )
    size = settings.dial_batch_size
    for start in range(0, len(lead_ids), size):  # after commit: a task never sees an unclaimed lead
        dial_batch_task.delay(lead_ids[start : start + size])
    reconcile_requesting_attempts(runtime)
    reconcile_overdue_calls(runtime)
    with transaction(runtime.sessions) as session:
        complete_finished_campaigns(session, now=runtime.clock.now())
    return len(lead_ids)


@app.task(name="dialer.dial_batch", ignore_result=True, acks_late=True)
def dial_batch_task(lead_ids: list[int]) -> dict[str, int]:
    """Gate and dial a batch of claimed leads, set-based (idempotent: see :mod:`dialer.dialing.dial`).

    Returns:
        How many leads ended in each result, e.g. ``{"placed": 48, "blocked": 2}``.
    """
    results = dial_batch(get_runtime(), lead_ids)
    counts = Counter(str(r) for r in results.values())
    log.info("dial batch of %s leads: %s", len(lead_ids), dict(counts))
    return dict(counts)


@app.task(name="dialer.dial", ignore_result=True, acks_late=True)
def dial(lead_id: int) -> str:
    """Gate and dial one claimed lead: a batch of one (idempotent: see :mod:`dialer.dialing.dial`)."""
    result = dial_batch(get_runtime(), [lead_id])[lead_id]
    log.info("dial lead=%s result=%s", lead_id, result)
    return str(result)


@app.task(name="dialer.audit_seal", ignore_result=True)
def audit_seal() -> int:
    """Seal the audit events committed since the last seal (see :mod:`dialer.audit.sealing`).

    Returns:
        How many events were sealed.
    """
    runtime = get_runtime()
    with transaction(runtime.sessions) as session:
        return seal_pending(session, now=runtime.clock.now()).events
