"""The gate's input and output as plain, frozen data.

Adapters (the dial task) gather a ``GateInput`` from fresh database rows at dial time; the gate
returns a ``GateDecision`` that carries everything an auditor needs to replay it. Every datetime is
timezone-aware; the gate reports instants in UTC. ``to_dict``/``from_dict`` give a JSON-ready form
(datetimes as ISO-8601 strings with offset) that round-trips exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from compliance.reasons import ReasonCode


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an ISO-8601 string or null, got {type(value).__name__}")
    return datetime.fromisoformat(value)


def _expect(value: object, kind: type | tuple[type, ...], name: str) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"{name}: expected {kind}, got {type(value).__name__}")
    return value


def _check_keys(d: object, cls: type, name: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ValueError(f"{name}: expected an object, got {type(d).__name__}")
    expected = {f.name for f in fields(cls)}
    missing, unknown = expected - d.keys(), d.keys() - expected
    if missing or unknown:
        raise ValueError(f"{name}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
    return d


@dataclass(frozen=True, slots=True)
class ConsentFact:
    """One consent record for the lead, as stored (CP-2).

    Attributes:
        consent_type: ``"pewc"`` (prior express written consent), ``"oral"``, ``"ebr"`` (established
            business relationship) or ``"none"``.
        phone_e164: the number the consent identifies, E.164 (``+13125550123``).
        seller_name: the seller the consent names, or None when it names none.
        covers_artificial_voice: True only when the agreement authorises calls using an artificial or
            prerecorded (AI) voice (47 CFR 64.1200(f)(9); FCC 24-17).
        signed_at: when it was signed (aware), or None when undated.
        revoked_at: when it was revoked (aware), or None.
        method: how it was captured (``"web_form"``, ``"esign"``, ...), for the audit.
        evidence: a pointer to the evidence (URL, document id, hash), for the audit.
    """

    consent_type: str
    phone_e164: str
    seller_name: str | None
    covers_artificial_voice: bool
    signed_at: datetime | None
    revoked_at: datetime | None
    method: str
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; datetimes as ISO-8601 strings with offset."""
        return {
            "consent_type": self.consent_type,
            "phone_e164": self.phone_e164,
            "seller_name": self.seller_name,
            "covers_artificial_voice": self.covers_artificial_voice,
            "signed_at": _iso(self.signed_at),
            "revoked_at": _iso(self.revoked_at),
            "method": self.method,
            "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConsentFact:
        """Inverse of ``to_dict``; strict about keys and types (a string is never read as a bool).

        Raises:
            ValueError: a key is missing or unknown, or a value has the wrong type.
        """
        d = _check_keys(d, cls, "consent")
        return cls(
            consent_type=_expect(d["consent_type"], str, "consent_type"),
            phone_e164=_expect(d["phone_e164"], str, "phone_e164"),
            seller_name=_expect(d["seller_name"], (str, type(None)), "seller_name"),
            covers_artificial_voice=_expect(d["covers_artificial_voice"], bool, "covers_artificial_voice"),
            signed_at=_parse_dt(d["signed_at"], "signed_at"),
            revoked_at=_parse_dt(d["revoked_at"], "revoked_at"),
            method=_expect(d["method"], str, "method"),
            evidence=_expect(d["evidence"], str, "evidence"),
        )


@dataclass(frozen=True, slots=True)
class DncFact:
    """A do-not-call entry that matches the dialed number.

    Attributes:
        list_name: which list: ``"internal"`` (the seller's company-specific list, 47 CFR 64.1200(d)).
            Other lists (national, state) are not evaluated by this rule set.
        requested_at: when the request was made (aware); it applies from that instant (CP-8).
        source: where it came from (``"call:123 honor_dnc"``, ``"import:file.csv"``), for the audit.
    """

    list_name: str
    requested_at: datetime
    source: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``requested_at`` as an ISO-8601 string with offset."""
        return {"list_name": self.list_name, "requested_at": _iso(self.requested_at), "source": self.source}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DncFact:
        """Inverse of ``to_dict``.

        Raises:
            ValueError: a key is missing or unknown, or a value has the wrong type.
        """
        d = _check_keys(d, cls, "dnc")
        requested_at = _parse_dt(d["requested_at"], "requested_at")
        if requested_at is None:
            raise ValueError("requested_at: required")
        return cls(
            list_name=_expect(d["list_name"], str, "list_name"),
            requested_at=requested_at,
            source=_expect(d["source"], str, "source"),
        )


@dataclass(frozen=True, slots=True)
class GateInput:
    """Everything the gate looks at for one dial, gathered at dial time.

    Attributes:
        phone_e164: the number about to be dialed, canonical E.164.
        seller_name: the campaign's seller, as named in consents (e.g. ``"Northwind Analytics, Inc."``).
        address_state: the lead's address state, USPS code (``"IN"``), or None.
        address_zip: the lead's address ZIP (``"46320"`` or ``"46320-1234"``), or None.
        consents: every consent record on file for the lead/number.
        dnc: every DNC entry on file for the number.
    """

    phone_e164: str
    seller_name: str
    address_state: str | None
    address_zip: str | None
    consents: tuple[ConsentFact, ...] = ()
    dnc: tuple[DncFact, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples as lists, datetimes as ISO-8601); ``from_dict`` inverts it exactly."""
        return {
            "phone_e164": self.phone_e164,
            "seller_name": self.seller_name,
            "address_state": self.address_state,
            "address_zip": self.address_zip,
            "consents": [c.to_dict() for c in self.consents],
            "dnc": [n.to_dict() for n in self.dnc],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GateInput:
        """Rebuild an input from ``to_dict`` output (e.g. a stored decision's ``facts["input"]``).

        Raises:
            ValueError: a key is missing or unknown, or a value has the wrong type.
        """
        d = _check_keys(d, cls, "input")
        return cls(
            phone_e164=_expect(d["phone_e164"], str, "phone_e164"),
            seller_name=_expect(d["seller_name"], str, "seller_name"),
            address_state=_expect(d["address_state"], (str, type(None)), "address_state"),
            address_zip=_expect(d["address_zip"], (str, type(None)), "address_zip"),
            consents=tuple(ConsentFact.from_dict(c) for c in _expect(d["consents"], list, "consents")),
            dnc=tuple(DncFact.from_dict(n) for n in _expect(d["dnc"], list, "dnc")),
        )


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The gate's answer for one dial, with what an auditor needs to replay it.

    Attributes:
        allowed: True only when ``reasons`` is empty.
        reasons: every reason that blocks the call, de-duplicated, in ``ReasonCode`` order.
        notes: human-readable remarks that do not block (e.g. ``"pewc_exemption_ignored_by_policy"``).
        candidate_zones: IANA zones the window was checked in (CP-3), sorted; empty when unresolved.
        next_allowed_at: the earliest instant (UTC) the call could pass, set only when every reason is
            transient (``TRANSIENT_REASONS``); else None.
        decided_at: the instant decided for (UTC).
        rule_versions: ``RULE_VERSIONS`` at decision time.
        facts: ``{"input": GateInput.to_dict(), "derived": {...}}``, JSON-ready.
    """

    allowed: bool
    reasons: tuple[ReasonCode, ...]
    notes: tuple[str, ...]
    candidate_zones: tuple[str, ...]
    next_allowed_at: datetime | None
    decided_at: datetime
    rule_versions: dict[str, str]
    facts: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict for storage (reason codes as strings, datetimes as ISO-8601)."""
        return {
            "allowed": self.allowed,
            "reasons": [str(r) for r in self.reasons],
            "notes": list(self.notes),
            "candidate_zones": list(self.candidate_zones),
            "next_allowed_at": _iso(self.next_allowed_at),
            "decided_at": _iso(self.decided_at),
            "rule_versions": dict(self.rule_versions),
            "facts": self.facts,
        }
