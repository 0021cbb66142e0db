"""Upstream faults: an agent session that survives one drop, and sends that never hang a call.

:class:`ResilientConnection` wraps the :class:`bridge.agent.AgentConnection` of one call (issue 9,
item 6):

- **Drops and errors.** When the agent's events end without :meth:`close` (the socket dropped, the
  server ended the session) or the backend reports a fatal :class:`~bridge.agent.AgentProblem`, the
  adapter's :meth:`~bridge.agent.AgentConnection.reopen` replaces the session once, with the call
  so far (:class:`bridge.history.CallHistory`: what the caller heard, the tool calls and their
  results). OpenAI Realtime has no resume, so it is a fresh session seeded with the turns (PROTOCOLS
  D7); AssemblyAI tries ``session.resume`` first (E1, E4). Responses the drop cut off end as
  ``failed`` (reason ``connection_lost``), so their tool calls are awaited and answered exactly
  once; then :class:`~bridge.agent.AgentReconnected` tells the bridge. A second failure, or a
  reopen that fails, is a fatal ``AgentProblem`` (``reconnect_failed``): the call ends as
  ``agent_error``.
- **Send timeouts.** Every command to the agent gets ``send_timeout_s``. A socket that takes longer
  (the peer stopped reading, the kernel and WebSocket buffers are full) is aborted and counts as a
  drop, so one stalled upstream holds up neither its own call's Twilio side nor, since nothing
  blocks the event loop, any other call. One watchdog task per connection looks every quarter
  of the timeout (a stall is caught after 1 to 1.25 times it); the abort ends the stuck send, as
  a lost connection ends a WebSocket's wait to drain. Not a timer per command: the caller's audio
  is a command every 20 ms per call, and an ``asyncio.timeout`` around each cost ~7 % of the
  bridge's event loop at 50 calls (``bench/bridge_load.py``).
- **Meanwhile.** Caller audio that arrives while the session is being replaced is kept (up to
  ``buffer_frames`` frames) and sent to the new session; other commands wait for it. A tool call
  the new session repeats (same ``call_id``) is not passed on, so no tool runs twice.

``dialer_bridge_agent_reconnects_total{outcome}`` counts each replacement (``resumed``, ``fresh``)
and each failed one (``failed``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

from bridge.agent import (
    AgentAudio,
    AgentConnection,
    AgentEvent,
    AgentProblem,
    AgentReconnected,
    AgentSaid,
    AgentUnavailableError,
    CallerSaid,
    ResponseFinished,
    ResponseStarted,
    ToolCall,
)
from bridge.history import CallHistory
from bridge.metrics import AGENT_RECONNECTS

log = logging.getLogger(__name__)

REOPEN_TIMEOUT_S = 15.0
"""Longest wait for a replacement session to be opened and seeded (a stalled one fails the call)."""
RECONNECT_BUFFER_FRAMES = 250
"""Caller audio frames kept while the session is replaced: 5 s of Twilio's 20 ms frames."""


