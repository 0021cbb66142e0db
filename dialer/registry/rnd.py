"""Reassigned Numbers Database (RND) answers on the dialer side: the operator's CSV, storage, latest.

47 CFR 64.1200(m): a caller that queried the FCC's RND and was told a number has not been
disconnected since the consent date (``no``) has a safe harbor; ``yes`` means the number was
reassigned and must not be called on the old consent. :func:`read_rnd_csv` reads the answers an
operator exports, :func:`record_rnd_results` stores them (:class:`~dialer.models.RndResult`) with
a ``dnc.rnd_imported`` audit event, and :func:`latest_rnd` gives the newest for a number (the
gate's and the consent ledger's input).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance import PhoneNumberError, normalize_phone
from dialer.audit import record_event
from dialer.models import RndResult
from dialer.registry.store import RegistryFileError, read_text

RndAnswer = Literal["yes", "no", "no_data"]
"""An RND answer: ``yes`` (disconnected since the date: reassigned), ``no`` (safe harbor), ``no_data``."""
RND_ANSWERS: frozenset[str] = frozenset({"yes", "no", "no_data"})
RND_COLUMNS: tuple[str, ...] = ("phone", "queried_at", "consent_date", "result")
"""The columns an RND results file must have (any order; others are ignored)."""


@dataclass(frozen=True, slots=True)
class RndRow:
    """One RND answer read from a file.

    Attributes:
        row: the CSV line it came from (1-based, the header is line 1).
        phone_e164: the number queried.
        queried_at: when the query was made (aware, UTC).
        consent_date: the date given with the query (when consent was obtained).
        result: ``yes`` (disconnected since the date: reassigned, block), ``no`` (safe harbor) or
            ``no_data``.
    """

    row: int
    phone_e164: str
    queried_at: datetime
    consent_date: date
    result: str


def read_rnd_csv(path: Path, *, now: datetime) -> list[RndRow]:
    """Read an RND results file with columns ``phone,queried_at,consent_date,result``.

    ``queried_at`` is ISO-8601 with a UTC offset (``2026-11-20T15:00:00Z``), not after ``now``;
    ``consent_date`` is ``YYYY-MM-DD``, not after the query; ``result`` is ``yes``, ``no`` or
    ``no_data`` (``no data`` accepted).

    Raises:
        RegistryFileError: unreadable/non-UTF-8 file, a missing column, a bad value (row and
            column named), or no rows.
    """
    path = Path(path)
    text = read_text(path)
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in RND_COLUMNS if c not in header]
    if missing:
        raise RegistryFileError(
            f"missing column(s) {', '.join(missing)}; expected {','.join(RND_COLUMNS)}", path=path, line=1
        )
    index = {c: header.index(c) for c in RND_COLUMNS}
    rows: list[RndRow] = []
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue

        def cell(column: str, cells: list[str] = cells) -> str:
            i = index[column]
            return cells[i].strip() if i < len(cells) else ""

        def bad(column: str, why: str, line_no: int = line_no) -> RegistryFileError:
            return RegistryFileError(why, path=path, line=line_no, column=column)

        try:
            phone = normalize_phone(cell("phone")).e164
        except PhoneNumberError as exc:
            raise bad("phone", f"{cell('phone')!r} is not a valid phone number: {exc}") from None
        try:
            queried_at = datetime.fromisoformat(cell("queried_at"))
        except ValueError:
            raise bad("queried_at", f"{cell('queried_at')!r} is not an ISO-8601 time") from None
        if queried_at.tzinfo is None:
            raise bad("queried_at", f"{cell('queried_at')!r} needs a UTC offset, e.g. 2026-11-20T15:00:00Z")
        if queried_at > now:
            raise bad("queried_at", f"{cell('queried_at')!r} is in the future")
        try:
            consent_date = date.fromisoformat(cell("consent_date"))
        except ValueError:
            raise bad("consent_date", f"{cell('consent_date')!r} is not a date (YYYY-MM-DD)") from None
        if consent_date > queried_at.astimezone(UTC).date() + timedelta(days=1):
            raise bad("consent_date", f"{cell('consent_date')!r} is after the query")
        result = cell("result").lower().replace(" ", "_").replace("-", "_")
        if result not in RND_ANSWERS:
            raise bad("result", f"{cell('result')!r} is not an RND answer (yes, no, no_data)")
        rows.append(RndRow(line_no, phone, queried_at.astimezone(UTC), consent_date, result))
    if not rows:
        raise RegistryFileError("the file has no RND results", path=path)
    return rows


def record_rnd_results(
    session: Session, rows: Sequence[RndRow], *, source: str, now: datetime, actor: str = "system"
) -> list[RndResult]:
    """Store RND answers in the caller's transaction, with one ``dnc.rnd_imported`` audit event.

    Args:
        rows: the answers (:func:`read_rnd_csv`).
        source: the file name, or ``api``.
        now: the product's clock (aware), for the audit event.
        actor: the audit actor.

    Returns:
        The flushed rows.
    """
    results = [
        RndResult(
            phone_e164=r.phone_e164,
            queried_at=r.queried_at,
            consent_date=r.consent_date,
            result=r.result,
            source=source[:500],
        )
        for r in rows
    ]
    session.add_all(results)
    session.flush()
    counts = {answer: sum(1 for r in rows if r.result == answer) for answer in sorted(RND_ANSWERS)}
    record_event(
        session,
        kind="dnc.rnd_imported",
        occurred_at=now,
        actor=actor,
        payload={
            "source": source,
            "rows": len(results),
            "results": counts,
            "first_id": results[0].id if results else None,
        },
    )
    return results


def latest_rnd(session: Session, phone_e164: str) -> RndResult | None:
    """The newest RND answer for a number (latest ``queried_at``, then latest stored), or None."""
    return session.scalars(
        select(RndResult)
        .where(RndResult.phone_e164 == phone_e164)
        .order_by(RndResult.queried_at.desc(), RndResult.id.desc())
        .limit(1)
    ).first()
