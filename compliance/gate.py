"""The compliance gate: one pure decision on whether an AI-voice sales call may be placed at an instant.

``evaluate(facts, policy, at)`` applies every rule of the conservative policy (COMPLIANCE_RULES.md
section 0.2, CP-1 .. CP-12) to plain facts and returns a ``Decision`` listing every reason that
applies, the warnings, the earliest instant a time-only block lifts (``next_allowed_at``) and a trace
of each rule checked with its inputs, result and citation. No database, network or clock is touched.
It fails closed (DESIGN.md rule 1): malformed facts block (``FACTS_INVALID``), and an exception while
deciding becomes a block with ``GATE_ERROR``. The dial task and ``dialer compliance check`` both call
this function: there is no second implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from compliance.consent_rules import consent_and_dnc_rules
from compliance.decision import Decision, Findings, RuleCheck
from compliance.facts import Address, CallFacts, iso
from compliance.facts_json import call_facts_from_dict, parse_instant
from compliance.jurisdiction import Jurisdiction, resolve_jurisdiction
from compliance.numbers import US_DESTINATION_REGIONS, destination_region
from compliance.policy import Policy, conservative_policy
from compliance.reasons import TRANSIENT_REASONS, ReasonCode, WarningCode, ordered
from compliance.state_rules import Rule
from compliance.time_rules import boundary_instants, check_frequency_caps, check_time_rules, time_rules_for

_WINDOW_REASONS = frozenset(
    {
        ReasonCode.OUTSIDE_CALLING_WINDOW,
        ReasonCode.STATE_CALLING_WINDOW,
        ReasonCode.STATE_DAY_PROHIBITED,
        ReasonCode.STATE_HOLIDAY,
    }
)


@dataclass(frozen=True, slots=True)
class _Static:
    """What does not depend on the instant: the number, its jurisdiction and the rules that apply."""

    number_reasons: frozenset[ReasonCode]
    number_check: RuleCheck
    jurisdiction: Jurisdiction | None
    time_rules: tuple[Rule, ...]
    cap_rules: tuple[Rule, ...]
    other_rules: tuple[Rule, ...]


def _number_rules(phone: str | None) -> tuple[frozenset[ReasonCode], RuleCheck]:
    inputs: dict[str, Any] = {"phone_e164": phone}
    citation = "CP-11; phonenumbers is_valid_number"
    if phone is None:
        return frozenset({ReasonCode.INVALID_NUMBER}), RuleCheck(
            "number", citation, inputs, "block", ("INVALID_NUMBER",), "no number"
        )
    region = destination_region(phone)
    inputs["region"] = region
    if region is None:
        return frozenset({ReasonCode.INVALID_NUMBER}), RuleCheck(
            "number", citation, inputs, "block", ("INVALID_NUMBER",), "not a valid number"
        )
    canonical = phonenumbers.format_number(
        phonenumbers.parse(phone, None), phonenumbers.PhoneNumberFormat.E164
    )
    if canonical != phone:
        return frozenset({ReasonCode.INVALID_NUMBER}), RuleCheck(
            "number", citation, inputs, "block", ("INVALID_NUMBER",), f"not canonical E.164 (is {canonical})"
        )
    if region not in US_DESTINATION_REGIONS:
        return frozenset({ReasonCode.NON_US_DESTINATION}), RuleCheck(
            "number", citation, inputs, "block", ("NON_US_DESTINATION",), f"{region} is not a US destination"
        )
    return frozenset(), RuleCheck("number", citation, inputs, "pass", (), f"valid {region} number")


def _static(facts: CallFacts, policy: Policy) -> _Static:
    number_reasons, number_check = _number_rules(facts.lead.phone_e164)
    jurisdiction = None
    time_rules: tuple[Rule, ...] = ()
    cap_rules: tuple[Rule, ...] = ()
    other_rules: tuple[Rule, ...] = ()
    if not number_reasons:
        assert facts.lead.phone_e164 is not None
        jurisdiction = resolve_jurisdiction(facts.lead.phone_e164, facts.lead.address)
        states = jurisdiction.states
        time_rules = tuple(time_rules_for(policy.rules, states))
        state_rules = [r for s in states for r in policy.rules.rules_for(s)]
        cap_rules = tuple(r for r in state_rules if r.kind == "frequency_cap")
        other_rules = tuple(r for r in state_rules if r.kind in ("emergency_ban", "counsel_review"))
    return _Static(frozenset(number_reasons), number_check, jurisdiction, time_rules, cap_rules, other_rules)


def _location_rules(f: Findings, st: _Static, facts: CallFacts, policy: Policy, at: datetime) -> None:
    """Where the call lands: its zones (CP-3, CP-4), then each applicable state's rules there."""
    j = st.jurisdiction
    if j is None:
        return
    inputs = {
        "number_zones": None if j.number_zones is None else list(j.number_zones),
        "address_zones": list(j.address_zones),
        "address_source": j.address_source,
        "candidate_zones": None if j.zones is None else list(j.zones),
        "area_code_state": j.area_code_state,
        "applicable_states": list(j.states),
        "county": j.county,
        "notes": list(j.notes),
    }
    if j.zones is None:
        f.check(
            "zones", "CP-3; CP-4", inputs, block=(ReasonCode.TZ_UNRESOLVED,), detail="number zone unresolved"
        )
        return
    f.check("zones", "CP-3; CP-4", inputs, detail=f"{len(j.zones)} zone(s), states {list(j.states)}")
    _time_rules(f, st, policy, at, j.zones, j.county)
    local_dates = [at.astimezone(ZoneInfo(z)).date() for z in j.zones]
    _frequency_caps(f, st, facts, at, local_dates)
    _other_state_rules(f, st, facts, local_dates)


