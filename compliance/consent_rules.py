"""The checks about the person: consent, the DNC lists and their exemptions, the RND answer.

Part of ``evaluate`` (``compliance.gate``): each check records its inputs, result and citation in the
decision's ``Findings``. Sources: 47 CFR 64.1200(a)(2),(a)(3),(f)(9) and FCC 24-17 (PEWC for an AI
voice, CP-2); 64.1200(c)(2), (d) and 16 CFR 310.4(b)(1)(iii) (national, state and internal lists,
CP-8); 64.1200(f)(5) (EBR); 64.1200(m) (Reassigned Numbers Database).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from compliance.consent import ConsentAssessment, assess_consent, ebr_in_force
from compliance.decision import Findings
from compliance.facts import CallFacts, Consent, LeadFacts, iso
from compliance.policy import Policy
from compliance.reasons import ReasonCode, WarningCode


def consent_and_dnc_rules(f: Findings, facts: CallFacts, policy: Policy, at: datetime) -> int | None:
    """Check PEWC, the DNC lists with their exemptions, and the RND answer, recording each in ``f``.

    PEWC: CP-2. Internal, national and state lists: CP-8; 47 CFR 64.1200(c)(2)(ii), (f)(5). RND:
    64.1200(m).

    Returns:
        The index of the consent record that satisfies PEWC, or None.
    """
    lead = facts.lead
    assessed = _pewc_rule(f, facts, at)
    satisfied = None if assessed.satisfied_by is None else lead.consents[assessed.satisfied_by]
    exempt = assessed.dnc_exempt_by is not None
    if satisfied is not None:
        _consent_age_rule(f, satisfied, policy, at)
    ebr_ok, ebr_why = _ebr_rule(f, lead, at, pewc_found=satisfied is not None)
    _internal_dnc_rule(f, lead, exempt=exempt)
    _national_dnc_rule(f, lead, exempt=exempt, ebr_ok=ebr_ok, ebr_why=ebr_why)
    _state_dnc_rules(f, lead, exempt=exempt)
    _rnd_rule(f, facts, policy, at, satisfied.obtained_at if satisfied else None)
    return assessed.satisfied_by


def _pewc_rule(f: Findings, facts: CallFacts, at: datetime) -> ConsentAssessment:
    """Record ``consent.pewc``: whether a consent record is a valid PEWC for this seller at ``at``.

    Returns:
        The assessment (:func:`compliance.consent.assess_consent`), which names the record that
        satisfies PEWC and the one that exempts the number from the DNC lists, if any.
    """
    lead, campaign = facts.lead, facts.campaign
    assessed = assess_consent(
        lead.consents,
        seller=campaign.seller,
        phone_e164=lead.phone_e164,
        at=at,
        dnc_requested_at=lead.internal_dnc_requested_at,
    )
    consent_inputs = {
        "records": len(lead.consents),
        "seller": campaign.seller,
        "details": list(assessed.details),
    }
    f.check(
        "consent.pewc",
        "47 CFR 64.1200(a)(2),(a)(3),(f)(9); FCC 24-17; CP-2; CP-8",
        consent_inputs,
        block=assessed.reasons,
        detail="valid PEWC" if assessed.satisfied_by is not None else "no valid PEWC",
    )
    return assessed


def _consent_age_rule(f: Findings, satisfied: Consent, policy: Policy, at: datetime) -> None:
    """Warn ``consent.age`` when the PEWC in use was obtained over the policy's warning age before ``at``."""
    if satisfied.obtained_at is None:
        return
    if satisfied.obtained_at + relativedelta(months=policy.consent_warning_months) < at:
        f.check(
            "consent.age",
            "CP-2 (policy warning)",
            {"obtained_at": iso(satisfied.obtained_at)},
            warn=(WarningCode.CONSENT_OLDER_THAN_18_MONTHS,),
        )


def _ebr_rule(f: Findings, lead: LeadFacts, at: datetime, *, pewc_found: bool) -> tuple[bool, str]:
    """Weigh the lead's EBR; warn ``consent.ebr`` when there is one but no PEWC (it does not replace it).

    Returns:
        ``(in_force, why)`` from :func:`compliance.consent.ebr_in_force`: whether the EBR exempts the
        number from the national list (64.1200(f)(5)), and a sentence saying why or why not.
    """
    ebr_ok, ebr_why = ebr_in_force(lead.ebr, at=at, dnc_requested_at=lead.internal_dnc_requested_at)
    if lead.ebr is not None and not pewc_found:
        f.check(
            "consent.ebr",
            "47 CFR 64.1200(a)(2); 64.1200(f)(5)",
            {"ebr": {"type": lead.ebr.type, "at": iso(lead.ebr.at)}},
            warn=(WarningCode.EBR_DOES_NOT_REPLACE_PEWC,),
            detail=ebr_why,
        )
    return ebr_ok, ebr_why


