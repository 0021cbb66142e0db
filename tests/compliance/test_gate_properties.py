"""Properties of the gate over random facts and instants (hypothesis).

(a) a missing or malformed required fact always blocks;
(b) removing an absent-able optional fact (the address when the number has one zone, the EBR, the RND
    result, the call history) never turns an allow into a block;
(c) adding a DNC entry or a revocation never turns a block into an allow;
(d) ``next_allowed_at`` is exact: the same facts allow at it and block one minute before;
plus: parsing and evaluating arbitrary JSON never raises.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from compliance.facts_json import parse_call_facts
from compliance.gate import evaluate
from tests.compliance.gate_cases import (
    LOCS,
    R,
    attempt,
    campaign,
    decide,
    iso_z,
    lead,
    lead_in,
    local,
    without,
)

PROPERTY_STATES = ["TX", "FL", "RI", "PA", "UT", "MS", "AL", "ME", "NE", "CA", "NY"]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

YEAR_START = datetime(2026, 1, 1)
YEAR_END = datetime(2026, 12, 31, 23, 59, 59)

# Instants over 2026, with extra weight on the DST transition days and on round wall-clock minutes.
any_instant = st.datetimes(min_value=YEAR_START, max_value=YEAR_END, timezones=st.just(UTC))
dst_day_instant = st.builds(
    lambda day, minutes: (
        datetime(2026, 3 if day == 0 else 11, 8 if day == 0 else 1, tzinfo=UTC) + timedelta(minutes=minutes)
    ),
    st.integers(0, 1),
    st.integers(0, 2 * 24 * 60),
)
round_local_instant = st.builds(
    lambda state, doy, hh, mm: local(
        LOCS[state].zone, (YEAR_START + timedelta(days=doy)).date(), hh, mm
    ).astimezone(UTC),
    st.sampled_from(PROPERTY_STATES),
    st.integers(0, 364),
    st.integers(0, 23),
    st.sampled_from([0, 1, 29, 30, 59]),
)
instants = st.one_of(any_instant, dst_day_instant, round_local_instant)
states = st.sampled_from(PROPERTY_STATES)


@st.composite
def histories(draw, at: datetime) -> list[dict[str, Any]]:
    """0-5 earlier attempts within 30 h before ``at`` (some on the campaign's subject)."""
    n = draw(st.integers(0, 5))
    out = []
    for _ in range(n):
        minutes = draw(st.integers(1, 30 * 60))
        out.append(
            attempt(
                at - timedelta(minutes=minutes),
                subject=draw(st.sampled_from(["data platform", "data platform", "billing", None])),
                channel=draw(st.sampled_from(["voice", "sms"])),
                answered=draw(st.sampled_from([True, False, None])),
            )
        )
    return out


@st.composite
def addresses(draw, state: str) -> dict[str, Any] | None:
    """The state's own address, no address, or another state's address."""
    kind = draw(st.sampled_from(["own", "own", "none", "other"]))
    if kind == "none":
        return None
    loc = LOCS[state] if kind == "own" else LOCS[draw(st.sampled_from(PROPERTY_STATES))]
    return {"state": loc.state, "zip": loc.zip, "tz": None}


@st.composite
def scenarios(draw) -> tuple[dict[str, Any], dict[str, Any], datetime]:
    """A random lead, campaign and instant: mostly valid, with random DNC, consent and EBR facts."""
    state = draw(states)
    at = draw(instants)
    overrides: dict[str, Any] = {
        "address": draw(addresses(state)),
        "call_history": draw(histories(at)),
        "national_dnc": draw(st.booleans()),
        "state_dnc": draw(st.sampled_from([None, ["TX"], [state]])),
    }
    consent_kind = draw(st.sampled_from(["valid", "valid", "valid", "oral", "other_seller", "no_ai", "none"]))
    if consent_kind == "oral":
        overrides["consent_type"] = "oral"
    elif consent_kind == "other_seller":
        overrides["consent_sellers"] = ["Contoso"]
    elif consent_kind == "no_ai":
        overrides["consent_covers_artificial_voice"] = False
    elif consent_kind == "none":
        overrides["consent"] = None
    if draw(st.booleans()):
        months = draw(st.integers(0, 24))
        overrides["ebr"] = {
            "type": draw(st.sampled_from(["purchase", "inquiry"])),
            "at": iso_z(at - timedelta(days=30 * months + 1)),
        }
    if draw(st.integers(0, 4)) == 0:
        overrides["internal_dnc_requested_at"] = iso_z(at - timedelta(days=draw(st.integers(1, 400))))
    lead_dict = lead_in(state, **overrides)
    # Keep the consent dated before the instant, so consent is not trivially "in the future".
    if isinstance(lead_dict.get("consent"), dict):
        lead_dict["consent"]["obtained_at"] = "2025-12-01T00:00:00Z"
    camp = campaign(subject=draw(st.sampled_from(["data platform", "billing"])))
    return lead_dict, camp, at


# --------------------------------------------------------------------------------------------------
# (a) a missing or malformed required fact always blocks.


def _break_phone(d: dict[str, Any], how: str) -> None:
    if how == "remove":
        d.pop("phone_e164")
    elif how == "null":
        d["phone_e164"] = None
    elif how == "truncate":
        d["phone_e164"] = d["phone_e164"][:-1]
    elif how == "letters":
        d["phone_e164"] = d["phone_e164"][:-2] + "OI"
    elif how == "spaces":
        p = d["phone_e164"]
        d["phone_e164"] = f"{p[:2]} {p[2:5]} {p[5:]}"
    elif how == "toll_free":
        d["phone_e164"] = "+18005550199"
        if isinstance(d.get("consent"), dict):
            d["consent"]["phone_e164"] = "+18005550199"
    elif how == "canada":
        d["phone_e164"] = "+14165550101"


BREAKS = [
    "phone:remove",
    "phone:null",
    "phone:truncate",
    "phone:letters",
    "phone:spaces",
    "phone:toll_free",
    "phone:canada",
    "consent:remove",
    "consent:no_ai",
    "consent:ai_missing",
    "national_dnc:remove",
    "national_dnc:string",
    "seller:remove",
    "abandonment:remove",
]


@SETTINGS
@given(scenarios(), st.sampled_from(BREAKS))
def test_missing_or_malformed_required_fact_always_blocks(scenario, breakage):
    lead_dict, camp, at = scenario
    lead_dict, camp = copy.deepcopy(lead_dict), copy.deepcopy(camp)
    field, how = breakage.split(":")
    if field == "phone":
        _break_phone(lead_dict, how)
    elif field == "consent":
        if how == "remove":
            lead_dict.pop("consent", None)
        elif isinstance(lead_dict.get("consent"), dict):
            if how == "no_ai":
                lead_dict["consent"]["covers_artificial_voice"] = False
            else:
                lead_dict["consent"].pop("covers_artificial_voice")
        else:
            lead_dict.pop("consent", None)
    elif field == "national_dnc":
        if how == "remove":
            lead_dict.pop("national_dnc")
        else:
            lead_dict["national_dnc"] = "no"
    elif field == "seller":
        camp.pop("seller")
    else:
        camp.pop("abandonment_rate_30d")
    decision = decide(lead_dict, camp, at=at)
    assert decision.decision == "block", (breakage, decision.summary())
    assert decision.reason_codes
    expected = {
        "phone": {R.FACTS_INVALID, R.INVALID_NUMBER, R.TZ_UNRESOLVED, R.NON_US_DESTINATION},
        "consent": {R.CONSENT_MISSING, R.CONSENT_NO_ARTIFICIAL_VOICE, R.FACTS_INVALID, R.CONSENT_NOT_WRITTEN},
        "national_dnc": {R.FACTS_INVALID},
        "seller": {R.FACTS_INVALID},
        "abandonment": {R.FACTS_INVALID},
    }[field]
    assert expected & set(decision.reason_codes), (breakage, decision.summary())


# --------------------------------------------------------------------------------------------------
# (b) removing an optional fact never turns an allow into a block.


def _county_limited_holiday(lead_dict: dict[str, Any], at: datetime) -> bool:
    """Alabama's Mardi Gras is limited to Baldwin and Mobile counties: without an address the county is
    unknown and it applies (conservative). That is the one known case where dropping the address
    narrows nothing but widens a holiday; it is tested on its own below."""
    return lead_dict["phone_e164"].startswith(("+1205", "+1251", "+1256", "+1334")) or (
        (lead_dict.get("address") or {}).get("state") == "AL"
    )


OPTIONAL_FACTS = ["address", "ebr", "rnd", "call_history", "line_type", "state_dnc"]


@st.composite
def allowable_scenarios(draw) -> tuple[dict[str, Any], datetime]:
    """Valid PEWC at a random local daytime instant, with random optional facts: mostly allowed."""
    state = draw(states)
    day = (YEAR_START + timedelta(days=draw(st.integers(0, 364)))).date()
    at = local(LOCS[state].zone, day, draw(st.integers(10, 15)), draw(st.integers(0, 59))).astimezone(UTC)
    overrides: dict[str, Any] = {
        "address": draw(addresses(state)),
        "call_history": draw(histories(at)),
        "national_dnc": draw(st.booleans()),
        "state_dnc": draw(st.sampled_from([None, [state], ["FL", "PA"]])),
        "line_type": draw(st.sampled_from(["wireless", "landline", "voip", "unknown"])),
        "consent_obtained_at": "2025-12-01T00:00:00Z",
    }
    if draw(st.booleans()):
        overrides["ebr"] = {
            "type": draw(st.sampled_from(["purchase", "inquiry"])),
            "at": iso_z(at - timedelta(days=draw(st.integers(1, 700)))),
        }
    result = draw(st.sampled_from([None, "no", "no_data", "yes"]))
    if result is not None:
        queried = "2025-11-01T00:00:00Z" if result == "yes" else iso_z(at - timedelta(days=2))
        overrides["rnd"] = {"queried_at": queried, "consent_date": "2025-11-01", "result": result}
    return lead_in(state, **overrides), at


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(allowable_scenarios(), st.sampled_from(OPTIONAL_FACTS))
def test_removing_an_optional_fact_never_turns_allow_into_block(scenario, fact):
    lead_dict, at = scenario
    before = decide(lead_dict, at=at)
    assume(before.decision == "allow")
    if fact == "address":
        assume(not _county_limited_holiday(lead_dict, at))
    after = decide(without(lead_dict, fact), at=at)
    assert after.decision == "allow", (fact, after.summary())
    if fact == "address":
        assert set(after.zones) <= set(before.zones)
        assert set(after.states) <= set(before.states)


@example(at=datetime(2026, 2, 17, 18, tzinfo=UTC))
@settings(max_examples=5, deadline=None)
@given(at=st.just(datetime(2026, 2, 17, 18, tzinfo=UTC)))
def test_address_removal_exception_county_limited_holiday(at):
    # Birmingham (Jefferson County) lead on Mardi Gras: allowed with its address; without it the county is
    # unknown, so the Baldwin/Mobile-only holiday applies (conservative, Ala. Code 1-3-8(a)).
    with_address = decide(lead_in("AL"), at=at)
    assert with_address.decision == "allow"
    without_address = decide(lead_in("AL", address=None), at=at)
    assert without_address.reason_codes == (R.STATE_HOLIDAY,)


# --------------------------------------------------------------------------------------------------
# (c) adding a DNC entry or a revocation never turns a block into an allow.

ADDITIONS = ["national_dnc", "state_dnc_own", "state_dnc_other", "internal_dnc", "revocation"]


def _add(lead_dict: dict[str, Any], addition: str, at: datetime, seconds_before: int) -> dict[str, Any]:
    d = copy.deepcopy(lead_dict)
    when = iso_z(at - timedelta(seconds=seconds_before))
    if addition == "national_dnc":
        d["national_dnc"] = True
    elif addition == "state_dnc_own":
        d["state_dnc"] = [LOCS_BY_PHONE.get(d["phone_e164"], "TX")]
    elif addition == "state_dnc_other":
        d["state_dnc"] = ["FL", "PA"]
    elif addition == "internal_dnc":
        # The facts hold the latest request: adding one never moves it earlier.
        existing = d.get("internal_dnc_requested_at")
        d["internal_dnc_requested_at"] = max(when, existing) if existing else when
    elif isinstance(d.get("consent"), dict):
        d["consent"]["revoked_at"] = when
    return d


LOCS_BY_PHONE = {loc.phone: loc.state for loc in LOCS.values()}


@SETTINGS
@given(scenarios(), st.sampled_from(ADDITIONS), st.integers(1, 400 * 86400))
def test_adding_dnc_or_revocation_never_turns_block_into_allow(scenario, addition, seconds_before):
    lead_dict, camp, at = scenario
    before = decide(lead_dict, camp, at=at)
    after = decide(_add(lead_dict, addition, at, seconds_before), camp, at=at)
    if before.decision == "block":
        assert after.decision == "block", (addition, before.summary(), after.summary())
        # Nothing that blocked before stops blocking.
        assert set(before.reason_codes) <= set(after.reason_codes), (
            addition,
            before.summary(),
            after.summary(),
        )


@SETTINGS
@given(scenarios(), st.sampled_from(["internal_dnc", "revocation"]), st.integers(1, 400 * 86400))
def test_dnc_request_or_revocation_after_the_only_consent_always_blocks(scenario, addition, seconds_before):
    lead_dict, camp, at = scenario
    assume(isinstance(lead_dict.get("consent"), dict))
    after = decide(_add(lead_dict, addition, at, min(seconds_before, 86400)), camp, at=at)
    assert after.decision == "block"


# --------------------------------------------------------------------------------------------------
# (d) next_allowed_at is exact.


DST_ADJACENT = [
    (datetime(2026, 2, 20, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)),
    (datetime(2026, 10, 15, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)),
]


def _near_dst(at: datetime) -> bool:
    """Within the 14-day lookahead (plus a day) before a DST change, or on it."""
    return any(lo <= at <= hi for lo, hi in DST_ADJACENT)


@st.composite
def timing_scenarios(draw, *, with_history: bool) -> tuple[dict[str, Any], datetime]:
    """A valid lead (only time rules and caps can block), at a random instant, optionally a history."""
    state = draw(states)
    at = draw(instants)
    address = draw(st.sampled_from(["own", "none", "other"]))
    overrides: dict[str, Any] = {"call_history": draw(histories(at)) if with_history else []}
    if address == "none":
        overrides["address"] = None
    elif address == "other":
        other = LOCS[draw(st.sampled_from(PROPERTY_STATES))]
        overrides["address"] = {"state": other.state, "zip": other.zip, "tz": None}
    lead_dict = lead_in(state, consent_obtained_at="2025-12-01T00:00:00Z", **overrides)
    return lead_dict, at


def _check_next_allowed(lead_dict: dict[str, Any], at: datetime) -> None:
    decision = decide(lead_dict, at=at)
    if decision.decision == "allow":
        assert decision.next_allowed_at is None
        return
    assert set(decision.reason_codes) <= {
        R.OUTSIDE_CALLING_WINDOW,
        R.STATE_CALLING_WINDOW,
        R.STATE_DAY_PROHIBITED,
        R.STATE_HOLIDAY,
        R.FREQUENCY_CAP_EXCEEDED,
    }, decision.summary()
    nxt = decision.next_allowed_at
    assert nxt is not None, decision.summary()
    assert nxt > at
    assert nxt.utcoffset() == timedelta(0)
    assert decide(lead_dict, at=nxt).decision == "allow", (nxt, decision.summary())
    assert decide(lead_dict, at=nxt - timedelta(minutes=1)).decision == "block", (nxt, decision.summary())
    assert decide(lead_dict, at=nxt - timedelta(seconds=1)).decision == "block", (nxt, decision.summary())


def _valid(state: str, **overrides: Any) -> dict[str, Any]:
    return lead_in(state, consent_obtained_at="2025-12-01T00:00:00Z", **overrides)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timing_scenarios(with_history=False))
