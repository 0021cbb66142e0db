"""Telephone numbers: parsing to E.164, US-destination checks, the number's candidate time zones.

Everything here is a pure function over ``phonenumbers`` data (python-phonenumbers; its NANP
time-zone table is NXX-level, see COMPLIANCE_RULES.md section 3.2).

Speed: a lead import normalises a million numbers, and ``phonenumbers`` spends about 100 us on
each (regex alternations per region). For a plain NANP number (``(312) 555-0101``, ``+1 312 555
0101``) :func:`normalize_phone` and :func:`number_time_zones` answer from a memo keyed by the first
digits of the national number. The memo is exact, not a heuristic: every number pattern of every
NANP region ends in at least 3 unconstrained digits (checked from the
metadata's regexes when first needed, see :func:`_nanp_key_rules`), the region prefixes are 3-4
digits and the time-zone table's prefixes at most 6 national digits, so every answer is a
function of the first 6 (Barbados, Jamaica: 7) national digits; a number whose prefix is not
valid falls back to the full parse
(for its exact error message).
"""

from __future__ import annotations

import re
import re._constants as _sre_constants  # the regex syntax tree, to prove the memo exact
import re._parser as _sre_parser
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA

from compliance.errors import ComplianceError

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


class PhoneNumberError(ComplianceError):
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
    fast = _nanp_fast(text, default_region)
    if fast is not None:
        return fast
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
    if _NANP_E164.fullmatch(e164):
        facts = _nanp_facts(e164[2:9])
        if facts is not None:
            return facts.zones if facts.valid else None
    number = _valid(e164)
    return None if number is None else _zones_of(number)


def _zones_of(number: phonenumbers.PhoneNumber) -> tuple[str, ...] | None:
    if phonenumbers.number_type(number) in _NON_GEOGRAPHIC_TYPES:
        return None
    if not phonenumbers.is_number_geographical(number):
        return None
    zones = tuple(sorted(pn_timezone.time_zones_for_number(number)))
    if not zones or _UNKNOWN_ZONE in zones:
        return None
    return zones


# ---------------------------------------------------------------------------- letters


