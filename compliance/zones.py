"""Candidate time zones of a call: the number's zones plus the lead's address zones (CP-3).

The federal calling window is measured at the called party's location (47 CFR 64.1200(c)(1);
16 CFR 310.4(c)). That location is not known for certain, so the gate checks every plausible zone
("most restrictive", COMPLIANCE_RULES.md section 3): the zones ``phonenumbers`` gives for the number's
NXX and the zone(s) of the lead's address, from the ``zipcodes`` data (US ZIP codes with IANA zones).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import zipcodes

_ZIP_RE = re.compile(r"^(\d{5})(?:-?\d{4})?$")


@dataclass(frozen=True, slots=True)
class _ZipRow:
    state: str
    zone: str | None
    county: str | None


@dataclass(frozen=True, slots=True)
class _Tables:
    by_zip: Mapping[str, _ZipRow]
    by_state: Mapping[str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class AddressZones:
    """How the lead's address was turned into zones, for the decision's derived facts.

    Attributes:
        zones: IANA zone names for the address; empty when the address gives none.
        source: ``"zip"`` (the ZIP's own zone), ``"zip+state"`` (ZIP zone plus every zone of a different
            stated state), ``"state"`` (every zone seen for the state(s)) or ``"none"``.
        notes: what could not be used, e.g. ``"address_zip_unknown:99999"``.
    """

    zones: frozenset[str]
    source: str
    notes: tuple[str, ...] = ()


def _valid_zone(name: object) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


@cache
def _tables() -> _Tables:
    """ZIP -> (state, zone, county) and state -> every valid zone seen, built once from the zipcodes data.

    About 800 ZIPs have an empty zone and one has a non-zone value; they map to zone None and add
    nothing to their state's set.
    """
    by_zip: dict[str, _ZipRow] = {}
    by_state: dict[str, set[str]] = {}
    for row in zipcodes.list_all():
        state = str(row.get("state") or "").upper()
        zone = _valid_zone(row.get("timezone"))
        county = str(row.get("county") or "").strip() or None
        by_zip.setdefault(str(row["zip_code"]), _ZipRow(state=state, zone=zone, county=county))
        if state and zone:
            by_state.setdefault(state, set()).add(zone)
    return _Tables(
        by_zip=MappingProxyType(by_zip),
        by_state=MappingProxyType({s: frozenset(z) for s, z in by_state.items()}),
    )


def zip_state(zip_code: str) -> str | None:
    """USPS state code of a ZIP (``"36602"`` -> ``"AL"``), or None for an unknown or malformed ZIP."""
    match = _ZIP_RE.match(zip_code.strip())
    row = _tables().by_zip.get(match.group(1)) if match else None
    return row.state or None if row else None


def county_for_zip(zip_code: str | None) -> str | None:
    """County of a US ZIP code from the bundled ``zipcodes`` data (for county-only holidays).

    Args:
        zip_code: ``"36602"``, ``"36602-1234"`` or ``"366021234"``; surrounding spaces ignored.

    Returns:
        The ZIP's county as ``zipcodes`` names it (``"Mobile County"``, ``"Orleans Parish"``), or None
        for a malformed, unknown or county-less ZIP. A ZIP that spans counties yields only its primary
        county.
    """
    if not isinstance(zip_code, str):
        return None
    match = _ZIP_RE.match(zip_code.strip())
    row = _tables().by_zip.get(match.group(1)) if match else None
    return row.county if row else None


def state_time_zones(state: str) -> frozenset[str]:
    """Every IANA zone seen for a state in the zipcodes data (e.g. ``"IN"`` -> Chicago, Indianapolis...).

    Args:
        state: USPS state or territory code, any case (``"in"``, ``"PR"``).

    Returns:
        The zones; empty for an unknown code.
    """
    return _tables().by_state.get(state.strip().upper(), frozenset())


def resolve_address_zones(state: str | None, zip_code: str | None) -> AddressZones:
    """Zones of a lead's address, with how they were found (CP-3, most restrictive).

    Rules: a known ZIP with a valid zone gives that zone; if the stated state is known and differs from
    the ZIP's state, the address is inconsistent and every zone of the stated state is added too. A ZIP
    that is unknown, malformed or has no zone falls back to every zone seen for the state (the stated
    state and, when different, the ZIP's state): split states (IN, KY, TN, FL, TX, ND, SD, NE, KS, ID,
    OR, AK) give several zones. Nothing known gives no zones.

    Args:
        state: USPS code of the address state, or None.
        zip_code: ``"46320"``, ``"46320-1234"`` or ``"463201234"``, or None.

    Returns:
        The address zones, their source and notes on any part that could not be used.
    """
    tables = _tables()
    notes: list[str] = []
    st = state.strip().upper() if state and state.strip() else None
    if st is not None and st not in tables.by_state:
        notes.append(f"address_state_unknown:{st}")
        st = None
    row: _ZipRow | None = None
    if zip_code is not None and zip_code.strip():
        match = _ZIP_RE.match(zip_code.strip())
        if match is None:
            notes.append(f"address_zip_malformed:{zip_code.strip()}")
        else:
            row = tables.by_zip.get(match.group(1))
            if row is None:
                notes.append(f"address_zip_unknown:{match.group(1)}")
            elif row.zone is None:
                notes.append(f"address_zip_without_zone:{match.group(1)}")
    if row is not None and row.zone is not None:
        if st is not None and st != row.state:
            notes.append(f"address_zip_state_mismatch:{row.state}!={st}")
            return AddressZones(frozenset({row.zone}) | tables.by_state[st], "zip+state", tuple(notes))
        return AddressZones(frozenset({row.zone}), "zip", tuple(notes))
    states = {s for s in (st, row.state if row else None) if s and s in tables.by_state}
    if not states:
        return AddressZones(frozenset(), "none", tuple(notes))
    zones = frozenset().union(*(tables.by_state[s] for s in states))
    return AddressZones(zones, "state", tuple(notes))


def address_time_zones(state: str | None, zip_code: str | None) -> frozenset[str]:
    """IANA zones of a lead's address: the ZIP's zone, else every zone of the state; CP-3.

    See ``resolve_address_zones`` for the exact rules.

    Args:
        state: USPS code of the address state, or None.
        zip_code: the address ZIP (5 or 9 digits), or None.

    Returns:
        The zones; empty when neither the ZIP nor the state is known.
    """
    return resolve_address_zones(state, zip_code).zones
