"""Draining the outbox: route new events, deliver due messages to their destinations, settle each try.

The business transactions only ever write events (:mod:`dialer.outbox.publish`); this module does
the network part outside them. One :func:`drain` run:

1. routes the new events (``DIALER_CRM__BACKEND`` and ``DIALER_CRM__WEBHOOKS`` say where each
   type goes) into messages;
2. claims due messages in batches sized to their lease (:func:`claim_plan`) and delivers them,
   a few at a time in threads (one slow receiver does not hold the others back), each with its
   destination's own timeout;
3. settles each try as it finishes (those finished together in one short, set-based
   transaction): delivered, retried after backoff, or dead (a drain killed before that commit
   leaves its messages leased: they are tried again when the lease ends, which the
   destinations make safe).

A CRM outage therefore loses nothing: the messages wait, retried with backoff, and are delivered
once it answers again; after ``max_attempts`` failures they are dead letters, shown by
``dialer crm outbox`` and re-queued by ``dialer crm retry``. Beat runs :func:`crm.tasks.outbox_drain`
every ``drain_interval_seconds``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import httpx

from crm.adapters import CrmSync, Links
from crm.destinations import Destination
from crm.hubspot import HubSpotCrm
from crm.webhooks import WebhookSender
from dialer.clock import Clock
from dialer.crm_settings import OutboxParams
from dialer.db import transaction
from dialer.errors import DeliveryError
from dialer.models import OutboxStatus
from dialer.outbox import ClaimedMessage, Try, claim_due, fan_out, settle_many
from dialer.outbox.queue import FAN_OUT_LIMIT
from dialer.runtime import Runtime
from dialer.settings import Settings

PARALLEL_DELIVERIES = 8
"""Deliveries in flight at once within one drain run."""
LEASE_MARGIN_SECONDS = 30.0
"""Time a claim keeps in hand beyond its deliveries' worst case (the settling transaction, a slow pool)."""


def claim_plan(params: OutboxParams, destinations: Mapping[str, Destination]) -> tuple[int, float]:
    """How many messages one claim may take, and their lease (s), so no lease ends before its settling.

    A claim's messages wait their turn in the pool: the ``n``-th starts after ``n // PARALLEL``
    waves, each as long as the slowest destination's worst case (every request at its timeouts).
    The lease is ``params.lease_seconds``, raised to one wave plus :data:`LEASE_MARGIN_SECONDS`
    when a single delivery could outlast it; the claim takes the waves that fit in it.
    """
    worst = max((d.worst_case_seconds for d in destinations.values()), default=0.0)
    lease = max(params.lease_seconds, worst + LEASE_MARGIN_SECONDS)
    waves = int((lease - LEASE_MARGIN_SECONDS) // worst) if worst else params.batch_size
    return max(1, min(params.batch_size, waves * PARALLEL_DELIVERIES)), lease


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


def _try(destination: Destination | None, message: ClaimedMessage, clock: Clock) -> Try:
    started = clock.now()
    if destination is None:
        error = f"{message.destination} is not configured any more (DIALER_CRM__*); retry it once it is"
        return Try(message, started, started, error=DeliveryError(error, retryable=False))
    try:
        result = destination.deliver(message)
    except DeliveryError as exc:
        return Try(message, started, clock.now(), error=exc)
    return Try(message, started, clock.now(), result=result)


def _route_all(runtime: Runtime, *, max_rounds: int) -> int:
    """Route every new event (up to ``max_rounds`` x :data:`FAN_OUT_LIMIT`); return messages made."""
    made = 0
    for _ in range(max_rounds):
        with transaction(runtime.sessions) as session:
            routed = fan_out(
                session, destinations_for=runtime.settings.crm.destinations_for, now=runtime.clock.now()
            )
        made += routed.messages
        if routed.events < FAN_OUT_LIMIT:
            break
    return made


def drain(runtime: Runtime, destinations: Mapping[str, Destination], *, max_batches: int = 20) -> DrainReport:
    """Route new events, then deliver due messages until none is due (or ``max_batches`` claims).

    Each claim is sized by :func:`claim_plan` so its lease outlasts its deliveries; every finished
    try is settled as soon as it finishes (those finished together in one transaction), so a
    slow receiver never holds the others' outcomes back past their lease.

    Args:
        runtime: sessions, clock and settings (``crm.outbox``: batch size, backoff, lease).
        destinations: from :func:`build_destinations` (tests pass their own).

    Returns:
        What was routed and how every try ended.
    """
    settings = runtime.settings
    size, lease = claim_plan(settings.crm.outbox, destinations)
    params = settings.crm.outbox.model_copy(update={"lease_seconds": lease})
    report = DrainReport(routed=_route_all(runtime, max_rounds=max_batches))
    with ThreadPoolExecutor(max_workers=PARALLEL_DELIVERIES, thread_name_prefix="outbox") as pool:
        for _ in range(max_batches):
            with transaction(runtime.sessions) as session:
                claimed = claim_due(session, now=runtime.clock.now(), params=params, limit=size)
            if not claimed:
                break
            running = {pool.submit(_try, destinations.get(m.destination), m, runtime.clock) for m in claimed}
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                with transaction(runtime.sessions) as session:
                    tries = [future.result() for future in done]
                    statuses = settle_many(session, tries=tries, params=params)
                report.outcomes.update(status.value for status in statuses)
    return report
