"""Candidate time zones through the gate (CP-3, CP-5, CP-11): DST days, no-DST zones, split area codes,
address zones that narrow the window, and numbers whose zone cannot be resolved.

Window edges are computed with zoneinfo for the day in question, then checked one second either side.
A call must be allowed in every candidate zone, so the window is [latest local start, earliest local end).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest

from tests.compliance.gate_cases import (
    BOISE,
    CHICAGO,
    DENVER,
    HONOLULU,
    LOS_ANGELES,
    MON,
    ND_CENTER,
    NEW_YORK,
    PHOENIX,
    R,
    assert_allowed,
    assert_blocked_by,
    decide,
    lead,
    utc,
)

ONE_SECOND = timedelta(seconds=1)
DST_START = date(2026, 3, 8)  # Sunday, 02:00 local -> 03:00
DST_END = date(2026, 11, 1)  # Sunday, 02:00 local -> 01:00
JULY = date(2026, 7, 14)  # Tuesday
JANUARY = date(2026, 1, 13)  # Tuesday


def edges(
    zones: tuple[str, ...], day: date, start: time = time(8), end: time = time(21)
) -> tuple[datetime, datetime]:
    """[start, end) in UTC at which local ``day`` is inside [start, end) in every zone."""
    starts = [datetime.combine(day, start, tzinfo=ZoneInfo(z)) for z in zones]
    ends = [datetime.combine(day, end, tzinfo=ZoneInfo(z)) for z in zones]
    return max(starts), min(ends)


def number_lead(phone: str, address: dict | None = None) -> dict:
    """The baseline lead for ``phone`` (consent moved to it); no address unless given."""
    assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
    return lead(phone_e164=phone, address=address)


def check_window(lead_dict: dict, zones: tuple[str, ...], day: date, start=time(8), end=time(21)) -> None:
    """The window edges for ``zones`` on ``day``, one second either side, and the decision's zones."""
    lo, hi = edges(zones, day, start, end)
    before = decide(lead_dict, at=lo - ONE_SECOND)
    assert before.zones == zones
    assert before.decision == "block"
    assert before.next_allowed_at == lo
    assert_allowed(decide(lead_dict, at=lo))
    assert_allowed(decide(lead_dict, at=hi - ONE_SECOND))
    after = decide(lead_dict, at=hi)
    assert after.decision == "block"
    assert after.zones == zones


# --------------------------------------------------------------------------------------------------
# DST transition days (2026-03-08 and 2026-11-01 are Sundays).


def test_dst_start_new_york_window_edges_by_hand():
    phone = "+12125550101"
    # 08:00 EDT on Mar 8 is 12:00Z; the day before, 08:00 EST is 13:00Z.
    assert edges((NEW_YORK,), DST_START)[0] == utc(2026, 3, 8, 12)
    assert edges((NEW_YORK,), DST_START - timedelta(days=1))[0] == utc(2026, 3, 7, 13)
    assert decide(number_lead(phone), at=utc(2026, 3, 8, 11, 59, 59)).reason_codes == (
        R.OUTSIDE_CALLING_WINDOW,
    )
    assert_allowed(decide(number_lead(phone), at=utc(2026, 3, 8, 12)))
    assert decide(number_lead(phone), at=utc(2026, 3, 7, 12, 30)).reason_codes == (R.OUTSIDE_CALLING_WINDOW,)
    assert_allowed(decide(number_lead(phone), at=utc(2026, 3, 7, 13)))


