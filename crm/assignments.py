"""Which rep each booked meeting belongs to: assigned by ops or an admin, read by the rep.

Audit event: ``meeting.assigned`` {meeting_id, username, previous} (``previous`` is the earlier
rep's login, or None).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dialer.accounts import get_user
from dialer.audit import record_event
from dialer.errors import InvalidStateError, NotFoundError
from dialer.models import Meeting, MeetingAssignment, Role, User


def assign_meeting(session: Session, *, meeting_id: int, username: str, now: datetime, actor: str) -> User:
    """Give a meeting to a rep (replacing any earlier one).

    Returns:
        The rep.

    Raises:
        NotFoundError: no such meeting or user.
        InvalidStateError: the user is not an active rep.
    """
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError(f"meeting {meeting_id} does not exist")
    rep = get_user(session, username=username)
    if rep.role != Role.REP or rep.disabled_at is not None:
        raise InvalidStateError(f"user {rep.username!r} is not an active rep (role {rep.role})")
    current = session.get(MeetingAssignment, meeting_id)
    previous = session.get(User, current.user_id).username if current else None  # type: ignore[union-attr]
    if current is None:
        session.add(MeetingAssignment(meeting_id=meeting_id, user_id=rep.id, assigned_at=now))
    else:
        current.user_id, current.assigned_at = rep.id, now
    record_event(
        session,
        kind="meeting.assigned",
        occurred_at=now,
        actor=actor,
        campaign_id=meeting.campaign_id,
        lead_id=meeting.lead_id,
        payload={"meeting_id": meeting_id, "username": rep.username, "previous": previous},
    )
    return rep
