"""End-to-end behaviour of the sandbox carrier: the real twilio SDK, signed webhooks, Media Streams.

Each test runs the carrier and a small "customer app" (TwiML, status/AMD webhooks, a Media Streams
endpoint with a scripted fake agent) under uvicorn on loopback ports.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from sandbox.carrier import CarrierConfig, CarrierFaults, create_carrier_app
from sandbox.speech_codec import SpeechDecoder, SpeechEnded, SpeechStarted, encode_utterance
from tests.servers import serve
from tests.waiting import wait_until_async

ACCOUNT_SID = "AC" + "5a" * 16
AUTH_TOKEN = "sandbox-auth-token"
MS_PER_CHAR = 3.0
FROM = "+15005550006"
AVA = "+13125550101"  # books_meeting
PRIYA = "+12065550103"  # interrupts
GRACE = "+16175550107"  # voicemail
NOAH = "+13035550108"  # no_answer
OLIVIA = "+16025550109"  # busy
JAMES = "+16125550112"  # presses_9
HENRY = "+12145550115"  # must never be called
OPENING = (
    "Hi Ava, this is Alex, an AI assistant calling on behalf of Northwind Analytics, Inc. "
    "This call is being recorded. Do you have a quick minute?"
)
VALIDATOR = RequestValidator(AUTH_TOKEN)


def config(**overrides: Any) -> CarrierConfig:
    values: dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "ring_seconds": 0.2,
        "busy_seconds": 0.1,
        "ms_per_char": MS_PER_CHAR,
        "reply_delay_ms": 100,
        "amd_human_ms": 150,
        "amd_machine_ms": 250,
        "max_call_seconds": 20,
        "prospect_patience_seconds": 10,
    }
    return CarrierConfig(**(values | overrides))


@dataclass
class Hook:
    """One webhook request the customer app received."""

    kind: str
    method: str
    url: str
    params: dict[str, str]
    signature_valid: bool
    at: float


class Agent:
    """The customer app's side of one Media Stream: a scripted fake voice agent."""

    def __init__(self, websocket: WebSocket):
        self.ws = websocket
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self.utterances: asyncio.Queue[str] = asyncio.Queue()
        self.speech_started: asyncio.Queue[float] = asyncio.Queue()
        self.heard: list[str] = []
        self.marks: list[tuple[float, str]] = []
        self.dtmf: list[str] = []
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.dtmf_received = asyncio.Event()
        self.stop_at: float | None = None
        self.stream_sid = ""
        self._decoder = SpeechDecoder()

    @property
    def start(self) -> dict[str, Any]:
        return next(message for _, message in self.messages if message.get("event") == "start")

    def media(self) -> list[dict[str, Any]]:
        return [message for _, message in self.messages if message.get("event") == "media"]

    async def read(self) -> None:
        try:
            while True:
                message = json.loads(await self.ws.receive_text())
                now = time.monotonic()
                self.messages.append((now, message))
                event = message["event"]
                if event == "start":
                    self.stream_sid = message["streamSid"]
                    self.started.set()
                elif event == "media":
                    for item in self._decoder.feed(base64.b64decode(message["media"]["payload"])):
                        if isinstance(item, SpeechStarted):
                            self.speech_started.put_nowait(now)
                        elif isinstance(item, SpeechEnded) and item.complete:
                            self.heard.append(item.text)
                            self.utterances.put_nowait(item.text)
                elif event == "mark":
                    self.marks.append((now, message["mark"]["name"]))
                elif event == "dtmf":
                    self.dtmf.append(message["dtmf"]["digit"])
                    self.dtmf_received.set()
                elif event == "stop":
                    self.stop_at = now
                    self.stopped.set()
        except (WebSocketDisconnect, RuntimeError):
            return

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(message))

    async def say(self, text: str, mark: str | None = None) -> float:
        """Send ``text`` as agent speech (faster than real time, like a realtime model); return its ms."""
        audio = encode_utterance(text, ms_per_char=MS_PER_CHAR)
        for offset in range(0, len(audio), 800):
            payload = base64.b64encode(audio[offset : offset + 800]).decode()
            await self.send({"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}})
        if mark is not None:
            await self.mark(mark)
        return len(audio) / 8

    async def mark(self, name: str) -> None:
        await self.send({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})

    async def clear(self) -> None:
        await self.send({"event": "clear", "streamSid": self.stream_sid})

    async def next_utterance(self, within: float = 20.0) -> str:
        return await asyncio.wait_for(self.utterances.get(), within)


AgentScript = Callable[[Agent], Awaitable[None]]


async def wait_for_stop(agent: Agent) -> None:
    """An agent that only listens until the carrier stops the stream."""
    await agent.stopped.wait()


class CustomerApp:
    """The product's side of the wire: TwiML and webhooks with signature checks, and /media."""

    def __init__(
        self, script: AgentScript = wait_for_stop, *, stream_query: str = "", reject_streams: bool = False
    ):
        self.script = script
        self.stream_query = stream_query
        self.reject_streams = reject_streams
        self.twiml: str | None = None
        self.port = 0
        self.hooks: list[Hook] = []
        self.agents: list[Agent] = []
        self.handshake_signatures: list[bool] = []
        self.agent_connected = asyncio.Event()
        self.amd_received = asyncio.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def stream_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/media{self.stream_query}"

    def hooks_of(self, kind: str) -> list[Hook]:
        return [hook for hook in self.hooks if hook.kind == kind]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/twilio/{kind}", self._webhook, methods=["GET", "POST"]),
                WebSocketRoute("/media", self._media),
            ]
        )

    async def _webhook(self, request: Request) -> Response:
        signature = request.headers.get("x-twilio-signature", "")
        url = str(request.url)
        kind = request.path_params["kind"]
        if request.method == "GET":  # parameters are in the signed query string
            params = dict(request.query_params)
            valid = VALIDATOR.validate(url, {}, signature)
        else:
            params = {key: str(value) for key, value in (await request.form()).items()}
            valid = VALIDATOR.validate(url, params, signature)
        self.hooks.append(Hook(kind, request.method, url, params, valid, time.monotonic()))
        if kind == "amd":
            self.amd_received.set()
        if kind == "fail":
            return Response("nope", status_code=500)
        if kind != "voice":
            return Response("", status_code=200)
        twiml = self.twiml or (
            f'<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
            f'<Stream url="{self.stream_url}" statusCallback="{self.url("/twilio/stream")}">'
            f'<Parameter name="attempt" value="7"/></Stream></Connect></Response>'
        )
        return Response(twiml, media_type="application/xml")

    async def _media(self, websocket: WebSocket) -> None:
        valid = VALIDATOR.validate(self.stream_url, {}, websocket.headers.get("x-twilio-signature", ""))
        self.handshake_signatures.append(valid)
        if self.reject_streams or not valid:
            await websocket.close(code=1008)  # before accept: the handshake is answered HTTP 403
            return
        await websocket.accept()
        agent = Agent(websocket)
        self.agents.append(agent)
        self.agent_connected.set()
        reader = asyncio.create_task(agent.read())
        try:
            await agent.started.wait()
            await self.script(agent)
        finally:
            if not agent.stopped.is_set():
                await websocket.close()
            await reader


