"""Delivering the async AMD verdict from its webhook to the call's bridge session.

The ``/twilio/amd`` webhook stores the verdict on the attempt and publishes it here; a session in
the same process wakes at once. A session in another API process (several replicas behind a load
balancer) still sees the stored verdict by polling the database every ``poll_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

RETENTION_SECONDS = 600.0
"""A verdict nobody collected (the call's stream never connected) is dropped after this long."""


class AmdBoard:
    """In-process publish/wait of ``AnsweredBy`` verdicts keyed by CallSid (one event loop)."""

    def __init__(self) -> None:
        self._verdicts: dict[str, str] = {}
        self._events: dict[str, asyncio.Event] = {}
        self._published_at: dict[str, float] = {}

    def _event(self, call_sid: str) -> asyncio.Event:
        return self._events.setdefault(call_sid, asyncio.Event())

    def publish(self, call_sid: str, answered_by: str) -> None:
        """Record a verdict and wake its waiters (call from the event loop's thread).

        The first verdict for a call wins, as on the attempt (a repeated AMD callback changes nothing).
        """
        if call_sid in self._verdicts:
            return
        now = time.monotonic()
        for stale in [sid for sid, at in self._published_at.items() if now - at > RETENTION_SECONDS]:
            self.forget(stale)
        self._verdicts[call_sid] = answered_by
        self._published_at[call_sid] = now
        self._event(call_sid).set()

    def forget(self, call_sid: str) -> None:
        """Drop what is kept for a finished call."""
        self._verdicts.pop(call_sid, None)
        self._events.pop(call_sid, None)
        self._published_at.pop(call_sid, None)

    async def wait(
        self,
        call_sid: str,
        *,
        timeout: float,  # noqa: ASYNC109 - a deadline that also bounds the database polls
        poll: Callable[[], Awaitable[str | None]],
        poll_interval: float = 0.25,
    ) -> str | None:
        """The verdict for ``call_sid``, or None if none arrives within ``timeout`` seconds.

        Args:
            poll: reads the stored verdict (for verdicts received by another process).
        """
        deadline = time.monotonic() + timeout
        event = self._event(call_sid)
        while True:
            if call_sid in self._verdicts:
                return self._verdicts[call_sid]
            stored = await poll()
            if stored is not None:
                return stored
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(event.wait(), min(poll_interval, remaining))
            except TimeoutError:
                continue
