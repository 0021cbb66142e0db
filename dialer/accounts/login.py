"""Logging in to the console: throttle, password check, session with its CSRF token; all audited.

Audit events (actor ``user:<login>`` as typed): ``auth.login`` {user_id, username, role,
client_ip, session_id}; ``auth.login_failed`` {username, client_ip, reason: unknown_user,
bad_password or disabled}; ``auth.login_throttled`` {username, client_ip, scope, retry_after_seconds};
``auth.logout`` {user_id, username, session_id}. The reason is for auditors: the client is told
only that the login failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dialer.accounts import throttle
from dialer.accounts.errors import LoginFailedError, LoginThrottledError, NotAuthenticatedError
from dialer.accounts.passwords import decoy_hash, hash_password, needs_rehash, verify_password
from dialer.accounts.tokens import new_secret, secret_hash
from dialer.audit import record_event
from dialer.errors import DialerError
from dialer.models import User, WebSession

SESSION_LIFETIME = timedelta(hours=12)
"""A console session ends this long after its login (OWASP session management: absolute timeout)."""


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt did; ``error`` is None on success.

    Attributes:
        user: the user logged in (None on failure).
        session_id: the session cookie's value (``dls_...``), shown once; only its hash is stored.
        csrf_token: the session's CSRF token for unsafe requests (``X-CSRF-Token`` or ``csrf_token``).
        expires_at: when the session ends (UTC).
        error: :class:`LoginFailedError` or :class:`LoginThrottledError` on failure.
    """

    user: User | None = None
    session_id: str | None = None
    csrf_token: str | None = None
    expires_at: datetime | None = None
    error: DialerError | None = None


def login(
    session: Session,
    *,
    username: str,
    password: str,
    client_ip: str,
    now: datetime,
    limits: throttle.ThrottleLimits = throttle.LIMITS,
) -> LoginResult:
    """Try a login; failures are recorded (commit them: the caller raises ``error`` afterwards).

    A throttled login is refused before the password is checked, so a locked account cannot be
    used to guess it; an unknown user costs the same argon2 verification as a known one.
    """
    name = username.strip().lower()[:80]
    user = session.scalar(select(User).where(User.username == name))
    # Serializes this account's and this client's logins to the commit (the check is atomic).
    locked = throttle.lockout(
        session,
        username=name,
        client_ip=client_ip,
        now=now,
        reset_at=user.last_login_at if user else None,
        limits=limits,
    )
    if locked is not None:
        scope, wait = locked
        _audit(
            session,
            "auth.login_throttled",
            now,
            name,
            client_ip=client_ip,
            scope=scope,
            retry_after_seconds=wait,
        )
        return LoginResult(
            error=LoginThrottledError(
                f"too many failed logins for this {scope}; try again in {wait} s", retry_after_seconds=wait
            )
        )
    matches = verify_password(user.password_hash if user else decoy_hash(), password)
    reason = "unknown_user" if user is None else "bad_password" if not matches else None
    if user is not None and matches and user.disabled_at is not None:
        reason = "disabled"
    if reason is not None or user is None:
        throttle.record_failure(session, username=name, client_ip=client_ip, now=now)
        _audit(session, "auth.login_failed", now, name, client_ip=client_ip, reason=reason)
        return LoginResult(error=LoginFailedError("the username or password is not right"))
    return _open_session(session, user, password=password, client_ip=client_ip, now=now)


def _open_session(
    session: Session, user: User, *, password: str, client_ip: str, now: datetime
) -> LoginResult:
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session_id, session_digest = new_secret("dls")
    csrf_token, csrf_digest = new_secret("dlc")
    row = WebSession(
        user_id=user.id,
        session_hash=session_digest,
        csrf_hash=csrf_digest,
        client_ip=client_ip,
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    _audit(
        session,
        "auth.login",
        now,
        user.username,
        user_id=user.id,
        role=user.role,
        client_ip=client_ip,
        session_id=row.id,
    )
    return LoginResult(user=user, session_id=session_id, csrf_token=csrf_token, expires_at=row.expires_at)


def _audit(session: Session, kind: str, now: datetime, username: str, **facts: object) -> None:
    record_event(
        session, kind=kind, occurred_at=now, actor=f"user:{username}", payload={"username": username, **facts}
    )


def session_user(session: Session, *, session_id: str, now: datetime) -> tuple[User, WebSession]:
    """The active user and open session a session cookie names.

    Raises:
        NotAuthenticatedError: unknown, ended or expired session, or a disabled user.
    """
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.session_hash == secret_hash(session_id))
    ).first()
    if row is None:
        raise NotAuthenticatedError("the session is not valid; log in again")
    web, user = row
    if web.ended_at is not None or web.expires_at <= now or user.disabled_at is not None:
        raise NotAuthenticatedError("the session has ended; log in again")
    return user, web


def logout(session: Session, *, session_id: str, now: datetime) -> None:
    """End the session the cookie names (an unknown or ended one is not an error)."""
    try:
        user, web = session_user(session, session_id=session_id, now=now)
    except NotAuthenticatedError:
        return
    web.ended_at = now
    _audit(session, "auth.logout", now, user.username, user_id=user.id, session_id=web.id)