def test_dst_end_new_york_window_edges_by_hand():
    phone = "+12125550101"
    # 08:00 EST on Nov 1 is 13:00Z; the day before, 08:00 EDT is 12:00Z.
    assert edges((NEW_YORK,), DST_END)[0] == utc(2026, 11, 1, 13)
    assert edges((NEW_YORK,), DST_END - timedelta(days=1))[0] == utc(2026, 10, 31, 12)
    assert decide(number_lead(phone), at=utc(2026, 11, 1, 12, 30)).reason_codes == (R.OUTSIDE_CALLING_WINDOW,)
    assert_allowed(decide(number_lead(phone), at=utc(2026, 11, 1, 13)))
    assert_allowed(decide(number_lead(phone), at=utc(2026, 10, 31, 12)))


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        pytest.param("+12125550101", NEW_YORK, id="NY 212"),
        pytest.param("+13145550101", CHICAGO, id="MO 314"),
        pytest.param("+13035550101", DENVER, id="CO 303"),
        pytest.param("+19165550101", LOS_ANGELES, id="CA 916"),
    ],
)
@pytest.mark.parametrize(
    "day",
    [
        pytest.param(DST_START - timedelta(days=1), id="2026-03-07"),
        pytest.param(DST_START, id="2026-03-08 DST starts"),
        pytest.param(DST_START + timedelta(days=1), id="2026-03-09"),
        pytest.param(DST_END - timedelta(days=1), id="2026-10-31"),
        pytest.param(DST_END, id="2026-11-01 DST ends"),
        pytest.param(DST_END + timedelta(days=1), id="2026-11-02"),
    ],
)
def test_window_edges_around_dst_transitions(phone, zone, day):
    start, end = (time(9), time(21)) if zone == LOS_ANGELES else (time(8), time(21))  # CA ADAD 9-21
    check_window(number_lead(phone), (zone,), day, start, end)


def test_texas_sunday_noon_on_dst_start_day():
    # Mar 8 is a Sunday: Texas's 12:00 start is 17:00Z (CDT), a week earlier 18:00Z (CST).
    lead_dict = lead(address=None)
    check_window(lead_dict, (CHICAGO,), DST_START, time(12), time(21))
    assert edges((CHICAGO,), DST_START, time(12))[0] == utc(2026, 3, 8, 17)
    assert edges((CHICAGO,), date(2026, 3, 1), time(12))[0] == utc(2026, 3, 1, 18)
    check_window(lead_dict, (CHICAGO,), date(2026, 3, 1), time(12), time(21))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 12, 0), id="01:00 EST on Mar 8 -> 08:00 EDT"),
        pytest.param(utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 12, 0), id="03:30 EDT just after the gap"),
        pytest.param(utc(2026, 3, 8, 2, 0), utc(2026, 3, 8, 12, 0), id="21:00 EST Mar 7 -> 08:00 EDT Mar 8"),
        pytest.param(
            utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 13, 0), id="01:30 EDT (first pass) -> 08:00 EST"
        ),
        pytest.param(
            utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 13, 0), id="01:30 EST (second pass) -> 08:00 EST"
        ),
        pytest.param(
            utc(2026, 11, 1, 1, 0), utc(2026, 11, 1, 13, 0), id="21:00 EDT Oct 31 -> 08:00 EST Nov 1"
        ),
    ],
)
def test_next_allowed_across_dst_transitions(at, expected):
    decision = decide(number_lead("+12125550101"), at=at)
    assert decision.reason_codes == (R.OUTSIDE_CALLING_WINDOW,)
    assert decision.next_allowed_at == expected


# --------------------------------------------------------------------------------------------------
# Zones without DST.


@pytest.mark.parametrize("day", [JULY, JANUARY], ids=["july", "january"])
def test_arizona_has_no_dst(day):
    lead_dict = number_lead("+16025550101")
    check_window(lead_dict, (PHOENIX,), day)
    # 08:00 MST is 15:00Z all year.
    assert edges((PHOENIX,), day)[0] == datetime.combine(day, time(15), tzinfo=ZoneInfo("UTC"))


def test_arizona_number_with_denver_address_in_july_is_the_intersection():
    # July: Denver is MDT (UTC-6), Phoenix MST (UTC-7): start 08:00 MST = 15:00Z, end 21:00 MDT = 03:00Z.
    lead_dict = number_lead("+16025550101", {"state": "CO", "zip": "80202", "tz": None})
    check_window(lead_dict, (DENVER, PHOENIX), JULY)
    assert edges((DENVER, PHOENIX), JULY) == (utc(2026, 7, 14, 15), utc(2026, 7, 15, 3))
    # 14:30Z is 08:30 in Denver but 07:30 in Phoenix.
    decision = decide(lead_dict, at=utc(2026, 7, 14, 14, 30))
    assert decision.reason_codes == (R.OUTSIDE_CALLING_WINDOW,)


