"""The internal DNC list as a download: CSV (spreadsheet-safe cells) or JSON lines. Pure.

Every entry is written, withdrawn ones included (with who withdrew it and why), so the export is
the whole record CP-8 keeps. CSV cells pass through :func:`dialer.csv_cells.safe_row`: a reason
typed as ``=HYPERLINK(...)`` reaches a spreadsheet as text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Literal

from dialer.csv_cells import safe_row
from dialer.models import DncEntry

COLUMNS = (
    "id",
    "phone_e164",
    "list",
    "source",
    "reason",
    "requested_at",
    "lead_id",
    "attempt_id",
    "removed_at",
    "removed_by",
    "removal_reason",
)
"""The export's columns (CSV header, JSON keys); instants are ISO-8601 UTC."""


def entry_fields(entry: DncEntry) -> dict[str, Any]:
    """One entry as the export's plain values (:data:`COLUMNS`)."""

    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": entry.id,
        "phone_e164": entry.phone_e164,
        "list": entry.list_name,
        "source": entry.source,
        "reason": entry.reason,
        "requested_at": iso(entry.requested_at),
        "lead_id": entry.lead_id,
        "attempt_id": entry.attempt_id,
        "removed_at": iso(entry.removed_at),
        "removed_by": entry.removed_by,
        "removal_reason": entry.removal_reason,
    }


def export_lines(entries: Iterable[DncEntry], fmt: Literal["csv", "jsonl"]) -> Iterator[str]:
    """The export's text, a line at a time (CSV: the header first)."""
    if fmt == "jsonl":
        for entry in entries:
            yield json.dumps(entry_fields(entry), sort_keys=True) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(safe_row(entry_fields(entry).values()))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
