"""The CRM's Celery task: the outbox drain, run by beat (``crm-outbox-drain``).

Registered with :data:`dialer.celery_app.app` by name (its ``include`` lists ``crm.tasks``), so
the engine itself never imports the CRM.
"""

from __future__ import annotations

import logging

import httpx

from crm.outbox import build_destinations, drain
from dialer.celery_app import app
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
