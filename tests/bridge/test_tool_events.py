"""The agent's tools publish their events in the tool's own transaction (issue 10 items 5 and 6).

``book_meeting`` -> ``meeting.booked`` (HubSpot and webhooks), ``honor_dnc`` -> ``dnc.added``
(webhooks): exactly one event each, for the call's own lead, even when the model repeats itself.
"""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from bridge.agent import ToolCall
from bridge.tools import ToolDispatcher
from dialer.calls.attempts import load_call_context
from dialer.db import transaction
from dialer.models import OutboxEvent
from tests.factories import dial_one_lead


def _run(dispatcher: ToolDispatcher, call_id: str, name: str, **arguments: str) -> dict:
    result = asyncio.run(dispatcher.run(ToolCall("resp_1", call_id, name, json.dumps(arguments))))
    return json.loads(result.output)


def test_booking_and_opting_out_publish_one_event_each_for_the_calls_own_lead(runtime):
    attempt = dial_one_lead(runtime)
    with transaction(runtime.sessions) as s:
        context = load_call_context(s, attempt_id=attempt.id)
    dispatcher = ToolDispatcher(runtime, context, timeout_ms=10_000)
    when = {"preferred_time": "Tuesday at 2pm", "email": "ava@example.com"}
    booked = _run(dispatcher, "call_1", "book_meeting", **when, lead_id="40")  # another lead: ignored
    assert booked["ok"], booked
    repeated = _run(dispatcher, "call_1", "book_meeting", **when)
    assert repeated["meeting"]["already_booked"]
    assert _run(dispatcher, "call_2", "honor_dnc", reason="stop calling me")["ok"]
    with runtime.sessions() as s:
        events = s.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [e.event_type for e in events] == ["meeting.booked", "dnc.added"]
    meeting, dnc = (e.payload for e in events)
    assert meeting["lead"]["id"] == attempt.lead_id and meeting["attempt_id"] == attempt.id
    assert meeting["email"] == "ava@example.com" and meeting["lead_timezone"] == "America/Chicago"
    assert (dnc["phone_e164"], dnc["source"], dnc["attempt_id"]) == (attempt.to_e164, "honor_dnc", attempt.id)
