"""Both voice-agent adapters, driven over loopback against the sandbox agent's two protocols.

Each test runs once per backend (``openai``: Realtime GA at ``/v1/realtime``; ``assemblyai``: the
Voice Agent API at ``/v1/ws``), through :func:`bridge.agents.build_voice_agent` and only the
:class:`bridge.agent.AgentConnection` interface, doing what :mod:`bridge.session` does. Where the
protocols leave different evidence on the server side, the test names it per backend.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from bridge.agent import (
    AgentAudio,
    AgentConnection,
    AgentEvent,
    AgentProblem,
    AgentSessionConfig,
    AgentUnavailableError,
    CallerSaid,
    CallerSpeechStarted,
    CallerSpeechStopped,
    ResponseFinished,
    ResponseStarted,
    ToolCall,
    ToolSpec,
    VoiceAgent,
)
from bridge.agents import build_voice_agent
from dialer.settings import load_settings
from sandbox.agent import AgentConfig
from sandbox.agent.records import SessionRecord
from sandbox.agent.script import DNC_GOODBYE, PITCH
from sandbox.speech_codec import FRAME_BYTES, SpeechDecoder, SpeechEnded, encode_utterance, silence
from tests.sandbox.test_agent_realtime import KEY, TOOLS, Agent, running

EVENT_TIMEOUT_S = 5.0
FAST = AgentConfig(api_key=KEY, ms_per_char=3.0, generation_speed=50.0)
REAL_TIME = AgentConfig(api_key=KEY, ms_per_char=3.0, generation_speed=1.0)
VOICES = {"openai": "marin", "assemblyai": "ivy"}
GREETING = "Hi, this is Sam from Acme Analytics. This call is recorded and I am an AI assistant."
LONG = " ".join(
    ["Hi, this is Sam from Acme Analytics, calling about the dashboards your team looks after."] * 2
)
TURN_SILENCE_MS = 1100
"""Silence after the caller's words: past OpenAI's 200 ms here and AssemblyAI's 1000 ms min_silence."""


def config(backend: str) -> AgentSessionConfig:
    tools = tuple(ToolSpec(t["name"], t.get("description", ""), t["parameters"]) for t in TOOLS)
    return AgentSessionConfig(
        instructions="You are Sam, calling for Acme Analytics.",
        tools=tools,
        voice=VOICES[backend],
        vad_silence_ms=200,
    )


def say_exactly(text: str) -> str:
    return f'Say exactly: "{text}"'


@dataclass
class Backend:
    name: str
    served: Agent

    def voice_agent(self, *, api_key: str = KEY) -> VoiceAgent:
        base = f"ws://127.0.0.1:{self.served.port}/v1"
        settings = load_settings(
            _env_file=None,
            voice_agent=self.name,
            openai={"api_key": api_key, "websocket_base_url": base, "voice": VOICES["openai"]},
            assemblyai={"api_key": api_key, "url": f"{base}/ws", "voice": VOICES["assemblyai"]},
        )
        return build_voice_agent(settings)

    def record(self) -> SessionRecord:
        return list(self.served.app.state.registry)[-1]


@pytest.fixture(params=["openai", "assemblyai"])
async def backend(request) -> AsyncIterator[Backend]:
    async with running(FAST) as served:
        yield Backend(request.param, served)


@pytest.fixture(params=["openai", "assemblyai"])
async def slow_backend(request) -> AsyncIterator[Backend]:
    async with running(REAL_TIME) as served:
        yield Backend(request.param, served)


class Call:
    """The bridge's side of one agent session: its events, read in the background."""

    def __init__(self, conn: AgentConnection) -> None:
        self.conn = conn
        self._queue: asyncio.Queue[AgentEvent] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for event in self.conn.events():
            self._queue.put_nowait(event)

    async def until(self, done: Callable[[AgentEvent], bool]) -> list[AgentEvent]:
        """Events up to and including the first for which ``done`` holds (fails after a timeout)."""
        events: list[AgentEvent] = []
        while True:
            events.append(await asyncio.wait_for(self._queue.get(), EVENT_TIMEOUT_S))
            if done(events[-1]):
                return events

    async def response(self) -> list[AgentEvent]:
        return await self.until(lambda e: isinstance(e, ResponseFinished))

    async def say(self, text: str) -> None:
        """The caller says ``text`` in 20 ms frames, then stays silent long enough to end the turn."""
        audio = silence(60) + encode_utterance(text, ms_per_char=3.0) + silence(TURN_SILENCE_MS)
        for start in range(0, len(audio), FRAME_BYTES):
            await self.conn.send_audio(base64.b64encode(audio[start : start + FRAME_BYTES]).decode())

    async def turn(self, text: str) -> list[AgentEvent]:
        """A caller turn the bridge answers as bridge.turns does: ``start_response`` once it ends."""
        await self.say(text)
        heard = await self.until(lambda e: isinstance(e, CallerSpeechStopped))
        await self.conn.start_response()
        return heard + await self.response()

    async def close(self) -> None:
        await self.conn.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


