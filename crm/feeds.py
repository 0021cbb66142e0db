"""Each rep's private calendar feed: its token, the user a token opens, a new link (audited).

The feed URL is ``/crm/calendar.ics?token=<token>``, whose token is
``cal_<user id>_<HMAC-SHA256(master, "calendar-feed:<user id>:<generation>"), base64url>``, where
the master secret is ``DIALER_CALENDAR_FEED_TOKEN`` (the team feed's own token, which opens every
meeting) and ``generation`` is the user's row in ``calendar_feeds`` (0 without one). Nothing
secret is stored, so the console can show a rep their link at any time; :func:`renew_feed` bumps
the generation and the old link stops working at once; a new master revokes every link. Calendar
apps cannot log in, so the URL is the credential, as it is for Google's and Outlook's own feeds.

Audit event: ``calendar_feed.renewed`` {username, generation}.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

from sqlalchemy.orm import Session

from dialer.audit import record_event
from dialer.errors import AccessDeniedError
from dialer.models import CalendarFeed, User

_TOKEN = re.compile(r"cal_([1-9][0-9]{0,9})_([A-Za-z0-9_-]{43})")


def feed_token(master: str, *, user_id: int, generation: int) -> str:
    """The token of ``user_id``'s feed at ``generation`` (pure: no database)."""
    mac = hmac.new(master.encode(), f"calendar-feed:{user_id}:{generation}".encode(), hashlib.sha256)
    return f"cal_{user_id}_{base64.urlsafe_b64encode(mac.digest()).decode().rstrip('=')}"


def _generation(session: Session, user_id: int) -> int:
    row = session.get(CalendarFeed, user_id)
    return row.generation if row is not None else 0


def current_feed_token(session: Session, *, master: str, user_id: int) -> str:
    """The token that opens ``user_id``'s feed now."""
    return feed_token(master, user_id=user_id, generation=_generation(session, user_id))


def feed_owner(session: Session, *, master: str, token: str) -> User:
    """The active user whose current feed token ``token`` is (compared in constant time).

    Raises:
        AccessDeniedError: not a feed token, an old generation's, or a disabled or unknown user.
    """
    match = _TOKEN.fullmatch(token)
    user = session.get(User, int(match.group(1))) if match else None
    if user is None or user.disabled_at is not None:
        raise AccessDeniedError("invalid feed token")
    expected = current_feed_token(session, master=master, user_id=user.id)
    if not hmac.compare_digest(expected.encode(), token.encode()):
        raise AccessDeniedError("invalid feed token")
    return user


def renew_feed(session: Session, *, master: str, user_id: int, now: datetime, actor: str) -> str:
    """Give ``user_id``'s feed a new link (the old one stops working); returns the new token."""
    row = session.get(CalendarFeed, user_id)
    if row is None:
        row = CalendarFeed(user_id=user_id, generation=0, rotated_at=now)
        session.add(row)
    row.generation += 1
    row.rotated_at = now
    user = session.get_one(User, user_id)
    record_event(
        session,
        kind="calendar_feed.renewed",
        occurred_at=now,
        actor=actor,
        payload={"username": user.username, "generation": row.generation},
    )
    return feed_token(master, user_id=user_id, generation=row.generation)
