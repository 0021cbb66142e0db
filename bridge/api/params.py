"""Request values the API and the console parse the same way: phone numbers, instants, free text."""

from __future__ import annotations

from datetime import datetime

from bridge.api.schemas import storable
from compliance import PhoneNumberError, normalize_phone
from dialer.errors import InvalidInputError


def phone_e164(value: str, where: str) -> str:
    """``value`` (any common format) as E.164, parsed by ``phonenumbers`` as the rest of the product does.

    Raises:
        InvalidInputError: not a valid number (422), naming ``where`` (the field) and why.
    """
    try:
        return normalize_phone(value).e164
    except PhoneNumberError as exc:
        raise InvalidInputError(f"{where} {value!r} is not a valid phone number: {exc}") from None


def aware(value: datetime | None, where: str) -> datetime | None:
    """``value`` unless it is naive.

    Raises:
        InvalidInputError: a time without a UTC offset (422), naming ``where``.
    """
    if value is not None and value.utcoffset() is None:
        raise InvalidInputError(f"{where} {value.isoformat()!r} needs a UTC offset (e.g. ...-06:00 or ...Z)")
    return value


def text_value(value: str, where: str) -> str:
    """``value`` stripped, if the database can store it (:func:`bridge.api.schemas.storable`).

    Raises:
        InvalidInputError: a NUL character or a lone surrogate (422), naming ``where``.
    """
    try:
        return storable(value, where).strip()
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
