"""CSV imports into the consent ledger: revocations, EBRs and outside contact history, all or nothing.

Each importer reads its file completely (:mod:`dialer.consent.csv_files`: the rules for encoding, headers,
delimiters, rows and instants) and checks every row before the first write; the first bad cell raises
:class:`~dialer.errors.ImportFileError` naming the file, the physical line (the header is line 1) and the
column, and nothing is written. Rows are then written one by one through the ledger's writers
(:func:`dialer.consent.ledger.record_revocation`, :func:`dialer.consent.records.add_ebr`,
:func:`dialer.consent.records.record_contact_attempt`), each with its own audit event and the source
``import:<file> row <n>``, and one summary event names the file (sha256, ids, columns, the ignored
columns). Repeated rows are all kept (each is evidence). Nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dialer.audit import record_event
from dialer.consent.checks import utc
from dialer.consent.csv_files import (
    CellError,
    CsvSpec,
    LedgerCsv,
    cell_choice,
    cell_instant,
    cell_phone,
    cell_text,
    cell_yes_no,
    parse_rows,
    read_ledger_csv,
    row_source,
)
from dialer.consent.ledger import record_revocation
from dialer.consent.records import (
    CONTACT_CHANNELS,
    SELLER_LIMIT,
    SUBJECT_LIMIT,
    add_ebr,
    ebr_kind,
    record_contact_attempt,
)
from dialer.leads.service import read_file
from dialer.models import REVOCATION_CHANNELS, ConsentRevocation, ContactAttempt, EbrRecord

_PHONE = ("phone", "phone_number", "number", "phone_e164", "telephone", "mobile")

REVOCATION_COLUMNS = CsvSpec(
    columns={
        "phone": _PHONE,
        "revoked_at": ("revoked_at", "revocation_date", "opted_out_at", "opt_out_date", "opt_out_at"),
        "channel": ("channel",),
        "source": ("source", "detail", "note"),
    },
    required=("phone", "revoked_at"),
)
"""Revocation files: ``phone``, ``revoked_at`` (required), ``channel`` (default ``import``), ``source``."""

EBR_COLUMNS = CsvSpec(
    columns={
        "phone": _PHONE,
        "seller": ("seller", "seller_name"),
        "kind": ("kind", "type", "ebr_kind", "ebr_type"),
        "occurred_at": ("occurred_at", "date", "purchased_at", "inquired_at", "ebr_at"),
    },
    required=("phone", "seller", "kind", "occurred_at"),
)
"""EBR files: ``phone``, ``seller``, ``kind`` (purchase / inquiry), ``occurred_at``, all required."""

CONTACT_COLUMNS = CsvSpec(
    columns={
        "phone": _PHONE,
        "attempted_at": ("attempted_at", "contacted_at", "sent_at", "called_at", "timestamp"),
        "channel": ("channel",),
        "subject": ("subject", "campaign_subject"),
        "caller_id": ("caller_id", "from", "from_number"),
        "answered": ("answered",),
    },
    required=("phone", "attempted_at", "channel"),
)
"""Contact history files: ``phone``, ``attempted_at``, ``channel`` (required), ``subject``, ``caller_id``,
``answered`` (true / false, empty = unknown)."""

_RowParser = Callable[[LedgerCsv, int, dict[str, str], datetime], dict[str, Any]]
"""``(file, line, cells, now) -> the writer's keyword arguments`` for one row; raises :class:`CellError`."""


def import_revocations_csv(
    session: Session, path: Path, *, now: datetime, actor: str
) -> list[ConsentRevocation]:
    """Import consent revocations (opt-outs captured elsewhere) from a CSV file, all or nothing (CP-8).

    Columns: ``phone`` and ``revoked_at`` (ISO-8601 with offset, not after ``now``) are required;
    ``channel`` (one of :data:`dialer.models.REVOCATION_CHANNELS`, default ``import``) and ``source``
    (free text, at most 200 characters) are optional. Each row becomes a revocation of every consent for
    the number obtained at or before ``revoked_at``, with source ``import:<file> row <n>``.

    Returns:
        The flushed rows, in file order; one ``consent.revoked`` event per row and one
        ``consent.revocations_imported`` event (file name, sha256, ids).

    Raises:
        ImportFileError: the file cannot be read, or a cell is bad (row and column named); nothing is
            written.
    """
    return _import(
        session,
        path,
        REVOCATION_COLUMNS,
        _revocation_row,
        record_revocation,
        summary="consent.revocations_imported",
        now=now,
        actor=actor,
    )