def _time_rules(
    f: Findings, st: _Static, policy: Policy, at: datetime, zones: tuple[str, ...], county: str | None
) -> None:
    """Calling windows, no-call days and holidays in every candidate zone (CP-3, CP-5, CP-12)."""
    for check in check_time_rules(
        at, zones=zones, rules=st.time_rules, holidays=policy.holidays, county=county
    ):
        entry = check.to_trace()
        f.check(
            entry["rule"],
            entry["citation"],
            entry["inputs"],
            block=() if check.reason is None else (check.reason,),
            detail=entry["detail"],
        )


def _frequency_caps(
    f: Findings, st: _Static, facts: CallFacts, at: datetime, local_dates: list[date]
) -> None:
    """The applicable states' caps on attempts over every channel (CP-9)."""
    history = facts.lead.call_history
    for check in check_frequency_caps(
        at, history=history, subject=facts.campaign.subject, rules=st.cap_rules, local_dates=local_dates
    ):
        entry = check.to_trace()
        entry["inputs"]["lifts_at"] = iso(check.lifts_at)
        f.check(
            entry["rule"],
            entry["citation"],
            entry["inputs"] | {"history_entries": len(history), "subject": facts.campaign.subject},
            block=() if check.reason is None else (check.reason,),
            detail=entry["detail"],
        )


def _other_state_rules(f: Findings, st: _Static, facts: CallFacts, local_dates: list[date]) -> None:
    """Emergency bans (CP-10: a flag on or unknown blocks) and counsel-review warnings in force."""
    active = facts.campaign.active_emergencies
    for rule in st.other_rules:
        if not any(rule.effective_on(d) for d in local_dates):
            continue
        if rule.kind == "emergency_ban":
            on = None if active is None else rule.flag in active
            f.check(
                rule.rule_id,
                rule.citation,
                {"flag": rule.flag, "active": on, **rule.describe()},
                block=() if on is False else (ReasonCode(rule.reason or ReasonCode.STATE_EMERGENCY),),
                detail="emergency status unknown" if on is None else f"{rule.flag} on: {on}",
            )
        else:
            f.check(
                rule.rule_id,
                rule.citation,
                rule.describe(),
                warn=(WarningCode.STATE_AI_VOICE_COUNSEL_REVIEW,),
                detail=rule.note,
            )


