"""The rejected-rows report: ``<stem>.rejected.csv`` next to the imported file.

Columns ``row, column, value, reason``; ``row`` is the physical line (1-based) of the source
file, so a user can open the file at that line. The report is UTF-8 with a BOM so that Excel
shows non-ASCII names correctly (the importer itself reads the BOM fine), and it is written to a
temporary file then renamed, so a reader never sees half a report.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from dialer.leads.schemas import RejectedRow
from dialer.registry import ScrubCounts

REPORT_COLUMNS: tuple[str, ...] = ("row", "column", "value", "reason")


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
                writer.writerow((item.row, item.column or "", item.value, item.reason))
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
