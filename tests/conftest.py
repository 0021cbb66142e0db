"""Shared fixtures: a real PostgreSQL database per test run, per-test rollback, settings without .env.

PostgreSQL (127.0.0.1:5432, trust auth, user postgres) and Redis (127.0.0.1:6379) must answer:
a missing service fails the run, it never skips tests. Override with DIALER_TEST_PG_ADMIN_URL and
DIALER_TEST_REDIS_URL (the pacer's and tests' own keys) and DIALER_TEST_BROKER_URL (the Celery broker
the worker tests flush; a different database number, so parallel runs each get their own pair).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pytest
import redis
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from compliance.dnc_registry import build_registry, ten_digit
from dialer.db import make_engine, session_factory
from dialer.migrate import upgrade
from dialer.runtime import Runtime
from dialer.settings import Settings
from tests.fakes.carrier import FakeCarrier, NoPacing
from tests.fakes.clock import FixedClock

PG_ADMIN_URL = os.environ.get("DIALER_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DIALER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BROKER_URL = os.environ.get("DIALER_TEST_BROKER_URL", "redis://127.0.0.1:6379/14")
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# No developer .env or DIALER_* variable may leak into a test.
for _name in list(os.environ):
    if _name.startswith("DIALER_") and not _name.startswith("DIALER_TEST_"):
        del os.environ[_name]


def _sqlalchemy_url(libpq_url: str, database: str) -> str:
    base = libpq_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head, dropped after the run."""
    name = f"dialer_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - environment failure
        pytest.fail(f"PostgreSQL is required and did not answer at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _sqlalchemy_url(PG_ADMIN_URL, name)
    upgrade(url)
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(pg_engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    connection = pg_engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


TABLES = (
    "transcript_turns, dispositions, meetings, callbacks, call_attempts, gate_decisions, "
    "consent_records, leads, dnc_entries, campaigns, audit_events, audit_seals, consent_revocations, "
    "ebr_records, contact_attempts, compliance_flags, dnc_sources, rnd_results"
)


def truncate_all(engine: Engine) -> None:
    """Empty every table, the audit log and its seals (for tests that commit across processes)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES.split(", "):
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def committed_pg(pg_engine: Engine) -> Iterator[Engine]:
    """The run's PostgreSQL engine, emptied before and after the test (for real commits)."""
    truncate_all(pg_engine)
    yield pg_engine
    truncate_all(pg_engine)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file database in the test's temporary directory."""
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:  # pragma: no cover - environment failure
        pytest.fail(f"Redis is required and did not answer at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture(scope="session")
def broker_url(redis_url: str) -> str:
    """The Redis database the Celery worker tests use as their broker (flushed by those tests)."""
    return BROKER_URL


def make_settings(**overrides: object) -> Settings:
    """Settings for tests: never read .env."""
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


MONDAY_11_CHICAGO = datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("America/Chicago"))

NATIONAL_DNC_NUMBER = "+13125550177"
"""A number on the tests' national DNC registry (see ``dnc_dir``)."""


def build_test_registry(directory: Path, *, downloaded_at: datetime, numbers: tuple[str, ...]) -> Path:
    """A national registry file in ``directory`` listing ``numbers`` (E.164), downloaded then."""
    path = directory / "national.dncr"
    values = np.array([ten_digit(n) for n in numbers], dtype=np.uint64)
    build_registry(path, values, list_name="national", downloaded_at=downloaded_at, built_at=downloaded_at)
    return path


@pytest.fixture
def dnc_dir(tmp_path: Path) -> Path:
    """A registry directory with a national list downloaded a day before the tests' clock."""
    directory = tmp_path / "dnc"
    directory.mkdir()
    build_test_registry(
        directory, downloaded_at=MONDAY_11_CHICAGO - timedelta(days=1), numbers=(NATIONAL_DNC_NUMBER,)
    )
    return directory


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_11_CHICAGO)


@pytest.fixture
def carrier() -> FakeCarrier:
    return FakeCarrier()


@pytest.fixture
def runtime(committed_pg: Engine, clock: FixedClock, carrier: FakeCarrier, dnc_dir: Path) -> Runtime:
    settings = make_settings(
        database_url=str(committed_pg.url.render_as_string(hide_password=False)),
        public_url="https://dialer.example.com",
        dnc_dir=dnc_dir,
    )
    return Runtime(
        settings=settings,
        sessions=session_factory(committed_pg),
        clock=clock,
        carrier=carrier,
        pacer=NoPacing(),
    )
