"""The first rows of a lead file and the importer's own column guess, before anything is imported.

What the console's mapping step shows: the headers, a few data rows as written, and the mapping
:func:`dialer.leads.columns.detect_columns` makes without overrides (or why it refuses the headers
as they are: no phone column, duplicate names...), read with the importer's own stream so the
delimiter, BOM and encoding rules are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from dialer.errors import ImportFileError
from dialer.leads._stream import LeadStream, open_lead_file
from dialer.leads.columns import ColumnMapping, detect_columns

PREVIEW_ROWS = 10
"""Data rows a preview shows."""


@dataclass(frozen=True)
class FilePreview:
    """A lead file's head.

    Attributes:
        headers: the header cells, trimmed, in file order.
        rows: ``(physical line, cells)`` of the first non-blank data rows, each padded or cut to
            the header's width.
        mapping: the importer's guess for each column; None when it refuses the headers.
        problem: why it refuses them (the importer's message naming the file), else None.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    mapping: ColumnMapping | None
    problem: str | None


def preview_lead_file(path: Path, *, name: str, rows: int = PREVIEW_ROWS) -> FilePreview:
    """The headers, first ``rows`` data rows and guessed mapping of the lead file at ``path``.

    Args:
        name: how messages name the file (an upload's own name rather than its stored path).

    Raises:
        ImportFileError: the file cannot be read at all: empty, not UTF-8, UTF-16, malformed
            near the top, a NUL byte (the import would refuse it the same way).
    """
    with open_lead_file(path) as raw:
        stream = LeadStream(raw, path=name)
        width = len(stream.headers)
        records = (r for r in stream.records() if any(cell.strip() for cell in r[2]))
        head = tuple(
            (start, tuple((cells + [""] * width)[:width])) for start, _end, cells in islice(records, rows)
        )
    try:
        mapping: ColumnMapping | None = detect_columns(
            stream.headers, path=name, header_row=stream.header_row
        )
        problem = None
    except ImportFileError as exc:
        mapping, problem = None, exc.message
    return FilePreview(tuple(stream.headers), head, mapping, problem)
