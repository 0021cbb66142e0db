"""Holiday calendars: every 2026 date of COMPLIANCE_RULES.md 4.1/4.2, rule kinds, edges, bad data."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.holiday_data import load_holiday_calendars
from compliance.holidays import HolidayHit
from compliance.zones import county_for_zip

CAL = load_holiday_calendars()


def blocked(cal: str, day: date, county: str | None = None) -> bool:
    return bool(CAL.hits(cal, day, county=county))


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


# ------------------------------------------------------------------------------------ 2026 tables

BLOCKED_2026 = {
    "US-FED 5 USC 6103": (
        "US-FED",
        [d(1, 1), d(1, 19), d(2, 16), d(5, 25), d(6, 19), d(7, 3), d(7, 4), d(9, 7), d(10, 12)]
        + [d(11, 11), d(11, 26), d(12, 25)],
    ),
    "AL Ala.Code 1-3-8": (
        "AL",
        [d(1, 1), d(1, 19), d(2, 16), d(2, 17), d(4, 27), d(5, 25), d(6, 1), d(7, 3), d(7, 4), d(9, 7)]
        + [d(10, 12), d(11, 11), d(11, 26), d(12, 25)],
    ),
    "LA RS 45:811 LPSC R-29617": (
        "LA",
        [d(1, 1), d(1, 19), d(2, 17), d(4, 3), d(5, 25), d(7, 4), d(9, 7), d(11, 11), d(11, 26), d(12, 25)]
        + [d(7, 3), d(7, 6)],  # conservative observance of Sat Jul 4
    ),
    "PA 73 PS 2245(a)(10) 44 PS 11": (
        "PA",
        [d(1, 1), d(1, 19), d(2, 16), d(4, 3), d(5, 25), d(6, 14), d(6, 15), d(7, 4), d(9, 7), d(10, 12)]
        + [d(11, 3), d(11, 11), d(11, 26), d(12, 25)],
    ),
    "RI Gen.Laws 5-61-2 25-1-1": (
        "RI",
        [d(1, 1), d(1, 19), d(2, 16), d(5, 4), d(5, 25), d(6, 19), d(7, 3), d(7, 4), d(7, 6), d(8, 10)]
        + [d(9, 7), d(10, 12), d(11, 3), d(11, 11), d(11, 26), d(12, 25)],
    ),
    "UT Code 63G-1-301": (
        "UT",
        [d(1, 1), d(1, 19), d(2, 16), d(4, 5), d(5, 25), d(6, 15), d(6, 19), d(7, 3), d(7, 4), d(7, 24)]
        + [d(9, 7), d(10, 12), d(11, 11), d(11, 26), d(12, 25)],
    ),
    "NE Rev.Stat 25-2221": (
        "NE",
        [d(1, 1), d(1, 19), d(2, 16), d(4, 24), d(5, 25), d(7, 3), d(7, 4), d(9, 7), d(10, 12), d(11, 11)]
        + [d(11, 26), d(11, 27), d(12, 25)],
    ),
}


@pytest.mark.parametrize(("cal", "days"), list(BLOCKED_2026.values()), ids=list(BLOCKED_2026))
def test_2026_blocked_dates_are_exactly_the_reference_list(cal: str, days: list[date]) -> None:
    assert sorted({h.day for h in CAL.dates(cal, 2026)}) == sorted(days)
    for day in days:
        assert blocked(cal, day), day


def test_ala_code_1_3_8_dates_2026_exact() -> None:
    got = [(h.day, h.name, h.observed, h.actual) for h in CAL.dates("AL", 2026)]
    assert got == [
        (d(1, 1), "New Year's Day", False, d(1, 1)),
        (d(1, 19), "Robert E. Lee / Martin Luther King Jr. Birthday", False, d(1, 19)),
        (d(2, 16), "George Washington / Thomas Jefferson Birthday", False, d(2, 16)),
        (d(2, 17), "Mardi Gras", False, d(2, 17)),
        (d(4, 27), "Confederate Memorial Day", False, d(4, 27)),
        (d(5, 25), "National Memorial Day", False, d(5, 25)),
        (d(6, 1), "Jefferson Davis' Birthday", False, d(6, 1)),
        (d(7, 3), "Independence Day", True, d(7, 4)),
        (d(7, 4), "Independence Day", False, d(7, 4)),
        (d(9, 7), "Labor Day", False, d(9, 7)),
        (d(10, 12), "Columbus Day / Fraternal Day / American Indian Heritage Day", False, d(10, 12)),
        (d(11, 11), "Veterans Day", False, d(11, 11)),
        (d(11, 26), "Thanksgiving Day", False, d(11, 26)),
        (d(12, 25), "Christmas Day", False, d(12, 25)),
    ]
    assert all(h.calendar == "AL" and h.citation.startswith("Ala. Code 1-3-8") for h in CAL.dates("AL", 2026))


def test_ala_code_1_3_8_observed_hit_shape() -> None:
    (hit,) = CAL.hits("AL", d(7, 3))
    assert hit == HolidayHit(
        calendar="AL",
        name="Independence Day",
        actual=d(7, 4),
        day=d(7, 3),
        observed=True,
        citation="Ala. Code 1-3-8 (observed: Ala. Code 1-3-8(a))",
    )
    (actual,) = CAL.hits("AL", d(7, 4))
    assert (actual.observed, actual.citation) == (False, "Ala. Code 1-3-8")


# -------------------------------------------------------------------------------------- counties


@pytest.mark.parametrize(
    ("county", "expected"),
    [
        ("Mobile County", True),
        ("Baldwin County", True),
        ("baldwin", True),
        ("  MOBILE   county ", True),
        (None, True),  # unknown county: applies (conservative)
        ("", True),
        ("Jefferson County", False),
        ("Mobile Bay County", False),
    ],
    ids=lambda v: repr(v),
)
def test_ala_code_1_3_8_mardi_gras_only_baldwin_and_mobile(county: str | None, expected: bool) -> None:
    assert blocked("AL", d(2, 17), county) is expected
    assert blocked("AL", d(1, 1), county)  # statewide days ignore the county


def test_ala_code_1_3_8_mardi_gras_in_dates_depends_on_county() -> None:
    assert d(2, 17) not in {h.day for h in CAL.dates("AL", 2026, county="Jefferson County")}
    assert d(2, 17) in {h.day for h in CAL.dates("AL", 2026, county="Mobile County")}


@pytest.mark.parametrize(
    ("zip_code", "county"),
    [
        ("36602", "Mobile County"),
        ("36602-1234", "Mobile County"),
        ("366021234", "Mobile County"),
        (" 36602 ", "Mobile County"),
        ("70112", "Orleans Parish"),
        ("00000", None),
        ("3660", None),
        ("abcde", None),
        ("", None),
        (None, None),
    ],
)
def test_county_for_zip(zip_code: str | None, county: str | None) -> None:
    assert county_for_zip(zip_code) == county


def test_county_for_zip_feeds_hits() -> None:
    assert blocked("AL", d(2, 17), county_for_zip("36602"))
    assert not blocked("AL", d(2, 17), county_for_zip("35203"))  # Birmingham, Jefferson County


# ------------------------------------------------------------------------------- state specifics


@pytest.mark.parametrize(
    ("day", "names"),
    [
        (d(7, 3), {"Independence Day"}),  # federal observed, 5 USC 6103(b)
        (d(7, 4), {"Independence Day"}),
        (d(7, 6), {"Independence Day"}),  # state observed, 25-1-1
        (d(7, 5), set()),
        (d(8, 10), {"Victory Day"}),
        (d(11, 3), {"Election Day"}),
        (d(5, 4), {"Rhode Island Independence Day"}),
    ],
)
def test_ri_gen_laws_5_61_2_state_and_federal_2026(day: date, names: set[str]) -> None:
    assert {h.name for h in CAL.hits("RI", day)} == names


def test_ri_gen_laws_25_1_1_election_day_even_years_only() -> None:
    assert blocked("RI", date(2028, 11, 7))
    assert not blocked("RI", date(2027, 11, 2))
    assert "Election Day" not in {h.name for h in CAL.dates("RI", 2027)}


def test_pa_44_ps_11_election_day_every_year_from_2019_12_03() -> None:
    assert blocked("PA", date(2027, 11, 2))  # odd year too
    assert blocked("PA", date(2019, 12, 25))
    assert not blocked("PA", date(2019, 11, 5))  # before 73 P.S. 2245(a)(10) took effect
    assert CAL.dates("PA", 2018) == []


def test_pa_44_ps_11_sunday_to_monday_only() -> None:
    (flag,) = CAL.hits("PA", d(6, 15))
    assert (flag.name, flag.actual, flag.observed) == ("Flag Day", d(6, 14), True)
    assert not blocked("PA", d(7, 3))  # Saturday Jul 4 is not moved to Friday


def test_utah_63g_1_301_good_friday_effective_2026_05_06() -> None:
    assert not blocked("UT", d(4, 3))  # Good Friday 2026, before the amendment's effective date
    (hit,) = CAL.hits("UT", date(2027, 3, 26))
    assert hit.name == "Good Friday"


@pytest.mark.parametrize(
    ("year", "weekday", "observed"),
    [
        (2028, "Mon", None),  # June 19 itself
        (2029, "Tue", date(2029, 6, 18)),
        (2024, "Wed", date(2024, 6, 17)),
        (2025, "Thu", date(2025, 6, 16)),
        (2026, "Fri", date(2026, 6, 15)),
        (2027, "Sat", date(2027, 6, 21)),  # the following Monday, 63G-1-301(2)(d)
        (2022, "Sun", date(2022, 6, 20)),
    ],
    ids=lambda v: str(v),
)
def test_utah_63g_1_301_2_juneteenth_rule(year: int, weekday: str, observed: date | None) -> None:
    june19 = date(year, 6, 19)
    assert june19.strftime("%a") == weekday
    hits = [h for h in CAL.dates("UT", year) if h.name == "Juneteenth National Freedom Day"]
    expected = {(june19, False)} | ({(observed, True)} if observed else set())
    assert {(h.day, h.observed) for h in hits} == expected
    assert all(h.actual == june19 for h in hits)
    if observed is not None:
        assert not blocked("UT", observed - timedelta(days=7))  # no extra Monday


def test_utah_63g_1_301_juneteenth_not_before_2022_05_04() -> None:
    assert not any(h.name.startswith("Juneteenth") for h in CAL.dates("UT", 2021))


def test_la_governor_proclaimed_dates_empty_by_default() -> None:
    assert not blocked("LA", d(12, 24))
    assert not blocked("LA", d(12, 31))


# ----------------------------------------------------------------------------- Easter and edges


@pytest.mark.parametrize(
    ("cal", "name", "day"),
    [
        ("LA", "Mardi Gras", date(2027, 2, 9)),
        ("LA", "Good Friday", date(2027, 3, 26)),
        ("PA", "Good Friday", date(2027, 3, 26)),
        ("LA", "Mardi Gras", date(2030, 3, 5)),
        ("LA", "Good Friday", date(2030, 4, 19)),
        ("AL", "Mardi Gras", date(2030, 3, 5)),
        ("UT", "Good Friday", date(2030, 4, 19)),
        ("UT", "Easter Sunday", date(2030, 4, 21)),
        ("LA", "Mardi Gras", date(2025, 3, 4)),
        ("PA", "Good Friday", date(2024, 3, 29)),
    ],
)
def test_easter_based_days(cal: str, name: str, day: date) -> None:
    assert name in {h.name for h in CAL.hits(cal, day)}
    assert [h.day for h in CAL.dates(cal, day.year) if h.name == name] == [day]


@pytest.mark.parametrize("cal", ["US-FED", "AL", "UT", "NE", "RI", "LA"])
def test_jan_1_2022_saturday_observed_dec_31_2021(cal: str) -> None:
    (hit,) = [h for h in CAL.hits(cal, date(2021, 12, 31)) if h.name == "New Year's Day"]
    assert (hit.actual, hit.observed) == (date(2022, 1, 1), True)
    assert hit in CAL.dates(cal, 2021)
    assert hit not in CAL.dates(cal, 2022)
    assert blocked(cal, date(2022, 1, 1))


def test_pa_jan_1_2022_saturday_not_moved() -> None:
    assert not blocked("PA", date(2021, 12, 31))


def test_ri_jan_1_2022_saturday_blocks_fri_sat_mon() -> None:
    assert blocked("RI", date(2021, 12, 31)) and blocked("RI", date(2022, 1, 3))


def test_us_fed_juneteenth_from_2021_06_17() -> None:
    assert blocked("US-FED", date(2021, 6, 18))  # Jun 19 2021 was a Saturday
    assert not blocked("US-FED", date(2020, 6, 19))


def test_ne_25_2221_arbor_day_last_friday_april_and_day_after_thanksgiving() -> None:
    assert blocked("NE", date(2027, 4, 30)) and not blocked("NE", date(2027, 4, 23))
    assert blocked("NE", date(2027, 11, 26))
    assert CAL.info("NE").confidence == "S"


def test_dates_sorted_and_consistent_with_hits() -> None:
    for cal in CAL.calendar_ids():
        for year in (2024, 2026, 2027, 2031):
            got = CAL.dates(cal, year)
            assert got == sorted(got, key=lambda h: (h.day, h.name, h.actual))
            for h in got:
                assert h in CAL.hits(cal, h.day)
                assert h.observed == (h.day != h.actual)


def test_api_surface() -> None:
    assert CAL.calendar_ids() == ("US-FED", "AL", "LA", "PA", "RI", "UT", "NE")
    assert "MS" not in CAL.calendar_ids() and "MS" in CAL.no_calendar
    assert CAL.version.startswith("2026.05.1+") and len(CAL.version.split("+")[1]) == 12
    assert load_holiday_calendars() is CAL
    with pytest.raises(KeyError):
        CAL.hits("MS", d(1, 1))
    with pytest.raises(KeyError):
        CAL.dates("XX", 2026)


# ------------------------------------------------------------------------------------ bad data

GOOD = """
version = "t1"
[calendars.XX]
name = "Test"
citation = "Test Code 1"
confidence = "P"
observance = "sat_fri_sun_mon"
[[calendars.XX.holidays]]
name = "Day One"
kind = "fixed"
month = 1
day = 1
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "holidays.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_loader_accepts_a_custom_file_with_extra_dates(tmp_path: Path) -> None:
    text = GOOD + '\n[[calendars.XX.extra_dates]]\ndate = 2026-12-24\nname = "Proclaimed"\n'
    cals = load_holiday_calendars(_write(tmp_path, text))
    assert cals.calendar_ids() == ("XX",)
    assert cals.version.startswith("t1+")
    (hit,) = cals.hits("XX", d(12, 24))
    assert (hit.name, hit.citation, hit.observed) == ("Proclaimed", "Test Code 1", False)


