"""The per-process bundle of dependencies the services need, built from settings.

Celery tasks, the API and the CLI take their session factory, clock, carrier and dial capacity
from here; tests build a :class:`Runtime` by hand with fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TypeVar
from urllib.parse import urlencode

import redis
from sqlalchemy.orm import Session, sessionmaker

from dialer.calls.capacity import (
    SESSION_KEY,
    UNLIMITED,
    Capacity,
    CapacityLimits,
)
from dialer.calls.capacity_stores import LocalCapacity, RedisCapacity
from dialer.calls.carrier import CarrierClient, TwilioCarrier
from dialer.calls.pacing import CallPacer, LocalCallPacer, RedisCallPacer
from dialer.clock import Clock, clock_from_settings
from dialer.db import engine_for, session_factory, transaction
from dialer.settings import Settings, get_settings

_T = TypeVar("_T")


@dataclass(frozen=True)
class Runtime:
    """Dependencies of the dialing and call services.

    Attributes:
        settings: the process settings.
        sessions: session factory bound to the product database.
        clock: where "now" comes from.
        carrier: the carrier REST client.
        pacer: the older CPS-only pacer (unused by the dial step; kept for callers).
        capacity: pacing slots and concurrency leases for the dial step; None means no CPS limit
            and concurrency counted in the database (hand-built test runtimes).
    """

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    carrier: CarrierClient
    pacer: CallPacer
    capacity: Capacity | None = None

    def run_in_transaction(self, work: Callable[[Session, datetime], _T]) -> _T:
        """Run ``work(session, now)`` in one transaction (committed on success) and return its result.

        Async callers run it in a worker thread:
        ``await asyncio.to_thread(runtime.run_in_transaction, work)``.
        """
        with transaction(self.sessions) as session:
            return work(session, self.clock.now())

    def webhook_url(self, route: str, **query: object) -> str:
        """Absolute public URL of one of our carrier webhooks, e.g. ``/twilio/status?attempt=7``."""
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.settings.public_url}{route}{suffix}"


def capacity_limits(settings: Settings) -> CapacityLimits:
    """The dial capacity limits the settings name (CPS per account and caller ID, total live calls)."""
    lease = settings.lease_seconds or (settings.ring_timeout_seconds + settings.call_time_limit_seconds + 60)
    return CapacityLimits(
        account_cps=settings.dial_cps,
        caller_id_cps=settings.caller_id_cps if settings.caller_id_cps is not None else UNLIMITED,
        total_concurrent=settings.max_concurrent_calls_total or UNLIMITED,
        window_ms=1000 + settings.pacing_margin_ms,
        hold_ms=int(settings.slot_hold_seconds * 1000),
        lease_ms=lease * 1000,
    )


def build_capacity(settings: Settings) -> Capacity:
    """Redis-shared capacity when ``redis_url`` is set, else the in-process one."""
    limits = capacity_limits(settings)
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url)
        return RedisCapacity(
            client, limits, account=settings.twilio_account_sid, key_prefix=settings.capacity_key_prefix
        )
    return LocalCapacity(limits)


def build_runtime(settings: Settings) -> Runtime:
    """A runtime with the real adapters the settings call for."""
    pacer: CallPacer
    if settings.redis_url:
        pacer = RedisCallPacer(redis.Redis.from_url(settings.redis_url), settings.dial_cps)
    else:
        pacer = LocalCallPacer(settings.dial_cps)
    capacity = build_capacity(settings)
    return Runtime(
        settings=settings,
        sessions=session_factory(engine_for(settings.database_url), info={SESSION_KEY: capacity}),
        clock=clock_from_settings(settings),
        carrier=TwilioCarrier.from_settings(settings),
        pacer=pacer,
        capacity=capacity,
    )


@lru_cache(maxsize=1)
def get_runtime() -> Runtime:
    """The process-wide runtime (from :func:`dialer.settings.get_settings`)."""
    return build_runtime(get_settings())
