"""Readers for DNC list downloads: FTC area-code full lists and change lists, state lists, our own.

The FTC delivers flat text files, zipped, one per area code or state (COMPLIANCE_RULES.md 1.3);
state lists and the internal list export use the same shapes. Both readers take a plain text file
or a ``.zip`` (every member is read, in archive order; directories and ``__MACOSX/`` entries are
the only members skipped). Text is ASCII; a UTF-8 byte-order mark, LF or CRLF line ends, spaces or
tabs around fields and blank lines are accepted. Any other deviation raises ``DncFileError`` with
the file (``archive.zip:member.txt``), line and column: no line is ever skipped silently. The XML
download format is refused (download the flat text format).

Full list (``read_full_list``), one number per line, either shape::

    3125550101
    312,5550101

Change list (``read_change_list``); the FTC's exact field layout is not verified
(COMPLIANCE_RULES.md 6.11), so these layouts are accepted, the number first::

    3125550101,A            312,5550101,A
    3125550101,D,2026-01-15 312,5550101,delete,01/15/2026 12:00:00

The flag is ``A``/``add`` or ``D``/``delete`` in any case. The optional trailing field is a date
(digits and ``-/:.T`` and spaces); it is checked for shape but not used (the download time that
``DNC_SCRUB_STALE`` needs is recorded by the importer). A number both added and deleted in one
change list is kept as an addition (fail closed: it stays on the list).

Numbers must be ten-digit NANP numbers with area code and exchange starting 2-9. Full lists whose
lines all have the same width (the FTC's case) are parsed with numpy over the raw bytes (about
200 MB/s here); irregular lines fall back to a per-line parser, then the fast path resumes.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compliance.errors import ComplianceError

__all__ = ["ChangeList", "DncFileError", "read_change_list", "read_full_list"]

_BOM = b"\xef\xbb\xbf"
_FAST_ROWS = 1 << 20
_MIN_ROWS = 64
_DATE = re.compile(r"[0-9][0-9\-/:. T]*")
_FLAGS = {"a": True, "add": True, "d": False, "delete": False}


class DncFileError(ComplianceError):
    """A DNC file line that is not in an accepted layout.

    Attributes:
        path: the file, with the zip member after a colon (``"ftc.zip:312.txt"``).
        line: 1-based line number, or None for a whole-file problem.
        column: 1-based character column of the offending field, or None.
    """

    def __init__(self, path: str, line: int | None, column: int | None, reason: str):
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
        where = path
        if line is not None:
            where += f" line {line}" + (f", column {column}" if column is not None else "")
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, slots=True)
class ChangeList:
    """The numbers a change list adds to and deletes from a registry.

    Attributes:
        additions: uint64 ten-digit numbers, sorted, unique.
        deletions: uint64 ten-digit numbers, sorted, unique, disjoint from ``additions``.
    """

    additions: np.ndarray
    deletions: np.ndarray


def _members(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (display name, bytes) for a plain file or each text member of a zip."""
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.is_dir() or info.filename.startswith("__MACOSX/"):
                        continue
                    yield f"{path}:{info.filename}", archive.read(info)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
            raise DncFileError(str(path), None, None, f"cannot read zip archive ({exc})") from None
    else:
        yield str(path), path.read_bytes()


def _digits_ok(field: str, width: int) -> bool:
    return len(field) == width and field.isascii() and field.isdigit()


def _number(fields: list[tuple[int, str]], name: str, line: int) -> tuple[int, int]:
    """Parse the number at the start of ``fields``; return (number, fields consumed)."""
    col, first = fields[0]
    if len(fields) >= 2 and len(first) == 3:
        if not _digits_ok(first, 3):
            raise DncFileError(name, line, col, f"{first!r} is not a 3-digit area code")
        col2, second = fields[1]
        if not _digits_ok(second, 7):
            raise DncFileError(name, line, col2, f"{second!r} is not a 7-digit number")
        text, used = first + second, 2
    else:
        if not _digits_ok(first, 10):
            raise DncFileError(name, line, col, f"{first!r} is not a 10-digit number")
        text, used = first, 1
    if text[0] in "01":
        raise DncFileError(name, line, col, f"area code {text[:3]} cannot start with {text[0]}")
    if text[3] in "01":
        raise DncFileError(name, line, col, f"exchange {text[3:6]} cannot start with {text[3]}")
    return int(text), used


def _fields(raw: bytes, name: str, line: int) -> list[tuple[int, str]] | None:
    """Split one line into (1-based column, stripped text) fields; None for a blank line."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        bad = next(i for i, b in enumerate(raw) if b > 127)
        raise DncFileError(name, line, bad + 1, "non-ASCII byte in line") from None
    if not text.strip():
        return None
    out = []
    col = 1
    for part in text.split(","):
        stripped = part.strip(" \t\r")
        out.append((col + len(part) - len(part.lstrip(" \t\r")), stripped))
        col += len(part) + 1
    return out


def _full_line(raw: bytes, name: str, line: int) -> int | None:
    fields = _fields(raw, name, line)
    if fields is None:
        return None
    number, used = _number(fields, name, line)
    if used < len(fields):
        col, extra = fields[used]
        raise DncFileError(name, line, col, f"unexpected field {extra!r} after the number")
    return number


def _template(comma: bool, crlf: bool) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Per-column (lowest byte, allowed span) of a fixed-width line, and its digit columns."""
    digit_cols = [0, 1, 2, 4, 5, 6, 7, 8, 9, 10] if comma else list(range(10))
    width = 11 if comma else 10
    low = np.full(width, 48, dtype=np.uint8)
    span = np.full(width, 9, dtype=np.uint8)
    low[[digit_cols[0], digit_cols[3]]] = 50  # area code and exchange start with 2-9
    span[[digit_cols[0], digit_cols[3]]] = 7
    if comma:
        low[3], span[3] = 44, 0
    tail = [13, 10] if crlf else [10]
    low = np.concatenate([low, np.array(tail, dtype=np.uint8)])
    span = np.concatenate([span, np.zeros(len(tail), dtype=np.uint8)])
    return low, span, digit_cols


