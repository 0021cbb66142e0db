"""Where the called party may be: candidate time zones (CP-3) and applicable states (CP-4).

Candidate zones = the number's exchange-level zones (``phonenumbers``) ∪ the address's zone (its ZIP,
else every zone of its state) ∪ a zone the lead gave. Applicable states = the area code's state (the
``phonenumbers`` geocoder, which names the state or "City, ST") ∪ the address state ∪ the ZIP's state.
FL, OK, CT and SC presume an in-state area code means an in-state resident; CP-4 extends that to every
state. A call must pass every applicable state's rules in every candidate zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import geocoder

from compliance.facts import Address
from compliance.numbers import number_time_zones
from compliance.states import TERRITORIES, state_code
from compliance.zones import county_for_zip, resolve_address_zones, zip_state

MAX_NUMBER_ZONES = 4
"""More zones than this for one number is a country-level fan-out, not a location: ``TZ_UNRESOLVED``."""

_CITY_STATE = re.compile(r",\s*([A-Z]{2})$")


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """The resolved location facts of one call, for the decision and its trace.

    Attributes:
        zones: sorted candidate IANA zones, or None when unresolved (``TZ_UNRESOLVED``).
        number_zones: the number's own zones, or None when unresolved.
        address_zones: zones from the address (ZIP, state, or the zone the lead gave).
        address_source: ``zip``, ``zip+state``, ``state`` or ``none`` (see ``resolve_address_zones``).
        states: sorted applicable USPS codes (CP-4).
        area_code_state: the state of the number's area code, or None (territories, unknown).
        county: the address ZIP's county (``"Mobile County"``), or None when unknown.
        notes: what could not be used (``"address_zip_unknown:99999"``).
    """

    zones: tuple[str, ...] | None
    number_zones: tuple[str, ...] | None
    address_zones: tuple[str, ...]
    address_source: str
    states: tuple[str, ...]
    area_code_state: str | None
    county: str | None
    notes: tuple[str, ...]


@cache
def area_code_state(e164: str) -> str | None:
    """USPS code of the state the number's area code serves (``+13125550101`` -> ``"IL"``).

    Uses the ``phonenumbers`` geocoder ("Chicago, IL" or "Illinois"). None for territories (PR, GU,
    VI, AS, MP have no state rules), non-US numbers and anything the geocoder cannot place.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(number) != "US":
        return None
    description = geocoder.description_for_number(number, "en").strip()
    match = _CITY_STATE.search(description)
    if match:
        return match.group(1)
    code = state_code(description) if description else None
    return None if code in TERRITORIES else code


def resolve_jurisdiction(phone_e164: str, address: Address | None) -> Jurisdiction:
    """Candidate zones and applicable states for a call to ``phone_e164`` (CP-3, CP-4).

    Args:
        phone_e164: a valid E.164 number (validity is checked by the caller).
        address: the lead's address, or None.

    Returns:
        The jurisdiction; ``zones`` is None when the number's own zones are unresolved or fan out to
        more than ``MAX_NUMBER_ZONES`` zones (the address alone never resolves a number: it may be
        stale, and the number may be ported).
    """
    state = address.state if address else None
    zip_code = address.zip if address else None
    resolved = resolve_address_zones(state, zip_code)
    notes = list(resolved.notes)
    address_zones = set(resolved.zones)
    if address is not None and address.tz:
        address_zones.add(address.tz)
    number_zones = number_time_zones(phone_e164)
    if number_zones is not None and len(number_zones) > MAX_NUMBER_ZONES:
        notes.append(f"number_zone_fan_out:{len(number_zones)}")
        number_zones = None
    zones = None if number_zones is None else tuple(sorted(set(number_zones) | address_zones))
    npa_state = area_code_state(phone_e164)
    states = {s for s in (npa_state, state) if s}
    zip_code_state = zip_state(zip_code) if zip_code else None
    if zip_code_state:
        states.add(zip_code_state)
    return Jurisdiction(
        zones=zones,
        number_zones=number_zones,
        address_zones=tuple(sorted(address_zones)),
        address_source=resolved.source if not (address and address.tz) else f"{resolved.source}+tz",
        states=tuple(sorted(states)),
        area_code_state=npa_state,
        county=county_for_zip(zip_code) if zip_code else None,
        notes=tuple(notes),
    )
