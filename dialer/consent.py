"""The consent ledger's write side: revocations, EBRs, outside contacts, compliance flags, and their imports.

The gate (:mod:`dialer.gate`) reads these rows at dial time; this module is the only writer apart from
the lead importer (consent records) and :func:`dialer.dnc.add_internal_dnc` (which records the revocation
that a DNC request is, CP-8). Every function works in the caller's transaction (nothing is committed
here) and writes an audit event with :func:`dialer.audit.record_event`. Rows are never updated or
deleted, except a compliance flag's current value, whose every change is audited with the previous one.

Decisions where the brief is silent:

- :func:`revoke_consent` (``dialer consent revoke``, the API) records a **revocation only**, no internal
  DNC entry. A DNC request revokes consent (CP-8) and :func:`dialer.dnc.add_internal_dnc` records both;
  but revoking consent to robocalls is not by itself a company-specific DNC request
  (47 CFR 64.1200(a)(10) vs. (d)). For this dialer both stop every call at once: every call is an
  AI-voice telemarketing call that needs PEWC (CP-1, CP-2), so the gate blocks ``CONSENT_REVOKED``.
  The difference is what restores calling: a PEWC signed after the revocation does; a DNC entry is kept
  and honoured indefinitely. Use ``dialer dnc add`` for a request not to be called.
- A revocation hits every consent for the number obtained at or before ``revoked_at`` (any seller, any
  lead), unless it names one consent record; leads keep their status and the gate blocks them at dial
  time (pending callbacks are not canceled: the gate blocks the callback's call too).
- CSV files are read completely and every row checked before the first write; the first bad cell
  raises :class:`~dialer.errors.ImportFileError` naming the file, the physical line (the header is line
  1) and the column, and nothing is written. Headers are matched case-insensitively (non-alphanumerics
  read as ``_``); columns the importer does not know are ignored and listed in the summary audit event.
  The delimiter is ``,`` unless the header line has none (then ``;`` or tab). Instants are ISO-8601
  with a UTC offset (``2026-11-02T15:04:00Z``, ``...-06:00``); naive instants, bare dates and instants
  after ``now`` are refused. Repeated rows are all kept (each is evidence).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from compliance import PhoneNumberError, normalize_phone
from dialer.audit import record_event
from dialer.db import lock_for_update
from dialer.errors import ImportFileError, InvalidStateError
from dialer.models import (
    REVOCATION_CHANNELS,
    ComplianceFlag,
    ConsentRecord,
    ConsentRevocation,
    ContactAttempt,
    DncEntry,
    EbrRecord,
    Lead,
    RndResult,
)

EBR_KINDS = ("purchase", "inquiry")
"""EBR kinds (47 CFR 64.1200(f)(5)): a purchase or transaction (18 months), an inquiry or application
(3 months)."""

_EBR_KIND_WORDS = {
    "purchase": "purchase",
    "transaction": "purchase",
    "inquiry": "inquiry",
    "enquiry": "inquiry",
    "application": "inquiry",
}

CONTACT_CHANNELS = ("voice", "sms", "mms", "rvm", "other")
"""Channels of contacts made outside this dialer; frequency caps count all of them (CP-9)."""

REQUESTED_REVOCATION_CHANNELS = ("api", "cli")
"""Channels :func:`revoke_consent` accepts (a person asking through the API or an operator)."""

KNOWN_FLAGS: dict[str, str] = {
    "la_emergency": (
        "Louisiana declared emergency: no telephone solicitation into LA while it is in force "
        "(La. R.S. 45:844.31; CP-10 STATE_EMERGENCY_LA)"
    ),
}
"""Compliance flags an operator may set, with what each one means."""

SOURCE_LIMIT = 300
SELLER_LIMIT = 200
SUBJECT_LIMIT = 200
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


# ---------------------------------------------------------------------- checks shared by every writer


def _e164(value: str) -> str:
    """``value`` as E.164, or :class:`InvalidStateError`."""
    try:
        return normalize_phone(value).e164
    except PhoneNumberError as exc:
        raise InvalidStateError(f"{value!r} is not a valid phone number: {exc}") from None


_E164 = re.compile(r"\+[1-9]\d{1,14}")


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC)")
    return value.astimezone(UTC)


def _not_future(value: datetime, now: datetime, what: str) -> datetime:
    when = _aware(value, what)
    if when > _aware(now, "now"):
        raise InvalidStateError(f"{what} {when.isoformat()} is after now ({now.astimezone(UTC).isoformat()})")
    return when


def _clip(text: str, limit: int = SOURCE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------- revocations


def record_revocation(
    session: Session,
    *,
    phone_e164: str,
    revoked_at: datetime,
    channel: str,
    source: str,
    actor: str,
    consent_record_id: int | None = None,
    attempt_id: int | None = None,
    dnc_entry_id: int | None = None,
    now: datetime | None = None,
    reason: str = "",
) -> ConsentRevocation:
    """Record that consent for ``phone_e164`` was revoked at ``revoked_at`` (47 CFR 64.1200(a)(10); CP-8).

    The gate applies it to every consent for the number obtained at or before ``revoked_at`` (or only
    to ``consent_record_id`` when given); only a PEWC obtained later restores calling.

    Args:
        phone_e164: the number, already E.164 (callers normalise user input; an opt-out from a call
            must never fail on number metadata).
        revoked_at: when the person revoked consent (aware; stored UTC); not after ``now``.
        channel: one of :data:`dialer.models.REVOCATION_CHANNELS`.
        source: where it came from (``"call:12 honor_dnc"``, ``"import:optouts.csv row 4"``); at most
            300 characters are kept.
        actor: the audit actor (``agent``, ``system``, ``user:<name>``).
        consent_record_id: the one consent record revoked; None = every record for the number.
        attempt_id: the call it was made on, if any.
        dnc_entry_id: the DNC entry written with it, if any.
        now: the product's clock (aware) for the audit event; default ``revoked_at``.
        reason: free text for the audit event.

    Returns:
        The flushed row; one ``consent.revoked`` audit event is written.

    Raises:
        ValueError: ``channel`` is not a revocation channel, ``phone_e164`` is not E.164, or a time
            is naive.
        InvalidStateError: ``revoked_at`` is after ``now``, or
            ``consent_record_id`` names no record for this number.
    """
    if channel not in REVOCATION_CHANNELS:
        raise ValueError(f"channel {channel!r} is not one of {', '.join(REVOCATION_CHANNELS)}")
    if not _E164.fullmatch(phone_e164):
        raise ValueError(f"{phone_e164!r} is not an E.164 number (+ and up to 15 digits)")
    phone = phone_e164
    when = _aware(revoked_at, "revoked_at")
    at = when if now is None else _aware(now, "now")
    _not_future(when, at, "revoked_at")
    lead_id: int | None = None
    if consent_record_id is not None:
        record = session.get(ConsentRecord, consent_record_id)
        if record is None or record.phone_e164 != phone:
            raise InvalidStateError(f"consent record {consent_record_id} is not a consent for {phone}")
        lead_id = record.lead_id
    revocation = ConsentRevocation(
        phone_e164=phone,
        revoked_at=when,
        channel=channel,
        source=_clip(source),
        consent_record_id=consent_record_id,
        attempt_id=attempt_id,
        dnc_entry_id=dnc_entry_id,
    )
    session.add(revocation)
    session.flush()
    record_event(
        session,
        kind="consent.revoked",
        occurred_at=at,
        actor=actor,
        lead_id=lead_id,
        attempt_id=attempt_id,
        payload={
            "consent_revocation_id": revocation.id,
            "phone_e164": phone,
            "revoked_at": when,
            "channel": channel,
            "source": source,
            "reason": reason,
            "consent_record_id": consent_record_id,
            "dnc_entry_id": dnc_entry_id,
        },
    )
    return revocation


def revoke_consent(
    session: Session,
    *,
    phone_e164: str,
    now: datetime,
    channel: str,
    source: str,
    actor: str,
    reason: str = "",
) -> ConsentRevocation:
    """A revocation of consent asked for through the API or by an operator, effective ``now`` (CP-8).

    It revokes every consent for the number obtained up to ``now``; the gate blocks the number's next
    call (``CONSENT_REVOKED``) in every campaign, and a PEWC signed later restores calling. It does **not**
    write an internal DNC entry: a revocation of consent is not by itself a company-specific DNC request
    (47 CFR 64.1200(a)(10) vs. 64.1200(d)); use :func:`dialer.dnc.add_internal_dnc` (``dialer dnc add``)
    for that, which records both.

    Args:
        phone_e164: the number (any common format; stored E.164).
        now: the product's clock (aware): the revocation's time.
        channel: ``api`` or ``cli``.
        source: who or what asked (``"cli"``, ``"api:crm-webhook"``); with ``reason`` appended it is
            the stored source (at most 300 characters; the audit event keeps all of it).
        actor: the audit actor.
        reason: why (``"asked by email on 2026-11-02"``).

    Raises:
        ValueError: another channel, or a naive ``now``.
        InvalidStateError: the number is invalid.
    """
    if channel not in REQUESTED_REVOCATION_CHANNELS:
        raise ValueError(
            f"channel {channel!r}: revoke_consent takes {' or '.join(REQUESTED_REVOCATION_CHANNELS)}; "
            "calls use add_internal_dnc, files import_revocations_csv"
        )
    detail = f"{source}: {reason}" if reason.strip() else source
    return record_revocation(
        session,
        phone_e164=_e164(phone_e164),
        revoked_at=now,
        channel=channel,
        source=detail,
        actor=actor,
        now=now,
        reason=reason,
    )


# ---------------------------------------------------------------------- EBR, outside contacts


def add_ebr(
    session: Session,
    *,
    phone_e164: str,
    seller_name: str,
    kind: str,
    occurred_at: datetime,
    source: str,
    actor: str,
    now: datetime | None = None,
) -> EbrRecord:
    """Record an established business relationship with a seller (47 CFR 64.1200(f)(5)).

    It exempts calls from the national DNC registry for 18 months after a purchase or 3 months after
    an inquiry (the gate counts from ``occurred_at``); it never replaces PEWC for an AI voice (CP-2).

    Args:
        phone_e164: the customer's number (any common format; stored E.164).
        seller_name: the seller the relationship is with (1-200 characters).
        kind: ``purchase`` or ``inquiry`` (``transaction`` / ``application`` are read as those).
        occurred_at: when the purchase or inquiry happened (aware; stored UTC); not after ``now``.
        source: where the record came from (``api``, ``import:customers.csv row 3``).
        actor: the audit actor.
        now: the product's clock (aware) for the check and the audit event; default: the wall clock.

    Returns:
        The flushed row; one ``ebr.recorded`` audit event is written.

    Raises:
        ValueError: a naive time.
        InvalidStateError: invalid number, empty or over-long seller, unknown kind, future instant.
    """
    phone = _e164(phone_e164)
    seller = seller_name.strip()
    if not seller or len(seller) > SELLER_LIMIT:
        raise InvalidStateError(f"the seller's name must be 1 to {SELLER_LIMIT} characters")
    word = _EBR_KIND_WORDS.get(kind.strip().casefold())
    if word is None:
        raise InvalidStateError(f"EBR kind {kind!r} is not one of {', '.join(EBR_KINDS)}")
    at = datetime.now(UTC) if now is None else _aware(now, "now")
    when = _not_future(occurred_at, at, "occurred_at")
    row = EbrRecord(phone_e164=phone, seller_name=seller, kind=word, occurred_at=when, source=_clip(source))
    session.add(row)
    session.flush()
    record_event(
        session,
        kind="ebr.recorded",
        occurred_at=at,
        actor=actor,
        payload={
            "ebr_record_id": row.id,
            "phone_e164": phone,
            "seller_name": seller,
            "kind": word,
            "occurred_at": when,
            "source": source,
        },
    )
    return row


def record_contact_attempt(
    session: Session,
    *,
    phone_e164: str,
    attempted_at: datetime,
    channel: str,
    source: str,
    actor: str,
    now: datetime,
    subject: str | None = None,
    caller_id: str | None = None,
    answered: bool | None = None,
) -> ContactAttempt:
    """Record a contact made outside this dialer (an SMS, another dialer's call); caps count it (CP-9).

    Frequency caps (FL 501.616(6), OK OTSA, MD: 3 per rolling 24 h, same subject) count every attempt on
    any channel, from any caller ID, answered or not.

    Args:
        phone_e164: the number contacted (any common format; stored E.164).
        attempted_at: when (aware; stored UTC); not after ``now``.
        channel: ``voice``, ``sms``, ``mms``, ``rvm`` or ``other``.
        source: where the record came from.
        actor: the audit actor.
        now: the product's clock (aware).
        subject: what it was about (compared with the campaign's subject); None counts as any subject.
        caller_id: the number it came from (stored E.164), if known.
        answered: whether it was answered, if known.

    Returns:
        The flushed row; one ``contact.recorded`` audit event is written.

    Raises:
        ValueError: a naive time.
        InvalidStateError: invalid number or caller ID, unknown channel, over-long subject, future instant.
    """
    phone = _e164(phone_e164)
    if channel not in CONTACT_CHANNELS:
        raise InvalidStateError(f"channel {channel!r} is not one of {', '.join(CONTACT_CHANNELS)}")
    subject = (subject or "").strip() or None
    if subject is not None and len(subject) > SUBJECT_LIMIT:
        raise InvalidStateError(f"the subject is {len(subject)} characters; the limit is {SUBJECT_LIMIT}")
    from_e164 = _e164(caller_id) if caller_id and caller_id.strip() else None
    at = _aware(now, "now")
    when = _not_future(attempted_at, at, "attempted_at")
    row = ContactAttempt(
        phone_e164=phone,
        attempted_at=when,
        channel=channel,
        subject=subject,
        caller_id=from_e164,
        answered=answered,
        source=_clip(source),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        kind="contact.recorded",
        occurred_at=at,
        actor=actor,
        payload={
            "contact_attempt_id": row.id,
            "phone_e164": phone,
            "attempted_at": when,
            "channel": channel,
            "subject": subject,
            "caller_id": from_e164,
            "answered": answered,
            "source": source,
        },
    )
    return row


# ---------------------------------------------------------------------- compliance flags


def set_compliance_flag(
    session: Session, *, name: str, active: bool, note: str, actor: str, now: datetime
) -> ComplianceFlag:
    """Set a compliance flag (``la_emergency``: La. R.S. 45:844.31, CP-10) and audit the change.

    The row is created or updated in place under a row lock; the ``compliance.flag_set`` event carries
    the new and the previous value (None when the flag was never set), so the flag's history is the
    audit log. Setting the value it already has is still recorded (the note may change).

    Args:
        name: one of :data:`KNOWN_FLAGS`.
        active: the new value.
        note: why (the notice it follows); required when turning a flag on.
        actor: the audit actor; also stored as ``updated_by``.
        now: the product's clock (aware); stored as ``updated_at`` (UTC).

    Raises:
        InvalidStateError: an unknown flag name, or no note when turning a flag on.
        ValueError: a naive ``now``.
    """
    if name not in KNOWN_FLAGS:
        raise InvalidStateError(f"unknown compliance flag {name!r}; known flags: {', '.join(KNOWN_FLAGS)}")
    if active and not note.strip():
        raise InvalidStateError(f"turning {name} on needs a note saying which notice it follows")
    at = _aware(now, "now")
    flag = session.execute(
        lock_for_update(select(ComplianceFlag).where(ComplianceFlag.name == name), session)
    ).scalar_one_or_none()
    previous: dict[str, Any] | None = None
    if flag is None:
        flag = ComplianceFlag(name=name, active=active, note=note.strip(), updated_at=at, updated_by=actor)
        session.add(flag)
    else:
        previous = {
            "active": flag.active,
            "note": flag.note,
            "updated_at": flag.updated_at,
            "updated_by": flag.updated_by,
        }
        flag.active, flag.note, flag.updated_at, flag.updated_by = active, note.strip(), at, actor
    session.flush()
    record_event(
        session,
        kind="compliance.flag_set",
        occurred_at=at,
        actor=actor,
        payload={"name": name, "active": active, "note": note.strip(), "previous": previous},
    )
    return flag


def compliance_flags(session: Session) -> list[tuple[str, str, ComplianceFlag | None]]:
    """Every known flag as ``(name, meaning, row or None when never set)``, in :data:`KNOWN_FLAGS` order."""
    rows = {f.name: f for f in session.scalars(select(ComplianceFlag))}
    return [(name, meaning, rows.get(name)) for name, meaning in KNOWN_FLAGS.items()]


# ---------------------------------------------------------------------- CSV files


def _key(header: str) -> str:
    return re.sub(r"[\W_]+", "_", header.strip().casefold()).strip("_")


class _Bad(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class _Spec:
    """A file format: ``{canonical column: accepted header names}``; which ones must be present."""

    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]


@dataclass(frozen=True)
class _Csv:
    path: str
    name: str
    sha256: str
    headers: dict[str, str]  # canonical -> header as written
    ignored: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]  # (physical line, canonical -> trimmed cell)


def _read_csv(path: Path, spec: _Spec) -> _Csv:
    """Read a ledger CSV completely: encoding, header, required columns, cells per row.

    Raises:
        ImportFileError: unreadable or non-UTF-8 file, empty file, duplicate or missing columns,
            malformed CSV, a row with more cells than the header, or no data rows.
    """
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read the file: {exc.strerror or exc}", path=where) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"the file is not UTF-8 (byte 0x{data[exc.start : exc.start + 1].hex()} at offset {exc.start}); "
            "save it as UTF-8",
            path=where,
            row=line,
        ) from None
    if not text.strip():
        raise ImportFileError("the file is empty", path=where)
    lines = io.StringIO(text, newline="")
    first = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    delimiter = ","
    if "," not in first:
        try:
            delimiter = csv.Sniffer().sniff(first, delimiters=";\t").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    records = _records(reader, where)
    header_row, header_cells = next(((n, c) for n, c in records if any(x.strip() for x in c)), (0, []))
    aliases = {alias: canonical for canonical, names in spec.columns.items() for alias in names}
    headers: dict[str, str] = {}
    index: dict[str, int] = {}
    ignored: list[str] = []
    for i, header in enumerate(h.strip() for h in header_cells):
        canonical = aliases.get(_key(header))
        if canonical is None:
            ignored.append(header)
            continue
        if canonical in headers:
            raise ImportFileError(
                f"columns {headers[canonical]!r} and {header!r} both mean {canonical}; keep one",
                path=where,
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
            path=where,
            row=header_row or 1,
            column=missing[0],
        )
    rows: list[tuple[int, dict[str, str]]] = []
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header_cells):
            raise ImportFileError(
                f"{len(cells)} cells but the header has {len(header_cells)} columns", path=where, row=line
            )
        rows.append((line, {c: (cells[i].strip() if i < len(cells) else "") for c, i in index.items()}))
    if not rows:
        raise ImportFileError("no data rows (the file has a header but no rows under it)", path=where)
    return _Csv(
        path=where,
        name=Path(path).name,
        sha256=hashlib.sha256(data).hexdigest(),
        headers=headers,
        ignored=tuple(ignored),
        rows=tuple(rows),
    )


def _records(reader: Any, where: str) -> Iterator[tuple[int, list[str]]]:
    """``(physical line where the record starts, cells)`` for every record, blank lines included."""
    previous = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"malformed CSV: {exc}", path=where, row=previous + 1) from None
        start, previous = previous + 1, reader.line_num
        yield start, cells


def _parse_rows(file: _Csv, parse: Callable[[int, dict[str, str]], Any]) -> list[Any]:
    """Apply ``parse`` to every row; the first bad cell raises, naming the file, the row and the column."""
    parsed = []
    for line, cells in file.rows:
        try:
            parsed.append(parse(line, cells))
        except _Bad as bad:
            raise ImportFileError(
                bad.message, path=file.path, row=line, column=file.headers.get(bad.column, bad.column)
            ) from None
    return parsed


def _cell_phone(cells: dict[str, str], column: str) -> str:
    value = cells.get(column, "")
    try:
        return normalize_phone(value).e164
    except PhoneNumberError as exc:
        raise _Bad(column, f"{value!r} is not a valid phone number: {exc}") from None


def _cell_instant(cells: dict[str, str], column: str, now: datetime) -> datetime:
    value = cells.get(column, "")
    if not value:
        raise _Bad(column, "empty; give an ISO-8601 instant with a UTC offset, e.g. 2026-11-02T15:04:00Z")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(column, f"{value!r} is not an ISO-8601 instant, e.g. 2026-11-02T15:04:00Z") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise _Bad(column, f"{value!r} has no UTC offset; write it as e.g. 2026-11-02T15:04:00Z or ...-06:00")
    when = when.astimezone(UTC)
    if when > now:
        raise _Bad(column, f"{value!r} is in the future (now is {now.isoformat(timespec='seconds')})")
    return when


def _cell_text(cells: dict[str, str], column: str, limit: int, *, required: bool = False) -> str | None:
    value = cells.get(column, "")
    if not value:
        if required:
            raise _Bad(column, "empty")
        return None
    if len(value) > limit:
        raise _Bad(column, f"{len(value)} characters; the limit is {limit}")
    return value


def _provenance(file: _Csv, line: int, detail: str | None = None) -> str:
    base = f"import:{file.name} row {line}"
    return _clip(f"{base} ({detail})" if detail else base)


def _summary_event(
    session: Session, *, kind: str, file: _Csv, now: datetime, actor: str, ids: Sequence[int]
) -> None:
    record_event(
        session,
        kind=kind,
        occurred_at=now,
        actor=actor,
        payload={
            "file": file.name,
            "sha256": file.sha256,
            "rows": len(ids),
            "ids": list(ids),
            "columns": file.headers,
            "ignored_columns": list(file.ignored),
        },
    )


_PHONE = ("phone", "phone_number", "number", "phone_e164", "telephone", "mobile")

REVOCATION_COLUMNS = _Spec(
    columns={
        "phone": _PHONE,
        "revoked_at": ("revoked_at", "revocation_date", "opted_out_at", "opt_out_date", "opt_out_at"),
        "channel": ("channel",),
        "source": ("source", "detail", "note"),
    },
    required=("phone", "revoked_at"),
)
"""Revocation files: ``phone``, ``revoked_at`` (required), ``channel`` (default ``import``), ``source``."""

EBR_COLUMNS = _Spec(
    columns={
        "phone": _PHONE,
        "seller": ("seller", "seller_name"),
        "kind": ("kind", "type", "ebr_kind", "ebr_type"),
        "occurred_at": ("occurred_at", "date", "purchased_at", "inquired_at", "ebr_at"),
    },
    required=("phone", "seller", "kind", "occurred_at"),
)
"""EBR files: ``phone``, ``seller``, ``kind`` (purchase / inquiry), ``occurred_at``, all required."""

CONTACT_COLUMNS = _Spec(
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
    at = _aware(now, "now")
    file = _read_csv(path, REVOCATION_COLUMNS)

    def parse(line: int, cells: dict[str, str]) -> dict[str, Any]:
        channel = cells.get("channel", "").casefold() or "import"
        if channel not in REVOCATION_CHANNELS:
            raise _Bad(
                "channel", f"{cells['channel']!r} is not one of {', '.join(REVOCATION_CHANNELS)} (or empty)"
            )
        return {
            "phone_e164": _cell_phone(cells, "phone"),
            "revoked_at": _cell_instant(cells, "revoked_at", at),
            "channel": channel,
            "source": _provenance(file, line, _cell_text(cells, "source", 200)),
        }

    drafts = _parse_rows(file, parse)
    rows = [record_revocation(session, **d, actor=actor, now=at) for d in drafts]
    _summary_event(
        session, kind="consent.revocations_imported", file=file, now=at, actor=actor, ids=[r.id for r in rows]
    )
    return rows


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
    at = _aware(now, "now")
    file = _read_csv(path, EBR_COLUMNS)

    def parse(line: int, cells: dict[str, str]) -> dict[str, Any]:
        phone = _cell_phone(cells, "phone")
        seller = _cell_text(cells, "seller", SELLER_LIMIT, required=True)
        kind = _EBR_KIND_WORDS.get(cells["kind"].casefold())
        if kind is None:
            raise _Bad("kind", f"{cells['kind']!r} is not an EBR kind; use purchase or inquiry")
        return {
            "phone_e164": phone,
            "seller_name": seller,
            "kind": kind,
            "occurred_at": _cell_instant(cells, "occurred_at", at),
            "source": _provenance(file, line),
        }

    drafts = _parse_rows(file, parse)
    rows = [add_ebr(session, **d, actor=actor, now=at) for d in drafts]
    _summary_event(session, kind="ebr.imported", file=file, now=at, actor=actor, ids=[r.id for r in rows])
    return rows


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
    at = _aware(now, "now")
    file = _read_csv(path, CONTACT_COLUMNS)

    def parse(line: int, cells: dict[str, str]) -> dict[str, Any]:
        phone = _cell_phone(cells, "phone")
        when = _cell_instant(cells, "attempted_at", at)
        channel = cells["channel"].casefold()
        if channel not in CONTACT_CHANNELS:
            raise _Bad("channel", f"{cells['channel']!r} is not one of {', '.join(CONTACT_CHANNELS)}")
        caller_id = _cell_phone(cells, "caller_id") if cells.get("caller_id") else None
        raw = cells.get("answered", "").casefold()
        if raw and raw not in _TRUE | _FALSE:
            raise _Bad("answered", f"{cells['answered']!r} is not true or false (or empty = unknown)")
        return {
            "phone_e164": phone,
            "attempted_at": when,
            "channel": channel,
            "subject": _cell_text(cells, "subject", SUBJECT_LIMIT),
            "caller_id": caller_id,
            "answered": (raw in _TRUE) if raw else None,
            "source": _provenance(file, line),
        }

    drafts = _parse_rows(file, parse)
    rows = [record_contact_attempt(session, **d, actor=actor, now=at) for d in drafts]
    _summary_event(
        session, kind="contacts.imported", file=file, now=at, actor=actor, ids=[r.id for r in rows]
    )
    return rows


# ---------------------------------------------------------------------- the ledger, for auditors


@dataclass(frozen=True)
class ConsentLedger:
    """Everything the gate reads about one number's consent, for an auditor.

    Attributes:
        phone_e164: the number, E.164.
        consents: consent records naming the number or belonging to a lead with it (evidence included:
            ``other_sellers``, ``source``, ``evidence*``), oldest first.
        revocations: revocations of consent for the number, oldest ``revoked_at`` first.
        dnc_requests: internal DNC entries for the number, oldest first (each also revokes consent).
        ebrs: established business relationships with any seller, newest ``occurred_at`` first.
        contacts: contacts made outside this dialer, oldest first.
        rnd: the latest Reassigned Numbers Database answer (47 CFR 64.1200(m)), or None.
    """

    phone_e164: str
    consents: tuple[ConsentRecord, ...]
    revocations: tuple[ConsentRevocation, ...]
    dnc_requests: tuple[DncEntry, ...]
    ebrs: tuple[EbrRecord, ...]
    contacts: tuple[ContactAttempt, ...]
    rnd: RndResult | None

    def revoked_at(self, record: ConsentRecord) -> datetime | None:
        """When ``record`` stopped counting, as the gate reads it (:mod:`dialer.gate`), or None.

        The earliest of the record's own ``revoked_at`` and every revocation for the number (or naming
        this record) made at or after the consent was obtained (any revocation when that is unknown).
        """
        hits = [
            r.revoked_at
            for r in self.revocations
            if r.consent_record_id in (None, record.id)
            and (record.signed_at is None or r.revoked_at >= record.signed_at)
        ]
        if record.revoked_at is not None:
            hits.append(record.revoked_at)
        return min(hits, default=None)


def consent_ledger(session: Session, phone_e164: str) -> ConsentLedger:
    """The consent ledger of one number (any common format), read in the caller's session.

    Raises:
        InvalidStateError: the number is invalid.
    """
    from dialer.registry import latest_rnd  # dialer.registry imports dialer.dnc, which imports this module

    phone = _e164(phone_e164)
    lead_ids = select(Lead.id).where(Lead.phone_e164 == phone)
    return ConsentLedger(
        phone_e164=phone,
        consents=tuple(
            session.scalars(
                select(ConsentRecord)
                .where(or_(ConsentRecord.phone_e164 == phone, ConsentRecord.lead_id.in_(lead_ids)))
                .order_by(ConsentRecord.id)
            )
        ),
        revocations=tuple(
            session.scalars(
                select(ConsentRevocation)
                .where(ConsentRevocation.phone_e164 == phone)
                .order_by(ConsentRevocation.revoked_at, ConsentRevocation.id)
            )
        ),
        dnc_requests=tuple(
            session.scalars(
                select(DncEntry)
                .where(DncEntry.phone_e164 == phone, DncEntry.list_name == "internal")
                .order_by(DncEntry.requested_at, DncEntry.id)
            )
        ),
        ebrs=tuple(
            session.scalars(
                select(EbrRecord)
                .where(EbrRecord.phone_e164 == phone)
                .order_by(EbrRecord.occurred_at.desc(), EbrRecord.id.desc())
            )
        ),
        contacts=tuple(
            session.scalars(
                select(ContactAttempt)
                .where(ContactAttempt.phone_e164 == phone)
                .order_by(ContactAttempt.attempted_at, ContactAttempt.id)
            )
        ),
        rnd=latest_rnd(session, phone),
    )
