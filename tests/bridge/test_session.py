"""The bridge session's turn handling, driven by a scripted agent and a fake Twilio side."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import time

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from bridge.agent import (
    AgentAudio,
    AgentSaid,
    CallerSaid,
    CallerSpeechStarted,
    CallerSpeechStopped,
    ResponseFinished,
    ResponseStarted,
    ToolCall,
)
from bridge.amd import AmdBoard
from bridge.heard import heard_text
from bridge.session import OPT_OUT_GRACE_SECONDS, CallSession
from bridge.twilio_protocol import Dtmf, DtmfPayload, Mark, MarkPayload, Media, MediaPayload, Stop
from dialer.calls.attempts import issue_stream_token, load_call_context, redeem_stream_token
from dialer.db import transaction
from dialer.models import (
    AuditEvent,
    CallAttempt,
    Disposition,
    DncEntry,
    Lead,
    LeadStatus,
    Meeting,
    Speaker,
    TranscriptTurn,
)
from dialer.settings import BridgeParams
from tests.factories import dial_one_lead
from tests.fakes.agent import FakeMediaPort, FakeVoiceAgent
from tests.waiting import wait_until_async

CHUNK = base64.b64encode(b"\x20" * 800).decode()  # 100 ms of audio
SID = "MZ" + "0" * 32


@pytest.fixture
def call(runtime):
    attempt = dial_one_lead(runtime)
    with transaction(runtime.sessions) as s:
        token = issue_stream_token(
            s, attempt_id=attempt.id, call_sid=attempt.call_sid, now=runtime.clock.now(), ttl_seconds=60
        )
        assert redeem_stream_token(
            s,
            attempt_id=attempt.id,
            token=token,
            call_sid=attempt.call_sid,
            stream_sid=SID,
            now=runtime.clock.now(),
        )
        return load_call_context(s, attempt_id=attempt.id)


class WatchedAmdBoard(AmdBoard):
    """The AMD board, telling the test when the session has started waiting for its verdict."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()

    async def wait(self, call_sid, **kwargs):
        """:meth:`AmdBoard.wait`, setting :attr:`waiting` first."""
        self.waiting.set()
        return await super().wait(call_sid, **kwargs)


BUSY_TASKS = ("greet", "tool-")
"""Names (prefixes) of the session's tasks that do work a test waits for (the opt-out grace
period is a timer a test waits out on purpose, the watchdog never ends)."""


