"""Calls-per-second pacing for the carrier account.

Twilio queues (does not reject) outbound calls above the account's CPS (1 by default, PROTOCOLS
B7), so pacing is ours to do. The pacer hands out one slot per ``1 / cps`` seconds. With Redis
configured every worker shares the slots (an ``INCR`` per slot key); without it the slots are per
process, which is exact for the single-worker default.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

import redis


class CallPacer(Protocol):
    """Blocks until the caller may send the next call request."""

    def wait_for_slot(self) -> float:
        """Return when a call may be placed (sleeping as needed), with the start of the slot won (s)."""
        ...


class LocalCallPacer:
    """Per-process pacer: successive slots at least ``1 / cps`` seconds apart.

    Args:
        cps: calls per second (> 0).
    """

    def __init__(self, cps: float) -> None:
        if cps <= 0:
            raise ValueError("cps must be positive")
        self._interval = 1.0 / cps
        self._next = 0.0
        self._lock = threading.Lock()

    def wait_for_slot(self) -> float:
        """Sleep until this process's next slot; return its start (``time.monotonic()`` seconds)."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return slot


class RedisCallPacer:
    """Account-wide pacer shared by every worker through Redis.

    Time is cut into slots of ``1 / cps`` seconds; a worker takes a slot when its ``INCR`` on the
    slot's key returns 1, otherwise it sleeps to the next slot and tries again.

    Args:
        client: a Redis client.
        cps: calls per second (> 0).
        key_prefix: namespace, e.g. per carrier account.
    """

    def __init__(self, client: redis.Redis, cps: float, *, key_prefix: str = "dialer:cps") -> None:
        if cps <= 0:
            raise ValueError("cps must be positive")
        self._client = client
        self._interval = 1.0 / cps
        self._prefix = key_prefix
        self._ttl_ms = max(1000, int(self._interval * 2000))

    def wait_for_slot(self) -> float:
        """Sleep until a slot is won; return its start (epoch seconds)."""
        while True:
            now = time.time()
            slot = math.floor(now / self._interval)
            key = f"{self._prefix}:{slot}"
            pipe = self._client.pipeline()
            pipe.incr(key)
            pipe.pexpire(key, self._ttl_ms)
            taken, _ = pipe.execute()
            if taken == 1:
                return slot * self._interval
            time.sleep(max(0.0, (slot + 1) * self._interval - now))
