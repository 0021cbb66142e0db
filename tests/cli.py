"""The ``dialer`` command run inside the test process, as its console script runs it.

A subprocess costs the interpreter's start and every import (over a second here) and adds nothing
when the test is about what the command does; tests about the process itself (its environment,
signals, a traceback it must not print) keep running ``python -m dialer.cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from unittest import mock

from click.testing import CliRunner

import dialer.cli
from dialer.runtime import get_runtime
from dialer.settings import get_settings


@dataclass(frozen=True)
class CliResult:
    """What a run of the command left: its exit status and what it printed (as a process would)."""

    returncode: int
    stdout: str
    stderr: str


class _Entry:
    """``dialer.cli:main`` (the console script, with its one-line product errors) as a command
    click's :class:`CliRunner` can invoke: the arguments go in through ``sys.argv``, as the
    script's do (typer's runner would invoke the typer app and skip ``main``'s error handling)."""

    name = "dialer"

    def main(self, args: Sequence[str], prog_name: str, **_: object) -> None:
        """Run the console script's entry point on ``args``."""
        with mock.patch.object(sys, "argv", [prog_name, *args]):
            dialer.cli.main()


def _fresh_process_state() -> None:
    """Forget the settings and runtime an earlier command built (a new process starts without)."""
    get_runtime.cache_clear()
    get_settings.cache_clear()


def invoke(args: Sequence[str], *, env: dict[str, str] | None = None, stdin: str | None = None) -> CliResult:
    """Run ``dialer *args`` in this process with ``env`` added to the environment, ``stdin`` as input.

    An exception the command does not handle propagates (the test fails with its traceback).
    """
    _fresh_process_state()
    try:
        result = CliRunner().invoke(
            _Entry(),  # type: ignore[arg-type]
            list(args),
            input=stdin,
            env=env,
            catch_exceptions=False,
        )
    finally:
        _fresh_process_state()
    return CliResult(result.exit_code, result.stdout, result.stderr)