def _campaign_rules(f: Findings, facts: CallFacts, policy: Policy) -> None:
    c = facts.campaign
    cp1 = {"purpose": c.purpose, "voice": c.voice}
    warn: tuple[WarningCode, ...] = ()
    if c.purpose != "telemarketing":
        warn += (WarningCode.PURPOSE_TREATED_AS_TELEMARKETING,)
    if c.voice == "live":
        warn += (WarningCode.VOICE_TREATED_AS_ARTIFICIAL,)
    f.check(
        "cp1.call_treatment",
        "CP-1; FCC 24-17",
        cp1,
        warn=warn,
        detail="telemarketing, AI voice, named seller",
    )
    age = c.dnc_data_age_days
    stale = age is None or age > policy.dnc_max_age_days
    f.check(
        "dnc.scrub_age",
        "47 CFR 64.1200(c)(2)(i)(D); 16 CFR 310.4(b)(3)(iv); CP-10",
        {"dnc_data_age_days": age, "max_days": policy.dnc_max_age_days},
        block=(ReasonCode.DNC_SCRUB_STALE,) if stale else (),
        detail="age unknown" if age is None else f"{age:g} days old",
    )
    rate = c.abandonment_rate_30d
    if rate is not None:
        f.check(
            "campaign.abandonment",
            "47 CFR 64.1200(a)(7); 16 CFR 310.4(b)(4)(i); CP-10",
            {"abandonment_rate_30d": rate, "max_rate": policy.abandonment_max_rate},
            block=(ReasonCode.ABANDONMENT_RATE_EXCEEDED,) if rate > policy.abandonment_max_rate else (),
            detail=f"{rate:.2%} over 30 days",
        )


def _decide(facts: CallFacts, policy: Policy, st: _Static, at: datetime) -> tuple[Findings, int | None]:
    f = Findings()
    if facts.errors:
        f.check(
            "facts",
            "DESIGN.md rule 1 (fail closed)",
            {"errors": [str(e) for e in facts.errors]},
            block=(ReasonCode.FACTS_INVALID,),
            detail=f"{len(facts.errors)} fact(s) malformed or missing",
        )
    f.reasons.update(st.number_reasons)
    f.trace.append(st.number_check)
    _campaign_rules(f, facts, policy)
    _location_rules(f, st, facts, policy, at)
    satisfied = consent_and_dnc_rules(f, facts, policy, at)
    return f, satisfied


def _next_allowed(facts: CallFacts, policy: Policy, st: _Static, at: datetime) -> datetime | None:
    j = st.jurisdiction
    if j is None or j.zones is None:
        return None
    candidates = set(boundary_instants(at, zones=j.zones, rules=st.time_rules, days=policy.lookahead_days))
    horizon = at + timedelta(days=policy.lookahead_days)
    for rule in st.cap_rules:
        assert rule.hours is not None
        for entry in facts.lead.call_history:
            lift = entry.at + timedelta(hours=rule.hours)
            if at < lift <= horizon:
                candidates.add(lift)
    # In UTC: arithmetic on a local aware datetime is wall-clock arithmetic, which would make a
    # rolling 24 h window 23 or 25 real hours long on a DST day.
    for instant in sorted({c.astimezone(UTC) for c in candidates}):
        findings, _ = _decide(facts, policy, st, instant)
        if not findings.reasons:
            return instant
    return None


def _build(facts: CallFacts, policy: Policy, at: datetime) -> Decision:
    st = _static(facts, policy)
    f, satisfied = _decide(facts, policy, st, at)
    reasons = ordered(f.reasons)
    next_allowed_at = None
    if reasons and set(reasons) <= TRANSIENT_REASONS:
        next_allowed_at = _next_allowed(facts, policy, st, at)
        if next_allowed_at is None:
            f.warnings.append(str(WarningCode.NO_COMMON_WINDOW_IN_LOOKAHEAD))
        if satisfied is not None and set(reasons) <= _WINDOW_REASONS:
            f.warnings.append(str(WarningCode.PEWC_EXEMPTION_IGNORED_BY_POLICY))
    j = st.jurisdiction
    return Decision(
        decision="block" if reasons else "allow",
        reason_codes=reasons,
        warnings=tuple(f.warnings),
        next_allowed_at=next_allowed_at,
        trace=tuple(f.trace),
        rule_data_version=policy.version,
        evaluated_at=at,
        zones=() if j is None or j.zones is None else j.zones,
        states=() if j is None else j.states,
        facts=facts.to_dict(),
    )


