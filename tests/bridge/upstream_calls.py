"""Whole calls through the real bridge session against the sandbox agent, with upstream faults planned.

Shared by the reconnect, stall and concurrency tests (issue 9, item 6): dialled attempts with
distinct leads, a Twilio side that plays everything at once, and readers of what the attempt ended as.
"""

from __future__ import annotations

import asyncio
import base64
import os
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from bridge.amd import AmdBoard
from bridge.session import CallSession
from bridge.twilio_protocol import Media, MediaPayload
from dialer.calls.attempts import issue_stream_token, load_call_context, redeem_stream_token
from dialer.db import transaction
from dialer.dialing import claim_dialable_leads, dial_lead
from dialer.models import AuditEvent, CallAttempt, Disposition, DncEntry, Speaker, TranscriptTurn
from dialer.settings import BridgeParams
from tests.bridge.test_session import SID
from tests.bridge.test_session_backends import PlayingPort
from tests.factories import create_campaign, create_lead
from tests.sandbox.test_agent_backends import Backend
from tests.waiting import wait_until_async

WAIT_S = 20.0
DONE = {"openai": "response.done", "assemblyai": "reply.done"}
"""The server event that ends an agent response, per protocol."""
TOOL_CALLED = {"openai": "response.function_call_arguments.done", "assemblyai": "tool.call"}
"""The server event that carries a tool call, per protocol."""


def dial(runtime, number: int):
    """Dial lead ``number`` (its own campaign, phone and last name ``Tester<NN>``); its call context."""
    with transaction(runtime.sessions) as s:
        campaign = create_campaign(s)
        lead = create_lead(s, campaign, phone=f"+131255501{number:02d}", last_name=f"Tester{number:02d}")
        lead_id = lead.id
    with transaction(runtime.sessions) as s:
        claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=timedelta(minutes=2))
    dial_lead(runtime, lead_id=lead_id)
    with transaction(runtime.sessions) as s:
        attempt = s.scalars(select(CallAttempt).where(CallAttempt.lead_id == lead_id)).one()
        now = runtime.clock.now()
        token = issue_stream_token(
            s, attempt_id=attempt.id, call_sid=attempt.call_sid, now=now, ttl_seconds=60
        )
        assert redeem_stream_token(
            s, attempt_id=attempt.id, token=token, call_sid=attempt.call_sid, stream_sid=SID, now=now
        )
        return load_call_context(s, attempt_id=attempt.id)


@dataclass
class BridgedCall:
    """One call bridged by a real :class:`CallSession` to the sandbox agent."""

    context: object
    port: PlayingPort = field(default_factory=PlayingPort)
    task: asyncio.Task | None = None

    def start(self, backend: Backend, runtime, params: BridgeParams | None = None) -> None:
        amd = AmdBoard()
        agent = backend.voice_agent()
        session = CallSession(
            port=self.port,
            agent=agent,
            runtime=runtime,
            context=self.context,
            stream_sid=SID,
            params=params or BridgeParams(amd_wait_max_ms=2000),
            amd=amd,
            voice=agent.voice,
        )
        amd.publish(self.context.call_sid, "human")
        self.task = asyncio.create_task(session.run())

    async def ended(self) -> None:
        """Wait (within :data:`WAIT_S`) for the session to end."""
        assert self.task is not None
        await asyncio.wait_for(self.task, WAIT_S)

    def flood(self, frames: int, frame_bytes: int = 16000) -> None:
        """Queue ``frames`` caller frames of ``frame_bytes`` bytes of line noise each (2 s at 16000).

        Noise, not silence: the AssemblyAI client compresses frames (permessage-deflate), and
        silence shrinks so well that no buffer ever fills. The noise stays in 0x80-0xFE, bytes the
        sandbox's speech code reads as no speech at all.
        """
        payload = base64.b64encode(bytes(0x80 + byte % 0x7F for byte in os.urandom(frame_bytes))).decode()
        for number in range(frames):
            media = MediaPayload(chunk=number, timestamp=number * 1000, payload=payload)
            self.port.inbound.put_nowait(
                Media(event="media", sequenceNumber=number, streamSid=SID, media=media)
            )


def attempt(runtime, attempt_id: int) -> CallAttempt:
    with runtime.sessions() as s:
        row = s.get(CallAttempt, attempt_id)
        s.expunge(row)
        return row


async def until_attempt(runtime, attempt_id: int, predicate, what: str) -> None:
    """Wait (polling the database, within :data:`WAIT_S`) until ``predicate(attempt)`` holds."""
    await wait_until_async(lambda: predicate(attempt(runtime, attempt_id)), timeout=WAIT_S, what=what)


def turns(runtime, attempt_id: int) -> list[tuple[Speaker, str]]:
    with runtime.sessions() as s:
        rows = s.scalars(
            select(TranscriptTurn).where(TranscriptTurn.attempt_id == attempt_id).order_by(TranscriptTurn.id)
        )
        return [(row.speaker, row.text) for row in rows]


def dispositions(runtime, attempt_id: int) -> list[tuple[str, str]]:
    with runtime.sessions() as s:
        rows = s.execute(
            select(Disposition.name, Disposition.notes)
            .where(Disposition.attempt_id == attempt_id)
            .order_by(Disposition.id)
        )
        return [(str(name), notes or "") for name, notes in rows]


def dnc_numbers(runtime) -> list[str]:
    with runtime.sessions() as s:
        return list(s.scalars(select(DncEntry.phone_e164)))


def audit_count(runtime, attempt_id: int, kind: str) -> int:
    with runtime.sessions() as s:
        return s.scalar(
            select(func.count()).where(AuditEvent.attempt_id == attempt_id, AuditEvent.kind == kind)
        )
