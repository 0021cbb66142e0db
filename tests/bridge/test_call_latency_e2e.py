"""Issue 9 item 4, end to end: calls dialled through the sandbox carrier to the real bridge and agent.

The dial path (gate, attempt, Twilio REST) places a call at the sandbox carrier; the carrier
answers as the number's persona, fetches the TwiML from the real bridge (which opens the agent
session ahead), streams the call, and the bridge talks to the sandbox agent over the Realtime
protocol. A normal call stores both latencies on its attempt; an agent slower than the TSR's
2 seconds makes the call abandoned, which the gate's 30-day rate reads, and the campaign's next
lead is blocked with ``ABANDONMENT_RATE_EXCEEDED``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import select

from bridge.app import create_app
from dialer.calls.carrier import TwilioCarrier
from dialer.db import session_factory, transaction
from dialer.dialing import claim_dialable_leads, dial_lead
from dialer.dialing.gate import abandonment_rate
from dialer.models import AuditEvent, CallAttempt, Campaign, GateDecisionRecord
from dialer.runtime import Runtime
from sandbox.agent import AgentConfig, create_agent_app
from sandbox.agent.records import SessionRegistry
from sandbox.carrier import CarrierConfig, create_carrier_app
from tests.conftest import make_settings
from tests.factories import create_campaign, create_lead
from tests.fakes.carrier import NoPacing
from tests.servers import bound_socket, serve
from tests.waiting import wait_until_async

AVA = "+13125550101"  # books_meeting: three caller turns
SOFIA = ("+13055550105", "FL", "33101")  # not_interested: one turn
SLOW_MS = 2600
"""The slow agent's thinking time before each response's audio: beyond the TSR's 2 s on its own."""


@asynccontextmanager
async def sandbox_stack(
    committed_pg, clock, dnc_dir, *, agent_delay_ms: int = 0
) -> AsyncIterator[tuple[Runtime, SessionRegistry]]:
    """The sandbox carrier and agent and the real bridge on loopback; the runtime and the agent's sessions."""
    carrier_app = create_carrier_app(CarrierConfig(ring_seconds=0.2, ms_per_char=3.0, reply_delay_ms=100))
    agent_app = create_agent_app(
        AgentConfig(api_key="sandbox-openai-key", ms_per_char=3.0, first_audio_delay_ms=agent_delay_ms)
    )
    bridge_sock = bound_socket()
    async with (
        serve(carrier_app, ws="websockets-sansio", timeout_graceful_shutdown=3) as carrier_port,
        serve(agent_app, ws="websockets-sansio", timeout_graceful_shutdown=3) as agent_port,
    ):
        settings = make_settings(
            database_url=str(committed_pg.url.render_as_string(hide_password=False)),
            public_url=f"http://127.0.0.1:{bridge_sock.getsockname()[1]}",
            twilio_api_base_url=f"http://127.0.0.1:{carrier_port}",
            openai={"websocket_base_url": f"ws://127.0.0.1:{agent_port}/v1"},
            dnc_dir=dnc_dir,
        )
        runtime = Runtime(
            settings=settings,
            sessions=session_factory(committed_pg),
            clock=clock,
            carrier=TwilioCarrier.from_settings(settings),
            pacer=NoPacing(),
        )
        bridge = create_app(runtime=runtime)
        async with serve(bridge, sock=bridge_sock, ws="websockets-sansio", timeout_graceful_shutdown=3):
            yield runtime, agent_app.state.registry


def _dial(runtime: Runtime, campaign_id: int, phone: str, **lead: object) -> int:
    """Create a consented lead, claim and dial it through the real dial path; its lead id."""
    with transaction(runtime.sessions) as s:
        lead_id = create_lead(s, s.get_one(Campaign, campaign_id), phone, **lead).id
    with transaction(runtime.sessions) as s:
        claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=timedelta(minutes=2))
    dial_lead(runtime, lead_id=lead_id)
    return lead_id