def error_decision(facts: CallFacts | None, policy: Policy | None, at: datetime, exc: Exception) -> Decision:
    """The fail-closed block for a decision that raised: ``GATE_ERROR``, the error in the trace.

    Also used by the dial task when the facts themselves cannot be gathered (DESIGN.md rule 1).
    """
    try:
        recorded: dict[str, Any] = {} if facts is None else facts.to_dict()
    except Exception:  # the facts themselves may be what is broken
        recorded = {"unserializable": repr(facts)}
    error = f"{type(exc).__name__}: {exc}"
    try:
        version = (policy or conservative_policy()).version
    except Exception:  # the rule data itself may be what is broken
        version = "unknown"
    return Decision(
        decision="block",
        reason_codes=(ReasonCode.GATE_ERROR,),
        warnings=(),
        next_allowed_at=None,
        trace=(
            RuleCheck(
                "gate", "DESIGN.md rule 1 (fail closed)", {"error": error}, "block", ("GATE_ERROR",), error
            ),
        ),
        rule_data_version=version,
        evaluated_at=at,
        zones=(),
        states=(),
        facts=recorded,
    )


def evaluate(facts: CallFacts, policy: Policy | None, at: datetime) -> Decision:
    """Decide whether the call described by ``facts`` may be placed at ``at`` under ``policy``.

    Rules, each evaluated so that every reason that applies is listed (``ReasonCode`` gives each
    source): malformed or missing facts (``FACTS_INVALID``); valid canonical E.164 (``INVALID_NUMBER``);
    US destination (CP-11); candidate zones and applicable states (CP-3, CP-4, ``TZ_UNRESOLVED``); the
    federal window and every state window, banned day, holiday and half-holiday in every zone (CP-5 ..
    CP-7, CP-12); frequency caps over every channel (CP-9); the Louisiana emergency flag, national DNC
    data age and campaign abandonment rate (CP-10); PEWC for an AI voice (CP-2); the internal, national
    and state DNC lists with their PEWC/EBR exemptions (CP-8; 47 CFR 64.1200(c)(2)(ii), (f)(5)); the
    Reassigned Numbers Database (64.1200(m)).

    Args:
        facts: the facts gathered at dial time (or read from a check document).
        policy: the rule data and thresholds; None means ``conservative_policy()``.
        at: the decision instant; must be timezone-aware.

    Returns:
        The decision. ``next_allowed_at`` is set only when every reason is a time rule or a cap
        (``TRANSIENT_REASONS``): the earliest instant within ``policy.lookahead_days`` at which the same
        facts pass. Any exception while deciding yields a block with ``GATE_ERROR`` and the exception
        in the trace.

    Raises:
        ValueError: ``at`` is not an aware datetime (a programming error, not a decision).
    """
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be a timezone-aware datetime")
    instant = at.astimezone(UTC)
    try:
        return _build(facts, policy or conservative_policy(), instant)
    except Exception as exc:  # fail closed: DESIGN.md rule 1
        return error_decision(facts, policy, instant, exc)


def calling_time_blocks(
    phone_e164: str, address: Address | None, at: datetime, policy: Policy | None = None
) -> tuple[str, ...] | None:
    """The time rules (windows, banned days, holidays) that would block a call to the number at ``at``.

    The same rules ``evaluate`` applies (CP-3 .. CP-7, CP-12), for choosing a callback time while the
    prospect is on the line; the gate still decides when the callback is dialed.

    Returns:
        One line per blocking rule (``"TX.window.1@America/Chicago: 08:30:00 mon outside [09:00, 21:00)
        (Tex. Bus. & Com. Code 301.051)"``); empty when the time passes; None when the number's zone is
        unresolved (no time passes).
    """
    policy = policy or conservative_policy()
    jurisdiction = resolve_jurisdiction(phone_e164, address)
    if jurisdiction.zones is None:
        return None
    checks = check_time_rules(
        at,
        zones=jurisdiction.zones,
        rules=time_rules_for(policy.rules, jurisdiction.states),
        holidays=policy.holidays,
        county=jurisdiction.county,
    )
    return tuple(
        f"{c.rule.rule_id}@{c.clock}: {c.detail} ({c.rule.citation})" for c in checks if c.reason is not None
    )


def replay(stored: dict[str, Any], policy: Policy | None = None) -> Decision:
    """Re-evaluate a stored decision (``Decision.to_dict()`` or its ``facts`` + ``evaluated_at``).

    Under the same rule data the result equals the stored decision; compare ``rule_data_version`` to
    see whether the rules changed since.

    Raises:
        KeyError: ``stored`` has no ``facts`` or ``evaluated_at``.
        ValueError: ``evaluated_at`` is not an ISO-8601 instant with offset.
    """
    return evaluate(call_facts_from_dict(stored["facts"]), policy, parse_instant(stored["evaluated_at"]))
