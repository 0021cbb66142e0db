# ruff: noqa: F811 - the fixtures imported below are used as test arguments
"""Issue 9, item 6: the agent socket drops mid-call, on both backends, through the real bridge.

The sandbox agent drops a session on purpose (``app.state.faults``, :mod:`sandbox.agent.faults`):
closed with 1011 right after a given server event. Once, the bridge replaces the session (OpenAI:
a fresh one seeded with what the caller heard; AssemblyAI: ``session.resume``) and the call goes
on to its normal end without a second disclosure; twice, the call ends as ``agent_error``.
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from bridge.history import RECONNECTED_NOTE
from bridge.prompt import opening_line
from dialer.models import Speaker
from sandbox.agent.faults import Fault
from sandbox.agent.script import DNC_GOODBYE, PITCH
from tests.bridge.upstream_calls import (
    DONE,
    TOOL_CALLED,
    BridgedCall,
    attempt,
    audit_count,
    dial,
    dispositions,
    dnc_numbers,
    turns,
    until_attempt,
)
from tests.sandbox.test_agent_backends import backend  # noqa: F401 - the parametrised backend fixture


def _reconnects(outcome: str) -> float:
    return REGISTRY.get_sample_value("dialer_bridge_agent_reconnects_total", {"outcome": outcome}) or 0.0


async def _greeted_then_dropped(backend, runtime) -> BridgedCall:
    """A call whose agent session drops right after the disclosure, and that has reconnected."""
    call = BridgedCall(dial(runtime, 1))
    backend.served.app.state.faults.plan(Fault("drop", after=DONE[backend.name]))
    call.start(backend, runtime)
    attempt_id = call.context.attempt_id
    await until_attempt(runtime, attempt_id, lambda a: a.disclosure_played_at is not None, "the disclosure")
    await until_attempt(runtime, attempt_id, lambda a: a.agent_reconnects == 1, "the reconnect")
    return call


@pytest.mark.parametrize(
    ("caller_says", "ends_as"),
    [("No thanks, I'm not interested.", "not_interested"), ("Please stop calling me.", "dnc")],
    ids=["not-interested", "opt-out"],
)
async def test_a_drop_after_the_disclosure_is_reconnected_and_the_call_ends_normally(
    backend, runtime, carrier, caller_says, ends_as
):
    before = _reconnects("resumed" if backend.name == "assemblyai" else "fresh")
    call = await _greeted_then_dropped(backend, runtime)
    call.port.say(caller_says)
    await call.ended()
    attempt_id, phone = call.context.attempt_id, call.context.phone_e164
    said = turns(runtime, attempt_id)
    assert said.count((Speaker.AGENT, opening_line(call.context))) == 1  # no second disclosure
    assert (Speaker.CALLER, caller_says) in said
    assert [name for name, _ in dispositions(runtime, attempt_id)] == [ends_as]
    assert dnc_numbers(runtime) == ([phone] if ends_as == "dnc" else [])  # the opt-out still applies
    assert carrier.hung_up == [call.context.call_sid]
    assert attempt(runtime, attempt_id).agent_reconnects == 1
    assert audit_count(runtime, attempt_id, "call.agent_reconnected") == 1
    assert _reconnects("resumed" if backend.name == "assemblyai" else "fresh") == before + 1
    records = list(backend.served.app.state.registry)
    if backend.name == "openai":  # a fresh session, told not to greet, seeded with the disclosure
        assert len(records) == 2 and RECONNECTED_NOTE in records[1].system_prompt
        assert records[1].items_created[0]["role"] == "assistant"
        assert records[1].items_created[0]["content"][0]["text"] == opening_line(call.context)
    else:  # the same session, resumed
        assert len(records) == 1 and records[0].resumes == 1


async def test_a_second_drop_ends_the_call_as_agent_error(backend, runtime, carrier):
    failed = _reconnects("failed")
    call = BridgedCall(dial(runtime, 2))
    faults = backend.served.app.state.faults
    faults.plan(Fault("drop", after=DONE[backend.name], times=2))  # the disclosure, then the next answer
    call.start(backend, runtime)
    attempt_id = call.context.attempt_id
    await until_attempt(runtime, attempt_id, lambda a: a.agent_reconnects == 1, "the first reconnect")
    call.port.say("Sure, go ahead.")
    await call.ended()
    [(name, notes)] = dispositions(runtime, attempt_id)
    assert name == "agent_error" and "reconnect_failed" in notes
    assert carrier.hung_up == [call.context.call_sid]
    assert call.port.closed
    assert attempt(runtime, attempt_id).agent_reconnects == 1
    assert _reconnects("failed") == failed + 1
    assert len(faults.planned[0].fired) == 2
    assert (Speaker.AGENT, PITCH) in turns(runtime, attempt_id)  # the second session did answer


async def test_a_drop_during_a_tool_call_runs_the_tool_once_and_the_goodbye_follows(
    backend, runtime, carrier
):
    backend.served.app.state.resumable.grace_s = 0.0  # AssemblyAI too gets a fresh, seeded session
    call = BridgedCall(dial(runtime, 3))
    faults = backend.served.app.state.faults
    call.start(backend, runtime)
    attempt_id = call.context.attempt_id
    await until_attempt(runtime, attempt_id, lambda a: a.disclosure_played_at is not None, "the disclosure")
    faults.plan(Fault("drop", after=TOOL_CALLED[backend.name]))
    call.port.say("Please stop calling me.")
    await call.ended()
    assert faults.planned[0].fired  # the session dropped with honor_dnc in flight
    assert dnc_numbers(runtime) == [call.context.phone_e164]
    assert audit_count(runtime, attempt_id, "tool.honor_dnc") == 1  # run once, by the model's call
    calls = [c.name for record in backend.served.app.state.registry for c in record.tool_calls]
    assert calls.count("honor_dnc") <= 1, calls  # the new session was told it was called; not again
    assert [name for name, _ in dispositions(runtime, attempt_id)] == ["dnc"]
    assert turns(runtime, attempt_id)[-1] == (Speaker.AGENT, DNC_GOODBYE)  # the new session said it
    fresh = list(backend.served.app.state.registry)[-1]
    if backend.name == "openai":  # the call seeded, its result delivered as a function_call_output
        assert [item["type"] for item in fresh.items_created][-2:] == [
            "function_call",
            "function_call_output",
        ]
    else:  # the fresh session never saw the call: its result came as a message
        assert [m for m in fresh.messages if m.startswith("Result of your honor_dnc call")]
    assert carrier.hung_up == [call.context.call_sid]
    assert attempt(runtime, attempt_id).agent_reconnects == 1


AUDIO_SENT = {"openai": "response.output_audio.delta", "assemblyai": "reply.audio"}


async def test_a_drop_during_the_disclosure_speaks_it_again_in_full_before_anything_else(
    backend, runtime, carrier
):
    call = BridgedCall(dial(runtime, 4))
    faults = backend.served.app.state.faults
    cut = faults.plan(Fault("drop", after=AUDIO_SENT[backend.name], nth=2))  # two chunks in
    call.start(backend, runtime)
    attempt_id = call.context.attempt_id
    await until_attempt(runtime, attempt_id, lambda a: a.disclosure_played_at is not None, "the disclosure")
    assert cut.fired and attempt(runtime, attempt_id).agent_reconnects == 1
    call.port.say("No thanks, I'm not interested.")
    await call.ended()
    said = turns(runtime, attempt_id)
    assert said[0] == (Speaker.AGENT, opening_line(call.context))  # the first words heard in full
    assert said.count((Speaker.AGENT, opening_line(call.context))) == 1
    assert [name for name, _ in dispositions(runtime, attempt_id)] == ["not_interested"]
    assert carrier.hung_up == [call.context.call_sid]