def _attempt(runtime: Runtime, lead_id: int) -> CallAttempt | None:
    with runtime.sessions() as s:
        return s.scalars(select(CallAttempt).where(CallAttempt.lead_id == lead_id)).one_or_none()


async def _call(
    runtime: Runtime, campaign_id: int, phone: str, *, turns: int = 0, **lead: object
) -> CallAttempt:
    """Dial a lead; wait until its call has ended with the rule decided and ``turns`` turns measured."""
    lead_id = await asyncio.to_thread(_dial, runtime, campaign_id, phone, **lead)

    def settled() -> CallAttempt | None:
        attempt = _attempt(runtime, lead_id)
        done = attempt is not None and attempt.ended_at is not None and attempt.tsr_abandoned is not None
        return attempt if done and len(attempt.turn_latencies_ms) >= turns else None

    return await wait_until_async(lambda: asyncio.to_thread(settled), timeout=60, what="the call to end")


def _campaign(runtime: Runtime) -> int:
    with transaction(runtime.sessions) as s:
        return create_campaign(s).id


async def test_a_normal_call_stores_its_first_audio_and_every_turns_latency(committed_pg, clock, dnc_dir):
    async with sandbox_stack(committed_pg, clock, dnc_dir) as (runtime, agent_sessions):
        campaign_id = _campaign(runtime)
        attempt = await _call(runtime, campaign_id, AVA, turns=3)
        with runtime.sessions() as s:
            rate = abandonment_rate(s, campaign_id=campaign_id, now=clock.now())
        # One agent session for the call (the one opened during the TwiML request), closed after it.
        await wait_until_async(
            lambda: not any(r.open for r in agent_sessions), what="the agent session to close"
        )
        assert len(list(agent_sessions)) == 1
    assert attempt.answered_by == "human" and attempt.stream_started_at is not None
    assert attempt.tsr_abandoned is False and rate == 0.0
    # The greeting waits for the AMD verdict (400 ms after answer in the sandbox), then speaks.
    assert attempt.answer_to_first_audio_ms is not None and 0 < attempt.answer_to_first_audio_ms < 2000
    assert attempt.greeting_to_first_audio_ms is not None and attempt.greeting_to_first_audio_ms <= 2000
    # books_meeting answers three times: agree, the time, the email; each got an answer.
    assert len(attempt.turn_latencies_ms) >= 3
    assert all(0 <= ms < 2000 for ms in attempt.turn_latencies_ms)


async def test_an_agent_slower_than_two_seconds_abandons_the_call_and_the_gate_blocks_the_next(
    committed_pg, clock, dnc_dir
):
    async with sandbox_stack(committed_pg, clock, dnc_dir, agent_delay_ms=SLOW_MS) as (runtime, _):
        campaign_id = _campaign(runtime)
        phone, state, zip_code = SOFIA
        attempt = await _call(runtime, campaign_id, phone, state=state, zip=zip_code)
        with runtime.sessions() as s:
            rate = abandonment_rate(s, campaign_id=campaign_id, now=clock.now())
            events = s.scalars(
                select(AuditEvent).where(
                    AuditEvent.attempt_id == attempt.id, AuditEvent.kind == "call.abandoned"
                )
            ).all()
        assert attempt.answered_by == "human" and attempt.stream_started_at is not None
        assert attempt.tsr_abandoned is True and rate == 1.0
        assert attempt.greeting_to_first_audio_ms is not None and attempt.greeting_to_first_audio_ms > 2000
        assert [e.payload["rule"] for e in events] == ["47 CFR 64.1200(a)(7)(i); 16 CFR 310.4(b)(1)(iv)"]

        next_lead = await asyncio.to_thread(_dial, runtime, campaign_id, AVA)
        with runtime.sessions() as s:
            decision = s.scalars(
                select(GateDecisionRecord).where(GateDecisionRecord.lead_id == next_lead)
            ).one()
    assert not decision.allowed and "ABANDONMENT_RATE_EXCEEDED" in decision.reasons
    assert _attempt(runtime, next_lead) is None  # never called
