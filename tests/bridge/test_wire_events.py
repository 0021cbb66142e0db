"""Parsing the wire formats with real recorded messages (../shared/data)."""

import json

import pytest

from bridge import openai_events as wire
from bridge.agent import AgentSessionConfig, ResponseFinished, ToolCall, ToolSpec
from bridge.openai_agent import session_payload, translate
from bridge.twilio_protocol import Media, ProtocolError, Start, Stop, parse_message
from tests.conftest import FIXTURES

EXAMPLES = json.loads((FIXTURES / "openai_realtime_server_events_openapi_examples.json").read_text())


def test_every_recorded_realtime_event_parses():
    for example in EXAMPLES:
        event = wire.parse_server_event(json.dumps(example["event"]))
        assert not isinstance(event, wire.InvalidServerEvent), example["event_type"]
        assert event.type == example["event_type"].strip()


def test_events_the_bridge_acts_on_are_typed():
    by_type = {e["event_type"].strip(): e["event"] for e in EXAMPLES}
    call = translate(wire.parse_server_event(json.dumps(by_type["response.function_call_arguments.done"])))
    assert call == ToolCall(
        response_id="resp_002",
        call_id="call_001",
        name="get_weather",
        arguments='{"location": "San Francisco"}',
    )
    done = translate(wire.parse_server_event(json.dumps(by_type["response.done"])))
    assert isinstance(done, ResponseFinished) and done.status == "completed"
    assert done.usage["input_tokens"] == 132 and done.usage["output_audio_tokens"] > 0


def test_garbage_frames_do_not_raise():
    assert isinstance(wire.parse_server_event(b"not json"), wire.InvalidServerEvent)
    assert isinstance(wire.parse_server_event('{"no": "type"}'), wire.InvalidServerEvent)
    assert isinstance(wire.parse_server_event('{"type": "response.done"}'), wire.InvalidServerEvent)


def test_session_update_is_ga_shaped_with_pcmu_both_ways():
    payload = session_payload(
        AgentSessionConfig(
            instructions="hi", voice="marin", tools=(ToolSpec("end_call", "bye", {"type": "object"}),)
        )
    )
    update = wire.session_update(payload)
    session = update["session"]
    assert session["type"] == "realtime"
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    assert session["tools"][0]["type"] == "function"
    for beta_field in ("voice", "input_audio_format", "modalities", "temperature", "turn_detection"):
        assert beta_field not in session


def test_recorded_twilio_session_parses():
    lines = (FIXTURES / "twilio_media_stream_session_darai0512.jsonl").read_text().splitlines()
    events = [parse_message(line) for line in lines]
    start = events[1]
    assert isinstance(start, Start) and start.start.media_format.sample_rate == 8000
    media = events[2]
    assert isinstance(media, Media) and media.media.timestamp == 171 and media.media.chunk == 1
    assert isinstance(events[-1], Stop)


@pytest.mark.parametrize("raw", ['{"event": "bogus"}', "[]", '{"event": "media", "media": {}}', "nope"])
def test_invalid_twilio_frames_are_protocol_errors(raw):
    with pytest.raises(ProtocolError):
        parse_message(raw)
