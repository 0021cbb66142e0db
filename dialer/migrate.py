"""Run Alembic migrations programmatically (``dialer db upgrade``, the demo, the tests), and check them.

:func:`require_current_schema` is what every command that reads or writes the product database
calls first: on a database that was never migrated (or is behind the code) it says to run
``dialer db upgrade`` and creates nothing (an SQLite file that does not exist is not created).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

import migrations
from dialer.errors import ConfigurationError, DatabaseUnavailableError, SchemaNotReadyError

MIGRATIONS_DIR = Path(next(iter(migrations.__path__))).resolve()


def alembic_config(database_url: str) -> Config:
    """An Alembic config for ``database_url`` that works from a checkout or an installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` up to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    """The newest schema revision the code knows (the migrations' head)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "the migrations folder has no head"
    return head


def current_revision(database_url: str) -> str | None:
    """The database's schema revision, or None when it has none (never migrated; nothing is created).

    Raises:
        ConfigurationError: ``database_url`` is not a database URL.
        DatabaseUnavailableError: the database cannot be reached.
    """
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigurationError(f"DIALER_DATABASE_URL {database_url!r} is not a database URL") from None
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).exists():
            return None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailableError(f"cannot reach the database {shown}: {reason}") from None
    finally:
        engine.dispose()


def require_current_schema(database_url: str) -> None:
    """Refuse to go on unless the database is migrated to :func:`head_revision`.

    Raises:
        SchemaNotReadyError: no schema, or an older or unknown revision (the message says to run
            ``dialer db upgrade``).
        DatabaseUnavailableError: the database cannot be reached.
    """
    current = current_revision(database_url)
    head = head_revision()
    if current == head:
        return
    shown = make_url(database_url).render_as_string(hide_password=True)
    if current is None:
        raise SchemaNotReadyError(f"the database {shown} has no schema yet: run `dialer db upgrade` first")
    raise SchemaNotReadyError(
        f"the database {shown} is at schema revision {current}, the code needs {head}: "
        "run `dialer db upgrade`"
    )
