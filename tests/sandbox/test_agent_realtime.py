"""The sandbox agent driven over loopback by the real ``openai`` SDK client, as the bridge drives it."""

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from fastapi import FastAPI
from openai import AsyncOpenAI
from websockets.asyncio.client import connect as raw_connect

from sandbox.agent import AgentConfig, create_agent_app
from sandbox.agent.script import ASK_EMAIL, ASK_TIME, CALLBACK_REFUSED, DIDNT_CATCH, DNC_GOODBYE, PITCH
from sandbox.speech_codec import FRAME_BYTES, SpeechDecoder, SpeechEnded, encode_utterance, silence
from tests.servers import serve

KEY = "sandbox-openai-key"
MODEL = "gpt-realtime-2.1"
RECV_TIMEOUT_S = 5.0
FAST = AgentConfig(api_key=KEY, ms_per_char=3.0, generation_speed=50.0)
REAL_TIME = AgentConfig(api_key=KEY, ms_per_char=3.0, generation_speed=1.0)
TOOLS = [
    {
        "type": "function",
        "name": "book_meeting",
        "description": "Book a meeting.",
        "parameters": {
            "type": "object",
            "properties": {
                "preferred_time": {"type": "string"},
                "email": {"type": "string"},
                "notes": {"type": "string"},
            },
            "required": ["preferred_time", "email"],
        },
    },
    {
        "type": "function",
        "name": "honor_dnc",
        "parameters": {"type": "object", "properties": {"reason": {"type": "string"}}},
    },
    {
        "type": "function",
        "name": "log_disposition",
        "parameters": {
            "type": "object",
            "properties": {"disposition": {"type": "string"}},
            "required": ["disposition"],
        },
    },
    {
        "type": "function",
        "name": "mark_callback",
        "parameters": {"type": "object", "properties": {"preferred_time": {"type": "string"}}},
    },
    {
        "type": "function",
        "name": "end_call",
        "parameters": {"type": "object", "properties": {"reason": {"type": "string"}}},
    },
]
PHONE_SESSION = {
    "type": "realtime",
    "instructions": "You are Sam, calling for Acme Analytics.",
    "output_modalities": ["audio"],
    "audio": {
        "input": {
            "format": {"type": "audio/pcmu"},
            "turn_detection": {"type": "server_vad", "silence_duration_ms": 200},
            "transcription": {"model": "gpt-4o-mini-transcribe"},
        },
        "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"},
    },
    "tools": TOOLS,
    "tool_choice": "auto",
}
GA_RESPONSE_ORDER = [
    "response.created",
    "rate_limits.updated",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_audio.delta",
    "response.output_audio_transcript.delta",
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


@dataclass
class Agent:
    app: FastAPI
    port: int

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1"


@asynccontextmanager
async def running(config: AgentConfig) -> AsyncIterator[Agent]:
    app = create_agent_app(config)
    async with serve(app, lifespan="off") as port:
        yield Agent(app, port)


@pytest.fixture
async def agent() -> AsyncIterator[Agent]:
    async with running(FAST) as served:
        yield served


@pytest.fixture
async def slow_agent() -> AsyncIterator[Agent]:
    async with running(REAL_TIME) as served:
        yield served


class Line:
    """The bridge's side of one Realtime connection, over the real SDK."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.seen: list[dict[str, Any]] = []

    async def send(self, event: dict[str, Any]) -> None:
        await self.conn.send(event)

    async def recv(self) -> dict[str, Any]:
        event = json.loads(await asyncio.wait_for(self.conn.recv_bytes(), RECV_TIMEOUT_S))
        self.seen.append(event)
        return event

    async def until(self, event_type: str) -> list[dict[str, Any]]:
        """Events up to and including the next ``event_type``."""
        events = []
        while True:
            events.append(await self.recv())
            if events[-1]["type"] == event_type:
                return events

    async def say(self, text: str, *, after_ms: float = 300) -> None:
        """The caller says ``text`` (in 20 ms frames, with silence around it)."""
        audio = silence(60) + encode_utterance(text, ms_per_char=3.0) + silence(after_ms)
        for start in range(0, len(audio), FRAME_BYTES):
            chunk = base64.b64encode(audio[start : start + FRAME_BYTES]).decode()
            await self.send({"type": "input_audio_buffer.append", "audio": chunk})

    async def turn(self, text: str) -> list[dict[str, Any]]:
        """The caller says ``text``; the events through the agent's ``response.done``."""
        await self.say(text)
        return await self.until("response.done")

    async def answer(
        self, events: list[dict[str, Any]], outputs: dict[str, dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Return tool outputs for the calls in ``events`` as the bridge does, then ``response.create``."""
        for done in of_type(events, "response.function_call_arguments.done"):
            output = json.dumps(outputs.get(done["name"], {"ok": True}))
            await self.send(
                {
                    "type": "conversation.item.create",
                    "item": {"type": "function_call_output", "call_id": done["call_id"], "output": output},
                }
            )
            await self.until("conversation.item.done")
        await self.send({"type": "response.create"})
        return await self.until("response.done")


@asynccontextmanager
async def line(agent: Agent, *, session: dict[str, Any] | None = PHONE_SESSION) -> AsyncIterator[Line]:
    client = AsyncOpenAI(api_key=KEY, websocket_base_url=agent.ws_base)
    async with client.realtime.connect(model=MODEL) as conn:
        opened = Line(conn)
        assert (await opened.recv())["type"] == "session.created"
        if session is not None:
            await opened.send({"type": "session.update", "session": session})
            assert (await opened.recv())["type"] == "session.updated"
        yield opened


def of_type(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [event for event in events if event["type"] == event_type]


def spoken(events: list[dict[str, Any]]) -> list[str]:
    audio = b"".join(
        base64.b64decode(event["delta"]) for event in of_type(events, "response.output_audio.delta")
    )
    decoder = SpeechDecoder()
    return [event.text for event in decoder.feed(audio) + decoder.flush() if isinstance(event, SpeechEnded)]


def calls(events: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for done in of_type(events, "response.function_call_arguments.done"):
        assert isinstance(done["arguments"], str)
        found.append((done["name"], json.loads(done["arguments"])))
    return found


def collapsed(types: list[str]) -> list[str]:
    """Event types with runs of audio / transcript deltas reduced to one of each."""
    out: list[str] = []
    for event_type in types:
        if event_type.endswith(".delta") and event_type in out[-2:]:
            continue
        out.append(event_type)
    return out


async def test_wrong_key_is_refused_with_http_401(agent):
    client = AsyncOpenAI(api_key="not-the-key", websocket_base_url=agent.ws_base)
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with client.realtime.connect(model=MODEL):
            pass
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["error"]["code"] == "invalid_api_key"


async def test_missing_key_is_refused_with_http_401(agent):
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with raw_connect(f"{agent.ws_base}/realtime?model={MODEL}"):
            pass
    assert refused.value.response.status_code == 401


async def test_beta_client_gets_beta_api_shape_disabled_and_close_4000(agent):
    client = AsyncOpenAI(api_key=KEY, websocket_base_url=agent.ws_base)
    async with client.beta.realtime.connect(model=MODEL) as conn:
        error = json.loads(await asyncio.wait_for(conn.recv_bytes(), 5))
        assert error["type"] == "error"
        assert error["error"]["type"] == "invalid_request_error"
        assert error["error"]["code"] == "beta_api_shape_disabled"
        with pytest.raises(websockets.exceptions.ConnectionClosedError) as closed:
            await asyncio.wait_for(conn.recv_bytes(), 5)
    assert closed.value.rcvd.code == 4000


async def test_session_created_comes_first_with_ga_defaults(agent):
    async with line(agent, session=None) as opened:
        created = opened.seen[0]
    session = created["session"]
    assert created["event_id"].startswith("event_")
    assert session["id"].startswith("sess_") and session["object"] == "realtime.session"
    assert session["type"] == "realtime" and session["model"] == MODEL
    assert session["output_modalities"] == ["audio"]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "marin",
        "speed": 1.0,
    }
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 500
    assert session["audio"]["input"]["transcription"] is None
    assert session["tools"] == [] and session["instructions"]


async def test_session_update_merges_only_the_fields_present(agent):
    async with line(agent) as opened:
        await opened.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"output": {"voice": "cedar"}}},
            }
        )
        session = (await opened.recv())["session"]
        assert session["audio"]["output"] == {
            "format": {"type": "audio/pcmu"},
            "voice": "cedar",
            "speed": 1.0,
        }
        assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
        assert session["instructions"] == PHONE_SESSION["instructions"]
        assert [tool["name"] for tool in session["tools"]] == [tool["name"] for tool in TOOLS]
        turn_detection = {"type": "server_vad", "silence_duration_ms": 700}
        await opened.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"turn_detection": turn_detection}}},
            }
        )
        session = (await opened.recv())["session"]
        assert session["audio"]["input"]["turn_detection"] == {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 700,
            "idle_timeout_ms": None,
            "create_response": True,
            "interrupt_response": True,
        }
        assert session["audio"]["input"]["transcription"] == {"model": "gpt-4o-mini-transcribe"} | {
            key: None for key in ("language", "languages", "prompt", "keywords", "delay")
        }
        await opened.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
            }
        )
        assert (await opened.recv())["session"]["audio"]["input"]["turn_detection"] is None


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        (
            {"type": "realtime", "input_audio_format": "g711_ulaw"},
            "unknown_parameter",
            "session.input_audio_format",
        ),
        ({"type": "realtime", "modalities": ["audio", "text"]}, "unknown_parameter", "session.modalities"),
        ({"type": "realtime", "voice": "alloy"}, "unknown_parameter", "session.voice"),
        ({"type": "realtime", "temperature": 0.8}, "unknown_parameter", "session.temperature"),
        ({"type": "realtime", "turn_detection": None}, "unknown_parameter", "session.turn_detection"),
        ({"instructions": "no type"}, "missing_required_parameter", "session.type"),
        ({"type": "transcription"}, "invalid_value", "session.type"),
        (
            {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}},
            "invalid_value",
            "session.audio.input.format.rate",
        ),
        (
            {"type": "realtime", "audio": {"output": {"format": {"type": "g711_ulaw"}}}},
            "invalid_value",
            "session.audio.output.format",
        ),
        (
            {"type": "realtime", "audio": {"output": {"voice": "nova"}}},
            "invalid_value",
            "session.audio.output.voice",
        ),
    ],
)
async def test_session_update_rejects_non_ga_shapes_without_applying_them(agent, session, code, param):
    async with line(agent) as opened:
        bad = {"type": "realtime", "instructions": "changed"} | session if "type" in session else session
        await opened.send({"type": "session.update", "event_id": "evt_client_1", "session": bad})
        error = await opened.recv()
        assert error["type"] == "error"
        assert error["error"] | {"message": None} == {
            "type": "invalid_request_error",
            "code": code,
            "message": None,
            "param": param,
            "event_id": "evt_client_1",
        }
        await opened.send({"type": "session.update", "session": {"type": "realtime"}})
        assert (await opened.recv())["session"]["instructions"] == PHONE_SESSION["instructions"]


async def test_voice_is_fixed_once_the_agent_has_spoken(agent):
    async with line(agent) as opened:
        await opened.send({"type": "response.create", "response": {"instructions": 'Say exactly: "Hello."'}})
        await opened.until("response.done")
        await opened.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"output": {"voice": "cedar"}}},
            }
        )
        error = await opened.recv()
        assert error["error"]["code"] == "cannot_update_voice"
        assert error["error"]["param"] == "session.audio.output.voice"


async def test_greeting_says_exactly_the_instructed_text_in_ga_order(agent):
    greeting = "Hi, this is Sam from Acme Analytics. This call is recorded and I'm an AI assistant."
    instructions = f'Open the call.\nSay exactly: "{greeting}"'
    async with line(agent) as opened:
        await opened.send({"type": "response.create", "response": {"instructions": instructions}})
        events = await opened.until("response.done")
    assert collapsed([event["type"] for event in events]) == GA_RESPONSE_ORDER
    assert spoken(events) == [greeting]
    assert of_type(events, "response.output_audio_transcript.done")[0]["transcript"] == greeting
    assert (
        "".join(delta["delta"] for delta in of_type(events, "response.output_audio_transcript.delta"))
        == greeting
    )
    chunks = [
        len(base64.b64decode(delta["delta"])) for delta in of_type(events, "response.output_audio.delta")
    ]
    assert chunks[:-1] == [800] * (len(chunks) - 1) and 0 < chunks[-1] <= 800
    assert len({event["event_id"] for event in events}) == len(events)
    created, done = events[0]["response"], events[-1]["response"]
    assert (
        created["status"] == "in_progress" and created["output"] == [] and created["id"].startswith("resp_")
    )
    assert done["id"] == created["id"] and done["status"] == "completed" and done["status_details"] is None
    [item] = done["output"]
    assert item["type"] == "message" and item["role"] == "assistant" and item["status"] == "completed"
    assert item["content"] == [{"type": "output_audio", "transcript": greeting}]
    usage = done["usage"]
    assert usage["output_token_details"]["audio_tokens"] == round(sum(chunks) / 8 / 50)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_token_details"]["text_tokens"] > 0


async def test_caller_turn_runs_server_vad_transcription_and_the_pitch(agent):
    async with line(agent) as opened:
        events = await opened.turn("Sure, I have a minute.")
    types = [event["type"] for event in events]
    assert types[:6] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.completed",
    ]
    started, stopped, committed, added = events[:4]
    item_id = started["item_id"]
    assert stopped["item_id"] == committed["item_id"] == added["item"]["id"] == item_id
    assert started["audio_start_ms"] == 0
    assert stopped["audio_end_ms"] == pytest.approx(60 + len("Sure, I have a minute.") * 3, abs=8)
    assert committed["previous_item_id"] is None
    assert added["item"]["role"] == "user" and added["item"]["content"] == [
        {"type": "input_audio", "transcript": None}
    ]
    transcription = events[5]
    assert transcription["item_id"] == item_id and transcription["transcript"] == "Sure, I have a minute."
    assert transcription["usage"]["type"] == "tokens"
    assert collapsed(types[6:]) == GA_RESPONSE_ORDER
    assert spoken(events) == [PITCH]
    assert events[-1]["response"]["usage"]["input_token_details"]["audio_tokens"] == round(
        stopped["audio_end_ms"] / 100
    )


@pytest.mark.parametrize(
    ("said", "first_call", "output", "goodbye", "last_calls"),
    [
        (
            "Please stop calling me.",
            ("honor_dnc", {"reason": "Please stop calling me."}),
            {"ok": True},
            DNC_GOODBYE,
            [],
        ),
        (
            "Sorry, wrong number.",
            ("log_disposition", {"disposition": "wrong_person"}),
            {"ok": True},
            "Sorry for the trouble. Goodbye.",
            [("end_call", {"reason": "wrong_person"})],
        ),
        (
            "No thanks, I'm not interested.",
            ("log_disposition", {"disposition": "not_interested"}),
            {"ok": True, "recorded": "not_interested"},
            "No problem at all. Thanks for your time. Goodbye.",
            [("end_call", {"reason": "not_interested"})],
        ),
        (
            "It's not a good time.",
            ("log_disposition", {"disposition": "not_now"}),
            {"ok": True},
            "I understand. Thanks, and have a good day. Goodbye.",
            [("end_call", {"reason": "not_now"})],
        ),
        (
            "Can you call me back tomorrow at 10am?",
            ("mark_callback", {"preferred_time": "tomorrow at 10am"}),
            {"ok": True, "callback": {"due_local": "2026-09-02 10:00"}},
            "Sure, I'll call you back then. Goodbye.",
            [("log_disposition", {"disposition": "callback"}), ("end_call", {"reason": "callback"})],
        ),
        (
            "Call back Tuesday at 2:30 pm.",
            ("mark_callback", {"preferred_time": "Tuesday at 2:30 pm"}),
            {"ok": False, "error": "outside calling hours"},
            CALLBACK_REFUSED,
            [],
        ),
    ],
)
async def test_script_branch_calls_a_tool_then_answers_its_output(
    agent, said, first_call, output, goodbye, last_calls
):
    async with line(agent) as opened:
        first = await opened.turn(said)
        assert of_type(first, "response.output_audio.delta") == []
        assert calls(first) == [first_call]
        [item] = first[-1]["response"]["output"]
        assert (
            item["type"] == "function_call"
            and item["status"] == "completed"
            and item["call_id"].startswith("call_")
        )
        assert json.loads(item["arguments"]) == first_call[1]
        second = await opened.answer(first, {first_call[0]: output})
    assert spoken(second) == [goodbye]
    assert calls(second) == last_calls
    assert [item["type"] for item in second[-1]["response"]["output"]] == ["message"] + [
        "function_call"
    ] * len(last_calls)


async def test_booking_over_three_turns(agent):
    async with line(agent) as opened:
        assert spoken(await opened.turn("Yes, go ahead.")) == [PITCH]
        assert spoken(await opened.turn("Tuesday at 2pm works.")) == [ASK_EMAIL]
        booking = await opened.turn("It's jane at acme dot com.")
        assert calls(booking) == [
            ("book_meeting", {"preferred_time": "Tuesday at 2pm", "email": "jane@acme.com"})
        ]
        refused = await opened.answer(booking, {"book_meeting": {"ok": False, "error": "that slot is taken"}})
        assert spoken(refused) == ["Sorry, that slot is taken. What other time works for you?"]
        rebooking = await opened.turn("Wednesday at 10am then.")
        assert calls(rebooking) == [
            ("book_meeting", {"preferred_time": "Wednesday at 10am", "email": "jane@acme.com"})
        ]
        booked = await opened.answer(
            rebooking, {"book_meeting": {"ok": True, "meeting": {"email": "jane@acme.com"}}}
        )
        assert spoken(booked) == [
            "You're all set. I've sent an invite to jane@acme.com. Thanks, and goodbye."
        ]
        assert calls(booked) == [
            ("log_disposition", {"disposition": "booked"}),
            ("end_call", {"reason": "booked"}),
        ]
        closing = await opened.answer(booked, {})
        assert closing[-1]["response"]["output"] == []
    [record] = list(agent.app.state.registry)
    assert record.turns_heard[-1] == "Wednesday at 10am then."
    assert [call.name for call in record.tool_calls] == [
        "book_meeting",
        "book_meeting",
        "log_disposition",
        "end_call",
    ]
    assert len(record.tool_outputs) == 4


async def test_email_first_asks_for_a_time(agent):
    async with line(agent) as opened:
        assert spoken(await opened.turn("Send it to jane@acme.com")) == [ASK_TIME]


async def test_three_misses_close_the_call(agent):
    async with line(agent) as opened:
        assert spoken(await opened.turn("Hmm.")) == [DIDNT_CATCH]
        assert spoken(await opened.turn("What?")) == [DIDNT_CATCH]
        giving_up = await opened.turn("Huh.")
        assert calls(giving_up) == [("log_disposition", {"disposition": "not_now"})]
        goodbye = await opened.answer(giving_up, {})
        assert spoken(goodbye)[0].endswith("Goodbye.")
        assert calls(goodbye) == [("end_call", {"reason": "not_now"})]


async def test_barge_in_cancels_the_response_with_turn_detected(slow_agent):
    greeting = "Hi, this is Sam from Acme Analytics, calling about the dashboards your team looks after. " * 3
    async with line(slow_agent) as opened:
        await opened.send(
            {"type": "response.create", "response": {"instructions": f'Say exactly: "{greeting}"'}}
        )
        await opened.until("response.output_audio.delta")
        await opened.say("Sure, go ahead.")
        events = await opened.until("response.done")
        started = next(
            i for i, event in enumerate(events) if event["type"] == "input_audio_buffer.speech_started"
        )
        assert [event["type"] for event in events[started + 1 :]] == [
            "response.output_audio.done",
            "response.output_audio_transcript.done",
            "response.content_part.done",
            "response.output_item.done",
            "conversation.item.done",
            "response.done",
        ]
        cancelled = events[-1]["response"]
        assert cancelled["status"] == "cancelled"
        assert cancelled["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
        assert cancelled["output"][0]["status"] == "incomplete"
        heard = of_type(events, "response.output_audio_transcript.done")[0]["transcript"]
        assert 0 < len(heard) < len(greeting) and greeting.startswith(heard)
        assert cancelled["usage"]["output_token_details"]["audio_tokens"] > 0
        reply = await opened.until("response.done")
        assert (
            of_type(reply, "conversation.item.input_audio_transcription.completed")[0]["transcript"]
            == "Sure, go ahead."
        )
        assert reply[-1]["response"]["status"] == "completed"
    [record] = list(slow_agent.app.state.registry)
    assert [(r.status, r.cancel_reason) for r in record.cancellations] == [("cancelled", "turn_detected")]


async def test_create_while_active_is_an_error_and_cancel_stops_it(slow_agent):
    async with line(slow_agent) as opened:
        await opened.send(
            {
                "type": "response.create",
                "response": {"instructions": f'Say exactly: "{"Hello there. " * 20}"'},
            }
        )
        await opened.until("response.output_audio.delta")
        await opened.send({"type": "response.create", "event_id": "evt_twice"})
        error = await opened.until("error")
        assert error[-1]["error"]["code"] == "conversation_already_has_active_response"
        assert error[-1]["error"]["event_id"] == "evt_twice"
        await opened.send({"type": "response.cancel"})
        done = (await opened.until("response.done"))[-1]["response"]
        assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
        await opened.send({"type": "response.cancel", "event_id": "evt_nothing"})
        error = await opened.recv()
        assert (
            error["error"]["code"] == "response_cancel_not_active"
            and error["error"]["event_id"] == "evt_nothing"
        )


async def test_truncate_checks_the_items_audio_length(agent):
    async with line(agent) as opened:
        await opened.send(
            {"type": "response.create", "response": {"instructions": 'Say exactly: "One moment please."'}}
        )
        events = await opened.until("response.done")
        item_id = events[-1]["response"]["output"][0]["id"]
        audio_ms = (
            sum(len(base64.b64decode(e["delta"])) for e in of_type(events, "response.output_audio.delta")) / 8
        )
        too_long = {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": int(audio_ms) + 100,
        }
        await opened.send(too_long)
        error = await opened.recv()
        assert error["type"] == "error" and error["error"]["param"] == "audio_end_ms"
        await opened.send(
            {"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": 20}
        )
        assert await opened.recv() | {"event_id": None} == {
            "type": "conversation.item.truncated",
            "event_id": None,
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": 20,
        }
        await opened.send({"type": "conversation.item.retrieve", "item_id": item_id})
        transcript = (await opened.recv())["item"]["content"][0]["transcript"]
        assert len(transcript) < len("One moment please.")
        user = await opened.turn("Hello?")
        user_item = user[0]["item_id"]
        await opened.send(
            {
                "type": "conversation.item.truncate",
                "item_id": user_item,
                "content_index": 0,
                "audio_end_ms": 0,
            }
        )
        assert (await opened.recv())["error"]["code"] == "unsupported_content_type"
        await opened.send({"type": "conversation.item.delete", "item_id": item_id})
        assert (await opened.recv())["type"] == "conversation.item.deleted"
        await opened.send({"type": "conversation.item.retrieve", "item_id": item_id})
        assert (await opened.recv())["error"]["param"] == "item_id"
    [record] = list(agent.app.state.registry)
    assert [(t.item_id, t.audio_end_ms) for t in record.truncations] == [(item_id, 20)]


async def test_a_sandbox_fault_fails_only_that_response(agent, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("codec exploded")

    async with line(agent) as opened:
        monkeypatch.setattr("sandbox.agent.response.render_speech", broken)
        await opened.send({"type": "response.create", "response": {"instructions": 'Say exactly: "Hello."'}})
        failed = (await opened.until("response.done"))[-1]["response"]
        assert failed["status"] == "failed"
        assert failed["status_details"]["error"]["type"] == "server_error"
        assert failed["output"][0]["status"] == "incomplete"
        monkeypatch.undo()
        await opened.send({"type": "response.create", "response": {"instructions": 'Say exactly: "Hello."'}})
        assert spoken(await opened.until("response.done")) == ["Hello."]


async def test_function_call_output_needs_a_call_the_agent_made(agent):
    async with line(agent) as opened:
        item = {"type": "function_call_output", "call_id": "call_unknown", "output": "{}"}
        await opened.send({"type": "conversation.item.create", "event_id": "evt_out", "item": item})
        error = await opened.recv()
        assert error["error"]["param"] == "item.call_id" and error["error"]["event_id"] == "evt_out"


async def test_text_message_from_the_client_is_heard_on_response_create(agent):
    async with line(agent) as opened:
        message = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Not now, sorry."}],
        }
        await opened.send({"type": "conversation.item.create", "item": message})
        added = await opened.recv()
        assert (
            added["type"] == "conversation.item.added"
            and added["item"]["content"][0]["text"] == "Not now, sorry."
        )
        assert (await opened.recv())["type"] == "conversation.item.done"
        await opened.send({"type": "response.create"})
        assert calls(await opened.until("response.done")) == [("log_disposition", {"disposition": "not_now"})]
        wrong = {"type": "message", "role": "user", "content": [{"type": "output_audio", "transcript": "x"}]}
        await opened.send({"type": "conversation.item.create", "item": wrong})
        error = (await opened.recv())["error"]
        assert error["code"] == "invalid_value" and error["param"] == "item"


async def test_bad_frames_get_errors_and_the_session_goes_on(agent):
    async with line(agent) as opened:
        await opened.conn.send({"type": "output_audio_buffer.clear", "event_id": "evt_webrtc"})
        unknown = await opened.recv()
        assert unknown["error"]["code"] == "invalid_value" and unknown["error"]["event_id"] == "evt_webrtc"
        assert unknown["error"]["message"].startswith("Invalid value: 'output_audio_buffer.clear'")
        await opened.conn.send_raw("{not json")
        assert (await opened.recv())["error"]["code"] == "invalid_json"
        await opened.send({"type": "input_audio_buffer.append", "audio": "***"})
        assert (await opened.recv())["error"]["param"] == "audio"
        assert spoken(await opened.turn("Okay.")) == [PITCH]


async def test_manual_turns_without_vad(agent):
    audio = {
        "input": {"format": {"type": "audio/pcmu"}, "turn_detection": None},
        "output": {"format": {"type": "audio/pcmu"}},
    }
    manual = PHONE_SESSION | {"audio": audio}
    async with line(agent, session=manual) as opened:
        await opened.send({"type": "input_audio_buffer.commit", "event_id": "evt_empty"})
        assert (await opened.recv())["error"]["code"] == "input_audio_buffer_commit_empty"
        await opened.say("Sounds good.")
        await opened.send({"type": "input_audio_buffer.commit"})
        events = await opened.until("conversation.item.done")
        assert [event["type"] for event in events] == [
            "input_audio_buffer.committed",
            "conversation.item.added",
            "conversation.item.done",
        ]
        await opened.send({"type": "response.create"})
        assert spoken(await opened.until("response.done")) == [PITCH]
    assert not any(event["type"].startswith("input_audio_buffer.speech") for event in opened.seen)


async def test_other_output_formats_get_silence_of_the_right_length(agent):
    async with line(agent, session=None) as opened:
        await opened.send(
            {"type": "response.create", "response": {"instructions": 'Say exactly: "Hello there."'}}
        )
        events = await opened.until("response.done")
    audio = b"".join(base64.b64decode(e["delta"]) for e in of_type(events, "response.output_audio.delta"))
    coded_ms = len(encode_utterance("Hello there.", ms_per_char=3.0)) / 8
    assert audio == bytes(len(audio)) and len(audio) == round(coded_ms * 48)
    assert events[-1]["response"]["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}


async def test_sessions_view_needs_the_key(agent):
    async with line(agent) as opened:
        await opened.turn("Yes.")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{agent.port}") as http:
        assert (await http.get("/sandbox/sessions")).status_code == 401
        response = await http.get("/sandbox/sessions", headers={"Authorization": f"Bearer {KEY}"})
    [record] = response.json()
    assert record["turns_heard"] == ["Yes."]
    assert record["open"] is False
    assert record["responses"][0]["transcript"] == PITCH
    assert record["tool_calls"] == [] and record["cancellations"] == [] and record["errors"] == []
