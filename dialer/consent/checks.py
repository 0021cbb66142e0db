"""Checks every writer of the consent ledger shares: phone numbers, instants, stored source text. Pure.

Used by :mod:`dialer.consent.ledger` (revocations), :mod:`dialer.consent.records` (EBRs, outside contacts,
compliance flags) and :mod:`dialer.consent.imports` (their CSV imports).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from compliance import PhoneNumberError, normalize_phone
from dialer.errors import InvalidStateError

SOURCE_LIMIT = 300
"""Characters of a ``source`` the ledger tables keep (the audit event keeps all of it)."""

E164 = re.compile(r"\+[1-9]\d{1,14}")
"""An E.164 number: ``+`` and up to 15 digits, the first not 0."""


def to_e164(value: str) -> str:
    """``value`` (any common format) as E.164, or :class:`InvalidStateError`."""
    try:
        return normalize_phone(value).e164
    except PhoneNumberError as exc:
        raise InvalidStateError(f"{value!r} is not a valid phone number: {exc}") from None


def utc(value: datetime, what: str) -> datetime:
    """``value`` in UTC; :class:`ValueError` naming ``what`` when it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC)")
    return value.astimezone(UTC)


def not_after(value: datetime, now: datetime, what: str) -> datetime:
    """``value`` in UTC; :class:`InvalidStateError` when it is after ``now`` (both aware)."""
    when = utc(value, what)
    if when > utc(now, "now"):
        raise InvalidStateError(f"{what} {when.isoformat()} is after now ({now.astimezone(UTC).isoformat()})")
    return when


def clip(text: str, limit: int = SOURCE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, ending in ``…`` when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
