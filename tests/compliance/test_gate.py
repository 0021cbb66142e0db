"""The whole first-version gate: every rule, every reason, fail closed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import compliance.gate as gate_module
from compliance import TRANSIENT_REASONS, ReasonCode, evaluate
from compliance.reasons import RULE_VERSIONS
from tests.compliance.factories import (
    ADAK,
    ANCHORAGE,
    CHICAGO,
    LOS_ANGELES,
    NEW_YORK,
    SIGNED,
    dnc,
    gate_input,
    local,
    pewc,
    utc,
)

R = ReasonCode
MIDDAY = utc(2026, 6, 15, 17, 0)  # Monday: 13:00 EDT, 10:00 PDT, 07:00 HST


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("+12125550123", NEW_YORK),
        ("+13125550123", CHICAGO),
        ("+13035550123", "America/Denver"),
        ("+16025550123", "America/Phoenix"),
        ("+12135550123", LOS_ANGELES),
        ("+18085550123", "Pacific/Honolulu"),
        ("+17875550123", "America/Puerto_Rico"),
    ],
)
@pytest.mark.parametrize(
    ("wall", "allowed"),
    [((7, 59, 59), False), ((8, 0, 0), True), ((20, 59, 59), True), ((21, 0, 0), False)],
)
def test_window_boundaries_through_the_gate(phone, zone, wall, allowed):
    decision = evaluate(gate_input(phone), now=local(zone, 2026, 6, 15, *wall))
    assert decision.allowed is allowed
    assert decision.reasons == (() if allowed else (R.OUTSIDE_CALLING_WINDOW,))
    assert decision.candidate_zones == (zone,)


def test_adak_blocks_an_alaska_number_at_0830_anchorage_until_0800_adak():
    decision = evaluate(gate_input("+19075550123"), now=local(ANCHORAGE, 2026, 3, 10, 8, 30))
    assert decision.reasons == (R.OUTSIDE_CALLING_WINDOW,)
    assert decision.candidate_zones == (ADAK, ANCHORAGE)
    assert decision.next_allowed_at == local(ADAK, 2026, 3, 10, 8, 0) == utc(2026, 3, 10, 17, 0)
    assert decision.facts["derived"]["zones"]["local_times"][ADAK] == {
        "local": "2026-03-10T07:30:00-09:00",
        "in_window": False,
    }
    assert "pewc_exemption_ignored_by_policy" in decision.notes
    assert evaluate(gate_input("+19075550123"), now=decision.next_allowed_at).allowed


def test_chicago_number_with_california_address_waits_for_los_angeles():
    inp = gate_input("+13125550123", state="CA", zip_code="90012")
    decision = evaluate(inp, now=local(CHICAGO, 2026, 6, 15, 9, 30))
    assert decision.reasons == (R.OUTSIDE_CALLING_WINDOW,)
    assert decision.candidate_zones == (CHICAGO, LOS_ANGELES)
    assert decision.next_allowed_at == local(LOS_ANGELES, 2026, 6, 15, 8, 0)
    # Without the address, the same instant is fine.
    assert evaluate(gate_input("+13125550123"), now=local(CHICAGO, 2026, 6, 15, 9, 30)).allowed


def test_split_nxx_in_850():
    now = utc(2026, 6, 15, 12, 30)  # 08:30 EDT, 07:30 CDT
    assert evaluate(gate_input("+18502220123"), now=now).allowed  # Tallahassee: Eastern
    pensacola = evaluate(gate_input("+18502000123"), now=now)  # Pensacola: Central
    assert pensacola.reasons == (R.OUTSIDE_CALLING_WINDOW,)
    assert pensacola.next_allowed_at == utc(2026, 6, 15, 13, 0)
    # A Tallahassee number with a Florida address but no ZIP: both Florida zones apply.
    assert not evaluate(gate_input("+18502220123", state="FL"), now=now).allowed


def test_indiana_address_without_zip_includes_central():
    now = utc(2026, 6, 15, 12, 30)  # 08:30 in Indianapolis, 07:30 in Hammond
    assert not evaluate(gate_input("+13175550123", state="IN"), now=now).allowed
    assert evaluate(gate_input("+13175550123", state="IN", zip_code="46204"), now=now).allowed


def test_dst_spring_forward_through_the_gate():
    inp = gate_input("+13125550123")
    blocked = evaluate(inp, now=utc(2026, 3, 8, 12, 59, 59))
    assert blocked.reasons == (R.OUTSIDE_CALLING_WINDOW,)
    assert blocked.next_allowed_at == utc(2026, 3, 8, 13, 0)
    assert evaluate(inp, now=utc(2026, 3, 8, 13, 0)).allowed


def test_dst_fall_back_through_the_gate():
    inp = gate_input("+13125550123")
    blocked = evaluate(inp, now=utc(2026, 11, 1, 13, 30))  # 07:30 CST
    assert blocked.next_allowed_at == utc(2026, 11, 1, 14, 0)
    assert evaluate(inp, now=utc(2026, 10, 31, 13, 30)).allowed  # 08:30 CDT


@pytest.mark.parametrize(
    ("phone", "state", "zip_code", "now"),
    [
        ("+17875550123", "PR", "00901", utc(2026, 6, 15, 14, 0)),  # 10:00 AST
        ("+16715550123", "GU", "96910", utc(2026, 6, 15, 0, 0)),  # 10:00 ChST
        ("+13405550123", "VI", None, utc(2026, 6, 15, 14, 0)),
    ],
)
def test_us_territories_are_us_destinations(phone, state, zip_code, now):
    decision = evaluate(gate_input(phone, state=state, zip_code=zip_code), now=now)
    assert decision.allowed, decision.reasons
    assert decision.reasons == ()
    assert decision.next_allowed_at is None


def test_canada_is_not_a_us_destination():
    decision = evaluate(gate_input("+14165550123"), now=MIDDAY)
    assert decision.reasons == (R.NON_US_DESTINATION,)
    assert decision.next_allowed_at is None
    assert decision.facts["derived"]["number"]["region"] == "CA"


def test_toll_free_is_unresolved_even_with_an_address():
    decision = evaluate(gate_input("+18005550123", state="IL", zip_code="60601"), now=MIDDAY)
    assert decision.reasons == (R.TZ_UNRESOLVED,)
    assert decision.candidate_zones == ()
    assert decision.next_allowed_at is None
    assert decision.facts["derived"]["zones"]["address_zones"] == [CHICAGO]


@pytest.mark.parametrize("phone", ["+1312555012", "+15555550123", "not a number", ""])
def test_invalid_number(phone):
    decision = evaluate(gate_input(phone), now=MIDDAY)
    assert not decision.allowed
    assert decision.reasons == (R.INVALID_NUMBER,)


def test_non_canonical_e164_is_invalid_for_dialing():
    decision = evaluate(gate_input("+1 (312) 555-0123"), now=MIDDAY)
    assert decision.reasons == (R.INVALID_NUMBER,)
    assert "number_not_canonical_e164:+13125550123" in decision.notes


def test_internal_dnc_blocks_and_revokes_earlier_consent():
    inp = gate_input("+13125550123", dnc_entries=(dnc(SIGNED + timedelta(days=30)),))
    decision = evaluate(inp, now=MIDDAY)
    assert decision.reasons == (R.DNC_INTERNAL, R.CONSENT_REVOKED)
    assert decision.next_allowed_at is None
    assert decision.facts["derived"]["dnc"]["latest_internal_requested_at"] == "2026-02-04T15:00:00+00:00"


def test_internal_dnc_without_any_consent():
    inp = gate_input("+13125550123", consents=(), dnc_entries=(dnc(utc(2026, 6, 1)),))
    assert evaluate(inp, now=MIDDAY).reasons == (R.DNC_INTERNAL, R.CONSENT_MISSING)


def test_pewc_signed_after_the_dnc_request_restores_calling():
    dnc_at = utc(2026, 3, 1, 12, 0)
    phone = "+13125550123"
    renewed = pewc(phone, signed_at=dnc_at + timedelta(days=1))
    inp = gate_input(phone, consents=(pewc(phone), renewed), dnc_entries=(dnc(utc(2026, 2, 1)), dnc(dnc_at)))
    decision = evaluate(inp, now=MIDDAY)
    assert decision.allowed
    assert decision.facts["derived"]["consent"]["satisfied_by"] == 1
    # Signed at exactly the DNC instant is not "after" it.
    same = pewc(phone, signed_at=dnc_at)
    inp = gate_input(phone, consents=(same,), dnc_entries=(dnc(dnc_at),))
    assert evaluate(inp, now=MIDDAY).reasons == (R.DNC_INTERNAL, R.CONSENT_REVOKED)


def test_dnc_check_does_not_trust_the_consent_check_alone(monkeypatch):
    """Defence in depth: even if the consent check wrongly accepted a pre-DNC record, DNC still blocks."""
    from compliance.consent import ConsentResult

    monkeypatch.setattr(gate_module, "check_consent", lambda *a, **k: ConsentResult(0, (), ["forced"]))
    inp = gate_input("+13125550123", dnc_entries=(dnc(SIGNED + timedelta(days=1), list_name=" Internal "),))
    assert evaluate(inp, now=MIDDAY).reasons == (R.DNC_INTERNAL,)


def test_dnc_requested_a_moment_after_now_still_blocks():
    inp = gate_input("+13125550123", dnc_entries=(dnc(MIDDAY + timedelta(milliseconds=1)),))
    decision = evaluate(inp, now=MIDDAY)
    assert R.DNC_INTERNAL in decision.reasons
    assert any(n.startswith("dnc_requested_after_now_honoured") for n in decision.notes)


def test_other_dnc_lists_are_noted_not_evaluated():
    inp = gate_input("+13125550123", dnc_entries=(dnc(utc(2026, 6, 1), list_name="national"),))
    decision = evaluate(inp, now=MIDDAY)
    assert decision.allowed
    assert "dnc_list_not_evaluated:national" in decision.notes


def test_revocation_in_the_future_is_still_valid_consent():
    phone = "+13125550123"
    inp = gate_input(phone, consents=(pewc(phone, revoked_at=MIDDAY + timedelta(hours=1)),))
    assert evaluate(inp, now=MIDDAY).allowed
    assert evaluate(inp, now=MIDDAY + timedelta(hours=1)).reasons == (R.CONSENT_REVOKED,)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"consent_type": "oral"}, R.CONSENT_NOT_WRITTEN),
        ({"consent_type": "ebr"}, R.CONSENT_NOT_WRITTEN),
        ({"consent_type": "none"}, R.CONSENT_MISSING),
        ({"seller_name": "Contoso"}, R.CONSENT_SELLER_MISMATCH),
        ({"phone_e164": "+13125550199"}, R.CONSENT_NUMBER_MISMATCH),
        ({"covers_artificial_voice": False}, R.CONSENT_NO_ARTIFICIAL_VOICE),
        ({"revoked_at": utc(2026, 6, 1)}, R.CONSENT_REVOKED),
        ({"signed_at": MIDDAY + timedelta(days=1)}, R.CONSENT_MISSING),
    ],
)
def test_each_consent_reason_through_the_gate(overrides, reason):
    phone = "+13125550123"
    decision = evaluate(gate_input(phone, consents=(pewc(phone, **overrides),)), now=MIDDAY)
    assert decision.reasons == (reason,)
    assert decision.next_allowed_at is None


def test_every_reason_is_listed_in_enum_order():
    phone = "+14165550123"  # Toronto
    inp = gate_input(
        phone,
        consents=(pewc(phone, seller_name="Contoso", covers_artificial_voice=False),),
        dnc_entries=(dnc(utc(2026, 6, 1)),),
    )
    decision = evaluate(inp, now=local("America/Toronto", 2026, 6, 15, 22, 0))
    assert decision.reasons == (
        R.NON_US_DESTINATION,
        R.OUTSIDE_CALLING_WINDOW,
        R.DNC_INTERNAL,
        R.CONSENT_SELLER_MISMATCH,
        R.CONSENT_NO_ARTIFICIAL_VOICE,
        R.CONSENT_REVOKED,
    )
    assert not decision.allowed
    assert decision.next_allowed_at is None  # not every reason is transient
    assert "pewc_exemption_ignored_by_policy" not in decision.notes


def test_window_block_without_pewc_has_no_exemption_note():
    phone = "+13125550123"
    decision = evaluate(gate_input(phone, consents=()), now=local(CHICAGO, 2026, 6, 15, 7, 0))
    assert decision.reasons == (R.OUTSIDE_CALLING_WINDOW, R.CONSENT_MISSING)
    assert "pewc_exemption_ignored_by_policy" not in decision.notes
    assert decision.next_allowed_at is None


def test_allowed_decision_shape():
    decision = evaluate(gate_input("+13125550123"), now=local(CHICAGO, 2026, 6, 15, 12, 0))
    assert decision.allowed and decision.reasons == () and decision.next_allowed_at is None
    assert decision.decided_at == utc(2026, 6, 15, 17, 0)
    assert decision.decided_at.utcoffset() == timedelta(0)
    assert decision.rule_versions == RULE_VERSIONS
    assert decision.rule_versions is not RULE_VERSIONS
    assert set(decision.facts) == {"input", "derived"}
    assert TRANSIENT_REASONS == {R.OUTSIDE_CALLING_WINDOW}


def test_naive_now_raises():
    with pytest.raises(ValueError):
        evaluate(gate_input("+13125550123"), now=datetime(2026, 6, 15, 12, 0))


def _boom(*args, **kwargs):
    raise RuntimeError("consent store exploded")


@pytest.mark.parametrize("helper", ["check_consent", "candidate_time_zones", "resolve_address_zones"])
def test_internal_failure_is_a_block_never_a_pass(monkeypatch, helper):
    monkeypatch.setattr(gate_module, helper, _boom)
    decision = evaluate(gate_input("+13125550123"), now=MIDDAY)
    assert decision.allowed is False
    assert decision.reasons == (R.GATE_ERROR,)
    assert decision.notes == ("gate_error:RuntimeError: consent store exploded",)
    assert decision.next_allowed_at is None
    assert decision.facts["input"]["phone_e164"] == "+13125550123"
    assert decision.facts["derived"]["error"]["type"] == "RuntimeError"


def test_unknown_zone_from_data_is_a_gate_error(monkeypatch):
    monkeypatch.setattr(gate_module, "candidate_time_zones", lambda *a: ("Mars/Olympus_Mons",))
    decision = evaluate(gate_input("+13125550123"), now=MIDDAY)
    assert decision.reasons == (R.GATE_ERROR,)


def test_naive_fact_datetime_is_a_gate_error():
    phone = "+13125550123"
    inp = gate_input(phone, consents=(pewc(phone, signed_at=datetime(2026, 1, 5)),))
    decision = evaluate(inp, now=MIDDAY)
    assert decision.reasons == (R.GATE_ERROR,)
    assert "consents[0].signed_at" in decision.notes[0]


def test_garbage_input_is_a_gate_error():
    decision = evaluate(None, now=MIDDAY)  # type: ignore[arg-type]
    assert decision.reasons == (R.GATE_ERROR,)
    assert not decision.allowed


# Property: allowed <=> every candidate zone's local time is in [08:00, 21:00), over 2 days in
# 15-minute steps across each 2026 DST change; and next_allowed_at is the first allowed instant.
CASES = [
    (("+19075550123", None, None), (ADAK, ANCHORAGE)),
    (("+13125550123", "CA", "90012"), (CHICAGO, LOS_ANGELES)),
    (("+18502220123", "FL", None), (CHICAGO, NEW_YORK)),
    (("+19282830123", "AZ", "86045"), ("America/Denver", "America/Phoenix")),
    (("+16715550123", "GU", None), ("Pacific/Guam",)),
]


@pytest.mark.parametrize("start", [utc(2026, 3, 7, 0, 0), utc(2026, 10, 31, 0, 0)])
@pytest.mark.parametrize(("args", "zones"), CASES)
def test_property_allowed_iff_every_zone_in_window(start, args, zones):
    from zoneinfo import ZoneInfo

    phone, state, zip_code = args
    inp = gate_input(phone, state=state, zip_code=zip_code)
    instants = [start + timedelta(minutes=15 * i) for i in range(2 * 24 * 4)]
    decisions = [evaluate(inp, now=t) for t in instants]
    allowed_count = 0
    for t, decision in zip(instants, decisions, strict=True):
        assert decision.candidate_zones == zones
        expected = all(8 <= t.astimezone(ZoneInfo(z)).hour < 21 for z in zones)
        assert decision.allowed is expected, (t, decision.reasons)
        allowed_count += expected
        if not expected:
            assert decision.reasons == (R.OUTSIDE_CALLING_WINDOW,)
            nxt = decision.next_allowed_at
            assert nxt is not None and nxt > t
            assert evaluate(inp, now=nxt).allowed
            # No grid instant between t and next_allowed_at is allowed.
            assert not any(d.allowed for u, d in zip(instants, decisions, strict=True) if t <= u < nxt)
    assert 0 < allowed_count < len(instants)