@dataclass
class Rig:
    """A running carrier plus customer app, and a twilio SDK client pointed at the carrier."""

    carrier_port: int
    customer: CustomerApp
    client: Client
    carrier_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.carrier_url = f"http://127.0.0.1:{self.carrier_port}"

    async def create(self, to: str, *, attempt: int = 42, **kwargs: Any) -> Any:
        params: dict[str, Any] = {
            "to": to,
            "from_": FROM,
            "url": self.customer.url(f"/twilio/voice?attempt={attempt}"),
            "status_callback": self.customer.url("/twilio/status"),
            "status_callback_event": ["initiated", "ringing", "answered", "completed"],
        }
        return await asyncio.to_thread(self.client.calls.create, **(params | kwargs))

    async def hang_up(self, sid: str, status: str = "completed") -> Any:
        return await asyncio.to_thread(self.client.calls(sid).update, status=status)

    async def admin(self, path: str) -> Any:
        async with httpx.AsyncClient(base_url=self.carrier_url) as http:
            response = await http.get(path)
            response.raise_for_status()
            return response.json()

    async def record(self, sid: str) -> dict[str, Any]:
        return await self.admin(f"/sandbox/calls/{sid}")

    async def wait_ended(self, sid: str, within: float = 30.0) -> dict[str, Any]:
        """Wait until the call has ended and its terminal status callback has gone out."""

        async def ended() -> dict[str, Any] | None:
            record = await self.record(sid)
            terminal_sent = any(
                event["kind"] == "webhook_status" and event.get("event") == record["status"]
                for event in record["events"]
            )
            return record if record["ended_at"] and terminal_sent else None

        return await wait_until_async(ended, timeout=within, what=f"call {sid} to end", poll=0.05)

    def events_of(self, sid: str) -> list[str]:
        return [
            hook.params["CallStatus"]
            for hook in self.customer.hooks_of("status")
            if hook.params["CallSid"] == sid
        ]


