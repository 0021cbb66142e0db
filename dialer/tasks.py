"""Celery tasks: thin wrappers that take ids, call a service, and enqueue after commit."""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from dialer.audit import seal_pending
from dialer.calls.reconcile import reconcile_overdue_calls, reconcile_requesting_attempts
from dialer.celery_app import app
from dialer.db import transaction
from dialer.dialing import claim_dialable_leads, complete_finished_campaigns, dial_lead
from dialer.runtime import get_runtime

log = logging.getLogger(__name__)


@app.task(name="dialer.tick", ignore_result=True)
def tick() -> int:
    """Claim dialable leads of running campaigns and enqueue one dial task per lead id.

    Returns:
        How many dial tasks were enqueued.
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
    for lead_id in lead_ids:  # after commit: a task never sees an unclaimed lead
        dial.delay(lead_id)
    reconcile_requesting_attempts(runtime)
    reconcile_overdue_calls(runtime)
    with transaction(runtime.sessions) as session:
        complete_finished_campaigns(session, now=runtime.clock.now())
    return len(lead_ids)


@app.task(name="dialer.dial", ignore_result=True, acks_late=True)
def dial(lead_id: int) -> str:
    """Gate and dial one claimed lead (idempotent: see :mod:`dialer.dialing`)."""
    result = dial_lead(get_runtime(), lead_id=lead_id)
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
