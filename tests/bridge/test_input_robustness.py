"""Input robustness of the carrier-facing side: gaps, junk frames, replays and hostile numbers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.app import create_app
from bridge.twilio_protocol import MAX_GAP_FILL_MS, AudioTimeline, Media, parse_message
from dialer.models import CallAttempt
from tests.bridge.test_routes import _post, bridged_call
from tests.factories import dial_one_lead
from tests.fakes.agent import FakeVoiceAgent

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "twilio_media_stream_session_darai0512.jsonl"
FRAME = base64.b64encode(b"\x7f" * 160).decode()  # 20 ms


@pytest.fixture
def attempt(runtime):
    return dial_one_lead(runtime)


@pytest.fixture
def client(runtime):
    return TestClient(create_app(runtime=runtime, agent=FakeVoiceAgent()))


def _media(timestamp: int, payload: str = FRAME) -> Media:
    return parse_message(
        json.dumps(
            {
                "event": "media",
                "sequenceNumber": "3",
                "streamSid": "MZ1",
                "media": {"track": "inbound", "chunk": "1", "timestamp": str(timestamp), "payload": payload},
            }
        )
    )


def _ms(media: Media) -> int:
    return len(base64.b64decode(media.media.payload)) // 8


def test_a_gap_in_the_timestamps_becomes_silence_of_its_length():
    timeline = AudioTimeline()
    assert [_ms(m) for m in timeline.fill(_media(0))] == [20]
    assert [_ms(m) for m in timeline.fill(_media(20))] == [20]  # on time: nothing added
    filled = timeline.fill(_media(140))  # 100 ms lost
    assert [_ms(m) for m in filled] == [100, 20]
    assert set(base64.b64decode(filled[0].media.payload)) == {0xFF} and filled[1].media.payload == FRAME
    assert [_ms(m) for m in timeline.fill(_media(150))] == [20]  # late / reordered: passed on as is
    assert [_ms(m) for m in timeline.fill(_media(10**9))][0] == MAX_GAP_FILL_MS  # a bogus jump is capped


def test_the_recorded_twilio_session_replays_through_the_bridge(client, attempt, runtime):
    lines = RECORDED.read_text().splitlines()[2:]  # its media, mark and stop, after our own start
    frames = [line.replace('"zzz"', json.dumps(attempt.call_sid)).replace('"yyy"', '"MZ1"') for line in lines]
    junk = ["not json", '{"event": "bogus"}', '{"event": "media", "media": {}}', "[]"]
    connection = bridged_call(client, attempt, [junk[0], frames[0], *junk[1:], *frames[1:]])
    assert len(connection.audio_in) == 1  # the recorded chunk reached the agent; the junk was skipped
    with runtime.sessions() as s:
        assert s.get(CallAttempt, attempt.id).stream_sid == "MZ1"


def test_a_replayed_voice_request_after_the_stream_started_gets_no_second_stream(client, attempt):
    bridged_call(client, attempt, [])
    replay = _post(client, f"/twilio/voice?attempt={attempt.id}", {"CallSid": attempt.call_sid})
    assert replay.status_code == 200 and "<Hangup" in replay.text and "token" not in replay.text


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/twilio/status?attempt=2147483648", {"CallStatus": "ringing"}),
        ("/twilio/voice?attempt=99999999999999999999", {}),
        ("/twilio/status?attempt={id}", {"CallStatus": "completed", "SequenceNumber": str(2**40)}),
        ("/twilio/status?attempt={id}", {"CallStatus": "completed", "CallDuration": str(10**30)}),
        ("/twilio/status?attempt={id}", {"CallStatus": "completed", "CallDuration": "-5"}),
        ("/twilio/amd?attempt={id}", {"AnsweredBy": "human\x00"}),
    ],
)
def test_signed_webhooks_with_hostile_values_get_a_4xx_and_change_nothing(
    client, attempt, runtime, path, form
):
    def state():
        with runtime.sessions() as s:
            row = s.get_one(CallAttempt, attempt.id)
            return row.status, row.answered_by, row.duration_seconds

    before = state()
    response = _post(client, path.format(id=attempt.id), {"CallSid": attempt.call_sid, **form})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"]
    assert state() == before


_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=40),
    st.sampled_from(["completed", "in-progress", "ringing", "busy", "human", "machine_start", ""]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), route=st.sampled_from(["voice", "status", "amd"]))
def test_no_signed_webhook_request_is_a_server_error(client, attempt, data, route):
    """Signed fuzz: whatever the numbers and text, a webhook answers 2xx/3xx/4xx, never 5xx.

    Half the requests name the real attempt and its CallSid, so the fuzz reaches the database.
    """
    attempt_param = data.draw(st.one_of(st.just(str(attempt.id)), _VALUES), label="attempt")
    form = data.draw(
        st.dictionaries(
            st.sampled_from(["CallStatus", "SequenceNumber", "CallDuration", "AnsweredBy", "ErrorCode"]),
            _VALUES,
        ),
        label="form",
    )
    form["CallSid"] = data.draw(st.one_of(st.just(attempt.call_sid), st.text(max_size=40)), label="sid")
    response = _post(client, f"/twilio/{route}?{urlencode({'attempt': attempt_param})}", form)
    assert response.status_code < 500, (route, attempt_param, form, response.text)
