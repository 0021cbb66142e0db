"""The transcript of a call as the bridge writes it: turns, and what the caller heard of each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.errors import NotFoundError
from dialer.models import Speaker, TranscriptTurn


def record_transcript(
    session: Session,
    *,
    attempt_id: int,
    speaker: Speaker,
    text: str,
    now: datetime,
    interrupted: bool = False,
    heard_text: str | None = None,
) -> int:
    """Append one transcript turn; returns its id (for :func:`record_heard_text`).

    ``heard_text``: for an agent turn, what the caller heard of ``text`` (see
    :class:`dialer.models.TranscriptTurn`).
    """
    turn = TranscriptTurn(
        attempt_id=attempt_id,
        speaker=speaker,
        text=text,
        interrupted=interrupted,
        heard_text=heard_text,
        occurred_at=now,
    )
    session.add(turn)
    session.flush()
    return turn.id


def record_heard_text(session: Session, *, attempt_id: int, turn_id: int, heard_text: str) -> None:
    """An agent turn already recorded was cut short: keep what the caller heard of it.

    Raises:
        NotFoundError: no turn ``turn_id`` on attempt ``attempt_id``.
    """
    turn = session.get(TranscriptTurn, turn_id)
    if turn is None or turn.attempt_id != attempt_id:
        raise NotFoundError(f"transcript turn {turn_id} of attempt {attempt_id} does not exist")
    turn.interrupted = True
    turn.heard_text = heard_text


def transcript_of(session: Session, *, attempt_id: int) -> list[TranscriptTurn]:
    """Every turn of one call, in the order spoken (``id``: the order the bridge wrote them)."""
    return list(
        session.scalars(
            select(TranscriptTurn).where(TranscriptTurn.attempt_id == attempt_id).order_by(TranscriptTurn.id)
        )
    )
