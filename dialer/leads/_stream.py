"""Reading a lead file as a stream of records, in bounded memory, hashing the bytes on the way.

The same rules as :mod:`dialer.leads.parser` (encoding, delimiter, physical row numbers, lenient
single-line records, strict re-read of a record spanning lines), but line by line: nothing holds
the whole file. A NUL byte in a cell refuses the file (PostgreSQL text cannot hold it, and a
file carrying one is not a CSV export), naming the row and the column.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from dialer.errors import ImportFileError

_NEWLINE = re.compile(rb"\r\n|\r|\n")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
Record = tuple[int, int, list[str]]
"""``(first physical line, last physical line, cells)``."""


class _Hashing(io.RawIOBase):
    """A raw reader that hashes and counts the bytes read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0
        self.nul_seen = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.sha256.update(data)
        self.bytes_read += n
        if not self.nul_seen and b"\x00" in data:
            self.nul_seen = True  # from here on, records are checked cell by cell
        return n


class _Lines:
    """An iterator of text lines that remembers the lines of the record being read."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.pending: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.pending.append(line)
        return line


def _reader(lines: Any, delimiter: str, *, strict: bool, skipinitialspace: bool = True) -> Any:
    return csv.reader(
        lines,
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        skipinitialspace=skipinitialspace,
        strict=strict,
    )


def sniff_delimiter(header_line: str) -> str:
    """``,`` unless ``header_line`` has none; then ``;`` or tab as :class:`csv.Sniffer` finds (else ``,``)."""
    if "," in header_line:
        return ","
    try:
        return csv.Sniffer().sniff(header_line, delimiters=";\t").delimiter
    except csv.Error:
        return ","


def iter_records(
    lines: Iterator[str], delimiter: str, path: str, *, strict: bool = False
) -> Iterator[Record]:
    """Yield ``(first line, last line, cells)`` per record, skipping empty lines.

    Single-line records are read leniently (``"abc" ,x`` is accepted). A record spanning lines
    is re-read strictly: a quote opened and never properly closed swallows the rows after it,
    so the whole file is refused, naming the line where the quote opened.

    Raises:
        ImportFileError: malformed CSV, naming the line where the bad record starts.
    """
    source = _Lines(lines)
    reader = _reader(source, delimiter, strict=strict, skipinitialspace=not strict)
    previous = 0
    while True:
        source.pending = []
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"malformed CSV: {exc}", path=path, row=previous + 1) from None
        start, previous = previous + 1, reader.line_num
        if previous > start and not strict:
            try:
                list(_reader(iter(source.pending), delimiter, strict=True))
            except csv.Error as exc:
                raise ImportFileError(
                    f"a quoted cell that opens on this row is not closed properly ({exc}) and runs to line "
                    f"{previous}; check for a missing or unescaped quote",
                    path=path,
                    row=start,
                ) from None
        if cells:
            yield start, previous, cells


def nul_error(cells: list[str], headers: list[str], *, path: str, row: int) -> ImportFileError:
    """The one-line error for a record with a NUL byte: the file, the row and the column."""
    index = next((i for i, cell in enumerate(cells) if "\x00" in cell), 0)
    column = headers[index] if index < len(headers) and headers[index] else f"column {index + 1}"
    return ImportFileError(
        "the cell contains a NUL byte (0x00), which no text column can hold: the file is damaged or "
        "not a CSV export; remove the byte and import again",
        path=path,
        row=row,
        column=column,
    )


def decode_error(data: IO[bytes], *, path: str) -> ImportFileError:
    """The error naming the first byte of ``data`` that is not UTF-8 (its line and byte offset).

    Reads ``data`` from the start again, line by line (a UTF-8 sequence never contains a newline byte).
    """
    data.seek(0)
    offset = 0
    line = 1
    first = True
    for chunk in iter(lambda: data.readline(1 << 20), b""):
        body = chunk[len(codecs.BOM_UTF8) :] if first and chunk.startswith(codecs.BOM_UTF8) else chunk
        skip = len(chunk) - len(body)
        first = False
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            at = offset + skip + exc.start
            line += len(_NEWLINE.findall(chunk, 0, skip + exc.start))
            bad = chunk[skip + exc.start : skip + exc.start + 1].hex()
            return ImportFileError(
                f"the file is not UTF-8: byte 0x{bad} at byte offset {at} on line {line} cannot be "
                "decoded; save it as UTF-8 (in Excel: CSV UTF-8)",
                path=path,
                row=line,
            )
        offset += len(chunk)
        line += len(_NEWLINE.findall(chunk))
    return ImportFileError("the file is not UTF-8; save it as UTF-8 (in Excel: CSV UTF-8)", path=path)


class LeadStream:
    """An open lead file: its delimiter, header and data records, read once, in order.

    Args:
        raw: the file's bytes, seekable (an open binary file or a :class:`io.BytesIO`).
        path: how to name the file in messages.

    Attributes:
        delimiter: the cell delimiter.
        header_row: physical line of the header.
        headers: the header cells, trimmed.
        bytes_read: bytes read so far (for progress).

    Raises:
        ImportFileError: UTF-16, empty, not UTF-8 (when the bad byte is in the header part), or
            malformed CSV there. Later problems raise from :meth:`records`.
    """

    def __init__(self, raw: IO[bytes], *, path: str) -> None:
        self.path = path
        self._raw = raw
        if raw.read(2).startswith(_UTF16_BOMS):
            raise ImportFileError(
                "the file is UTF-16; save it as UTF-8 (in Excel: CSV UTF-8)", path=path, row=1
            )
        raw.seek(0)
        self._hashing = _Hashing(raw)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._hashing, 1 << 20), encoding="utf-8-sig", newline=""
        )
        head: list[str] = []
        lines = self._guarded(iter(self._text))
        for line in lines:
            head.append(line)
            if line.strip():
                break
        else:
            raise ImportFileError("the file is empty", path=path)
        self.delimiter = sniff_delimiter(head[-1])
        self._records = iter_records(_chain(head, lines), self.delimiter, path)
        self.header_row = 0
        self.headers: list[str] = []
        for start, _end, cells in self._records:
            if any(c.strip() for c in cells):
                if self._hashing.nul_seen and _has_nul(cells):
                    raise nul_error(cells, cells, path=path, row=start)
                self.header_row, self.headers = start, [c.strip() for c in cells]
                break

    @property
    def bytes_read(self) -> int:
        """Bytes read from the file so far."""
        return self._hashing.bytes_read

    def _guarded(self, lines: Iterator[str]) -> Iterator[str]:
        try:
            yield from lines
        except UnicodeDecodeError:
            raise decode_error(self._raw, path=self.path) from None

    def records(self) -> Iterator[Record]:
        """The data records after the header, in file order (blank rows included: all cells empty).

        Raises:
            ImportFileError: malformed CSV, a byte that is not UTF-8, a NUL byte in a cell.
        """
        hashing = self._hashing
        for record in self._records:
            if hashing.nul_seen and _has_nul(record[2]):
                raise nul_error(record[2], self.headers, path=self.path, row=record[0])
            yield record

    def sha256(self) -> str:
        """Hex sha256 of the file's bytes (after :meth:`records` is exhausted: of the whole file)."""
        return self._hashing.sha256.hexdigest()


def _has_nul(cells: list[str]) -> bool:
    return any("\x00" in cell for cell in cells)


def _chain(head: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from head
    yield from rest


def open_lead_file(path: Path) -> IO[bytes]:
    """The file at ``path`` opened for reading bytes.

    Raises:
        ImportFileError: it cannot be read.
    """
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise ImportFileError(f"cannot read the file: {exc.strerror or exc}", path=str(path)) from None
