"""Consent, EBR, DNC lists, the Reassigned Numbers Database and malformed facts through the gate.

CP-2 (PEWC for an AI voice), CP-8 (revocation and DNC requests honoured immediately; only a PEWC
dated after a DNC request restores calling), 47 CFR 64.1200(c)(2)(ii) (a signed agreement naming the
seller and number exempts from DNC lists), 64.1200(f)(5) (EBR: 18 months after a purchase, 3 months
after an inquiry; exempts from the national list only), 64.1200(m) (RND), DESIGN.md rule 1 (fail
closed: FACTS_INVALID, GATE_ERROR).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta

import compliance.gate as gate_module
from compliance.facts_json import parse_call_facts
from compliance.gate import evaluate
from compliance.reasons import ReasonCode, WarningCode
from tests.compliance.gate_cases import (
    CONSENT_SELLER,
    MON,
    SUN,
    R,
    assert_allowed,
    assert_blocked_by,
    campaign,
    decide,
    iso_z,
    lead,
    local,
    without,
)

W = WarningCode
AT = local("America/Chicago", MON, 12)  # Mon 2026-06-22 12:00 CDT: allowed for the baseline


def warned(decision, code: WarningCode) -> bool:
    return str(code) in decision.warnings


def test_baseline_is_allowed():
    decision = decide(at=AT)
    assert_allowed(decision)
    assert decision.states == ("TX",)
    assert decision.zones == ("America/Chicago",)


# --------------------------------------------------------------------------------------------------
# PEWC variants (CP-2).


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {"consent_type": "oral"}, {R.CONSENT_NOT_WRITTEN}, id="oral consent CONSENT_NOT_WRITTEN"
        ),
        pytest.param({"consent_type": "ORAL"}, {R.CONSENT_NOT_WRITTEN}, id="oral in capitals"),
        pytest.param({"consent_type": "none"}, {R.CONSENT_MISSING}, id="type none CONSENT_MISSING"),
        pytest.param({"consent": None}, {R.CONSENT_MISSING}, id="consent null CONSENT_MISSING"),
        pytest.param({"consent_sellers": ["Contoso Ltd"]}, {R.CONSENT_SELLER_MISMATCH}, id="other seller"),
        pytest.param(
            {"consent_sellers": ["Northwind Analytics Holdings"]},
            {R.CONSENT_SELLER_MISMATCH},
            id="similar seller name",
        ),
        pytest.param({"consent_phone_e164": "+12145550102"}, {R.CONSENT_NUMBER_MISMATCH}, id="other number"),
        pytest.param(
            {"consent_phone_e164": "+13125550101"}, {R.CONSENT_NUMBER_MISMATCH}, id="number in another NPA"
        ),
        pytest.param(
            {"consent_covers_artificial_voice": False},
            {R.CONSENT_NO_ARTIFICIAL_VOICE},
            id="no AI voice authorised",
        ),
        pytest.param(
            {"consent_revoked_at": "2026-06-01T00:00:00Z"}, {R.CONSENT_REVOKED}, id="revoked before"
        ),
        pytest.param({"consent_revoked_at": iso_z(AT)}, {R.CONSENT_REVOKED}, id="revoked at this instant"),
        pytest.param(
            {"consent_obtained_at": "2026-06-23T00:00:00Z"}, {R.CONSENT_MISSING}, id="obtained in future"
        ),
        pytest.param({"consent_obtained_at": None}, {R.CONSENT_MISSING}, id="undated, not an attestation"),
        pytest.param(
            {
                "consent_sellers": ["Contoso"],
                "consent_phone_e164": "+12145550102",
                "consent_covers_artificial_voice": False,
            },
            {R.CONSENT_SELLER_MISMATCH, R.CONSENT_NUMBER_MISMATCH, R.CONSENT_NO_ARTIFICIAL_VOICE},
            id="every consent failure listed",
        ),
    ],
)
def test_pewc_failures(overrides, expected):
    decision = decide(lead(**overrides), at=AT)
    assert_blocked_by(decision, expected, "64.1200(a)(2)")
    assert decision.next_allowed_at is None


def test_consent_key_removed_is_consent_missing():
    decision = decide(without(lead(), "consent"), at=AT)
    assert_blocked_by(decision, {R.CONSENT_MISSING})
    # No consent record: the RND rule is not reached, so no RND warning.
    assert not warned(decision, W.RND_NOT_QUERIED)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(
            {"consent_sellers": ["Contoso", CONSENT_SELLER, "Fabrikam"]}, id="multi-seller list with seller"
        ),
        pytest.param({"consent_sellers": "Northwind Analytics"}, id="one seller as a string"),
        pytest.param({"consent_sellers": ["NORTHWIND ANALYTICS LLC"]}, id="seller case and suffix"),
        pytest.param({"consent_sellers": ["Northwind  Analytics, Inc."]}, id="seller extra space"),
        pytest.param({"consent_phone_e164": "+1 214-555-0101"}, id="consent number in another format"),
        pytest.param({"consent_revoked_at": "2026-06-22T17:00:01Z"}, id="revocation dated after the call"),
        pytest.param(
            {"consent_obtained_at": None, "consent_method": "attestation"}, id="undated attestation"
        ),
        pytest.param({"consent_obtained_at": iso_z(AT)}, id="obtained at this instant"),
    ],
)
def test_pewc_passes(overrides):
    assert_allowed(decide(lead(**overrides), at=AT))


def test_any_valid_record_among_several_suffices():
    bad = dict(lead()["consent"], sellers=["Contoso"])
    good = lead()["consent"]
    decision = decide(lead(consent=None, consents=[bad, good]), at=AT)
    assert_allowed(decision)


def test_failures_of_several_records_are_united():
    a = dict(lead()["consent"], sellers=["Contoso"])
    b = dict(lead()["consent"], covers_artificial_voice=False)
    decision = decide(lead(consent=None, consents=[a, b]), at=AT)
    assert_blocked_by(decision, {R.CONSENT_SELLER_MISMATCH, R.CONSENT_NO_ARTIFICIAL_VOICE})


def test_campaign_seller_missing_blocks():
    decision = decide(lead(), campaign(seller=None), at=AT)
    assert {R.FACTS_INVALID, R.CONSENT_SELLER_MISMATCH} <= set(decision.reason_codes)


# --------------------------------------------------------------------------------------------------
# Internal DNC request (CP-8).


def test_internal_dnc_request_after_consent_blocks():
    decision = decide(lead(internal_dnc_requested_at="2026-02-01T00:00:00Z"), at=AT)
    assert_blocked_by(decision, {R.DNC_INTERNAL, R.CONSENT_REVOKED}, "64.1200(d)")


def test_pewc_obtained_after_the_dnc_request_restores_calling():
    lead_dict = lead(
        internal_dnc_requested_at="2026-02-01T00:00:00Z", consent_obtained_at="2026-03-01T00:00:00Z"
    )
    assert_allowed(decide(lead_dict, at=AT))


def test_pewc_obtained_at_the_same_instant_as_the_dnc_request_does_not_restore():
    lead_dict = lead(internal_dnc_requested_at=lead()["consent"]["obtained_at"])
    assert_blocked_by(decide(lead_dict, at=AT), {R.DNC_INTERNAL, R.CONSENT_REVOKED})


def test_undated_attestation_cannot_postdate_a_dnc_request():
    lead_dict = lead(
        internal_dnc_requested_at="2026-02-01T00:00:00Z",
        consent_obtained_at=None,
        consent_method="attestation",
    )
    assert_blocked_by(decide(lead_dict, at=AT), {R.DNC_INTERNAL, R.CONSENT_REVOKED})


def test_old_and_new_consent_with_dnc_request_between():
    old = lead()["consent"]
    new = dict(old, obtained_at="2026-03-01T00:00:00Z")
    lead_dict = lead(consent=None, consents=[old, new], internal_dnc_requested_at="2026-02-01T00:00:00Z")
    assert_allowed(decide(lead_dict, at=AT))


def test_dnc_request_honoured_immediately_even_in_the_future_of_the_consent():
    # A request one second before the call blocks at once (no 10-business-day grace, CP-8).
    lead_dict = lead(internal_dnc_requested_at=iso_z(AT - timedelta(seconds=1)))
    assert_blocked_by(decide(lead_dict, at=AT), {R.DNC_INTERNAL, R.CONSENT_REVOKED})


# --------------------------------------------------------------------------------------------------
# EBR (64.1200(f)(5)): never replaces PEWC, exempts from the national list only.


def ebr(kind: str, months_ago: int, days: int = 0) -> dict:
    # Month arithmetic in UTC, as the gate does it (wall-clock arithmetic in Chicago would cross DST).
    return {
        "type": kind,
        "at": iso_z(AT.astimezone(UTC) - relativedelta(months=months_ago) - timedelta(days=days)),
    }


def test_ebr_never_replaces_pewc():
    decision = decide(lead(consent=None, ebr=ebr("purchase", 1)), at=AT)
    assert_blocked_by(decision, {R.CONSENT_MISSING})
    assert warned(decision, W.EBR_DOES_NOT_REPLACE_PEWC)


def test_ebr_with_oral_consent_still_needs_pewc():
    decision = decide(lead(consent_type="oral", ebr=ebr("purchase", 1)), at=AT)
    assert_blocked_by(decision, {R.CONSENT_NOT_WRITTEN})
    assert warned(decision, W.EBR_DOES_NOT_REPLACE_PEWC)


@pytest.mark.parametrize(
    ("ebr_fact", "exempt"),
    [
        pytest.param(ebr("purchase", 1), True, id="purchase 1 month ago exempts"),
        pytest.param(ebr("purchase", 17, 27), True, id="purchase 17 months 27 days ago exempts"),
        pytest.param(ebr("purchase", 18), False, id="purchase 18 months ago expired"),
        pytest.param(ebr("purchase", 19), False, id="purchase 19 months ago expired"),
        pytest.param(ebr("inquiry", 2), True, id="inquiry 2 months ago exempts"),
        pytest.param(ebr("inquiry", 2, 27), True, id="inquiry 2 months 27 days ago exempts"),
        pytest.param(ebr("inquiry", 3), False, id="inquiry 3 months ago expired"),
        pytest.param(ebr("inquiry", 4), False, id="inquiry 4 months ago expired"),
        pytest.param({"type": "purchase", "at": "2026-06-23T00:00:00Z"}, False, id="future EBR"),
    ],
)
def test_ebr_exempts_from_national_dnc_only_while_in_force(ebr_fact, exempt):
    # Oral consent: blocked anyway, but the national-list reason depends on the EBR alone.
    decision = decide(lead(consent_type="oral", national_dnc=True, ebr=ebr_fact), at=AT)
    expected = {R.CONSENT_NOT_WRITTEN} | (set() if exempt else {R.DNC_NATIONAL})
    assert_blocked_by(decision, expected)
    assert warned(decision, W.NATIONAL_DNC_EXEMPT_BY_EBR) is exempt


def test_ebr_does_not_exempt_from_state_dnc():
    decision = decide(lead(consent_type="oral", state_dnc=["TX"], ebr=ebr("purchase", 1)), at=AT)
    assert_blocked_by(decision, {R.CONSENT_NOT_WRITTEN, R.DNC_STATE})


def test_dnc_request_terminates_the_ebr():
    lead_dict = lead(
        consent_type="oral",
        national_dnc=True,
        ebr=ebr("purchase", 1),
        internal_dnc_requested_at="2026-01-01T00:00:00Z",
    )
    decision = decide(lead_dict, at=AT)
    assert_blocked_by(decision, {R.CONSENT_NOT_WRITTEN, R.DNC_NATIONAL, R.DNC_INTERNAL})


# --------------------------------------------------------------------------------------------------
# PEWC exemption from the national and state lists (64.1200(c)(2)(ii)).


def test_pewc_naming_seller_and_number_exempts_from_national_and_state_dnc():
    decision = decide(lead(national_dnc=True, state_dnc=["TX", "FL"]), at=AT)
    assert_allowed(decision)
    assert warned(decision, W.NATIONAL_DNC_EXEMPT_BY_PEWC)
    assert warned(decision, W.STATE_DNC_EXEMPT_BY_PEWC)


def test_state_dnc_as_a_single_code():
    assert_allowed(decide(lead(state_dnc="TX"), at=AT))
    assert_blocked_by(
        decide(lead(state_dnc="TX", consent_type="oral"), at=AT), {R.CONSENT_NOT_WRITTEN, R.DNC_STATE}
    )


@pytest.mark.parametrize(
    ("overrides", "consent_reason"),
    [
        pytest.param(
            {"consent_sellers": ["Contoso"]}, R.CONSENT_SELLER_MISMATCH, id="other seller no exemption"
        ),
        pytest.param(
            {"consent_phone_e164": "+12145550102"}, R.CONSENT_NUMBER_MISMATCH, id="other number no exemption"
        ),
        pytest.param(
            {"consent_revoked_at": "2026-06-01T00:00:00Z"}, R.CONSENT_REVOKED, id="revoked no exemption"
        ),
        pytest.param({"consent_type": "oral"}, R.CONSENT_NOT_WRITTEN, id="oral no exemption"),
    ],
)
def test_consent_that_does_not_name_seller_and_number_does_not_exempt(overrides, consent_reason):
    decision = decide(lead(national_dnc=True, state_dnc=["TX"], **overrides), at=AT)
    assert_blocked_by(decision, {consent_reason, R.DNC_NATIONAL, R.DNC_STATE})


def test_national_dnc_registered_without_any_consent():
    decision = decide(lead(consent=None, national_dnc=True), at=AT)
    assert_blocked_by(decision, {R.CONSENT_MISSING, R.DNC_NATIONAL}, "64.1200(c)(2)")


# --------------------------------------------------------------------------------------------------
# Reassigned Numbers Database (64.1200(m)).


def rnd(result: str, queried_at: str = "2026-06-20T00:00:00Z") -> dict:
    return {"queried_at": queried_at, "consent_date": "2026-01-10", "result": result}


def test_rnd_yes_is_number_reassigned():
    decision = decide(lead(rnd=rnd("yes")), at=AT)
    assert_blocked_by(decision, {R.NUMBER_REASSIGNED}, "64.1200(m)")
    assert decision.next_allowed_at is None


def test_rnd_yes_before_a_newer_consent_does_not_block():
    lead_dict = lead(rnd=rnd("yes", "2026-01-05T00:00:00Z"))  # queried before the consent was given
    assert_allowed(decide(lead_dict, at=AT))


def test_rnd_no_passes_without_warning():
    decision = decide(lead(rnd=rnd("no")), at=AT)
    assert_allowed(decision)
    assert not any(w.startswith("RND_") for w in decision.warnings)


def test_rnd_no_data_and_stale_warn():
    decision = decide(lead(rnd=rnd("no_data", "2026-04-01T00:00:00Z")), at=AT)
    assert_allowed(decision)
    assert warned(decision, W.RND_NO_DATA)
    assert warned(decision, W.RND_QUERY_STALE)


def test_rnd_not_queried_warns():
    assert warned(decide(at=AT), W.RND_NOT_QUERIED)


# --------------------------------------------------------------------------------------------------
# Consent age warning.


def test_consent_older_than_18_months_warns_but_allows():
    decision = decide(lead(consent_obtained_at="2024-12-01T00:00:00Z"), at=AT)
    assert_allowed(decision)
    assert warned(decision, W.CONSENT_OLDER_THAN_18_MONTHS)


def test_consent_younger_than_18_months_does_not_warn():
    decision = decide(lead(consent_obtained_at="2025-01-01T00:00:00Z"), at=AT)
    assert_allowed(decision)
    assert not warned(decision, W.CONSENT_OLDER_THAN_18_MONTHS)


# --------------------------------------------------------------------------------------------------
# Every reason is listed, in ReasonCode order.


def test_all_reasons_listed_together_in_declaration_order():
    lead_dict = lead(
        consent_type="oral",
        national_dnc=True,
        state_dnc=["TX"],
        internal_dnc_requested_at="2026-02-01T00:00:00Z",
        call_history=[],
    )
    camp = campaign(dnc_data_age_days=40, abandonment_rate_30d=0.05)
    decision = decide(lead_dict, camp, at=local("America/Chicago", SUN, 8, 30))  # TX Sunday before noon
    expected = (
        R.STATE_CALLING_WINDOW,
        R.DNC_NATIONAL,
        R.DNC_STATE,
        R.DNC_INTERNAL,
        R.DNC_SCRUB_STALE,
        R.ABANDONMENT_RATE_EXCEEDED,
        R.CONSENT_NOT_WRITTEN,
    )
    assert decision.reason_codes == expected
    assert decision.next_allowed_at is None  # not a time-only block
    assert decision.summary()["reason_codes"] == [str(r) for r in expected]
    assert list(decision.reason_codes) == sorted(decision.reason_codes, key=list(ReasonCode).index)


def test_facts_invalid_does_not_hide_other_reasons():
    lead_dict = lead(national_dnc="no", consent_type="oral")
    decision = decide(lead_dict, at=local("America/Chicago", SUN, 8, 30))
    assert decision.reason_codes == (
        R.FACTS_INVALID,
        R.STATE_CALLING_WINDOW,
        R.DNC_NATIONAL,
        R.CONSENT_NOT_WRITTEN,
    )


# --------------------------------------------------------------------------------------------------
# Malformed facts: FACTS_INVALID, with the JSON path in the trace (DESIGN.md rule 1).


def _facts_errors(decision) -> list[str]:
    entries = [c for c in decision.trace if c.rule == "facts"]
    assert len(entries) == 1
    return entries[0].inputs["errors"]


@pytest.mark.parametrize(
    ("lead_dict", "campaign_dict", "path"),
    [
        pytest.param(lead(national_dnc="no"), campaign(), "lead.national_dnc", id="national_dnc string"),
        pytest.param(lead(national_dnc=None), campaign(), "lead.national_dnc", id="national_dnc null"),
        pytest.param(
            without(lead(), "national_dnc"), campaign(), "lead.national_dnc", id="national_dnc missing"
        ),
        pytest.param(lead(natonal_dnc=False), campaign(), "lead.natonal_dnc", id="unknown key natonal_dnc"),
        pytest.param(lead(), campaign(sellr="x"), "campaign.sellr", id="unknown campaign key"),
        pytest.param(
            lead(consent_obtained_at="2026-01-10T15:00:00"),
            campaign(),
            "lead.consent.obtained_at",
            id="naive datetime",
        ),
        pytest.param(
            lead(consent_obtained_at="10/01/2026"), campaign(), "lead.consent.obtained_at", id="not ISO-8601"
        ),
        pytest.param(
            lead(internal_dnc_requested_at="2026-02-01"),
            campaign(),
            "lead.internal_dnc_requested_at",
            id="date only",
        ),
        pytest.param(
            lead(consent_covers_artificial_voice="yes"),
            campaign(),
            "lead.consent.covers_artificial_voice",
            id="covers_artificial_voice string",
        ),
        pytest.param(without(lead(), "phone_e164"), campaign(), "lead.phone_e164", id="phone missing"),
        pytest.param(lead(line_type="satellite"), campaign(), "lead.line_type", id="unknown line type"),
        pytest.param(lead(state_dnc=["Texas"]), campaign(), "lead.state_dnc", id="state name not code"),
        pytest.param(
            lead(address={"state": "TX", "zip": "75201", "tz": "Central"}),
            campaign(),
            "lead.address.tz",
            id="tz not IANA",
        ),
        pytest.param(
            lead(call_history=[{"at": "2026-06-22T10:00:00"}]),
            campaign(),
            "lead.call_history[0].at",
            id="naive history instant",
        ),
        pytest.param(
            lead(call_history=[{"at": "2026-06-22T10:00:00Z", "channel": "fax"}]),
            campaign(),
            "lead.call_history[0].channel",
            id="unknown channel",
        ),
        pytest.param(lead(ebr={"type": "purchase"}), campaign(), "lead.ebr.at", id="ebr without date"),
        pytest.param(
            lead(rnd={"queried_at": "2026-06-01T00:00:00Z", "result": "maybe", "consent_date": "2026-01-10"}),
            campaign(),
            "lead.rnd.result",
            id="rnd result unknown",
        ),
        pytest.param(lead(), campaign(dnc_data_age_days=-1), "campaign.dnc_data_age_days", id="negative age"),
        pytest.param(lead(), campaign(dnc_data_age_days=True), "campaign.dnc_data_age_days", id="bool age"),
        pytest.param(
            lead(), campaign(la_emergency_active="false"), "campaign.la_emergency_active", id="flag string"
        ),
        pytest.param(
            lead(),
            without(campaign(), "abandonment_rate_30d"),
            "campaign.abandonment_rate_30d",
            id="abandonment missing",
        ),
        pytest.param(lead(), campaign(voice="robot"), "campaign.voice", id="unknown voice"),
        pytest.param("not an object", campaign(), "lead", id="lead not an object"),
        pytest.param(lead(), None, "campaign", id="campaign null"),
    ],
)
def test_malformed_facts_block_with_facts_invalid(lead_dict, campaign_dict, path):
    facts = parse_call_facts(lead_dict, campaign_dict)
    assert any(e.path == path for e in facts.errors), facts.errors
    decision = evaluate(facts, None, AT)
    assert decision.decision == "block"
    assert decision.reason_codes[0] == R.FACTS_INVALID
    assert any(e.startswith(path) for e in _facts_errors(decision))
    assert decision.next_allowed_at is None


def test_unknown_key_alone_is_only_facts_invalid():
    decision = decide(lead(natonal_dnc=True), at=AT)
    assert decision.reason_codes == (R.FACTS_INVALID,)


def test_malformed_facts_are_recorded_for_replay():
    decision = decide(lead(natonal_dnc=True), at=AT)
    assert decision.facts["errors"] == [{"path": "lead.natonal_dnc", "message": "unknown field"}]


@pytest.mark.parametrize(
    "tz",
    [
        pytest.param("America", id="a zone directory"),
        pytest.param("x" * 300, id="a 300-character name"),
    ],
)
def test_parse_never_raises_on_odd_zone_names(tz):
    facts = parse_call_facts(lead(address={"state": "TX", "zip": "75201", "tz": tz}), campaign())
    assert any(e.path == "lead.address.tz" for e in facts.errors)


@pytest.mark.parametrize("field", ["dnc_data_age_days", "abandonment_rate_30d"])
def test_parse_never_raises_on_huge_integers(field):
    facts = parse_call_facts(lead(), campaign(**{field: 10**400}))
    assert any(e.path == f"campaign.{field}" for e in facts.errors)


# --------------------------------------------------------------------------------------------------
# GATE_ERROR: an exception while deciding is a block, never raised to the caller.


def test_gate_error_when_facts_are_not_facts():
    decision = evaluate(None, None, AT)  # type: ignore[arg-type]
    assert decision.decision == "block"
    assert decision.reason_codes == (R.GATE_ERROR,)
    assert decision.trace[0].rule == "gate"
    assert decision.next_allowed_at is None


def test_gate_error_when_a_rule_raises(monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("zone data unavailable")

    monkeypatch.setattr(gate_module, "resolve_jurisdiction", boom)
    decision = evaluate(parse_call_facts(lead(), campaign()), None, AT)
    assert decision.reason_codes == (R.GATE_ERROR,)
    assert "RuntimeError: zone data unavailable" in decision.trace[0].detail
    assert decision.facts["lead"]["phone_e164"] == "+12145550101"


def test_gate_error_on_instants_out_of_range():
    lead_dict = lead(call_history=[{"at": "0001-01-01T00:00:00+05:00"}])
    decision = decide(lead_dict, at=AT)
    assert decision.decision == "block"
    assert R.GATE_ERROR in decision.reason_codes or R.FACTS_INVALID in decision.reason_codes


def test_naive_decision_instant_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(parse_call_facts(lead(), campaign()), None, datetime(2026, 6, 22, 12))


def test_evaluated_at_is_utc():
    decision = decide(at=AT)
    assert decision.evaluated_at == AT
    assert decision.evaluated_at.utcoffset() == timedelta(0)
