"""Parsers for single cell values: email, state, ZIP, consent type, yes/no, instants, consent evidence.

Each returns the clean value; a value that cannot be used raises :class:`ValueProblem` with a
human reason. A value that is used but was changed on the way returns a note (a warning text).
"""

from __future__ import annotations

import ipaddress
import re
import warnings
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from dateutil import parser as dateparser
from email_validator import EmailNotValidError, validate_email

from compliance.states import state_code
from dialer.models import ConsentType


class ValueProblem(ValueError):
    """A cell value the importer cannot use; the message says why."""


CONSENT_TYPE_VALUES: dict[str, ConsentType] = {
    "pewc": ConsentType.PEWC,
    "written": ConsentType.PEWC,
    "express_written": ConsentType.PEWC,
    "prior_express_written": ConsentType.PEWC,
    "oral": ConsentType.ORAL,
    "verbal": ConsentType.ORAL,
    "ebr": ConsentType.EBR,
    "none": ConsentType.NONE,
    "no": ConsentType.NONE,
    "false": ConsentType.NONE,
    "": ConsentType.NONE,
}
_TRUE = frozenset({"yes", "true", "1", "y"})
_FALSE = frozenset({"no", "false", "0", "n", ""})

# US zone abbreviations CRMs print; anything else without an offset is taken as UTC (with a warning).
_TZ_ABBREVIATIONS = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
}
_TZINFOS = {name: timezone(timedelta(hours=hours)) for name, hours in _TZ_ABBREVIATIONS.items()}
_PROBE_DEFAULTS = (datetime(2001, 1, 1), datetime(2002, 2, 2))


# RFC 5322 dot-atom in ASCII: the local part email_validator accepts unchanged.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LOCAL_LIMIT = 64
_ADDRESS_LIMIT = 254


@lru_cache(maxsize=1 << 16)
def _domain(domain: str) -> str | None:
    """The normalised domain when ``a@<domain>`` is valid, else None (a lead list repeats domains)."""
    try:
        return validate_email("a@" + domain, check_deliverability=False).domain
    except EmailNotValidError:
        return None


def parse_email(text: str) -> str:
    """The normalised address (domain lowercased), checked for syntax only (no DNS).

    An ASCII dot-atom local part is checked here and the domain once per distinct domain; any
    other address (quoted, internationalised, invalid) goes through ``email_validator`` whole, so
    the result and the message are the library's.
    """
    local, at, domain = text.rpartition("@")
    if at and len(local) <= _LOCAL_LIMIT and domain.isascii() and _DOT_ATOM.fullmatch(local):
        normalized = _domain(domain)
        if normalized is not None and len(local) + 1 + len(normalized) <= _ADDRESS_LIMIT:
            return f"{local}@{normalized}"
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueProblem(f"not a valid email address: {exc}") from None


def parse_state(text: str) -> str:
    """A 2-letter US state or territory code from a code or a full name."""
    code = state_code(text)
    if code is None:
        raise ValueProblem("not a US state or territory (use a 2-letter code such as IL, or the full name)")
    return code


_ZIP = re.compile(r"(\d{5})(?:[-\s]?\d{4})?")
_ZIP_LOST_ZERO = re.compile(r"(\d{4})(?:-\d{4})?")


def parse_zip(text: str) -> tuple[str, str | None]:
    """The 5-digit ZIP from ZIP or ZIP+4, and a note when a lost leading zero was restored."""
    compact = text.strip()
    if match := _ZIP.fullmatch(compact):
        return match.group(1), None
    if match := _ZIP_LOST_ZERO.fullmatch(compact):
        restored = "0" + match.group(1)
        return restored, f"4-digit ZIP: restored the leading zero a spreadsheet dropped ({restored})"
    raise ValueProblem("not a US ZIP code (5 digits or ZIP+4)")


def _token(text: str) -> str:
    return re.sub(r"[\W_]+", "_", text.strip().casefold()).strip("_")


