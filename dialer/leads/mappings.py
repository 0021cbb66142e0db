"""Column mapping overrides as an operator writes them: ``COLUMN=FIELD`` (``--map`` or the API's ``map``)."""

from __future__ import annotations

from collections.abc import Iterable

from dialer.errors import InvalidInputError


def parse_mappings(values: Iterable[str], *, option: str = "--map") -> dict[str, str]:
    """``["Cell=mobile", "Notes=ignore"]`` -> ``{"Cell": "mobile", "Notes": "ignore"}``.

    Raises:
        InvalidInputError: a value without ``=`` or with an empty side; the message names ``option``.
    """
    mappings: dict[str, str] = {}
    for value in values:
        column, sep, field = value.partition("=")
        if not sep or not column or not field:
            raise InvalidInputError(f"{option} {value!r}: expected COLUMN=FIELD, e.g. {option} 'Cell'=mobile")
        mappings[column] = field
    return mappings
