"""How "My meetings" shows a meeting: times in the rep's and the lead's zones, upcoming or past.

Pure functions over :class:`crm.meetings.MeetingForRep` (no database, no clock: ``now`` is passed
in). The lead's zone is the meeting's ``lead_timezone``: the zone the bridge read the prospect's
time in, resolved at call time by ``compliance.resolve_jurisdiction`` from the lead's address and
number (:func:`dialer.calls.attempts.load_call_context`). The rep's zone is their choice on the
page, kept in the :data:`ZONE_COOKIE` cookie (no user setting exists), UTC until chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from crm.meetings import MeetingForRep

ZONE_COOKIE = "dialer_rep_zone"
"""The rep's display zone (an IANA name), set by the page's zone form."""
DEFAULT_ZONE = "UTC"
ZONE_CHOICES: tuple[str, ...] = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
)
"""The zones the form offers first (any IANA zone is accepted)."""
PAST_DAYS = 30
"""How far back "Past" reaches."""


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_zone(name: str | None) -> str | None:
    """``name`` if it is an IANA zone this machine knows, else None."""
    return name if name and name in _zones() else None


def zone_choices(current: str) -> tuple[str, ...]:
    """The form's zones, ``current`` first when it is not among :data:`ZONE_CHOICES`."""
    return ZONE_CHOICES if current in ZONE_CHOICES else (current, *ZONE_CHOICES)


def local_time(instant: datetime, zone: str) -> str:
    """``instant`` on a wall clock in ``zone``: ``Tue Nov 24, 2:00 PM CST``."""
    return instant.astimezone(ZoneInfo(zone)).strftime("%a %b %-d, %-I:%M %p %Z")


@dataclass(frozen=True)
class MeetingView:
    """A meeting with its times as the page prints them.

    Attributes:
        rep_time: the start in the rep's zone; ``lead_time`` in the lead's.
        same_zone: the two zones read the same wall clock (the page then prints one time).
    """

    meeting: MeetingForRep
    rep_time: str
    lead_time: str
    ends_rep_time: str
    same_zone: bool


def view(meeting: MeetingForRep, *, rep_zone: str) -> MeetingView:
    """A meeting as shown to a rep in ``rep_zone``."""
    ends = meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
    rep_time, lead_time = (
        local_time(meeting.starts_at, rep_zone),
        local_time(meeting.starts_at, meeting.lead_timezone),
    )
    return MeetingView(
        meeting=meeting,
        rep_time=rep_time,
        lead_time=lead_time,
        ends_rep_time=ends.astimezone(ZoneInfo(rep_zone)).strftime("%-I:%M %p"),
        same_zone=rep_time == lead_time,
    )


def split(
    meetings: list[MeetingForRep], *, now: datetime, rep_zone: str
) -> tuple[list[MeetingView], list[MeetingView]]:
    """Upcoming (not yet ended, soonest first) and past (most recent first) meetings."""
    upcoming: list[MeetingView] = []
    past: list[MeetingView] = []
    for meeting in meetings:
        ended = meeting.starts_at + timedelta(minutes=meeting.duration_minutes) <= now
        (past if ended else upcoming).append(view(meeting, rep_zone=rep_zone))
    return upcoming, past[::-1]
