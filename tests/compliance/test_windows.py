"""The federal window [08:00, 21:00) local (47 CFR 64.1200(c)(1); CP-5), per zone, across DST."""

from __future__ import annotations

from datetime import datetime

import pytest

from compliance.windows import next_window_opening, zones_outside_window
from tests.compliance.factories import ADAK, ANCHORAGE, CHICAGO, LOS_ANGELES, NEW_YORK, local, utc

ZONES = [
    NEW_YORK,
    CHICAGO,
    "America/Denver",
    "America/Phoenix",
    LOS_ANGELES,
    ANCHORAGE,
    ADAK,
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Pacific/Guam",
]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("wall", "inside"),
    [
        ((7, 59, 59), False),
        ((8, 0, 0), True),
        ((20, 59, 59), True),
        ((21, 0, 0), False),
        ((0, 0, 0), False),
        ((12, 0, 0), True),
    ],
)
@pytest.mark.parametrize("day", [(2026, 1, 14), (2026, 7, 14)])
def test_window_boundaries_are_half_open_in_every_zone(zone, wall, inside, day):
    now = local(zone, *day, *wall)
    assert zones_outside_window(now, [zone]) == (() if inside else (zone,))


def test_most_restrictive_zone_is_reported():
    # 08:30 in Anchorage is 07:30 in Adak.
    now = local(ANCHORAGE, 2026, 3, 10, 8, 30)
    assert zones_outside_window(now, [ADAK, ANCHORAGE]) == (ADAK,)
    # 20:30 in Adak is 21:30 in Anchorage.
    now = local(ADAK, 2026, 3, 10, 20, 30)
    assert zones_outside_window(now, [ADAK, ANCHORAGE]) == (ANCHORAGE,)


def test_spring_forward_2026_03_08_uses_daylight_offset():
    # Chicago switches from UTC-6 to UTC-5 at 02:00 local on 2026-03-08: 08:00 CDT is 13:00Z.
    assert zones_outside_window(utc(2026, 3, 8, 12, 59, 59), [CHICAGO]) == (CHICAGO,)
    assert zones_outside_window(utc(2026, 3, 8, 13, 0, 0), [CHICAGO]) == ()
    # The day before, 13:00Z is still 07:00 CST.
    assert zones_outside_window(utc(2026, 3, 7, 13, 0, 0), [CHICAGO]) == (CHICAGO,)
    assert zones_outside_window(utc(2026, 3, 7, 14, 0, 0), [CHICAGO]) == ()
    # Phoenix has no DST: 08:00 MST is 15:00Z on both days.
    assert zones_outside_window(utc(2026, 3, 8, 14, 59, 59), ["America/Phoenix"]) == ("America/Phoenix",)
    assert zones_outside_window(utc(2026, 3, 8, 15, 0, 0), ["America/Phoenix"]) == ()


def test_fall_back_2026_11_01_uses_standard_offset():
    # Chicago returns to UTC-6 at 02:00 local on 2026-11-01: 08:00 CST is 14:00Z.
    assert zones_outside_window(utc(2026, 10, 31, 13, 30), [CHICAGO]) == ()
    assert zones_outside_window(utc(2026, 11, 1, 13, 30), [CHICAGO]) == (CHICAGO,)
    assert zones_outside_window(utc(2026, 11, 1, 14, 0), [CHICAGO]) == ()
    # Evening: 21:00 CST on Nov 1 is 03:00Z on Nov 2; 21:00 CDT on Oct 31 is 02:00Z on Nov 1.
    assert zones_outside_window(utc(2026, 11, 1, 2, 0), [CHICAGO]) == (CHICAGO,)
    assert zones_outside_window(utc(2026, 11, 2, 2, 30), [CHICAGO]) == ()
    assert zones_outside_window(utc(2026, 11, 2, 3, 0), [CHICAGO]) == (CHICAGO,)


@pytest.mark.parametrize(
    ("now", "zones", "expected"),
    [
        # Inside everywhere: now itself.
        (utc(2026, 6, 15, 15, 0), [NEW_YORK, CHICAGO], utc(2026, 6, 15, 15, 0)),
        # 08:30 Anchorage / 07:30 Adak -> 08:00 Adak (HDT, UTC-9) = 17:00Z.
        (local(ANCHORAGE, 2026, 3, 10, 8, 30), [ADAK, ANCHORAGE], utc(2026, 3, 10, 17, 0)),
        # 09:30 Chicago / 07:30 Los Angeles -> 08:00 PDT = 15:00Z.
        (local(CHICAGO, 2026, 6, 15, 9, 30), [CHICAGO, LOS_ANGELES], utc(2026, 6, 15, 15, 0)),
        # After 21:00 in New York: next morning 08:00 EDT (the later-opening zone is Chicago: 13:00Z).
        (local(NEW_YORK, 2026, 6, 15, 21, 0), [NEW_YORK, CHICAGO], utc(2026, 6, 16, 13, 0)),
        # Midnight before spring forward: 08:00 CDT on 2026-03-08 = 13:00Z (not 14:00Z).
        (local(CHICAGO, 2026, 3, 8, 0, 0), [CHICAGO], utc(2026, 3, 8, 13, 0)),
        # Midnight before fall back: 08:00 CST on 2026-11-01 = 14:00Z (not 13:00Z).
        (local(CHICAGO, 2026, 11, 1, 0, 0), [CHICAGO], utc(2026, 11, 1, 14, 0)),
        # Saturday 22:00 in Guam (UTC+10) -> Sunday 08:00 ChST = 22:00Z Saturday.
        (local("Pacific/Guam", 2026, 6, 13, 22, 0), ["Pacific/Guam"], utc(2026, 6, 13, 22, 0)),
    ],
)
def test_next_window_opening_is_exact(now, zones, expected):
    result = next_window_opening(now, zones)
    assert result == expected
    assert result.utcoffset().total_seconds() == 0
    assert zones_outside_window(result, zones) == ()


def test_next_window_opening_none_when_windows_never_overlap():
    # Windows in UTC: UTC [08, 21), Singapore (+8) [00, 13), Pitcairn (-8) [16, 05): no common instant.
    zones = ["UTC", "Asia/Singapore", "Pacific/Pitcairn"]
    assert next_window_opening(utc(2026, 6, 15, 0, 0), zones) is None
    # Any two of them do overlap.
    assert next_window_opening(utc(2026, 6, 15, 0, 0), zones[:2]) == utc(2026, 6, 15, 8, 0)


def test_naive_now_and_empty_zones_raise():
    with pytest.raises(ValueError):
        zones_outside_window(datetime(2026, 6, 15, 12, 0), [CHICAGO])
    with pytest.raises(ValueError):
        next_window_opening(datetime(2026, 6, 15, 12, 0), [CHICAGO])
    with pytest.raises(ValueError):
        zones_outside_window(utc(2026, 6, 15, 12, 0), [])
    with pytest.raises(ValueError):
        next_window_opening(utc(2026, 6, 15, 12, 0), [])
