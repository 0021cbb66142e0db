"""Realistic compliance data for the console's tests: a call on which the prospect opted out.

Everything is written by the services the product runs: the real gate dials the lead (fake
carrier), the carrier's status callbacks answer and end the call, the bridge's recorder stores the
disclosure and the transcript with what the caller heard, and the agent's ``honor_dnc`` tool puts
the number on the DNC list (entry, revocation, disposition, audit events).
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bridge.agent import ToolCall
from bridge.tools import ToolDispatcher
from dialer.calls.attempts import (
    CallStatusUpdate,
    apply_call_status,
    load_call_context,
    record_disclosure_played,
)
from dialer.calls.transcripts import record_transcript
from dialer.db import transaction
from dialer.models import AttemptStatus, CallAttempt, Speaker
from dialer.runtime import Runtime
from tests.factories import dial_one_lead

DISCLOSURE = "Hi, this is Alex, an AI assistant calling for Northwind Analytics. This call is recorded."
OPT_OUT = "Please take me off your list and stop calling me."
GOODBYE = "Understood, we won't call you again. Have a good day, goodbye."
HEARD_GOODBYE = "Understood, we won't call you again."


@dataclass(frozen=True)
class DncCall:
    """The opted-out call: its attempt id, the number and the lead."""

    attempt_id: int
    phone_e164: str
    lead_id: int
    campaign_id: int


def _status(
    runtime: Runtime, attempt: CallAttempt, status: AttemptStatus, seq: int, duration: int | None
) -> None:
    with transaction(runtime.sessions) as s:
        update = CallStatusUpdate(
            attempt.call_sid or "", status, sequence_number=seq, duration_seconds=duration
        )
        apply_call_status(s, attempt_id=attempt.id, update_=update, now=runtime.clock.now())


def make_dnc_call(runtime: Runtime, phone: str = "+13125550101", **campaign: object) -> DncCall:
    """Dial a consented lead, play the disclosure, hear the opt-out, honour it, end the call."""
    attempt = dial_one_lead(runtime, phone, **campaign)
    assert attempt.call_sid, "the fake carrier gives every placed call a CallSid"
    _status(runtime, attempt, AttemptStatus.IN_PROGRESS, 1, None)
    with transaction(runtime.sessions) as s:
        now = runtime.clock.now()
        record_transcript(
            s, attempt_id=attempt.id, speaker=Speaker.AGENT, text=DISCLOSURE, now=now, heard_text=DISCLOSURE
        )
        record_disclosure_played(s, attempt_id=attempt.id, text=DISCLOSURE, now=now)
        record_transcript(s, attempt_id=attempt.id, speaker=Speaker.CALLER, text=OPT_OUT, now=now)
        context = load_call_context(s, attempt_id=attempt.id)
    dispatcher = ToolDispatcher(runtime, context, timeout_ms=10_000)
    call = ToolCall(
        "resp_1", "call_1", "honor_dnc", json.dumps({"reason": "caller asked to be taken off the list"})
    )
    with ThreadPoolExecutor(1) as pool:  # a thread of its own: a session's Playwright owns this one's loop
        result = pool.submit(asyncio.run, dispatcher.run(call)).result()
    assert json.loads(result.output)["ok"]
    with transaction(runtime.sessions) as s:
        record_transcript(
            s,
            attempt_id=attempt.id,
            speaker=Speaker.AGENT,
            text=GOODBYE,
            now=runtime.clock.now(),
            interrupted=True,
            heard_text=HEARD_GOODBYE,
        )
        stored = s.get_one(CallAttempt, attempt.id)
        stored.answer_to_first_audio_ms, stored.greeting_to_first_audio_ms = 840, 610
        stored.turn_latencies_ms, stored.tsr_abandoned = [720], False
    _status(runtime, attempt, AttemptStatus.COMPLETED, 2, 24)
    return DncCall(attempt.id, attempt.to_e164, attempt.lead_id, attempt.campaign_id)
