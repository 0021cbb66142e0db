"""Consent ledger CSV files -> checked rows of canonical cells. Pure: bytes in, cells out; no database.

The importers (:mod:`dialer.consent.imports`) describe a file with a :class:`CsvSpec` and read it with
:func:`read_ledger_csv`; their row parsers read cells with the ``cell_*`` functions, which raise
:class:`CellError`, and :func:`parse_rows` turns the first one into an
:class:`~dialer.errors.ImportFileError` naming the file, the row and the column. Decoding, the
delimiter and the records are read as lead files are (:mod:`dialer.leads.parser`), but strictly
(malformed quoting refuses the file).

Rules:

- A file is UTF-8, with or without a BOM. The delimiter is ``,`` unless the header line has none (then
  ``;`` or tab). Row numbers are the physical line (1-based) where the record starts; the header is the
  first non-blank record. Blank rows are skipped.
- Headers are matched case-insensitively (non-alphanumerics read as ``_``) against each column's
  accepted names; columns the spec does not know are ignored (and listed in :attr:`LedgerCsv.ignored`);
  two headers meaning one column, or a missing required column, refuse the file.
- A row with more cells than the header refuses the file; fewer: the missing cells are empty. Cells
  are trimmed.
- Instants are ISO-8601 with a UTC offset (``2026-11-02T15:04:00Z``, ``...-06:00``); naive instants,
  bare dates and instants after ``now`` are refused.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from compliance import PhoneNumberError, normalize_phone
from dialer.consent.checks import clip
from dialer.errors import ImportFileError
from dialer.leads.columns import normalize_header
from dialer.leads.parser import decode, read_records, sniff_delimiter

_T = TypeVar("_T")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


class CellError(Exception):
    """A bad cell: the canonical column and what is wrong with it (the row is added by :func:`parse_rows`)."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class CsvSpec:
    """A file format: ``{canonical column: accepted header names}``; which ones must be present."""

    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]


@dataclass(frozen=True)
class LedgerCsv:
    """A ledger file read completely.

    Attributes:
        path: the file as named in messages.
        name: its file name (for row sources and audit events).
        sha256: the hex SHA-256 of its bytes.
        headers: ``{canonical column: header as written}`` for the columns found.
        ignored: headers the spec does not know, as written.
        rows: ``(physical line, {canonical column: trimmed cell})`` per non-blank data row, in file order.
    """

    path: str
    name: str
    sha256: str
    headers: dict[str, str]
    ignored: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]


def read_ledger_csv(data: bytes, *, path: str, name: str, spec: CsvSpec) -> LedgerCsv:
    """Read a ledger CSV completely: encoding, header, required columns, cells per row.

    Args:
        data: the file's bytes.
        path: how to name the file in messages.
        name: the file's name (``optouts.csv``).
        spec: the columns the file may and must have.

    Raises:
        ImportFileError: non-UTF-8 or empty file, duplicate or missing columns, malformed CSV, a row with
            more cells than the header, or no data rows.
    """
    text = decode(data, path=path)
    first = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    records = read_records(text, sniff_delimiter(first), path, strict=True)
    header_row, header_cells = next(((n, c) for n, _, c in records if any(x.strip() for x in c)), (0, []))
    aliases = {alias: canonical for canonical, names in spec.columns.items() for alias in names}
    headers: dict[str, str] = {}
    index: dict[str, int] = {}
    ignored: list[str] = []
    for i, header in enumerate(h.strip() for h in header_cells):
        canonical = aliases.get(normalize_header(header))
        if canonical is None:
            ignored.append(header)
            continue
        if canonical in headers:
            raise ImportFileError(
                f"columns {headers[canonical]!r} and {header!r} both mean {canonical}; keep one",
                path=path,
                row=header_row,
                column=header,
            )
        headers[canonical], index[canonical] = header, i
    missing = [c for c in spec.required if c not in headers]
    if missing:
        listed = ", ".join(repr(h.strip()) for h in header_cells)
        raise ImportFileError(
            f"missing column(s) {', '.join(missing)}; the header is {listed}; expected "
            f"{', '.join(spec.columns)} ({', '.join(spec.required)} required)",
            path=path,
            row=header_row or 1,
            column=missing[0],
        )
    rows: list[tuple[int, dict[str, str]]] = []
    for line, _, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header_cells):
            raise ImportFileError(
                f"{len(cells)} cells but the header has {len(header_cells)} columns", path=path, row=line
            )
        rows.append((line, {c: (cells[i].strip() if i < len(cells) else "") for c, i in index.items()}))
    if not rows:
        raise ImportFileError("no data rows (the file has a header but no rows under it)", path=path)
    return LedgerCsv(
        path=path,
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        headers=headers,
        ignored=tuple(ignored),
        rows=tuple(rows),
    )


