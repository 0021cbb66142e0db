# ruff: noqa: F811 - the fixtures imported below are used as test arguments
"""Whole calls through the real bridge session and the real adapters, on both voice-agent backends.

:class:`bridge.session.CallSession` runs against the sandbox agent over loopback (Realtime GA at
``/v1/realtime`` or the AssemblyAI Voice Agent API at ``/v1/ws``) with a Twilio side that plays
every chunk at once (marks echoed as they are sent) and a caller who speaks the sandbox speech
code. The same conversation must end the same way on either backend.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable

from sqlalchemy import select

from bridge.agent import VoiceAgent
from bridge.amd import AmdBoard
from bridge.prompt import opening_line
from bridge.session import CallSession
from bridge.twilio_protocol import Mark, MarkPayload, Media, MediaPayload
from dialer.models import CallAttempt, Disposition, DncEntry, Speaker, TranscriptTurn
from dialer.settings import BridgeParams
from sandbox.agent.script import PITCH
from sandbox.speech_codec import FRAME_BYTES, encode_utterance, silence
from tests.bridge.test_session import SID, _agent_turns, call  # noqa: F401 - the dialled attempt fixture
from tests.fakes.agent import FakeMediaPort
from tests.sandbox.test_agent_backends import TURN_SILENCE_MS, Backend, backend, slow_backend  # noqa: F401

WAIT_S = 10.0


class PlayingPort(FakeMediaPort):
    """Twilio playing everything at once: each mark is echoed as soon as it is sent."""

    def __init__(self) -> None:
        super().__init__()
        self._sequence = 0

    async def send(self, message: dict) -> None:
        await super().send(message)
        if message["event"] == "mark":
            self.inbound.put_nowait(
                Mark(
                    event="mark",
                    sequenceNumber=1,
                    streamSid=SID,
                    mark=MarkPayload(name=message["mark"]["name"]),
                )
            )

    def say(self, text: str) -> None:
        audio = silence(60) + encode_utterance(text, ms_per_char=3.0) + silence(TURN_SILENCE_MS)
        for start in range(0, len(audio), FRAME_BYTES):
            self._sequence += 1
            payload = base64.b64encode(audio[start : start + FRAME_BYTES]).decode()
            media = MediaPayload(chunk=self._sequence, timestamp=self._sequence * 20, payload=payload)
            self.inbound.put_nowait(
                Media(event="media", sequenceNumber=self._sequence, streamSid=SID, media=media)
            )


async def _until(predicate: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def _attempt(runtime, attempt_id: int) -> CallAttempt:
    with runtime.sessions() as s:
        attempt = s.get(CallAttempt, attempt_id)
        s.expunge(attempt)
        return attempt


async def _run_call(
    backend: Backend,
    runtime,
    context,
    caller_says: str,
    *,
    over_the_disclosure: bool = False,
) -> PlayingPort:
    port = PlayingPort()
    amd = AmdBoard()
    agent = backend.voice_agent()
    session = CallSession(
        port=port,
        agent=agent,
        runtime=runtime,
        context=context,
        stream_sid=SID,
        params=BridgeParams(amd_wait_max_ms=2000),
        amd=amd,
        voice=agent.voice,
    )
    amd.publish(context.call_sid, "human")
    task = asyncio.create_task(session.run())
    if over_the_disclosure:
        await _until(lambda: bool(port.events("media")), "the disclosure's first audio")
    else:
        await _until(
            lambda: _attempt(runtime, context.attempt_id).disclosure_played_at is not None, "the disclosure"
        )
    port.say(caller_says)
    await asyncio.wait_for(task, WAIT_S)
    return port


def _turns(runtime, attempt_id: int) -> list[tuple[Speaker, str]]:
    with runtime.sessions() as s:
        rows = s.scalars(
            select(TranscriptTurn).where(TranscriptTurn.attempt_id == attempt_id).order_by(TranscriptTurn.id)
        )
        return [(row.speaker, row.text) for row in rows]


async def test_an_opt_out_after_the_disclosure_is_honoured_and_the_call_ends(backend, runtime, call, carrier):
    await _run_call(backend, runtime, call, "Please stop calling me.")
    with runtime.sessions() as s:
        assert s.scalars(select(DncEntry.phone_e164)).all() == [call.phone_e164]
    assert carrier.hung_up == [call.call_sid]
    turns = _turns(runtime, call.attempt_id)
    assert turns[0][0] == Speaker.AGENT and "AI" in turns[0][1]  # the disclosure came first
    assert (Speaker.CALLER, "Please stop calling me.") in turns


async def test_not_interested_is_logged_and_the_call_ends(backend, runtime, call, carrier):
    await _run_call(backend, runtime, call, "No thanks, I'm not interested.")
    with runtime.sessions() as s:
        dispositions = s.scalars(
            select(Disposition.name).where(Disposition.attempt_id == call.attempt_id)
        ).all()
    assert [str(name) for name in dispositions] == ["not_interested"]
    assert carrier.hung_up == [call.call_sid]
    assert _turns(runtime, call.attempt_id)[-1] == (
        Speaker.AGENT,
        "No problem at all. Thanks for your time. Goodbye.",
    )


async def test_stop_calling_over_the_disclosure_cuts_nothing_and_is_honoured(
    slow_backend, runtime, call, carrier
):
    port = await _run_call(slow_backend, runtime, call, "Please stop calling me.", over_the_disclosure=True)
    with runtime.sessions() as s:
        assert s.scalars(select(DncEntry.phone_e164)).all() == [call.phone_e164]
        disclosure = s.scalars(
            select(TranscriptTurn)
            .where(TranscriptTurn.attempt_id == call.attempt_id, TranscriptTurn.speaker == Speaker.AGENT)
            .order_by(TranscriptTurn.id)
        ).first()
        assert disclosure is not None and not disclosure.interrupted
        assert disclosure.text == opening_line(call)  # every word of it: the agent did not cut it either
    assert _attempt(runtime, call.attempt_id).disclosure_played_at is not None  # played to the end
    first_clear = next((i for i, m in enumerate(port.sent) if m["event"] == "clear"), len(port.sent))
    disclosure_marks = [m for m in port.sent[:first_clear] if m["event"] == "mark"]
    assert disclosure_marks  # nothing was cleared while the disclosure played
    assert carrier.hung_up == [call.call_sid]


async def test_the_agents_billed_usage_is_recorded_on_the_attempt(backend, runtime, call, carrier):
    await _run_call(backend, runtime, call, "No thanks, I'm not interested.")
    usage = _attempt(runtime, call.attempt_id).agent_usage
    if backend.name == "assemblyai":  # billed by session time (PROTOCOLS E4): no token meter
        assert usage["session_ms"] > 0 and not any(key.endswith("_tokens") for key in usage)
    else:  # billed by the responses' token counts (D8), cached input split by kind
        assert usage["output_audio_tokens"] > 0 and usage["input_text_tokens"] > 0
        assert "session_ms" not in usage


class HeldPort(PlayingPort):
    """Twilio playing at the test's pace once :meth:`hold` is called (every mark echoed until then).

    After ``hold``, a mark is echoed only when :meth:`play_to` reaches the audio sent before it;
    ``clear`` echoes every outstanding mark at once, as Twilio does (PROTOCOLS A3).
    """

    def __init__(self) -> None:
        super().__init__()
        self.held_ms: int | None = None
        self._queued: list[tuple[int, str]] = []  # (ms of audio sent since hold, mark name)

    def hold(self) -> None:
        self.held_ms = 0

    async def send(self, message: dict) -> None:
        if self.held_ms is None:
            await super().send(message)
            return
        self.sent.append(message)
        if message["event"] == "media":
            self.held_ms += len(base64.b64decode(message["media"]["payload"])) // 8
        elif message["event"] == "mark":
            self._queued.append((self.held_ms, message["mark"]["name"]))
        elif message["event"] == "clear":
            self.play_to(10**9)

    def play_to(self, ms: int) -> None:
        while self._queued and self._queued[0][0] <= ms:
            self._echo(self._queued.pop(0)[1])

    def _echo(self, name: str) -> None:
        self.inbound.put_nowait(
            Mark(event="mark", sequenceNumber=1, streamSid=SID, mark=MarkPayload(name=name))
        )

    def speak_over(self, text: str) -> None:
        """The caller starts talking (no pause after: the turn has not ended)."""
        audio = silence(60) + encode_utterance(text, ms_per_char=3.0)
        for start in range(0, len(audio), FRAME_BYTES):
            payload = base64.b64encode(audio[start : start + FRAME_BYTES]).decode()
            media = MediaPayload(chunk=1, timestamp=1, payload=payload)
            self.inbound.put_nowait(Media(event="media", sequenceNumber=1, streamSid=SID, media=media))


def _watch_truncations(agent: VoiceAgent, sent: list[dict]) -> list[tuple[str, int, int]]:
    """Record every ``truncate`` the bridge sends on the agent's connections, with ``len(sent)``."""
    seen: list[tuple[str, int, int]] = []
    connect = agent.connect

    async def connect_and_watch(config):
        conn = await connect(config)
        truncate = conn.truncate

        async def watched(item_id: str, audio_end_ms: int) -> None:
            seen.append((item_id, audio_end_ms, len(sent)))
            await truncate(item_id, audio_end_ms)

        conn.truncate = watched  # type: ignore[method-assign]
        return conn

    agent.connect = connect_and_watch  # type: ignore[method-assign]
    return seen