@asynccontextmanager
async def rig(
    customer: CustomerApp | None = None, *, faults: CarrierFaults | None = None, **overrides: Any
) -> AsyncIterator[Rig]:
    customer = customer or CustomerApp()
    carrier_app = create_carrier_app(config(**overrides), faults)
    async with (
        serve(carrier_app, ws="websockets-sansio", timeout_graceful_shutdown=3) as carrier_port,
        serve(customer.app(), ws="websockets-sansio", timeout_graceful_shutdown=3) as port,
    ):
        customer.port = port
        client = Client(ACCOUNT_SID, AUTH_TOKEN)
        client.api.base_url = f"http://127.0.0.1:{carrier_port}"
        yield Rig(carrier_port, customer, client)


async def test_sdk_create_fetch_list_update_round_trip():
    async with rig() as r:
        call = await r.create(AVA)
        assert call.sid.startswith("CA") and len(call.sid) == 34
        assert (call.status, call.direction, call.to, call._from) == ("queued", "outbound-api", AVA, FROM)
        assert call.to_formatted == "(312) 555-0101" and call.date_created is not None
        await asyncio.wait_for(r.customer.agent_connected.wait(), 20)

        fetched = await asyncio.to_thread(r.client.calls(call.sid).fetch)
        assert fetched.status == "in-progress" and fetched.start_time is not None
        listed = await asyncio.to_thread(r.client.calls.list, to=AVA)
        assert [c.sid for c in listed] == [call.sid]
        assert await asyncio.to_thread(r.client.calls.list, to=OLIVIA) == []

        ended = await r.hang_up(call.sid)
        assert ended.status == "completed" and ended.end_time is not None
        record = await r.wait_ended(call.sid)
        assert record["status"] == "completed"
        fetched = await asyncio.to_thread(r.client.calls(call.sid).fetch)
        assert fetched.duration is not None and int(fetched.duration) >= 1
        again = await r.hang_up(call.sid)  # hanging up an ended call is harmless
        assert again.status == "completed"


async def wait_for_mark(agent: Agent, name: str, within: float = 30.0) -> float:
    """When the carrier echoed the mark ``name`` (``time.monotonic()``), waiting for it if need be."""

    def echoed() -> float | None:
        return next((at for at, echoed in agent.marks if echoed == name), None)

    return await wait_until_async(echoed, timeout=within, what=f"mark {name!r} to be echoed")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # aiohttp's BasicAuth, inside the twilio SDK
