"""Carrier-facing routes: signatures, TwiML, callbacks, the media WebSocket handshake."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect
from twilio.request_validator import RequestValidator

from bridge.app import create_app
from dialer.models import AttemptStatus, CallAttempt, Disposition
from tests.factories import dial_one_lead
from tests.fakes.agent import FakeVoiceAgent
from tests.waiting import wait_until

TOKEN = "sandbox-auth-token"
PUBLIC = "https://dialer.example.com"


@pytest.fixture
def attempt(runtime):
    return dial_one_lead(runtime)


@pytest.fixture
def client(runtime):
    return TestClient(create_app(runtime=runtime, agent=FakeVoiceAgent()))


def _post(client, path, form, *, sign=True, token=TOKEN):
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(f"{PUBLIC}{path}", form)
    return client.post(
        path,
        content=urlencode(form),
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )


def test_webhooks_refuse_missing_or_wrong_signatures(client, attempt):
    form = {"CallSid": attempt.call_sid, "CallStatus": "in-progress"}
    assert _post(client, f"/twilio/voice?attempt={attempt.id}", form, sign=False).status_code == 403
    assert _post(client, f"/twilio/voice?attempt={attempt.id}", form, token="wrong").status_code == 403
    assert _post(client, f"/twilio/status?attempt={attempt.id}", form, token="wrong").status_code == 403
    assert (
        _post(
            client, f"/twilio/amd?attempt={attempt.id}", {**form, "AnsweredBy": "human"}, sign=False
        ).status_code
        == 403
    )
    # The signature covers the query string: a different attempt id is a different request.
    signed_for_other = RequestValidator(TOKEN).compute_signature(f"{PUBLIC}/twilio/voice?attempt=999", form)
    response = client.post(
        f"/twilio/voice?attempt={attempt.id}", data=form, headers={"X-Twilio-Signature": signed_for_other}
    )
    assert response.status_code == 403


def test_voice_webhook_returns_connect_stream_with_parameters(client, attempt, runtime):
    response = _post(
        client,
        f"/twilio/voice?attempt={attempt.id}",
        {"CallSid": attempt.call_sid, "CallStatus": "in-progress"},
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    body = response.text
    assert '<Stream url="wss://dialer.example.com/twilio/media">' in body
    assert f'<Parameter name="attempt" value="{attempt.id}" />' in body
    assert '<Parameter name="token" value="' in body and "?" not in body.split("url=")[1].split('"')[1]
    with runtime.sessions() as s:
        assert s.get(CallAttempt, attempt.id).stream_token_hash is not None


def test_voice_webhook_for_a_call_that_is_not_ours_hangs_up(client, attempt):
    response = _post(client, f"/twilio/voice?attempt={attempt.id}", {"CallSid": "CA" + "e" * 32})
    assert response.status_code == 200 and "<Hangup />" in response.text


def test_status_and_amd_callbacks_update_the_attempt(client, attempt, runtime, carrier):
    ok = _post(
        client,
        f"/twilio/status?attempt={attempt.id}",
        {"CallSid": attempt.call_sid, "CallStatus": "in-progress", "SequenceNumber": "2"},
    )
    assert ok.status_code == 204
    amd = _post(
        client,
        f"/twilio/amd?attempt={attempt.id}",
        {"CallSid": attempt.call_sid, "AnsweredBy": "machine_start", "MachineDetectionDuration": "900"},
    )
    assert amd.status_code == 204
    assert carrier.hung_up == [attempt.call_sid]
    with runtime.sessions() as s:
        stored = s.get(CallAttempt, attempt.id)
        assert stored.status == AttemptStatus.IN_PROGRESS and stored.answered_by == "machine_start"
    unknown = _post(
        client, "/twilio/status?attempt=424242", {"CallSid": attempt.call_sid, "CallStatus": "ringing"}
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize(("answered_by", "stored_first"), [("machine_start", True), ("human", False)])
def test_a_machine_verdict_is_stored_before_the_bridge_hangs_up_on_it(
    client, attempt, runtime, answered_by, stored_first
):
    # The session hangs up the moment it hears a machine; the final status callback that follows
    # must find the machine disposition there (else the attempt settles as an unlogged not_now).
    # A live answer is heard before its write: the greeting does not wait on the database.
    board = client.app.state.bridge.amd
    heard: list[tuple[str, str | None]] = []

    def publish(call_sid: str, verdict: str) -> None:
        with runtime.sessions() as s:
            heard.append((verdict, s.get(CallAttempt, attempt.id).answered_by))

    board.publish = publish
    _post(
        client,
        f"/twilio/amd?attempt={attempt.id}",
        {"CallSid": attempt.call_sid, "AnsweredBy": answered_by, "MachineDetectionDuration": "900"},
    )
    assert heard[0] == (answered_by, answered_by if stored_first else None)
    with runtime.sessions() as s:
        names = s.scalars(select(Disposition.name).where(Disposition.attempt_id == attempt.id)).all()
    assert names == (["machine"] if stored_first else [])


def test_media_websocket_refuses_an_unsigned_handshake(client):
    with pytest.raises(WebSocketDisconnect) as denied, client.websocket_connect("/twilio/media"):
        pass
    assert denied.value.code == 1008


def _signed_ws_headers():
    url = "wss://dialer.example.com/twilio/media"
    return {"x-twilio-signature": RequestValidator(TOKEN).compute_signature(url, {})}


def _start(attempt, token):
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": "1",
            "streamSid": "MZ1",
            "start": {
                "accountSid": "AC1",
                "streamSid": "MZ1",
                "callSid": attempt.call_sid,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": {"attempt": str(attempt.id), "token": token},
            },
        }
    )


def test_media_websocket_closes_on_a_wrong_token(client, attempt):
    _post(client, f"/twilio/voice?attempt={attempt.id}", {"CallSid": attempt.call_sid})
    with client.websocket_connect("/twilio/media", headers=_signed_ws_headers()) as ws:
        ws.send_text(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        ws.send_text(_start(attempt, "forged-token"))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1008


def bridged_call(client, attempt, frames):
    """Admit a stream for ``attempt``, wait for the greeting, send ``frames``; the agent connection."""
    twiml = _post(client, f"/twilio/voice?attempt={attempt.id}", {"CallSid": attempt.call_sid}).text
    token = twiml.split('name="token" value="')[1].split('"')[0]
    state = client.app.state.bridge
    state.amd.publish(attempt.call_sid, "human")
    with client.websocket_connect("/twilio/media", headers=_signed_ws_headers()) as ws:
        ws.send_text(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        ws.send_text(_start(attempt, token))
        connection = state.agent.connection
        wait_until(lambda: connection.responses_requested, what="the disclosure to be requested")
        for frame in frames:
            ws.send_text(frame)
    return connection


def test_media_websocket_bridges_with_the_one_time_token(client, attempt, runtime):
    stop = {
        "event": "stop",
        "sequenceNumber": "2",
        "streamSid": "MZ1",
        "stop": {"accountSid": "AC1", "callSid": attempt.call_sid},
    }
    connection = bridged_call(client, attempt, [json.dumps(stop)])
    assert connection.responses_requested and "AI assistant" in connection.responses_requested[0]
    with runtime.sessions() as s:
        assert s.get(CallAttempt, attempt.id).stream_sid == "MZ1"


def _cost_metric(component: str) -> float:
    return REGISTRY.get_sample_value("dialer_call_cost_usd_total", {"component": component}) or 0.0


def test_the_final_status_callback_counts_the_calls_cost_once(client, attempt):
    before = {part: _cost_metric(part) for part in ("carrier", "amd", "media_stream")}
    answered = {"CallSid": attempt.call_sid, "CallStatus": "in-progress", "SequenceNumber": "2"}
    assert _post(client, f"/twilio/status?attempt={attempt.id}", answered).status_code == 204
    assert _cost_metric("carrier") == before["carrier"]  # nothing is counted while the call is live
    ended = {
        "CallSid": attempt.call_sid,
        "CallStatus": "completed",
        "CallDuration": "61",
        "SequenceNumber": "3",
    }
    for _ in range(2):  # the replay applies nothing and counts nothing
        assert _post(client, f"/twilio/status?attempt={attempt.id}", ended).status_code == 204
    assert _cost_metric("carrier") == pytest.approx(before["carrier"] + 0.028)  # two started minutes
    assert _cost_metric("amd") == pytest.approx(before["amd"] + 0.0075)
    metrics = client.get("/metrics").text
    assert 'dialer_call_cost_usd_total{component="carrier"}' in metrics
