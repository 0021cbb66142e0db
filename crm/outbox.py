"""Draining the outbox: route new events, deliver due messages to their destinations, settle each try.

The business transactions only ever write events (:mod:`dialer.outbox.publish`); this module does
the network part outside them. One :func:`drain` run:

1. routes the new events (``DIALER_CRM__BACKEND`` and ``DIALER_CRM__WEBHOOKS`` say where each
   type goes) into messages;
2. claims due messages in batches and delivers them, a few at a time in threads (one slow
   receiver does not hold the others back), each with its destination's own timeout;
3. settles the batch's tries in one short transaction: delivered, retried after backoff, or
   dead (a drain killed before that commit leaves its messages leased: they are tried again
   when the lease ends, which the destinations make safe).

A CRM outage therefore loses nothing: the messages wait, retried with backoff, and are delivered
once it answers again; after ``max_attempts`` failures they are dead letters, shown by
``dialer crm outbox`` and re-queued by ``dialer crm retry``. Beat runs :func:`crm.tasks.outbox_drain`
every ``drain_interval_seconds``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from crm.adapters import CrmSync, Links
from crm.destinations import Destination
from crm.hubspot import HubSpotCrm
from crm.webhooks import WebhookSender
from dialer.db import transaction
from dialer.errors import DeliveryError
from dialer.models import OutboxStatus
from dialer.outbox import ClaimedMessage, claim_due, fan_out, settle
from dialer.runtime import Runtime
from dialer.settings import Settings

PARALLEL_DELIVERIES = 8
"""Deliveries in flight at once within one drain run."""


def build_destinations(settings: Settings, http: httpx.Client) -> dict[str, Destination]:
    """Every configured destination by name: ``crm:hubspot`` (backend ``hubspot``), ``webhook:<name>``."""
    secret = settings.crm.link_secret
    links = Links(
        public_url=settings.public_url,
        transcript_template=settings.crm.transcript_url,
        link_secret=secret.get_secret_value() if secret is not None else None,
    )
    found: dict[str, Destination] = {}
    if settings.crm.backend == "hubspot":
        found["crm:hubspot"] = CrmSync("crm:hubspot", HubSpotCrm(settings.crm.hubspot), links=links)
    for endpoint in settings.crm.webhooks:
        sender = WebhookSender(endpoint, http, links=links)
        found[sender.name] = sender
    return found


@dataclass
class DrainReport:
    """What one drain run did.

    Attributes:
        routed: messages made from new events.
        outcomes: tries settled, by the message's status afterwards (``delivered``, ``pending``
            for a retry scheduled, ``dead``).
    """

    routed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        """``{"routed": n, "delivered": n, "pending": n, "dead": n}``."""
        return {"routed": self.routed, **{s.value: self.outcomes[s.value] for s in OutboxStatus}}


def _try(
    destination: Destination | None, message: ClaimedMessage
) -> tuple[dict[str, Any] | None, DeliveryError | None]:
    if destination is None:
        error = f"{message.destination} is not configured any more (DIALER_CRM__*); retry it once it is"
        return None, DeliveryError(error, retryable=False)
    try:
        return destination.deliver(message), None
    except DeliveryError as exc:
        return None, exc


def drain(runtime: Runtime, destinations: Mapping[str, Destination], *, max_batches: int = 20) -> DrainReport:
    """Route new events, then deliver due messages until none is due (or ``max_batches`` batches).

    Args:
        runtime: sessions, clock and settings (``crm.outbox``: batch size, backoff, lease).
        destinations: from :func:`build_destinations` (tests pass their own).

    Returns:
        What was routed and how every try ended.
    """
    settings = runtime.settings
    params = settings.crm.outbox
    report = DrainReport()
    with transaction(runtime.sessions) as session:
        report.routed = fan_out(
            session, destinations_for=settings.crm.destinations_for, now=runtime.clock.now()
        )
    with ThreadPoolExecutor(max_workers=PARALLEL_DELIVERIES, thread_name_prefix="outbox") as pool:
        for _ in range(max_batches):
            with transaction(runtime.sessions) as session:
                claimed = claim_due(session, now=runtime.clock.now(), params=params)
            if not claimed:
                break
            started = runtime.clock.now()
            tries = list(pool.map(lambda m: _try(destinations.get(m.destination), m), claimed))
            finished = runtime.clock.now()
            with transaction(runtime.sessions) as session:  # one commit for the batch's outcomes
                for message, (result, error) in zip(claimed, tries, strict=True):
                    status = settle(session, claimed=message, started_at=started, finished_at=finished,
                                    params=params, result=result, error=error)  # fmt: skip
                    report.outcomes[status.value] += 1
    return report
