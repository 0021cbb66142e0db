"""Reading and validating the holiday calendars' data file (``compliance/data/holidays.toml``).

The file's layout is documented in its header; ``compliance.holidays`` computes dates from what this
module parses. Bad data raises :class:`~compliance.errors.RuleDataError` naming the calendar,
holiday and field.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from compliance.data_values import as_date
from compliance.errors import RuleDataError
from compliance.holidays import (
    CalendarInfo,
    CalendarRules,
    ExtraDate,
    HolidayCalendars,
    HolidayRule,
    normalize_county,
)

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_KINDS = frozenset({"fixed", "nth_weekday", "easter", "election_day", "utah_juneteenth"})
_OBSERVANCES = frozenset({"none", "sat_fri_sun_mon", "sun_mon", "weekend_mon"})
_YEARS = frozenset({"all", "even", "odd"})
_COMMON_KEYS = "name citation notes observance observance_citation effective_from effective_until"
_CALENDAR_KEYS = frozenset(f"{_COMMON_KEYS} confidence holidays extra_dates".split())
_HOLIDAY_KEYS = frozenset(f"{_COMMON_KEYS} kind month day weekday n offset_days years counties".split())
_EXTRA_KEYS = frozenset({"date", "name", "citation", "counties", "notes"})
_CALENDAR_ID_RE = re.compile(r"^[A-Z][A-Z0-9-]*$")


def _fail(where: str, field: str, problem: str) -> RuleDataError:
    return RuleDataError(f"holidays data: {where}: field {field!r}: {problem}")


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
    if value is None:
        return None
    parsed = as_date(value)
    if parsed is None:
        raise _fail(where, field, f"must be a date (YYYY-MM-DD), got {value!r}")
    return parsed


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
    return frozenset(normalize_county(c) for c in value)


def _unknown_keys(raw: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    extra = sorted(set(raw) - allowed)
    if extra:
        raise _fail(where, extra[0], f"unknown field (allowed: {', '.join(sorted(allowed))})")


def _parse_holiday(raw: Any, cal: Mapping[str, Any], where: str) -> HolidayRule:
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
    return HolidayRule(
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


def _parse_extra(raw: Any, cal: Mapping[str, Any], where: str) -> ExtraDate:
    if not isinstance(raw, dict):
        raise _fail(where, "extra_dates", "each extra date must be a table")
    _unknown_keys(raw, _EXTRA_KEYS, where)
    day = _date(raw, "date", where)
    if day is None:
        raise _fail(where, "date", "is required")
    return ExtraDate(
        day=day,
        name=_str(raw, "name", where),
        citation=_str(raw, "citation", where, default=cal.get("citation")),
        counties=_counties(raw, where),
    )


def _parse(data: bytes, source: str) -> HolidayCalendars:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleDataError(f"holidays data: {source}: not valid TOML: {exc}") from exc
    version = _str(doc, "version", "file")
    raw_cals = doc.get("calendars")
    if not isinstance(raw_cals, dict) or not raw_cals:
        raise _fail("file", "calendars", "must be a non-empty table of calendars")
    no_calendar = doc.get("no_calendar", {})
    if not isinstance(no_calendar, dict) or not all(isinstance(v, str) for v in no_calendar.values()):
        raise _fail("file", "no_calendar", "must map state ids to strings")
    calendars: dict[str, CalendarRules] = {}
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
        calendars[cid] = CalendarRules(
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
        RuleDataError: the file is not TOML or breaks the layout; the message names the calendar, the
            holiday and the field, e.g. ``calendar AL holiday 'Mardi Gras': field 'offset_days': ...``.
    """
    if path is None:
        return _load_default()
    return _parse(Path(path).read_bytes(), str(path))