def test_navajo_nation_nxx_has_both_arizona_clocks():
    lead_dict = number_lead("+19282830101")  # Tuba City
    assert decide(lead_dict, at=utc(2026, 7, 14, 18)).zones == (DENVER, PHOENIX)
    check_window(lead_dict, (DENVER, PHOENIX), JULY)


@pytest.mark.parametrize("day", [JULY, JANUARY], ids=["july", "january"])
def test_hawaii(day):
    lead_dict = number_lead("+18085550101")
    check_window(lead_dict, (HONOLULU,), day)
    assert edges((HONOLULU,), day)[0] == datetime.combine(day, time(18), tzinfo=ZoneInfo("UTC"))


# --------------------------------------------------------------------------------------------------
# Split area codes (NXX-level zones) and the address zone.

FL_WINDOW = (time(8), time(20))  # Fla. Stat. 501.616(6)


def test_850_pensacola_is_central():
    check_window(number_lead("+18502000101"), (CHICAGO,), MON, *FL_WINDOW)


def test_850_tallahassee_is_eastern():
    check_window(number_lead("+18502220101"), (NEW_YORK,), MON, *FL_WINDOW)


def test_850_tallahassee_number_with_pensacola_address_narrows_the_window():
    lead_dict = number_lead("+18502220101", {"state": "FL", "zip": "32502", "tz": None})
    check_window(lead_dict, (CHICAGO, NEW_YORK), MON, *FL_WINDOW)
    # 08:00 CDT = 13:00Z start (not 12:00Z), 20:00 EDT = 00:00Z end (not 01:00Z).
    assert edges((CHICAGO, NEW_YORK), MON, *FL_WINDOW) == (utc(2026, 6, 22, 13), utc(2026, 6, 23, 0))
    assert_allowed(decide(number_lead("+18502220101"), at=utc(2026, 6, 22, 12, 30)))
    assert decide(lead_dict, at=utc(2026, 6, 22, 12, 30)).reason_codes == (
        R.OUTSIDE_CALLING_WINDOW,
        R.STATE_CALLING_WINDOW,
    )


def test_812_evansville_is_central():
    check_window(number_lead("+18124020101"), (CHICAGO,), MON)
    check_window(number_lead("+18125550101"), (NEW_YORK,), MON)


def test_812_evansville_number_with_indianapolis_address():
    lead_dict = number_lead("+18124020101", {"state": "IN", "zip": "46204", "tz": None})
    zones = (CHICAGO, "America/Indiana/Indianapolis")
    check_window(lead_dict, zones, MON)
    assert decide(lead_dict, at=utc(2026, 6, 22, 18)).states == ("IN",)


def test_208_pocatello_is_mountain():
    check_window(number_lead("+12082300101"), (DENVER,), MON)


def test_208_ambiguous_nxx_is_boise_and_los_angeles():
    lead_dict = number_lead("+12085550101")
    check_window(lead_dict, (BOISE, LOS_ANGELES), MON)
    # 08:00 PDT = 15:00Z, 21:00 MDT = 03:00Z.
    assert edges((BOISE, LOS_ANGELES), MON) == (utc(2026, 6, 22, 15), utc(2026, 6, 23, 3))


def test_208_north_idaho_is_pacific():
    check_window(number_lead("+12082150101"), (LOS_ANGELES,), MON)


def test_605_default_is_mountain_and_central():
    lead_dict = number_lead("+16055550101")
    check_window(lead_dict, (DENVER, ND_CENTER), MON)
    assert edges((DENVER, ND_CENTER), MON) == (utc(2026, 6, 22, 14), utc(2026, 6, 23, 2))
    assert decide(lead_dict, at=utc(2026, 6, 22, 18)).states == ("SD",)


def test_605_split_nxx():
    check_window(number_lead("+16052240101"), (CHICAGO,), MON)  # Pierre
    check_window(number_lead("+16052230101"), (DENVER,), MON)  # Fort Pierre