def test_loader_effective_until_is_half_open(tmp_path: Path) -> None:
    text = GOOD + "effective_from = 2024-01-01\neffective_until = 2026-01-01\n"
    cals = load_holiday_calendars(_write(tmp_path, text))
    assert cals.hits("XX", date(2025, 1, 1)) and cals.hits("XX", date(2024, 1, 1))
    assert not cals.hits("XX", date(2026, 1, 1)) and not cals.hits("XX", date(2023, 1, 1))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("day = 1\n", "day = 32\n", "calendar XX holiday 'Day One': field 'day'"),
        ("month = 1\nday = 1\n", "month = 2\nday = 30\n", "field 'day'"),
        ('kind = "fixed"', 'kind = "lunar"', "field 'kind'"),
        ("day = 1\n", "day = 1\nefective_from = 2026-01-01\n", "field 'efective_from'"),
        ('observance = "sat_fri_sun_mon"', 'observance = "sat_mon"', "calendar XX: field 'observance'"),
        ("day = 1\n", 'day = 1\ncounties = "Mobile"\n', "field 'counties'"),
        ("day = 1\n", 'day = 1\nyears = "leap"\n', "field 'years'"),
        (
            "day = 1\n",
            "day = 1\neffective_from = 2026-01-01\neffective_until = 2025-01-01\n",
            "effective_until",
        ),
        ("day = 1\n", 'day = 1\neffective_from = "yesterday"\n', "field 'effective_from'"),
        ("day = 1\n", "day = 1\nn = 2\n", "field 'n': not used by kind 'fixed'"),
        ('citation = "Test Code 1"\n', "", "calendar XX: field 'citation'"),
        ('version = "t1"\n', "", "field 'version'"),
        ("[calendars.XX]", "[calendars.xx]", "calendar xx"),
        ("day = 1\n", "day = true\n", "field 'day'"),
        ("day = 1\n", "day = 1\n[", "not valid TOML"),
    ],
)
def test_loader_rejects_bad_data_naming_the_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_holiday_calendars(_write(tmp_path, GOOD.replace(old, new, 1)))