_EXTENSION_TAIL = re.compile(
    r"\s*[,;]?\s*(?:ext(?:ension|n)?\s*[.:=]?|x\.?|#)\s*\d{1,20}\s*#?\s*$", re.IGNORECASE
)
_TEL_PREFIX = re.compile(r"^\s*tel:", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
LOOKALIKE_DIGITS: dict[str, str] = {"O": "0", "o": "0", "I": "1", "l": "1"}
"""Letters typed for the digit they look like (``312-555-01O1``)."""


def phone_letters(raw: str) -> str:
    """The letters in a phone cell's number, in order ('' when there are none).

    An extension marker (``x204``, ``ext. 204``, ``extension 204``) and a leading ``tel:`` are
    not part of the number. ``phonenumbers`` would read the letters as keypad digits (``+1 312
    555 ABCD`` -> ``+13125552223``) or drop them, silently dialing some other number.
    """
    text = _EXTENSION_TAIL.sub("", _TEL_PREFIX.sub("", raw))
    return "".join(_LETTER.findall(text))


def letters_reason(letters: str) -> str:
    """Why a number written with ``letters`` (:func:`phone_letters`) is not dialed, in words."""
    distinct = "".join(dict.fromkeys(letters))
    if all(c in LOOKALIKE_DIGITS for c in distinct):
        named = ", ".join(f"'{c}'" for c in distinct)
        meant = ", ".join(f"{LOOKALIKE_DIGITS[c]} for '{c}'" for c in distinct)
        plural = "s" if len(distinct) > 1 else ""
        return f"the number contains the letter{plural} {named} where a digit is expected (a typo: {meant}?)"
    return (
        f"the number is written with letters ('{letters}'): a vanity number, which would be dialed as "
        "its keypad digits; write the digits, or allow vanity numbers explicitly"
    )


def keypad_digits(raw: str) -> str:
    """``raw`` with each letter replaced by its telephone keypad digit (``ABC`` -> ``222``)."""
    return phonenumbers.convert_alpha_characters_in_number(raw)


# ---------------------------------------------------------------------------- the exact NANP memo

_NANP_TEXT = re.compile(r"(\+1[ .-]?|1[ .-]?)?(?:\(([2-9]\d\d)\)|([2-9]\d\d))[ .-]?(\d{3})[ .-]?(\d{4})")
_NANP_E164 = re.compile(r"\+1[2-9]\d{9}")
_DESCRIPTORS = (
    "general_desc",
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)
_MEMO_LIMIT = 1 << 18


def _is_any_digit(op: object, av: object) -> bool:
    return op is _sre_constants.IN and list(av) == [(_sre_constants.CATEGORY, _sre_constants.CATEGORY_DIGIT)]  # type: ignore[call-overload]


def _free_suffix(items: object) -> int:
    """How many trailing positions of every match of the regex items are an unconstrained digit class.

    For a full match of a string of digits, the answer then depends only on the characters
    before those positions.
    """
    free = 0
    for op, av in reversed(list(items)):  # type: ignore[call-overload]
        if _is_any_digit(op, av):
            free += 1
            continue
        if op in (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT):
            low, high, sub = av
            body = list(sub)
            if len(body) == 1 and _is_any_digit(*body[0]):
                free += low
                if low == high:
                    continue
            return free
        if op is _sre_constants.SUBPATTERN:
            return free + _free_suffix(av[-1])
        if op is _sre_constants.BRANCH:
            return free + min(_free_suffix(branch) for branch in av[1])
        return free
    return free


@lru_cache(maxsize=1)
def _nanp_key_rules() -> tuple[int, tuple[tuple[re.Pattern[str], int], ...]] | None:
    """How many leading national digits decide a NANP number's validity, region, type and zones.

    ``phonenumbers`` tries the regions without leading digits (US, CA) by their patterns on every
    number, and a region with leading digits (``246`` Barbados) only on numbers that start with
    them. So the key is ``10 - free`` digits, where ``free`` is the smallest unconstrained suffix
    of the always-tried patterns (:func:`_free_suffix`), or of a prefixed region's own patterns
    when the number starts with its leading digits. None when the metadata would not allow it
    (then there is no memo): leading digits or time-zone prefixes longer than the key.

    Returns:
        ``(free digits of the always-tried regions, ((leading digits, free digits), ...))``.
    """
    base = 10
    prefixed: list[tuple[re.Pattern[str], int]] = []
    widest = 0
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            return None
        free = min(
            (
                _free_suffix(_sre_parser.parse(desc.national_number_pattern))
                for desc in (getattr(metadata, name) for name in _DESCRIPTORS)
                if desc is not None and desc.national_number_pattern
            ),
            default=10,
        )
        if metadata.leading_digits:
            widest = max(widest, _sre_parser.parse(metadata.leading_digits).getwidth()[1])
            prefixed.append((re.compile(metadata.leading_digits), free))
        else:
            base = min(base, free)
    zone_prefix = max((len(k) - 1 for k in TIMEZONE_DATA if k.startswith("1")), default=10)
    narrowest = min([base, *(free for _, free in prefixed)])
    if narrowest <= 0 or widest > 10 - base or zone_prefix > 10 - narrowest:
        return None
    return base, tuple((pattern, free) for pattern, free in prefixed if free < base)


def _nanp_key(national: str) -> str | None:
    rules = _nanp_key_rules()
    if rules is None:
        return None
    free, narrower = rules
    for pattern, region_free in narrower:
        if region_free < free and pattern.match(national):
            free = region_free
    return national[: 10 - free]


@dataclass(frozen=True, slots=True)
class _Facts:
    valid: bool
    region: str | None
    zones: tuple[str, ...] | None


_memo: dict[str, _Facts] = {}


def _nanp_facts(national: str) -> _Facts | None:
    """Validity, region and zones shared by every NANP number starting with ``national``'s key digits."""
    key = _nanp_key(national)
    if key is None:
        return None
    facts = _memo.get(key)
    if facts is None:
        probe = phonenumbers.PhoneNumber(country_code=1, national_number=int(key + "0" * (10 - len(key))))
        kind = phonenumbers.number_type(probe)  # UNKNOWN exactly when is_valid_number is False
        zones: tuple[str, ...] | None = None
        if kind not in _NON_GEOGRAPHIC_TYPES and phonenumbers.is_number_type_geographical(kind, 1):
            found = tuple(sorted(pn_timezone.time_zones_for_geographical_number(probe)))
            zones = found if found and _UNKNOWN_ZONE not in found else None
        valid = kind != PhoneNumberType.UNKNOWN
        facts = _Facts(
            valid=valid, region=phonenumbers.region_code_for_number(probe) if valid else None, zones=zones
        )
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        _memo[key] = facts
    return facts


def _nanp_fast(text: str, default_region: str) -> NormalizedPhone | None:
    """A plain NANP number (no extension, no letters) from the memo; None: take the full parse."""
    match = _NANP_TEXT.fullmatch(text)
    if match is None:
        return None
    prefix, area_in_parens, area, exchange, line = match.groups()
    if not (prefix or "").startswith("+") and default_region != "US":
        return None
    national = (area_in_parens or area) + exchange + line
    facts = _nanp_facts(national)
    if facts is None or not facts.valid:
        return None
    return NormalizedPhone(e164="+1" + national, extension=None, region=facts.region)