def parse_rows(file: LedgerCsv, parse: Callable[[int, dict[str, str]], _T]) -> list[_T]:
    """Apply ``parse`` to every row; the first bad cell raises, naming the file, the row and the column.

    Raises:
        ImportFileError: ``parse`` raised :class:`CellError` (the column is named as the file writes it).
    """
    parsed = []
    for line, cells in file.rows:
        try:
            parsed.append(parse(line, cells))
        except CellError as bad:
            raise ImportFileError(
                bad.message, path=file.path, row=line, column=file.headers.get(bad.column, bad.column)
            ) from None
    return parsed


def row_source(file: LedgerCsv, line: int, detail: str | None = None) -> str:
    """The stored source of a row: ``import:<file> row <n>``, with `` (<detail>)`` when given (clipped)."""
    base = f"import:{file.name} row {line}"
    return clip(f"{base} ({detail})" if detail else base)


def cell_phone(cells: dict[str, str], column: str) -> str:
    """The cell as an E.164 number."""
    value = cells.get(column, "")
    try:
        return normalize_phone(value).e164
    except PhoneNumberError as exc:
        raise CellError(column, f"{value!r} is not a valid phone number: {exc}") from None


def cell_instant(cells: dict[str, str], column: str, now: datetime) -> datetime:
    """The cell as an instant (ISO-8601 with a UTC offset, not after ``now``), in UTC."""
    value = cells.get(column, "")
    if not value:
        raise CellError(
            column, "empty; give an ISO-8601 instant with a UTC offset, e.g. 2026-11-02T15:04:00Z"
        )
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise CellError(column, f"{value!r} is not an ISO-8601 instant, e.g. 2026-11-02T15:04:00Z") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise CellError(
            column, f"{value!r} has no UTC offset; write it as e.g. 2026-11-02T15:04:00Z or ...-06:00"
        )
    when = when.astimezone(UTC)
    if when > now:
        raise CellError(column, f"{value!r} is in the future (now is {now.isoformat(timespec='seconds')})")
    return when


def cell_text(cells: dict[str, str], column: str, limit: int, *, required: bool = False) -> str | None:
    """The cell as text of at most ``limit`` characters; None when empty (refused when ``required``)."""
    value = cells.get(column, "")
    if not value:
        if required:
            raise CellError(column, "empty")
        return None
    if len(value) > limit:
        raise CellError(column, f"{len(value)} characters; the limit is {limit}")
    return value


def cell_choice(
    cells: dict[str, str], column: str, choices: tuple[str, ...], *, default: str | None = None
) -> str:
    """The cell, casefolded, as one of ``choices``; an empty cell is ``default`` when one is given."""
    value = cells.get(column, "").casefold()
    if not value and default is not None:
        return default
    if value not in choices:
        allowed = ", ".join(choices) + (" (or empty)" if default is not None else "")
        raise CellError(column, f"{cells.get(column, '')!r} is not one of {allowed}")
    return value


def cell_yes_no(cells: dict[str, str], column: str) -> bool | None:
    """The cell as true / false (yes / no, y / n, 1 / 0, any case); None when empty (unknown)."""
    raw = cells.get(column, "").casefold()
    if raw and raw not in _TRUE | _FALSE:
        raise CellError(column, f"{cells[column]!r} is not true or false (or empty = unknown)")
    return (raw in _TRUE) if raw else None