def _internal_dnc_rule(f: Findings, lead: LeadFacts, *, exempt: bool) -> None:
    """Record ``dnc.internal``: block on a DNC request on file unless a PEWC obtained after it exempts it."""
    dnc_at = lead.internal_dnc_requested_at
    internal_inputs = {"internal_dnc_requested_at": iso(dnc_at)}
    if dnc_at is not None and not exempt:
        f.check(
            "dnc.internal",
            "47 CFR 64.1200(d); 16 CFR 310.4(b)(1)(iii)(A); CP-8",
            internal_inputs,
            block=(ReasonCode.DNC_INTERNAL,),
            detail="DNC request on file, no PEWC obtained after it",
        )
    else:
        f.check(
            "dnc.internal", "47 CFR 64.1200(d); CP-8", internal_inputs, detail="no request, or PEWC after it"
        )


def _national_dnc_rule(f: Findings, lead: LeadFacts, *, exempt: bool, ebr_ok: bool, ebr_why: str) -> None:
    """Record ``dnc.national``: a registered (or unknown) number blocks unless a PEWC or an EBR exempts it."""
    national_inputs = {"national_dnc": lead.national_dnc, "ebr_in_force": ebr_ok, "pewc_exemption": exempt}
    citation = "47 CFR 64.1200(c)(2), (c)(2)(ii), (f)(5); 16 CFR 310.4(b)(1)(iii)(B)"
    if lead.national_dnc is False:
        f.check("dnc.national", citation, national_inputs, detail="not registered")
    elif exempt:
        f.check("dnc.national", citation, national_inputs, warn=(WarningCode.NATIONAL_DNC_EXEMPT_BY_PEWC,))
    elif ebr_ok:
        f.check(
            "dnc.national",
            citation,
            national_inputs,
            warn=(WarningCode.NATIONAL_DNC_EXEMPT_BY_EBR,),
            detail=ebr_why,
        )
    else:
        detail = "registered" if lead.national_dnc else "registry membership unknown"
        f.check("dnc.national", citation, national_inputs, block=(ReasonCode.DNC_NATIONAL,), detail=detail)


def _state_dnc_rules(f: Findings, lead: LeadFacts, *, exempt: bool) -> None:
    """Record ``dnc.state.<list>`` for each state list the number is on: block, or warn under a PEWC."""
    for state in lead.state_dnc:
        inputs = {"state_list": state, "pewc_exemption": exempt}
        rule = f"dnc.state.{state}"
        if exempt:
            f.check(
                rule,
                "state DNC statute; 47 CFR 64.1200(c)(2)(ii)",
                inputs,
                warn=(WarningCode.STATE_DNC_EXEMPT_BY_PEWC,),
            )
        else:
            f.check(
                rule,
                "state DNC statute (e.g. Tex. Bus. & Com. Code 304.052)",
                inputs,
                block=(ReasonCode.DNC_STATE,),
            )


def _rnd_rule(
    f: Findings, facts: CallFacts, policy: Policy, at: datetime, consent_at: datetime | None
) -> None:
    """Record ``rnd`` for a lead with consent records: block a number reassigned since its consent date.

    Warns when the RND was not queried, had no data, or was queried over ``policy.rnd_max_age_days``
    before ``at``; ``consent_at`` is when the PEWC in use was obtained (None: unknown or none).
    """
    rnd = facts.lead.rnd
    citation = "47 CFR 64.1200(m)"
    if not facts.lead.consents:
        return
    if rnd is None:
        f.check("rnd", citation, {"rnd": None}, warn=(WarningCode.RND_NOT_QUERIED,))
        return
    inputs = {
        "queried_at": iso(rnd.queried_at),
        "consent_date": rnd.consent_date.isoformat(),
        "result": rnd.result,
    }
    if rnd.result == "yes" and (consent_at is None or consent_at <= rnd.queried_at):
        f.check(
            "rnd",
            citation,
            inputs,
            block=(ReasonCode.NUMBER_REASSIGNED,),
            detail="permanently disconnected since the consent date: the consent is not this subscriber's",
        )
        return
    warn: tuple[WarningCode, ...] = ()
    if rnd.result == "no_data":
        warn += (WarningCode.RND_NO_DATA,)
    if rnd.queried_at < at - timedelta(days=policy.rnd_max_age_days):
        warn += (WarningCode.RND_QUERY_STALE,)
    f.check("rnd", citation, inputs, warn=warn, detail=f"result {rnd.result}")
