"""A campaign's calls in progress with what has been said on them so far (the bridge's turns)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.models import ACTIVE_ATTEMPT_STATUSES, AttemptStatus, CallAttempt, Lead, Speaker, TranscriptTurn

LIVE_CALLS_SHOWN = 50
"""Most live calls one listing returns (the most recently requested first)."""


@dataclass(frozen=True)
class LiveTurn:
    """One transcript turn as the caller experienced it.

    Attributes:
        said: the agent's words the caller heard (all of ``text`` unless it was cut off), or the
            caller's words.
        cut_off: an agent turn cut short by a barge-in, an opt-out or the call's end.
    """

    speaker: Speaker
    said: str
    cut_off: bool
    occurred_at: datetime


@dataclass(frozen=True)
class LiveCall:
    """An attempt not yet final, its lead and its transcript so far (turns in order)."""

    attempt_id: int
    lead_id: int
    lead_name: str
    company: str | None
    to_e164: str
    status: AttemptStatus
    requested_at: datetime | None
    answered_at: datetime | None
    turns: tuple[LiveTurn, ...]


def _turn(turn: TranscriptTurn) -> LiveTurn:
    heard = turn.heard_text if turn.interrupted and turn.heard_text is not None else turn.text
    return LiveTurn(turn.speaker, heard, turn.interrupted, turn.occurred_at)


def live_calls(session: Session, *, campaign_id: int, limit: int = LIVE_CALLS_SHOWN) -> list[LiveCall]:
    """The campaign's attempts not yet final (requesting, queued, ringing, in progress), newest first.

    Two queries: the attempts with their leads (served by ``ix_call_attempts_campaign_status``),
    then every turn of those attempts.
    """
    rows = session.execute(
        select(CallAttempt, Lead)
        .join(Lead, Lead.id == CallAttempt.lead_id)
        .where(
            CallAttempt.campaign_id == campaign_id,
            CallAttempt.status.in_(sorted(ACTIVE_ATTEMPT_STATUSES)),
        )
        .order_by(CallAttempt.id.desc())
        .limit(limit)
    ).tuples()
    calls = list(rows)
    turns: dict[int, list[LiveTurn]] = {}
    if calls:
        ids = [attempt.id for attempt, _ in calls]
        for turn in session.scalars(
            select(TranscriptTurn).where(TranscriptTurn.attempt_id.in_(ids)).order_by(TranscriptTurn.id)
        ):
            turns.setdefault(turn.attempt_id, []).append(_turn(turn))
    return [
        LiveCall(
            attempt_id=attempt.id,
            lead_id=lead.id,
            lead_name=" ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.phone_e164,
            company=lead.company,
            to_e164=attempt.to_e164,
            status=attempt.status,
            requested_at=attempt.requested_at,
            answered_at=attempt.answered_at,
            turns=tuple(turns.get(attempt.id, ())),
        )
        for attempt, lead in calls
    ]
