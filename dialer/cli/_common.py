"""Helpers shared by the CLI commands."""

from __future__ import annotations

import getpass

from rich.console import Console

from dialer.runtime import Runtime, get_runtime

console = Console(highlight=False)


def actor() -> str:
    """The audit actor for a command run by a person: ``user:<login>``."""
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):
        return "user:unknown"


def runtime() -> Runtime:
    """The process runtime (settings are validated here; errors exit with a clear message)."""
    return get_runtime()
