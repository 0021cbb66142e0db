"""The reconnect wrapper's own rules (issue 9, item 6), on a scripted fake agent session.

What the whole-call tests cannot pin down deterministically: the order of events around a
replacement, caller audio kept while it is under way, a repeated tool call swallowed, and the
history it seeds the new session with.
"""

from __future__ import annotations

import asyncio
import base64

import pytest

from bridge.agent import (
    AgentAudio,
    AgentProblem,
    AgentReconnected,
    AgentSaid,
    CallerSaid,
    ResponseFinished,
    ResponseStarted,
    ToolCall,
)
from bridge.history import CallHistory, HeardTurn
from bridge.playback import PlaybackTracker
from bridge.reconnect import ResilientConnection
from tests.fakes.agent import FakeAgentConnection
from tests.waiting import wait_until_async

AUDIO = base64.b64encode(b"\xff" * 800).decode()  # 100 ms of μ-law


class Reopenable(FakeAgentConnection):
    """A fake session that can be replaced: ``reopen`` waits for ``allow`` and records the history."""

    def __init__(self, *, refuse: bool = False) -> None:
        super().__init__()
        self.allow = asyncio.Event()
        self.seeded: list[list[HeardTurn]] = []
        self.refuse = refuse

    async def reopen(self, history: CallHistory) -> str:
        await self.allow.wait()
        if self.refuse:
            return await super().reopen(history)
        self.seeded.append(history.turns())
        self.queue, self.aborted = asyncio.Queue(), False  # a new socket
        return "fresh"


async def _collect(upstream: ResilientConnection, into: list) -> None:
    async for event in upstream.events():
        into.append(event)


def _reading(
    inner: Reopenable, send_timeout_s: float = 1.0
) -> tuple[ResilientConnection, list, asyncio.Task]:
    """``inner`` wrapped (replacements allowed at once), its events collected in the background."""
    inner.allow.set()
    upstream = ResilientConnection(inner, send_timeout_s=send_timeout_s)
    seen: list = []
    return upstream, seen, asyncio.create_task(_collect(upstream, seen))


async def _until(predicate, what: str) -> None:
    await wait_until_async(predicate, timeout=5, what=what)


async def test_a_drop_ends_open_responses_keeps_audio_and_seeds_what_was_heard():
    inner = Reopenable()
    upstream = ResilientConnection(inner, send_timeout_s=1.0)
    seen: list = []
    reader = asyncio.create_task(_collect(upstream, seen))
    inner.push(
        CallerSaid("Sure."),
        ResponseStarted("r1"),
        AgentAudio("r1", "i1", AUDIO),
        AgentSaid("r1", "i1", "Hello there friend"),
        ToolCall("r1", "c1", "log_disposition", "{}"),
    )
    await _until(lambda: len(seen) == 5, "the events")
    await upstream.truncate("i1", 50)  # the caller heard half of it
    inner.abort()  # the socket drops
    await _until(lambda: upstream.reconnecting, "the replacement to start")
    await upstream.send_audio("kept")  # caller audio during the replacement
    start = asyncio.create_task(upstream.start_response("next"))  # waits for the new session
    await asyncio.sleep(0)
    assert inner.responses_requested == []
    inner.allow.set()
    await start
    await _until(lambda: any(isinstance(e, AgentReconnected) for e in seen), "the reconnect")
    assert seen[5:] == [
        ResponseFinished("r1", status="failed", reason="connection_lost"),
        AgentReconnected(how="fresh", cause="the voice agent closed the session"),
    ]
    assert inner.audio_in == ["kept"] and inner.responses_requested == ["next"]
    assert inner.seeded == [
        [
            HeardTurn("caller", "Sure."),
            HeardTurn("agent", "Hello"),  # half the audio heard: the whole words of half the transcript
            HeardTurn("tool_call", "{}", call_id="c1", name="log_disposition"),
        ]
    ]
    inner.push(ToolCall("r2", "c1", "log_disposition", "{}"), ResponseStarted("r2"))
    await _until(lambda: isinstance(seen[-1], ResponseStarted), "the new session's events")
    assert not any(isinstance(e, ToolCall) for e in seen[7:])  # the repeat is not run again
    await upstream.truncate("i1", 10)  # an item of the old session: history only
    assert inner.truncations == [("i1", 50)]
    assert upstream.reconnects == 1
    await upstream.close()
    await reader