async def test_the_async_sdk_client_works_too():
    async with rig() as r:
        http_client = AsyncTwilioHttpClient()
        client = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http_client)
        client.api.base_url = r.carrier_url
        try:
            call = await client.calls.create_async(
                to=AVA,
                from_=FROM,
                url=r.customer.url("/twilio/voice?attempt=1"),
                status_callback=r.customer.url("/twilio/status"),
            )
            await asyncio.wait_for(r.customer.agent_connected.wait(), 20)
            ended = await client.calls(call.sid).update_async(status="completed")
            listed = await client.calls.list_async(to=AVA)
        finally:
            await http_client.close()
        await r.wait_ended(call.sid)
    assert ended.status == "completed" and [c.sid for c in listed] == [call.sid]


async def test_rest_errors_look_like_twilio():
    async with rig() as r:
        intruder = Client(ACCOUNT_SID, "wrong-token")
        intruder.api.base_url = r.carrier_url
        with pytest.raises(TwilioRestException) as denied:
            await asyncio.to_thread(
                intruder.calls.create, to=AVA, from_=FROM, url=r.customer.url("/twilio/voice")
            )
        assert (denied.value.status, denied.value.code) == (401, 20003)

        cases = [({"to": "312-555-0101"}, 21211), ({"from_": "12345"}, 21212), ({"url": None}, 21205)]
        for change, code in cases:
            params = {"to": AVA, "from_": FROM, "url": r.customer.url("/twilio/voice")} | change
            with pytest.raises(TwilioRestException) as refused:
                await asyncio.to_thread(r.client.calls.create, **{k: v for k, v in params.items() if v})
            assert (refused.value.status, refused.value.code) == (400, code)

        with pytest.raises(TwilioRestException) as missing:
            await asyncio.to_thread(r.client.calls("CA" + "0" * 32).update, status="completed")
        assert (missing.value.status, missing.value.code) == (404, 20404)
        assert (await r.admin("/sandbox/stats"))["calls_created"] == 0


async def test_status_callbacks_are_ordered_signed_and_end_once():
    async with rig() as r:
        call = await r.create(
            AVA,
            machine_detection="Enable",
            async_amd="true",
            async_amd_status_callback=r.customer.url("/twilio/amd"),
        )
        await asyncio.wait_for(r.customer.agent_connected.wait(), 20)
        await asyncio.wait_for(r.customer.amd_received.wait(), 20)  # the verdict, then the hang-up
        await r.hang_up(call.sid)
        record = await r.wait_ended(call.sid)

    statuses = [hook for hook in r.customer.hooks_of("status")]
    assert [h.params["CallStatus"] for h in statuses] == ["initiated", "ringing", "in-progress", "completed"]
    assert [h.params["SequenceNumber"] for h in statuses] == ["0", "1", "2", "3"]
    terminal = statuses[-1].params
    assert terminal["CallDuration"] == str(record["duration_seconds"]) and terminal["Duration"] == "1"
    assert terminal["CallbackSource"] == "call-progress-events" and terminal["Direction"] == "outbound-api"
    assert "CallDuration" not in statuses[2].params

    amd = r.customer.hooks_of("amd")
    assert [(h.params["AnsweredBy"], h.params["MachineDetectionDuration"]) for h in amd] == [("human", "150")]
    voice = r.customer.hooks_of("voice")
    assert len(voice) == 1 and voice[0].url.endswith("/twilio/voice?attempt=42")
    assert voice[0].params["CallStatus"] == "in-progress" and voice[0].params["CallSid"] == call.sid
    assert all(hook.signature_valid for hook in r.customer.hooks) and len(r.customer.hooks) == 8
    assert r.customer.handshake_signatures == [True]

    agent = r.customer.agents[0]
    assert agent.stop_at is not None and agent.stop_at < statuses[-1].at  # stop, then completed
    stop = agent.messages[-1][1]
    assert stop["event"] == "stop" and stop["stop"] == {"accountSid": ACCOUNT_SID, "callSid": call.sid}
    assert record["answered_by"] == "human" and record["stream_stopped_by"] == "carrier"


