"""Call latency on the attempt: what the bridge measured, and a campaign's summary of it.

The bridge measures (:mod:`bridge.latency` defines each instant): answer -> the agent's first
audio, the callee's completed greeting -> first audio (the TSR 2-second rule), and each answered
caller turn's end -> the agent's first audio of its answer, all in ms. A live answer that heard no
agent audio within 2 s of its greeting is ``tsr_abandoned`` (47 CFR 64.1200(a)(7)(i); 16 CFR
310.4(b)(1)(iv)); the gate's 30-day abandonment rate counts it
(:func:`dialer.dialing.gate.abandonment_rate`). Writes are idempotent: the first value stored wins,
so a replayed or late write changes nothing, and an abandonment once recorded stays.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.audit import record_attempt_event
from dialer.calls.attempts import MACHINE_VERDICTS
from dialer.calls.outcomes import attempt_dispositions
from dialer.models import CallAttempt, DispositionName

TSR_RULE = "47 CFR 64.1200(a)(7)(i); 16 CFR 310.4(b)(1)(iv)"
"""Where the 2-second rule comes from (COMPLIANCE_RULES 1.1 and 1.2, "Abandoned calls")."""


def _mark_abandoned(session: Session, attempt: CallAttempt, *, now: datetime, waited_ms: int | None) -> None:
    attempt.tsr_abandoned = True
    record_attempt_event(
        session,
        attempt=attempt,
        kind="call.abandoned",
        occurred_at=now,
        payload={"rule": TSR_RULE, "greeting_to_first_audio_ms": waited_ms},
    )


def record_first_audio(
    session: Session,
    *,
    attempt_id: int,
    answer_ms: int,
    greeting_ms: int,
    abandoned: bool,
    now: datetime,
) -> None:
    """Store the agent's first audio: answer -> first audio and greeting -> first audio (ms).

    ``abandoned`` (the 2-second rule broken) sets ``tsr_abandoned`` and writes a ``call.abandoned``
    audit event unless the deadline already did; otherwise ``tsr_abandoned`` becomes False. A call
    AMD called a machine is no live answer: the rule does not apply (as in :func:`record_abandoned`).
    """
    attempt = session.get_one(CallAttempt, attempt_id, with_for_update=True)
    if attempt.answer_to_first_audio_ms is not None:
        return
    attempt.answer_to_first_audio_ms = answer_ms
    attempt.greeting_to_first_audio_ms = greeting_ms
    if abandoned and attempt.answered_by in MACHINE_VERDICTS:
        if attempt.tsr_abandoned is None:
            attempt.tsr_abandoned = False
    elif abandoned and attempt.tsr_abandoned is not True:
        _mark_abandoned(session, attempt, now=now, waited_ms=greeting_ms)
    elif attempt.tsr_abandoned is None:
        attempt.tsr_abandoned = False


def record_abandoned(session: Session, *, attempt_id: int, now: datetime) -> None:
    """The 2-second deadline passed with no agent audio: the call is abandoned (once).

    A call AMD already called a machine is no live answer: the rule does not apply (False).
    """
    attempt = session.get_one(CallAttempt, attempt_id, with_for_update=True)
    if attempt.tsr_abandoned is None:
        if attempt.answered_by in MACHINE_VERDICTS:
            attempt.tsr_abandoned = False
        else:
            _mark_abandoned(session, attempt, now=now, waited_ms=None)


def record_turn_latency(session: Session, *, attempt_id: int, latency_ms: int) -> None:
    """Append one answered caller turn's latency (ms) to the attempt's, in order."""
    attempt = session.get_one(CallAttempt, attempt_id, with_for_update=True)
    attempt.turn_latencies_ms = [*(attempt.turn_latencies_ms or []), int(latency_ms)]


def record_call_end(session: Session, *, attempt_id: int, abandoned: bool, now: datetime) -> None:
    """At the bridge's end: the 2-second rule's verdict, if neither the deadline nor the audio gave one.

    A live answer the dialer itself hung up on without a word (``agent_error``: no agent session,
    no AMD verdict) is abandoned however soon that was: it never reached a representative.
    """
    attempt = session.get_one(CallAttempt, attempt_id, with_for_update=True)
    unheard = (
        attempt.answer_to_first_audio_ms is None
        and DispositionName.AGENT_ERROR in attempt_dispositions(session, attempt_id=attempt_id)
    )
    if abandoned or unheard:
        record_abandoned(session, attempt_id=attempt_id, now=now)
    elif attempt.tsr_abandoned is None:
        attempt.tsr_abandoned = False


@dataclass(frozen=True)
class LatencyStats:
    """Median, 95th percentile and maximum of some latencies (ms); all None when there are none."""

    count: int
    median_ms: int | None
    p95_ms: int | None
    max_ms: int | None

    def describe(self) -> str:
        """``"median 640 ms, p95 910 ms, max 1210 ms (17)"``, or ``"(none measured)"``."""
        if not self.count:
            return "(none measured)"
        return f"median {self.median_ms} ms, p95 {self.p95_ms} ms, max {self.max_ms} ms ({self.count})"

    def to_dict(self) -> dict[str, int | None]:
        """``{"count", "median_ms", "p95_ms", "max_ms"}``."""
        return dataclasses.asdict(self)


def latency_stats(values: Sequence[int]) -> LatencyStats:
    """Summarize latencies in ms (pure); the p95 is the nearest-rank 95th percentile."""
    if not values:
        return LatencyStats(0, None, None, None)
    ordered = sorted(values)
    rank = max(1, -(-95 * len(ordered) // 100))  # ceil(0.95 n)
    return LatencyStats(len(ordered), round(statistics.median(ordered)), ordered[rank - 1], ordered[-1])


@dataclass(frozen=True)
class CampaignLatency:
    """A campaign's measured latencies and TSR abandonments (every attempt, any age).

    Attributes:
        first_audio: answer -> first agent audio, over calls the agent spoke on.
        greeting: the callee's greeting -> first agent audio (the 2-second rule's measure).
        turns: every answered caller turn's latency.
        tsr_abandoned: calls abandoned under the 2-second rule.
    """

    first_audio: LatencyStats
    greeting: LatencyStats
    turns: LatencyStats
    tsr_abandoned: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: ``first_audio``, ``greeting``, ``turns`` (each a stats dict), ``tsr_abandoned``."""
        return {
            "first_audio": self.first_audio.to_dict(),
            "greeting": self.greeting.to_dict(),
            "turns": self.turns.to_dict(),
            "tsr_abandoned": self.tsr_abandoned,
        }


def campaign_latency(session: Session, *, campaign_id: int) -> CampaignLatency:
    """Read and summarize a campaign's latencies (one query over its measured attempts)."""
    rows = session.execute(
        select(
            CallAttempt.answer_to_first_audio_ms,
            CallAttempt.greeting_to_first_audio_ms,
            CallAttempt.turn_latencies_ms,
            CallAttempt.tsr_abandoned,
        ).where(CallAttempt.campaign_id == campaign_id, CallAttempt.tsr_abandoned.is_not(None))
    ).all()
    return CampaignLatency(
        first_audio=latency_stats([r[0] for r in rows if r[0] is not None]),
        greeting=latency_stats([r[1] for r in rows if r[1] is not None]),
        turns=latency_stats([int(ms) for r in rows for ms in (r[2] or [])]),
        tsr_abandoned=sum(1 for r in rows if r[3]),
    )
