"""Fixtures of the account and REST API tests: users of each role on the run's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import pytest
from sqlalchemy import Engine, text

from dialer import accounts
from dialer.accounts import passwords
from dialer.accounts import users as account_users
from dialer.db import transaction
from dialer.runtime import Runtime

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "ops", "rep", "compliance")


def _empty_accounts(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE users, login_failures RESTART IDENTITY CASCADE"))


@pytest.fixture
def accounts_db(committed_pg: Engine) -> Iterator[Engine]:
    """The run's PostgreSQL, emptied of product rows and accounts before and after the test."""
    _empty_accounts(committed_pg)
    yield committed_pg
    _empty_accounts(committed_pg)


@lru_cache(maxsize=4)
def _hash_once(password: str) -> str:
    return passwords.hash_password(password)


@pytest.fixture
def users(runtime: Runtime, accounts_db: Engine, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """One active user per role, named after it (``admin``, ``ops``, ``rep``, ``compliance``) -> role.

    Their password is hashed once per run (argon2 costs about 0.1-0.7 s a hash on this machine),
    so they share one salt; logging in still verifies it with argon2 (tests/api/test_accounts.py
    checks the hashing itself).
    """
    monkeypatch.setattr(account_users, "hash_password", _hash_once)
    with transaction(runtime.sessions) as session:
        for role in ROLES:
            accounts.create_user(
                session, username=role, role=role, password=PASSWORD, now=runtime.clock.now(), actor="test"
            )
    return {role: role for role in ROLES}


@pytest.fixture
def api(runtime: Runtime, users: dict[str, str]):
    """A test client of the one app (``bridge.app:create_app``) on the run's PostgreSQL."""
    from fastapi.testclient import TestClient

    from bridge.app import create_app
    from tests.fakes.agent import FakeVoiceAgent

    # https, as the public URL is: the session cookie is Secure.
    app = create_app(runtime=runtime, agent=FakeVoiceAgent())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def tokens(runtime: Runtime, users: dict[str, str]) -> dict[str, str]:
    """An API token per role: ``{"admin": "dlr_...", ...}``."""
    made = {}
    with transaction(runtime.sessions) as session:
        for role in ROLES:
            _, made[role] = accounts.create_token(
                session, username=role, name="tests", now=runtime.clock.now(), actor="test"
            )
    return made


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header of an API token."""
    return {"Authorization": f"Bearer {token}"}
