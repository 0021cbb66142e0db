"""The rule table: the federal calling window and the state rules, read from one reviewable data file.

The data lives in ``compliance/data/state_rules.toml`` (its header documents every rule kind); this
module only parses and validates it into frozen ``Rule`` objects. Nothing here decides a call: see
``compliance.time_rules`` and ``compliance.gate``. Sources: COMPLIANCE_RULES.md sections 1.1 and 2.1;
each rule carries its own citation.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta, timezone, tzinfo
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from compliance.data_values import as_date
from compliance.errors import RuleDataError as RuleDataError
from compliance.reasons import ReasonCode
from compliance.states import STATE_NAMES, TERRITORIES

DEFAULT_RULES_PATH = Path(__file__).resolve().parent / "data" / "state_rules.toml"

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names used by the data file, in ``date.weekday()`` order."""

RULE_KINDS = frozenset(
    {
        "window",
        "no_calls",
        "holiday_ban",
        "holiday_window",
        "half_holiday",
        "frequency_cap",
        "emergency_ban",
        "counsel_review",
    }
)
_REQUIRED: dict[str, tuple[str, ...]] = {
    "window": ("days", "start", "end"),
    "no_calls": ("days",),
    "holiday_ban": ("calendar",),
    "holiday_window": ("calendar", "start", "end"),
    "half_holiday": ("days", "after"),
    "frequency_cap": ("max_attempts", "hours", "same_subject"),
    "emergency_ban": ("flag",),  # optional: reason (a ReasonCode; default STATE_EMERGENCY)
    "counsel_review": (),
}
_OPTIONAL = frozenset({"clock", "effective_from", "effective_until", "scope", "confidence", "note", "reason"})
_FLAG_NAME = re.compile(r"[a-z][a-z0-9_]{1,39}")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the table.

    Attributes:
        jurisdiction: ``"federal"`` or a USPS state code.
        index: position in the jurisdiction's rule list (0-based); with the kind it makes ``rule_id``.
        kind: one of ``RULE_KINDS`` (see the data file's header).
        citation: the statute or regulation, e.g. ``"Tex. Bus. & Com. Code 301.051"``.
        confidence: ``P``, ``P-`` or ``S`` (COMPLIANCE_RULES 2.1 confidence key).
        days: weekdays the rule covers (0 = Monday), for window / no_calls / half_holiday.
        start, end: the half-open local window ``[start, end)`` (CP-5).
        after: start of the half-holiday (``half_holiday``).
        calendar: holiday calendar id (``holiday_ban`` / ``holiday_window``).
        clock: ``"local"`` (the candidate zone's wall clock) or ``"fixed:+HH:MM"``.
        max_attempts, hours, same_subject: the frequency cap (``frequency_cap``).
        flag: the compliance flag that turns an ``emergency_ban`` on (``la_emergency``): an
            operator sets it (``dialer compliance flag NAME on``), the gate reads it.
        reason: the reason code an ``emergency_ban`` blocks with (``STATE_EMERGENCY_LA``).
        scope: ``"all"`` or ``"ai_voice"`` (an ADAD limit applied to AI voice, CP-7).
        effective_from, effective_until: the rule applies to local dates in ``[from, until)``.
        note: reviewer's remark.
    """

    jurisdiction: str
    index: int
    kind: str
    citation: str
    confidence: str
    days: frozenset[int] = frozenset()
    start: time | None = None
    end: time | None = None
    after: time | None = None
    calendar: str | None = None
    clock: str = "local"
    max_attempts: int | None = None
    hours: int | None = None
    same_subject: bool = False
    flag: str | None = None
    reason: str | None = None
    scope: str = "all"
    effective_from: date | None = None
    effective_until: date | None = None
    note: str = ""

    @property
    def rule_id(self) -> str:
        """Stable id used in traces: ``"TX.window.1"``, ``"federal.window.0"``."""
        return f"{self.jurisdiction}.{self.kind}.{self.index}"

    @property
    def fixed_zone(self) -> tzinfo | None:
        """The fixed-offset clock of a ``fixed:`` rule (Mississippi's literal CST), else None."""
        if not self.clock.startswith("fixed:"):
            return None
        sign, hh, mm = self.clock[6], int(self.clock[7:9]), int(self.clock[10:12])
        offset = timedelta(hours=hh, minutes=mm) * (-1 if sign == "-" else 1)
        return timezone(offset, self.clock)

    def effective_on(self, day: date) -> bool:
        """Whether the rule is in force on ``day`` (half-open ``[effective_from, effective_until)``)."""
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_until is None or day < self.effective_until

    def describe(self) -> dict[str, Any]:
        """The rule as plain data, for a decision's trace."""
        out: dict[str, Any] = {"rule_id": self.rule_id, "kind": self.kind, "citation": self.citation}
        if self.days:
            out["days"] = [DAY_NAMES[d] for d in sorted(self.days)]
        for name in ("start", "end", "after"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.strftime("%H:%M")
        for name in ("calendar", "max_attempts", "hours", "flag"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.kind == "frequency_cap":
            out["same_subject"] = self.same_subject
        if self.clock != "local":
            out["clock"] = self.clock
        if self.scope != "all":
            out["scope"] = self.scope
        if self.effective_from or self.effective_until:
            out["effective"] = [
                None if self.effective_from is None else self.effective_from.isoformat(),
                None if self.effective_until is None else self.effective_until.isoformat(),
            ]
        out["confidence"] = self.confidence
        return out


@dataclass(frozen=True, slots=True)
class StateDncList:
    """A state's own do-not-call list, kept apart from the National Registry.

    Attributes:
        state: USPS code; the list's name in ``dialer dnc import --list XX``.
        name: what the state calls it, e.g. ``"Texas no-call list"``.
        citation: the statute or regulation that creates it.
        confidence: ``P``, ``P-`` or ``S`` (COMPLIANCE_RULES 2.1 confidence key).
        note: reviewer's remark.
    """

    state: str
    name: str
    citation: str
    confidence: str = "P"
    note: str = ""


@dataclass(frozen=True)
class RuleTable:
    """The parsed rule table.

    Attributes:
        version: ``"<declared version>+<first 12 hex of the file's sha256>"``, stored with decisions.
        federal: rules that apply to every call.
        states: USPS code -> that state's rules (only states with rules stricter than federal).
        names: USPS code -> state name, for the states in the file (from :mod:`compliance.states`).
        dnc_lists: USPS code -> the state's own DNC list, for the states that keep one.
    """

    version: str
    federal: tuple[Rule, ...]
    states: Mapping[str, tuple[Rule, ...]]
    names: Mapping[str, str]
    dnc_lists: Mapping[str, StateDncList]

    def rules_for(self, state: str) -> tuple[Rule, ...]:
        """The rules of one state; empty for a state with nothing stricter than federal."""
        return self.states.get(state, ())

    @property
    def emergency_flags(self) -> Mapping[str, Rule]:
        """Compliance flag name -> the ``emergency_ban`` rule it turns on (``la_emergency`` -> LA's)."""
        return MappingProxyType(
            {
                r.flag: r
                for rules in self.states.values()
                for r in rules
                if r.kind == "emergency_ban" and r.flag
            }
        )


def _parse_time(value: object, where: str) -> time:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise RuleDataError(f"{where}: expected a time 'HH:MM', got {value!r}")
    try:
        return time(int(value[:2]), int(value[3:]))
    except ValueError:
        raise RuleDataError(f"{where}: not a time: {value!r}") from None


def _parse_date(value: object, where: str) -> date:
    parsed = as_date(value)
    if parsed is None:
        raise RuleDataError(f"{where}: expected an ISO date 'YYYY-MM-DD', got {value!r}")
    return parsed


def _parse_days(value: object, where: str) -> frozenset[int]:
    if not isinstance(value, list) or not value or not all(v in DAY_NAMES for v in value):
        raise RuleDataError(f"{where}: expected a non-empty list of {', '.join(DAY_NAMES)}, got {value!r}")
    return frozenset(DAY_NAMES.index(v) for v in value)


def _kind_fields(kind: str, raw: dict[str, Any], where: str) -> dict[str, Any]:
    """The fields only one kind has: a frequency cap's counts, an emergency ban's reason code."""
    fields: dict[str, Any] = {}
    if kind == "frequency_cap":
        for name in ("max_attempts", "hours"):
            if not isinstance(raw[name], int) or isinstance(raw[name], bool) or raw[name] < 1:
                raise RuleDataError(f"{where}.{name}: expected a positive integer, got {raw[name]!r}")
            fields[name] = raw[name]
        if not isinstance(raw["same_subject"], bool):
            raise RuleDataError(f"{where}.same_subject: expected true or false")
        fields["same_subject"] = raw["same_subject"]
    if kind == "emergency_ban":
        if not isinstance(raw["flag"], str) or not _FLAG_NAME.fullmatch(raw["flag"]):
            raise RuleDataError(
                f"{where}.flag: expected a flag name like 'la_emergency', got {raw['flag']!r}"
            )
        fields["reason"] = raw.get("reason", ReasonCode.STATE_EMERGENCY.value)
        if fields["reason"] not in ReasonCode.__members__:
            raise RuleDataError(f"{where}.reason: {fields['reason']!r} is not a reason code")
    elif "reason" in raw:
        raise RuleDataError(f"{where}.reason: only an emergency_ban names a reason code")
    return fields


def _parse_rule(jurisdiction: str, index: int, raw: object, origin: str) -> Rule:
    where = f"{origin}: {jurisdiction} rule {index}"
    if not isinstance(raw, dict):
        raise RuleDataError(f"{where}: expected a table")
    kind = raw.get("kind")
    if kind not in RULE_KINDS:
        raise RuleDataError(f"{where}: kind {kind!r} is not one of {sorted(RULE_KINDS)}")
    allowed = {"kind", "citation", *_REQUIRED[kind], *_OPTIONAL}
    unknown = sorted(set(raw) - allowed)
    missing = sorted(k for k in ("citation", *_REQUIRED[kind]) if k not in raw)
    if unknown or missing:
        raise RuleDataError(f"{where} ({kind}): unknown fields {unknown}, missing fields {missing}")
    if not isinstance(raw["citation"], str) or not raw["citation"].strip():
        raise RuleDataError(f"{where}: citation must be a non-empty string")
    fields: dict[str, Any] = {}
    if "days" in raw:
        fields["days"] = _parse_days(raw["days"], f"{where}.days")
    for name in ("start", "end", "after"):
        if name in raw:
            fields[name] = _parse_time(raw[name], f"{where}.{name}")
    if "start" in fields and fields["end"] <= fields["start"]:
        raise RuleDataError(f"{where}: end {raw['end']} is not after start {raw['start']}")
    for name in ("effective_from", "effective_until"):
        if name in raw:
            fields[name] = _parse_date(raw[name], f"{where}.{name}")
    clock = raw.get("clock", "local")
    if clock != "local" and not (
        isinstance(clock, str) and len(clock) == 12 and clock.startswith("fixed:") and clock[6] in "+-"
    ):
        raise RuleDataError(f"{where}.clock: expected 'local' or 'fixed:+HH:MM', got {clock!r}")
    fields |= _kind_fields(kind, raw, where)
    scope = raw.get("scope", "all")
    if scope not in ("all", "ai_voice"):
        raise RuleDataError(f"{where}.scope: expected 'all' or 'ai_voice', got {scope!r}")
    confidence = raw.get("confidence", "P")
    if confidence not in ("P", "P-", "S"):
        raise RuleDataError(f"{where}.confidence: expected P, P- or S, got {confidence!r}")
    return Rule(
        jurisdiction=jurisdiction,
        index=index,
        kind=kind,
        citation=raw["citation"].strip(),
        confidence=confidence,
        calendar=raw.get("calendar"),
        clock=clock,
        flag=raw.get("flag"),
        scope=scope,
        note=str(raw.get("note", "")),
        **fields,
    )


def parse_rule_table(text: str, *, origin: str = "<rules>") -> RuleTable:
    """Parse rule data (the TOML text of ``state_rules.toml``).

    Raises:
        RuleDataError: the TOML is malformed, or a rule is (the message names jurisdiction, rule index
            and field).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleDataError(f"{origin}: {exc}") from None
    declared = data.get("version")
    if not isinstance(declared, str) or not declared:
        raise RuleDataError(f"{origin}: a top-level 'version' string is required")
    federal_raw = (data.get("federal") or {}).get("rules")
    if not isinstance(federal_raw, list) or not federal_raw:
        raise RuleDataError(f"{origin}: [[federal.rules]] is required")
    federal = tuple(_parse_rule("federal", i, r, origin) for i, r in enumerate(federal_raw))
    states: dict[str, tuple[Rule, ...]] = {}
    dnc_lists: dict[str, StateDncList] = {}
    for code, body in (data.get("states") or {}).items():
        if code not in STATE_NAMES or code in TERRITORIES:
            raise RuleDataError(f"{origin}: state key {code!r} is not a USPS code of a state or DC")
        if not isinstance(body, dict) or not ({"rules", "dnc_list"} & body.keys()):
            raise RuleDataError(f"{origin}: {code}: expected [[states.{code}.rules]] or a dnc_list")
        unknown = sorted(body.keys() - {"rules", "dnc_list"})
        if unknown:  # a state's name comes from compliance.states, never from here
            raise RuleDataError(f"{origin}: {code}: unknown keys {unknown} (expected rules, dnc_list)")
        rules = body.get("rules", [])
        if not isinstance(rules, list):
            raise RuleDataError(f"{origin}: {code}: rules must be an array of tables")
        if rules:
            states[code] = tuple(_parse_rule(code, i, r, origin) for i, r in enumerate(rules))
        if "dnc_list" in body:
            dnc_lists[code] = _parse_dnc_list(code, body["dnc_list"], f"{origin}: {code}.dnc_list")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return RuleTable(
        version=f"{declared}+{digest}",
        federal=federal,
        states=MappingProxyType(states),
        names=MappingProxyType({code: STATE_NAMES[code] for code in sorted({*states, *dnc_lists})}),
        dnc_lists=MappingProxyType(dnc_lists),
    )


def _parse_dnc_list(state: str, raw: object, where: str) -> StateDncList:
    if not isinstance(raw, dict):
        raise RuleDataError(f"{where}: expected a table with name and citation")
    unknown = sorted(raw.keys() - {"name", "citation", "confidence", "note"})
    if unknown:
        raise RuleDataError(f"{where}: unknown keys {unknown}")
    for key in ("name", "citation"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RuleDataError(f"{where}.{key}: must be a non-empty string")
    confidence = raw.get("confidence", "P")
    if confidence not in ("P", "P-", "S"):
        raise RuleDataError(f"{where}.confidence: expected P, P- or S, got {confidence!r}")
    return StateDncList(
        state=state,
        name=raw["name"].strip(),
        citation=raw["citation"].strip(),
        confidence=confidence,
        note=str(raw.get("note", "")),
    )


@cache
def _default_table() -> RuleTable:
    return parse_rule_table(DEFAULT_RULES_PATH.read_text(encoding="utf-8"), origin=str(DEFAULT_RULES_PATH))


def load_rule_table(path: Path | None = None) -> RuleTable:
    """Load a rule table; the packaged ``state_rules.toml`` (cached) when ``path`` is None.

    Raises:
        RuleDataError: see ``parse_rule_table``.
        OSError: the file cannot be read.
    """
    if path is None:
        return _default_table()
    return parse_rule_table(Path(path).read_text(encoding="utf-8"), origin=str(path))
