"""Users and their roles: create, look up, list, change role, disable; every change audited.

Audit events (``actor`` is who made the change: ``user:<login>`` from the CLI or the API):
``user.created`` {username, role}, ``user.role_changed`` {username, from, to},
``user.disabled`` {username, sessions_ended}, ``user.hubspot_owner_set`` {username, from, to}.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dialer.accounts.passwords import hash_password
from dialer.audit import record_event
from dialer.errors import InvalidInputError, InvalidStateError, NotFoundError
from dialer.models import Role, User, WebSession

HUBSPOT_OWNER_ID = re.compile(r"[0-9]{1,20}")
"""A HubSpot owner id (``hubspot_owner_id``): digits, as HubSpot's owners API lists them."""
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@+-]{1,79}")
"""A login: 2-80 characters, lower-case letters, digits and ``. _ @ + -``, starting alphanumeric."""


def check_username(raw: str) -> str:
    """The login as stored (stripped, lower case).

    Raises:
        InvalidInputError: it does not match :data:`USERNAME`.
    """
    name = raw.strip().lower()
    if not USERNAME.fullmatch(name):
        raise InvalidInputError(
            f"username {raw!r}: use 2-80 lower-case letters, digits or . _ @ + -, "
            "starting with a letter or digit"
        )
    return name


def check_role(raw: str) -> Role:
    """The :class:`Role` named ``raw``.

    Raises:
        InvalidInputError: no such role.
    """
    try:
        return Role(raw.strip().lower())
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise InvalidInputError(f"role {raw!r} does not exist; known roles: {known}") from None


def find_user(session: Session, *, username: str) -> User | None:
    """The user with that login (any case), or None."""
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def get_user(session: Session, *, username: str) -> User:
    """The user with that login.

    Raises:
        NotFoundError: no such user.
    """
    user = find_user(session, username=username)
    if user is None:
        raise NotFoundError(f"user {username!r} does not exist; create it with `dialer users create`")
    return user


def create_user(
    session: Session, *, username: str, role: str, password: str, now: datetime, actor: str
) -> User:
    """Create an active user.

    Raises:
        InvalidInputError: a bad username, role or password (too short or too long).
        InvalidStateError: the username is taken.
    """
    name = check_username(username)
    checked_role = check_role(role)
    if find_user(session, username=name) is not None:
        raise InvalidStateError(f"user {name!r} already exists")
    user = User(username=name, role=checked_role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record_event(
        session,
        kind="user.created",
        occurred_at=now,
        actor=actor,
        payload={"user_id": user.id, "username": name, "role": checked_role},
    )
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by login."""
    return list(session.scalars(select(User).order_by(User.username)))


def set_role(session: Session, *, username: str, role: str, now: datetime, actor: str) -> User:
    """Give a user another role (their sessions and tokens act with it from the next request).

    Raises:
        NotFoundError: no such user.
        InvalidInputError: no such role.
    """
    user = get_user(session, username=username)
    new = check_role(role)
    if user.role == new:
        return user
    previous = user.role
    user.role = new
    record_event(
        session,
        kind="user.role_changed",
        occurred_at=now,
        actor=actor,
        payload={"user_id": user.id, "username": user.username, "from": previous, "to": new},
    )
    return user


def disable_user(session: Session, *, username: str, now: datetime, actor: str) -> User:
    """Disable a user: no more logins; their open sessions end and their tokens stop working.

    Raises:
        NotFoundError: no such user.
        InvalidStateError: the user is already disabled.
    """
    user = get_user(session, username=username)
    if user.disabled_at is not None:
        raise InvalidStateError(f"user {user.username!r} is already disabled")
    user.disabled_at = now
    ended = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    record_event(
        session,
        kind="user.disabled",
        occurred_at=now,
        actor=actor,
        payload={"user_id": user.id, "username": user.username, "sessions_ended": ended.rowcount},  # type: ignore[attr-defined]
    )
    return user


def set_hubspot_owner(
    session: Session, *, username: str, owner_id: str | None, now: datetime, actor: str
) -> User:
    """Set (or clear, with None) the HubSpot owner of the meetings and calls assigned to a user.

    Raises:
        NotFoundError: no such user.
        InvalidInputError: ``owner_id`` is not a HubSpot owner id (digits).
    """
    user = get_user(session, username=username)
    owner = owner_id.strip() if owner_id is not None else None
    if owner is not None and not HUBSPOT_OWNER_ID.fullmatch(owner):
        raise InvalidInputError(
            f"HubSpot owner id {owner_id!r}: use the owner's numeric id (HubSpot: Settings > Users, "
            "or GET /crm/v3/owners)"
        )
    if user.hubspot_owner_id == owner:
        return user
    previous, user.hubspot_owner_id = user.hubspot_owner_id, owner
    record_event(
        session,
        kind="user.hubspot_owner_set",
        occurred_at=now,
        actor=actor,
        payload={"user_id": user.id, "username": user.username, "from": previous, "to": owner},
    )
    return user
