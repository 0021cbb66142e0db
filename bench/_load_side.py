"""The load side of ``bench/bridge_load.py``: sandbox-shaped calls and a fake Realtime agent.

One process (pinned to its own core) plays both ends of every call:

- **Twilio**: per call, a media-stream WebSocket to the server under test, ``connected`` and
  ``start`` (with the attempt's one-time token), then, from the agent's first audio on (the call
  is live), a 20 ms μ-law ``media`` frame 50 times a second; every ``mark`` is echoed at once.
  Calls are spread over the 20 ms (:data:`SLOTS`), as independent calls are.
- **The agent**: a Realtime-protocol WebSocket server; once asked for a response (the bridge's
  greeting) it streams ``response.output_audio.delta`` 50 times a second (20 ms each), with an
  ``response.output_audio_transcript.delta`` every 100 ms as OpenAI sends them.

Every frame's payload starts with the time it was sent (12 base64 digits, 10 µs units), taken
just before its one ``transport.write``, so the other side reads the forwarding latency without a
lookup; a frame is read in ``data_received`` (:mod:`bench._lean_ws`: no reader task, no queue),
so what is measured is the server's forwarding plus the load loop's own lag, which
:class:`LagProbe` reports beside it. Frames sent inside the measuring window are counted on both
sides: "every frame delivered" is an exact count, per direction.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bench._lean_ws import ClientEnd, End, ServerEnd, connect

_M = TypeVar("_M")
FRAME_S = 0.020
_SILENCE = base64.b64encode(b"\xff" * 160).decode()  # 216 characters
_BASE_NS = time.monotonic_ns()
_TAG = 12


def _now() -> int:
    """Now, in 10 µs units since this process started."""
    return (time.monotonic_ns() - _BASE_NS) // 10_000


SLOTS = 10
"""Each 20 ms is split in this many slots and each call sends in its own: calls are not in phase."""


async def _paced(members: Callable[[], list[_M]], stop: asyncio.Event) -> AsyncIterator[tuple[int, list[_M]]]:
    """Every 20 ms until ``stop``: ``(tick, members)`` once per slot, the members of that slot."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    for tick in itertools.count():
        everyone = members()
        for slot in range(SLOTS):
            yield tick, everyone[slot::SLOTS]
            due += FRAME_S / SLOTS
            await asyncio.sleep(max(0.0, due - loop.time()))
        if stop.is_set():
            return


class LagProbe:
    """How late this process's event loop runs a 1 ms timer, sampled until ``stop``.

    A frame arriving while the loop is busy waits as long before ``data_received`` reads it, so
    this lag is part of every measured latency: the generator's share, not the server's.
    """

    def __init__(self) -> None:
        self.lags_ms: list[float] = []

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            due = loop.time() + 0.001
            await asyncio.sleep(0.001)
            self.lags_ms.append(max(0.0, loop.time() - due) * 1000)


@dataclass
class Meter:
    """Frames of one direction sent and delivered inside the measuring window, and their latency."""

    window: tuple[int, int] | None = None  # (start, end) in 10 µs units
    sent: int = 0
    delivered: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def open_window(self, seconds: float) -> None:
        """Count the frames sent from now for ``seconds``."""
        start = _now()
        self.window = (start, start + round(seconds * 100_000))

    def on_sent(self, at: int) -> None:
        if self.window is not None and self.window[0] <= at < self.window[1]:
            self.sent += 1

    def on_delivered(self, raw: str, key: str) -> None:
        """A frame arrived; ``key`` is the JSON key its payload follows (``"payload"``, ``"audio"``)."""
        start = raw.find(key)
        if start < 0 or self.window is None:
            return
        start = raw.index('"', start + len(key) + 1) + 1
        try:
            sent = int(raw[start : start + _TAG])
        except ValueError:
            return
        if self.window[0] <= sent < self.window[1]:
            self.delivered += 1
            self.latencies_ms.append((_now() - sent) / 100)


