"""Interpreting a time as a prospect says it ("Tuesday at 2pm", "tomorrow at 10am") in their zone.

``python-dateutil`` does the parsing; this module adds what a phone conversation needs and
dateutil does not know: relative day words (``today``, ``tonight``, ``tomorrow``), ``next`` /
``this`` before a weekday, and rolling a named weekday that has already passed today to next
week. A phrase without a clock time is refused rather than guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import parser as date_parser

from dialer.errors import ToolArgumentError

_CLOCK = re.compile(r"\b\d{1,2}(?::\d{2})?\s*[ap]\.?\s*m\b|\d{1,2}:\d{2}|\bnoon\b", re.I)
_RELATIVE = {"today": 0, "tonight": 0, "tomorrow": 1}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_time_phrase(text: str, *, zone: str, now: datetime) -> datetime:
    """The instant (aware, UTC) that ``text`` names, read in IANA ``zone`` relative to ``now``.

    Args:
        text: e.g. ``"Tuesday at 2pm"``, ``"tomorrow at 10:30 am"``, ``"Dec 1 at 3pm"``,
            ``"2026-11-24T14:00"``.
        zone: the prospect's IANA time zone.
        now: the current instant (aware).

    Raises:
        ToolArgumentError: empty text, no time of day, or text dateutil cannot read.
    """
    phrase = " ".join(text.strip().split())
    if not phrase:
        raise ToolArgumentError("no time was given")
    tz = ZoneInfo(zone)
    local_now = now.astimezone(tz)
    lowered = phrase.lower().replace("noon", "12pm")
    if not _CLOCK.search(lowered):
        raise ToolArgumentError(f"{text!r} has no time of day; ask for a specific time such as 2pm")
    day_shift = next((shift for word, shift in _RELATIVE.items() if re.search(rf"\b{word}\b", lowered)), None)
    cleaned = re.sub(r"\b(today|tonight|tomorrow|next|this|at|on|around|about)\b", " ", lowered)
    base = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if day_shift is not None:
        base += timedelta(days=day_shift)
    try:
        parsed = date_parser.parse(cleaned, default=base.replace(tzinfo=None), fuzzy=True)
    except (ValueError, OverflowError) as exc:
        raise ToolArgumentError(f"could not understand the time {text!r}: {exc}") from None
    when = parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)
    names_weekday = any(re.search(rf"\b{day}\b", lowered) for day in _WEEKDAYS)
    if names_weekday and when <= local_now:
        when += timedelta(days=7)
    return when.astimezone(UTC)