def parse_consent_type(text: str) -> ConsentType:
    """``pewc``/``written``/... -> pewc, ``oral``/``verbal`` -> oral, ``ebr``, ``none``/``no``/empty."""
    try:
        return CONSENT_TYPE_VALUES[_token(text)]
    except KeyError:
        allowed = ", ".join(v for v in CONSENT_TYPE_VALUES if v)
        raise ValueProblem(f"not a consent type; allowed values are {allowed} (or empty)") from None


def parse_yes_no(text: str) -> bool:
    """yes/no, true/false, 1/0, y/n in any case; empty is no."""
    token = text.strip().casefold()
    if token in _TRUE:
        return True
    if token in _FALSE:
        return False
    raise ValueProblem("not yes or no; allowed values are yes, no, true, false, 1, 0, y, n (or empty = no)")


_PLAIN_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)")


def parse_instant(text: str) -> tuple[datetime, str | None]:
    """An aware UTC instant, and a note when the value had no UTC offset (then it is taken as UTC).

    ISO-8601 is tried first; then common spellings (``10/02/2026 3:04 PM``: month first, as US
    CRMs write it). A value missing its year, month or day is refused rather than completed
    from today's date.
    """
    value: datetime | None = None
    if _PLAIN_ISO.fullmatch(text):
        try:  # the common spelling, read the same by both parsers (fromisoformat is 10x faster)
            value = datetime.fromisoformat(text)
        except ValueError:
            value = None
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC), None
    try:
        value = dateparser.isoparse(text)
    except (ValueError, OverflowError):
        value = _parse_loose(text)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC), "no UTC offset; taken as UTC"
    return value.astimezone(UTC), None


def _parse_loose(text: str) -> datetime:
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for default in _PROBE_DEFAULTS:
            try:
                results.append(dateparser.parse(text, default=default, tzinfos=_TZINFOS))
            except (ValueError, OverflowError):
                raise ValueProblem("not a date and time; use ISO-8601, e.g. 2026-10-02T15:04:00Z") from None
    first, second = results
    if first.date() != second.date():
        raise ValueProblem("incomplete date (year, month and day are needed); use ISO-8601")
    return first


_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def parse_sellers(text: str, *, limit: int) -> tuple[str, ...]:
    """Seller names separated by ``;`` (names may contain commas: ``Northwind Analytics, Inc.``).

    Blank entries are dropped and repeats (case-insensitive) kept once; a name longer than ``limit``
    characters is refused.
    """
    sellers: dict[str, str] = {}
    for part in text.split(";"):
        name = " ".join(part.split())
        if not name:
            continue
        if len(name) > limit:
            raise ValueProblem(f"seller {name[:40]!r}... is {len(name)} characters; the limit is {limit}")
        sellers.setdefault(name.casefold(), name)
    return tuple(sellers.values())


def parse_ip(text: str) -> str:
    """An IPv4 or IPv6 address in its compressed form (``ipaddress``)."""
    try:
        return ipaddress.ip_address(text.strip()).compressed
    except ValueError:
        raise ValueProblem("not an IP address (IPv4 such as 203.0.113.7, or IPv6)") from None


def parse_sha256(text: str) -> str:
    """A sha256 hex digest (64 hex characters), lowercased."""
    value = text.strip()
    if not _SHA256.fullmatch(value):
        raise ValueProblem(f"not a sha256 hex digest ({len(value)} characters; expected 64 hex characters)")
    return value.lower()


def parse_url(text: str, *, limit: int) -> str:
    """An ``http(s)://`` URL of at most ``limit`` characters."""
    value = text.strip()
    if not _URL.fullmatch(value):
        raise ValueProblem("not an http(s) URL (e.g. https://example.com/optin/a1f3)")
    if len(value) > limit:
        raise ValueProblem(f"{len(value)} characters; the limit is {limit}")
    return value