class FakeAgent:
    """A Realtime-protocol server that hears the caller's frames and speaks without end.

    Attributes:
        up: the caller's frames as the agent receives them.
        sessions: the open sessions (speaking or not).
    """

    def __init__(self, up: Meter, down: Meter) -> None:
        self.up = up
        self.down = down
        self.sessions: set[ServerEnd] = set()
        self._speaking: dict[ServerEnd, str] = {}
        self._server: asyncio.Server | None = None
        self._opened = 0
        self.port = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: ServerEnd(self.sessions.add, self._heard, self._gone), "127.0.0.1", 0
        )
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def speaking(self) -> int:
        return len(self._speaking)

    def _heard(self, ws: End, text: str) -> None:
        if "input_audio_buffer.append" in text[:48]:
            self.up.on_delivered(text, '"audio"')
        elif '"response.create"' in text and ws not in self._speaking:
            self._opened += 1
            response, item = f"resp_{self._opened}", f"item_{self._opened}"
            ws.send_text(json.dumps({"type": "response.created", "response": {"id": response}}))
            self._speaking[ws] = (  # type: ignore[index]
                '{"type":"response.output_audio.delta","event_id":"event_1",'
                f'"response_id":"{response}","item_id":"{item}","output_index":0,'
                '"content_index":0,"delta":"'
            )

    def _gone(self, ws: ServerEnd) -> None:
        self.sessions.discard(ws)
        self._speaking.pop(ws, None)

    async def speak(self, stop: asyncio.Event) -> None:
        """Send every speaking session a 20 ms delta each 20 ms (a transcript delta each 100 ms)."""
        async for tick, sessions in _paced(lambda: list(self._speaking.items()), stop):
            for ws, prefix in sessions:
                at = _now()
                if not ws.send_text(f'{prefix}{at:012d}{_SILENCE[_TAG:]}"}}'):
                    continue
                self.down.on_sent(at)
                if tick % 5 == 0:
                    ws.send_text(
                        prefix.replace("output_audio.delta", "output_audio_transcript.delta") + 'Hi "}'
                    )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for ws in list(self.sessions):
                if ws.transport is not None:
                    ws.transport.close()
            await self._server.wait_closed()


@dataclass(frozen=True)
class CallSpec:
    """One call's stream: where, its ids and the ``<Parameter>``s the server admits it by."""

    url: str
    headers: dict[str, str]
    stream_sid: str
    call_sid: str
    parameters: dict[str, str]


class TwilioSide:
    """Every call's carrier end: connects the streams, sends caller frames, echoes marks."""

    def __init__(self, up: Meter, down: Meter) -> None:
        self._up = up
        self.down = down
        self._open: dict[str, ClientEnd] = {}  # every stream connected
        self._calls: dict[str, list] = {}  # type: ignore[type-arg] # stream sid -> [socket, frames sent]
        self._sids: dict[End, str] = {}
        self.failures: list[str] = []

    @property
    def streaming(self) -> int:
        """Calls whose agent has started speaking (the caller's frames flow from then on)."""
        return len(self._calls)

    async def open(self, spec: CallSpec) -> None:
        """Connect one call's stream and start it (its frames go out with the next tick)."""
        try:
            ws = await connect(spec.url, spec.headers, self._heard)
        except (OSError, TimeoutError, ConnectionError) as exc:
            self.failures.append(f"{spec.stream_sid}: {exc!r}")
            return
        start = {
            "event": "start",
            "sequenceNumber": "1",
            "start": {
                "accountSid": "AC" + "0" * 32,
                "streamSid": spec.stream_sid,
                "callSid": spec.call_sid,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": spec.parameters,
            },
            "streamSid": spec.stream_sid,
        }
        self._sids[ws] = spec.stream_sid
        ws.send_text(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        ws.send_text(json.dumps(start))
        self._open[spec.stream_sid] = ws

    def _heard(self, ws: End, text: str) -> None:
        if '"media"' in text[:20]:
            self.down.on_delivered(text, '"payload"')
            sid = self._sids[ws]
            if sid not in self._calls:  # the agent speaks: the caller answers from now on
                self._calls[sid] = [ws, 1]
        elif '"mark"' in text[:20]:
            sid = self._sids[ws]
            name = text[text.index('"name"') + 6 :].split('"')[1]
            ws.send_text(
                f'{{"event":"mark","sequenceNumber":"1","streamSid":"{sid}","mark":{{"name":"{name}"}}}}'
            )

    async def talk(self, stop: asyncio.Event) -> None:
        """Send every streaming call a 20 ms caller frame each 20 ms, until ``stop``."""
        async for _, calls in _paced(lambda: list(self._calls.items()), stop):
            for sid, call in calls:
                ws, seq = call[0], call[1] + 1
                at = _now()
                frame = (
                    f'{{"event":"media","sequenceNumber":"{seq}","media":{{"track":"inbound",'
                    f'"chunk":"{seq}","timestamp":"{seq * 20}","payload":"{at:012d}{_SILENCE[_TAG:]}"}},'
                    f'"streamSid":"{sid}"}}'
                )
                if ws.send_text(frame):
                    call[1] = seq
                    self._up.on_sent(at)

    async def hang_up(self) -> None:
        """``stop`` and close every stream; wait until the server has closed them (10 s at most)."""
        for sid, ws in self._open.items():
            seq = self._calls[sid][1] if sid in self._calls else 1
            ws.send_text(json.dumps({"event": "stop", "sequenceNumber": str(seq + 1), "streamSid": sid}))
            ws.close()
        ends = list(self._open.values())
        if ends:
            await asyncio.wait([ws.closed for ws in ends], timeout=10)
        for ws in ends:
            if ws.transport is not None:
                ws.transport.close()
        self._calls.clear()
        self._open.clear()
        self._sids.clear()
