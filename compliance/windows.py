"""The federal calling window, checked in every candidate zone.

No telephone solicitation before 8 a.m. or after 9 p.m. local time at the called party's location
(47 CFR 64.1200(c)(1); 16 CFR 310.4(c)). The product applies it as the half-open local interval
``[08:00, 21:00)`` (CP-5: 08:00:00 allowed, 21:00:00 blocked), even with PEWC (CP-6), in every
candidate zone (CP-3). Local times come from ``zoneinfo``, so DST transitions are exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

WINDOW_START = time(8, 0)
"""First allowed local time (inclusive); 47 CFR 64.1200(c)(1); CP-5."""

WINDOW_END = time(21, 0)
"""First blocked local time after the window (exclusive end); 47 CFR 64.1200(c)(1); CP-5."""

LOOKAHEAD_DAYS = 3
"""How many local days ahead ``next_window_opening`` searches."""


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def _zones(zones: Iterable[str]) -> tuple[str, ...]:
    result = tuple(dict.fromkeys(zones))
    if not result:
        raise ValueError("no zones: the window cannot be decided without a zone (fail closed)")
    return result


def in_window(local: datetime) -> bool:
    """Whether a local wall-clock time is inside ``[08:00, 21:00)``; CP-5.

    Args:
        local: a datetime already converted to the zone in question.
    """
    return WINDOW_START <= local.time() < WINDOW_END


def local_times(now: datetime, zones: Iterable[str]) -> dict[str, datetime]:
    """``now`` as wall-clock time in each zone.

    Args:
        now: an aware instant.
        zones: IANA zone names.

    Returns:
        Zone name -> aware local datetime, in the zones' order.

    Raises:
        ValueError: ``now`` is naive or ``zones`` is empty.
        zoneinfo.ZoneInfoNotFoundError: a zone name is unknown.
    """
    _require_aware(now)
    return {zone: now.astimezone(ZoneInfo(zone)) for zone in _zones(zones)}


def zones_outside_window(now: datetime, zones: Iterable[str]) -> tuple[str, ...]:
    """The zones whose local time at ``now`` is outside ``[08:00, 21:00)``.

    Source: 47 CFR 64.1200(c)(1); 16 CFR 310.4(c); CP-3 (every zone), CP-5 (half-open), CP-6.

    Args:
        now: an aware instant.
        zones: IANA zone names (the call's candidate zones).

    Returns:
        The blocked zones, in the order given; empty when the call is inside the window everywhere.

    Raises:
        ValueError: ``now`` is naive or ``zones`` is empty (no zone means no decision: fail closed).
        zoneinfo.ZoneInfoNotFoundError: a zone name is unknown.
    """
    return tuple(zone for zone, local in local_times(now, zones).items() if not in_window(local))


def next_window_opening(now: datetime, zones: Iterable[str]) -> datetime | None:
    """The earliest instant at or after ``now`` at which every zone is inside ``[08:00, 21:00)``.

    The intersection of the zones' windows can only start at ``now`` or at some zone's 08:00, so the
    candidates are ``now`` and each zone's 08:00 local on its current local day and the next
    ``LOOKAHEAD_DAYS`` days, converted to UTC (zoneinfo handles DST). Source: 47 CFR 64.1200(c)(1);
    CP-3, CP-5.

    Args:
        now: an aware instant.
        zones: IANA zone names (the call's candidate zones).

    Returns:
        The instant in UTC (``now`` itself when already inside everywhere), or None when the windows do
        not overlap within the lookahead (the caller must then treat the block as open-ended).

    Raises:
        ValueError: ``now`` is naive or ``zones`` is empty.
        zoneinfo.ZoneInfoNotFoundError: a zone name is unknown.
    """
    _require_aware(now)
    names = _zones(zones)
    tzs = [ZoneInfo(zone) for zone in names]
    start = now.astimezone(UTC)
    candidates = {start}
    for tz in tzs:
        today = start.astimezone(tz).date()
        for offset in range(LOOKAHEAD_DAYS + 1):
            opening = datetime.combine(today + timedelta(days=offset), WINDOW_START, tzinfo=tz)
            opening_utc = opening.astimezone(UTC)
            if opening_utc >= start:
                candidates.add(opening_utc)
    for candidate in sorted(candidates):
        if all(in_window(candidate.astimezone(tz)) for tz in tzs):
            return candidate
    return None
