"""AssemblyAI Voice Agent wire events and their mapping onto the bridge's agent events (PROTOCOLS E)."""

import base64
import json

import pytest

from bridge import assemblyai_events as wire
from bridge.agent import (
    AgentAudio,
    AgentProblem,
    AgentSaid,
    AgentSessionConfig,
    CallerSaid,
    CallerSpeechStarted,
    ResponseFinished,
    ResponseStarted,
    ToolCall,
    ToolSpec,
)
from bridge.assemblyai_agent import session_payload
from bridge.assemblyai_replies import ReplyTranslator

CHUNK = base64.b64encode(b"\xff" * 800).decode()  # 100 ms of μ-law


def frames(translator: ReplyTranslator, *events: dict) -> list:
    out = []
    for event in events:
        out += translator.translate(wire.parse_server_event(json.dumps(event)))
    return out


def test_session_update_is_pcmu_both_ways_without_server_barge_in_or_greeting():
    config = AgentSessionConfig(
        instructions="Be brief.", voice="ivy", tools=(ToolSpec("end_call", "Hang up.", {"type": "object"}),)
    )
    update = wire.session_update(session_payload(config))
    session = update["session"]
    assert update["type"] == "session.update"
    assert session["input"]["format"] == {"encoding": "audio/pcmu"}
    assert session["output"] == {"voice": "ivy", "format": {"encoding": "audio/pcmu"}}
    assert session["input"]["turn_detection"]["interrupt_response"] is False
    assert session["tools"] == [
        {"type": "function", "name": "end_call", "description": "Hang up.", "parameters": {"type": "object"}}
    ]
    assert "greeting" not in session and "sample_rate" not in json.dumps(session)
    assert session["system_prompt"] == "Be brief."


def test_a_fresh_session_after_a_failed_resume_carries_the_call_so_far():
    config = AgentSessionConfig(instructions="Be brief.", voice="ivy", tools=())
    prompt = session_payload(config, history="Agent: Hi.\nCaller: Who is this?")["system_prompt"]
    assert prompt.startswith("Be brief.") and prompt.endswith("Agent: Hi.\nCaller: Who is this?")
    assert "do not greet or introduce yourself again" in prompt


def test_a_reply_maps_to_response_events_with_tool_arguments_as_json_text():
    events = frames(
        ReplyTranslator(),
        {"type": "input.speech.started"},
        {"type": "transcript.user", "text": "Stop calling me."},
        {"type": "reply.started", "reply_id": "r1"},
        {"type": "reply.audio", "reply_id": "r1", "data": CHUNK},
        {"type": "transcript.agent", "reply_id": "r1", "text": "Understood.", "interrupted": False},
        {"type": "tool.call", "call_id": "c1", "name": "honor_dnc", "arguments": {"reason": "asked"}},
        {"type": "reply.done"},  # bare: completed (E4)
    )
    assert events == [
        CallerSpeechStarted(audio_start_ms=0),
        CallerSaid("Stop calling me."),
        ResponseStarted("r1"),
        AgentAudio(response_id="r1", item_id="r1", payload=CHUNK),
        AgentSaid(response_id="r1", item_id="r1", text="Understood.", audio_ms=100),
        ToolCall(response_id="r1", call_id="c1", name="honor_dnc", arguments='{"reason": "asked"}'),
        ResponseFinished(response_id="r1", status="completed"),
    ]


def test_a_muted_reply_plays_no_more_and_ends_cancelled():
    translator = ReplyTranslator()
    started = frames(
        translator, {"type": "reply.started", "reply_id": "r1"}, {"type": "reply.audio", "data": CHUNK}
    )
    assert len(started) == 2 and translator.mute_current()
    rest = frames(
        translator, {"type": "reply.audio", "data": CHUNK}, {"type": "reply.done", "status": "completed"}
    )
    assert rest == [ResponseFinished("r1", status="cancelled", reason="client_cancelled")]
    assert not translator.mute_current()  # nothing in progress any more
    # the muted audio was generated all the same: the transcript of the reply covers it
    assert translator.items["r1"].audio_ms == 200


def test_server_interruption_reads_as_turn_detected():
    events = frames(
        ReplyTranslator(),
        {"type": "reply.started", "reply_id": "r1"},
        {"type": "reply.done", "reply_id": "r1", "status": "interrupted"},
    )
    assert events[-1] == ResponseFinished("r1", status="cancelled", reason="turn_detected")


def test_audio_without_reply_started_opens_a_reply():
    events = frames(ReplyTranslator(), {"type": "reply.audio", "data": CHUNK, "item_id": "i9"})
    assert isinstance(events[0], ResponseStarted)
    assert events[1] == AgentAudio(response_id=events[0].response_id, item_id="i9", payload=CHUNK)


def test_reply_error_fails_the_reply_once():
    events = frames(
        ReplyTranslator(),
        {"type": "reply.started", "reply_id": "r1"},
        {"type": "reply.error", "code": "llm_error", "message": "upstream"},
        {"type": "reply.done", "reply_id": "r1"},
    )
    assert events[1:] == [
        AgentProblem(code="llm_error", message="upstream", fatal=False),
        ResponseFinished("r1", status="failed", reason="llm_error"),
    ]


@pytest.mark.parametrize(
    ("frame", "code", "fatal"),
    [
        ({"type": "session.error", "code": "invalid_voice", "message": "bad"}, "invalid_voice", False),
        (
            {"type": "session.error", "error": {"code": "session_expired", "message": "x"}},
            "session_expired",
            True,
        ),
        ({"error": "rate limited"}, "untyped_error", False),
        ({"type": "session.ended", "session_duration_seconds": 61.5}, "session_ended", True),
    ],
)
def test_errors_become_agent_problems(frame, code, fatal):
    [problem] = frames(ReplyTranslator(), frame)
    assert isinstance(problem, AgentProblem) and problem.code == code and problem.fatal is fatal


def test_garbage_frames_do_not_raise():
    assert isinstance(wire.parse_server_event(b"not json"), wire.InvalidServerEvent)
    assert isinstance(wire.parse_server_event('{"no": "type"}'), wire.InvalidServerEvent)
    assert isinstance(wire.parse_server_event('{"type": "reply.audio"}'), wire.InvalidServerEvent)
    assert isinstance(
        wire.parse_server_event('{"type": "transcript.user.delta", "text": "hi"}'), wire.OtherServerEvent
    )


def test_what_was_heard_follows_the_transcript_delta_spans():
    translator = ReplyTranslator()
    frames(
        translator,
        {"type": "reply.started", "reply_id": "r1"},
        {"type": "reply.audio", "data": CHUNK},
        {"type": "transcript.agent.delta", "delta": "Hello ", "start_ms": 0, "end_ms": 100},
        {"type": "reply.audio", "data": CHUNK},
        {"type": "transcript.agent.delta", "delta": "there.", "start_ms": 100, "end_ms": 200},
    )
    item = translator.items["r1"]
    assert item.audio_ms == 200
    assert item.heard(150) == "Hello" and item.heard(200) == "Hello there."
