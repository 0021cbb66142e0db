"""Shared builders for the gate tests: a known-good lead/campaign in JSON form, per-state numbers and
addresses, local instants and call histories.

The baseline (``lead()``, ``campaign()``) is allowed on a weekday mid-day: a Dallas wireless number with
valid PEWC for the seller, not on any DNC list, fresh DNC data and a low abandonment rate. Everything
goes through ``parse_call_facts`` and ``evaluate`` (the public gate API), never through internals.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from compliance.decision import Decision
from compliance.facts_json import parse_call_facts
from compliance.gate import evaluate
from compliance.reasons import ReasonCode

R = ReasonCode

SELLER = "Northwind Analytics"
CONSENT_SELLER = "Northwind Analytics, Inc."
CONSENT_AT = "2026-01-10T15:00:00Z"

NEW_YORK = "America/New_York"
CHICAGO = "America/Chicago"
DENVER = "America/Denver"
PHOENIX = "America/Phoenix"
LOS_ANGELES = "America/Los_Angeles"
BOISE = "America/Boise"
HONOLULU = "Pacific/Honolulu"
ND_CENTER = "America/North_Dakota/Center"

# A week with no holiday in any calendar: Mon 2026-06-22 .. Sun 2026-06-28 (all zones on DST).
MON = date(2026, 6, 22)
TUE = date(2026, 6, 23)
FRI = date(2026, 6, 26)
SAT = date(2026, 6, 27)
SUN = date(2026, 6, 28)
# A winter week (standard time): Mon 2026-01-12 .. Sun 2026-01-18.
WINTER_MON = date(2026, 1, 12)
WINTER_SAT = date(2026, 1, 17)


@dataclass(frozen=True)
class Loc:
    """A number whose area code is in ``state`` and an address in the same state and zone."""

    state: str
    phone: str
    zip: str
    zone: str


# Every number is valid for phonenumbers (555-01XX lines), its area code geocodes to ``state``, its
# only phonenumbers zone is ``zone`` and the ZIP is in the same state and zone.
LOCS: dict[str, Loc] = {
    loc.state: loc
    for loc in (
        Loc("AL", "+12055550101", "35203", CHICAGO),
        Loc("CA", "+12135550101", "90012", LOS_ANGELES),
        Loc("CT", "+12035550101", "06510", NEW_YORK),
        Loc("FL", "+13055550101", "33130", NEW_YORK),
        Loc("IL", "+13125550101", "60601", CHICAGO),
        Loc("LA", "+15045550101", "70112", CHICAGO),
        Loc("MA", "+16175550101", "02108", NEW_YORK),
        Loc("MD", "+14105550101", "21201", NEW_YORK),
        Loc("ME", "+12075550101", "04101", NEW_YORK),
        Loc("MN", "+16125550101", "55401", CHICAGO),
        Loc("MS", "+16015550101", "39201", CHICAGO),
        Loc("NE", "+14025550101", "68102", CHICAGO),
        Loc("NM", "+15055550101", "87102", DENVER),
        Loc("NV", "+17025550101", "89101", LOS_ANGELES),
        Loc("NY", "+12125550101", "10001", NEW_YORK),
        Loc("OK", "+14055550101", "73102", CHICAGO),
        Loc("PA", "+12155550101", "19103", NEW_YORK),
        Loc("RI", "+14015550101", "02903", NEW_YORK),
        Loc("SC", "+18035550101", "29201", NEW_YORK),
        Loc("TX", "+12145550101", "75201", CHICAGO),
        Loc("UT", "+18015550101", "84101", DENVER),
        Loc("WA", "+12065550101", "98101", LOS_ANGELES),
        Loc("WY", "+13075550101", "82001", DENVER),
        # The KY (Louisville) and MI (Detroit) ZIPs add America/Kentucky/Louisville and America/Detroit,
        # which keep New York's wall clock.
        Loc("KY", "+15025550101", "40202", NEW_YORK),
        Loc("MI", "+13135550101", "48226", NEW_YORK),
    )
}

_BASE_LEAD: dict[str, Any] = {
    "phone_e164": "+12145550101",
    "line_type": "wireless",
    "address": {"state": "TX", "zip": "75201", "tz": None},
    "consent": {
        "type": "pewc",
        "obtained_at": CONSENT_AT,
        "sellers": [CONSENT_SELLER],
        "covers_artificial_voice": True,
        "phone_e164": "+12145550101",
        "revoked_at": None,
    },
    "ebr": None,
    "national_dnc": False,
    "state_dnc": None,
    "internal_dnc_requested_at": None,
    "call_history": [],
    "rnd": None,
}
_BASE_CAMPAIGN: dict[str, Any] = {
    "purpose": "telemarketing",
    "voice": "ai",
    "seller": SELLER,
    "subject": "data platform",
    "dnc_data_age_days": 3,
    "abandonment_rate_30d": 0.01,
    "la_emergency_active": False,
}


def lead(**overrides: Any) -> dict[str, Any]:
    """The baseline lead (JSON form) with top-level keys replaced; ``consent_*`` keys edit the consent.

    ``consent_obtained_at="2025-01-01T00:00:00Z"`` sets ``consent.obtained_at``; a ``phone_e164``
    override also moves the consent's number unless ``consent_phone_e164`` is given.
    """
    d = copy.deepcopy(_BASE_LEAD)
    consent_edits = {k[len("consent_") :]: v for k, v in overrides.items() if k.startswith("consent_")}
    for k, v in overrides.items():
        if not k.startswith("consent_"):
            d[k] = copy.deepcopy(v)
    if "phone_e164" in overrides and isinstance(d.get("consent"), dict) and "consent" not in overrides:
        d["consent"]["phone_e164"] = overrides["phone_e164"]
    if consent_edits:
        assert isinstance(d.get("consent"), dict), "no consent to edit"
        d["consent"].update(consent_edits)
    return d


def campaign(**overrides: Any) -> dict[str, Any]:
    """The baseline campaign (JSON form) with keys replaced."""
    d = copy.deepcopy(_BASE_CAMPAIGN)
    d.update(copy.deepcopy(overrides))
    return d


def lead_in(state: str | Loc, **overrides: Any) -> dict[str, Any]:
    """The baseline lead moved to ``state``: its number, address and the consent's number."""
    loc = state if isinstance(state, Loc) else LOCS[state]
    values: dict[str, Any] = {
        "phone_e164": loc.phone,
        "address": {"state": loc.state, "zip": loc.zip, "tz": None},
    }
    values.update(overrides)
    return lead(**values)


