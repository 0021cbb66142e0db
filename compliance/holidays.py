"""State holiday calendars computed for any year from their rules (COMPLIANCE_RULES.md sections 4.1, 4.2).

The calendars live in ``compliance/data/holidays.toml`` as rules (fixed month/day, nth weekday of a
month, Easter offsets, the Tuesday after the first Monday in November, Utah's Juneteenth rule), each
with its statute citation, optional effective dates, county limits and weekend-observance rule. This
module turns them into dates. Policy CP-12: a holiday's actual date **and** every observed (shifted)
date are blocked, so both are returned as ``HolidayHit`` values.

Calendars: ``US-FED`` (5 U.S.C. 6103), ``AL`` (Ala. Code 1-3-8), ``LA`` (La. R.S. 45:811; LPSC
GO R-29617), ``PA`` (73 P.S. 2245(a)(10); 44 P.S. 11), ``RI`` (R.I. Gen. Laws 5-61-2; 25-1-1), ``UT``
(Utah Code 63G-1-301), ``NE`` (Neb. Rev. Stat. 25-2221). Mississippi has none (no holiday ban since
2024). Pure: no clock, database or network; ``zipcodes`` is a bundled data file.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import zipcodes
from dateutil.easter import EASTER_WESTERN, easter

__all__ = [
    "CalendarInfo",
    "HolidayCalendars",
    "HolidayHit",
    "county_for_zip",
    "load_holiday_calendars",
]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_KINDS = frozenset({"fixed", "nth_weekday", "easter", "election_day", "utah_juneteenth"})
_OBSERVANCES = frozenset({"none", "sat_fri_sun_mon", "sun_mon", "weekend_mon"})
_YEARS = frozenset({"all", "even", "odd"})
_COMMON_KEYS = "name citation notes observance observance_citation effective_from effective_until"
_CALENDAR_KEYS = frozenset(f"{_COMMON_KEYS} confidence holidays extra_dates".split())
_HOLIDAY_KEYS = frozenset(f"{_COMMON_KEYS} kind month day weekday n offset_days years counties".split())
_EXTRA_KEYS = frozenset({"date", "name", "citation", "counties", "notes"})
_CALENDAR_ID_RE = re.compile(r"^[A-Z][A-Z0-9-]*$")
_ZIP_RE = re.compile(r"^(\d{5})(?:-?\d{4})?$")
_COUNTY_SUFFIX_RE = re.compile(r"\s+(county|parish)$")


@dataclass(frozen=True, slots=True)
class HolidayHit:
    """One blocked date of one holiday.

    Attributes:
        calendar: calendar id, e.g. ``"AL"``.
        name: the holiday's name, e.g. ``"Independence Day"``.
        actual: the holiday's own date that year.
        day: the blocked date: ``actual``, or an observed (shifted) date.
        observed: True when ``day`` is an observed date (``day != actual``).
        citation: the rule's source, e.g. ``"Ala. Code 1-3-8"``; observed hits add the observance rule's
            source in parentheses.
    """

    calendar: str
    name: str
    actual: date
    day: date
    observed: bool
    citation: str


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    """What a calendar is, for audit output.

    Attributes:
        id: calendar id (``"UT"``).
        name: human-readable name.
        citation: statute(s) the calendar implements.
        confidence: ``"P"`` primary text, ``"P-"`` partly primary, ``"S"`` secondary sources only.
        notes: free text from the data file.
    """

    id: str
    name: str
    citation: str
    confidence: str
    notes: str


@dataclass(frozen=True, slots=True)
class _Holiday:
    name: str
    kind: str
    citation: str
    observance: tuple[str, ...]
    observance_citation: str
    month: int = 0
    day: int = 0
    weekday: int = 0
    n: int = 0
    offset_days: int = 0
    years: str = "all"
    effective_from: date | None = None
    effective_until: date | None = None
    counties: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class _Extra:
    day: date
    name: str
    citation: str
    counties: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class _Calendar:
    info: CalendarInfo
    holidays: tuple[_Holiday, ...]
    extras: tuple[_Extra, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    hit: HolidayHit
    counties: frozenset[str] | None


def _norm_county(name: str) -> str:
    """``"Mobile County"``, ``"mobile"``, ``" MOBILE  county "`` -> ``"mobile"``."""
    return _COUNTY_SUFFIX_RE.sub("", " ".join(name.split()).lower())


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1..4) or last (-1) ``weekday`` (0 = Monday) of ``month`` in ``year``."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _actual(h: _Holiday, year: int) -> date:
    if h.kind == "fixed":
        return date(year, h.month, h.day)
    if h.kind == "nth_weekday":
        return _nth_weekday(year, h.month, h.weekday, h.n) + timedelta(days=h.offset_days)
    if h.kind == "easter":
        return easter(year, EASTER_WESTERN) + timedelta(days=h.offset_days)
    if h.kind == "election_day":
        return _nth_weekday(year, 11, 0, 1) + timedelta(days=1)
    return date(year, 6, 19)  # utah_juneteenth


def _observed(h: _Holiday, actual: date) -> list[date]:
    """Observed dates other than ``actual``, in order, without duplicates."""
    wd = actual.weekday()  # 5 = Saturday, 6 = Sunday
    out: list[date] = []
    if h.kind == "utah_juneteenth":
        # Utah Code 63G-1-301(2)(c)-(d): Tue-Fri -> the preceding Monday; Sat/Sun -> the following Monday.
        out.append(actual - timedelta(days=wd) if wd <= 4 else actual + timedelta(days=7 - wd))
    for rule in h.observance:
        if rule == "sat_fri_sun_mon" and wd in (5, 6):
            out.append(actual + timedelta(days=-1 if wd == 5 else 1))
        elif rule == "sun_mon" and wd == 6:
            out.append(actual + timedelta(days=1))
        elif rule == "weekend_mon" and wd in (5, 6):
            out.append(actual + timedelta(days=7 - wd))
    return [d for i, d in enumerate(out) if d != actual and d not in out[:i]]


def _near_years(year: int) -> range:
    """The year before, the year and the year after (observed dates cross year ends), within date's range."""
    return range(max(MINYEAR, year - 1), min(MAXYEAR, year + 1) + 1)