async def test_busy_no_answer_and_canceled_calls_never_fetch_twiml():
    async with rig(ring_seconds=0.6) as r:
        busy = await r.create(OLIVIA, status_callback_method="GET")
        no_answer = await r.create(NOAH)
        canceled = await r.create(AVA)
        await r.hang_up(canceled.sid, status="canceled")
        records = [await r.wait_ended(call.sid) for call in (busy, no_answer, canceled)]
        answered = await r.create(AVA, attempt=43)
        await asyncio.wait_for(r.customer.agent_connected.wait(), 20)
        still_live = await r.hang_up(answered.sid, status="canceled")  # too late to cancel: ignored
        assert still_live.status == "in-progress"
        await r.hang_up(answered.sid)
        await r.wait_ended(answered.sid)

    assert [record["status"] for record in records] == ["busy", "no-answer", "canceled"]
    assert r.events_of(busy.sid) == ["initiated", "ringing", "busy"]
    assert r.events_of(no_answer.sid) == ["initiated", "ringing", "no-answer"]
    assert r.events_of(canceled.sid)[-1] == "canceled"
    assert {hook.method for hook in r.customer.hooks_of("status") if hook.params["CallSid"] == busy.sid} == {
        "GET"
    }
    assert all(hook.signature_valid for hook in r.customer.hooks)
    unanswered = {busy.sid, no_answer.sid, canceled.sid}
    assert not [hook for hook in r.customer.hooks_of("voice") if hook.params["CallSid"] in unanswered]
    terminal = [h.params for h in r.customer.hooks_of("status") if h.params["CallStatus"] == "no-answer"]
    assert terminal[0]["CallDuration"] == "0"
    assert all(record["duration_seconds"] is None for record in records)


async def test_list_filters_and_pages_through_the_sdk():
    async with rig() as r:
        calls = [await r.create(OLIVIA, attempt=n) for n in range(3)]
        other = await r.create(NOAH, attempt=9)
        for call in [*calls, other]:
            await r.wait_ended(call.sid)
        by_page = await asyncio.to_thread(r.client.calls.list, to=OLIVIA, page_size=2)
        busy = await asyncio.to_thread(r.client.calls.list, status="busy")
        later = await asyncio.to_thread(r.client.calls.list, start_time_after=calls[0].date_created)
        none = await asyncio.to_thread(r.client.calls.list, start_time_before="2000-01-01")

    assert [call.sid for call in by_page] == [call.sid for call in reversed(calls)]  # newest first
    assert {call.sid for call in busy} == {call.sid for call in calls}
    assert len(later) == 4 and none == []


async def test_start_message_and_20_ms_media_cadence():
    listened: list[float] = []

    async def listen_one_second(agent: Agent) -> None:
        started = time.monotonic()
        await asyncio.sleep(1.0)  # the point: a second of the caller's audio, then the app hangs up
        listened.append(time.monotonic() - started)

    async with rig(CustomerApp(listen_one_second)) as r:
        call = await r.create(AVA)
        record = await r.wait_ended(call.sid)

    assert record["status"] == "completed" and record["stream_stopped_by"] == "app"
    agent = r.customer.agents[0]
    assert agent.messages[0][1] == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    start = agent.start
    assert start["sequenceNumber"] == "1" and start["streamSid"].startswith("MZ")
    assert start["start"] == {
        "accountSid": ACCOUNT_SID,
        "streamSid": start["streamSid"],
        "callSid": call.sid,
        "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"attempt": "7"},
    }
    media = agent.media()
    # One frame every 20 ms while the app listened (about a second; longer on a loaded machine).
    assert 44 <= len(media) <= listened[0] / 0.020 + 6
    for index, message in enumerate(media):
        assert message["sequenceNumber"] == str(index + 2) and message["streamSid"] == start["streamSid"]
        assert message["media"]["chunk"] == str(index + 1)
        assert message["media"]["timestamp"] == str(index * 20)
        assert message["media"]["track"] == "inbound"
        assert base64.b64decode(message["media"]["payload"]) == b"\xff" * 160
    assert agent.stop_at is None  # the app closed the socket: no stop
    assert r.events_of(call.sid)[-1] == "completed"