_POW10 = np.array([10**k for k in range(9, -1, -1)], dtype=np.uint64)


def _fast_block(buf: np.ndarray, pos: int, comma: bool, crlf: bool, limit: int) -> tuple[np.ndarray, int]:
    """Parse the longest run (up to ``limit`` rows) of fixed-width lines at ``pos``; (numbers, rows)."""
    low, span, digit_cols = _template(comma, crlf)
    stride = low.size
    rows = min(limit, (buf.size - pos) // stride)
    if rows == 0:
        return np.empty(0, np.uint64), 0
    block = buf[pos : pos + rows * stride].reshape(rows, stride)
    bad = (block - low) > span  # uint8 wrap-around: one compare checks both bounds
    good = rows
    if bad.any():
        good = int(np.argmax(bad.reshape(-1))) // stride
    value = np.zeros(good, dtype=np.uint64)
    for k, col in enumerate(digit_cols):
        value += (block[:good, col] - np.uint8(48)).astype(np.uint64) * _POW10[k]
    return value, good


def _parse_full(data: bytes, name: str) -> np.ndarray:
    start = 3 if data.startswith(_BOM) else 0
    buf = np.frombuffer(data, dtype=np.uint8)
    parts: list[np.ndarray] = []
    slow: list[int] = []
    pos, line = start, 1
    limit = _MIN_ROWS  # grows while lines stay regular, so irregular files cost no more than slow
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        length = end - pos
        crlf = length > 0 and data[end - 1] == 13
        width = length - crlf
        if width in (10, 11) and end < len(data):
            values, rows = _fast_block(buf, pos, width == 11, crlf, limit)
            limit = min(limit * 4, _FAST_ROWS) if rows == limit else _MIN_ROWS
            if rows:
                if slow:
                    parts.append(np.array(slow, dtype=np.uint64))
                    slow = []
                parts.append(values)
                pos += rows * (width + 1 + crlf)
                line += rows
                continue
        number = _full_line(data[pos:end], name, line)
        if number is not None:
            slow.append(number)
        pos, line = end + 1, line + 1
    if slow:
        parts.append(np.array(slow, dtype=np.uint64))
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)


def _refuse_xml(data: bytes, name: str) -> None:
    head = data[:64].lstrip(_BOM + b" \t\r\n")
    if head.startswith(b"<"):
        raise DncFileError(name, 1, 1, "XML download format is not supported; download flat text")


def read_full_list(path: Path) -> np.ndarray:
    """Read a full list (FTC area-code or whole-registry file, state list, internal export).

    Args:
        path: a text file, or a ``.zip`` whose members are all read.

    Returns:
        uint64 array of the ten-digit numbers in file order (duplicates kept; ``build_registry``
        folds them).

    Raises:
        DncFileError: a line that is not a number in an accepted shape, with file, line, column.
        OSError: the file cannot be read.
    """
    parts = []
    for name, data in _members(Path(path)):
        _refuse_xml(data, name)
        parts.append(_parse_full(data, name))
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)


def read_change_list(path: Path) -> ChangeList:
    """Read a change list (additions and deletions since the last download); layouts in the module doc.

    Args:
        path: a text file, or a ``.zip`` whose members are all read.

    Returns:
        The additions and deletions, sorted and unique; a number both added and deleted is an
        addition only.

    Raises:
        DncFileError: a line not in an accepted layout (bad number, missing or unknown flag, bad
            date, extra fields), with file, line and column.
        OSError: the file cannot be read.
    """
    adds: list[int] = []
    dels: list[int] = []
    for name, data in _members(Path(path)):
        _refuse_xml(data, name)
        body = data[3:] if data.startswith(_BOM) else data
        for index, raw in enumerate(body.split(b"\n"), start=1):
            fields = _fields(raw, name, index)
            if fields is None:
                continue
            number, used = _number(fields, name, index)
            rest = fields[used:]
            if not rest:
                end = fields[-1][0] + len(fields[-1][1])
                raise DncFileError(name, index, end, "missing add/delete flag (A or D) after the number")
            col, flag = rest[0]
            if flag.lower() not in _FLAGS:
                reason = f"{flag!r} is not an add/delete flag (A, D, add, delete)"
                raise DncFileError(name, index, col, reason)
            if len(rest) >= 2:
                col, date = rest[1]
                if not _DATE.fullmatch(date):
                    raise DncFileError(name, index, col, f"{date!r} is not a date")
            if len(rest) > 2:
                col, extra = rest[2]
                raise DncFileError(name, index, col, f"unexpected field {extra!r} after the date")
            (adds if _FLAGS[flag.lower()] else dels).append(number)
    additions = np.unique(np.array(adds, dtype=np.uint64))
    deletions = np.setdiff1d(np.array(dels, dtype=np.uint64), additions)
    return ChangeList(additions=additions, deletions=deletions)