async def test_a_late_item_of_a_cut_response_is_seeded_as_unheard():
    """Review of issue 9: the history read only truncations, and none is sent for a late item.

    After a barge-in cut the response, a chunk of a *new* item of that response arrives: the
    playback drops it (heard 0 ms) and the bridge sends no truncation for it. The seed of a
    replacement session must not say the caller heard it.
    """
    inner = Reopenable()
    playback = PlaybackTracker()
    upstream = ResilientConnection(inner, send_timeout_s=1.0, heard_ms=playback.heard_ms)
    seen: list = []
    reader = asyncio.create_task(_collect(upstream, seen))
    playback.sent("i1", 0, AUDIO)
    playback.cut()  # the barge-in, before item i2 existed
    assert playback.sent("i2", 0, AUDIO) == (False, None)  # the late chunk: never played
    inner.push(
        ResponseStarted("r1"),
        AgentAudio("r1", "i2", AUDIO),
        AgentSaid("r1", "i2", "words nobody heard"),
        CallerSaid("Wait."),
    )
    await _until(lambda: len(seen) == 4, "the events")
    inner.allow.set()
    inner.abort()
    await _until(lambda: any(isinstance(e, AgentReconnected) for e in seen), "the reconnect")
    assert inner.seeded == [[HeardTurn("caller", "Wait.")]]
    await upstream.close()
    await reader


async def test_a_second_fault_is_fatal_and_commands_stop():
    inner = Reopenable()
    upstream, seen, reader = _reading(inner)
    inner.push(AgentProblem("session_expired", "gone", fatal=True))
    await _until(lambda: any(isinstance(e, AgentReconnected) for e in seen), "the reconnect")
    assert seen[-1].cause == "session_expired: gone"
    inner.abort()
    await asyncio.wait_for(reader, 5)
    assert seen[-1] == AgentProblem(
        "reconnect_failed", "voice agent lost: the voice agent closed the session", fatal=True
    )
    await upstream.send_audio(AUDIO)
    await upstream.start_response("too late")
    assert inner.audio_in == [] and inner.responses_requested == []


@pytest.mark.parametrize("refuse", [True], ids=["reopen-refused"])
async def test_a_refused_reopen_is_fatal(refuse):
    inner = Reopenable(refuse=refuse)
    upstream, seen, reader = _reading(inner)
    inner.abort()
    await asyncio.wait_for(reader, 5)
    assert seen == [
        AgentProblem("reconnect_failed", "voice agent lost: the voice agent closed the session", fatal=True)
    ]
    assert upstream.reconnects == 0


class Stalling(Reopenable):
    """A session whose sends never finish until its socket is aborted (the agent stopped reading).

    As a WebSocket's: a send waiting for the kernel's buffers to drain ends when the connection is
    lost, and what it was sending is gone.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stuck = True
        self._lost = asyncio.Event()

    async def send_audio(self, payload_b64: str) -> None:
        if self.stuck:
            await self._lost.wait()
            return
        await super().send_audio(payload_b64)

    def abort(self) -> None:
        self._lost.set()
        super().abort()

    async def reopen(self, history: CallHistory) -> str:
        self.stuck = False
        return await super().reopen(history)


async def test_a_send_that_outlasts_its_timeout_aborts_the_socket_and_the_session_is_replaced():
    inner = Stalling()
    upstream, seen, reader = _reading(inner, send_timeout_s=0.05)
    await asyncio.wait_for(upstream.send_audio(AUDIO), 5)  # returns: the watchdog aborted the socket
    assert upstream.stalls == 1
    await _until(lambda: any(isinstance(e, AgentReconnected) for e in seen), "the reconnect")
    assert seen[-1].cause == "a send took over 0.05 s"
    await upstream.send_audio(AUDIO)
    assert inner.audio_in == [AUDIO]
    await upstream.close()
    await reader
