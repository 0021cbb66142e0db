"""Parsing the facts' JSON form (the check command's ``lead`` / ``campaign`` schema) into ``CallFacts``.

``parse_call_facts`` never raises on bad facts: every malformed or missing field becomes a
``FactError`` (with its JSON path) carried on the facts, and the gate blocks on it (``FACTS_INVALID``,
fail closed) while still evaluating everything else. JSON instants are ISO-8601 with ``Z`` or an
offset; a naive one is an error. The schema is documented in the README ("Compliance check").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from compliance.facts import (
    CHANNELS,
    CONSENT_TYPES,
    EBR_TYPES,
    LA_EMERGENCY_FLAG,
    LINE_TYPES,
    PURPOSES,
    RND_RESULTS,
    VOICES,
    Address,
    CallFacts,
    CampaignFacts,
    Consent,
    Ebr,
    FactError,
    HistoryEntry,
    LeadFacts,
    RndResult,
)

_MISSING = object()


class _Reader:
    """Reads typed values out of JSON objects, recording a ``FactError`` for each bad one."""

    def __init__(self) -> None:
        self.errors: list[FactError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FactError(path, message))

    def obj(self, value: object, path: str, keys: frozenset[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {_kind(value)}")
            return None
        for key in sorted(set(value) - keys):
            self.fail(f"{path}.{key}", "unknown field")
        return value

    def get(
        self, d: dict[str, Any], key: str, path: str, conv: Callable[[object, str], Any], *, required: bool
    ) -> Any:
        value = d.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.fail(f"{path}.{key}", "required" if value is _MISSING else "must not be null")
            return None
        try:
            return conv(value, f"{path}.{key}")
        except ValueError as exc:
            self.fail(f"{path}.{key}", str(exc))
            return None


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _str(value: object, _path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, got {_kind(value)} {value!r}")
    return value.strip()


def _enum(allowed: frozenset[str]) -> Callable[[object, str], str]:
    def conv(value: object, path: str) -> str:
        text = _str(value, path).casefold()
        if text not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return text

    return conv


def _bool(value: object, _path: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_kind(value)} {value!r}")
    return value


def _flag_names(value: object, path: str) -> frozenset[str]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of compliance flag names, got {_kind(value)}")
    return frozenset(_str(item, path) for item in value)


def _emergencies(r: _Reader, d: dict[str, Any], path: str) -> frozenset[str] | None:
    """``active_emergencies`` (a list of flag names), or the older ``la_emergency_active`` (bool).

    Neither given (or null): unknown, which blocks wherever an emergency ban applies.
    """
    if d.get("active_emergencies") is not None and d.get("la_emergency_active") is not None:
        r.fail(f"{path}.la_emergency_active", "give active_emergencies or la_emergency_active, not both")
        return None
    if d.get("active_emergencies") is not None:
        return r.get(d, "active_emergencies", path, _flag_names, required=False)
    la = r.get(d, "la_emergency_active", path, _bool, required=False)
    return None if la is None else frozenset({LA_EMERGENCY_FLAG} if la else ())


def _number(value: object, _path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {_kind(value)} {str(value)[:40]!r}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError("number too large") from None
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value!r}")
    if number < 0:
        raise ValueError(f"must not be negative, got {value!r}")
    return number


def _fraction(value: object, path: str) -> float:
    number = _number(value, path)
    if number > 1:
        raise ValueError(f"expected a fraction between 0 and 1 (0.03 is 3 %), got {value!r}")
    return number


def parse_instant(value: object, _path: str = "") -> datetime:
    """An ISO-8601 instant with ``Z`` or an offset, as an aware datetime.

    Raises:
        ValueError: not a string, not ISO-8601, or without a UTC offset.
    """
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 string, got {_kind(value)} {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset (write 'Z' or '+00:00')")
    return parsed


def _date(value: object, path: str) -> date:
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 date") from None
    return parse_instant(value, path).date()


USPS_CODES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP AA AE AP".split()
)
"""USPS codes of the states, DC, the territories and the military "states" (AA, AE, AP)."""


def _state(value: object, path: str) -> str:
    text = _str(value, path).upper()
    if text not in USPS_CODES:
        raise ValueError(f"{value!r} is not a USPS state or territory code")
    return text


def _zone(value: object, path: str) -> str:
    text = _str(value, path)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a directory, not a zone
        raise ValueError(f"{value!r} is not an IANA time zone") from None
    return text


def _sellers(value: object, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (_str(value, path),)
    if not isinstance(value, list) or not value:
        raise ValueError(f"expected a non-empty list of seller names, got {_kind(value)}")
    return tuple(_str(v, f"{path}[{i}]") for i, v in enumerate(value))


_ADDRESS_KEYS = frozenset({"state", "zip", "tz"})
_CONSENT_KEYS = frozenset(
    {"type", "obtained_at", "sellers", "covers_artificial_voice", "phone_e164", "revoked_at", "method"}
)
_EBR_KEYS = frozenset({"type", "at"})
_HISTORY_KEYS = frozenset({"at", "subject", "channel", "caller_id", "answered"})
_RND_KEYS = frozenset({"queried_at", "consent_date", "result"})
_LEAD_KEYS = frozenset(
    {
        "phone_e164",
        "line_type",
        "address",
        "consent",
        "consents",
        "ebr",
        "national_dnc",
        "state_dnc",
        "internal_dnc_requested_at",
        "call_history",
        "rnd",
    }
)
_CAMPAIGN_KEYS = frozenset(
    {
        "purpose",
        "voice",
        "seller",
        "subject",
        "dnc_data_age_days",
        "abandonment_rate_30d",
        "active_emergencies",
        "la_emergency_active",
    }
)


def _parse_consent(r: _Reader, raw: object, path: str) -> Consent | None:
    d = r.obj(raw, path, _CONSENT_KEYS)
    if d is None:
        return None
    kind = r.get(d, "type", path, _enum(CONSENT_TYPES), required=True)
    if kind is None:
        return None
    return Consent(
        type=kind,
        obtained_at=r.get(d, "obtained_at", path, parse_instant, required=False),
        sellers=r.get(d, "sellers", path, _sellers, required=kind == "pewc") or (),
        covers_artificial_voice=bool(
            r.get(d, "covers_artificial_voice", path, _bool, required=kind == "pewc")
        ),
        phone_e164=r.get(d, "phone_e164", path, _str, required=kind == "pewc"),
        revoked_at=r.get(d, "revoked_at", path, parse_instant, required=False),
        method=r.get(d, "method", path, _str, required=False) or "",
    )


def _parse_history(r: _Reader, raw: object, path: str) -> tuple[HistoryEntry, ...]:
    if not isinstance(raw, list):
        r.fail(path, f"expected a list, got {_kind(raw)}")
        return ()
    entries = []
    for i, item in enumerate(raw):
        p = f"{path}[{i}]"
        d = r.obj(item, p, _HISTORY_KEYS)
        if d is None:
            continue
        at = r.get(d, "at", p, parse_instant, required=True)
        if at is None:
            continue
        entries.append(
            HistoryEntry(
                at=at,
                subject=r.get(d, "subject", p, _str, required=False),
                channel=r.get(d, "channel", p, _enum(CHANNELS), required=False) or "voice",
                caller_id=r.get(d, "caller_id", p, _str, required=False),
                answered=r.get(d, "answered", p, _bool, required=False),
            )
        )
    return tuple(entries)


def _parse_state_dnc(value: object, path: str) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(_state(v, f"{path}[{i}]") for i, v in enumerate(value))
    return (_state(value, path),)


def _parse_lead(r: _Reader, raw: object, path: str) -> LeadFacts:
    d = r.obj(raw, path, _LEAD_KEYS)
    if d is None:
        return LeadFacts(phone_e164=None, national_dnc=None)
    address = None
    if d.get("address") is not None:
        a = r.obj(d["address"], f"{path}.address", _ADDRESS_KEYS)
        if a is not None:
            p = f"{path}.address"
            address = Address(
                state=r.get(a, "state", p, _state, required=False),
                zip=r.get(a, "zip", p, _str, required=False),
                tz=r.get(a, "tz", p, _zone, required=False),
            )
    consents: list[Consent] = []
    if d.get("consent") is not None:
        consent = _parse_consent(r, d["consent"], f"{path}.consent")
        consents += [consent] if consent else []
    if d.get("consents") is not None:
        if isinstance(d["consents"], list):
            for i, item in enumerate(d["consents"]):
                consent = _parse_consent(r, item, f"{path}.consents[{i}]")
                consents += [consent] if consent else []
        else:
            r.fail(f"{path}.consents", f"expected a list, got {_kind(d['consents'])}")
    ebr = None
    if d.get("ebr") is not None:
        e = r.obj(d["ebr"], f"{path}.ebr", _EBR_KEYS)
        if e is not None:
            kind = r.get(e, "type", f"{path}.ebr", _enum(EBR_TYPES), required=True)
            at = r.get(e, "at", f"{path}.ebr", parse_instant, required=True)
            ebr = Ebr(kind, at) if kind and at else None
    rnd = None
    if d.get("rnd") is not None:
        q = r.obj(d["rnd"], f"{path}.rnd", _RND_KEYS)
        if q is not None:
            p = f"{path}.rnd"
            queried = r.get(q, "queried_at", p, parse_instant, required=True)
            consent_date = r.get(q, "consent_date", p, _date, required=True)
            result = r.get(q, "result", p, _enum(RND_RESULTS), required=True)
            if queried and consent_date and result:
                rnd = RndResult(queried, consent_date, result)
    return LeadFacts(
        phone_e164=r.get(d, "phone_e164", path, _str, required=True),
        line_type=r.get(d, "line_type", path, _enum(LINE_TYPES), required=False) or "unknown",
        address=address,
        consents=tuple(consents),
        ebr=ebr,
        national_dnc=r.get(d, "national_dnc", path, _bool, required=True),
        state_dnc=r.get(d, "state_dnc", path, _parse_state_dnc, required=False) or (),
        internal_dnc_requested_at=r.get(d, "internal_dnc_requested_at", path, parse_instant, required=False),
        call_history=_parse_history(r, d["call_history"], f"{path}.call_history")
        if d.get("call_history") is not None
        else (),
        rnd=rnd,
    )


def _parse_campaign(r: _Reader, raw: object, path: str) -> CampaignFacts:
    d = r.obj(raw, path, _CAMPAIGN_KEYS)
    if d is None:
        return CampaignFacts(seller=None, abandonment_rate_30d=None, active_emergencies=None)
    return CampaignFacts(
        seller=r.get(d, "seller", path, _str, required=True),
        purpose=r.get(d, "purpose", path, _enum(PURPOSES), required=False) or "telemarketing",
        voice=r.get(d, "voice", path, _enum(VOICES), required=False) or "ai",
        subject=r.get(d, "subject", path, _str, required=False),
        dnc_data_age_days=r.get(d, "dnc_data_age_days", path, _number, required=False),
        abandonment_rate_30d=r.get(d, "abandonment_rate_30d", path, _fraction, required=True),
        active_emergencies=_emergencies(r, d, path),
    )


def parse_call_facts(lead: object, campaign: object, *, path: str = "") -> CallFacts:
    """Build ``CallFacts`` from the JSON ``lead`` and ``campaign`` objects; never raises on bad facts.

    Required: ``lead.phone_e164``, ``lead.national_dnc``, ``campaign.seller``,
    ``campaign.abandonment_rate_30d``, and for a ``pewc`` consent its ``sellers``, ``phone_e164`` and
    ``covers_artificial_voice``. Absent optional facts take their defaults (no address, no EBR, empty
    history, ``line_type`` unknown, the emergency flags unknown). Unknown fields are errors too, so a
    misspelt fact cannot pass unnoticed. ``consent`` (one record) and ``consents`` (a list) both work.

    Args:
        lead, campaign: the decoded JSON objects.
        path: prefix for error paths (``"cases[3]."``).

    Returns:
        The facts, with every problem in ``errors`` (the gate blocks with ``FACTS_INVALID``).
    """
    r = _Reader()
    facts = CallFacts(
        lead=_parse_lead(r, lead, f"{path}lead"),
        campaign=_parse_campaign(r, campaign, f"{path}campaign"),
    )
    return CallFacts(facts.lead, facts.campaign, tuple(r.errors))


def call_facts_from_dict(d: dict[str, Any]) -> CallFacts:
    """Inverse of ``CallFacts.to_dict`` (for replaying a stored decision); stored errors are kept."""
    facts = parse_call_facts(d.get("lead"), d.get("campaign"))
    stored = tuple(FactError(e["path"], e["message"]) for e in d.get("errors", []))
    return CallFacts(facts.lead, facts.campaign, tuple(dict.fromkeys(stored + facts.errors)))
