"""One data row -> a LeadDraft (with warnings) or a RejectedRow. Pure; rules in :mod:`dialer.leads.parser`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from compliance.numbers import (
    US_DESTINATION_REGIONS,
    NormalizedPhone,
    PhoneNumberError,
    keypad_digits,
    letters_reason,
    normalize_phone,
    number_time_zones,
    phone_letters,
)
from dialer.leads._values import (
    ValueProblem,
    parse_consent_type,
    parse_email,
    parse_instant,
    parse_ip,
    parse_sellers,
    parse_sha256,
    parse_state,
    parse_url,
    parse_yes_no,
    parse_zip,
)
from dialer.leads.columns import CONSENT_FIELDS, Column, ColumnMapping
from dialer.leads.schemas import ConsentDraft, LeadDraft, RejectedRow, RowWarning
from dialer.models import ConsentMethod, ConsentType

LENGTH_LIMITS: dict[str, int] = {
    "first_name": 200,
    "last_name": 200,
    "email": 320,
    "company": 300,
    "title": 300,
    "consent_seller": 200,
    "consent_url": 2000,
    "phone_raw": 64,
    "phone_extension": 20,
}
"""Column sizes of the tables the values go into; a longer value rejects the row."""

_T = TypeVar("_T")


class _Reject(Exception):
    def __init__(self, column: str | None, value: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.value = value
        self.reason = reason


class _Row:
    """Working state for one row."""

    def __init__(self, cells: Sequence[str], row: int, mapping: ColumnMapping) -> None:
        self.row = row
        self.mapping = mapping
        self.values = [cells[i].strip() if i < len(cells) else "" for i in range(len(mapping.columns))]
        self.warnings: list[RowWarning] = []

    def value(self, column: Column) -> str:
        return self.values[column.index]

    def warn(self, column: Column, value: str, reason: str) -> None:
        self.warnings.append(RowWarning(self.row, column.header, value, reason))

    def text(self, field: str, limit_name: str | None = None) -> tuple[Column | None, str | None]:
        """The trimmed value of a single-valued field (None when empty or absent), length-checked."""
        column = self.mapping.column_for(field)
        if column is None:
            return None, None
        value = self.value(column)
        _check_length(column, value, limit_name or field)
        return column, value or None


def _check_length(column: Column, value: str, limit_name: str) -> None:
    limit = LENGTH_LIMITS.get(limit_name)
    if limit is not None and len(value) > limit:
        raise _Reject(column.header, value, f"{len(value)} characters; the limit is {limit}")


def parse_row(
    cells: Sequence[str],
    *,
    row: int,
    last_line: int,
    mapping: ColumnMapping,
    default_region: str,
    delimiter: str,
    allow_vanity: bool = False,
) -> tuple[LeadDraft | RejectedRow, list[RowWarning]]:
    """Turn one record into a lead draft and its warnings, or a rejection (then no warnings).

    Args:
        cells: the record's cells as read.
        row: physical line where the record starts.
        last_line: physical line where it ends (a quoted cell may span lines).
        mapping: the file's column mapping.
        default_region: region assumed for numbers written without a country code.
        delimiter: the file's delimiter (to show surplus cells as written).
        allow_vanity: accept a number written with letters (``+1 312 555 ABCD``) as its keypad
            digits, with a warning; otherwise such a cell is not a valid number.
    """
    columns = len(mapping.columns)
    if len(cells) > columns:
        extra = cells[columns:]
        reason = (
            f"{len(extra)} more cell{'s' if len(extra) > 1 else ''} than the header has columns ({columns})"
        )
        if last_line > row:
            reason += f"; the row spans lines {row}-{last_line}: check for an unclosed quote"
        return RejectedRow(row, None, delimiter.join(extra), reason), []
    state = _Row(cells, row, mapping)
    try:
        draft = _build(state, default_region, allow_vanity)
    except _Reject as reject:
        return RejectedRow(row, reject.column, reject.value, reject.reason), []
    return draft, state.warnings


def _build(row: _Row, default_region: str, allow_vanity: bool) -> LeadDraft:
    fields: dict[str, Any] = {}
    phone_column, phone_raw, phone = _phones(row, default_region, fields, allow_vanity)
    first_name, last_name = _names(row, fields)
    email = _emails(row, fields)
    _, company = row.text("company")
    _, title = row.text("title")
    state = _state(row)
    zip_code = _zip(row)
    consents = _consents(row, phone.e164)
    for column in row.mapping.extra_columns:
        if value := row.value(column):
            fields[column.key] = value
    if row.warnings:
        fields["import_warnings"] = [
            {"column": w.column, "value": w.value, "reason": w.reason} for w in row.warnings
        ]
    return LeadDraft(
        row=row.row,
        phone_e164=phone.e164,
        phone_extension=phone.extension,
        phone_raw=phone_raw,
        phone_column=phone_column.header,
        region=phone.region,
        first_name=first_name,
        last_name=last_name,
        email=email,
        company=company,
        title=title,
        state=state,
        zip=zip_code,
        fields=fields,
        consents=consents,
    )


def _undialable(number: NormalizedPhone) -> str | None:
    """Why the gate can never dial ``number`` (CP-11 destination, CP-3 time zone), or None."""
    if number.region not in US_DESTINATION_REGIONS:
        return f"the number is in region {number.region or 'unknown'}, outside the US and its territories"
    if number_time_zones(number.e164) is None:
        return "toll-free or non-geographic number, whose time zone cannot be resolved"
    return None


def _phones(
    row: _Row, default_region: str, fields: dict[str, Any], allow_vanity: bool
) -> tuple[Column, str, NormalizedPhone]:
    """Pick the lead's number; keep the row's other valid numbers as alternates.

    The first valid number in dial priority that the gate can dial wins; when none can be
    dialed, the first valid number does (with a warning saying the gate will not dial it).
    """
    valid: list[tuple[Column, str, NormalizedPhone, str | None]] = []
    invalid: list[tuple[Column, str, str]] = []
    for column in row.mapping.phone_columns:
        value = row.value(column)
        if not value:
            continue
        letters = phone_letters(value)
        if letters and not allow_vanity:
            invalid.append((column, value, letters_reason(letters)))
            continue
        try:
            number = normalize_phone(
                keypad_digits(value) if letters else value, default_region=default_region
            )
        except PhoneNumberError as exc:
            invalid.append((column, value, str(exc)))
            continue
        if letters:
            row.warn(
                column,
                value,
                f"vanity number: the letters '{letters}' are dialed as keypad digits ({number.e164})",
            )
        valid.append((column, value, number, _undialable(number)))
    if not valid:
        if invalid:
            column, value, reason = invalid[0]
            raise _Reject(column.header, value, reason)
        raise _Reject(row.mapping.phone_columns[0].header, "", "no phone number")
    chosen = next((i for i, v in enumerate(valid) if v[3] is None), 0)
    column, raw, number, problem = valid[chosen]
    _check_length(column, raw, "phone_raw")
    if number.extension:
        _check_length(column, number.extension, "phone_extension")
    for bad_column, value, reason in invalid:
        row.warn(bad_column, value, reason)
    if problem is not None:
        row.warn(column, raw, f"{problem}: the gate will not dial it")
    alternates: dict[str, str | None] = {}
    for i, (other_column, value, other, other_problem) in enumerate(valid):
        if i < chosen:  # skipped because the gate could never dial it
            row.warn(
                other_column,
                value,
                f"{other_problem}: kept as an alternate; {column.header} is dialed instead",
            )
        if other.e164 != number.e164 and other.e164 not in alternates:
            alternates[other.e164] = other.extension
    if alternates:
        fields["alt_phones"] = list(alternates)
        extensions = {e164: ext for e164, ext in alternates.items() if ext}
        if extensions:
            fields["alt_phone_extensions"] = extensions
    return column, raw, number


def _names(row: _Row, fields: dict[str, Any]) -> tuple[str | None, str | None]:
    _, first = row.text("first_name")
    _, last = row.text("last_name")
    column = row.mapping.column_for("full_name")
    full = row.value(column) if column is not None else ""
    if column is None or not full:
        return first, last
    if first or last:
        fields[column.key] = full  # not needed for the name: kept so nothing is lost
        return first, last
    parts = full.split(None, 1)
    for part in parts:
        _check_length(column, part, "first_name")
    return parts[0], (parts[1] if len(parts) > 1 else None)


def _emails(row: _Row, fields: dict[str, Any]) -> str | None:
    email: str | None = None
    others: list[str] = []
    for column in row.mapping.email_columns:
        value = row.value(column)
        if not value:
            continue
        _check_length(column, value, "email")
        try:
            address = parse_email(value)
        except ValueProblem as problem:
            row.warn(column, value, str(problem))
            continue
        if email is None:
            email = address
        elif address.casefold() != email.casefold() and address.casefold() not in {
            o.casefold() for o in others
        }:
            others.append(address)
    if others:
        fields["alt_emails"] = others
    return email


def _state(row: _Row) -> str | None:
    column, value = row.text("state")
    if column is None or value is None:
        return None
    try:
        return parse_state(value)
    except ValueProblem as problem:
        row.warn(column, value, str(problem))
        return None


def _zip(row: _Row) -> str | None:
    column, value = row.text("zip")
    if column is None or value is None:
        return None
    try:
        zip_code, note = parse_zip(value)
    except ValueProblem as problem:
        row.warn(column, value, str(problem))
        return None
    if note:
        row.warn(column, value, note)
    return zip_code


def _instant(row: _Row, field: str) -> datetime | None:
    column, value = row.text(field)
    if column is None or value is None:
        return None
    try:
        instant, note = parse_instant(value)
    except ValueProblem as problem:
        raise _Reject(column.header, value, str(problem)) from None
    if note:
        row.warn(column, value, note)
    return instant


def _consents(row: _Row, phone_e164: str) -> tuple[ConsentDraft, ...]:
    type_column = row.mapping.column_for("consent_type")
    if type_column is None:
        return ()
    raw_type = row.value(type_column)
    try:
        consent_type = parse_consent_type(raw_type)
    except ValueProblem as problem:
        raise _Reject(type_column.header, raw_type, str(problem)) from None
    if consent_type is ConsentType.NONE:
        for field in CONSENT_FIELDS[1:]:
            column = row.mapping.column_for(field)
            if column is not None and (value := row.value(column)):
                row.warn(column, value, f"not recorded: consent_type is {raw_type or 'empty'!r}")
        return ()
    signed_at = _instant(row, "consent_at")
    revoked_at = _instant(row, "consent_revoked_at")
    _, seller = row.text("consent_seller")
    voice_column, voice = row.text("consent_artificial_voice")
    try:
        covers_voice = parse_yes_no(voice or "")
    except ValueProblem as problem:
        assert voice_column is not None
        raise _Reject(voice_column.header, voice or "", str(problem)) from None
    _, evidence = row.text("consent_evidence")
    _, evidence_text = row.text("consent_text")
    return (
        ConsentDraft(
            consent_type=consent_type,
            method=ConsentMethod.CSV_COLUMNS,
            phone_e164=phone_e164,
            seller_name=seller,
            covers_artificial_voice=covers_voice,
            signed_at=signed_at,
            revoked_at=revoked_at,
            evidence=evidence or "",
            other_sellers=_checked(row, "consent_sellers", lambda v: parse_sellers(v, limit=200)) or (),
            evidence_text=evidence_text,
            evidence_url=_checked(row, "consent_url", lambda v: parse_url(v, limit=2000)),
            evidence_ip=_checked(row, "consent_ip", parse_ip),
            evidence_form_sha256=_checked(row, "consent_form_sha256", parse_sha256),
        ),
    )


def _checked(row: _Row, field: str, parse: Callable[[str], _T]) -> _T | None:
    """The parsed value of a consent evidence cell, None when empty; a bad value rejects the row."""
    column, value = row.text(field)
    if column is None or value is None:
        return None
    try:
        return parse(value)
    except ValueProblem as problem:
        raise _Reject(column.header, value, str(problem)) from None
