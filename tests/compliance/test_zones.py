"""Candidate zones (the number's NXX zones union the address zones, CP-3) and applicable states (CP-4)."""

from __future__ import annotations

import pytest

from compliance import Address
from compliance.jurisdiction import resolve_jurisdiction
from compliance.zones import address_time_zones, resolve_address_zones, state_time_zones

CHICAGO = "America/Chicago"
NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"
ADAK = "America/Adak"
ANCHORAGE = "America/Anchorage"

INDIANAPOLIS = "America/Indiana/Indianapolis"


def test_zip_zone_wins_over_state_fallback():
    assert address_time_zones("IN", "46320") == {CHICAGO}  # Hammond, Lake County (Central)
    assert address_time_zones("IN", "46204") == {INDIANAPOLIS}  # downtown Indianapolis
    assert address_time_zones("in", "46204-2211") == {INDIANAPOLIS}  # ZIP+4, lower-case state
    assert resolve_address_zones("IN", "46320").source == "zip"


def test_state_without_zip_gives_every_zone_of_a_split_state():
    indiana = address_time_zones("IN", None)
    assert {CHICAGO, INDIANAPOLIS} <= indiana
    assert address_time_zones("FL", None) == {NEW_YORK, CHICAGO}
    assert address_time_zones("TX", None) == {CHICAGO, "America/Denver"}
    assert {ADAK, ANCHORAGE} <= address_time_zones("AK", None)
    assert address_time_zones("CA", None) == {LOS_ANGELES}
    for state in ("KY", "TN", "ND", "SD", "NE", "KS", "ID", "OR"):
        assert len(state_time_zones(state)) >= 2, state


def test_unknown_or_bad_zip_falls_back_to_state():
    assert address_time_zones("IN", "00000") == state_time_zones("IN")
    assert address_time_zones("IN", "not-a-zip") == state_time_zones("IN")
    assert resolve_address_zones("IN", "00000").notes == ("address_zip_unknown:00000",)


def test_zip_with_garbage_zone_in_data_falls_back_to_its_state():
    # 99634 (Napakiak, AK) has the non-zone "Napakiak" as its timezone in the zipcodes data.
    result = resolve_address_zones(None, "99634")
    assert result.source == "state"
    assert result.zones == state_time_zones("AK")
    assert "Napakiak" not in state_time_zones("AK")


def test_zip_state_mismatch_adds_the_stated_state():
    # A Chicago ZIP with a California state: inconsistent address, so both are plausible.
    result = resolve_address_zones("CA", "60601")
    assert result.zones == {CHICAGO, LOS_ANGELES}
    assert result.source == "zip+state"


def test_nothing_known_gives_no_address_zone():
    assert address_time_zones(None, None) == frozenset()
    assert address_time_zones("", "") == frozenset()
    assert resolve_address_zones("ZZ", None).notes == ("address_state_unknown:ZZ",)


@pytest.mark.parametrize(
    ("phone", "state", "zip_code", "expected"),
    [
        ("+19075550123", None, None, (ADAK, ANCHORAGE)),
        ("+13125550123", "CA", "90012", (CHICAGO, LOS_ANGELES)),
        ("+13125550123", "IL", "60601", (CHICAGO,)),
        # Split NXX in area code 850 (COMPLIANCE_RULES 3.2): Pensacola vs Tallahassee.
        ("+18502000123", None, None, (CHICAGO,)),
        ("+18502220123", None, None, (NEW_YORK,)),
        ("+18502220123", "FL", None, (CHICAGO, NEW_YORK)),
        ("+17875550123", "PR", "00901", ("America/Puerto_Rico",)),
        ("+16715550123", "GU", "96910", ("Pacific/Guam",)),
        ("+19282830123", None, None, ("America/Denver", "America/Phoenix")),  # Navajo Nation NXX
    ],
)
def test_candidate_zones(phone, state, zip_code, expected):
    address = Address(state=state, zip=zip_code) if state or zip_code else None
    assert resolve_jurisdiction(phone, address).zones == expected


@pytest.mark.parametrize("phone", ["+18005550123", "+18885550123", "+1312555012", "+15555550123"])
def test_unresolved_number_zone_is_none_even_with_an_address(phone):
    assert resolve_jurisdiction(phone, Address(state="IL", zip="60601")).zones is None


@pytest.mark.parametrize(
    ("phone", "address", "states"),
    [
        ("+13125550123", None, ("IL",)),  # "Chicago, IL"
        ("+18502000123", None, ("FL",)),  # "Florida"
        ("+12025550123", None, ("DC",)),  # "Washington D.C."
        ("+12065550123", None, ("WA",)),  # "Washington State"
        ("+13125550123", Address(state="TX"), ("IL", "TX")),  # CP-4: area code state and address state
        ("+13125550123", Address(zip="36602"), ("AL", "IL")),  # the ZIP's state counts too
        ("+17875550123", Address(state="PR"), ("PR",)),  # a territory: no area-code state
    ],
)
def test_applicable_states_are_area_code_state_and_address_state(phone, address, states):
    assert resolve_jurisdiction(phone, address).states == states


def test_zone_given_by_the_lead_is_a_candidate_too():
    j = resolve_jurisdiction("+13125550123", Address(tz="America/New_York"))
    assert j.zones == (CHICAGO, NEW_YORK) and j.address_source == "none+tz"


def test_county_comes_from_the_zip():
    assert resolve_jurisdiction("+12515550123", Address(zip="36602")).county == "Mobile County"