@example((_valid("MS"), datetime(2026, 3, 8, 13, 30, tzinfo=UTC)))
@example((_valid("TX"), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)))
@example((_valid("ME"), datetime(2026, 7, 3, 20, 0, tzinfo=UTC)))
@example((_valid("PA"), datetime(2026, 7, 4, 13, 0, tzinfo=UTC)))
@example((_valid("UT"), datetime(2026, 7, 3, 15, 0, tzinfo=UTC)))
@example((_valid("NE", address=None), datetime(2026, 3, 8, 17, 59, tzinfo=UTC)))
def test_next_allowed_at_is_exact_for_time_rules(scenario):
    """Windows, banned days, holidays, half-holidays, over all of 2026 including the DST days."""
    _check_next_allowed(*scenario)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(timing_scenarios(with_history=True))
def test_next_allowed_at_is_exact_with_frequency_caps_away_from_dst(scenario):
    """Windows plus caps (random histories); instants near a DST change are in the test below."""
    lead_dict, at = scenario
    assume(not _near_dst(at))
    _check_next_allowed(lead_dict, at)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timing_scenarios(with_history=True))
@example(
    (
        _valid("FL", call_history=[attempt(datetime(2026, 3, 7, 13, tzinfo=UTC))] * 3),
        datetime(2026, 3, 7, 14, tzinfo=UTC),
    )
)
def test_next_allowed_at_is_exact_with_frequency_caps_near_dst(scenario):
    _check_next_allowed(*scenario)


# --------------------------------------------------------------------------------------------------
# Parsing and evaluating arbitrary JSON never raises.

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["2026-06-22T12:00:00Z", "2026-06-22T12:00:00", "+12145550101", "pewc", "TX", "sms"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
LEAD_KEYS = sorted(lead()) + ["consents"]
CAMPAIGN_KEYS = sorted(campaign())


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(LEAD_KEYS), json_values, max_size=4),
    st.dictionaries(st.sampled_from(CAMPAIGN_KEYS), json_values, max_size=3),
    instants,
)
def test_arbitrary_json_never_raises_and_blocks_when_invalid(lead_edits, campaign_edits, at):
    lead_dict = dict(lead(), **lead_edits)
    camp = dict(campaign(), **campaign_edits)
    facts = parse_call_facts(lead_dict, camp)
    decision = evaluate(facts, None, at)
    assert decision.decision in ("allow", "block")
    if facts.errors:
        assert decision.decision == "block"
        assert R.FACTS_INVALID in decision.reason_codes or R.GATE_ERROR in decision.reason_codes
