"""The login throttle: too many recent failures for an account, or from a client IP, lock it out.

The failures are rows of ``login_failures`` in the product database rather than Redis counters:
the throttle then works the same on the laptop stack (SQLite, no Redis) and in production, it
survives a Redis restart (which would otherwise hand an attacker a fresh budget), and each
failure sits next to its audit event. Logins are rare, so one ``INSERT`` per failure and one
indexed range count per login cost nothing and touch no shared row (DESIGN rule 9).

The check and the failure it may add are one atomic step: :func:`lockout` first takes a
transaction-scoped advisory lock on the account and then on the client IP (always in that order,
so two logins never wait on each other in a cycle), held until the login's commit. Two concurrent
failures for one account can therefore never both pass a check that counted neither of them.

The window slides: a lock lifts when its oldest counted failure is older than the window. An
account's failures before its last successful login no longer count; a client's always do.
Limits follow OWASP's authentication cheat sheet ("lock out after a small number of failures
for a short time") and NIST SP 800-63B 5.2.2 (at most 100 consecutive failures per account).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from dialer.db import advisory_xact_lock
from dialer.models import LoginFailure


@dataclass(frozen=True)
class ThrottleLimits:
    """How many failures within ``window`` lock an account or a client IP.

    Attributes:
        account_failures: failed logins for one username (existing or not).
        client_failures: failed logins from one client IP, whatever the username.
        window: how far back failures count.
    """

    account_failures: int = 5
    client_failures: int = 20
    window: timedelta = timedelta(minutes=15)


LIMITS = ThrottleLimits()
"""The limits the API uses."""


def retry_after(newest: list[datetime], *, limit: int, window: timedelta, now: datetime) -> int | None:
    """Seconds until a lock lifts, or None when there is none (pure).

    Args:
        newest: the newest failures inside the window, at most ``limit`` of them (any order).
        limit: failures that lock.
        window: how far back failures count.
        now: the instant of the login (aware).

    Returns:
        None when fewer than ``limit`` failures are inside the window; else the whole seconds (>= 1)
        until the oldest of the ``limit`` newest leaves it.
    """
    inside = [at for at in newest if at > now - window]
    if len(inside) < limit:
        return None
    lifts_at = sorted(inside)[-limit] + window
    return max(1, math.ceil((lifts_at - now).total_seconds()))


def _newest(
    session: Session, column: InstrumentedAttribute[str], value: str, *, since: datetime, limit: int
) -> list[datetime]:
    return list(
        session.scalars(
            select(LoginFailure.failed_at)
            .where(column == value, LoginFailure.failed_at > since)
            .order_by(LoginFailure.failed_at.desc())
            .limit(limit)
        )
    )


def lockout(
    session: Session,
    *,
    username: str,
    client_ip: str,
    now: datetime,
    reset_at: datetime | None = None,
    limits: ThrottleLimits = LIMITS,
) -> tuple[str, int] | None:
    """Whether a login for ``username`` from ``client_ip`` is locked out now.

    Serializes the logins of this account and of this client IP until the caller's transaction
    ends (advisory locks, PostgreSQL; SQLite's write lock does the same), so the failure the
    caller may record next is counted by every login checked after it.

    Args:
        reset_at: the account's last successful login; its failures before it do not count.

    Returns:
        None, or ``(scope, retry_after_seconds)`` with scope ``account`` or ``client``.
    """
    advisory_xact_lock(session, f"login:account:{username}")
    advisory_xact_lock(session, f"login:client:{client_ip}")
    since = now - limits.window
    account_since = max(since, reset_at) if reset_at is not None else since
    failures = _newest(
        session, LoginFailure.username, username, since=account_since, limit=limits.account_failures
    )
    wait = retry_after(failures, limit=limits.account_failures, window=limits.window, now=now)
    if wait is not None:
        return "account", wait
    failures = _newest(session, LoginFailure.client_ip, client_ip, since=since, limit=limits.client_failures)
    wait = retry_after(failures, limit=limits.client_failures, window=limits.window, now=now)
    return None if wait is None else ("client", wait)


def record_failure(session: Session, *, username: str, client_ip: str, now: datetime) -> None:
    """Count one failed login against the account and the client."""
    session.add(LoginFailure(username=username, client_ip=client_ip, failed_at=now))
