"""Outcomes of calls as reps and compliance see them: dispositions, meetings, callbacks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base, StrEnumColumn
from dialer.models._columns import Timestamped, utcnow
from dialer.models.enums import CallbackStatus, DispositionName, DispositionSource, MeetingStatus


class Disposition(Base):
    """The recorded outcome of an attempt (or of a skipped one: ``skipped_compliance``).

    Attributes:
        attempt_id: the attempt; None for ``skipped_compliance`` (no call was placed).
        gate_decision_id: the decision behind a ``skipped_compliance``.
        source: ``agent`` (the voice agent's tool) or ``system`` (carrier status, AMD, gate).
        recorded_at: when it was recorded (UTC, product clock).
    """

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("call_attempts.id", ondelete="CASCADE"))
    gate_decision_id: Mapped[int | None] = mapped_column(ForeignKey("gate_decisions.id"))
    name: Mapped[DispositionName] = mapped_column(StrEnumColumn(DispositionName, 32))
    source: Mapped[DispositionSource] = mapped_column(StrEnumColumn(DispositionSource, 10))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Meeting(Timestamped, Base):
    """A meeting the agent booked for a rep.

    Attributes:
        starts_at: start instant, UTC.
        lead_timezone: IANA zone the requested time was interpreted in.
        requested_text: the time as the prospect said it (e.g. "Tuesday at 2pm").
        tool_call_id: the agent's call id; a repeated call with the same id books nothing new.
        booked_at: when the agent booked it (UTC, the product's clock, as the call's transcript
            turns are), so the turns around the booking can be found (migration 0014).
    """

    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("lead_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("call_attempts.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(default=30)
    lead_timezone: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))
    requested_text: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    tool_call_id: Mapped[str | None] = mapped_column(String(100))
    booked_at: Mapped[datetime | None]
    status: Mapped[MeetingStatus] = mapped_column(
        StrEnumColumn(MeetingStatus, 20), default=MeetingStatus.BOOKED
    )


class Callback(Timestamped, Base):
    """A callback the prospect asked for; the scheduler makes the lead dialable at ``due_at``.

    Attributes:
        due_at: UTC instant to call back (inside the lead's calling window when requested).
        requested_text: the time as the prospect said it.
        lead_timezone: IANA zone the requested time was interpreted in.
        canceled_reason: why it was canceled (e.g. a DNC request).
    """

    __tablename__ = "callbacks"
    __table_args__ = (
        Index(
            "ix_callbacks_hopper_due",
            "campaign_id",
            "due_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("call_attempts.id", ondelete="CASCADE"))
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    due_at: Mapped[datetime]
    requested_text: Mapped[str] = mapped_column(String(200))
    lead_timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[CallbackStatus] = mapped_column(
        StrEnumColumn(CallbackStatus, 20), default=CallbackStatus.PENDING
    )
    canceled_reason: Mapped[str | None] = mapped_column(Text)
