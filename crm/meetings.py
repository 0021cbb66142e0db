"""Meetings the agent books for reps (the built-in CRM's calendar), and how reps see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import CTE, Subquery, and_, case, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from crm.assignments import assign_meeting
from crm.transcripts import AFTER_BOOKING
from dialer.assignment_rules import rep_by_rule
from dialer.audit import record_event
from dialer.errors import ToolArgumentError
from dialer.models import Campaign, Lead, Meeting, MeetingAssignment, MeetingStatus, TranscriptTurn, User
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

    A new meeting goes to a rep by the campaign's assignment rule (:mod:`dialer.assignment_rules`).

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
    ruled = rep_by_rule(session, campaign_id=campaign_id)  # before the event, which names the rep
    if ruled is not None:
        rep, kind = ruled
        assign_meeting(session, meeting_id=meeting.id, username=rep.username, now=now, actor=f"rule:{kind}")
    publish_meeting_booked(session, meeting=meeting, now=now)  # CRM sync and webhooks, after commit
    return meeting, True


@dataclass(frozen=True)
class MeetingForRep:
    """A booked meeting as a sales rep needs it.

    Attributes:
        starts_at: start instant, UTC; ``lead_timezone`` says where the prospect is.
        excerpt: the transcript turns around the booking (:func:`_excerpt_turns`),
            ``"agent: ..."`` / ``"caller: ..."``.
        rep: the login of the rep it is assigned to (:mod:`crm.assignments`), None while unassigned.
        attempt_id: the call that booked it.
        booked_at: when the agent booked it (UTC), None for meetings older than migration 0014.
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
    after_id: int | None = None,
    limit: int | None = None,
    meeting_id: int | None = None,
) -> list[MeetingForRep]:
    """Booked meetings starting at or after ``since`` (UTC), soonest first (ties by id), in one query.

    The page of meetings is a CTE; each one's excerpt (the transcript turns around its booking,
    :func:`_excerpt_turns`) is joined to it, over the page's attempts only, so the cost follows the
    page, not the meetings or the turns stored.

    Args:
        excerpt_turns: how many transcript turns each excerpt has at most.
        rep_user_id: only the meetings assigned to this rep (:mod:`crm.assignments`).
        after_id: the last meeting of the previous page: continue after it in the same order
            (an id that is not a booked meeting starts at the beginning).
        limit: meetings at most (None: all).
        meeting_id: only this meeting.
    """
    page = (
        select(Meeting.id, Meeting.attempt_id, Meeting.booked_at, Meeting.starts_at)
        .where(Meeting.status == MeetingStatus.BOOKED, Meeting.starts_at >= since)
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(limit)
    )
    if campaign_id is not None:
        page = page.where(Meeting.campaign_id == campaign_id)
    if meeting_id is not None:
        page = page.where(Meeting.id == meeting_id)
    if rep_user_id is not None:
        mine = select(MeetingAssignment.meeting_id).where(MeetingAssignment.user_id == rep_user_id)
        page = page.where(Meeting.id.in_(mine))
    if after_id is not None:
        last = select(Meeting.starts_at).where(Meeting.id == after_id).scalar_subquery()
        page = page.where(tuple_(Meeting.starts_at, Meeting.id) > tuple_(last, literal(after_id)))
    chosen = page.cte("page")
    excerpt = _excerpt_turns(chosen, excerpt_turns)
    rows = session.execute(
        select(Meeting, Lead, Campaign, User.username, excerpt.c.speaker, excerpt.c.text)
        .join(chosen, chosen.c.id == Meeting.id)
        .join(Lead, Lead.id == Meeting.lead_id)
        .join(Campaign, Campaign.id == Meeting.campaign_id)
        .outerjoin(MeetingAssignment, MeetingAssignment.meeting_id == Meeting.id)
        .outerjoin(User, User.id == MeetingAssignment.user_id)
        .outerjoin(excerpt, excerpt.c.meeting_id == Meeting.id)
        .order_by(Meeting.starts_at, Meeting.id, excerpt.c.turn_id)
    )
    found: dict[int, tuple[Meeting, Lead, Campaign, str | None, list[str]]] = {}
    for meeting, lead, campaign, rep, speaker, text in rows:
        entry = found.setdefault(meeting.id, (meeting, lead, campaign, rep, []))
        if speaker is not None:
            entry[4].append(f"{speaker}: {text}")
    return [_for_rep(*entry) for entry in found.values()]


def _excerpt_turns(chosen: CTE, turns: int) -> Subquery:
    """Each chosen meeting's turns around its booking: ``(meeting_id, turn_id, speaker, text)``.

    Up to ``turns`` turns: :data:`crm.transcripts.AFTER_BOOKING` after ``booked_at`` (the
    ``book_meeting`` tool call, on the turns' clock) and the rest just before it; a meeting without
    ``booked_at`` (booked before migration 0014) gets its call's last ``turns`` turns. Turns are
    ranked per meeting and side (before / after) by a window function: nearest the booking first.
    """
    after = and_(chosen.c.booked_at.is_not(None), TranscriptTurn.occurred_at > chosen.c.booked_at)
    side = case((after, 1), else_=0)
    nearest_first = case((after, TranscriptTurn.id), else_=-TranscriptTurn.id)
    ranked = (
        select(
            chosen.c.id.label("meeting_id"),
            TranscriptTurn.id.label("turn_id"),
            TranscriptTurn.speaker,
            TranscriptTurn.text,
            side.label("after"),
            func.row_number().over(partition_by=(chosen.c.id, side), order_by=nearest_first).label("rank"),
            func.sum(side).over(partition_by=chosen.c.id).label("after_total"),
        )
        .join(chosen, chosen.c.attempt_id == TranscriptTurn.attempt_id)
        .subquery("ranked")
    )
    cap = min(AFTER_BOOKING, turns)
    kept_after = case((ranked.c.after_total < cap, ranked.c.after_total), else_=cap)  # SQLite has no least()
    return (
        select(ranked.c.meeting_id, ranked.c.turn_id, ranked.c.speaker, ranked.c.text)
        .where(
            or_(
                and_(ranked.c.after == 1, ranked.c.rank <= kept_after),
                and_(ranked.c.after == 0, ranked.c.rank <= turns - kept_after),
            )
        )
        .subquery("excerpt")
    )


def _for_rep(
    meeting: Meeting, lead: Lead, campaign: Campaign, rep: str | None, excerpt: list[str]
) -> MeetingForRep:
    return MeetingForRep(
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
        excerpt=tuple(excerpt),
        rep=rep,
        attempt_id=meeting.attempt_id,
        booked_at=meeting.booked_at,
    )
