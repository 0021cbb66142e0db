"""The demo's production-stack preparation and the earlier opt-outs that travel with a leads file."""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from dialer.demo.seed import earlier_opt_outs_file
from dialer.demo.stack import Stack, check_stack_urls, prepare_postgres, prepare_redis, worker_commands
from dialer.errors import InvalidStateError
from dialer.models import Campaign
from tests.conftest import PG_ADMIN_URL, _sqlalchemy_url
from tests.factories import create_campaign

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_file_carries_its_earlier_opt_out_beside_it(tmp_path):
    assert earlier_opt_outs_file(ROOT / "leads.example.csv") == ROOT / "leads.example.dnc.csv"
    leads = tmp_path / "spring.csv"
    leads.write_text("phone\n3125550101\n")
    assert earlier_opt_outs_file(leads) is None
    (tmp_path / "spring.dnc.csv").write_text("phone\n3125550101\n")
    assert earlier_opt_outs_file(leads) == tmp_path / "spring.dnc.csv"


@pytest.mark.parametrize(
    ("database_url", "broker_url", "workers", "message"),
    [
        ("postgresql+psycopg://u@h/db", None, 1, "given together"),
        (None, None, 3, "embedded stack runs one worker"),
        ("sqlite:///x.db", "redis://h/1", 2, r"expected postgresql\+psycopg://"),
        ("postgresql+psycopg://u@h/db", "amqp://h", 2, "expected redis://"),
        ("postgresql+psycopg://u@h/db", "redis://h/1", 0, "at least 1"),
    ],
)
def test_a_half_given_or_wrong_stack_is_refused_before_anything_starts(
    database_url, broker_url, workers, message
):
    with pytest.raises(InvalidStateError, match=message):
        check_stack_urls(database_url, broker_url, workers)


def test_the_production_stack_runs_n_named_workers_and_one_beat():
    commands = worker_commands(Stack("postgresql+psycopg://u@h/db", "redis://h/1", 3), concurrency=6)
    assert [name for name, _ in commands] == ["worker-1", "worker-2", "worker-3", "beat"]
    assert commands[1][1][-2:] == ["-n", "demo-2@%h"] and "--beat" not in commands[0][1]
    embedded = worker_commands(Stack("sqlite:///x.db", "localfs://"), concurrency=4)
    assert [name for name, _ in embedded] == ["worker"] and "--beat" in embedded[0][1]


@pytest.fixture
def demo_database():
    name = f"dialer_demo_test_{uuid.uuid4().hex[:8]}"
    yield _sqlalchemy_url(PG_ADMIN_URL, name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_demo_creates_and_migrates_its_database_and_refuses_one_with_data(demo_database):
    prepare_postgres(demo_database, reset=False)  # created, migrated
    engine = create_engine(demo_database)
    with Session(engine) as s, s.begin():
        create_campaign(s)
    engine.dispose()
    with pytest.raises(InvalidStateError, match="already holds data \\(1 campaigns\\).*--reset"):
        prepare_postgres(demo_database, reset=False)
    prepare_postgres(demo_database, reset=True)  # dropped, recreated, migrated: empty
    engine = create_engine(demo_database)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0
    engine.dispose()


def test_the_demo_refuses_a_redis_database_with_keys_unless_reset(broker_url):
    client = redis.Redis.from_url(broker_url)
    client.flushdb()
    client.set("someone-else", datetime.now(UTC).isoformat())
    with pytest.raises(InvalidStateError, match="holds 1 keys.*--reset"):
        prepare_redis(broker_url, reset=False)
    prepare_redis(broker_url, reset=True)
    assert client.dbsize() == 0


def test_beat_keeps_its_schedule_out_of_the_working_directory(tmp_path):
    """Compose's beat ran as `dialer` in a root-owned /app and crash-looped writing ./.dialer/broker."""
    from dialer.celery_app import create_celery_app
    from tests.conftest import make_settings

    explicit = make_settings(broker_url="redis://h/0", beat_schedule_file=tmp_path / "beat" / "schedule")
    assert create_celery_app(explicit).conf.beat_schedule_filename == str(tmp_path / "beat" / "schedule")
    network = make_settings(broker_url="redis://h/0")
    assert network.beat_schedule_path.parent == Path(tempfile.gettempdir())
    embedded = make_settings(broker_url="localfs://", broker_dir=tmp_path / "broker")
    assert embedded.beat_schedule_path == (tmp_path / "broker" / "celerybeat-schedule").resolve()
