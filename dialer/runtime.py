"""The per-process bundle of dependencies the services need, built from settings.

Celery tasks, the API and the CLI take their session factory, clock, carrier and pacer from here;
tests build a :class:`Runtime` by hand with fakes.
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

from dialer.carrier import CarrierClient, TwilioCarrier
from dialer.clock import Clock, clock_from_settings
from dialer.db import engine_for, session_factory, transaction
from dialer.pacing import CallPacer, LocalCallPacer, RedisCallPacer
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
        pacer: CPS pacing for call creation.
    """

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    carrier: CarrierClient
    pacer: CallPacer

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


def build_runtime(settings: Settings) -> Runtime:
    """A runtime with the real adapters the settings call for."""
    pacer: CallPacer
    if settings.redis_url:
        pacer = RedisCallPacer(redis.Redis.from_url(settings.redis_url), settings.dial_cps)
    else:
        pacer = LocalCallPacer(settings.dial_cps)
    return Runtime(
        settings=settings,
        sessions=session_factory(engine_for(settings.database_url)),
        clock=clock_from_settings(settings),
        carrier=TwilioCarrier.from_settings(settings),
        pacer=pacer,
    )


@lru_cache(maxsize=1)
def get_runtime() -> Runtime:
    """The process-wide runtime (from :func:`dialer.settings.get_settings`)."""
    return build_runtime(get_settings())
