"""Building DNC registry files (:func:`build_registry`) and applying change lists (:func:`apply_changes`).

The file format is :mod:`compliance._dnc_format`; both functions are re-exported by
:mod:`compliance.dnc_registry`. Nothing here reads a clock: the build instant is passed in.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np

from compliance._dnc_format import (
    E7,
    HEADER,
    MAGIC,
    MAX,
    META_OFFSET,
    MIN,
    NPA_BITS,
    NPA_BYTES,
    PAGE,
    REST_MIN,
    RegistryMeta,
    as_uint64,
    check_integer,
    encode_meta,
    utc,
)

_BUILD_CHUNK = 1 << 24
"""Numbers validated per step while scanning (bounds the temporaries)."""


def _scan(flat: np.ndarray) -> tuple[np.ndarray, bool]:
    """Validate every number; return the per-NPA counts and whether the array is grouped by NPA.

    Raises:
        ValueError: a number outside the NANP shape, naming the first one by index and value.
    """
    counts = np.zeros(1000, dtype=np.int64)
    grouped = True
    last = -1
    for start in range(0, flat.size, _BUILD_CHUNK):
        raw = flat[start : start + _BUILD_CHUNK]
        x = as_uint64(raw)
        npa = x // np.uint64(E7)
        bad = (x < MIN) | (x >= MAX) | (x - npa * np.uint64(E7) < REST_MIN)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"numbers[{start + i}] = {raw[i]} is not a ten-digit NANP number "
                "(area code and exchange must start with 2-9)"
            )
        npa = npa.astype(np.int64)
        counts += np.bincount(npa, minlength=1000)
        if grouped:
            grouped = bool(npa[0] >= last) and bool(np.all(npa[1:] >= npa[:-1]))
            last = int(npa[-1])
    return counts, grouped


def _grouped_numbers(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check the numbers and group them by area code (sorting a copy only if they are not).

    Returns:
        ``(flat, counts)``: the numbers as a 1-d array grouped by NPA, and the count per NPA
        (1000 entries, duplicates included).

    Raises:
        TypeError: not an integer array.
        ValueError: a number outside the NANP shape.
    """
    flat = np.asarray(numbers)
    check_integer(flat)
    flat = flat.ravel()
    counts, grouped = _scan(flat)
    if not grouped:
        flat = np.sort(as_uint64(flat).copy())
    return flat, counts


def _write_bitmaps(out: BinaryIO, flat: np.ndarray, present: np.ndarray, ends: np.ndarray) -> int:
    """Write one packed bitmap per present area code at ``out``'s position, in NPA order.

    Args:
        out: the file, positioned at the data offset.
        flat: the numbers grouped by NPA (:func:`_grouped_numbers`).
        present: the area codes present, ascending.
        ends: for each present area code, the index in ``flat`` after its last number.

    Returns:
        The distinct numbers written (duplicates set the same bit).
    """
    bits = np.zeros(NPA_BITS, dtype=np.bool_)
    total = 0
    begin = 0
    for npa, end in zip(present.tolist(), ends.tolist(), strict=True):
        local = as_uint64(flat[begin:end]).astype(np.int64) - (npa * E7 + REST_MIN)
        bits[:] = False
        bits[local] = True
        packed = np.packbits(bits, bitorder="little")
        total += int(np.bitwise_count(packed).sum(dtype=np.int64))
        out.write(packed.tobytes())
        begin = end
    return total


def build_registry(
    path: Path,
    numbers: np.ndarray,
    *,
    list_name: str,
    downloaded_at: datetime | None,
    sources: Sequence[str] = (),
    built_at: datetime,
) -> RegistryMeta:
    """Write a registry file of ``numbers`` to ``path``, atomically replacing any file there.

    The file is written to a temporary file in the same directory, fsynced, then moved over
    ``path`` with ``os.replace``: a reader that has the old file open keeps its old mapping.

    Args:
        path: the registry file to (re)create.
        numbers: any-shape integer array (uint64 expected) of ten-digit NANP numbers; duplicates and
            any order are fine (input grouped by area code, as the FTC files are, builds fastest;
            other input is sorted first, a copy of 8 bytes per number).
        list_name: ``"national"``, a USPS state code, or ``"internal"``.
        downloaded_at: when the source data was downloaded from the registry (aware), or None.
        sources: a description of each source file (name and checksum).
        built_at: the build instant (aware); passed in, this module reads no clock.

    Returns:
        The metadata written, with the distinct count.

    Raises:
        ValueError: a number outside the NANP shape, naming the first one by index and value; a
            naive datetime; an empty ``list_name``.
        TypeError: ``numbers`` is not an integer array.
        OSError: the file cannot be written (nothing is replaced then).
    """
    if not list_name:
        raise ValueError("list_name must not be empty")
    meta = RegistryMeta(
        list_name=list_name,
        count=0,
        built_at=utc(built_at, "built_at"),
        downloaded_at=None if downloaded_at is None else utc(downloaded_at, "downloaded_at"),
        sources=tuple(str(s) for s in sources),
    )
    flat, counts = _grouped_numbers(numbers)
    present = np.flatnonzero(counts)
    slots = np.full(1000, -1, dtype="<i4")
    slots[present] = np.arange(present.size, dtype="<i4")
    meta_room = len(encode_meta(meta)) + 32  # the real count has at most 10 more digits
    data_offset = -(-(META_OFFSET + meta_room) // PAGE) * PAGE
    data_len = present.size * NPA_BYTES

    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.seek(data_offset)
            total = _write_bitmaps(out, flat, present, np.cumsum(counts[present]))
            meta = RegistryMeta(
                list_name=meta.list_name,
                count=total,
                built_at=meta.built_at,
                downloaded_at=meta.downloaded_at,
                sources=meta.sources,
            )
            blob = encode_meta(meta).ljust(meta_room)
            out.truncate(data_offset + data_len)  # an empty list has no bitmaps to extend the file
            out.seek(0)
            out.write(HEADER.pack(MAGIC, len(blob), data_offset, present.size, data_len))
            out.write(slots.tobytes())
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return meta


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``values`` as a sorted unique 1-d uint64 array (not re-sorted when it already is one)."""
    arr = np.asarray(values)
    check_integer(arr)
    arr = as_uint64(arr.ravel())
    if arr.size > 1 and not bool(np.all(arr[1:] > arr[:-1])):
        return np.unique(arr)
    return arr


def apply_changes(current: np.ndarray, additions: np.ndarray, deletions: np.ndarray) -> np.ndarray:
    """Apply a change list: the sorted unique uint64 array ``(current ∪ additions) − deletions``.

    ``current`` is typically ``DncRegistry.numbers()`` (already sorted and unique, so it is not
    re-sorted: cost is one pass plus a binary search per change). Numbers are not validated here;
    ``build_registry`` does that.

    Raises:
        TypeError: an argument is not an integer array.
    """
    cur = _sorted_unique(current)
    add = _sorted_unique(additions)
    if add.size:
        pos = np.searchsorted(cur, add)
        known = pos < cur.size
        known[known] = cur[pos[known]] == add[known]
        cur = np.insert(cur, pos[~known], add[~known])
    dele = _sorted_unique(deletions)
    if dele.size and cur.size:
        pos = np.searchsorted(cur, dele)
        hit = pos < cur.size
        hit[hit] = cur[pos[hit]] == dele[hit]
        cur = np.delete(cur, pos[hit])
    return cur.copy() if np.may_share_memory(cur, np.asarray(current)) else cur
