"""Issue 10 item 6: signed outbound webhooks for call.completed, meeting.booked and dnc.added.

A receiver served on a real port checks each delivery with :func:`crm.webhooks.verify_signature`,
as the README tells receivers to, and can be down on demand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from bridge.app import create_app
from crm.outbox import build_destinations, drain
from crm.webhooks import WebhookSignatureError, sign, verify_signature
from dialer.calls.attempts import CallStatusUpdate, apply_call_status
from dialer.consent import add_internal_dnc
from dialer.crm_settings import CrmSettings, OutboxParams, WebhookEndpoint
from dialer.db import transaction
from dialer.errors import ConfigurationError
from dialer.models import AttemptStatus, OutboxMessage, OutboxStatus
from dialer.outbox import backoff_seconds
from dialer.settings import load_settings
from tests.factories import create_attempt, create_campaign, create_lead
from tests.fakes.agent import FakeVoiceAgent
from tests.servers import serve_in_thread

SECRET = "whsec-0123456789abcdefghijklmnop"


@dataclass
class Receiver:
    """A webhook receiver: answers ``status`` while ``down`` > 0, else verifies and records."""

    down: int = 0
    status: int = 503
    accepted: list[dict] = field(default_factory=list)
    raw: list[tuple[str, bytes]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        header = request.headers.get("x-dialer-signature")
        try:
            verify_signature(SECRET, header, body, now=time.time())
        except WebhookSignatureError as exc:
            self.refused.append(exc.message)
            return JSONResponse({"error": exc.message}, status_code=401)
        if self.down > 0:
            self.down -= 1
            return JSONResponse({"error": "down"}, status_code=self.status)
        event = json.loads(body)
        assert request.headers["idempotency-key"] == event["id"]
        assert request.headers["x-dialer-event"] == event["type"]
        self.accepted.append(event)
        self.raw.append((header or "", body))
        return JSONResponse({"ok": True})


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()
    app = Starlette(routes=[Route("/hooks", state.handle, methods=["POST"])])
    with serve_in_thread(app) as port:
        yield state, f"http://127.0.0.1:{port}/hooks"


def _hooked(runtime, url: str, events: list[str] | None = None):
    endpoint = WebhookEndpoint(name="ops", url=url, secret=SECRET, **({"events": events} if events else {}))
    outbox = OutboxParams(max_attempts=3, base_delay_seconds=10)
    crm = CrmSettings(webhooks=[endpoint], outbox=outbox, link_secret="links-0123456789abcdefghijkl")
    return dataclasses.replace(runtime, settings=runtime.settings.model_copy(update={"crm": crm}))


def _drain(runtime) -> dict[str, int]:
    with httpx.Client(timeout=5) as http:
        return drain(runtime, build_destinations(runtime.settings, http)).as_dict()


def test_an_opt_out_reaches_the_receiver_signed_after_its_outage(runtime, receiver):
    state, url = receiver
    rt = _hooked(runtime, url)
    with transaction(rt.sessions) as s:
        entry_id = add_internal_dnc(
            s,
            phone_e164="+13125550101",
            source="cli",
            now=rt.clock.now(),
            actor="user:ops",
            reason="by email",
        ).id
    state.down = 2
    assert _drain(rt)["pending"] == 1
    rt.clock.advance(seconds=10)
    assert _drain(rt)["pending"] == 1
    rt.clock.advance(seconds=20)
    assert _drain(rt)["delivered"] == 1
    rt.clock.advance(seconds=3600)
    assert _drain(rt) == {"routed": 0, "pending": 0, "delivered": 0, "dead": 0}  # nothing sent twice
    (event,) = state.accepted
    assert event["id"] == f"dnc.added:entry-{entry_id}" and event["type"] == "dnc.added"
    assert event["data"]["phone_e164"] == "+13125550101" and event["data"]["source"] == "cli"
    assert event["data"]["reason"] == "by email" and state.refused == []


def test_a_captured_delivery_replayed_later_is_refused(runtime, receiver):
    state, url = receiver
    rt = _hooked(runtime, url)
    with transaction(rt.sessions) as s:
        add_internal_dnc(s, phone_e164="+13125550101", source="cli", now=rt.clock.now(), actor="user:ops")
    _drain(rt)
    ((header, body),) = state.raw
    sent_at = verify_signature(SECRET, header, body, now=time.time())
    with pytest.raises(WebhookSignatureError, match="outside the 300 s replay window"):
        verify_signature(SECRET, header, body, now=sent_at + 301)
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(SECRET, header, body.replace(b"+13125550101", b"+13125550102"), now=sent_at)


def test_a_receiver_that_refuses_for_good_sends_the_message_to_the_dead_letters(runtime, receiver):
    state, url = receiver
    rt = _hooked(runtime, url)
    with transaction(rt.sessions) as s:
        add_internal_dnc(s, phone_e164="+13125550101", source="cli", now=rt.clock.now(), actor="user:ops")
    state.down, state.status = 1, 410
    assert _drain(rt)["dead"] == 1  # a 410 will not change by waiting
    with rt.sessions() as s:
        message = s.scalars(select(OutboxMessage)).one()
    assert message.status == OutboxStatus.DEAD and message.attempts == 1
    assert (message.last_error or "").startswith("HTTP 410")


def test_only_subscribed_events_are_sent(runtime, receiver):
    state, url = receiver
    rt = _hooked(runtime, url, events=["meeting.booked"])
    with transaction(rt.sessions) as s:
        add_internal_dnc(s, phone_e164="+13125550101", source="cli", now=rt.clock.now(), actor="user:ops")
    assert _drain(rt) == {"routed": 0, "pending": 0, "delivered": 0, "dead": 0}
    assert state.accepted == []


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (None, "missing X-Dialer-Signature"),
        ("v1=abc", "no t="),
        ("t=soon,v1=abc", "no t="),
        ("t=1765152000", "does not match"),
        ("t=1765152000,v1=" + "0" * 64, "does not match"),
    ],
)
def test_malformed_or_wrong_signatures_are_refused(header, error):
    with pytest.raises(WebhookSignatureError, match=error):
        verify_signature(SECRET, header, b"{}", now=1765152000)


def test_a_signature_is_hmac_sha256_over_timestamp_dot_body():
    # The README's example, checked: any receiver can recompute it with its own HMAC library.
    key, body = "my-webhook-secret-0123456789", b'{"id":"x"}'
    header = sign(key, body, timestamp=1765152000)
    digest = hmac.new(key.encode(), b"1765152000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1765152000,v1={digest}"
    assert verify_signature(key, header, body, now=1765152299) == 1765152000
    # Several v1 values (a secret being rotated): any one that matches is enough.
    rotated = header.replace("t=1765152000,", "t=1765152000,v1=" + "f" * 64 + ",")
    assert verify_signature(key, rotated, body, now=1765152000)


def test_backoff_doubles_up_to_its_cap():
    params = OutboxParams(base_delay_seconds=30, max_delay_seconds=600)
    assert [backoff_seconds(n, params) for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"DIALER_CRM__BACKEND": "hubspot"}, "needs DIALER_CRM__HUBSPOT__ACCESS_TOKEN"),
        ({"DIALER_CRM__WEBHOOKS": '[{"name": "ops", "url": "https://h.example", "secret": "short"}]'}, "24+"),
        (
            {
                "DIALER_CRM__WEBHOOKS": json.dumps(
                    [{"name": "ops", "url": "https://h.example", "secret": SECRET, "events": ["call.done"]}]
                )
            },
            "unknown event types ['call.done']",
        ),
        ({"DIALER_CRM__WEBHOOKS": f'[{{"name": "ops", "url": "ftp://h", "secret": "{SECRET}"}}]'}, "http(s)"),
    ],
)
def test_bad_crm_settings_are_refused_with_their_name(monkeypatch, env, problem):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="crm") as caught:
        load_settings(_env_file=None)
    assert problem in caught.value.message


def test_a_finished_call_is_sent_with_its_disposition_and_transcript_link(runtime, receiver):
    state, url = receiver
    rt = _hooked(runtime, url, events=["call.completed"])
    with transaction(rt.sessions) as s:
        campaign = create_campaign(s)
        attempt = create_attempt(s, campaign, create_lead(s, campaign))
        attempt.call_sid, attempt_id = "CA" + "2" * 32, attempt.id
    with transaction(rt.sessions) as s:
        update = CallStatusUpdate("CA" + "2" * 32, AttemptStatus.BUSY, sequence_number=1, duration_seconds=0)
        apply_call_status(s, attempt_id=attempt_id, update_=update, now=rt.clock.now())
        apply_call_status(s, attempt_id=attempt_id, update_=update, now=rt.clock.now())  # a repeat: no event
    assert _drain(rt)["delivered"] == 1
    (event,) = state.accepted
    assert event["id"] == f"call.completed:attempt-{attempt_id}"
    data = event["data"]
    assert (data["status"], data["disposition"], data["call_sid"]) == ("busy", "busy", "CA" + "2" * 32)
    link = httpx.URL(data["transcript_url"])
    assert (link.host, link.path) == ("dialer.example.com", f"/crm/calls/{attempt_id}/transcript")
    client = TestClient(create_app(runtime=rt, agent=FakeVoiceAgent()))
    opened = client.get(link.path, params={"sig": link.params["sig"]})
    assert opened.status_code == 200 and opened.headers["content-type"].startswith("text/plain")
    assert "to Ava Thompson, +13125550101" in opened.text and "Dispositions: busy" in opened.text
    other = client.get(f"/crm/calls/{attempt_id + 1}/transcript", params={"sig": link.params["sig"]})
    assert other.status_code == 403  # a link opens its own call only
    assert client.get(link.path).status_code == 403
    assert data["lead"]["phone_e164"] == "+13125550101" and data["campaign"] == campaign.name
