"""Which column of a lead file holds what: header auto-detection and ``--map`` overrides.

Each header is normalised (casefolded, trimmed, every run of non-alphanumerics turned into one
``_``, leading and trailing ``_`` dropped: ``"Phone #"`` -> ``phone``, ``"E-mail"`` -> ``e_mail``)
and looked up in :data:`FIELD_ALIASES`. The result, a :class:`ColumnMapping`, says for every column
whether it feeds a canonical field, is kept in the lead's ``fields`` under its normalised name
(so a script can say ``{industry}``), or is ignored.

Choices where the brief is silent:

- ``--map`` wins over detection. A column explicitly mapped to a single-valued field displaces
  the column detection had picked for it; the displaced column is kept in ``fields`` and a note
  says so. Two columns explicitly mapped to the same single-valued field are an error.
- Two columns detected as the same single-valued field (atomic CRM exports both ``company`` and
  ``company_name``) are not an error: the one whose header comes first in the alias list wins
  (the canonical name itself first), the other is kept in ``fields``, and a note says so.
- Phone and email fields take any number of columns. Phone columns are tried in dial priority
  (:data:`PHONE_FIELDS`, then alias order, then file order); email columns in alias order.
- A header left empty is named ``column_<n>`` (1-based position).
- Two headers that are the same once normalised (``First Name`` and ``first_name``) are an
  error unless all but one are mapped to ``ignore``: their values would collide in ``fields``.
- A header whose normalised name is one the importer writes itself (:data:`RESERVED_FIELD_KEYS`)
  is an error unless it is mapped.
- Consent columns without a ``consent_type`` column are an error: the importer never guesses a
  consent type, and silently dropping a consent or opt-out date would lose it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from dialer.errors import ImportFileError

PHONE_FIELDS: tuple[str, ...] = ("phone", "mobile", "phone_work", "phone_home", "phone_other")
"""Phone fields in dial priority order: the first valid number found in this order is dialed."""

CONSENT_FIELDS: tuple[str, ...] = (
    "consent_type",
    "consent_at",
    "consent_seller",
    "consent_artificial_voice",
    "consent_evidence",
    "consent_revoked_at",
    "consent_sellers",
    "consent_text",
    "consent_url",
    "consent_ip",
    "consent_form_sha256",
)
"""Consent columns; ``consent_type`` first (the others need it)."""

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "phone_number", "telephone", "tel", "primary_phone", "contact_phone"),
    "mobile": ("mobile", "mobile_phone", "cell", "cell_phone", "cellphone"),
    "phone_work": ("phone_work", "work_phone", "business_phone", "office_phone"),
    "phone_home": ("phone_home", "home_phone"),
    "phone_other": ("phone_other", "other_phone", "alt_phone", "phone_2"),
    "first_name": ("first_name", "firstname", "first", "given_name"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name"),
    "full_name": ("name", "full_name", "contact_name"),
    "email": (
        "email",
        "email_address",
        "e_mail",
        "email_work",
        "work_email",
        "email_home",
        "email_other",
    ),
    "company": (
        "company",
        "company_name",
        "organization",
        "organisation",
        "account",
        "account_name",
        "employer",
    ),
    "title": ("title", "job_title", "position", "role"),
    "state": ("state", "state_code", "province", "region"),
    "zip": ("zip", "zip_code", "zipcode", "postal_code", "postcode"),
    "consent_type": ("consent_type", "consent", "consent_status", "tcpa_consent"),
    "consent_at": ("consent_at", "consent_date", "consent_timestamp", "opt_in_date", "opted_in_at"),
    "consent_seller": ("consent_seller", "consent_brand"),
    "consent_artificial_voice": ("consent_artificial_voice", "consent_ai_voice", "ai_voice_consent"),
    "consent_evidence": ("consent_evidence", "consent_source", "consent_proof"),
    "consent_revoked_at": ("consent_revoked_at", "revoked_at", "opt_out_date"),
    "consent_sellers": ("consent_sellers", "consent_other_sellers", "other_sellers"),
    "consent_text": ("consent_text", "consent_language", "consent_disclosure"),
    "consent_url": ("consent_url", "consent_page_url", "opt_in_url"),
    "consent_ip": ("consent_ip", "consent_ip_address", "opt_in_ip"),
    "consent_form_sha256": ("consent_form_sha256", "consent_sha256", "consent_form_hash"),
}
"""Canonical field -> normalised header names that mean it, most specific first."""

CANONICAL_FIELDS: tuple[str, ...] = tuple(FIELD_ALIASES)
IGNORE = "ignore"
LIST_FIELDS = frozenset({*PHONE_FIELDS, "email"})
"""Fields that take several columns (every phone field, email)."""

RESERVED_FIELD_KEYS = frozenset({"alt_phones", "alt_phone_extensions", "alt_emails", "import_warnings"})
"""Keys of ``Lead.fields`` that the importer fills itself."""

_ALIAS_INDEX: dict[str, tuple[str, int]] = {
    alias: (field, rank) for field, aliases in FIELD_ALIASES.items() for rank, alias in enumerate(aliases)
}


def normalize_header(header: str) -> str:
    """``"  Phone Number #"`` -> ``"phone_number"`` (casefold, non-alphanumerics to ``_``)."""
    return re.sub(r"[\W_]+", "_", header.strip().casefold()).strip("_")


@dataclass(frozen=True)
class Column:
    """One column of the file and where its values go.

    Attributes:
        index: 0-based position in the row.
        header: the header as written (trimmed).
        key: the normalised header (``column_<n>`` when the header is empty); the ``fields`` key.
        field: the canonical field it feeds, or None when its values are kept in ``fields``.
        ignored: mapped to ``ignore``: its values are not imported.
        explicit: the mapping came from ``--map``.
        rank: alias rank within ``field`` (-1 for an explicit mapping); orders list fields.
    """

    index: int
    header: str
    key: str
    field: str | None
    ignored: bool = False
    explicit: bool = False
    rank: int = 0

    @property
    def target(self) -> str:
        """Where the values go, as the CLI prints it: a field, ``fields.<key>`` or ``ignore``."""
        if self.ignored:
            return IGNORE
        return self.field if self.field is not None else f"fields.{self.key}"


@dataclass(frozen=True)
class ColumnMapping:
    """The resolved mapping of a file's columns.

    Attributes:
        columns: one entry per header, in file order.
        notes: decisions worth telling the user (a column displaced by another, and why).
    """

    columns: tuple[Column, ...]
    notes: tuple[str, ...] = ()

    @property
    def headers(self) -> tuple[str, ...]:
        """The headers as written, in file order."""
        return tuple(c.header for c in self.columns)

    @cached_property
    def phone_columns(self) -> tuple[Column, ...]:
        """Phone columns in dial priority order."""
        phones = [c for c in self.columns if c.field in PHONE_FIELDS]
        return tuple(sorted(phones, key=lambda c: (PHONE_FIELDS.index(c.field or ""), c.rank, c.index)))

    @cached_property
    def email_columns(self) -> tuple[Column, ...]:
        """Email columns in the order their values are tried."""
        return tuple(sorted((c for c in self.columns if c.field == "email"), key=lambda c: (c.rank, c.index)))

    @cached_property
    def extra_columns(self) -> tuple[Column, ...]:
        """Columns whose values are kept in ``fields``."""
        return tuple(c for c in self.columns if c.field is None and not c.ignored)

    @cached_property
    def _by_field(self) -> dict[str, Column]:
        found: dict[str, Column] = {}
        for column in self.columns:
            if column.field is not None:
                found.setdefault(column.field, column)
        return found

    def column_for(self, field: str) -> Column | None:
        """The column feeding a single-valued ``field``, if any."""
        return self._by_field.get(field)

    def as_dict(self) -> dict[str, str]:
        """``{header: target}`` in file order (what the CLI prints as ``column -> field``).

        An empty header is shown as ``(column <n>)``.
        """
        return {(c.header or f"(column {c.index + 1})"): c.target for c in self.columns}


def _keys(headers: Sequence[str]) -> list[str]:
    return [normalize_header(h) or f"column_{i + 1}" for i, h in enumerate(headers)]


def _check_duplicates(headers: Sequence[str], path: str, header_row: int) -> None:
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    for header in headers:
        if header and header in seen and header not in duplicates:
            duplicates.append(header)
        seen[header] = seen.get(header, 0) + 1
    if duplicates:
        names = ", ".join(f"{h!r} ({seen[h]} times)" for h in duplicates)
        raise ImportFileError(
            f"duplicate column names: {names}; rename them so each column has its own name",
            path=path,
            row=header_row,
        )


def _explicit(headers: Sequence[str], mappings: Mapping[str, str], path: str) -> dict[int, str]:
    """Resolve ``--map`` entries to ``{column index: field or ignore}``."""
    resolved: dict[int, str] = {}
    stripped = {h.strip(): i for i, h in enumerate(headers)}
    exact = {h: i for i, h in enumerate(headers)}
    valid = ", ".join((*CANONICAL_FIELDS, IGNORE))
    for column, field in mappings.items():
        index = exact.get(column, stripped.get(column.strip()))
        if index is None:
            listed = ", ".join(repr(h) for h in headers)
            raise ImportFileError(
                f"--map names a column that is not in the file; the headers are: {listed}",
                path=path,
                column=column,
            )
        name = field.strip().casefold()
        if name != IGNORE and name not in FIELD_ALIASES:
            raise ImportFileError(
                f"--map {column}={field}: {field!r} is not a field; valid fields are: {valid}",
                path=path,
                column=column,
            )
        resolved[index] = name
    by_field: dict[str, list[str]] = {}
    for index, name in resolved.items():
        if name != IGNORE and name not in LIST_FIELDS:
            by_field.setdefault(name, []).append(headers[index])
    for name, columns in by_field.items():
        if len(columns) > 1:
            listed = ", ".join(repr(c) for c in columns)
            raise ImportFileError(
                f"columns {listed} are all mapped to {name!r}, which holds one value; map only one of them",
                path=path,
            )
    return resolved


def detect_columns(
    headers: Sequence[str], *, mappings: Mapping[str, str] | None = None, path: str, header_row: int = 1
) -> ColumnMapping:
    """Map each header to a canonical field, ``fields`` or ``ignore``.

    Args:
        headers: the header row, trimmed, in file order.
        mappings: ``--map`` overrides, ``{header as written: field or "ignore"}``.
        path: the file, for error messages.
        header_row: physical line of the header, for error messages.

    Raises:
        ImportFileError: duplicate headers, a ``--map`` naming an unknown column or field, two
            columns explicitly mapped to one single-valued field, colliding normalised names,
            consent columns without ``consent_type``, or no phone column at all.
    """
    _check_duplicates(headers, path, header_row)
    keys = _keys(headers)
    explicit = _explicit(headers, mappings or {}, path)
    columns: list[Column] = []
    for index, (header, key) in enumerate(zip(headers, keys, strict=True)):
        if index in explicit:
            name = explicit[index]
            if name == IGNORE:
                columns.append(Column(index, header, key, None, ignored=True, explicit=True))
            else:
                columns.append(Column(index, header, key, name, explicit=True, rank=-1))
            continue
        field, rank = _ALIAS_INDEX.get(key, (None, 0))
        columns.append(Column(index, header, key, field, rank=rank))
    columns, notes = _settle_single_fields(columns)
    _check_keys(columns, path)
    mapping = ColumnMapping(tuple(columns), tuple(notes))
    present = {c.field for c in columns if c.field}
    consent = [c.header for c in columns if c.field in CONSENT_FIELDS and c.field != "consent_type"]
    if consent and "consent_type" not in present:
        listed = ", ".join(repr(h) for h in consent)
        raise ImportFileError(
            f"consent columns ({listed}) but no consent_type column; the importer does not guess a consent "
            "type: add one, use --map COLUMN=consent_type, or --map each consent column to ignore",
            path=path,
        )
    if not mapping.phone_columns:
        listed = ", ".join(repr(h) for h in headers)
        raise ImportFileError(
            f"no phone column found; headers are {listed}; use --map COLUMN=phone", path=path
        )
    return mapping


def _settle_single_fields(columns: list[Column]) -> tuple[list[Column], list[str]]:
    """Keep one column per single-valued field; demote the others to ``fields``."""
    notes: list[str] = []
    by_field: dict[str, list[Column]] = {}
    for column in columns:
        if column.field is not None and column.field not in LIST_FIELDS:
            by_field.setdefault(column.field, []).append(column)
    demoted: dict[int, str] = {}
    for field, claimants in by_field.items():
        if len(claimants) < 2:
            continue
        winner = min(claimants, key=lambda c: (c.rank, c.index))
        for loser in claimants:
            if loser is not winner:
                demoted[loser.index] = field
                how = "--map" if winner.explicit else "its name"
                notes.append(
                    f"column {loser.header!r} also looks like {field}; {winner.header!r} is used "
                    f"(chosen by {how}) and {loser.header!r} is kept as fields.{loser.key}"
                )
    settled = [Column(c.index, c.header, c.key, None, rank=0) if c.index in demoted else c for c in columns]
    return settled, notes


def _check_keys(columns: Sequence[Column], path: str) -> None:
    by_key: dict[str, list[str]] = {}
    for column in columns:
        if not column.ignored:
            by_key.setdefault(column.key, []).append(column.header)
    for key, headers in by_key.items():
        if len(headers) > 1:
            listed = ", ".join(repr(h) for h in headers)
            raise ImportFileError(
                f"columns {listed} have the same name once normalised ({key!r}); rename one or "
                f"use --map COLUMN=ignore",
                path=path,
            )
    for column in columns:
        if column.field is None and not column.ignored and column.key in RESERVED_FIELD_KEYS:
            raise ImportFileError(
                f"the column name {column.key!r} is used by the importer itself; rename the column or "
                f"use --map {column.header}=ignore",
                path=path,
                column=column.header,
            )