async def test_marks_echo_after_playback_and_all_at_once_on_clear():
    timings: dict[str, float] = {}
    pitch = "Our platform watches every pipeline for freshness, volume and schema drift. " * 6

    async def marks_and_clear(agent: Agent) -> None:
        sent = time.monotonic()
        await agent.mark("nothing-buffered")
        timings["empty"] = await wait_for_mark(agent, "nothing-buffered") - sent
        sent = time.monotonic()
        timings["opening_ms"] = await agent.say(OPENING, mark="opening-done")
        timings["opening"] = await wait_for_mark(agent, "opening-done") - sent
        await agent.next_utterance()  # the prospect answers; now talk over nothing and get cut
        pitch_sent = time.monotonic()
        timings["pitch_ms"] = await agent.say(pitch, mark="pitch-1")
        await agent.mark("pitch-2")
        await asyncio.sleep(0.3)  # the point: about 300 ms of the pitch plays, then the clear cuts it
        cleared = time.monotonic()
        timings["talked"] = cleared - pitch_sent
        await agent.clear()
        timings["pitch-1"] = await wait_for_mark(agent, "pitch-1") - pitch_sent
        timings["pitch-2"] = await wait_for_mark(agent, "pitch-2") - pitch_sent

    async with rig(CustomerApp(marks_and_clear)) as r:
        call = await r.create(AVA)
        record = await r.wait_ended(call.sid)

    # Durations as the machine allows: exact lower bounds, upper bounds loose enough for a loaded
    # 2-core machine (the ordering is what proves the behaviour).
    assert timings["empty"] < 1.0  # nothing buffered: echoed at once, not after some audio
    assert timings["opening"] >= timings["opening_ms"] / 1000 - 0.025  # not before the audio played
    assert timings["opening"] < timings["opening_ms"] / 1000 + 1.0
    # Pending marks are echoed on the clear, long before the pitch could have played to them.
    pitch_seconds = timings["pitch_ms"] / 1000
    assert timings["talked"] < pitch_seconds, "the machine was too slow to cut the pitch in time"
    assert timings["pitch-1"] < pitch_seconds and timings["pitch-2"] < pitch_seconds
    assert record["marks_echoed"] == 4 and record["clears_received"] == 1
    opening, cut = record["heard"]
    assert opening["text"] == OPENING and opening["complete"]
    assert not cut["complete"] and 0 < len(cut["text"]) < len(pitch) and pitch.startswith(cut["text"])
    assert 250 <= cut["end_ms"] - cut["start_ms"] <= timings["talked"] * 1000 + 1000


async def test_books_meeting_replies_in_order_after_each_complete_utterance():
    lines = [
        OPENING,
        "Great. What day and time works for a short demo?",
        "Perfect. What's the best email for the invite?",
    ]

    async def agent_script(agent: Agent) -> None:
        for line in lines:
            await agent.say(line)
            await agent.next_utterance()
        await agent.say("Thanks, you'll get an invite shortly. Goodbye!", mark="goodbye")
        await wait_for_mark(agent, "goodbye")

    async with rig(CustomerApp(agent_script)) as r:
        call = await r.create(AVA)
        record = await r.wait_ended(call.sid)

    replies = [
        "Sure, I have a minute.",
        "Tuesday at 2pm works for me.",
        "It's ava.thompson@brightlane.example.",
    ]
    assert r.customer.agents[0].heard == replies
    assert [item["text"] for item in record["said"]] == replies
    heard = record["heard"]
    assert [item["text"] for item in heard] == [*lines, "Thanks, you'll get an invite shortly. Goodbye!"]
    assert all(item["complete"] for item in heard)
    for utterance, reply in zip(heard, record["said"], strict=False):
        assert reply["start_ms"] >= utterance["end_ms"] + 100  # waits reply_delay_ms after the agent
    assert record["status"] == "completed" and record["stream_stopped_by"] == "app"


