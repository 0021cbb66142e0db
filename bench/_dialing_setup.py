"""Shared set-up of the dialing benchmarks: a fresh PostgreSQL database, dialable leads, the sandbox.

The leads are all dialable at :data:`AT` (a Monday 11:00 in Chicago): Chicago numbers with an
Illinois address and a PEWC for the seller that covers AI voice; the national registry lists
none of them and was downloaded the day before.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import psycopg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compliance.dnc_registry import build_registry, ten_digit  # noqa: E402
from dialer.db import make_engine  # noqa: E402
from dialer.demo.processes import free_port  # noqa: E402
from dialer.migrate import upgrade  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
AT = datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("America/Chicago"))
"""The sandbox clock's start: a Monday, 11:00 in Chicago (inside every calling window)."""

_SEED = """
INSERT INTO campaigns (id, name, seller_name, agent_name, product, caller_id, callback_number, script,
                       status, max_concurrent_calls, max_attempts, retry_delay_seconds, record_calls,
                       created_at, updated_at)
VALUES (:campaign, 'bench ' || :campaign, 'Northwind Analytics, Inc.', 'Alex', 'a data platform',
        '+13125550199', '+13125550199', '', 'running', 1000000, 3, 600, false, :now, :now);
INSERT INTO leads (campaign_id, phone_e164, phone_raw, first_name, state, zip, fields, status,
                   attempt_count, source_file, source_row, created_at, updated_at)
SELECT :campaign, '+1312' || (200 + :offset + g / 10000)::text || lpad((g % 10000)::text, 4, '0'), 'x',
       'Ava', 'IL', '60601', '{}', 'pending', 0, 'bench.csv', g, :now, :now
FROM generate_series(1, :n) AS g;
INSERT INTO consent_records (lead_id, phone_e164, seller_name, other_sellers, consent_type,
                             covers_artificial_voice, signed_at, method, evidence, source, created_at)
SELECT id, phone_e164, 'Northwind Analytics, Inc.', '[]', 'pewc', true, :signed, 'csv_columns',
       'https://northwind.example/optin', 'bench', :now
FROM leads WHERE campaign_id = :campaign;
"""


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new database migrated to head (SQLAlchemy URL), dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed_campaign(url: str, *, campaign_id: int, leads: int, offset: int = 0) -> None:
    """A running campaign (no concurrency cap to speak of) with ``leads`` dialable leads.

    ``offset`` shifts the exchanges so two campaigns' numbers differ (frequency caps count per number).
    """
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for statement in _SEED.split(";\n"):
                if statement.strip():
                    conn.execute(
                        text(statement),
                        {
                            "campaign": campaign_id,
                            "n": leads,
                            "offset": offset,
                            "now": datetime.now(UTC),
                            "signed": AT - timedelta(days=30),
                        },
                    )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    finally:
        engine.dispose()


def registry_dir(directory: Path) -> Path:
    """A DNC registry directory whose national list (one number) was downloaded the day before AT."""
    directory.mkdir(parents=True, exist_ok=True)
    downloaded = AT - timedelta(days=1)
    build_registry(
        directory / "national.dncr",
        np.array([ten_digit("+13125550177")], dtype=np.uint64),
        list_name="national",
        downloaded_at=downloaded,
        built_at=downloaded,
    )
    return directory


def wait_for_http(url: str, *, what: str, alive: Callable[[], bool] = lambda: True) -> None:
    """Poll ``url`` until it answers 2xx (60 s at most, and only while ``alive()``).

    Raises:
        RuntimeError: ``what`` did not start (or died first).
    """
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not alive():
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.2)


@contextmanager
def sandbox(ring_seconds: float = 3600.0, *options: str) -> Iterator[tuple[str, str]]:
    """The sandbox in a child process: (carrier base URL, agent ``ws://.../v1``); ``options`` go to it."""
    port, agent = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--carrier-port", str(port), "--agent-port", str(agent)]
        + ["--ring-seconds", str(ring_seconds), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/sandbox/stats", what="the sandbox carrier")
        yield base, f"ws://127.0.0.1:{agent}/v1"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextmanager
def sandbox_carrier(ring_seconds: float = 3600.0) -> Iterator[str]:
    """The sandbox carrier (base URL) in a child process; calls ring ``ring_seconds`` (no progress)."""
    with sandbox(ring_seconds) as (base, _):
        yield base
