"""Database plumbing: the declarative base, a UTC timestamp type, engines and sessions.

The same code runs on SQLite (the default, for a laptop) and PostgreSQL (production):

- timestamps are stored in UTC and always come back timezone-aware (:class:`UtcDateTime`);
- on SQLite every transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time, WAL
  journal, a busy timeout), which gives the row-locking code paths the same serial semantics
  that ``SELECT ... FOR UPDATE`` gives them on PostgreSQL;
- :func:`lock_for_update` adds ``FOR UPDATE`` / ``SKIP LOCKED`` only where the dialect has it;
  :func:`advisory_xact_lock` serializes on a name without locking any row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Engine, MetaData, Select, String, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonType = JSON().with_variant(JSONB(), "postgresql")
"""A JSON column: ``jsonb`` on PostgreSQL, ``JSON`` elsewhere."""


class UtcDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that refuses naive datetimes and always returns aware UTC.

    Raises:
        ValueError: on binding a naive datetime (a bug: every instant in the product is aware).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Convert an aware instant to UTC (naive for SQLite, which has no zone type)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} would be ambiguous; pass an aware instant")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return an aware UTC instant."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumColumn(TypeDecorator[Any]):
    """A ``StrEnum`` stored as its value in a ``VARCHAR``; loads back as the enum member.

    Raises:
        ValueError: on loading a value the enum does not define (a corrupted row).
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], length: int = 32) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        """Store the member's value (plain strings are checked against the enum)."""
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        """Return the enum member."""
        return None if value is None else self.enum_cls(value)


class Base(DeclarativeBase):
    """Declarative base for every table; constraint names follow :data:`NAMING_CONVENTION`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JsonType, list[Any]: JsonType}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit BEGIN is deferred and racy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``database_url`` with the product's dialect settings.

    A SQLite file's parent directory is created if missing.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@lru_cache(maxsize=8)
def engine_for(database_url: str) -> Engine:
    """The process-wide engine for ``database_url`` (created once)."""
    return make_engine(database_url)


def session_factory(engine: Engine, *, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay usable after commit.

    ``info`` seeds every session's ``session.info`` (e.g. the dial capacity, for releases on commit).
    """
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, yield it inside a transaction, commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session


_S = TypeVar("_S", bound=Select[Any])


def lock_for_update(statement: _S, session: Session, *, skip_locked: bool = False) -> _S:
    """Add ``FOR UPDATE`` (and ``SKIP LOCKED``) on dialects that have row locks.

    On SQLite the statement is returned unchanged: its ``BEGIN IMMEDIATE`` transaction already
    holds the database's single write lock, which is stronger than a row lock.
    """
    if session.get_bind().dialect.name == "sqlite":
        return statement
    return statement.with_for_update(skip_locked=skip_locked)


def advisory_xact_lock(session: Session, name: str) -> None:
    """Serialize transactions on ``name`` until this one ends (PostgreSQL advisory lock).

    PostgreSQL: ``pg_advisory_xact_lock`` on a 64-bit key derived from ``name`` (sha256), released
    at commit or rollback; no table row is locked, so it never joins a row-lock deadlock cycle
    with other work. SQLite: nothing to do, the ``BEGIN IMMEDIATE`` transaction already holds the
    database's single write lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