class Harness:
    """One :class:`CallSession` between a fake Twilio side and a scripted fake agent."""

    def __init__(self, runtime, context, *, unavailable=False, params=None, agent=None, preopened=None):
        self.runtime = runtime
        self.context = context
        self.agent = agent or FakeVoiceAgent(unavailable=unavailable)
        self.conn = self.agent.connection
        self.port = FakeMediaPort()
        self.amd = WatchedAmdBoard()
        self.session = CallSession(
            port=self.port,
            agent=self.agent,
            runtime=runtime,
            context=context,
            stream_sid=SID,
            params=params or BridgeParams(amd_wait_max_ms=2000),
            amd=self.amd,
            voice="marin",
            preopened=preopened,
        )
        self.task: asyncio.Task | None = None

    async def start(self, verdict: str | None = "human"):
        """Run the session; with a verdict, until it has greeted, else until it waits for one."""
        if verdict:
            self.amd.publish(self.context.call_sid, verdict)
        self.task = asyncio.create_task(self.session.run())
        if verdict:
            await self.settle()
        else:
            await asyncio.wait_for(self.amd.waiting.wait(), 20)

    async def settle(self):
        """Wait until the session has handled everything sent to it so far (or has ended).

        Handled: both readers wait for their next message with nothing queued, and no greeting or
        tool call is still running.
        """

        def idle() -> bool:
            if self.task is not None and self.task.done():
                return True
            busy = [
                task
                for task in asyncio.all_tasks()
                if not task.done() and task.get_name().startswith(BUSY_TASKS)
            ]
            return self.port.drained() and self.conn.drained() and not busy

        await wait_until_async(idle, timeout=20, what="the session to handle what it was sent")

    def caller_audio(self):
        """A packet of the caller's audio arrives from Twilio."""
        self.port.inbound.put_nowait(
            Media(
                event="media",
                sequenceNumber=9,
                streamSid=SID,
                media=MediaPayload(chunk=1, timestamp=20, payload="//8="),
            )
        )

    async def echo_marks(self, count: int | None = None):
        """Twilio echoes the first ``count`` marks sent (all of them, forgotten once echoed)."""
        for message in self.port.events("mark")[:count] if count else self.port.events("mark"):
            self.port.inbound.put_nowait(
                Mark(
                    event="mark",
                    sequenceNumber=9,
                    streamSid=SID,
                    mark=MarkPayload(name=message["mark"]["name"]),
                )
            )
        self.port.sent = [m for m in self.port.sent if m["event"] != "mark" or count is not None]
        await self.settle()

    async def speak(self, response_id: str, item_id: str, text: str, chunks: int = 2, finish: bool = True):
        """The agent says ``text`` in ``chunks`` of audio as response ``response_id``."""
        self.conn.push(ResponseStarted(response_id))
        for _ in range(chunks):
            self.conn.push(AgentAudio(response_id, item_id, CHUNK))
        self.conn.push(AgentSaid(response_id, item_id, text))
        if finish:
            self.conn.push(ResponseFinished(response_id, "completed", usage={"output_audio_tokens": 40}))
        await self.settle()

    async def disclose(self):
        """Start the call and play the disclosure to its end."""
        await self.start()
        await self.speak("r1", "i1", "Hi Ava, this is Alex, an AI assistant ...")
        await self.echo_marks()

    async def finished(self, limit: float = 20.0):
        """Wait for the session to end by itself."""
        await asyncio.wait_for(self.task, limit)


@pytest.fixture
def harness(runtime, call):
    return Harness(runtime, call)


async def test_disclosure_first_then_listening_and_proof_stored(harness, runtime, call):
    await harness.start()
    (instructions,) = harness.conn.responses_requested
    assert instructions.startswith('Start the call now. Say exactly: "Hi Ava, this is Alex, an AI assistant')
    await harness.speak("r1", "i1", "Hi Ava, this is Alex, an AI assistant calling on behalf of Northwind")
    harness.caller_audio()  # "Hello?" over the disclosure: heard by the agent, cannot cut it
    harness.conn.push(CallerSpeechStarted(audio_start_ms=300))
    await harness.settle()
    assert harness.conn.audio_in == ["//8="] and harness.conn.cancels == 0
    assert [m["event"] for m in harness.port.sent] == ["media", "mark", "media", "mark"]
    await harness.echo_marks()
    with runtime.sessions() as s:
        attempt = s.get(CallAttempt, call.attempt_id)
        assert attempt.disclosure_played_at is not None
        event = s.scalars(select(AuditEvent).where(AuditEvent.kind == "call.disclosure_played")).one()
        assert "AI assistant" in event.payload["text"]
    harness.caller_audio()
    await harness.settle()
    assert harness.conn.audio_in == ["//8=", "//8="]
    harness.port.inbound.put_nowait(Stop(event="stop", sequenceNumber=10, streamSid=SID))
    await harness.finished()
    assert harness.conn.closed
    with runtime.sessions() as s:
        assert s.get(CallAttempt, call.attempt_id).agent_usage == {"output_audio_tokens": 40}


async def test_answering_machine_hears_nothing(harness, carrier):
    await harness.start(verdict="machine_start")
    await harness.finished()
    assert harness.conn.responses_requested == []
    assert harness.port.events("media") == []
    assert carrier.hung_up == [harness.context.call_sid] and harness.port.closed


