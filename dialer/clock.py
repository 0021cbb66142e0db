"""Where "now" comes from.

Production always uses :class:`SystemClock`. A rehearsal against the sandbox carrier may run the
whole product on a :class:`SandboxClock` so that a demo's gate decisions do not depend on when it
is run; the settings refuse a sandbox clock unless REST calls go to a sandbox carrier, and refuse
it outright in production. Every process of one rehearsal computes the same instant from the same
two settings, so the worker, the API and the CLI agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from dialer.settings import Settings


class Clock(Protocol):
    """A source of the current instant."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock (UTC)."""

    def now(self) -> datetime:
        """The current instant from the OS, in UTC."""
        return datetime.now(UTC)


class SandboxClock:
    """A clock shifted so that ``anchor`` (a real instant) reads as ``start``; it then runs at real speed.

    Args:
        start: the instant the rehearsal pretends it is when the real clock reads ``anchor``.
        anchor: a real UTC instant, normally when the rehearsal began.
    """

    def __init__(self, start: datetime, anchor: datetime) -> None:
        self._offset = start.astimezone(UTC) - anchor.astimezone(UTC)

    def now(self) -> datetime:
        """The shifted instant, in UTC."""
        return datetime.now(UTC) + self._offset


def clock_from_settings(settings: Settings) -> Clock:
    """The clock the settings call for: the system clock unless a sandbox clock is configured."""
    if settings.sandbox_clock_start is not None and settings.sandbox_clock_anchor is not None:
        return SandboxClock(settings.sandbox_clock_start, settings.sandbox_clock_anchor)
    return SystemClock()
