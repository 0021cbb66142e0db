"""Meetings the agent books for reps (the built-in CRM's calendar), and how reps see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm.transcripts import booking_excerpt
from dialer.audit import record_event
from dialer.errors import ToolArgumentError
from dialer.models import Campaign, Lead, Meeting, MeetingAssignment, MeetingStatus, User
from dialer.outbox import publish_meeting_booked
from dialer.timeparse import parse_time_phrase

MIN_LEAD_TIME = timedelta(minutes=15)
"""A meeting must start at least this long after it is booked."""


def normalize_email(raw: str) -> str:
    """A syntactically valid, normalised email address (no DNS lookup).

    Raises:
        ToolArgumentError: the address is not valid; the message says why.
    """
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ToolArgumentError(f"the email address {raw!r} is not valid: {exc}") from None


def book_meeting(
    session: Session,
    *,
    campaign_id: int,
    lead_id: int,
    attempt_id: int,
    preferred_time: str,
    email: str,
    lead_timezone: str,
    now: datetime,
    tool_call_id: str | None = None,
    notes: str = "",
    duration_minutes: int = 30,
) -> tuple[Meeting, bool]:
    """Book a meeting for the call's own lead at the time the prospect named.

    Args:
        preferred_time: the time as said ("Tuesday at 2pm"), read in ``lead_timezone``.
        email: where the invite goes; validated and normalised.
        tool_call_id: the agent's call id: a repeated tool call books nothing new.

    Returns:
        The meeting and whether it was created now (False when this booking already existed).

    Raises:
        ToolArgumentError: invalid email, unreadable time, or a time not at least
            :data:`MIN_LEAD_TIME` in the future.
    """
    address = normalize_email(email)
    starts_at = parse_time_phrase(preferred_time, zone=lead_timezone, now=now)
    if starts_at < now + MIN_LEAD_TIME:
        raise ToolArgumentError(f"{preferred_time!r} is not in the future; offer a later time")
    same = [Meeting.starts_at == starts_at]
    if tool_call_id:
        same.append(Meeting.tool_call_id == tool_call_id)
    existing = session.scalar(
        select(Meeting).where(Meeting.lead_id == lead_id, Meeting.status == MeetingStatus.BOOKED, or_(*same))
    )
    if existing is not None:
        return existing, False
    meeting = Meeting(
        campaign_id=campaign_id,
        lead_id=lead_id,
        attempt_id=attempt_id,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        lead_timezone=lead_timezone,
        email=address,
        requested_text=preferred_time[:200],
        notes=notes,
        tool_call_id=tool_call_id,
        booked_at=now,
    )
    session.add(meeting)
    session.flush()
    record_event(
        session,
        kind="meeting.booked",
        occurred_at=now,
        actor="agent",
        campaign_id=campaign_id,
        lead_id=lead_id,
        attempt_id=attempt_id,
        payload={
            "meeting_id": meeting.id,
            "starts_at": starts_at,
            "lead_timezone": lead_timezone,
            "email": address,
            "requested_text": preferred_time,
        },
    )
    publish_meeting_booked(session, meeting=meeting, now=now)  # CRM sync and webhooks, after commit
    return meeting, True


@dataclass(frozen=True)
class MeetingForRep:
    """A booked meeting as a sales rep needs it.

    Attributes:
        starts_at: start instant, UTC; ``lead_timezone`` says where the prospect is.
        excerpt: the transcript turns around the booking (:func:`crm.transcripts.booking_excerpt`),
            ``"agent: ..."`` / ``"caller: ..."``.
        rep: the login of the rep it is assigned to (:mod:`crm.assignments`), None while unassigned.
        attempt_id: the call that booked it.
        booked_at: when the agent booked it (UTC), None for meetings older than migration 0016.
    """

    meeting_id: int
    campaign: str
    lead_name: str
    company: str | None
    title: str | None
    phone_e164: str
    email: str
    starts_at: datetime
    duration_minutes: int
    lead_timezone: str
    requested_text: str
    notes: str
    excerpt: tuple[str, ...]
    rep: str | None = None
    attempt_id: int | None = None
    booked_at: datetime | None = None


def meetings_for_reps(
    session: Session,
    *,
    since: datetime,
    campaign_id: int | None = None,
    excerpt_turns: int = 6,
    rep_user_id: int | None = None,
    meeting_id: int | None = None,
) -> list[MeetingForRep]:
    """Booked meetings starting at or after ``since`` (UTC), soonest first.

    Args:
        excerpt_turns: how many transcript turns each excerpt has at most.
        rep_user_id: only the meetings assigned to this rep (:mod:`crm.assignments`).
        meeting_id: only this meeting.
    """
    statement = (
        select(Meeting, Lead, Campaign, User.username)
        .join(Lead, Lead.id == Meeting.lead_id)
        .join(Campaign, Campaign.id == Meeting.campaign_id)
        .outerjoin(MeetingAssignment, MeetingAssignment.meeting_id == Meeting.id)
        .outerjoin(User, User.id == MeetingAssignment.user_id)
        .where(Meeting.status == MeetingStatus.BOOKED, Meeting.starts_at >= since)
        .order_by(Meeting.starts_at)
    )
    if campaign_id is not None:
        statement = statement.where(Meeting.campaign_id == campaign_id)
    if rep_user_id is not None:
        statement = statement.where(MeetingAssignment.user_id == rep_user_id)
    if meeting_id is not None:
        statement = statement.where(Meeting.id == meeting_id)
    result = []
    for meeting, lead, campaign, rep in session.execute(statement):
        excerpt = booking_excerpt(
            session, attempt_id=meeting.attempt_id, booked_at=meeting.booked_at, turns=excerpt_turns
        )
        result.append(
            MeetingForRep(
                meeting_id=meeting.id,
                campaign=campaign.name,
                lead_name=" ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.phone_e164,
                company=lead.company,
                title=lead.title,
                phone_e164=lead.phone_e164,
                email=meeting.email,
                starts_at=meeting.starts_at,
                duration_minutes=meeting.duration_minutes,
                lead_timezone=meeting.lead_timezone,
                requested_text=meeting.requested_text,
                notes=meeting.notes,
                excerpt=excerpt,
                rep=rep,
                attempt_id=meeting.attempt_id,
                booked_at=meeting.booked_at,
            )
        )
    return result