def _applies(h: _Holiday, actual: date) -> bool:
    """Year parity and the half-open [effective_from, effective_until), tested on the actual date."""
    if h.years == "even" and actual.year % 2:
        return False
    if h.years == "odd" and not actual.year % 2:
        return False
    if h.effective_from is not None and actual < h.effective_from:
        return False
    return h.effective_until is None or actual < h.effective_until


class HolidayCalendars:
    """The loaded holiday calendars; answers which holidays block a given date.

    Attributes:
        version: the data file's ``version`` plus ``+`` and the first 12 hex digits of its sha256,
            e.g. ``"2026.05.1+3f2a9c0d1e4b"``; record it with every decision.
        no_calendar: state -> why it has no holiday calendar (e.g. ``"MS"``).
    """

    def __init__(
        self, calendars: Mapping[str, _Calendar], *, version: str, no_calendar: Mapping[str, str]
    ) -> None:
        self.version = version
        self.no_calendar: Mapping[str, str] = MappingProxyType(dict(no_calendar))
        self._calendars = MappingProxyType(dict(calendars))
        self._by_year: dict[tuple[str, int], tuple[_Entry, ...]] = {}

    def calendar_ids(self) -> tuple[str, ...]:
        """Ids of every calendar, in data-file order, e.g. ``("US-FED", "AL", ...)``."""
        return tuple(self._calendars)

    def info(self, calendar: str) -> CalendarInfo:
        """Name, citation and confidence of ``calendar``; KeyError for an unknown id."""
        return self._calendar(calendar).info

    def hits(self, calendar: str, day: date, *, county: str | None = None) -> tuple[HolidayHit, ...]:
        """Every holiday of ``calendar`` whose actual or observed date is ``day``.

        Args:
            calendar: calendar id, e.g. ``"AL"``.
            day: a local calendar date at the lead.
            county: the lead's county (``"Mobile County"``, ``"mobile"``, ``"Orleans Parish"``) or None
                when unknown; county-limited holidays apply when it matches or is unknown.

        Returns:
            The hits sorted by (name, actual); empty when ``day`` is not blocked. A holiday applies in a
            year when its actual date d satisfies effective_from <= d < effective_until (and its
            ``years`` parity); then its observed dates are blocked too, even across a year end.

        Raises:
            KeyError: unknown calendar id.
        """
        cal = self._calendar(calendar)
        entries = (
            e
            for year in _near_years(day.year)
            for e in self._year_entries(calendar, cal, year)
            if e.hit.day == day
        )
        found = self._for_county(entries, county)
        return tuple(sorted(found, key=lambda h: (h.name, h.actual)))

    def dates(self, calendar: str, year: int, *, county: str | None = None) -> list[HolidayHit]:
        """All hits whose blocked ``day`` lies in ``year``, sorted by (day, name).

        An observed date in another year belongs to that year: New Year's Day 2022 (a Saturday) has its
        observed Fri Dec 31, 2021 listed under 2021.

        Raises:
            KeyError: unknown calendar id.
        """
        cal = self._calendar(calendar)
        entries = (
            e
            for y in _near_years(year)
            for e in self._year_entries(calendar, cal, y)
            if e.hit.day.year == year
        )
        return sorted(self._for_county(entries, county), key=lambda h: (h.day, h.name, h.actual))

    def _calendar(self, calendar: str) -> _Calendar:
        try:
            return self._calendars[calendar]
        except KeyError:
            raise KeyError(f"unknown holiday calendar {calendar!r}") from None

    @staticmethod
    def _for_county(entries: Iterable[_Entry], county: str | None) -> list[HolidayHit]:
        wanted = _norm_county(county) if county and county.strip() else None
        return [e.hit for e in entries if e.counties is None or wanted is None or wanted in e.counties]

    def _year_entries(self, cid: str, cal: _Calendar, year: int) -> tuple[_Entry, ...]:
        """Entries for holidays whose ACTUAL date is in ``year`` (observed dates may cross into another)."""
        key = (cid, year)
        cached = self._by_year.get(key)
        if cached is not None:
            return cached
        out: list[_Entry] = []
        for h in cal.holidays:
            actual = _actual(h, year)
            if not _applies(h, actual):
                continue
            out.append(_Entry(HolidayHit(cid, h.name, actual, actual, False, h.citation), h.counties))
            obs_cite = (
                f"{h.citation} (observed: {h.observance_citation})" if h.observance_citation else h.citation
            )
            for d in _observed(h, actual):
                out.append(_Entry(HolidayHit(cid, h.name, actual, d, True, obs_cite), h.counties))
        for x in cal.extras:
            if x.day.year == year:
                out.append(_Entry(HolidayHit(cid, x.name, x.day, x.day, False, x.citation), x.counties))
        result = tuple(out)
        self._by_year[key] = result
        return result


