"""The Alembic migration builds exactly the models' schema on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import dialer.models  # noqa: F401
from dialer.db import Base, make_engine


def _drift(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
    finally:
        engine.dispose()


def test_no_drift_on_postgresql(pg_url):
    assert _drift(pg_url) == []


def test_no_drift_on_sqlite(sqlite_url):
    assert _drift(sqlite_url) == []
