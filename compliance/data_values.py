"""Values read from the rule data files (``compliance/data/*.toml``), shared by their loaders."""

from __future__ import annotations

from datetime import date, datetime


def as_date(value: object) -> date | None:
    """A TOML date or an ISO ``"YYYY-MM-DD"`` string as a ``date``; None for anything else.

    A TOML date-time is not a date (None), so a rule's effective date cannot carry a time of day.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None
