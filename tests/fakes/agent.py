"""A scripted fake of the voice-agent seam: the test pushes agent events and inspects commands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bridge.agent import AgentConnection, AgentEvent, AgentSessionConfig, AgentUnavailableError, VoiceAgent

_CLOSE = object()


@dataclass
class FakeAgentConnection(AgentConnection):
    """The agent's side of one session: events pushed by the test, commands recorded.

    ``waiting`` is True while the session's reader is blocked for the next event, so
    :meth:`drained` tells a test that everything pushed so far has been handled.
    """

    audio_in: list[str] = field(default_factory=list)
    responses_requested: list[str | None] = field(default_factory=list)
    tool_results: list[tuple[list[tuple[str, str]], bool]] = field(default_factory=list)
    cancels: int = 0
    truncations: list[tuple[str, int]] = field(default_factory=list)
    closed: bool = False
    aborted: bool = False
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    waiting: bool = False

    def push(self, *events: AgentEvent) -> None:
        """Queue events as if the agent had sent them."""
        for event in events:
            self.queue.put_nowait(event)

    def drained(self) -> bool:
        """True when every pushed event has been taken and handled (the reader waits for more)."""
        return self.waiting and self.queue.empty()

    async def send_audio(self, payload_b64: str) -> None:
        self.audio_in.append(payload_b64)

    async def start_response(self, instructions: str | None = None) -> None:
        self.responses_requested.append(instructions)

    async def deliver_tool_results(self, results: list[tuple[str, str]], *, respond: bool) -> None:
        self.tool_results.append((results, respond))

    async def cancel_response(self) -> None:
        self.cancels += 1

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        self.truncations.append((item_id, audio_end_ms))

    async def events(self) -> AsyncIterator[AgentEvent]:  # type: ignore[override]
        while True:
            self.waiting = True
            try:
                event = await self.queue.get()
            finally:
                self.waiting = False
            if event is _CLOSE:
                return
            yield event

    async def close(self) -> None:
        self.closed = True
        self.queue.put_nowait(_CLOSE)

    def abort(self) -> None:
        if not self.aborted:  # a dead socket stays dead: one end of its events
            self.aborted = True
            self.queue.put_nowait(_CLOSE)


class FakeVoiceAgent(VoiceAgent):
    def __init__(self, *, unavailable: bool = False, voice: str = "marin") -> None:
        self.voice = voice
        self.connection = FakeAgentConnection()
        self.configs: list[AgentSessionConfig] = []
        self.unavailable = unavailable

    async def connect(self, config: AgentSessionConfig) -> AgentConnection:
        self.configs.append(config)
        if self.unavailable:
            raise AgentUnavailableError("voice agent unavailable: connection refused")
        return self.connection


class FakeMediaPort:
    """Twilio's side: the test feeds inbound messages; outbound messages are recorded.

    ``waiting`` is True while the session is blocked in :meth:`receive`, so :meth:`drained` tells
    a test that every inbound message so far has been handled.
    """

    def __init__(self) -> None:
        self.inbound: asyncio.Queue = asyncio.Queue()
        self.sent: list[dict] = []
        self.closed = False
        self.waiting = False

    async def receive(self):
        self.waiting = True
        try:
            return await self.inbound.get()
        finally:
            self.waiting = False

    def drained(self) -> bool:
        """True when every inbound message has been taken and handled (the session waits for more)."""
        return self.waiting and self.inbound.empty()

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    async def close(self) -> None:
        self.closed = True
        self.inbound.put_nowait(None)

    def events(self, kind: str) -> list[dict]:
        return [m for m in self.sent if m["event"] == kind]