HEARD_EVIDENCE: dict[str, Callable[[Backend, str, int], bool]] = {
    "openai": lambda b, item_id, ms: (
        [(t.item_id, t.audio_end_ms) for t in b.record().truncations] == [(item_id, ms)]
    ),
    "assemblyai": lambda b, item_id, ms: any("They heard only" in m for m in b.record().messages),
}


async def test_a_barge_in_truncates_where_the_caller_stopped_hearing_and_records_those_words(
    slow_backend, runtime, call
):
    """Issue 9 item 3 on both backends: the pitch is cut within a mark interval of the heard point,
    its late audio and the stale echoes are dropped, and the turn keeps the words that played."""
    port, amd = HeldPort(), AmdBoard()
    agent = slow_backend.voice_agent()
    truncations = _watch_truncations(agent, port.sent)
    session = CallSession(
        port=port, agent=agent, runtime=runtime, context=call, stream_sid=SID,
        params=BridgeParams(amd_wait_max_ms=2000), amd=amd, voice=agent.voice,
    )  # fmt: skip
    amd.publish(call.call_sid, "human")
    task = asyncio.create_task(session.run())
    await _until(
        lambda: _attempt(runtime, call.attempt_id).disclosure_played_at is not None, "the disclosure"
    )
    port.hold()
    port.say("Sure, I have a minute.")
    await _until(lambda: (port.held_ms or 0) >= 400, "400 ms of the pitch")
    port.play_to(300)
    await _until(port.drained, "the echoes to be handled")
    port.speak_over("Wait, who is this?")
    await _until(lambda: bool(truncations), "the truncation")
    [(item_id, heard_ms, cut_at)] = truncations
    assert 300 - 100 < heard_ms <= 300  # the marks are 100 ms apart
    await _until(lambda: len(_agent_turns(runtime, call.attempt_id)) == 2, "the pitch's transcript")
    assert [m for m in port.sent[cut_at:] if m["event"] == "media"] == []  # no late chunk played
    await port.close()  # the caller hangs up
    await asyncio.wait_for(task, WAIT_S)
    text, heard, interrupted = _agent_turns(runtime, call.attempt_id)[1]
    assert interrupted and PITCH.startswith(text) and text.startswith(heard) and heard != text
    assert (heard_ms - 100) / 3.0 - 15 <= len(heard) <= heard_ms / 3.0  # 3 ms a character
    assert HEARD_EVIDENCE[slow_backend.name](slow_backend, item_id, heard_ms)
