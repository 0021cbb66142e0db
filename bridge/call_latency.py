"""One call's latency clock that writes what it measures on the attempt, and enforces nothing else.

:class:`CallLatency` is the session's :class:`bridge.metrics.CallClock` plus the attempt's record
(:mod:`dialer.calls.latency`): the first agent audio's latencies as soon as it plays, the TSR
2-second deadline as soon as it passes with no agent audio (so the gate's abandonment rate sees
the call while it is still live), each turn's latency as its answer starts, and the rule's verdict
when the call ends (if the deadline had not passed). Use it around the
session: ``async with CallLatency(...) as clock: await CallSession(..., clock=clock).run()``.
Every write is a short transaction in a worker thread; the audio path never waits on it. A call's
writes run one at a time in the order they were measured (so its turn latencies are stored in
turn order), and a failed write is tried again after :data:`WRITE_RETRY_PAUSES_S` before it is
given up and logged as an error: a database blip does not lose an abandonment the gate must count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from sqlalchemy.orm import Session

from bridge.latency import FirstAudio
from bridge.metrics import CallClock
from dialer.calls import latency as records
from dialer.runtime import Runtime

log = logging.getLogger(__name__)

WRITE_RETRY_PAUSES_S = (0.25, 1.0, 4.0)
"""Pauses (seconds) before each new try of a failed write; after the last, it is logged and dropped."""

_Work = Callable[[Session, datetime], None]


class CallLatency(CallClock):
    """A call's latency clock, recorded on its attempt.

    Args:
        runtime: database sessions and clock.
        attempt_id: the call attempt.
        answered_at: the answer (the TwiML request), ``time.monotonic()`` seconds; None: now.
    """

    def __init__(self, runtime: Runtime, attempt_id: int, *, answered_at: float | None = None) -> None:
        super().__init__(answered_at)
        self._runtime = runtime
        self._attempt_id = attempt_id
        self._pending: asyncio.Queue[_Work | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None

    async def __aenter__(self) -> CallLatency:
        self._watch = asyncio.create_task(self._watch_deadline(), name="tsr-deadline")
        self._writer = asyncio.create_task(self._write_in_order(), name="latency-writes")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        abandoned = self.log.end(time.monotonic())
        attempt_id = self._attempt_id
        self._spawn(
            lambda s, now: records.record_call_end(s, attempt_id=attempt_id, abandoned=abandoned, now=now)
        )
        self._pending.put_nowait(None)
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    def caller_speech_started(self) -> None:
        """The caller began speaking (the greeting's deadline waits for them to finish)."""
        super().caller_speech_started()
        self._changed.set()

    def caller_speech_stopped(self, audio_end_ms: int | None = None) -> None:
        """The caller stopped speaking (the greeting's deadline runs from there)."""
        super().caller_speech_stopped(audio_end_ms)
        self._changed.set()

    def first_audio(self, first: FirstAudio) -> None:
        """Store the first agent audio's latencies (and a late one's abandonment) at once."""
        self._changed.set()
        attempt_id = self._attempt_id
        self._spawn(
            lambda s, now: records.record_first_audio(
                s,
                attempt_id=attempt_id,
                answer_ms=first.answer_to_first_audio_ms,
                greeting_ms=first.greeting_to_first_audio_ms,
                abandoned=first.abandoned,
                now=now,
            )
        )

    def turn_answered(self, latency_ms: int) -> None:
        """Append the turn's latency to the attempt's."""
        attempt_id = self._attempt_id
        self._spawn(lambda s, _: records.record_turn_latency(s, attempt_id=attempt_id, latency_ms=latency_ms))

    async def _watch_deadline(self) -> None:
        """Mark the call abandoned the moment its 2-second deadline passes without agent audio."""
        while True:
            self._changed.clear()
            deadline = self.log.deadline()
            if deadline is None and (self.log.first_audio is not None or self.log.abandoned is not None):
                return
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                if self.log.expire(time.monotonic()):
                    self._abandoned()

    def _abandoned(self) -> None:
        attempt_id = self._attempt_id
        log.warning("attempt %s: no agent audio within 2 s of the greeting: abandoned", attempt_id)
        self._spawn(lambda s, now: records.record_abandoned(s, attempt_id=attempt_id, now=now))

    def _spawn(self, work: _Work) -> None:
        self._pending.put_nowait(work)

    async def _write_in_order(self) -> None:
        while (work := await self._pending.get()) is not None:
            await self._write(work)

    async def _write(self, work: _Work) -> None:
        for pause in (*WRITE_RETRY_PAUSES_S, None):
            try:
                await asyncio.to_thread(self._runtime.run_in_transaction, work)
                return
            except Exception:  # a lost latency write must not end the call
                if pause is None:
                    log.exception("attempt %s: recording call latency failed; given up", self._attempt_id)
                    return
                log.warning("attempt %s: latency write failed; again in %s s", self._attempt_id, pause)
                await asyncio.sleep(pause)