async def test_barge_in_clears_twilio_and_truncates_to_what_was_heard(harness):
    await harness.disclose()
    await harness.speak("r2", "i2", "We help data teams ...", chunks=3, finish=False)
    await harness.echo_marks(count=1)  # 100 ms played
    harness.conn.push(CallerSpeechStarted(audio_start_ms=5000))
    await harness.settle()
    assert harness.port.events("clear") == [{"event": "clear", "streamSid": SID}]
    assert harness.conn.truncations == [("i2", 100)]
    sent_media = len(harness.port.events("media"))
    harness.conn.push(AgentAudio("r2", "i2", CHUNK))  # generated before the server cancelled
    await harness.settle()
    assert len(harness.port.events("media")) == sent_media


async def test_tool_results_go_back_after_response_done(harness, runtime, call):
    await harness.disclose()
    harness.conn.push(
        ResponseStarted("r2"),
        ToolCall(
            "r2",
            "call_1",
            "book_meeting",
            json.dumps(
                {"preferred_time": "Tuesday at 2pm", "email": "Ava@Brightlane.example", "lead_id": 999}
            ),
        ),
    )
    await harness.settle()
    assert harness.conn.tool_results == []
    harness.conn.push(ResponseFinished("r2", "completed"))
    await harness.settle()
    ((results, respond),) = harness.conn.tool_results
    assert respond is True and results[0][0] == "call_1"
    output = json.loads(results[0][1])
    assert output["ok"] and output["meeting"]["starts_at_local"] == "Tuesday, November 24 at 2:00 PM CST"
    with runtime.sessions() as s:
        meeting = s.scalars(select(Meeting)).one()
        assert meeting.lead_id == call.lead_id  # never lead 999
        assert meeting.email == "Ava@brightlane.example"
        assert meeting.starts_at.isoformat() == "2026-11-24T20:00:00+00:00"


async def test_bad_tool_arguments_go_back_as_errors(harness, runtime):
    await harness.disclose()
    harness.conn.push(
        ResponseStarted("r2"),
        ToolCall("r2", "c1", "book_meeting", '{"preferred_time": "yesterday at 2pm", "email": "nope"}'),
        ToolCall("r2", "c2", "log_disposition", '{"disposition": "booked"}'),
        ToolCall("r2", "c3", "teleport", "{}"),
        ResponseFinished("r2", "completed"),
    )
    await harness.settle()
    ((results, respond),) = harness.conn.tool_results
    errors = {cid: json.loads(out)["error"] for cid, out in results}
    assert "not valid" in errors["c1"]
    assert "call book_meeting first" in errors["c2"]
    assert "unknown tool" in errors["c3"]
    assert respond is True
    with runtime.sessions() as s:
        assert s.scalars(select(Meeting)).all() == []
        kinds = s.scalars(select(AuditEvent.kind).where(AuditEvent.kind.like("tool.%"))).all()
        assert sorted(kinds) == ["tool.book_meeting", "tool.log_disposition", "tool.teleport"]


async def test_honor_dnc_writes_suppression_then_goodbye_then_hangs_up(harness, runtime, call, carrier):
    await harness.disclose()
    harness.conn.push(ResponseStarted("r2"), ToolCall("r2", "c1", "honor_dnc", '{"reason": "asked"}'))
    await harness.settle()
    with runtime.sessions() as s:  # written before the goodbye is even requested
        assert s.scalars(select(DncEntry.source)).all() == ["honor_dnc"]
        assert s.get(Lead, call.lead_id).status == LeadStatus.DNC
    harness.conn.push(ResponseFinished("r2", "completed"))
    await harness.settle()
    assert harness.conn.tool_results[-1][1] is True
    harness.caller_audio()
    await harness.settle()
    assert harness.conn.audio_in == []  # the goodbye is protected
    await harness.speak("r3", "i3", "Understood, goodbye.")
    assert carrier.hung_up == []
    await harness.echo_marks()
    await harness.finished()
    assert carrier.hung_up == [call.call_sid]


