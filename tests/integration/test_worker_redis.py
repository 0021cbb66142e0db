"""A real Celery worker on the machine's Redis and PostgreSQL, dialing the sandbox carrier.

The same dial task is published three times (a redelivery, a duplicate publish, a retry): the
carrier must see exactly one call.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis
from sqlalchemy import func, select

from dialer.celery_app import create_celery_app
from dialer.db import transaction
from dialer.demo.processes import celery_worker_args, listening_socket, sandbox_args
from dialer.dialing import claim_dialable_leads
from dialer.models import CallAttempt
from dialer.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN
from tests.conftest import MONDAY_11_CHICAGO, make_settings
from tests.factories import create_campaign, create_lead
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def _http_ok(url):
    try:
        return httpx.get(url, timeout=1).is_success
    except httpx.HTTPError:
        return False


@pytest.fixture
def sandbox_carrier():
    """The sandbox (carrier and agent) in a process of its own, on sockets bound here; its URL."""
    carrier, agent = listening_socket(), listening_socket()
    fds = (carrier.fileno(), agent.fileno())
    with carrier, agent:
        process = subprocess.Popen(
            [sys.executable, "-m", *sandbox_args(*fds, ring_seconds=0.2, ms_per_char=12.0)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=fds,
        )
        url = f"http://127.0.0.1:{carrier.getsockname()[1]}"
    try:
        wait_until(lambda: _http_ok(f"{url}/sandbox/stats"), what="the sandbox carrier")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_task_delivered_three_times_places_one_call(runtime, pg_url, broker_url, sandbox_carrier, tmp_path):
    broker = broker_url
    redis.Redis.from_url(broker).flushdb()
    with transaction(runtime.sessions) as s:
        lead_id = create_lead(s, create_campaign(s)).id
    with transaction(runtime.sessions) as s:
        assert claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=timedelta(minutes=2)) == [
            lead_id
        ]

    env = {
        **os.environ,
        "DIALER_DATABASE_URL": pg_url,
        "DIALER_BROKER_URL": broker,
        "DIALER_REDIS_URL": broker,
        "DIALER_BROKER_DIR": str(tmp_path / "broker"),
        "DIALER_DNC_DIR": str(runtime.settings.dnc_dir),  # the national list the gate needs (CP-10)
        "DIALER_TWILIO_ACCOUNT_SID": SANDBOX_ACCOUNT_SID,
        "DIALER_TWILIO_AUTH_TOKEN": SANDBOX_AUTH_TOKEN,
        "DIALER_TWILIO_API_BASE_URL": sandbox_carrier,
        "DIALER_PUBLIC_URL": "http://127.0.0.1:9",
        "DIALER_SANDBOX_CLOCK_START": MONDAY_11_CHICAGO.isoformat(),
        "DIALER_SANDBOX_CLOCK_ANCHOR": datetime.now(UTC).isoformat(),
    }
    publisher = create_celery_app(make_settings(broker_url=broker))
    for _ in range(3):
        publisher.send_task("dialer.dial", args=[lead_id])
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            *celery_worker_args(4, loglevel="warning"),
            "--without-heartbeat",
            "--without-mingle",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis.from_url(broker)

        def attempts():
            with runtime.sessions() as s:
                return s.scalar(select(func.count()).select_from(CallAttempt))

        # acks_late: a delivery leaves Redis's "unacked" hash only once its task has finished, so
        # an empty queue and nothing unacked means all three deliveries were handled in full; a
        # wrongly duplicated dial would have happened by then.
        wait_until(
            lambda: attempts() == 1 and client.llen("celery") == 0 and client.hlen("unacked") == 0,
            what="the worker to handle every delivery",
        )
        stats = httpx.get(f"{sandbox_carrier}/sandbox/stats").json()
    finally:
        worker.terminate()
        worker.wait(20)
    assert attempts() == 1
    assert stats["calls_created"] == 1 and stats["duplicate_calls"] == 0
    with runtime.sessions() as s:
        assert s.scalars(select(CallAttempt.call_sid)).one().startswith("CA")
