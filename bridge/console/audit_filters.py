"""The audit log page's filter form: query parameters -> :class:`dialer.audit.AuditFilter`.

Pure (no session): every field is optional; a value that cannot be used is reported by name
(``lead: 'abc' is not an id``) and the page lists no events until it is fixed. Dates are the
HTML date input's ``YYYY-MM-DD``, read as UTC days, the ``to`` day included; a full ISO-8601
instant with an offset is taken as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from bridge.api.params import phone_e164, text_value
from bridge.api.schemas import MAX_ID
from dialer.audit import AuditFilter
from dialer.errors import InvalidInputError

FIELDS = ("phone", "lead_id", "campaign_id", "attempt_id", "kind", "since", "until")
"""The form's fields, as query parameters (the export links carry the same)."""


@dataclass(frozen=True)
class FilterForm:
    """The parsed form: the filter, the values as typed (to show again), and what was wrong.

    Attributes:
        matching: the filter (empty when ``errors``).
        values: field -> the text as typed (only fields that were given).
        errors: one message per unusable field.
        before_id: the keyset cursor (events with a smaller id), if any.
    """

    matching: AuditFilter
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    before_id: int | None = None

    def query(self, **extra: object) -> str:
        """The filter as a query string (for the export and paging links), plus ``extra``."""
        return urlencode({**self.values, **{k: v for k, v in extra.items() if v is not None}})


def _id(name: str, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise InvalidInputError(f"{name}: {text!r} is not an id (a whole number from 1)")
    return int(text)


def _instant(name: str, text: str, *, end: bool) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None:
        start = datetime.combine(day, time(), tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"{name}: {text!r} is not a date (YYYY-MM-DD) or an ISO-8601 time") from None
    if instant.utcoffset() is None:
        raise InvalidInputError(f"{name}: {text!r} needs a UTC offset (e.g. ...-06:00 or ...Z)")
    return instant


def parse_filters(params: Mapping[str, str]) -> FilterForm:
    """The filter of the audit log page's query parameters (see the module docstring)."""
    values = {name: params[name].strip() for name in FIELDS if params.get(name, "").strip()}
    errors: list[str] = []
    parsed: dict[str, object] = {}
    parsers = {
        "phone": lambda text: phone_e164(text, "phone"),
        "lead_id": lambda text: _id("lead", text),
        "campaign_id": lambda text: _id("campaign", text),
        "attempt_id": lambda text: _id("attempt", text),
        "kind": lambda text: text_value(text[:64], "event type"),
        "since": lambda text: _instant("from", text, end=False),
        "until": lambda text: _instant("to", text, end=True),
    }
    for name, text in values.items():
        try:
            parsed[name] = parsers[name](text)
        except InvalidInputError as exc:
            errors.append(str(exc))
    before_id = None
    if params.get("before_id"):
        try:
            before_id = _id("before_id", params["before_id"])
        except InvalidInputError as exc:
            errors.append(str(exc))
    if errors:
        return FilterForm(AuditFilter(), values, errors)
    phone = parsed.pop("phone", None)
    matching = AuditFilter(phone_e164=phone, **parsed)  # type: ignore[arg-type]
    return FilterForm(matching, values, before_id=before_id)
