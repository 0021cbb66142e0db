"""Fixtures of the dialer tests: the ``dialer`` command run as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture
def run(tmp_path):
    """``run(*args, **env)``: ``python -m dialer.cli *args`` in ``tmp_path`` on a migrated SQLite database.

    The database is ``tmp_path / "cli.db"``; no ``DIALER_*`` variable of the test process leaks in,
    and rich tables are not wrapped (200 columns).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    env["DIALER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env["DIALER_BROKER_DIR"] = str(tmp_path / "broker")
    env["COLUMNS"] = "200"  # rich tables unwrapped

    def dialer(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dialer.cli", *args],
            cwd=tmp_path,
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert dialer("db", "upgrade").returncode == 0
    return dialer