def import_ebr_csv(session: Session, path: Path, *, now: datetime, actor: str) -> list[EbrRecord]:
    """Import established business relationships from a CSV file, all or nothing (47 CFR 64.1200(f)(5)).

    Columns (all required): ``phone``; ``seller`` (1-200 characters); ``kind`` (``purchase`` or
    ``inquiry``; ``transaction`` and ``application`` are read as those); ``occurred_at`` (ISO-8601 with
    offset, not after ``now``).

    Returns:
        The flushed rows, in file order; one ``ebr.recorded`` event per row and one ``ebr.imported``.

    Raises:
        ImportFileError: the file cannot be read, or a cell is bad (row and column named); nothing is
            written.
    """
    return _import(
        session, path, EBR_COLUMNS, _ebr_row, add_ebr, summary="ebr.imported", now=now, actor=actor
    )


def import_contact_history_csv(
    session: Session, path: Path, *, now: datetime, actor: str
) -> list[ContactAttempt]:
    """Import contacts made outside this dialer (SMS logs, another dialer's calls), all or nothing (CP-9).

    Columns: ``phone``, ``attempted_at`` (ISO-8601 with offset, not after ``now``) and ``channel``
    (``voice``, ``sms``, ``mms``, ``rvm``, ``other``) are required; ``subject`` (at most 200 characters;
    empty = any subject), ``caller_id`` (a phone number) and ``answered`` (true/false, yes/no, 1/0;
    empty = unknown) are optional. Frequency caps (FL, OK, MD) count these with the dialer's own calls.

    Returns:
        The flushed rows, in file order; one ``contact.recorded`` event per row and one
        ``contacts.imported``.

    Raises:
        ImportFileError: the file cannot be read, or a cell is bad (row and column named); nothing is
            written.
    """
    return _import(
        session,
        path,
        CONTACT_COLUMNS,
        _contact_row,
        record_contact_attempt,
        summary="contacts.imported",
        now=now,
        actor=actor,
    )


# ---------------------------------------------------------------------- one row of each file


def _revocation_row(file: LedgerCsv, line: int, cells: dict[str, str], now: datetime) -> dict[str, Any]:
    return {
        "channel": cell_choice(cells, "channel", REVOCATION_CHANNELS, default="import"),
        "phone_e164": cell_phone(cells, "phone"),
        "revoked_at": cell_instant(cells, "revoked_at", now),
        "source": row_source(file, line, cell_text(cells, "source", 200)),
    }


def _ebr_row(file: LedgerCsv, line: int, cells: dict[str, str], now: datetime) -> dict[str, Any]:
    phone = cell_phone(cells, "phone")
    seller = cell_text(cells, "seller", SELLER_LIMIT, required=True)
    kind = ebr_kind(cells["kind"])
    if kind is None:
        raise CellError("kind", f"{cells['kind']!r} is not an EBR kind; use purchase or inquiry")
    return {
        "phone_e164": phone,
        "seller_name": seller,
        "kind": kind,
        "occurred_at": cell_instant(cells, "occurred_at", now),
        "source": row_source(file, line),
    }


def _contact_row(file: LedgerCsv, line: int, cells: dict[str, str], now: datetime) -> dict[str, Any]:
    phone = cell_phone(cells, "phone")
    when = cell_instant(cells, "attempted_at", now)
    channel = cell_choice(cells, "channel", CONTACT_CHANNELS)
    caller_id = cell_phone(cells, "caller_id") if cells.get("caller_id") else None
    answered = cell_yes_no(cells, "answered")
    return {
        "phone_e164": phone,
        "attempted_at": when,
        "channel": channel,
        "subject": cell_text(cells, "subject", SUBJECT_LIMIT),
        "caller_id": caller_id,
        "answered": answered,
        "source": row_source(file, line),
    }


# ---------------------------------------------------------------------- the steps every import takes


def _import(
    session: Session,
    path: Path,
    spec: CsvSpec,
    parse: _RowParser,
    write: Callable[..., Any],
    *,
    summary: str,
    now: datetime,
    actor: str,
) -> list[Any]:
    """Read ``path`` per ``spec`` and ``parse`` every row; then ``write`` each and audit the file.

    Args:
        path: the CSV file.
        spec: its columns.
        parse: one row -> the keyword arguments of ``write`` (without ``actor`` and ``now``).
        write: the ledger writer a row goes through (it audits the row).
        summary: the kind of the file's audit event.
        now: the product's clock (aware); checked before the file is read.
        actor: the audit actor.
    """
    at = utc(now, "now")
    file = read_ledger_csv(read_file(path), path=str(path), name=Path(path).name, spec=spec)
    drafts = parse_rows(file, lambda line, cells: parse(file, line, cells, at))
    rows = [write(session, **draft, actor=actor, now=at) for draft in drafts]
    ids = [r.id for r in rows]
    record_event(
        session,
        kind=summary,
        occurred_at=at,
        actor=actor,
        payload={
            "file": file.name,
            "sha256": file.sha256,
            "rows": len(ids),
            "ids": ids,
            "columns": file.headers,
            "ignored_columns": list(file.ignored),
        },
    )
    return rows
