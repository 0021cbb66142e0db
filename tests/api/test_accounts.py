"""Accounts as the services keep them: users, roles, tokens, logins and the login throttle."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from dialer import accounts
from dialer.accounts.throttle import retry_after
from dialer.db import transaction
from dialer.errors import InvalidInputError, InvalidStateError
from dialer.models import AuditEvent, User, WebSession
from tests.api.conftest import PASSWORD


def _events(runtime, prefix: str) -> list[AuditEvent]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.kind.like(f"{prefix}%")).order_by(AuditEvent.id)
            )
        )


def _login(runtime, username="ops", password=PASSWORD, ip="203.0.113.7"):
    def work(session, now):
        return accounts.login(session, username=username, password=password, client_ip=ip, now=now)

    return runtime.run_in_transaction(work)


def test_passwords_are_stored_as_argon2id_and_checked(runtime, accounts_db):
    with transaction(runtime.sessions) as session:
        user = accounts.create_user(
            session,
            username="Dana",
            role="ops",
            password=PASSWORD,
            now=runtime.clock.now(),
            actor="user:root",
        )
    with runtime.sessions() as session:
        stored = session.get(User, user.id)
    assert stored.username == "dana" and stored.password_hash.startswith("$argon2id$v=19$")
    assert PASSWORD not in stored.password_hash
    assert _login(runtime, "DANA").user is not None
    assert isinstance(_login(runtime, "dana", "wrong password!!").error, accounts.LoginFailedError)
    [created] = _events(runtime, "user.created")
    assert created.payload == {"user_id": user.id, "username": "dana", "role": "ops"}
    assert created.actor == "user:root"


@pytest.mark.parametrize(
    ("username", "role", "password", "problem"),
    [
        ("x", "ops", PASSWORD, "username 'x'"),
        ("has space", "ops", PASSWORD, "username 'has space'"),
        (
            "dana",
            "manager",
            PASSWORD,
            "role 'manager' does not exist; known roles: admin, ops, rep, compliance",
        ),
        ("dana", "ops", "short", "the password has 5 characters; at least 12"),
    ],
)
def test_bad_users_are_refused_with_what_is_wrong(runtime, accounts_db, username, role, password, problem):
    with pytest.raises(InvalidInputError, match=problem.replace("(", r"\(")):
        with transaction(runtime.sessions) as session:
            accounts.create_user(
                session, username=username, role=role, password=password, now=runtime.clock.now(), actor="t"
            )
    with runtime.sessions() as session:
        assert session.scalar(select(User)) is None


def test_a_taken_username_is_refused(runtime, users):
    with pytest.raises(InvalidStateError, match="user 'ops' already exists"):
        with transaction(runtime.sessions) as session:
            accounts.create_user(
                session, username="OPS", role="rep", password=PASSWORD, now=runtime.clock.now(), actor="t"
            )


def test_role_changes_and_disabling_are_audited_and_end_sessions(runtime, users):
    result = _login(runtime, "rep")
    with transaction(runtime.sessions) as session:
        accounts.set_role(session, username="rep", role="ops", now=runtime.clock.now(), actor="user:boss")
        accounts.disable_user(session, username="rep", now=runtime.clock.now(), actor="user:boss")
    [change] = _events(runtime, "user.role_changed")
    assert change.payload["from"] == "rep" and change.payload["to"] == "ops" and change.actor == "user:boss"
    [disabled] = _events(runtime, "user.disabled")
    assert disabled.payload["sessions_ended"] == 1
    with runtime.sessions() as session:
        with pytest.raises(accounts.NotAuthenticatedError):
            accounts.session_user(session, session_id=result.session_id, now=runtime.clock.now())
        assert session.scalar(select(WebSession.ended_at)) is not None
    # The right password of a disabled account fails like any other, and says why in the audit log.
    assert isinstance(_login(runtime, "rep").error, accounts.LoginFailedError)
    assert _events(runtime, "auth.login_failed")[-1].payload["reason"] == "disabled"


def test_tokens_are_shown_once_stored_hashed_and_revocable(runtime, users):
    with transaction(runtime.sessions) as session:
        token, value = accounts.create_token(
            session, username="ops", name="ci", now=runtime.clock.now(), actor="user:root"
        )
    assert value.startswith("dlr_") and len(value) > 40
    with runtime.sessions() as session:
        assert accounts.user_for_token(session, token=value).username == "ops"
        assert session.get(type(token), token.id).token_hash == accounts.secret_hash(value)
    with transaction(runtime.sessions) as session:
        accounts.revoke_token(session, token_id=token.id, now=runtime.clock.now(), actor="user:root")
    with runtime.sessions() as session, pytest.raises(accounts.NotAuthenticatedError):
        accounts.user_for_token(session, token=value)
    assert [e.kind for e in _events(runtime, "token.")] == ["token.created", "token.revoked"]


def test_logins_and_failures_are_audited_without_the_password(runtime, users):
    assert _login(runtime, "ops").user is not None
    assert _login(runtime, "ops", "not the password").error is not None
    assert _login(runtime, "nobody").error is not None
    events = _events(runtime, "auth.")
    assert [(e.kind, e.payload.get("reason")) for e in events] == [
        ("auth.login", None),
        ("auth.login_failed", "bad_password"),
        ("auth.login_failed", "unknown_user"),
    ]
    assert events[0].payload["client_ip"] == "203.0.113.7" and events[0].payload["role"] == "ops"
    assert all(PASSWORD not in str(e.payload) and "not the password" not in str(e.payload) for e in events)


def test_an_account_is_locked_after_five_failures_even_with_the_right_password(runtime, users, clock):
    for _ in range(accounts.LIMITS.account_failures):
        assert isinstance(_login(runtime, "ops", "guess guess guess").error, accounts.LoginFailedError)
    locked = _login(runtime, "ops")
    assert isinstance(locked.error, accounts.LoginThrottledError)
    assert locked.error.retry_after_seconds == 15 * 60
    [throttled] = _events(runtime, "auth.login_throttled")
    assert throttled.payload["scope"] == "account" and throttled.payload["username"] == "ops"
    # Another account from another address is not affected.
    assert _login(runtime, "rep", ip="198.51.100.9").user is not None
    # The lock lifts when the oldest failure leaves the 15-minute window.
    clock.advance(minutes=15, seconds=1)
    assert _login(runtime, "ops").user is not None


def test_a_client_ip_is_locked_after_twenty_failures_across_accounts(runtime, users):
    for n in range(accounts.LIMITS.client_failures):
        assert isinstance(_login(runtime, f"user{n}", ip="192.0.2.1").error, accounts.LoginFailedError)
    assert isinstance(_login(runtime, "admin", ip="192.0.2.1").error, accounts.LoginThrottledError)
    assert _login(runtime, "admin", ip="192.0.2.2").user is not None
    assert _events(runtime, "auth.login_throttled")[0].payload["scope"] == "client"


def test_a_successful_login_clears_the_accounts_earlier_failures(runtime, users, clock):
    for _ in range(accounts.LIMITS.account_failures - 1):
        _login(runtime, "ops", "guess guess guess")
    assert _login(runtime, "ops").user is not None
    clock.advance(seconds=1)
    for _ in range(accounts.LIMITS.account_failures - 1):
        _login(runtime, "ops", "guess guess guess")
    assert _login(runtime, "ops").user is not None


def test_retry_after_counts_the_oldest_failure_of_the_newest_limit(clock):
    now = clock.now()
    window = timedelta(minutes=15)
    times = [now - timedelta(minutes=m) for m in (1, 2, 3)]
    assert retry_after(times, limit=4, window=window, now=now) is None
    assert retry_after(times, limit=3, window=window, now=now) == 12 * 60
    assert retry_after([*times, now - timedelta(minutes=20)], limit=4, window=window, now=now) is None


def test_concurrent_failures_never_pass_the_throttle_together(runtime, users):
    """Review: the check and the failure were two steps, so ten guesses at once all passed a check
    that had counted none of them. With the account's advisory lock, the sixth and later are
    refused unchecked (``auth.login_throttled``) however they interleave."""
    start = threading.Barrier(10)
    results: list[object] = []

    def guess() -> None:
        start.wait(timeout=30)
        results.append(_login(runtime, "ops", "guess guess guess").error)

    threads = [threading.Thread(target=guess) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    kinds = sorted(type(error).__name__ for error in results)
    assert kinds == ["LoginFailedError"] * 5 + ["LoginThrottledError"] * 5
    assert len(_events(runtime, "auth.login_failed")) == accounts.LIMITS.account_failures
