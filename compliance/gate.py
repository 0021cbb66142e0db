"""The compliance gate, first version: one pure decision per dial, evaluated at dial time.

``evaluate`` applies every rule of this rule set (number validity, US destination, time zones,
federal calling window, internal DNC, PEWC) to a ``GateInput`` at an instant ``now`` and returns a
``GateDecision`` listing every reason that blocks, with the facts it used so that ``replay`` can
reproduce it. It fails closed (DESIGN.md rule 1): any exception while deciding becomes a block with
``GATE_ERROR``, never a pass.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import phonenumbers
import zipcodes

from compliance.consent import check_consent
from compliance.facts import DncFact, GateDecision, GateInput
from compliance.numbers import US_DESTINATION_REGIONS, destination_region, number_time_zones
from compliance.reasons import RULE_VERSIONS, RULESET_VERSION, TRANSIENT_REASONS, ReasonCode
from compliance.windows import in_window, local_times, next_window_opening
from compliance.zones import candidate_time_zones, resolve_address_zones

PEWC_EXEMPTION_NOTE = "pewc_exemption_ignored_by_policy"
"""Note on a call with valid PEWC blocked only by the calling window: the federal hours rule arguably
exempts consented calls (47 CFR 64.1200(f)(15)), but CP-6 applies it anyway (COMPLIANCE_RULES 0.1 item 3,
open question 2)."""

INTERNAL_DNC_LIST = "internal"


def _data_versions() -> dict[str, str]:
    return {
        "phonenumbers": str(getattr(phonenumbers, "__version__", "unknown")),
        "zipcodes": str(getattr(zipcodes, "__version__", "unknown")),
    }


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} is a naive datetime; every instant must be timezone-aware")


def _check_instants(gate_input: GateInput) -> None:
    for i, consent in enumerate(gate_input.consents):
        _require_aware(consent.signed_at, f"consents[{i}].signed_at")
        _require_aware(consent.revoked_at, f"consents[{i}].revoked_at")
    for i, entry in enumerate(gate_input.dnc):
        _require_aware(entry.requested_at, f"dnc[{i}].requested_at")


def _canonical_e164(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _ordered(reasons: set[ReasonCode]) -> tuple[ReasonCode, ...]:
    return tuple(r for r in ReasonCode if r in reasons)


def _number_rules(phone: str, reasons: set[ReasonCode], notes: list[str]) -> dict[str, Any]:
    region = destination_region(phone)
    canonical = _canonical_e164(phone) if region is not None else None
    if region is None:
        reasons.add(ReasonCode.INVALID_NUMBER)
    elif canonical != phone:
        reasons.add(ReasonCode.INVALID_NUMBER)
        notes.append(f"number_not_canonical_e164:{canonical}")
    elif region not in US_DESTINATION_REGIONS:
        reasons.add(ReasonCode.NON_US_DESTINATION)
    return {"valid": region is not None, "canonical_e164": canonical, "region": region}


def _zone_rules(
    gate_input: GateInput, now: datetime, reasons: set[ReasonCode], notes: list[str]
) -> tuple[tuple[str, ...], dict[str, Any]]:
    address = resolve_address_zones(gate_input.address_state, gate_input.address_zip)
    notes.extend(address.notes)
    number_zones = number_time_zones(gate_input.phone_e164)
    candidates = candidate_time_zones(gate_input.phone_e164, gate_input.address_state, gate_input.address_zip)
    derived: dict[str, Any] = {
        "number_zones": None if number_zones is None else list(number_zones),
        "address_zones": sorted(address.zones),
        "address_zone_source": address.source,
        "candidate_zones": None if candidates is None else list(candidates),
        "local_times": {},
    }
    if candidates is None:
        reasons.add(ReasonCode.TZ_UNRESOLVED)
        return (), derived
    for zone, local in local_times(now, candidates).items():
        inside = in_window(local)
        derived["local_times"][zone] = {"local": local.isoformat(), "in_window": inside}
        if not inside:
            notes.append(f"outside_window:{zone}@{local.strftime('%Y-%m-%dT%H:%M:%S')}")
    if any(not v["in_window"] for v in derived["local_times"].values()):
        reasons.add(ReasonCode.OUTSIDE_CALLING_WINDOW)
    return candidates, derived


def _evaluate(gate_input: GateInput, now: datetime) -> GateDecision:
    _check_instants(gate_input)
    reasons: set[ReasonCode] = set()
    notes: list[str] = []
    derived: dict[str, Any] = {"ruleset_version": RULESET_VERSION, "data_versions": _data_versions()}

    derived["number"] = _number_rules(gate_input.phone_e164, reasons, notes)
    candidates: tuple[str, ...] = ()
    if derived["number"]["valid"]:
        candidates, derived["zones"] = _zone_rules(gate_input, now, reasons, notes)
    else:
        derived["zones"] = {"not_evaluated": "invalid number"}

    internal: list[DncFact] = []
    for entry in gate_input.dnc:
        if entry.list_name.strip().casefold() == INTERNAL_DNC_LIST:
            internal.append(entry)
        else:
            notes.append(f"dnc_list_not_evaluated:{entry.list_name}")
    latest_dnc = max((d.requested_at for d in internal), default=None)
    if latest_dnc is not None and latest_dnc > now:
        notes.append(f"dnc_requested_after_now_honoured:{latest_dnc.astimezone(UTC).isoformat()}")

    consent = check_consent(
        gate_input.consents,
        seller_name=gate_input.seller_name,
        phone_e164=gate_input.phone_e164,
        now=now,
        latest_dnc_at=latest_dnc,
    )
    reasons.update(consent.reasons)
    satisfied = None if consent.satisfied_by is None else gate_input.consents[consent.satisfied_by]
    if latest_dnc is not None:
        signed = None if satisfied is None else satisfied.signed_at
        if signed is None or signed <= latest_dnc:
            reasons.add(ReasonCode.DNC_INTERNAL)
    derived["dnc"] = {
        "internal_entries": len(internal),
        "latest_internal_requested_at": None if latest_dnc is None else latest_dnc.isoformat(),
    }
    derived["consent"] = {
        "satisfied_by": consent.satisfied_by,
        "reasons": [str(r) for r in consent.reasons],
        "records": [
            {"index": i, "reasons": [str(r) for r in rs], "detail": detail}
            for i, (rs, detail) in enumerate(zip(consent.record_reasons, consent.details, strict=False))
        ],
    }

    ordered = _ordered(reasons)
    if ordered == (ReasonCode.OUTSIDE_CALLING_WINDOW,) and satisfied is not None:
        notes.append(PEWC_EXEMPTION_NOTE)
    next_allowed_at = None
    if ordered and set(ordered) <= TRANSIENT_REASONS:
        next_allowed_at = next_window_opening(now, candidates)
        if next_allowed_at is None:
            notes.append("no_common_window_within_lookahead")
    return GateDecision(
        allowed=not ordered,
        reasons=ordered,
        notes=tuple(dict.fromkeys(notes)),
        candidate_zones=candidates,
        next_allowed_at=next_allowed_at,
        decided_at=now,
        rule_versions=dict(RULE_VERSIONS),
        facts={"input": gate_input.to_dict(), "derived": derived},
    )


def _error_decision(gate_input: object, now: datetime, exc: Exception) -> GateDecision:
    try:
        recorded: Any = gate_input.to_dict()  # type: ignore[attr-defined]
    except Exception:  # the input itself may be what is broken
        recorded = {"unserializable": repr(gate_input)}
    error = {"type": type(exc).__name__, "message": str(exc)}
    return GateDecision(
        allowed=False,
        reasons=(ReasonCode.GATE_ERROR,),
        notes=(f"gate_error:{error['type']}: {error['message']}",),
        candidate_zones=(),
        next_allowed_at=None,
        decided_at=now,
        rule_versions=dict(RULE_VERSIONS),
        facts={
            "input": recorded,
            "derived": {
                "ruleset_version": RULESET_VERSION,
                "data_versions": _data_versions(),
                "error": error,
            },
        },
    )


def evaluate(gate_input: GateInput, *, now: datetime) -> GateDecision:
    """Decide whether the call described by ``gate_input`` may be placed at ``now``.

    Rules, all evaluated so that every reason is listed (see ``ReasonCode`` for each source):
    number validity and canonical E.164 (``INVALID_NUMBER``); US destination (CP-11,
    ``NON_US_DESTINATION``); candidate zones (CP-3, ``TZ_UNRESOLVED``; not evaluated for an invalid
    number); federal window ``[08:00, 21:00)`` in every zone, even with PEWC (47 CFR 64.1200(c)(1);
    16 CFR 310.4(c); CP-5, CP-6; ``OUTSIDE_CALLING_WINDOW``); internal DNC (47 CFR 64.1200(d); CP-8,
    ``DNC_INTERNAL`` unless a PEWC was signed strictly after the latest request; every internal entry
    on file counts, even one dated after ``now``, since it can only mean clock skew); PEWC
    (``check_consent``, CP-2). DNC lists other than ``"internal"`` are noted, not evaluated.

    Args:
        gate_input: facts gathered at dial time.
        now: the decision instant; must be timezone-aware.

    Returns:
        The decision: ``allowed`` only when no reason applies; ``next_allowed_at`` (UTC) only when
        every reason is transient; ``decided_at`` is ``now`` in UTC. If anything raises while deciding,
        the decision is a block with reasons ``(GATE_ERROR,)`` and the exception in ``notes``.

    Raises:
        ValueError: ``now`` is not an aware datetime (a programming error, not a decision).
    """
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    decided_at = now.astimezone(UTC)
    try:
        return _evaluate(gate_input, decided_at)
    except Exception as exc:  # fail closed: DESIGN.md rule 1
        return _error_decision(gate_input, decided_at, exc)


def replay(facts: dict[str, Any], *, decided_at: datetime) -> GateDecision:
    """Re-evaluate a stored decision from its facts, under the current rule set.

    With the same rule set and data versions the result equals the stored decision. When the stored
    ``ruleset_version`` differs, a ``replayed_under_ruleset`` note says so.

    Args:
        facts: a decision's ``facts`` (``{"input": ..., "derived": ...}``), e.g. read back from JSON.
        decided_at: the stored decision's ``decided_at`` (aware).

    Returns:
        The decision the current gate makes on those facts at that instant.

    Raises:
        ValueError: ``decided_at`` is naive, or ``facts["input"]`` is not a valid ``GateInput`` dict.
        KeyError: ``facts`` has no ``"input"``.
    """
    decision = evaluate(GateInput.from_dict(facts["input"]), now=decided_at)
    stored = (facts.get("derived") or {}).get("ruleset_version")
    if stored is not None and stored != RULESET_VERSION:
        note = f"replayed_under_ruleset:{RULESET_VERSION} (decided under {stored})"
        return dataclasses.replace(decision, notes=(*decision.notes, note))
    return decision
