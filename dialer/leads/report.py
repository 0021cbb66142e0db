"""The rejected-rows report: ``<stem>.rejected.csv`` next to the imported file.

Columns ``row, column, value, reason``; ``row`` is the physical line (1-based) of the source
file, so a user can open the file at that line. The report is UTF-8 with a BOM so that Excel
shows non-ASCII names correctly (the importer itself reads the BOM fine), and it is written to a
temporary file then renamed, so a reader never sees half a report. An import builds it as a
:class:`PendingReport`, put in place only after the import commits: a run that is killed or rolled
back leaves no report of rows it never committed. Cells that a spreadsheet would run as a formula
are written with a leading ``'`` (:mod:`dialer.csv_cells`); E.164 numbers are written as they are.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from dialer.csv_cells import safe_row
from dialer.leads.schemas import RejectedRow
from dialer.registry import ScrubCounts

REPORT_COLUMNS: tuple[str, ...] = ("row", "column", "value", "reason")


def _cells(item: RejectedRow) -> list[object]:
    """One report row, spreadsheet-safe: a rejected cell is the user's raw input (``=HYPERLINK(...)``)."""
    return safe_row((item.row, item.column or "", item.value, item.reason))


def rejected_report_path(source: Path) -> Path:
    """Where the report for ``source`` goes: ``leads.csv`` -> ``leads.rejected.csv`` beside it."""
    return source.with_name(f"{source.stem}.rejected.csv")


def write_rejected_report(rejected: Iterable[RejectedRow], destination: Path) -> Path:
    """Write ``rejected`` to ``destination`` (replacing it) and return the path.

    Raises:
        OSError: the directory is not writable, the disk is full, ...
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(REPORT_COLUMNS)
            for item in rejected:
                writer.writerow(_cells(item))
        os.chmod(tmp_name, 0o644)  # mkstemp makes it owner-only; a report is an ordinary file
        os.replace(tmp_name, destination)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return destination


def format_registry_scrub(counts: ScrubCounts) -> str:
    """One line for the import report: imported leads on the national list and on each state list.

    Listed leads are imported all the same (PEWC can exempt them; the gate decides at dial time).
    """
    if not counts.national_present:
        national = "the national DNC list is missing (import it: the gate blocks until it is current)"
    else:
        national = f"{counts.national} of {counts.checked} imported leads are on the national DNC list"
    states = ", ".join(f"{code} {n}" for code, n in sorted(counts.states.items()))
    return national + (f"; on state lists: {states}" if states else "; no state list present")


class PendingReport:
    """A rejected-rows report built during an import and put in place only once the import commits.

    Rows go to an anonymous temporary file beside the destination (unlinked from the start, so a
    run killed part-way leaves nothing behind); :meth:`publish` copies it into place atomically
    (temporary name, then rename), :meth:`discard` drops it. :meth:`bind` ties both to the fate of
    a session's transaction.

    Attributes:
        destination: where the report goes.
        count: rows added.
        error: why the report cannot be written (it is then dropped; the import goes on).
    """

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        self.count = 0
        self.error: str | None = None
        self._raw: IO[bytes] | None = None
        self._text: io.TextIOWrapper | None = None
        self._writer: Any = None
        self._done = False
        if destination.is_dir():
            self.error = f"could not write {destination}: Is a directory"

    def add(self, rejected: Iterable[RejectedRow]) -> None:
        """Append rows (in file order)."""
        rows = list(rejected)
        if not rows or self.error is not None:
            self.count += len(rows)
            return
        if self._writer is None:
            try:
                self._raw = tempfile.TemporaryFile(dir=self.destination.parent)
            except OSError as exc:
                self.error = f"could not write {self.destination}: {exc.strerror or exc}"
                self.count += len(rows)
                return
            self._text = io.TextIOWrapper(self._raw, encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._text)
            self._writer.writerow(REPORT_COLUMNS)
        for item in rows:
            self._writer.writerow(_cells(item))
        self.count += len(rows)

    @property
    def path(self) -> Path | None:
        """Where the report will be once published (None when there is nothing to write)."""
        return self.destination if self._writer is not None and self.error is None else None

    def publish(self) -> Path | None:
        """Move the report into place (replacing an older one); returns its path, or None.

        A failure is recorded in :attr:`error`, never raised: the import is already committed.
        """
        if self._done:
            return self.path
        self._done = True
        if self._text is None or self._raw is None or self.error is not None:
            return None
        self._text.flush()
        self._raw.seek(0)
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{self.destination.name}.", suffix=".tmp", dir=self.destination.parent
            )
            try:
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(self._raw, out)
                os.chmod(tmp_name, 0o644)  # mkstemp makes it owner-only; a report is an ordinary file
                os.replace(tmp_name, self.destination)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        except OSError as exc:
            self.error = f"could not write {self.destination}: {exc.strerror or exc}"
            return None
        finally:
            self._text.close()
        return self.destination

    def discard(self) -> None:
        """Drop the report (the import was rolled back)."""
        self._done = True
        if self._text is not None:
            self._text.close()

    def bind(self, session: Session) -> None:
        """Publish when ``session``'s transaction commits; discard when it rolls back."""
        event.listen(session, "after_commit", lambda _s: self.publish(), once=True)
        event.listen(session, "after_rollback", lambda _s: self.discard(), once=True)