async def test_key_press_9_opts_out(harness, runtime, carrier, call):
    await harness.disclose()
    harness.port.inbound.put_nowait(
        Dtmf(event="dtmf", sequenceNumber=12, streamSid=SID, dtmf=DtmfPayload(digit="9"))
    )
    await harness.settle()
    with runtime.sessions() as s:
        assert s.scalars(select(DncEntry.source)).all() == ["dtmf"]
        assert s.scalars(select(Disposition.name)).all() == ["dnc"]
    assert 'Say exactly: "Understood.' in harness.conn.responses_requested[-1]
    await harness.speak("r2", "i2", "Understood. You won't be called again. Goodbye.")
    await harness.echo_marks()
    await harness.finished()
    assert carrier.hung_up == [call.call_sid]


async def test_opt_out_phrase_is_honoured_when_the_model_misses_it(harness, runtime, carrier, call):
    await harness.disclose()
    harness.conn.push(CallerSaid("Please take me off your list."))
    await harness.settle()
    with runtime.sessions() as s:
        assert s.scalars(select(DncEntry.source)).all() == ["phrase_check"]
    # The model wrongly keeps pitching; its unplayed audio is cleared and the bridge says goodbye.
    await harness.speak("r2", "i2", "But wait, we have a great offer")
    assert harness.port.events("clear")
    assert 'Say exactly: "Understood.' in harness.conn.responses_requested[-1]
    await harness.speak("r3", "i3", "Understood. You won't be called again. Goodbye.")
    await harness.echo_marks()
    await harness.finished()
    assert carrier.hung_up == [call.call_sid]


async def test_end_call_waits_for_the_goodbye_to_play(harness, carrier, call):
    await harness.disclose()
    harness.conn.push(
        ResponseStarted("r2"),
        AgentAudio("r2", "i2", CHUNK),
        ToolCall("r2", "c1", "end_call", "{}"),
        ResponseFinished("r2", "completed"),
    )
    await harness.settle()
    assert carrier.hung_up == []
    await harness.echo_marks()
    await harness.finished()
    assert carrier.hung_up == [call.call_sid]


async def test_unavailable_agent_is_an_agent_error_and_the_call_ends(runtime, call, carrier):
    harness = Harness(runtime, call, unavailable=True)
    await harness.start()
    await harness.finished()
    assert carrier.hung_up == [call.call_sid]
    with runtime.sessions() as s:
        assert s.scalars(select(Disposition.name)).all() == ["agent_error"]


async def test_opt_out_with_a_silent_model_still_ends_the_call(harness, runtime, carrier, call):
    await harness.disclose()
    harness.conn.push(CallerSaid("Stop calling me."))
    said_at = time.monotonic()
    await harness.settle()
    assert harness.conn.responses_requested == [harness.conn.responses_requested[0]]  # grace period
    await wait_until_async(
        lambda: len(harness.conn.responses_requested) == 2, what="the bridge's own goodbye"
    )
    assert time.monotonic() - said_at >= OPT_OUT_GRACE_SECONDS  # not before the model had its chance
    assert 'Say exactly: "Understood.' in harness.conn.responses_requested[-1]
    await harness.speak("r2", "i2", "Understood. You won't be called again. Goodbye.")
    await harness.echo_marks()
    await harness.finished()
    assert carrier.hung_up == [call.call_sid]


async def test_machine_verdict_arriving_late_still_leaves_no_message(runtime, call, carrier):
    """Issue 7: the bridge greeted after its 3 s AMD wait ran out, so a verdict delivered later
    found the agent already talking into a voicemail box. Now nothing is said before a verdict."""
    harness = Harness(runtime, call, params=BridgeParams(amd_wait_max_ms=5000))
    await harness.start(verdict=None)
    # The point: time passes with no verdict (long past the old wait for a fast sandbox verdict),
    # and nothing may be said; there is no event to wait for in its place.
    await asyncio.sleep(1.0)
    assert harness.conn.responses_requested == []
    harness.amd.publish(call.call_sid, "machine_start")
    await harness.finished()
    assert harness.conn.responses_requested == [] and harness.port.events("media") == []
    assert carrier.hung_up == [call.call_sid]


