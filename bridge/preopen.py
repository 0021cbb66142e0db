"""Agent sessions opened while the carrier fetches the TwiML, kept for the call's stream (no dead air).

The TwiML request arrives when the callee answers (PROTOCOLS B2 ``url``); the media stream follows
a few hundred ms later. :meth:`PreopenedAgents.open` starts connecting and configuring the call's
agent session right away, so that when the stream starts the session is there and the greeting
can begin at once. Each session is kept for one attempt and is closed, never leaked, when:

- the stream claims it (:meth:`PreopenedAgents.claim`): the bridge session owns it from then on;
- no stream claims it within ``timeout_s`` (the stream never came, or went to another process);
- the call ends first: a machine verdict or the final status (:meth:`PreopenedAgents.discard`);
- a second TwiML request for the same attempt opens a new one (the older is closed);
- the process shuts down (:meth:`PreopenedAgents.aclose`).

One event loop (the API process's); a claim from another loop (a test client's per-request
loops) finds nothing and the session connects afresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from bridge.agent import AgentConnection

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 15.0
"""Seconds a pre-opened session waits for its stream (``DIALER_BRIDGE__AGENT_PREOPEN_TIMEOUT_MS``)."""


@dataclass
class PreopenedAgent:
    """One attempt's agent session, connecting or connected.

    Attributes:
        attempt_id: the call attempt.
        answered_at: when the TwiML request arrived, ``time.monotonic()`` seconds (the call's answer).
        task: the connect; its result is the session (or :class:`bridge.agent.AgentUnavailableError`).
    """

    attempt_id: int
    answered_at: float
    task: asyncio.Task[AgentConnection]
    _expiry: asyncio.TimerHandle | None = field(default=None, repr=False)

    async def take(self) -> AgentConnection:
        """The connected session (waiting for the connect to finish).

        Raises:
            AgentUnavailableError: the connect failed.
        """
        try:
            return await asyncio.shield(self.task)
        except asyncio.CancelledError:
            _close_when_connected(self.task)  # the caller went away: nobody else will close it
            raise

    def close(self) -> None:
        """Stop the connect, or close the connected session (in the background)."""
        if self._expiry is not None:
            self._expiry.cancel()
        if not self.task.done():
            self.task.cancel()
        _close_when_connected(self.task)


_closing: set[asyncio.Task[None]] = set()


def _close_when_connected(task: asyncio.Task[AgentConnection]) -> None:
    def close(done: asyncio.Task[AgentConnection]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        closer = asyncio.get_running_loop().create_task(done.result().close())
        _closing.add(closer)
        closer.add_done_callback(_closing.discard)

    task.add_done_callback(close)


class PreopenedAgents:
    """The API process's pre-opened agent sessions, by attempt id.

    Args:
        timeout_s: how long a session waits for its stream before it is closed, seconds.
    """

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self._timeout_s = timeout_s
        self._waiting: dict[int, PreopenedAgent] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def open(
        self, attempt_id: int, connect: Coroutine[Any, Any, AgentConnection], *, answered_at: float
    ) -> PreopenedAgent:
        """Start ``connect`` for the attempt (closing an older one) and keep it for its stream."""
        self.discard(attempt_id)
        loop = asyncio.get_running_loop()
        task = loop.create_task(connect, name=f"preopen-agent-{attempt_id}")
        entry = PreopenedAgent(attempt_id, answered_at, task)
        entry._expiry = loop.call_later(self._timeout_s, self._expire, entry)
        self._waiting[attempt_id] = entry
        return entry

    def claim(self, attempt_id: int) -> PreopenedAgent | None:
        """Hand the attempt's session to its stream (None if there is none on this loop)."""
        entry = self._waiting.pop(attempt_id, None)
        if entry is None:
            return None
        if entry._expiry is not None:
            entry._expiry.cancel()
        if entry.task.get_loop() is not asyncio.get_running_loop():
            return None  # opened on a loop that is gone; nothing of it can be awaited here
        return entry

    def discard(self, attempt_id: int) -> None:
        """Close the attempt's session if one waits (the call ended before its stream)."""
        entry = self._waiting.pop(attempt_id, None)
        if entry is not None and entry.task.get_loop() is asyncio.get_running_loop():
            entry.close()

    async def aclose(self) -> None:
        """Close every waiting session (process shutdown)."""
        for attempt_id in list(self._waiting):
            self.discard(attempt_id)
        await asyncio.gather(*_closing, return_exceptions=True)

    def _expire(self, entry: PreopenedAgent) -> None:
        if self._waiting.get(entry.attempt_id) is entry:
            del self._waiting[entry.attempt_id]
            log.warning("attempt %s: no stream for its pre-opened agent session; closed", entry.attempt_id)
            entry.close()
