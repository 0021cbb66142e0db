"""The CRM's Celery tasks: the outbox drain and its pruning, on the ``crm`` queue.

Beat runs them (``crm-outbox-drain``, ``crm-outbox-prune``); :data:`dialer.celery_app.CRM_QUEUE`
routes them.

Registered with :data:`dialer.celery_app.app` by name (its ``include`` lists ``crm.tasks``), so
the engine itself never imports the CRM.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx

from crm.outbox import build_destinations, drain
from dialer.celery_app import app
from dialer.db import transaction
from dialer.outbox.prune import prune_delivered
from dialer.runtime import get_runtime

log = logging.getLogger(__name__)


@app.task(name="crm.outbox_drain", ignore_result=True)
def outbox_drain() -> dict[str, int]:
    """Deliver what the outbox holds (see :func:`crm.outbox.drain`); idempotent, safe to overlap.

    Returns:
        ``{"routed": n, "pending": n, "delivered": n, "dead": n}`` for this run.
    """
    runtime = get_runtime()
    timeout = httpx.Timeout(runtime.settings.crm.hubspot.timeout_seconds)
    with httpx.Client(timeout=timeout, follow_redirects=False) as http:
        report = drain(runtime, build_destinations(runtime.settings, http)).as_dict()
    if any(report.values()):
        log.info("outbox drain: %s", report)
    return report


@app.task(name="crm.outbox_prune", ignore_result=True)
def outbox_prune() -> dict[str, int]:
    """Delete delivered messages older than ``crm.outbox.keep_delivered_days`` (and bare old events).

    Returns:
        ``{"messages": n, "events": n}`` deleted by this run (at most 10,000 of each).
    """
    runtime = get_runtime()
    keep = timedelta(days=runtime.settings.crm.outbox.keep_delivered_days)
    with transaction(runtime.sessions) as session:
        messages, events = prune_delivered(session, before=runtime.clock.now() - keep)
    if messages or events:
        log.info("outbox prune: %d messages, %d events", messages, events)
    return {"messages": messages, "events": events}
