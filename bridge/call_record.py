"""What the bridge writes about a call while it runs: transcript turns, the disclosure, agent usage.

Each write is its own short transaction in a worker thread (``Runtime.run_in_transaction``), so
the event loop that carries every call's audio never waits on the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.orm import Session

from bridge.metrics import count_cost
from dialer.audit import record_attempt_event
from dialer.calls import attempts as call_records
from dialer.calls import transcripts
from dialer.calls.costs import usage_cost
from dialer.models import CallAttempt, Speaker
from dialer.runtime import Runtime

_T = TypeVar("_T")


class CallRecorder:
    """The attempt's record, written as the call goes.

    Args:
        runtime: database sessions and clock.
        attempt_id: the call attempt.
    """

    def __init__(self, runtime: Runtime, attempt_id: int) -> None:
        self._runtime = runtime
        self._attempt_id = attempt_id
        self._usage: dict[str, int] = {}

    async def _write(self, work: Callable[[Session, datetime], _T]) -> _T:
        return await asyncio.to_thread(self._runtime.run_in_transaction, work)

    async def turn(
        self, speaker: Speaker, text: str, *, interrupted: bool = False, heard: str | None = None
    ) -> int:
        """One transcript turn; returns its id.

        Args:
            speaker: who spoke.
            text: the whole transcript of the turn.
            interrupted: the agent's words were cut short (``heard`` is the part that played).
            heard: for an agent turn, what the caller heard of it.
        """
        attempt_id = self._attempt_id
        return await self._write(
            lambda s, now: transcripts.record_transcript(
                s,
                attempt_id=attempt_id,
                speaker=speaker,
                text=text,
                now=now,
                interrupted=interrupted,
                heard_text=heard,
            )
        )

    async def heard(self, turn_id: int, heard: str) -> None:
        """An agent turn recorded earlier was cut short; ``heard`` is what played of it."""
        attempt_id = self._attempt_id
        await self._write(
            lambda s, _: transcripts.record_heard_text(
                s, attempt_id=attempt_id, turn_id=turn_id, heard_text=heard
            )
        )

    async def disclosure_played(self, text: str) -> None:
        """The opening disclosure finished playing (its last mark echoed), with the words spoken."""
        attempt_id = self._attempt_id
        await self._write(
            lambda s, now: call_records.record_disclosure_played(s, attempt_id=attempt_id, text=text, now=now)
        )

    async def agent_reconnected(self, how: str) -> None:
        """The voice agent's session was replaced after a fault (issue 9, item 6): counted, audited.

        Args:
            how: how and why, e.g. ``fresh after connection lost``; the audit event
                ``call.agent_reconnected`` carries it.
        """
        attempt_id = self._attempt_id

        def record(session: Session, now: datetime) -> None:
            attempt = session.get_one(CallAttempt, attempt_id)
            attempt.agent_reconnects = (attempt.agent_reconnects or 0) + 1
            payload = {"how": how}
            record_attempt_event(
                session, attempt=attempt, kind="call.agent_reconnected", occurred_at=now, payload=payload
            )

        await self._write(record)

    def add_usage(self, usage: dict[str, int]) -> None:
        """Count one response's token counts (written by :meth:`flush_usage`)."""
        for key, value in usage.items():
            self._usage[key] = self._usage.get(key, 0) + value

    async def flush_usage(self, billed: dict[str, int] | None = None) -> None:
        """Add the voice agent's usage to the attempt's totals (once, at the end).

        Args:
            billed: the session's own billed usage (:meth:`AgentConnection.billed_usage`), added
                to the responses' token counts.
        """
        self.add_usage(billed or {})
        usage, self._usage = self._usage, {}
        if usage:
            attempt_id = self._attempt_id
            settings = self._runtime.settings

            def record(session: Session, _: datetime) -> Decimal:
                call_records.record_agent_usage(session, attempt_id=attempt_id, usage=usage)
                return usage_cost(session, attempt_id=attempt_id, usage=usage, settings=settings)

            count_cost({"agent": await self._write(record)})