async def test_interrupts_barges_in_mid_utterance_and_sees_the_clear():
    pitch = "Our platform watches every pipeline and table for freshness, volume and schema drift. " * 8
    seen: dict[str, float] = {}

    async def agent_script(agent: Agent) -> None:
        await agent.say(OPENING)
        await agent.next_utterance()
        pitch_sent = time.monotonic()
        seen["pitch_ms"] = await agent.say(pitch, mark="pitch")
        while (started := await asyncio.wait_for(agent.speech_started.get(), 20)) < pitch_sent:
            pass
        seen["barge_in_after"] = started - pitch_sent
        await agent.clear()
        await agent.next_utterance()
        await agent.say("Great, what day and time works for you?")
        await agent.next_utterance()
        await agent.say("And the best email?")
        await agent.next_utterance()

    async with rig(CustomerApp(agent_script)) as r:
        call = await r.create(PRIYA)
        record = await r.wait_ended(call.sid)

    # Cut in ~600 ms into the pitch, not after it (an upper bound a loaded machine can keep).
    assert 0.55 <= seen["barge_in_after"] < seen["pitch_ms"] / 1000
    assert [item["text"] for item in record["said"]] == [
        "Sure, I have a minute.",
        "Sorry to cut in, yes, let's set up a meeting.",
        "Thursday at 11am works for me.",
        "It's priya.nair@helixhealth.example.",
    ]
    cut = record["heard"][1]
    assert not cut["complete"] and pitch.startswith(cut["text"])
    barge_in = record["barge_in"]
    assert abs(barge_in["at_ms"] - (cut["start_ms"] + 600)) <= 40
    assert barge_in["cleared_in_time"] and barge_in["cleared_after_ms"] >= 0


async def test_presses_9_sends_dtmf_after_the_opening():
    async def agent_script(agent: Agent) -> None:
        await agent.say(OPENING)
        await asyncio.wait_for(agent.dtmf_received.wait(), 20)

    async with rig(CustomerApp(agent_script)) as r:
        call = await r.create(JAMES)
        record = await r.wait_ended(call.sid)

    agent = r.customer.agents[0]
    assert agent.dtmf == ["9"]
    dtmf = next(message for _, message in agent.messages if message["event"] == "dtmf")
    assert dtmf["dtmf"] == {"track": "inbound_track", "digit": "9"} and dtmf["streamSid"] == agent.stream_sid
    assert [(item["kind"], item["text"]) for item in record["said"]] == [("dtmf", "9")]
    assert record["said"][0]["start_ms"] >= record["heard"][0]["end_ms"] + 100


@pytest.mark.parametrize("leave_message", [False, True])
async def test_voicemail_is_detected_and_counts_a_message_only_when_audio_plays(leave_message: bool):
    async def agent_script(agent: Agent) -> None:
        await agent.next_utterance()  # the greeting
        await asyncio.wait_for(customer.amd_received.wait(), 20)  # hold on until AMD has spoken
        if leave_message:
            await agent.say(
                "Hi Grace, this is Alex from Northwind Analytics. I'll try you again.", mark="left"
            )
            await wait_for_mark(agent, "left")

    customer = CustomerApp(agent_script)
    async with rig(customer) as r:
        call = await r.create(
            GRACE,
            machine_detection="Enable",
            async_amd="true",
            async_amd_status_callback=r.customer.url("/twilio/amd"),
        )
        record = await r.wait_ended(call.sid)
        fetched = await asyncio.to_thread(r.client.calls(call.sid).fetch)
        stats = await r.admin("/sandbox/stats")

    assert r.customer.agents[0].heard == ["Hi, you've reached Grace. Please leave a message after the tone."]
    amd = r.customer.hooks_of("amd")
    assert [(h.params["AnsweredBy"], h.params["MachineDetectionDuration"]) for h in amd] == [
        ("machine_start", "250")
    ]
    assert amd[0].signature_valid and fetched.answered_by == "machine_start"
    assert record["voicemail_message_left"] is leave_message
    assert (record["agent_audio_ms"] > 0) is leave_message
    assert stats["voicemail_messages_left"] == int(leave_message) and stats["by_persona"] == {"voicemail": 1}


