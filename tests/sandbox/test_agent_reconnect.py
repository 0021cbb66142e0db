# ruff: noqa: F811 - the fixtures imported below are used as test arguments
"""A replaced agent session knows what the caller heard, on both backends (issue 9, item 6).

Through :class:`bridge.reconnect.ResilientConnection` and each real adapter against the sandbox
agent: an agent item the caller cut short is truncated, the socket then drops, and the fresh
session is seeded with the heard part only (OpenAI: ``conversation.item.create`` items; AssemblyAI,
whose resume is refused here: the prompt), plus the earlier caller turn and no greeting.
"""

from __future__ import annotations

import math

from bridge.agent import AgentAudio, AgentReconnected, AgentSaid
from bridge.history import RECONNECTED_NOTE
from bridge.reconnect import ResilientConnection
from sandbox.agent.faults import Fault
from tests.sandbox.test_agent_backends import LONG, Call, backend, config, say_exactly  # noqa: F401

HEARD_MS = 200


async def test_the_fresh_session_is_seeded_with_what_the_caller_heard(backend):
    backend.served.app.state.resumable.grace_s = 0.0
    upstream = ResilientConnection(
        await backend.voice_agent().connect(config(backend.name)), send_timeout_s=5.0
    )
    call = Call(upstream)
    try:
        events = await call.turn("Sure, I have a minute.")  # heard in full: the pitch
        await upstream.start_response(say_exactly(LONG))
        events = await call.response()
        [said] = [e for e in events if isinstance(e, AgentSaid)]
        audio_ms = (
            sum(len(e.payload) * 3 // 4 - e.payload.count("=") for e in events if isinstance(e, AgentAudio))
            / 8
        )
        if backend.name == "openai":
            backend.served.app.state.faults.plan(Fault("drop", after="conversation.item.truncated"))
            await upstream.truncate(said.item_id, HEARD_MS)
        else:
            await upstream.truncate(said.item_id, HEARD_MS)
            await backend.served.app.state.resumable.sockets[backend.record().session_id].close(code=1011)
        [reconnected] = await call.until(lambda e: isinstance(e, AgentReconnected))
    finally:
        await call.close()
    assert reconnected.how == "fresh"
    heard = LONG[: math.floor(len(LONG) * HEARD_MS / audio_ms)].strip()
    assert heard and len(heard) < len(LONG)
    fresh = backend.record()
    assert RECONNECTED_NOTE in fresh.system_prompt
    if backend.name == "openai":
        seeded = [(item["role"], item["content"][0]["text"]) for item in fresh.items_created]
        assert seeded[0] == ("user", "Sure, I have a minute.")
        assert seeded[-1] == ("assistant", heard)  # the heard part, not the generated text
        assert len(fresh.responses) == 0  # seeding made the new session say nothing
    else:
        assert "Caller: Sure, I have a minute." in fresh.system_prompt
        assert fresh.system_prompt.endswith(f"Agent: {heard}")
