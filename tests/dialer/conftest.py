"""Fixtures of the dialer tests: the ``dialer`` command run as an operator runs it."""

from __future__ import annotations

import os

import pytest

from dialer.cli import _common
from dialer.db import engine_for
from tests.cli import CliResult, invoke


@pytest.fixture
def run(tmp_path, monkeypatch):
    """``run(*args, **env)``: the ``dialer`` command in ``tmp_path`` on a migrated SQLite database.

    It runs in this process through the console script's entry point (:func:`tests.cli.invoke`):
    what it prints to stdout and stderr, and its exit status, are what the ``dialer`` process
    would give. The database is ``tmp_path / "cli.db"``; no ``DIALER_*`` variable of the test
    process leaks in (``env`` adds some), and rich tables are not wrapped (200 columns).
    """
    monkeypatch.chdir(tmp_path)  # where .env would be read and relative paths resolve
    for name in [n for n in os.environ if n.startswith("DIALER_") and not n.startswith("DIALER_TEST_")]:
        monkeypatch.delenv(name)  # (the test run's own DIALER_TEST_* are no settings)
    base_env = {
        "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "DIALER_BROKER_DIR": str(tmp_path / "broker"),
        "COLUMNS": "200",  # rich tables unwrapped
    }
    # The commands' console was built at import, before COLUMNS was set.
    monkeypatch.setattr(_common.console, "_width", 200)

    def dialer_command(*args: str, **extra_env: str) -> CliResult:
        return invoke(args, env=base_env | extra_env)

    assert dialer_command("db", "upgrade").returncode == 0
    yield dialer_command
    engine_for(base_env["DIALER_DATABASE_URL"]).dispose()