@asynccontextmanager
async def call(backend: Backend) -> AsyncIterator[Call]:
    opened = Call(await backend.voice_agent().connect(config(backend.name)))
    try:
        yield opened
    finally:
        await opened.close()


def spoken(events: list[AgentEvent]) -> list[str]:
    audio = b"".join(base64.b64decode(e.payload) for e in events if isinstance(e, AgentAudio))
    decoder = SpeechDecoder()
    return [e.text for e in decoder.feed(audio) + decoder.flush() if isinstance(e, SpeechEnded)]


def of(events: list[AgentEvent], kind: type) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


async def test_connect_configures_a_session_and_the_greeting_plays(backend):
    async with call(backend) as opened:
        assert backend.record().open
        await opened.conn.start_response(say_exactly(GREETING))
        events = await opened.response()
    assert isinstance(events[0], ResponseStarted)
    assert spoken(events) == [GREETING]
    audio = of(events, AgentAudio)
    assert audio and {a.response_id for a in audio} == {events[0].response_id}
    assert events[-1] == ResponseFinished(
        response_id=events[0].response_id, status="completed", usage=events[-1].usage
    )


async def test_a_wrong_key_is_agent_unavailable(backend):
    with pytest.raises(AgentUnavailableError):
        await backend.voice_agent(api_key="wrong-key").connect(config(backend.name))


async def test_a_caller_turn_is_heard_and_answered(backend):
    async with call(backend) as opened:
        await opened.conn.start_response(say_exactly(GREETING))
        await opened.response()
        events = await opened.turn("Sure, I have a minute.")
    assert isinstance(events[0], CallerSpeechStarted)
    assert of(events, CallerSaid) == [CallerSaid("Sure, I have a minute.")]
    assert spoken(events) == [PITCH]
    assert backend.record().turns_heard == ["Sure, I have a minute."]


async def test_a_tool_call_round_trip(backend):
    async with call(backend) as opened:
        first = await opened.turn("Please stop calling me.")
        [tool_call] = of(first, ToolCall)
        assert tool_call.name == "honor_dnc" and isinstance(json.loads(tool_call.arguments), dict)
        assert first[-1].status == "completed" and tool_call.response_id == first[-1].response_id
        await opened.conn.deliver_tool_results([(tool_call.call_id, '{"ok": true}')], respond=True)
        second = await opened.response()
    assert spoken(second) == [DNC_GOODBYE]
    record = backend.record()
    assert [(o.call_id, o.name) for o in record.tool_outputs] == [(tool_call.call_id, "honor_dnc")]
    assert record.early_tool_results == []


async def test_interrupted_results_are_not_answered(backend):
    async with call(backend) as opened:
        first = await opened.turn("Please stop calling me.")
        [tool_call] = of(first, ToolCall)
        await opened.conn.deliver_tool_results([(tool_call.call_id, '{"ok": true}')], respond=False)
        await opened.conn.start_response(say_exactly("Goodbye."))
        second = await opened.response()
    assert spoken(second) == ["Goodbye."]


TRUNCATION_EVIDENCE: dict[str, Callable[[SessionRecord, str], bool]] = {
    "openai": lambda record, item_id: (
        [(t.item_id, t.audio_end_ms) for t in record.truncations] == [(item_id, 100)]
    ),
    "assemblyai": lambda record, item_id: any("They heard only" in m for m in record.messages),
}


async def test_cancel_stops_the_response_and_truncate_reports_what_was_heard(slow_backend):
    async with call(slow_backend) as opened:
        await opened.conn.start_response(say_exactly(LONG))
        started = await opened.until(lambda e: isinstance(e, AgentAudio))
        await opened.conn.cancel_response()
        events = started + await opened.response()
        finished = events[-1]
        assert finished.status == "cancelled" and finished.reason == "client_cancelled"
        heard = spoken(events)
        assert heard == [] or (heard[0] != LONG and LONG.startswith(heard[0]))
        item_id = of(events, AgentAudio)[0].item_id
        await opened.conn.truncate(item_id, 100)
        await opened.conn.start_response(say_exactly("Sorry, go ahead."))
        after = await opened.response()
    assert spoken(after) == ["Sorry, go ahead."]
    assert TRUNCATION_EVIDENCE[slow_backend.name](slow_backend.record(), item_id)


async def test_a_second_response_while_one_plays_is_a_non_fatal_problem(slow_backend):
    async with call(slow_backend) as opened:
        await opened.conn.start_response(say_exactly(LONG))
        started = await opened.until(lambda e: isinstance(e, AgentAudio))
        await opened.conn.start_response(say_exactly("Hello."))
        events = started + await opened.response()
    [problem] = of(events, AgentProblem)
    assert not problem.fatal
    assert problem.code in {"conversation_already_has_active_response", "reply_in_progress"}
    assert events[-1].status == "completed" and spoken(events) == [LONG]
