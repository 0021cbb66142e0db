"""State holiday calendars computed for any year from their rules (COMPLIANCE_RULES.md sections 4.1, 4.2).

The calendars live in ``compliance/data/holidays.toml`` as rules (fixed month/day, nth weekday of a
month, Easter offsets, the Tuesday after the first Monday in November, Utah's Juneteenth rule), each
with its statute citation, optional effective dates, county limits and weekend-observance rule. This
module turns them into dates. Policy CP-12: a holiday's actual date **and** every observed (shifted)
date are blocked, so both are returned as ``HolidayHit`` values.

Calendars: ``US-FED`` (5 U.S.C. 6103), ``AL`` (Ala. Code 1-3-8), ``LA`` (La. R.S. 45:811; LPSC
GO R-29617), ``PA`` (73 P.S. 2245(a)(10); 44 P.S. 11), ``RI`` (R.I. Gen. Laws 5-61-2; 25-1-1), ``UT``
(Utah Code 63G-1-301), ``NE`` (Neb. Rev. Stat. 25-2221). Mississippi has none (no holiday ban since
2024). Pure: no clock, database or network. A lead's county comes from ``compliance.zones.county_for_zip``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta
from types import MappingProxyType

from dateutil.easter import EASTER_WESTERN, easter

__all__ = [
    "CalendarInfo",
    "HolidayCalendars",
    "HolidayHit",
]

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
class HolidayRule:
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
class ExtraDate:
    day: date
    name: str
    citation: str
    counties: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class CalendarRules:
    info: CalendarInfo
    holidays: tuple[HolidayRule, ...]
    extras: tuple[ExtraDate, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    hit: HolidayHit
    counties: frozenset[str] | None


def normalize_county(name: str) -> str:
    """Comparable county name: ``"Mobile County"``, ``"mobile"``, ``" MOBILE  county "`` -> ``"mobile"``."""
    return _COUNTY_SUFFIX_RE.sub("", " ".join(name.split()).lower())


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1..4) or last (-1) ``weekday`` (0 = Monday) of ``month`` in ``year``."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _actual(h: HolidayRule, year: int) -> date:
    if h.kind == "fixed":
        return date(year, h.month, h.day)
    if h.kind == "nth_weekday":
        return _nth_weekday(year, h.month, h.weekday, h.n) + timedelta(days=h.offset_days)
    if h.kind == "easter":
        return easter(year, EASTER_WESTERN) + timedelta(days=h.offset_days)
    if h.kind == "election_day":
        return _nth_weekday(year, 11, 0, 1) + timedelta(days=1)
    return date(year, 6, 19)  # utah_juneteenth


def _observed(h: HolidayRule, actual: date) -> list[date]:
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


def _applies(h: HolidayRule, actual: date) -> bool:
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
        self, calendars: Mapping[str, CalendarRules], *, version: str, no_calendar: Mapping[str, str]
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

    def _calendar(self, calendar: str) -> CalendarRules:
        try:
            return self._calendars[calendar]
        except KeyError:
            raise KeyError(f"unknown holiday calendar {calendar!r}") from None

    @staticmethod
    def _for_county(entries: Iterable[_Entry], county: str | None) -> list[HolidayHit]:
        wanted = normalize_county(county) if county and county.strip() else None
        return [e.hit for e in entries if e.counties is None or wanted is None or wanted in e.counties]

    def _year_entries(self, cid: str, cal: CalendarRules, year: int) -> tuple[_Entry, ...]:
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
