"""Accounts of the console and the REST API: users and their roles, API tokens, web sessions.

Secrets are never stored: a password is kept as its argon2id hash (PHC string), an API token
and a session id as the sha256 (hex) of the random value handed to the client once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dialer.db import Base, StrEnumColumn
from dialer.models._columns import Timestamped, utcnow


class Role(StrEnum):
    """What a user may see and do (the API's permission table is ``bridge.api.access``).

    ``admin`` everything; ``ops`` campaigns, lead imports, attempts and meetings; ``rep`` only the
    meetings assigned to them; ``compliance`` audit, DNC, attempts and dispositions (read).
    """

    ADMIN = "admin"
    OPS = "ops"
    REP = "rep"
    COMPLIANCE = "compliance"


class User(Timestamped, Base):
    """A person who logs in to the console or calls the REST API.

    Attributes:
        username: the login, lower case, unique.
        role: one :class:`Role`.
        password_hash: argon2id PHC string (``$argon2id$v=19$...``).
        disabled_at: when the account was disabled (UTC); a disabled user cannot log in and
            their sessions and tokens stop working. None while active.
        last_login_at: the last successful login (UTC); the per-account login throttle counts
            failures after it.
        hubspot_owner_id: the rep's HubSpot owner id: the ``hubspot_owner_id`` of the meetings
            (and calls) assigned to them; None: ``DIALER_CRM__HUBSPOT__OWNER_ID``.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[Role] = mapped_column(StrEnumColumn(Role, 20))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    hubspot_owner_id: Mapped[str | None] = mapped_column(String(40))


class ApiToken(Base):
    """A bearer token for the REST API, owned by one user (it acts with the user's role).

    Attributes:
        name: what the token is for (``ci``, ``hubspot-sync``), shown in listings.
        token_hash: sha256 (hex) of the token; the token itself is shown once, at creation.
        revoked_at: when it was revoked (UTC); None while it works.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A console login: the session cookie's id and the CSRF token of its forms, both hashed.

    Attributes:
        session_hash: sha256 (hex) of the cookie's value.
        csrf_hash: sha256 (hex) of the session's CSRF token (synchronizer token pattern).
        expires_at: the session ends then at the latest (UTC).
        ended_at: set on logout (UTC).
        client_ip: where the login came from.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed login, the fact the login throttle counts (per account and per client IP).

    Attributes:
        username: the login as typed (lower case), whether or not such a user exists.
        client_ip: the client's address.
        failed_at: when (UTC, product clock).
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "failed_at"),
        Index("ix_login_failures_client_ip_at", "client_ip", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    client_ip: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime]


class MeetingAssignment(Base):
    """Which rep a booked meeting belongs to (a rep sees only their own meetings).

    Attributes:
        meeting_id: the meeting (one rep per meeting).
        user_id: the rep.
        assigned_at: when it was assigned (UTC).
    """

    __tablename__ = "meeting_assignments"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime]


class CalendarFeed(Base):
    """A user's private calendar feed: which generation of its URL works (``crm.feeds``).

    The feed URL's token is derived from ``DIALER_CALENDAR_FEED_TOKEN``, the user id and
    ``generation`` (HMAC-SHA256), so no secret is stored here; a new link bumps ``generation``
    and the old URL stops working. A user without a row is at generation 0.

    Attributes:
        user_id: the feed's owner (one feed per user).
        generation: how many times the link was renewed.
        rotated_at: when it was last renewed (UTC).
    """

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)
    rotated_at: Mapped[datetime]