def test_loader_rejects_nth_weekday_zero_and_bad_weekday(tmp_path: Path) -> None:
    base = GOOD.replace('kind = "fixed"\nmonth = 1\nday = 1\n', 'kind = "nth_weekday"\nmonth = 1\n')
    for tail, field in [('weekday = "monday"\nn = 0\n', "'n'"), ('weekday = "mon"\nn = 1\n', "'weekday'")]:
        with pytest.raises(ValueError, match=f"field {field}"):
            load_holiday_calendars(_write(tmp_path, base + tail))


def test_loader_rejects_duplicate_holiday_names(tmp_path: Path) -> None:
    dup = GOOD + '[[calendars.XX.holidays]]\nname = "Day One"\nkind = "fixed"\nmonth = 2\nday = 1\n'
    with pytest.raises(ValueError, match="'Day One'.*appears twice"):
        load_holiday_calendars(_write(tmp_path, dup))


@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
    cal=st.sampled_from(CAL.calendar_ids()),
)
def test_property_hits_are_the_dates_of_that_day(day: date, cal: str) -> None:
    for h in CAL.hits(cal, day):
        assert h.day == day and h.calendar == cal
        assert h.observed == (h.day != h.actual)
        assert abs((h.day - h.actual).days) <= 4  # Utah's Juneteenth Monday is the furthest shift
        assert h in CAL.dates(cal, day.year)
