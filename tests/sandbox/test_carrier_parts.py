"""The sandbox carrier's parts on their own: playback, prospects, cast, TwiML, requests, signing."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Connect, VoiceResponse

from sandbox.carrier.cast import cast_for
from sandbox.carrier.personas import PERSONA_NAMES, Profile, make_persona
from sandbox.carrier.playback import PlaybackBuffer
from sandbox.carrier.prospect import Prospect
from sandbox.carrier.rest_models import CallRequest, TwilioApiError
from sandbox.carrier.twiml import ConnectStream, Hangup, Pause, Say, TwimlError, Unsupported, parse_twiml
from sandbox.carrier.webhooks import WebhookSender
from sandbox.speech_codec import FRAME_BYTES, SpeechDecoder, SpeechEnded, encode_utterance, silence

TOKEN = "sandbox-auth-token"
MS_PER_CHAR = 3.0


class Line:
    """A simulated call: agent audio played to a prospect tick by tick, the prospect's voice decoded."""

    def __init__(self, persona_name: str, *, patience_ms: float = 10_000):
        profile = Profile("Ava", "ava@example.com", "Tuesday at 2pm")
        self.prospect = Prospect(
            make_persona(persona_name, profile),
            ms_per_char=MS_PER_CHAR,
            reply_delay_ms=100,
            patience_ms=patience_ms,
            clear_window_ms=1500,
        )
        self.playback = PlaybackBuffer()
        self.decoder = SpeechDecoder()
        self.replies: list[tuple[float, str]] = []
        self.tick = 0

    @property
    def now_ms(self) -> int:
        return self.tick * 20

    def play(self, text: str) -> None:
        self.playback.append(encode_utterance(text, ms_per_char=MS_PER_CHAR))

    def run(self, ms: float) -> None:
        for _ in range(int(ms // 20)):
            played = self.playback.play(FRAME_BYTES)
            if played:
                self.prospect.hear(played, self.now_ms)
            for event in self.decoder.feed(self.prospect.next_frame(self.now_ms, FRAME_BYTES)):
                if isinstance(event, SpeechEnded) and event.complete:
                    self.replies.append((self.now_ms, event.text))
            self.tick += 1

    def run_until_quiet(self, limit_ms: float = 5000) -> None:
        while self.playback.queued_bytes and limit_ms > 0:
            self.run(20)
            limit_ms -= 20
        self.run(600)


def test_playback_marks_wait_for_their_audio_and_clear_releases_them_all():
    buffer = PlaybackBuffer()
    assert buffer.mark("idle") is True  # nothing buffered: echo at once
    buffer.append(b"\x40" * 400)
    assert buffer.mark("a") is False and buffer.mark("b") is False
    assert buffer.play(160) == b"\x40" * 160 and buffer.finished_marks() == []
    buffer.play(160)
    buffer.play(160)  # the last 80 bytes leave the buffer
    assert buffer.finished_marks() == ["a", "b"]
    buffer.append(b"\x40" * 1000)
    buffer.mark("c")
    buffer.append(b"\x40" * 1000)
    buffer.mark("d")
    buffer.play(160)
    assert buffer.clear() == ["c", "d"] and buffer.queued_bytes == 0 and buffer.play(160) == b""


def test_books_meeting_answers_each_complete_utterance_in_order_after_the_delay():
    line = Line("books_meeting")
    for question in ("Hi Ava, do you have a minute?", "What time works?", "Your email?", "Thanks, bye."):
        line.play(question)
        line.run_until_quiet()
    assert [text for _, text in line.replies] == [
        "Sure, I have a minute.",
        "Tuesday at 2pm works for me.",
        "It's ava@example.com.",
    ]
    heard, said = line.prospect.heard, line.prospect.said
    assert [item.complete for item in heard] == [True] * 4
    for utterance, reply in zip(heard, said, strict=False):
        assert utterance.end_ms + 100 <= reply.start_ms <= utterance.end_ms + 140


def test_a_reply_waits_while_the_agent_keeps_talking():
    line = Line("books_meeting")
    line.play("Hi Ava, this is Alex.")  # about 63 ms of speech
    line.run(100)  # it ended less than reply_delay_ms ago
    line.play("Do you have a minute?")
    line.run_until_quiet()
    assert [text for _, text in line.replies] == ["Sure, I have a minute."]
    assert line.prospect.said[0].start_ms >= line.prospect.heard[1].end_ms + 100


def test_interrupts_cuts_in_600_ms_into_the_next_utterance_and_times_the_clear():
    line = Line("interrupts")
    line.play("Hi Priya, do you have a minute?")
    line.run_until_quiet()
    line.play("Short.")  # over before the 600 ms mark: no barge-in yet
    line.run_until_quiet()
    assert line.prospect.barge_in is None and len(line.replies) == 1
    line.play("Our platform watches every pipeline for freshness and schema drift. " * 5)
    line.run(900)
    barge_in = line.prospect.barge_in
    assert line.playback.queued_bytes > 0  # the agent is still talking
    assert barge_in is not None and barge_in.cleared_after_ms is None
    line.playback.clear()
    line.prospect.hear_clear(line.now_ms)
    assert barge_in.cleared_in_time and barge_in.cleared_after_ms == pytest.approx(
        line.now_ms - barge_in.at_ms
    )
    cut = line.prospect.heard[-1]
    assert not cut.complete and barge_in.at_ms == pytest.approx(cut.start_ms + 600, abs=20)
    line.run(1000)
    assert line.replies[-1][1] == "Sorry to cut in, yes, let's set up a meeting."


def test_a_human_hangs_up_after_a_silent_agent_but_not_while_it_talks():
    line = Line("not_interested", patience_ms=1000)
    line.run(600)
    line.play("Hi Sofia, " * 20)  # about 600 ms of agent speech
    line.run(600)
    assert not line.prospect.wants_to_hang_up(line.now_ms)
    line.run_until_quiet()
    assert not line.prospect.wants_to_hang_up(line.now_ms)  # the reply is still being spoken
    line.run(1000)
    assert line.prospect.wants_to_hang_up(line.now_ms)


def test_voicemail_greets_at_once_and_records_only_real_agent_audio():
    line = Line("voicemail")
    line.run(400)
    assert [text for _, text in line.replies] == [
        "Hi, you've reached Ava. Please leave a message after the tone."
    ]
    line.playback.append(silence(500))
    line.run(600)
    assert line.prospect.agent_audio_ms == 0  # silence is not a message
    line.play("Hi Ava, this is Alex.")
    line.run_until_quiet()
    assert line.prospect.agent_audio_ms > 0 and line.prospect.heard[-1].text == "Hi Ava, this is Alex."
    assert [item.text for item in line.prospect.said] == [line.replies[0][1]]  # machines never reply


def test_presses_9_queues_a_digit_instead_of_speaking():
    line = Line("presses_9")
    line.play("Hi James, say stop or press 9 at any time.")
    line.run_until_quiet()
    assert line.prospect.take_digits() == ["9"] and line.prospect.take_digits() == []
    assert line.replies == [] and [(i.kind, i.text) for i in line.prospect.said] == [("dtmf", "9")]


def test_cast_gives_example_leads_their_personas_and_flags_blocked_numbers():
    ava = cast_for("+13125550101")
    assert (ava.persona.name, ava.persona.profile.first_name, ava.unexpected) == (
        "books_meeting",
        "Ava",
        False,
    )
    assert ava.persona.reactions[1] == "Tuesday at 2pm works for me."
    priya = cast_for("+12065550103").persona
    assert priya.name == "interrupts" and priya.reactions[-1] == "It's priya.nair@helixhealth.example."
    assert cast_for("+16175550107").persona.answered_by == "machine_start"
    assert cast_for("+16025550109").persona.ring_outcome == "busy"
    henry = cast_for("+12145550115")
    assert henry.unexpected and henry.persona.name == "books_meeting"
    assert cast_for("+18005550121").unexpected


def test_other_numbers_get_a_stable_weighted_persona():
    numbers = [f"+1555{n:07d}" for n in range(3000)]
    names = Counter(cast_for(number).persona.name for number in numbers)
    assert [cast_for(number).persona.name for number in numbers[:50]] == [
        cast_for(number).persona.name for number in numbers[:50]
    ]
    assert set(names) <= set(PERSONA_NAMES) and "failed" not in names
    assert 0.16 < names["books_meeting"] / 3000 < 0.24 and 0.005 < names["presses_9"] / 3000 < 0.04
    stranger = cast_for("+447700900123").persona.profile
    assert (stranger.first_name, stranger.email) == ("there", "prospect.0123@example.com")


def test_twiml_from_the_sdk_generator_parses_to_a_stream_with_parameters():
    response = VoiceResponse()
    response.say("Connecting you")
    response.pause(length=2)
    connect = Connect()
    stream = connect.stream(url="wss://example.com/media", status_callback="https://example.com/s", name="s1")
    stream.parameter(name="attempt", value="42")
    stream.parameter(name="token", value="t0k")
    response.append(connect)
    response.hangup()
    response.gather()
    assert parse_twiml(str(response)) == [
        Say("Connecting you"),
        Pause(2.0),
        ConnectStream(
            url="wss://example.com/media",
            name="s1",
            status_callback="https://example.com/s",
            parameters={"attempt": "42", "token": "t0k"},
        ),
        Hangup(),
        Unsupported("Gather"),
    ]


@pytest.mark.parametrize(
    "document",
    [
        "not xml",
        "<Reply/>",
        "<Response><Connect/></Response>",
        "<Response><Connect><Stream/></Connect></Response>",
        '<Response><Connect><Stream url="wss://x"><Parameter value="1"/></Stream></Connect></Response>',
        '<Response><Pause length="soon"/></Response>',
    ],
)
def test_twiml_the_carrier_cannot_run_is_rejected(document: str):
    with pytest.raises(TwimlError):
        parse_twiml(document)


def test_call_request_reads_repeated_events_and_defaults():
    form = ImmutableMultiDict(
        [
            ("To", "+13125550101"),
            ("From", "+15005550006"),
            ("Url", "https://app.example/twilio/voice?attempt=1"),
            ("StatusCallback", "https://app.example/twilio/status"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "answered"),
            ("MachineDetection", "Enable"),
            ("AsyncAmd", "true"),
        ]
    )
    request = CallRequest.from_form(form)
    assert request.status_callback_events == ("initiated", "answered")
    assert (request.method, request.status_callback_method, request.async_amd) == ("POST", "POST", True)
    plain = CallRequest.from_form(
        ImmutableMultiDict({"To": "+13125550101", "From": "+15005550006", "Url": "u"})
    )
    assert plain.status_callback_events == ("completed",) and plain.machine_detection is None
    with pytest.raises(TwilioApiError) as bad:
        CallRequest.from_form(ImmutableMultiDict({"To": "+13125550101", "From": "+15005550006"}))
    assert (bad.value.status, bad.value.code) == (400, 21205)


async def test_webhooks_are_signed_like_twilio_for_post_and_get():
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(204))
    validator = RequestValidator(TOKEN)
    async with httpx.AsyncClient(transport=transport) as client:
        sender = WebhookSender(client, TOKEN)
        params = {"CallSid": "CA1", "From": "+15005550006", "To": "+13125550101"}
        posted = await sender.send("https://app.example/twilio/status?attempt=7", params)
        got = await sender.send("https://app.example/twilio/status?attempt=7", params, method="GET")
        await sender.send("https://user:secret@app.example:8443/hook", params)

    assert posted.ok and got.ok
    post, get, with_credentials = seen
    form = dict(httpx.QueryParams(post.content.decode()))
    assert form == params
    assert validator.validate(str(post.url), form, post.headers["X-Twilio-Signature"])
    assert get.method == "GET" and dict(get.url.params) == {"attempt": "7", **params}
    assert validator.validate(str(get.url), {}, get.headers["X-Twilio-Signature"])
    assert with_credentials.headers["Authorization"].startswith("Basic ")
    assert validator.validate(
        "https://app.example:8443/hook", params, with_credentials.headers["X-Twilio-Signature"]
    )


async def test_an_unreachable_webhook_is_reported_not_raised():
    async with httpx.AsyncClient(timeout=1) as client:
        result = await WebhookSender(client, TOKEN).send("http://127.0.0.1:9/nothing", {"CallSid": "CA1"})
    assert not result.ok and result.status_code is None and "ConnectError" in result.describe()