def without(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A copy of ``d`` without ``keys``."""
    out = copy.deepcopy(d)
    for key in keys:
        out.pop(key, None)
    return out


def decide(lead_dict: Any = None, campaign_dict: Any = None, *, at: datetime) -> Decision:
    """Parse the JSON facts and evaluate them under the conservative policy at ``at``."""
    facts = parse_call_facts(
        lead() if lead_dict is None else lead_dict, campaign() if campaign_dict is None else campaign_dict
    )
    return evaluate(facts, None, at)


def local(zone: str, day: date, hh: int = 12, mm: int = 0, ss: int = 0) -> datetime:
    """The aware instant at wall time ``hh:mm:ss`` on ``day`` in ``zone``."""
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=ZoneInfo(zone))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def iso_z(instant: datetime) -> str:
    """ISO-8601 UTC with ``Z``, as the JSON facts write instants."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def attempt(
    at: datetime,
    *,
    subject: str | None = "data platform",
    channel: str = "voice",
    caller_id: str | None = "+12145550199",
    answered: bool | None = True,
) -> dict[str, Any]:
    """One call-history entry (JSON form)."""
    return {
        "at": iso_z(at),
        "subject": subject,
        "channel": channel,
        "caller_id": caller_id,
        "answered": answered,
    }


def attempts_before(at: datetime, *hours_ago: float, **kwargs: Any) -> list[dict[str, Any]]:
    """History entries ``hours_ago`` hours before ``at``."""
    return [attempt(at - timedelta(hours=h), **kwargs) for h in hours_ago]


def reasons(decision: Decision) -> set[ReasonCode]:
    return set(decision.reason_codes)


def blocking_citations(decision: Decision) -> list[str]:
    """Citations of every trace entry that blocked."""
    return [c.citation for c in decision.trace if c.result == "block"]


def assert_blocked_by(decision: Decision, expected: set[ReasonCode], citation: str | None = None) -> None:
    """The decision blocks with exactly ``expected``, and (if given) a blocking rule cites ``citation``."""
    assert decision.decision == "block", decision.summary()
    assert set(decision.reason_codes) == expected, decision.summary()
    if citation is not None:
        cited = blocking_citations(decision)
        assert any(citation in c for c in cited), (citation, cited)


def assert_allowed(decision: Decision) -> None:
    assert decision.decision == "allow", (
        decision.summary(),
        [c for c in decision.trace if c.result == "block"],
    )
    assert decision.reason_codes == ()
    assert decision.next_allowed_at is None