async def test_machine_verdict_redelivered_to_another_process_still_leaves_no_message(runtime, call, carrier):
    """The first AMD webhook failed (500); its redelivery reached another API process, which only
    stored the verdict. The bridge reads it from the attempt row and says nothing."""
    harness = Harness(runtime, call, params=BridgeParams(amd_wait_max_ms=5000))
    await harness.start(verdict=None)  # the session waits for its verdict
    with transaction(runtime.sessions) as s:
        s.get_one(CallAttempt, call.attempt_id).answered_by = "machine_start"
    await harness.finished()
    assert harness.conn.responses_requested == [] and harness.port.events("media") == []
    assert carrier.hung_up == [call.call_sid]


async def test_unknown_verdict_from_the_carrier_is_greeted(runtime, call):
    harness = Harness(runtime, call, params=BridgeParams(amd_wait_max_ms=5000))
    await harness.start(verdict=None)
    harness.amd.publish(call.call_sid, "unknown")
    await harness.settle()
    assert len(harness.conn.responses_requested) == 1  # the disclosure


async def test_no_verdict_at_all_hangs_up_without_a_word(runtime, call, carrier):
    harness = Harness(runtime, call, params=BridgeParams(amd_wait_max_ms=300))
    await harness.start(verdict=None)
    await harness.finished()
    assert harness.conn.responses_requested == [] and harness.port.events("media") == []
    assert carrier.hung_up == [call.call_sid]
    with runtime.sessions() as s:
        assert s.scalars(select(Disposition.name)).all() == ["agent_error"]
        assert "no AMD verdict" in s.scalars(select(Disposition.notes)).one()


async def test_verdict_only_on_the_call_resource_is_used(runtime, call, carrier):
    """Every delivery of the AMD webhook failed: the verdict is still on the carrier's Call."""
    carrier.existing = [
        dataclasses.replace(c, answered_by="machine_start") if c.sid == call.call_sid else c
        for c in carrier.existing
    ]
    harness = Harness(runtime, call, params=BridgeParams(amd_wait_max_ms=300))
    await harness.start(verdict=None)
    await harness.finished()
    assert harness.conn.responses_requested == [] and carrier.hung_up == [call.call_sid]
    with runtime.sessions() as s:
        assert s.get_one(CallAttempt, call.attempt_id).answered_by == "machine_start"
        assert s.scalars(select(Disposition.name)).all() == ["machine"]


# --- turn-taking: the caller is heard from the first second, the disclosure is never cut (issue 9) ---


async def test_speech_over_the_disclosure_cuts_nothing_and_gets_no_answer_of_its_own(harness):
    await harness.start()
    await harness.speak("r1", "i1", "Hi Ava, this is Alex, an AI assistant ...", finish=False)
    harness.conn.push(CallerSpeechStarted(audio_start_ms=200), CallerSpeechStopped(audio_end_ms=900))
    harness.conn.push(ResponseFinished("r1", "completed"))
    await wait_until_async(
        lambda: harness.session._responses.disclosure.finished, what="the disclosure to finish"
    )
    await harness.echo_marks()
    assert harness.port.events("clear") == [] and harness.conn.cancels == 0
    assert len(harness.conn.responses_requested) == 1  # only the greeting: that turn is not answered
    harness.conn.push(CallerSpeechStarted(audio_start_ms=3000), CallerSpeechStopped(audio_end_ms=3600))
    await wait_until_async(
        lambda: len(harness.conn.responses_requested) == 2, what="the answer to the next turn"
    )
    assert harness.conn.responses_requested[1] is None  # the agent's own answer, no script


