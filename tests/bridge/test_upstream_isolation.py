# ruff: noqa: F811 - the fixtures imported below are used as test arguments
"""Issue 9, item 6: one call's upstream fault leaves every other call alone, on both backends.

Twenty calls share one event loop and one sandbox agent; one call's session is killed and the
other nineteen hold their whole conversations as if nothing happened. A session that stops reading
(a hung agent: TCP pushes back, sends block) costs its own call a send timeout and a reconnect,
and neither blocks the event loop nor holds up the call beside it.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bridge.prompt import opening_line
from dialer.models import AuditEvent, Speaker
from dialer.settings import BridgeParams
from sandbox.agent.faults import Fault
from tests.bridge.upstream_calls import (
    DONE,
    BridgedCall,
    attempt,
    dial,
    dispositions,
    turns,
    until_attempt,
)
from tests.sandbox.test_agent_backends import backend  # noqa: F401 - the parametrised backend fixture

CALLS = 20
KILLED = 7
NOT_INTERESTED = "No thanks, I'm not interested."
GOODBYE = "No problem at all. Thanks for your time. Goodbye."


async def _converse(call: BridgedCall, runtime, *, reconnects: int = 0) -> None:
    """Wait for the disclosure (and the reconnects), say no, wait for the end."""
    attempt_id = call.context.attempt_id
    await until_attempt(runtime, attempt_id, lambda a: a.disclosure_played_at is not None, "the disclosure")
    await until_attempt(runtime, attempt_id, lambda a: a.agent_reconnects == reconnects, "the reconnects")
    call.port.say(NOT_INTERESTED)
    await call.ended()


def _assert_conversation(runtime, carrier, call: BridgedCall, *, reconnects: int) -> None:
    attempt_id = call.context.attempt_id
    said = turns(runtime, attempt_id)
    assert said[0] == (Speaker.AGENT, opening_line(call.context)), said
    assert said.count((Speaker.AGENT, opening_line(call.context))) == 1
    assert (Speaker.CALLER, NOT_INTERESTED) in said and said[-1] == (Speaker.AGENT, GOODBYE)
    assert [name for name, _ in dispositions(runtime, attempt_id)] == ["not_interested"]
    assert call.context.call_sid in carrier.hung_up
    assert attempt(runtime, attempt_id).agent_reconnects == reconnects


async def test_twenty_calls_one_upstream_killed_the_other_nineteen_unaffected(backend, runtime, carrier):
    calls = [BridgedCall(dial(runtime, number)) for number in range(CALLS)]
    faults = backend.served.app.state.faults
    killed = faults.plan(Fault("drop", after=DONE[backend.name], prompt_contains=f"Tester{KILLED:02d}"))
    for call in calls:
        call.start(backend, runtime)
    await asyncio.gather(
        *(_converse(call, runtime, reconnects=int(n == KILLED)) for n, call in enumerate(calls))
    )
    assert len(killed.fired) == 1
    for number, call in enumerate(calls):
        _assert_conversation(runtime, carrier, call, reconnects=int(number == KILLED))
    assert len(set(carrier.hung_up)) == CALLS


async def _heartbeat(gaps: list[float], stop: asyncio.Event) -> None:
    """Tick every 20 ms; record the longest gap between ticks (the event loop's worst stall)."""
    loop = asyncio.get_running_loop()
    last = loop.time()
    while not stop.is_set():
        await asyncio.sleep(0.02)
        now = loop.time()
        gaps.append(now - last)
        last = now


async def _flood_until(call: BridgedCall, done: asyncio.Event) -> None:
    """Keep the caller's audio coming (2 s frames) until ``done``, so sends fill the stalled socket."""
    while not done.is_set():
        if call.port.inbound.qsize() < 20:
            call.flood(20)
        await asyncio.sleep(0.01)


async def test_an_upstream_that_stops_reading_times_out_and_blocks_no_other_call(backend, runtime, carrier):
    backend.served.app.state.resumable.grace_s = 0.0
    stalled, neighbour = BridgedCall(dial(runtime, 1)), BridgedCall(dial(runtime, 2))
    faults = backend.served.app.state.faults
    hung = faults.plan(Fault("stall", after=DONE[backend.name], prompt_contains="Tester01"))
    gaps: list[float] = []
    stop, reconnected = asyncio.Event(), asyncio.Event()
    beat = asyncio.create_task(_heartbeat(gaps, stop))
    try:
        stalled.start(backend, runtime, BridgeParams(amd_wait_max_ms=2000, agent_send_timeout_ms=300))
        neighbour.start(backend, runtime)
        attempt_id = stalled.context.attempt_id
        await until_attempt(
            runtime, attempt_id, lambda a: a.disclosure_played_at is not None, "the disclosure"
        )
        flood = asyncio.create_task(_flood_until(stalled, reconnected))
        neighbour_done = asyncio.create_task(_converse(neighbour, runtime))
        await until_attempt(runtime, attempt_id, lambda a: a.agent_reconnects == 1, "the stall to be noticed")
        reconnected.set()
        await flood
        await neighbour_done
        await _converse(stalled, runtime, reconnects=1)
    finally:
        stop.set()
        faults.release()
        await beat
    assert hung.fired  # the session did stall
    with runtime.sessions() as s:
        [how] = s.scalars(
            select(AuditEvent.payload).where(
                AuditEvent.attempt_id == attempt_id, AuditEvent.kind == "call.agent_reconnected"
            )
        )
    assert "a send took over 0.3 s" in how["how"]
    _assert_conversation(runtime, carrier, neighbour, reconnects=0)
    _assert_conversation(runtime, carrier, stalled, reconnects=1)
    assert max(gaps) < 2.0  # wide margin: the loop never waited on the stalled socket
