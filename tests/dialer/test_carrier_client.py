"""The Twilio client (the twilio SDK) against the sandbox carrier over HTTP."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from twilio.http import HttpClient
from twilio.http.response import Response

from dialer.calls.carrier import PlaceCallRequest, TwilioCarrier
from dialer.errors import CarrierError
from dialer.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from sandbox.carrier import CarrierConfig, create_carrier_app
from tests.servers import serve_in_thread


@pytest.fixture(scope="module")
def carrier_url():
    app = create_carrier_app(
        CarrierConfig(account_sid=SANDBOX_ACCOUNT_SID, auth_token=SANDBOX_AUTH_TOKEN, ring_seconds=5.0)
    )
    with serve_in_thread(app) as port:
        yield f"http://127.0.0.1:{port}"


def _request(to="+13035550108", **overrides):
    values = dict(
        to=to,
        from_="+13125550199",
        twiml_url="http://127.0.0.1:9/twilio/voice?attempt=1",
        status_callback_url="http://127.0.0.1:9/twilio/status?attempt=1",
        amd_callback_url="http://127.0.0.1:9/twilio/amd?attempt=1",
        record=False,
        ring_timeout_seconds=30,
        machine_detection_timeout_seconds=30,
        time_limit_seconds=600,
    )
    values.update(overrides)
    return PlaceCallRequest(**values)


def test_place_find_and_hang_up(carrier_url):
    client = TwilioCarrier(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, base_url=carrier_url)
    since = datetime.now(UTC) - timedelta(seconds=5)
    placed = client.place_call(_request())
    assert placed.sid.startswith("CA") and placed.status == "queued" and placed.to == "+13035550108"
    assert placed.sid in [c.sid for c in client.calls_to("+13035550108", since=since)]
    assert client.fetch_call(placed.sid).status in {"queued", "ringing"}
    assert client.fetch_call("CA" + "0" * 32) is None
    client.hang_up(placed.sid)
    client.hang_up(placed.sid)  # already ended: not an error
    client.hang_up("CA" + "0" * 32)  # never existed (Twilio 20404): not an error either
    record = httpx.get(f"{carrier_url}/sandbox/calls/{placed.sid}").json()
    assert record["status"] in {"canceled", "completed"}


def test_refusals_are_carrier_errors_with_twilio_codes(carrier_url):
    client = TwilioCarrier(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, base_url=carrier_url)
    with pytest.raises(CarrierError) as refused:
        client.place_call(_request(to="3035550108"))
    assert refused.value.code == 21211 and not refused.value.retryable
    wrong = TwilioCarrier(SANDBOX_ACCOUNT_SID, "wrong-token", base_url=carrier_url)
    with pytest.raises(CarrierError) as denied:
        wrong.place_call(_request())
    assert denied.value.http_status == 401 and denied.value.code == 20003


class RecordingHttpClient(HttpClient):
    """The SDK's transport seam: records each request and answers like Twilio's create."""

    def __init__(self):
        super().__init__(logging.getLogger("twilio.http_client"), False)
        self.requests = []

    def request(
        self,
        method,
        uri,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append((method, uri, data))
        body = {"sid": "CA" + "1" * 32, "status": "queued", "to": data["To"], "from": data["From"]}
        return Response(201, json.dumps(body))


def test_create_request_uses_async_amd_every_status_event_and_the_campaign_settings():
    transport = RecordingHttpClient()
    client = TwilioCarrier(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, http_client=transport)
    client.place_call(_request(record=True))
    ((method, uri, data),) = transport.requests
    assert (
        method == "POST"
        and uri == f"https://api.twilio.com/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/Calls.json"
    )
    assert data["Url"] == "http://127.0.0.1:9/twilio/voice?attempt=1" and data["Method"] == "POST"
    assert data["StatusCallback"] == "http://127.0.0.1:9/twilio/status?attempt=1"
    assert data["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert data["MachineDetection"] == "Enable" and data["AsyncAmd"] == "true"
    assert data["AsyncAmdStatusCallback"] == "http://127.0.0.1:9/twilio/amd?attempt=1"
    assert data["Record"] == "true" and data["Timeout"] == 30 and data["TimeLimit"] == 600
    assert "Twiml" not in data and "SendDigits" not in data  # SendDigits would disable AMD


def test_the_proxy_settings_of_the_environment_at_start_are_honoured(carrier_url, monkeypatch):
    """The environment is read once, when the client is built (not on every request)."""
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "")
    proxied = TwilioCarrier(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, base_url=carrier_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    bypassing = TwilioCarrier(SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, base_url=carrier_url)
    monkeypatch.delenv("HTTP_PROXY")
    with pytest.raises(CarrierError):
        proxied.place_call(_request())
    assert bypassing.place_call(_request()).sid.startswith("CA")
