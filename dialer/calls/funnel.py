"""A campaign's funnel as sales ops read it, and its dispositions over time.

The funnel's steps (each a subset of the one before):

- ``dials``: calls placed (attempts that reached the carrier: they have a CallSid), as
  :func:`dialer.calls.costs.campaign_costs` counts them;
- ``human_answers``: answered calls that AMD did not call a machine or fax (no verdict counts as a
  human, as the gate's abandonment rate counts it: 47 CFR 64.1200(a)(7));
- ``conversations``: human answers that lasted over :data:`CONVERSATION_SECONDS` (Twilio's
  ``CallDuration``, known once the call has ended);
- ``meetings``: meetings booked.

The rates are step by step: connection = human answers / dials, conversation = conversations /
human answers, book = meetings / conversations; None while the step below is zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dialer.calls.attempts import MACHINE_VERDICTS
from dialer.models import CallAttempt, Disposition, Meeting

CONVERSATION_SECONDS = 30
"""An answered call longer than this is a conversation (the field's usual threshold)."""

BUCKET_LADDER_SECONDS: tuple[int, ...] = (60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)
"""The bucket sizes a dispositions chart may use: the smallest that fits the span is chosen."""


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Funnel:
    """A campaign's funnel counts (see the module docstring for each step)."""

    dials: int
    human_answers: int
    conversations: int
    meetings: int

    @property
    def connection_rate(self) -> float | None:
        """Human answers per dial (0..1), None before the first dial."""
        return _rate(self.human_answers, self.dials)

    @property
    def conversation_rate(self) -> float | None:
        """Conversations per human answer (0..1), None before the first answer."""
        return _rate(self.conversations, self.human_answers)

    @property
    def book_rate(self) -> float | None:
        """Meetings booked per conversation, None before the first conversation."""
        return _rate(self.meetings, self.conversations)


def meetings_booked(session: Session, *, campaign_id: int) -> int:
    """How many meetings the campaign's calls booked."""
    count = select(func.count()).select_from(Meeting).where(Meeting.campaign_id == campaign_id)
    return session.scalar(count) or 0


def campaign_funnel(session: Session, *, campaign_id: int) -> Funnel:
    """The campaign's funnel, counted in one query over its attempts (and one over its meetings)."""
    human = CallAttempt.answered_at.is_not(None) & or_(
        CallAttempt.answered_by.is_(None), CallAttempt.answered_by.not_in(sorted(MACHINE_VERDICTS))
    )
    dials, humans, conversations = session.execute(
        select(
            func.count(),
            func.count().filter(human),
            func.count().filter(human & (CallAttempt.duration_seconds > CONVERSATION_SECONDS)),
        ).where(CallAttempt.campaign_id == campaign_id, CallAttempt.call_sid.is_not(None))
    ).one()
    return Funnel(dials, humans, conversations, meetings_booked(session, campaign_id=campaign_id))


@dataclass(frozen=True)
class DispositionSeries:
    """Dispositions counted per time bucket.

    Attributes:
        bucket_seconds: each bucket's length.
        starts: each bucket's start (UTC), oldest first, without gaps.
        counts: ``{disposition name: [count per bucket]}``, names sorted; each list as long as
            ``starts``.
    """

    bucket_seconds: int
    starts: list[datetime]
    counts: dict[str, list[int]]


def _utc(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def bucket_dispositions(rows: Iterable[tuple[datetime, str]], *, max_buckets: int = 48) -> DispositionSeries:
    """Count ``(recorded_at, name)`` rows per bucket (pure).

    The bucket is the smallest of :data:`BUCKET_LADDER_SECONDS` that covers the rows' span in at
    most ``max_buckets`` buckets (the largest when none does); buckets start on multiples of their
    size since the epoch, so the same instant always falls in the same bucket.
    """
    points = [(_utc(at), str(name)) for at, name in rows]
    if not points:
        return DispositionSeries(BUCKET_LADDER_SECONDS[0], [], {})
    first = min(at for at, _ in points).timestamp()
    last = max(at for at, _ in points).timestamp()
    size = next(
        (s for s in BUCKET_LADDER_SECONDS if last // s - first // s < max_buckets), BUCKET_LADDER_SECONDS[-1]
    )
    origin = int(first // size)
    buckets = int(last // size) - origin + 1
    counts: dict[str, list[int]] = {}
    for at, name in points:
        counts.setdefault(name, [0] * buckets)[int(at.timestamp() // size) - origin] += 1
    starts = [datetime.fromtimestamp((origin + i) * size, UTC) for i in range(buckets)]
    return DispositionSeries(size, starts, dict(sorted(counts.items())))


def disposition_series(session: Session, *, campaign_id: int, max_buckets: int = 48) -> DispositionSeries:
    """The campaign's dispositions over time (:func:`bucket_dispositions` of its rows)."""
    rows = session.execute(
        select(Disposition.recorded_at, Disposition.name).where(Disposition.campaign_id == campaign_id)
    ).tuples()
    return bucket_dispositions(rows, max_buckets=max_buckets)


__all__ = [
    "CONVERSATION_SECONDS",
    "DispositionSeries",
    "Funnel",
    "bucket_dispositions",
    "campaign_funnel",
    "disposition_series",
    "meetings_booked",
]
