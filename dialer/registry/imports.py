"""DNC registry imports recorded in the database, and the plain number files of the internal list.

A registry import (:func:`import_registry`) builds the new list with
:mod:`dialer.registry.build` and keeps the audit side in the database: a
:class:`~dialer.models.DncSource` row per imported file and a ``dnc.registry_imported`` audit
event. Ordering and atomicity, chosen so that the list on disk and the database never disagree
after a failure that the process survives:

1. The registry import lock is taken first (a PostgreSQL advisory transaction lock; SQLite's
   write lock does the same), so two imports of one list serialize and a change list is applied
   to the registry the previous import left, never to one a concurrent import is replacing.
2. Every file is read and checked before anything is written; a bad file raises
   :class:`~dialer.registry.store.RegistryFileError` (path, line, column) with nothing changed.
3. The new registry is built into a hidden staging file in the same directory.
4. The ``DncSource`` rows and the audit event are written and flushed in the caller's transaction.
5. The staging file replaces the list (``os.replace``, atomic) in the session's ``before_commit``,
   after a hard link of the previous file has been kept as a backup; if publishing fails, the
   commit fails and the database rolls back. If the commit itself then fails, the backup is put
   back when the transaction ends. After a successful commit the backup is removed; a transaction
   that ends without committing removes the staging file.

The remaining window is a crash of the process between the rename and the database commit (a few
milliseconds): the newer list would be on disk without its rows. The registry file carries its own
``downloaded_at`` and the sources (file name and sha256 of each file) it was built from, so the
staleness the gate computes is always that of the data actually on disk, and such a file can be
told apart from the ``dnc_sources`` rows.

The internal (company-specific) list lives in ``dnc_entries`` (:mod:`dialer.consent.dnc`); its
file import reads the numbers with :func:`read_number_file`.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from compliance import PhoneNumberError, normalize_phone
from dialer.audit import record_event
from dialer.db import advisory_xact_lock
from dialer.models import DncSource
from dialer.registry.build import ImportSummary, RegistryKind, StagedRegistry, stage_import
from dialer.registry.store import NATIONAL, RegistryFileError, RegistryStore, read_text


def _lock_imports(session: Session) -> None:
    """Serialize registry imports (their own advisory lock; no table row is locked)."""
    advisory_xact_lock(session, "dialer.registry.imports")


def _publish_on_commit(session: Session, staged: StagedRegistry) -> None:
    root = session.get_transaction()

    def before_commit(_session: Session) -> None:
        # Also dispatched for a savepoint's commit: only the root transaction's commit publishes.
        if not staged.settled and not staged.published and not session.in_nested_transaction():
            staged.publish()

    def after_commit(_session: Session) -> None:
        if not staged.settled and staged.published:
            staged.commit()

    def after_transaction_end(_session: Session, transaction: SessionTransaction) -> None:
        if transaction is root and not staged.settled:
            staged.abandon()

    event.listen(session, "before_commit", before_commit)
    event.listen(session, "after_commit", after_commit)
    event.listen(session, "after_transaction_end", after_transaction_end)


def import_registry(
    session: Session,
    store: RegistryStore,
    *,
    list_name: str,
    files: Sequence[Path],
    kind: RegistryKind,
    downloaded_at: datetime,
    now: datetime,
    actor: str,
) -> ImportSummary:
    """Import registry files and record them, the file replaced when the transaction commits.

    See the module docstring for the ordering. Nothing on disk changes until ``session`` commits;
    a rollback (or a session closed without commit) leaves the previous list in place.

    Args:
        session: an open session; the caller commits.
        store: the registry directory.
        list_name: ``national`` or a state code.
        files: full-list or change-list files, applied in this order.
        kind: ``full`` (replaces the list) or ``change``.
        downloaded_at: when the files were downloaded from the registry (aware, not future).
        now: the product's clock (aware).
        actor: the audit actor (``user:<login>``).

    Returns:
        The summary, with the ``DncSource`` ids.

    Raises:
        RegistryFileError: a file cannot be read (path, line, column); nothing written.
        RegistryError: unknown list, naive/future time, change list without a list.
    """
    _lock_imports(session)
    staged = stage_import(store, list_name, kind, files, downloaded_at=downloaded_at, now=now)
    try:
        summary = staged.summary
        rows = [
            DncSource(
                list_name=summary.list_name,
                kind=kind,
                file_name=source.path.name[:500],
                sha256=source.sha256,
                numbers=source.numbers,
                downloaded_at=downloaded_at,
                imported_at=now,
                registry_count_after=summary.count_after,
            )
            for source in summary.files
        ]
        session.add_all(rows)
        session.flush()
        record_event(
            session,
            kind="dnc.registry_imported",
            occurred_at=now,
            actor=actor,
            payload={
                "list": summary.list_name,
                "kind": kind,
                "files": [
                    {"name": s.path.name, "sha256": s.sha256, "numbers": s.numbers} for s in summary.files
                ],
                "dnc_source_ids": [row.id for row in rows],
                "downloaded_at": downloaded_at.isoformat(),
                "count_before": summary.count_before,
                "count_after": summary.count_after,
                "additions": summary.additions,
                "deletions": summary.deletions,
            },
        )
        _publish_on_commit(session, staged)
    except BaseException:
        staged.abandon()
        raise
    return dataclasses.replace(summary, source_ids=tuple(row.id for row in rows))


def national_downloaded_at(session: Session) -> datetime | None:
    """``downloaded_at`` of the newest national import (full or change) recorded in the database."""
    return session.scalar(
        select(DncSource.downloaded_at)
        .where(DncSource.list_name == NATIONAL)
        .order_by(DncSource.downloaded_at.desc())
        .limit(1)
    )


def read_number_file(path: Path, *, default_region: str = "US") -> list[str]:
    """The distinct numbers of a plain list (one per line, any common format or ``312,5550101``), as E.164.

    Blank lines and lines starting with ``#`` are skipped; a first line without digits is a header.

    Raises:
        RegistryFileError: unreadable or non-UTF-8 file, an invalid number (with its line), or no
            number at all.
    """
    path = Path(path)
    text = read_text(path)
    numbers: dict[str, None] = {}
    for line_no, row in enumerate(csv.reader(text.splitlines()), start=1):
        cell = row[0].strip() if row else ""
        if len(row) == 2 and len(cell) == 3 and len(row[1].strip()) == 7:
            cell += row[1].strip()  # the FTC shape "312,5550101"
        if not cell or cell.startswith("#"):
            continue
        if not numbers and line_no == 1 and not any(ch.isdigit() for ch in cell):
            continue  # a header
        try:
            numbers[normalize_phone(cell, default_region=default_region).e164] = None
        except PhoneNumberError as exc:
            raise RegistryFileError(
                f"{cell!r} is not a valid phone number: {exc}", path=path, line=line_no, column=1
            ) from None
    if not numbers:
        raise RegistryFileError("the file has no phone numbers", path=path)
    return list(numbers)