# ----------------------------------------------------------------------------------------- loading


def _fail(where: str, field: str, problem: str) -> ValueError:
    return ValueError(f"holidays data: {where}: field {field!r}: {problem}")


def _str(raw: Mapping[str, Any], field: str, where: str, *, default: str | None = None) -> str:
    value = raw.get(field, default)
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, field, "must be a non-empty string")
    return value.strip()


def _int(
    raw: Mapping[str, Any], field: str, where: str, lo: int, hi: int, *, default: int | None = None
) -> int:
    value = raw.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _fail(where, field, f"must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def _date(raw: Mapping[str, Any], field: str, where: str, default: date | None = None) -> date | None:
    value = raw.get(field, default)
    if value is None or type(value) is date:  # a TOML datetime is rejected
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _fail(where, field, f"must be a date (YYYY-MM-DD), got {value!r}")


def _observance(value: Any, where: str) -> tuple[str, ...]:
    rules = (value,) if isinstance(value, str) else value
    if not isinstance(rules, list | tuple) or not rules or not all(r in _OBSERVANCES for r in rules):
        raise _fail(where, "observance", f"must be one of / a list of {sorted(_OBSERVANCES)}, got {value!r}")
    return tuple(r for r in dict.fromkeys(rules) if r != "none")


def _counties(raw: Mapping[str, Any], where: str) -> frozenset[str] | None:
    if "counties" not in raw:
        return None
    value = raw["counties"]
    if not isinstance(value, list) or not value or not all(isinstance(c, str) and c.strip() for c in value):
        raise _fail(where, "counties", "must be a non-empty list of county names")
    return frozenset(_norm_county(c) for c in value)


def _unknown_keys(raw: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    extra = sorted(set(raw) - allowed)
    if extra:
        raise _fail(where, extra[0], f"unknown field (allowed: {', '.join(sorted(allowed))})")


def _parse_holiday(raw: Any, cal: Mapping[str, Any], where: str) -> _Holiday:
    if not isinstance(raw, dict):
        raise _fail(where, "holidays", "each holiday must be a table")
    _unknown_keys(raw, _HOLIDAY_KEYS, where)
    where = f"{where} {raw.get('name', '?')!r}"
    name = _str(raw, "name", where)
    kind = _str(raw, "kind", where)
    if kind not in _KINDS:
        raise _fail(where, "kind", f"must be one of {sorted(_KINDS)}, got {kind!r}")
    fields: dict[str, Any] = {}
    if kind == "fixed":
        fields["month"] = _int(raw, "month", where, 1, 12)
        fields["day"] = _int(raw, "day", where, 1, 31)
        try:
            date(2001, fields["month"], fields["day"])  # a non-leap year: Feb 29 is rejected
        except ValueError:
            raise _fail(where, "day", f"no such day in month {fields['month']}") from None
    elif kind == "nth_weekday":
        fields["month"] = _int(raw, "month", where, 1, 12)
        weekday = raw.get("weekday")
        if weekday not in _WEEKDAYS:
            raise _fail(where, "weekday", f"must be one of {list(_WEEKDAYS)}, got {weekday!r}")
        fields["weekday"] = _WEEKDAYS.index(weekday)
        fields["n"] = _int(raw, "n", where, -1, 4)
        if fields["n"] == 0:
            raise _fail(where, "n", "must be 1..4 or -1 (last)")
        fields["offset_days"] = _int(raw, "offset_days", where, -6, 6, default=0)
    elif kind == "easter":
        fields["offset_days"] = _int(raw, "offset_days", where, -100, 100)
    kind_fields = {"fixed": {"month", "day"}, "nth_weekday": {"month", "weekday", "n", "offset_days"}}
    kind_fields["easter"] = {"offset_days"}
    for f in ("month", "day", "weekday", "n", "offset_days"):
        if f in raw and f not in kind_fields.get(kind, set()):
            raise _fail(where, f, f"not used by kind {kind!r}")
    years = raw.get("years", "all")
    if years not in _YEARS:
        raise _fail(where, "years", f"must be one of {sorted(_YEARS)}, got {years!r}")
    start = _date(raw, "effective_from", where, _date(cal, "effective_from", where))
    until = _date(raw, "effective_until", where, _date(cal, "effective_until", where))
    if start is not None and until is not None and not start < until:
        raise _fail(where, "effective_until", f"must be after effective_from ({start})")
    return _Holiday(
        name=name,
        kind=kind,
        citation=_str(raw, "citation", where, default=cal.get("citation")),
        observance=_observance(raw.get("observance", cal.get("observance", "none")), where),
        observance_citation=str(raw.get("observance_citation", cal.get("observance_citation", ""))),
        years=years,
        effective_from=start,
        effective_until=until,
        counties=_counties(raw, where),
        **fields,
    )


def _parse_extra(raw: Any, cal: Mapping[str, Any], where: str) -> _Extra:
    if not isinstance(raw, dict):
        raise _fail(where, "extra_dates", "each extra date must be a table")
    _unknown_keys(raw, _EXTRA_KEYS, where)
    day = _date(raw, "date", where)
    if day is None:
        raise _fail(where, "date", "is required")
    return _Extra(
        day=day,
        name=_str(raw, "name", where),
        citation=_str(raw, "citation", where, default=cal.get("citation")),
        counties=_counties(raw, where),
    )


def _parse(data: bytes, source: str) -> HolidayCalendars:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"holidays data: {source}: not valid TOML: {exc}") from exc
    version = _str(doc, "version", "file")
    raw_cals = doc.get("calendars")
    if not isinstance(raw_cals, dict) or not raw_cals:
        raise _fail("file", "calendars", "must be a non-empty table of calendars")
    no_calendar = doc.get("no_calendar", {})
    if not isinstance(no_calendar, dict) or not all(isinstance(v, str) for v in no_calendar.values()):
        raise _fail("file", "no_calendar", "must map state ids to strings")
    calendars: dict[str, _Calendar] = {}
    for cid, raw in raw_cals.items():
        where = f"calendar {cid}"
        if not _CALENDAR_ID_RE.match(cid) or not isinstance(raw, dict):
            raise _fail(where, "id", "must be an upper-case id (e.g. 'AL', 'US-FED') naming a table")
        _unknown_keys(raw, _CALENDAR_KEYS, where)
        _observance(raw.get("observance", "none"), where)
        _date(raw, "effective_from", where)
        _date(raw, "effective_until", where)
        info = CalendarInfo(
            id=cid,
            name=_str(raw, "name", where),
            citation=_str(raw, "citation", where),
            confidence=_str(raw, "confidence", where),
            notes=str(raw.get("notes", "")),
        )
        holidays = raw.get("holidays")
        extras = raw.get("extra_dates", [])
        if not isinstance(holidays, list) or not holidays:
            raise _fail(where, "holidays", "must be a non-empty array of tables")
        if not isinstance(extras, list):
            raise _fail(where, "extra_dates", "must be an array of tables")
        parsed = tuple(_parse_holiday(h, raw, f"{where} holiday") for h in holidays)
        names = [h.name for h in parsed]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise _fail(f"{where} holiday {dup!r}", "name", "appears twice")
        calendars[cid] = _Calendar(
            info, parsed, tuple(_parse_extra(x, raw, f"{where} extra") for x in extras)
        )
    digest = hashlib.sha256(data).hexdigest()[:12]
    return HolidayCalendars(calendars, version=f"{version}+{digest}", no_calendar=no_calendar)


@cache
def _load_default() -> HolidayCalendars:
    data = resources.files("compliance").joinpath("data/holidays.toml").read_bytes()
    return _parse(data, "compliance/data/holidays.toml")


def load_holiday_calendars(path: Path | None = None) -> HolidayCalendars:
    """Load and validate the holiday calendars.

    Args:
        path: a TOML file in the layout of ``compliance/data/holidays.toml``; None loads that packaged
            file, parsed once per process and cached.

    Returns:
        The calendars, with ``version`` = data version + short sha256 of the file.

    Raises:
        ValueError: the file is not TOML or breaks the layout; the message names the calendar, the
            holiday and the field, e.g. ``calendar AL holiday 'Mardi Gras': field 'offset_days': ...``.
    """
    if path is None:
        return _load_default()
    return _parse(Path(path).read_bytes(), str(path))


def county_for_zip(zip_code: str | None) -> str | None:
    """County of a US ZIP code from the bundled ``zipcodes`` data.

    Args:
        zip_code: ``"36602"``, ``"36602-1234"`` or ``"366021234"``; surrounding spaces ignored.

    Returns:
        The ZIP's county as ``zipcodes`` names it (``"Mobile County"``, ``"Orleans Parish"``), or None
        for a malformed, unknown or county-less ZIP. A ZIP that spans counties yields only its primary
        county; callers that need certainty should treat a ZIP near a county line as unknown.
    """
    if not isinstance(zip_code, str):
        return None
    m = _ZIP_RE.match(zip_code.strip())
    if m is None:
        return None
    try:
        rows = zipcodes.matching(m.group(1))
    except (TypeError, ValueError):
        return None
    county = str(rows[0].get("county") or "").strip() if rows else ""
    return county or None
