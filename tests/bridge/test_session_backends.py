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

from bridge.amd import AmdBoard
from bridge.prompt import opening_line
from bridge.session import CallSession
from bridge.twilio_protocol import Mark, MarkPayload, Media, MediaPayload
from dialer.models import CallAttempt, Disposition, DncEntry, Speaker, TranscriptTurn
from dialer.settings import BridgeParams
from sandbox.speech_codec import FRAME_BYTES, encode_utterance, silence
from tests.bridge.test_session import SID, call  # noqa: F401 - the dialled attempt fixture
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
