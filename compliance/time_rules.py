"""Time rules: calling windows, banned days, holidays and frequency caps, at one instant.

``check_time_rules`` applies the federal window and every time rule of every applicable state (CP-4)
in every candidate zone (CP-3), plus the fixed clocks some statutes name (Mississippi's "Central
Standard Time"). Windows are half-open ``[start, end)`` local (CP-5) and apply even with PEWC (CP-6).
``check_frequency_caps`` counts earlier attempts on any channel (CP-9). Both return one ``TimeCheck``
per rule and clock, passed or not, so a decision's trace shows every rule it looked at.
``boundary_instants`` lists the only instants at which a time block can lift, which is what makes
``next_allowed_at`` exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from compliance.facts import HistoryEntry
from compliance.holidays import HolidayCalendars
from compliance.reasons import ReasonCode
from compliance.state_rules import Rule, RuleTable

_MIDNIGHT = time(0, 0)


@dataclass(frozen=True, slots=True)
class TimeCheck:
    """The result of one time rule on one clock.

    Attributes:
        rule: the rule applied.
        clock: the IANA zone, or the fixed clock (``"fixed:-06:00"``), it was read on.
        local: the decision instant on that clock, ISO-8601.
        reason: the reason it blocks, or None when it passes (or does not apply that day).
        detail: what was compared, in words.
        lifts_at: for a frequency cap that blocks, the instant its count falls below the cap.
    """

    rule: Rule
    clock: str
    local: str
    reason: ReasonCode | None
    detail: str
    lifts_at: datetime | None = None

    def to_trace(self) -> dict[str, Any]:
        """This check as a trace entry (``rule``, ``citation``, ``inputs``, ``result``, ...)."""
        return {
            "rule": f"{self.rule.rule_id}@{self.clock}",
            "citation": self.rule.citation,
            "inputs": {"local": self.local, **self.rule.describe()},
            "result": "pass" if self.reason is None else "block",
            "reason_codes": [] if self.reason is None else [str(self.reason)],
            "detail": self.detail,
        }


_FEDERAL_REASON = ReasonCode.OUTSIDE_CALLING_WINDOW
_TIME_KINDS = frozenset({"window", "no_calls", "holiday_ban", "holiday_window", "half_holiday"})


def _clocks(rule: Rule, zones: Sequence[str]) -> list[tuple[str, tzinfo]]:
    fixed = rule.fixed_zone
    if fixed is not None:
        return [(rule.clock, fixed)]
    return [(zone, ZoneInfo(zone)) for zone in zones]


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _apply(
    rule: Rule, local: datetime, holidays: HolidayCalendars, county: str | None
) -> tuple[ReasonCode | None, str]:
    day = local.strftime("%a").lower()
    window_reason = _FEDERAL_REASON if rule.jurisdiction == "federal" else ReasonCode.STATE_CALLING_WINDOW
    if not rule.effective_on(local.date()):
        return None, f"not in force on {local.date().isoformat()}"
    if rule.kind == "window":
        if local.weekday() not in rule.days:
            return None, f"does not cover {day}"
        assert rule.start is not None and rule.end is not None
        inside = rule.start <= local.time() < rule.end
        span = f"[{_hhmm(rule.start)}, {_hhmm(rule.end)})"
        return (
            (None, f"{local.strftime('%H:%M:%S')} inside {span}")
            if inside
            else (
                window_reason,
                f"{local.strftime('%H:%M:%S')} {day} outside {span}",
            )
        )
    if rule.kind == "no_calls":
        if local.weekday() in rule.days:
            return ReasonCode.STATE_DAY_PROHIBITED, f"no calls on {day}"
        return None, f"{day} is not a banned day"
    if rule.kind in ("holiday_ban", "holiday_window"):
        assert rule.calendar is not None
        hits = holidays.hits(rule.calendar, local.date(), county=county)
        if not hits:
            return None, f"{local.date().isoformat()} is not a {rule.calendar} holiday"
        names = ", ".join(f"{h.name}{' (observed)' if h.observed else ''}" for h in hits)
        if rule.kind == "holiday_ban":
            return ReasonCode.STATE_HOLIDAY, f"{local.date().isoformat()} is {names}"
        assert rule.start is not None and rule.end is not None
        if rule.start <= local.time() < rule.end:
            return None, f"{names}: {local.strftime('%H:%M:%S')} inside the holiday window"
        span = f"[{_hhmm(rule.start)}, {_hhmm(rule.end)})"
        return ReasonCode.STATE_HOLIDAY, f"{names}: {local.strftime('%H:%M:%S')} outside {span}"
    if rule.kind == "half_holiday":
        assert rule.after is not None
        if local.weekday() in rule.days and local.time() >= rule.after:
            return ReasonCode.STATE_HOLIDAY, f"{day} after {_hhmm(rule.after)} is a half-holiday"
        return None, "not a half-holiday afternoon"
    raise ValueError(f"{rule.rule_id}: {rule.kind} is not a time rule")


def time_rules_for(table: RuleTable, states: Iterable[str]) -> list[Rule]:
    """The federal rules and the time-of-day/day/holiday rules of ``states``, in table order."""
    rules = [r for r in table.federal if r.kind in _TIME_KINDS]
    for state in sorted(set(states)):
        rules += [r for r in table.rules_for(state) if r.kind in _TIME_KINDS]
    return rules


def check_time_rules(
    at: datetime,
    *,
    zones: Sequence[str],
    rules: Sequence[Rule],
    holidays: HolidayCalendars,
    county: str | None,
) -> list[TimeCheck]:
    """Apply each time rule in each candidate zone (or on its fixed clock) at ``at``.

    Sources: 47 CFR 64.1200(c)(1); 16 CFR 310.4(c); each state rule's citation; CP-3 .. CP-7, CP-12.

    Args:
        at: the decision instant (aware).
        zones: candidate IANA zones (non-empty).
        rules: from ``time_rules_for``.
        holidays: the holiday calendars the rules name.
        county: the address ZIP's county, for county-specific holidays (None = unknown: they apply).

    Returns:
        One check per rule and clock; a check with a ``reason`` blocks.

    Raises:
        KeyError: a rule names a holiday calendar that does not exist.
    """
    checks = []
    for rule in rules:
        for label, tz in _clocks(rule, zones):
            local = at.astimezone(tz)
            reason, detail = _apply(rule, local, holidays, county)
            checks.append(TimeCheck(rule, label, local.isoformat(), reason, detail))
    return checks


def check_frequency_caps(
    at: datetime,
    *,
    history: Sequence[HistoryEntry],
    subject: str | None,
    rules: Sequence[Rule],
    local_dates: Iterable[date],
) -> list[TimeCheck]:
    """Apply each ``frequency_cap`` rule: at most ``max_attempts`` per rolling ``hours`` (CP-9).

    Every attempt counts, on any channel, from any caller ID, answered or not; an attempt dated after
    ``at`` (clock skew) counts too. With ``same_subject`` only attempts on the campaign's subject count;
    an attempt or a campaign without a subject counts as the same subject (most restrictive). The call
    is blocked when the count is already ``max_attempts``: it would be one too many.

    Args:
        at: the decision instant (aware).
        history: earlier attempts to the number.
        subject: the campaign's subject, or None.
        rules: the applicable states' ``frequency_cap`` rules.
        local_dates: local dates of ``at`` in the candidate zones (a rule in force on any of them applies).

    Returns:
        One check per rule; a blocking check carries ``lifts_at``.
    """
    dates = sorted(set(local_dates))
    checks = []
    key = subject.casefold() if subject else None
    for rule in rules:
        assert rule.max_attempts is not None and rule.hours is not None
        if not any(rule.effective_on(d) for d in dates):
            checks.append(TimeCheck(rule, "rolling", at.isoformat(), None, "not in force"))
            continue
        window = timedelta(hours=rule.hours)
        counted = sorted(
            h.at
            for h in history
            if h.at > at - window
            and (not rule.same_subject or key is None or h.subject is None or h.subject.casefold() == key)
        )
        detail = f"{len(counted)} attempt(s) in the {rule.hours} h before, cap {rule.max_attempts}"
        if len(counted) < rule.max_attempts:
            checks.append(TimeCheck(rule, "rolling", at.isoformat(), None, detail))
            continue
        lifts_at = counted[len(counted) - rule.max_attempts] + window
        checks.append(
            TimeCheck(rule, "rolling", at.isoformat(), ReasonCode.FREQUENCY_CAP_EXCEEDED, detail, lifts_at)
        )
    return checks


def boundary_instants(
    at: datetime, *, zones: Sequence[str], rules: Sequence[Rule], days: int
) -> list[datetime]:
    """Every instant after ``at`` within ``days`` local days at which a time block can lift.

    A window block lifts at a window's start; a banned day or holiday at local midnight; nothing else
    in ``check_time_rules`` turns from block to pass. These instants, per candidate zone and fixed
    clock, are the only places the earliest allowed instant can be.
    """
    starts = {r.start for r in rules if r.start is not None} | {_MIDNIGHT}
    clocks: dict[str, tzinfo] = {}
    for rule in rules:
        clocks.update(_clocks(rule, zones))
    found = set()
    for tz in clocks.values():
        today = at.astimezone(tz).date()
        for offset in range(days + 1):
            for start in starts:
                instant = datetime.combine(today + timedelta(days=offset), start, tzinfo=tz)
                if instant > at:
                    found.add(instant)
    return sorted(found)
