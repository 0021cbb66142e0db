"""A settable clock for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FixedClock:
    """Reads ``at`` until moved with :meth:`advance` or by assigning ``at``."""

    def __init__(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
