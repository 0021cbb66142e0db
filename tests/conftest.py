"""Shared fixtures: a real PostgreSQL database per test run, per-test rollback, settings without .env.

PostgreSQL (127.0.0.1:5432, trust auth, user postgres) and Redis (127.0.0.1:6379) must answer:
a missing service fails the run, it never skips tests. Each run creates its own PostgreSQL database
and takes two Redis database numbers of its own (the pacer's and tests' keys; the Celery broker the
worker tests flush), locked for the run so that two runs on one machine never share one (see
:func:`_claim_redis_dbs`). Override with DIALER_TEST_PG_ADMIN_URL, DIALER_TEST_REDIS_URL and
DIALER_TEST_BROKER_URL (then those databases are used as given, unlocked).
"""

from __future__ import annotations

import os
import socket
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
REDIS_SERVER = "redis://127.0.0.1:6379"
REDIS_LOCK_DB = 0
"""The Redis database that holds the runs' locks on the others; no run uses it for data."""
REDIS_LOCK_SECONDS = 6 * 3600
"""A lock outlives any run; one left by a killed run frees itself after this long."""
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
    "outbox_deliveries, outbox_messages, outbox_events, "
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


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
"""Drop a lock only if this owner still holds it (it may have expired and been taken since)."""


def _lock_key(number: int) -> str:
    return f"dialer-test:redis-db:{number}"


def _claim_redis_dbs(
    server: redis.Redis, count: int, owner: str, *, candidates: list[int] | None = None
) -> list[int]:
    """Lock ``count`` Redis database numbers for ``owner`` (``SET NX`` in :data:`REDIS_LOCK_DB`).

    Of ``candidates`` (default: every database but the locks' own), empty ones are preferred to
    ones holding keys, which a run that takes no lock (its URLs given) may be using. Fails the
    run when too few are free.
    """
    if candidates is None:
        databases = int(server.config_get("databases").get("databases", 16))
        candidates = [n for n in range(databases) if n != REDIS_LOCK_DB]
    keyspace = server.info("keyspace")
    claimed: list[int] = []
    for number in sorted(candidates, key=lambda n: (keyspace.get(f"db{n}", {}).get("keys", 0) > 0, n)):
        if len(claimed) == count:
            break
        if server.set(_lock_key(number), owner, nx=True, ex=REDIS_LOCK_SECONDS):
            claimed.append(number)
    if len(claimed) < count:
        _release_redis_dbs(server, claimed, owner, flush=False)
        pytest.fail(f"no free Redis database for this test run (all of {candidates} are locked)")
    return claimed


def _release_redis_dbs(server: redis.Redis, numbers: list[int], owner: str, *, flush: bool = True) -> None:
    """Drop ``owner``'s locks on ``numbers``, first emptying (``flush``) those it still holds."""
    for number in numbers:
        if flush and server.get(_lock_key(number)) == owner.encode():
            redis.Redis.from_url(f"{REDIS_SERVER}/{number}").flushdb()
        server.eval(_RELEASE, 1, _lock_key(number), owner)


@pytest.fixture(scope="session")
def redis_dbs() -> Iterator[tuple[str, str]]:
    """(keys URL, broker URL): this run's two Redis databases, locked while it runs.

    DIALER_TEST_REDIS_URL and DIALER_TEST_BROKER_URL, when set, are used as given instead.
    """
    given = [os.environ.get("DIALER_TEST_REDIS_URL"), os.environ.get("DIALER_TEST_BROKER_URL")]
    missing = [index for index, url in enumerate(given) if not url]
    if not missing:
        yield given[0], given[1]  # type: ignore[misc]
        return
    server = redis.Redis.from_url(f"{REDIS_SERVER}/{REDIS_LOCK_DB}", socket_connect_timeout=5)
    try:
        server.ping()
    except redis.RedisError as exc:  # pragma: no cover - environment failure
        pytest.fail(f"Redis is required and did not answer at {REDIS_SERVER}: {exc}")
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    numbers = _claim_redis_dbs(server, len(missing), owner)
    try:
        urls = list(given)
        for index, number in zip(missing, numbers, strict=True):
            urls[index] = f"{REDIS_SERVER}/{number}"
        yield urls[0], urls[1]  # type: ignore[misc]
    finally:
        _release_redis_dbs(server, numbers, owner)


@pytest.fixture(scope="session")
def redis_url(redis_dbs: tuple[str, str]) -> str:
    """The Redis database of the pacer's and the tests' own keys."""
    url = redis_dbs[0]
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:  # pragma: no cover - environment failure
        pytest.fail(f"Redis is required and did not answer at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def broker_url(redis_dbs: tuple[str, str], redis_url: str) -> str:
    """The Redis database the Celery worker tests use as their broker (flushed by those tests)."""
    return redis_dbs[1]


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