class ResilientConnection(AgentConnection):
    """One call's agent session, replaced once if it drops; commands bounded by a timeout.

    Args:
        first: the session :meth:`bridge.agent.VoiceAgent.connect` opened.
        send_timeout_s: longest wait for one command to the agent, in seconds.
        reconnects: how many replacements a call gets (the issue: one).
        buffer_frames: caller audio frames kept during a replacement.
        heard_ms: what the caller heard of an agent item cut short (ms, None if not cut): the
            call's :meth:`bridge.playback.PlaybackTracker.heard_ms`, read by the history.

    Attributes:
        history: what the caller heard so far (the seed of a replacement).
        reconnects: replacements made so far.
        stalls: sends that timed out (each aborted the socket).
    """

    def __init__(
        self,
        first: AgentConnection,
        *,
        send_timeout_s: float,
        reconnects: int = 1,
        buffer_frames: int = RECONNECT_BUFFER_FRAMES,
        heard_ms: Callable[[str], int | None] | None = None,
    ) -> None:
        self._inner = first
        self._send_timeout_s = send_timeout_s
        self._reconnects_left = reconnects
        self.history = CallHistory(heard_ms)
        self.reconnects = 0
        self.stalls = 0
        self._closing = False
        self._up = asyncio.Event()
        self._up.set()
        self._gone = False
        self._buffer: deque[str] = deque(maxlen=buffer_frames)
        self._open_responses: list[str] = []
        self._stale_items: set[str] = set()  # agent items of a replaced session
        self._items: set[str] = set()
        self._stalled = ""  # why the socket was aborted, if a send timed out
        self._sending: dict[int, float] = {}  # command number -> when it began (time.monotonic())
        self._numbers = itertools.count()
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def reconnecting(self) -> bool:
        """True while a dropped session is being replaced."""
        return not self._up.is_set()

    # --- commands ---

    async def _command(self, send: Awaitable[None]) -> None:
        """Run one command, watched: one still running after the send timeout aborts the socket."""
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch(), name="agent-send-watchdog")
        number = next(self._numbers)
        self._sending[number] = time.monotonic()
        try:
            await send
        finally:
            self._sending.pop(number, None)

    async def _watch(self) -> None:
        """Every quarter of the send timeout: abort the socket under a command older than it."""
        while not self._closing:
            await asyncio.sleep(self._send_timeout_s / 4)
            if self._sending and time.monotonic() - min(self._sending.values()) > self._send_timeout_s:
                self._sending.clear()  # one stall, however many commands wait on the socket
                self.stalls += 1
                self._stalled = f"a send took over {self._send_timeout_s:g} s"
                log.warning("voice agent: %s; dropping the socket", self._stalled)
                self._inner.abort()

    async def _ready(self) -> bool:
        """Wait out a replacement in progress; False when there is no session any more."""
        if not self._up.is_set():
            await self._up.wait()
        return not (self._gone or self._closing)

    async def send_audio(self, payload_b64: str) -> None:
        """See :meth:`AgentConnection.send_audio`; kept for the new session during a replacement."""
        if not self._up.is_set():
            self._buffer.append(payload_b64)
            return
        if not (self._gone or self._closing):
            await self._command(self._inner.send_audio(payload_b64))

    async def start_response(self, instructions: str | None = None) -> None:
        """See :meth:`AgentConnection.start_response`."""
        if await self._ready():
            await self._command(self._inner.start_response(instructions))

    async def deliver_tool_results(self, results: list[tuple[str, str]], *, respond: bool) -> None:
        """See :meth:`AgentConnection.deliver_tool_results`; the results join the history."""
        for call_id, output in results:
            self.history.tool_returned(call_id, output)
        if await self._ready():
            await self._command(self._inner.deliver_tool_results(results, respond=respond))

    async def cancel_response(self) -> None:
        """See :meth:`AgentConnection.cancel_response` (nothing to cancel once a drop ended it)."""
        if self._up.is_set() and not (self._gone or self._closing):
            await self._command(self._inner.cancel_response())

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """See :meth:`AgentConnection.truncate`; an item of a replaced session is cut in the history only."""
        self.history.truncated(item_id, audio_end_ms)
        if item_id not in self._stale_items and await self._ready():
            await self._command(self._inner.truncate(item_id, audio_end_ms))

    # --- events ---

    async def events(self) -> AsyncIterator[AgentEvent]:
        """The agent's events across one replacement; a second fault ends them with a fatal problem."""
        while True:
            cause = "the voice agent closed the session"
            events = self._inner.events()
            try:
                async for event in events:
                    if isinstance(event, AgentProblem) and event.fatal:
                        cause = f"{event.code}: {event.message}"
                        break
                    if self._observe(event):
                        yield event
            finally:
                aclose = getattr(events, "aclose", None)  # an async generator's: stop it cleanly
                if aclose is not None:
                    await aclose()
            if self._closing:
                return
            cause, self._stalled = self._stalled or cause, ""
            self._up.clear()
            how = await self._replace(cause)
            for response_id in self._open_responses:
                yield ResponseFinished(response_id=response_id, status="failed", reason="connection_lost")
            self._open_responses.clear()
            if how is None:
                yield AgentProblem("reconnect_failed", f"voice agent lost: {cause}", fatal=True)
                return
            yield AgentReconnected(how=how, cause=cause)

    def _observe(self, event: AgentEvent) -> bool:
        """Keep the history and the open responses; False for an event not to pass on."""
        match event:
            case ResponseStarted():
                self._open_responses.append(event.response_id)
            case ResponseFinished():
                if event.response_id in self._open_responses:
                    self._open_responses.remove(event.response_id)
            case AgentAudio():
                self._items.add(event.item_id)
                self.history.agent_audio(event.item_id, event.payload)
            case AgentSaid():
                self.history.agent_said(event.item_id, event.text)
            case CallerSaid():
                self.history.caller_said(event.text)
            case ToolCall():
                if self.history.has_call(event.call_id):
                    log.warning("voice agent repeated tool call %s; not run again", event.call_id)
                    return False
                self.history.tool_called(event.call_id, event.name, event.arguments)
        return True

    async def _replace(self, cause: str) -> str | None:
        """Reopen the session with the history once; None (and no session) when that is not possible."""
        log.warning("voice agent session lost (%s)", cause)
        self._inner.abort()
        try:
            if self._reconnects_left <= 0:
                raise AgentUnavailableError("the call's one reconnect is used up")
            self._reconnects_left -= 1
            async with asyncio.timeout(REOPEN_TIMEOUT_S):
                how = await self._inner.reopen(self.history)
        except (AgentUnavailableError, TimeoutError) as exc:
            log.warning(
                "voice agent not reconnected: %s", str(exc) or f"no session within {REOPEN_TIMEOUT_S:g} s"
            )
            AGENT_RECONNECTS.labels(outcome="failed").inc()
            self._gone = True
            self._up.set()
            return None
        self.reconnects += 1
        AGENT_RECONNECTS.labels(outcome=how).inc()
        self._stale_items |= self._items
        self._items = set()
        while self._buffer:  # audio that arrives meanwhile joins the queue
            await self._command(self._inner.send_audio(self._buffer.popleft()))
        self._up.set()
        return how

    async def close(self) -> None:
        """See :meth:`AgentConnection.close`; bounded by the send timeout (a stalled socket is aborted)."""
        if self._closing:
            return
        self._closing = True
        self._up.set()
        if self._watchdog is not None:
            self._watchdog.cancel()
        try:
            async with asyncio.timeout(self._send_timeout_s):
                await self._inner.close()
        except TimeoutError:
            self._inner.abort()

    def abort(self) -> None:
        """See :meth:`AgentConnection.abort` (counts as a drop: the session is replaced)."""
        self._inner.abort()

    def billed_usage(self) -> dict[str, int]:
        """See :meth:`AgentConnection.billed_usage` (the adapter sums its sessions)."""
        return self._inner.billed_usage()