async def test_duplicates_and_calls_the_gate_should_have_blocked_are_counted():
    async with rig() as r:
        first = await r.create(OLIVIA, attempt=5)
        second = await r.create(OLIVIA, attempt=5)  # the same attempt dialled twice
        blocked = await r.create(HENRY, attempt=6)
        await asyncio.wait_for(r.customer.agent_connected.wait(), 20)
        await r.hang_up(blocked.sid)
        for call in (first, second, blocked):
            await r.wait_ended(call.sid)
        stats = await r.admin("/sandbox/stats")
        calls = await r.admin("/sandbox/calls")

    assert stats["calls_created"] == 3 and stats["duplicate_calls"] == 1 and stats["unexpected_calls"] == 1
    assert stats["by_persona"] == {"busy": 2, "books_meeting": 1}
    assert stats["by_status"] == {"busy": 2, "completed": 1} and stats["active_calls"] == 0
    assert [call["unexpected"] for call in calls] == [False, False, True]


async def test_refused_stream_handshake_ends_the_call_and_is_recorded():
    async with rig(CustomerApp(reject_streams=True)) as r:
        call = await r.create(AVA)
        record = await r.wait_ended(call.sid)

    assert record["status"] == "completed" and record["stream_stopped_by"] == "rejected"
    rejected = [event for event in record["events"] if event["kind"] == "stream_rejected"]
    assert len(rejected) == 1 and "403" in rejected[0]["detail"]
    assert r.customer.handshake_signatures == [True]
    assert [h.params["StreamEvent"] for h in r.customer.hooks_of("stream")] == ["stream-error"]
    assert r.events_of(call.sid) == ["initiated", "ringing", "in-progress", "completed"]


async def test_protocol_violations_are_recorded_without_ending_the_call():
    async def sloppy(agent: Agent) -> None:
        payload = base64.b64encode(b"\xff" * 160).decode()
        await agent.send({"event": "media", "media": {"payload": payload}})  # no streamSid
        await agent.send({"event": "hello", "streamSid": agent.stream_sid})
        await agent.send({"event": "mark", "streamSid": agent.stream_sid})  # no mark.name
        await agent.mark("still-served")
        await wait_for_mark(agent, "still-served")

    async with rig(CustomerApp(sloppy, stream_query="?token=abc")) as r:
        call = await r.create(AVA)
        record = await r.wait_ended(call.sid)
        stats = await r.admin("/sandbox/stats")

    assert r.customer.handshake_signatures == [True]  # signed over the URL as written, query included
    assert stats["stream_url_query_violations"] == 1 and stats["protocol_violations"] == 4
    assert any("query string" in violation for violation in record["violations"])
    assert any("without streamSid" in violation for violation in record["violations"])
    assert record["status"] == "completed" and record["stream_stopped_by"] == "app"


async def test_webhook_failures_and_bad_twiml_do_not_break_the_call():
    customer = CustomerApp()
    customer.twiml = "<Response><Connect></Response>"
    async with rig(customer) as r:
        call = await r.create(AVA, status_callback=r.customer.url("/twilio/fail"))
        record = await r.wait_ended(call.sid)
        stats = await r.admin("/sandbox/stats")

    assert record["status"] == "completed"
    assert any(event["kind"] == "application_error" for event in record["events"])
    assert record["webhook_failures"] == 4 and stats["webhook_failures"] == 4
    assert r.customer.agents == []


async def test_the_carrier_hangs_up_at_the_time_limit():
    async with rig(max_call_seconds=0.5) as r:
        call = await r.create(AVA)
        record = await r.wait_ended(call.sid)

    assert record["end_reason"] == "time limit reached" and record["stream_stopped_by"] == "carrier"
    assert r.customer.agents[0].stopped.is_set()