async def test_barge_in_cancels_the_agents_turn_and_the_answer_waits_for_it_to_end(harness):
    await harness.disclose()
    await harness.speak("r2", "i2", "We help data teams ...", chunks=3, finish=False)
    harness.conn.push(CallerSpeechStarted(audio_start_ms=5000))
    await wait_until_async(lambda: harness.conn.cancels == 1, what="the response to be cancelled")
    assert harness.port.events("clear") and harness.conn.truncations == [("i2", 0)]
    harness.conn.push(CallerSpeechStopped(audio_end_ms=5800))
    await harness.settle()
    assert len(harness.conn.responses_requested) == 1  # r2 has not reported its end yet
    harness.conn.push(ResponseFinished("r2", "cancelled", reason="client_cancelled"))
    await wait_until_async(
        lambda: len(harness.conn.responses_requested) == 2, what="the answer after the cancel"
    )


async def test_stop_calling_over_the_disclosure_is_honoured_without_cutting_it(
    harness, runtime, carrier, call
):
    await harness.start()
    await harness.speak("r1", "i1", "Hi Ava, this is Alex, an AI assistant ...", finish=False)
    harness.conn.push(CallerSpeechStarted(audio_start_ms=200), CallerSaid("stop calling me"))

    def dnc_sources():
        with runtime.sessions() as s:
            return s.scalars(select(DncEntry.source)).all()

    await wait_until_async(lambda: dnc_sources() == ["phrase_check"], what="the DNC entry")
    assert harness.port.events("clear") == [] and harness.conn.cancels == 0  # the disclosure plays on
    harness.conn.push(ResponseFinished("r1", "completed"))
    await wait_until_async(
        lambda: len(harness.conn.responses_requested) == 2, what="the goodbye after the disclosure"
    )
    assert 'Say exactly: "Understood.' in harness.conn.responses_requested[-1]
    await harness.echo_marks()
    await harness.speak("r2", "i2", "Understood. You won't be called again. Goodbye.")
    await harness.echo_marks()
    await harness.finished()
    assert carrier.hung_up == [call.call_sid]


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_first_audio_turn_latency_barge_ins_and_tools(harness):
    before = {
        "first": _sample("dialer_bridge_first_audio_seconds_count"),
        "turn": _sample("dialer_bridge_turn_latency_seconds_count"),
        "barge": _sample("dialer_bridge_barge_ins_total"),
        "refused": _sample("dialer_bridge_tool_calls_total", tool="unknown", outcome="refused"),
    }
    await harness.disclose()
    assert _sample("dialer_bridge_first_audio_seconds_count") == before["first"] + 1
    harness.conn.push(CallerSpeechStarted(audio_start_ms=4000), CallerSpeechStopped(audio_end_ms=4600))
    await wait_until_async(lambda: len(harness.conn.responses_requested) == 2, what="the answer")
    await harness.speak("r2", "i2", "Happy to explain.", finish=False)
    assert _sample("dialer_bridge_turn_latency_seconds_count") == before["turn"] + 1
    harness.conn.push(CallerSpeechStarted(audio_start_ms=6000))  # over r2's unplayed audio
    await wait_until_async(lambda: harness.conn.cancels == 1, what="the barge-in")
    assert _sample("dialer_bridge_barge_ins_total") == before["barge"] + 1
    harness.conn.push(ToolCall("r2", "c9", "launch_rockets", "{}"), ResponseFinished("r2", "cancelled"))
    await wait_until_async(lambda: harness.conn.tool_results, what="the refused tool's result")
    assert (
        _sample("dialer_bridge_tool_calls_total", tool="unknown", outcome="refused") == before["refused"] + 1
    )


async def test_a_campaigns_silence_timeout_ends_a_silent_call(runtime, call, carrier):
    quiet = dataclasses.replace(call, silence_timeout_seconds=1)
    harness = Harness(runtime, quiet, params=BridgeParams(amd_wait_max_ms=2000, idle_hangup_ms=600_000))
    await harness.disclose()
    await harness.finished(limit=15)  # one silent second after the disclosure, not ten minutes
    assert carrier.hung_up == [call.call_sid]


