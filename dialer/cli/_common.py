"""Helpers shared by the CLI commands."""

from __future__ import annotations

import getpass

from rich.console import Console

from dialer.migrate import require_current_schema
from dialer.runtime import Runtime, get_runtime
from dialer.settings import get_settings

console = Console(highlight=False)


def actor() -> str:
    """The audit actor for a command run by a person: ``user:<login>``."""
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):
        return "user:unknown"


def runtime() -> Runtime:
    """The process runtime, on a migrated database.

    Settings are validated here, and the database's schema is checked before anything connects
    through the runtime, so a command on an unmigrated database says to run ``dialer db upgrade``
    and creates nothing.

    Raises:
        ConfigurationError: settings that cannot be used.
        SchemaNotReadyError: the database is not migrated to the code's revision.
        DatabaseUnavailableError: the database cannot be reached.
    """
    require_current_schema(get_settings().database_url)
    return get_runtime()
