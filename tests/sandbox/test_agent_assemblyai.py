"""The sandbox agent's AssemblyAI Voice Agent protocol (PROTOCOLS E1-E4), over a raw WebSocket, and
the adapter's recovery from a dropped socket (``session.resume``, else a fresh seeded session)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import connect

from bridge.agent import AgentProblem, AgentReconnected, AgentUnavailableError, ResponseFinished
from bridge.assemblyai_agent import AssemblyAIConnection, AssemblyAIVoiceAgent
from bridge.reconnect import ResilientConnection
from sandbox.agent import AgentConfig
from sandbox.agent.script import DNC_GOODBYE, PITCH
from sandbox.speech_codec import FRAME_BYTES, SpeechDecoder, SpeechEnded, encode_utterance, silence
from tests.sandbox.test_agent_backends import GREETING, LONG, Call, config, say_exactly, spoken
from tests.sandbox.test_agent_realtime import KEY, TOOLS, Agent, running

RECV_TIMEOUT_S = 5.0
FAST = AgentConfig(api_key=KEY, ms_per_char=3.0, generation_speed=50.0)
REAL_TIME = AgentConfig(api_key=KEY, ms_per_char=3.0, generation_speed=1.0)
PHONE = {
    "system_prompt": "You are Sam.",
    "tools": TOOLS,
    "input": {"format": {"encoding": "audio/pcmu"}},
    "output": {"voice": "ivy", "format": {"encoding": "audio/pcmu"}},
}


@pytest.fixture
async def agent() -> AsyncIterator[Agent]:
    async with running(FAST) as served:
        yield served


@pytest.fixture
async def slow_agent() -> AsyncIterator[Agent]:
    async with running(REAL_TIME) as served:
        yield served


class Socket:
    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(event))

    async def recv(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), RECV_TIMEOUT_S))

    async def until(self, event_type: str) -> list[dict[str, Any]]:
        events = []
        while True:
            events.append(await self.recv())
            if events[-1]["type"] == event_type:
                return events

    async def say(self, text: str, *, after_ms: float = 1100) -> None:
        audio = silence(60) + encode_utterance(text, ms_per_char=3.0) + silence(after_ms)
        for start in range(0, len(audio), FRAME_BYTES):
            await self.send(
                {
                    "type": "input.audio",
                    "audio": base64.b64encode(audio[start : start + FRAME_BYTES]).decode(),
                }
            )


@asynccontextmanager
async def socket(agent: Agent, *, session: dict[str, Any] | None = PHONE) -> AsyncIterator[Socket]:
    url = f"ws://127.0.0.1:{agent.port}/v1/ws"
    async with connect(url, additional_headers={"Authorization": f"Bearer {KEY}"}) as ws:
        opened = Socket(ws)
        if session is not None:
            await opened.send({"type": "session.update", "session": session})
            assert (await opened.recv())["type"] == "session.ready"
        yield opened


def audio_text(events: list[dict[str, Any]]) -> list[str]:
    audio = b"".join(base64.b64decode(e["data"]) for e in events if e["type"] == "reply.audio")
    decoder = SpeechDecoder()
    return [e.text for e in decoder.feed(audio) + decoder.flush() if isinstance(e, SpeechEnded)]


def types(events: list[dict[str, Any]]) -> list[str]:
    """Event types without agent transcript deltas, runs of ``reply.audio`` reduced to one."""
    out: list[str] = []
    for kind in (e["type"] for e in events if e["type"] != "transcript.agent.delta"):
        if not (out and out[-1] == kind == "reply.audio"):
            out.append(kind)
    return out


async def test_the_handshake_needs_the_bearer_key(agent):
    url = f"ws://127.0.0.1:{agent.port}/v1/ws"
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(url, additional_headers={"Authorization": KEY}):  # no "Bearer": refused (E1)
            pass
    assert refused.value.response.status_code == 401
    async with connect(f"{url}?token={KEY}") as ws:  # the temporary-token form
        await ws.send(json.dumps({"type": "session.update", "session": PHONE}))
        assert json.loads(await ws.recv())["type"] == "session.ready"


async def test_session_update_comes_first_and_ready_carries_the_session(agent):
    async with socket(agent, session=None) as opened:
        await opened.send({"type": "input.audio", "audio": base64.b64encode(silence(20)).decode()})
        assert (await opened.recv())["code"] == "session_not_ready"
        await opened.send({"type": "session.update", "session": PHONE})
        ready = await opened.recv()
    assert ready["type"] == "session.ready" and ready["session_id"].startswith("sess_")
    assert ready["resume_token"] and ready["expires_at"] > 0
    assert ready["config"]["input"]["format"] == {"encoding": "audio/pcmu"}


@pytest.mark.parametrize(
    ("session", "code"),
    [
        ({**PHONE, "tools": [{"name": "end_call", "parameters": {}}]}, "invalid_tools"),
        ({**PHONE, "output": {"voice": "Ivy", "format": {"encoding": "audio/pcmu"}}}, "invalid_voice"),
    ],
)
async def test_bad_configuration_gets_session_error(agent, session, code):
    async with socket(agent, session=None) as opened:
        await opened.send({"type": "session.update", "session": session})
        error = await opened.recv()
    assert error["type"] == "session.error" and error["code"] == code


async def test_greeting_and_voice_are_immutable_after_ready_but_the_prompt_is_not(agent):
    async with socket(agent) as opened:
        await opened.send({"type": "session.update", "session": {"output": {"voice": "james"}}})
        assert (await opened.recv())["code"] == "immutable_field"
        await opened.send({"type": "session.update", "session": {"system_prompt": "Be brief."}})
        updated = await opened.recv()
    assert updated["type"] == "session.updated" and updated["config"]["system_prompt"] == "Be brief."


async def test_a_caller_turn_gets_the_documented_event_order_and_an_automatic_reply(agent):
    async with socket(agent) as opened:
        await opened.say("Sure, I have a minute.")
        events = await opened.until("reply.done")
    assert types(events) == [
        "input.speech.started",
        "transcript.user.delta",
        "input.speech.stopped",
        "transcript.user",
        "reply.started",
        "reply.audio",
        "transcript.agent",
        "reply.done",
    ]
    assert audio_text(events) == [PITCH] and events[-1]["status"] == "completed"


async def test_speech_over_a_reply_interrupts_it_unless_interrupt_response_is_off(slow_agent):
    async with socket(slow_agent) as opened:
        await opened.send({"type": "reply.create", "instructions": say_exactly(LONG)})
        await opened.until("reply.audio")
        await opened.say("Sure, go ahead.", after_ms=100)
        events = await opened.until("reply.done")
        said = next(e for e in events if e["type"] == "transcript.agent")
        assert events[-1]["status"] == "interrupted" and said["interrupted"] is True
        assert 0 < len(said["text"]) < len(LONG) and LONG.startswith(said["text"])
    detection = {"interrupt_response": False}
    async with socket(
        slow_agent, session={**PHONE, "input": {**PHONE["input"], "turn_detection": detection}}
    ) as opened:
        await opened.send({"type": "reply.create", "instructions": say_exactly(GREETING)})
        await opened.until("reply.audio")
        await opened.say("Sure, go ahead.")
        events = await opened.until("reply.done")
        assert events[-1]["status"] == "completed"
        answer = await opened.until("reply.done")  # the turn said over it is answered afterwards
        assert audio_text(answer) == [PITCH]


async def test_tool_results_continue_the_reply_and_early_ones_are_recorded(slow_agent):
    async with socket(slow_agent) as opened:
        await opened.say("Please stop calling me.")
        call = (await opened.until("tool.call"))[-1]
        assert call["name"] == "honor_dnc" and isinstance(call["arguments"], dict)
        await opened.send({"type": "tool.result", "call_id": call["call_id"], "result": '{"ok": true}'})
        await opened.until("reply.done")
        events = await opened.until("reply.done")
    assert audio_text(events) == [DNC_GOODBYE]
    [record] = list(slow_agent.app.state.registry)
    assert record.early_tool_results == [call["call_id"]]  # sent before its reply.done (E1 says don't)
    assert [o.name for o in record.tool_outputs] == ["honor_dnc"]


async def test_session_end_gets_session_ended_then_close_1000(agent):
    async with socket(agent) as opened:
        await opened.send({"type": "session.end"})
        ended = await opened.recv()
        with pytest.raises(websockets.ConnectionClosedOK):
            await opened.recv()
        assert opened.ws.close_code == 1000
    assert ended["type"] == "session.ended" and ended["session_duration_seconds"] >= 0
    assert "audio_duration_seconds" in ended


async def test_an_unknown_voice_is_agent_unavailable_with_its_code(agent):
    adapter = AssemblyAIVoiceAgent(api_key=KEY, url=f"ws://127.0.0.1:{agent.port}/v1/ws", voice="Ivy")
    with pytest.raises(AgentUnavailableError, match="invalid_voice"):
        await adapter.connect(dataclasses.replace(config("assemblyai"), voice=adapter.voice))


async def _drop(agent: Agent, conn: AssemblyAIConnection) -> None:
    await agent.app.state.resumable.sockets[conn.session_id].close(code=1011)


@pytest.mark.parametrize("grace_s", [30.0, 0.0], ids=["resumed", "fresh"])
async def test_a_dropped_socket_is_recovered_once(agent, grace_s):
    agent.app.state.resumable.grace_s = grace_s
    adapter = AssemblyAIVoiceAgent(api_key=KEY, url=f"ws://127.0.0.1:{agent.port}/v1/ws", voice="ivy")
    conn = await adapter.connect(config("assemblyai"))
    assert isinstance(conn, AssemblyAIConnection)
    first_id = conn.session_id
    upstream = ResilientConnection(conn, send_timeout_s=5.0)
    call = Call(upstream)
    try:
        await upstream.start_response(say_exactly(GREETING))
        await call.response()
        await _drop(agent, conn)
        [reconnected] = await call.until(lambda e: isinstance(e, AgentReconnected))
        assert reconnected.how == ("resumed" if grace_s else "fresh")
        await upstream.start_response(say_exactly("Still here."))
        events = await call.until(lambda e: isinstance(e, ResponseFinished))
        assert spoken(events) == ["Still here."]
        await _drop(agent, conn)
        last = await call.until(lambda e: isinstance(e, AgentProblem))
        assert last[-1].code == "reconnect_failed" and last[-1].fatal  # only once per call
    finally:
        await call.close()
    records = list(agent.app.state.registry)
    if grace_s:
        assert conn.session_id == first_id and records[0].resumes == 1 and len(records) == 1
    else:
        assert conn.session_id != first_id and len(records) == 2
        assert records[1].system_prompt.endswith("Agent: " + GREETING)
        assert "do not greet" in records[1].system_prompt
    assert upstream.reconnects == 1
    assert "Agent: " + GREETING in upstream.history.transcript()