async def test_a_disclosure_cut_short_is_not_recorded_as_played(harness, runtime, call):
    """Only a disclosure that completed and fully played is proof (a dropped socket ends it ``failed``)."""
    await harness.start()
    await harness.speak("r1", "i1", "Hi Ava, this is Alex, an AI", finish=False)
    harness.conn.push(ResponseFinished("r1", "failed", reason="connection_lost"))
    await harness.settle()
    await harness.echo_marks()
    with runtime.sessions() as s:
        assert s.get(CallAttempt, call.attempt_id).disclosure_played_at is None


PITCH_TEXT = "We help data teams catch broken dashboards."  # 43 characters


def _agent_turns(runtime, attempt_id: int) -> list[tuple[str, str | None, bool]]:
    with runtime.sessions() as s:
        rows = s.scalars(
            select(TranscriptTurn)
            .where(TranscriptTurn.attempt_id == attempt_id, TranscriptTurn.speaker == Speaker.AGENT)
            .order_by(TranscriptTurn.id)
        )
        return [(row.text, row.heard_text, row.interrupted) for row in rows]


async def test_a_barge_in_after_the_turn_was_stored_records_what_the_caller_heard(harness, runtime, call):
    """Issue 9 item 3: the agent's turn is stored when its transcript is done, usually before it
    has played; a barge-in later must still leave the words the prospect heard beside it."""
    await harness.disclose()
    await harness.speak("r2", "i2", PITCH_TEXT, chunks=4)  # 400 ms, all generated
    await harness.echo_marks(count=1)  # 100 ms played
    harness.conn.push(CallerSpeechStarted(audio_start_ms=5000))
    await harness.settle()
    assert harness.conn.truncations == [("i2", 100)]
    await harness.echo_marks()  # Twilio echoes the cleared marks: stale, they change nothing
    disclosure, pitch = _agent_turns(runtime, call.attempt_id)
    assert disclosure == ("Hi Ava, this is Alex, an AI assistant ...",) * 2 + (False,)
    assert pitch == (PITCH_TEXT, heard_text(PITCH_TEXT, 100, 400), True)
    assert pitch[1] == "We help"
    assert harness.conn.closed is False and harness.port.events("clear")


async def test_late_audio_after_a_barge_in_is_dropped_and_the_turn_keeps_the_heard_part(
    harness, runtime, call
):
    await harness.disclose()
    harness.conn.push(ResponseStarted("r2"), *[AgentAudio("r2", "i2", CHUNK)] * 3)
    await harness.settle()
    await harness.echo_marks(count=2)  # 200 ms of 300 played
    harness.conn.push(CallerSpeechStarted(audio_start_ms=5000))
    await wait_until_async(lambda: harness.conn.cancels == 1, what="the response to be cancelled")
    await harness.settle()
    sent = len(harness.port.events("media"))
    # the agent had generated more before it saw the cancel, and says so in its transcript
    harness.conn.push(AgentAudio("r2", "i2", CHUNK), AgentAudio("r2", "i2", CHUNK))
    harness.conn.push(AgentSaid("r2", "i2", PITCH_TEXT), ResponseFinished("r2", "cancelled"))
    await harness.settle()
    assert len(harness.port.events("media")) == sent  # not one late chunk played
    assert harness.conn.truncations == [("i2", 200)]
    assert _agent_turns(runtime, call.attempt_id)[-1] == (
        PITCH_TEXT,
        heard_text(PITCH_TEXT, 200, 500),  # 200 ms of the 500 ms the transcript covers
        True,
    )


async def test_a_call_that_ends_mid_sentence_records_only_the_words_that_played(harness, runtime, call):
    await harness.disclose()
    await harness.speak("r2", "i2", PITCH_TEXT, chunks=4)
    await harness.echo_marks(count=2)
    harness.port.inbound.put_nowait(Stop(event="stop", sequenceNumber=10, streamSid=SID))
    await harness.finished()
    assert _agent_turns(runtime, call.attempt_id)[-1] == (PITCH_TEXT, heard_text(PITCH_TEXT, 200, 400), True)
    assert harness.conn.truncations == []  # the agent session is closing: nothing to tell it
