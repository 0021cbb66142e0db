"""Telephone numbers: parsing to E.164, US-destination checks, the number's candidate time zones.

Everything here is a pure function over ``phonenumbers`` data (python-phonenumbers; its NANP
time-zone table is NXX-level, see COMPLIANCE_RULES.md section 3.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType
from phonenumbers import timezone as pn_timezone

US_DESTINATION_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP"})
"""Regions the dialer may call: the US and its NANP territories (CP-11)."""

_UNKNOWN_ZONE = "Etc/Unknown"
_NON_GEOGRAPHIC_TYPES = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.UAN,
        PhoneNumberType.VOIP,
        PhoneNumberType.PAGER,
        PhoneNumberType.VOICEMAIL,
    }
)


class PhoneNumberError(ValueError):
    """A value that is not a dialable telephone number; the message says why."""


@dataclass(frozen=True)
class NormalizedPhone:
    """A parsed number.

    Attributes:
        e164: the number in E.164 (``+13125550101``); this is what is dialed.
        extension: digits after an extension marker (``x204``), kept apart and never dialed.
        region: ISO region of the number (``US``, ``PR``, ``CA``...).
    """

    e164: str
    extension: str | None
    region: str | None


def normalize_phone(raw: str, *, default_region: str = "US") -> NormalizedPhone:
    """Parse ``raw`` (any common format, with or without ``+1``, extension allowed) to E.164.

    Args:
        raw: the text of a phone cell, e.g. ``"1-955-371-0847 x371"`` or ``"(415) 293-3313"``.
        default_region: region assumed for numbers written without a country code.

    Raises:
        PhoneNumberError: the text is empty, unparseable, or not a valid number for its region
            (e.g. an unassigned or N11 area code).
    """
    text = raw.strip()
    if not text:
        raise PhoneNumberError("empty")
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        raise PhoneNumberError(f"not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(number):
        national = str(number.national_number)
        hint = f" (area code {national[:3]} is not valid)" if number.country_code == 1 else ""
        raise PhoneNumberError(f"not a valid number{hint}")
    return NormalizedPhone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        extension=number.extension or None,
        region=phonenumbers.region_code_for_number(number),
    )


def _valid(e164: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def destination_region(e164: str) -> str | None:
    """ISO region a valid E.164 number belongs to, or None when it is not a valid number."""
    number = _valid(e164)
    return None if number is None else phonenumbers.region_code_for_number(number)


def number_time_zones(e164: str) -> tuple[str, ...] | None:
    """IANA zones of the number's rate centre (NXX-level), or None when they cannot be resolved.

    Non-geographic numbers (toll-free, premium, VoIP...) and numbers ``phonenumbers`` maps to
    ``Etc/Unknown`` resolve to None: the gate must block them (``TZ_UNRESOLVED``, CP-3).
    """
    number = _valid(e164)
    if number is None:
        return None
    if phonenumbers.number_type(number) in _NON_GEOGRAPHIC_TYPES:
        return None
    if not phonenumbers.is_number_geographical(number):
        return None
    zones = tuple(sorted(pn_timezone.time_zones_for_number(number)))
    if not zones or _UNKNOWN_ZONE in zones:
        return None
    return zones
