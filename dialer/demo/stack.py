"""The demo on the production stack: a PostgreSQL database it migrates, Redis, several Celery workers.

``dialer demo --database-url postgresql+psycopg://... --broker-url redis://... --workers N`` runs the
same sandbox campaign as the embedded default, with N ``celery worker`` processes and one ``celery
beat`` process (the tick) on Redis. The demo needs a database and a Redis database of its own: it
creates the PostgreSQL database when it does not exist, refuses one that already holds campaign data
or a Redis database that holds keys, and with ``reset`` drops and recreates the database and empties
the Redis database first.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import redis
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dialer.db import engine_for
from dialer.demo.processes import celery_beat_args, celery_worker_args
from dialer.errors import InvalidStateError
from dialer.migrate import upgrade
from dialer.models import Campaign, DncEntry, DncSource, Lead


@dataclass(frozen=True)
class Stack:
    """Where the demo's campaign runs.

    Attributes:
        database_url: SQLAlchemy URL (``sqlite:///...`` embedded, ``postgresql+psycopg://...``).
        broker_url: Celery broker (``localfs://`` embedded, ``redis://host:port/db``).
        workers: Celery worker processes (the embedded stack runs one, with beat inside it).
    """

    database_url: str
    broker_url: str
    workers: int = 1

    @property
    def embedded(self) -> bool:
        """True for the SQLite + filesystem-broker stack."""
        return self.broker_url.startswith("localfs")


def check_stack_urls(database_url: str | None, broker_url: str | None, workers: int) -> None:
    """Refuse a half-given or unsupported production stack before anything starts.

    Raises:
        InvalidStateError: only one of the two URLs given, a database URL that is not PostgreSQL
            with psycopg 3, a broker URL that is not ``redis://``/``rediss://``, or ``workers`` < 1
            (or > 1 on the embedded stack).
    """
    if (database_url is None) != (broker_url is None):
        raise InvalidStateError("--database-url and --broker-url are given together (or neither)")
    if workers < 1:
        raise InvalidStateError(f"--workers {workers}: at least 1")
    if database_url is None:
        if workers != 1:
            raise InvalidStateError(
                "--workers needs --database-url and --broker-url: the embedded stack runs one worker"
            )
        return
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise InvalidStateError(f"--database-url {database_url!r} is not a database URL") from None
    if url.drivername != "postgresql+psycopg" or not url.database:
        raise InvalidStateError(
            f"--database-url {database_url!r}: expected postgresql+psycopg://USER@HOST:PORT/DATABASE"
        )
    if not str(broker_url).startswith(("redis://", "rediss://")):
        raise InvalidStateError(f"--broker-url {broker_url!r}: expected redis://HOST:PORT/DB")


def prepare_postgres(database_url: str, *, reset: bool) -> None:
    """Create (or, with ``reset``, drop and recreate) the database, migrate it, check it is empty.

    Args:
        database_url: ``postgresql+psycopg://USER[:PASSWORD]@HOST[:PORT]/DATABASE``; the user must
            be allowed to create databases when it does not exist yet (or with ``reset``).

    Raises:
        InvalidStateError: the server does not answer, or the database already holds campaigns,
            leads or DNC data (the message says how to reset it).
    """
    url = make_url(database_url)
    name = str(url.database)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
            if reset:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidStateError(f"PostgreSQL at {url.host}:{url.port or 5432}: {first_line}") from None
    upgrade(database_url)
    engine = engine_for(database_url)
    with engine.connect() as conn:
        held = {
            model.__tablename__: conn.scalar(select(func.count()).select_from(model))
            for model in (Campaign, Lead, DncEntry, DncSource)
        }
    if any(held.values()):
        counts = ", ".join(f"{count} {table}" for table, count in held.items() if count)
        raise InvalidStateError(
            f"database {name!r} already holds data ({counts}); the demo needs one of its own: "
            "pass --reset to drop and recreate it, or name another database"
        )


def prepare_redis(broker_url: str, *, reset: bool) -> None:
    """Check the Redis database answers and is empty (with ``reset``: empty it, FLUSHDB).

    Raises:
        InvalidStateError: Redis does not answer, or the database holds keys and ``reset`` is false.
    """
    client = redis.Redis.from_url(broker_url, socket_connect_timeout=5)
    try:
        if reset:
            client.flushdb()
        keys = client.dbsize()
    except redis.RedisError as exc:
        raise InvalidStateError(f"Redis at {broker_url}: {exc}") from None
    finally:
        client.close()
    if keys:
        raise InvalidStateError(
            f"the Redis database {broker_url} holds {keys} keys; the demo needs one of its own "
            "(its workers would take any task queued there): pass --reset to empty it, or name another"
        )


def worker_commands(stack: Stack, *, concurrency: int) -> list[tuple[str, list[str]]]:
    """``(name, python -m arguments)`` of the Celery processes to start for ``stack``.

    The embedded stack runs one worker with beat inside it (the filesystem broker is one machine's);
    the production stack runs ``stack.workers`` workers with distinct node names and one beat.
    Each worker runs ``concurrency`` threads (dial tasks).
    """
    if stack.embedded:
        return [("worker", [*celery_worker_args(concurrency), "--beat"])]
    commands = [
        (f"worker-{i}", celery_worker_args(concurrency, node=f"demo-{i}@%h"))
        for i in range(1, stack.workers + 1)
    ]
    commands.append(("beat", celery_beat_args()))
    return commands