def test_address_tz_given_by_the_lead_is_a_candidate():
    lead_dict = number_lead("+12125550101", {"state": None, "zip": None, "tz": LOS_ANGELES})
    check_window(lead_dict, (LOS_ANGELES, NEW_YORK), MON)


def test_address_zip_in_another_state_adds_the_stated_state_zones():
    lead_dict = number_lead("+12125550101", {"state": "IN", "zip": "10001", "tz": None})
    decision = decide(lead_dict, at=utc(2026, 6, 22, 18))
    assert {NEW_YORK, CHICAGO, "America/Indiana/Indianapolis"} <= set(decision.zones)
    assert decision.states == ("IN", "NY")


def test_address_alone_never_resolves_a_number():
    lead_dict = number_lead("+18005550199", {"state": "NY", "zip": "10001", "tz": NEW_YORK})
    decision = decide(lead_dict, at=utc(2026, 6, 22, 18))
    assert_blocked_by(decision, {R.TZ_UNRESOLVED})
    assert decision.zones == ()
    assert decision.next_allowed_at is None


# --------------------------------------------------------------------------------------------------
# Numbers that cannot be called.


@pytest.mark.parametrize("phone", ["+18005550199", "+18885550199", "+18775550199", "+18335550199"])
def test_toll_free_is_tz_unresolved(phone):
    number = phonenumbers.parse(phone)
    assert phonenumbers.is_valid_number(number)
    assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.TOLL_FREE
    decision = decide(number_lead(phone), at=utc(2026, 6, 22, 18))
    assert_blocked_by(decision, {R.TZ_UNRESOLVED}, "CP-3")
    assert decision.zones == ()
    assert decision.next_allowed_at is None


@pytest.mark.parametrize(
    "phone",
    [
        pytest.param("+14165550101", id="Toronto 416"),
        pytest.param("+16045550101", id="Vancouver 604"),
        pytest.param("+12423456789", id="Bahamas 242"),
        pytest.param("+18765230123", id="Jamaica 876"),
        pytest.param("+442079460958", id="London"),
    ],
)
def test_non_us_destination(phone):
    assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
    decision = decide(number_lead(phone), at=utc(2026, 6, 22, 18))
    assert_blocked_by(decision, {R.NON_US_DESTINATION}, "CP-11")
    assert decision.zones == ()
    assert decision.next_allowed_at is None


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        pytest.param("+17875550101", "America/Puerto_Rico", id="Puerto Rico"),
        pytest.param("+16715550101", "Pacific/Guam", id="Guam"),
        pytest.param("+13405550101", "America/St_Thomas", id="USVI"),
        pytest.param("+16705550101", "Pacific/Saipan", id="Northern Mariana Islands"),
    ],
)
def test_us_territories_are_us_destinations(phone, zone):
    day = MON
    lead_dict = number_lead(phone)
    check_window(lead_dict, (zone,), day)
    assert decide(lead_dict, at=edges((zone,), day)[0]).states == ()


@pytest.mark.parametrize(
    "phone",
    [
        pytest.param("+1212555010", id="too short"),
        pytest.param("+121255501011", id="too long"),
        pytest.param("+19115550101", id="N11 area code"),
        pytest.param("+11235550101", id="area code starting with 1"),
        pytest.param("2125550101", id="no plus"),
        pytest.param("+1 212-555-0101", id="not canonical E.164"),
        pytest.param("+1212555O101", id="letter O"),
        pytest.param("not a number", id="garbage"),
    ],
)
def test_invalid_number(phone):
    lead_dict = lead(phone_e164=phone, address=None)
    decision = decide(lead_dict, at=utc(2026, 6, 22, 18))
    assert decision.decision == "block"
    assert R.INVALID_NUMBER in decision.reason_codes
    assert decision.next_allowed_at is None
    assert decision.zones == ()


@pytest.mark.parametrize("value", [None, "", 12125550101], ids=["null", "empty", "int"])
def test_missing_or_mistyped_number_is_facts_invalid_and_invalid_number(value):
    decision = decide(lead(phone_e164=value, address=None), at=utc(2026, 6, 22, 18))
    assert {R.FACTS_INVALID, R.INVALID_NUMBER} <= set(decision.reason_codes)
