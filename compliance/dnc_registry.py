"""DNC registry lists (national, state, internal) as memory-mapped bitmaps: build, open, look up.

A registry file holds one list (``list_name``: ``"national"``, a USPS state code, or ``"internal"``)
of ten-digit NANP numbers, an integer ``NPA * 10**7 + NXX * 10**4 + line`` whose NPA (area code)
and NXX (exchange) both start with 2-9 (``ten_digit``). The file is rebuilt on every import
(``build_registry``, atomic via ``os.replace``) and opened read-only with ``mmap``
(``DncRegistry.open``), so opening reads only the header and lookups page in what they touch.

File format, version 1 (all integers little-endian)::

    offset 0     8 bytes   magic b"DNCREG01" (the version is part of the magic)
    offset 8     uint64    meta_len: bytes of the JSON metadata block
    offset 16    uint64    data_offset: start of the bitmaps, a multiple of 4096
    offset 24    uint64    npa_count: number of bitmaps
    offset 32    uint64    data_len = npa_count * 1_000_000
    offset 40    int32[1000]  slot table: slot[NPA] = index of that area code's bitmap, -1 = none
    offset 4040  meta_len bytes  UTF-8 JSON: list_name, count, built_at, downloaded_at (ISO 8601
                 UTC or null), sources (list of str); padded with spaces
    data_offset  npa_count bitmaps of 8,000,000 bits (1,000,000 bytes) each, in ascending NPA
                 order; bit b = NXX * 10**4 + line - 2,000,000 (NXX 200-999) is bit (b % 8),
                 least significant first, of byte b // 8. The file ends at data_offset + data_len.

Size: 1 MB per area code present, whatever its count. The national registry (258.5 M numbers,
COMPLIANCE_RULES.md 1.3) over the 383 area codes that ``phonenumbers`` 9.0.43 knows as US is
383 MB on disk, about 1.5 bytes per registered number, all of it resident once a batch scrub has
touched every page (measured in ``bench/dnc_scrub.py``). A batch lookup is two gathers and a bit
test per number (numpy, no Python loop); a single lookup reads one byte of the mapping.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import struct
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from compliance.errors import ComplianceError

__all__ = [
    "DncRegistry",
    "RegistryFormatError",
    "RegistryMeta",
    "apply_changes",
    "build_registry",
    "ten_digit",
]

MAGIC = b"DNCREG01"
_HEADER = struct.Struct("<8sQQQQ")
_SLOTS_OFFSET = _HEADER.size  # 40
_META_OFFSET = _SLOTS_OFFSET + 1000 * 4  # 4040
_PAGE = 4096
_NPA_BITS = 8_000_000  # NXX 200-999 times 10,000 lines
_NPA_BYTES = _NPA_BITS // 8
_E7 = 10_000_000
_MIN = 2_000_000_000  # NPA 200, NXX 000, line 0000
_MAX = 10_000_000_000  # exclusive
_REST_MIN = 2_000_000  # NXX 200
_CHUNK = 1 << 14  # numbers per batch-lookup step (temporaries stay in cache)
_BUILD_CHUNK = 1 << 24
_E164 = re.compile(r"\+1([2-9]\d{2}[2-9]\d{6})")


class RegistryFormatError(ComplianceError):
    """A registry file that is not one: bad magic or version, truncated, or inconsistent header.

    The message names the file's path.
    """


@dataclass(frozen=True, slots=True)
class RegistryMeta:
    """What a registry file says about itself.

    Attributes:
        list_name: ``"national"``, a USPS state code like ``"TX"``, or ``"internal"``.
        count: distinct registered numbers.
        built_at: when the file was built (aware, UTC).
        downloaded_at: when the source data was downloaded from the registry (aware, UTC); the gate's
            ``DNC_SCRUB_STALE`` check uses it. None when unknown (the gate treats it as stale).
        sources: one line per source file, e.g. ``("ftc-312.zip sha256:ab12...",)``.
    """

    list_name: str
    count: int
    built_at: datetime
    downloaded_at: datetime | None
    sources: tuple[str, ...]


def ten_digit(e164: str) -> int | None:
    """The ten-digit NANP integer of a canonical E.164 number, or None if it cannot be on a DNC list.

    ``"+13125550101"`` gives ``3125550101``. None for anything that is not ``+1`` followed by ten
    digits whose area code and exchange start with 2-9 (non-NANP, malformed, extensions, spaces).
    """
    if not isinstance(e164, str):
        return None
    match = _E164.fullmatch(e164)
    return int(match.group(1)) if match else None


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _as_uint64(chunk: np.ndarray) -> np.ndarray:
    # Negative signed values wrap to >= 2**63, which every range check below rejects.
    return chunk.astype(np.uint64, copy=False)


def _check_integer(numbers: np.ndarray) -> None:
    if numbers.dtype.kind not in "iu":
        raise TypeError(f"numbers must be an integer array, got dtype {numbers.dtype}")


def _scan(flat: np.ndarray) -> tuple[np.ndarray, bool]:
    """Validate every number; return the per-NPA counts and whether the array is grouped by NPA."""
    counts = np.zeros(1000, dtype=np.int64)
    grouped = True
    last = -1
    for start in range(0, flat.size, _BUILD_CHUNK):
        raw = flat[start : start + _BUILD_CHUNK]
        x = _as_uint64(raw)
        npa = x // np.uint64(_E7)
        bad = (x < _MIN) | (x >= _MAX) | (x - npa * np.uint64(_E7) < _REST_MIN)
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


def _meta_json(meta: RegistryMeta) -> bytes:
    return json.dumps(
        {
            "list_name": meta.list_name,
            "count": meta.count,
            "built_at": meta.built_at.isoformat(),
            "downloaded_at": meta.downloaded_at.isoformat() if meta.downloaded_at else None,
            "sources": list(meta.sources),
        },
        sort_keys=True,
    ).encode()


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
        built_at=_utc(built_at, "built_at"),
        downloaded_at=None if downloaded_at is None else _utc(downloaded_at, "downloaded_at"),
        sources=tuple(str(s) for s in sources),
    )
    flat = np.asarray(numbers)
    _check_integer(flat)
    flat = flat.ravel()
    counts, grouped = _scan(flat)
    if not grouped:
        flat = np.sort(_as_uint64(flat).copy())
    present = np.flatnonzero(counts)
    slots = np.full(1000, -1, dtype="<i4")
    slots[present] = np.arange(present.size, dtype="<i4")
    ends = np.cumsum(counts[present])
    meta_room = len(_meta_json(meta)) + 32  # the real count has at most 10 more digits
    data_offset = -(-(_META_OFFSET + meta_room) // _PAGE) * _PAGE
    data_len = present.size * _NPA_BYTES

    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.seek(data_offset)
            bits = np.zeros(_NPA_BITS, dtype=np.bool_)
            total = 0
            begin = 0
            for npa, end in zip(present.tolist(), ends.tolist(), strict=True):
                local = _as_uint64(flat[begin:end]).astype(np.int64) - (npa * _E7 + _REST_MIN)
                bits[:] = False
                bits[local] = True
                packed = np.packbits(bits, bitorder="little")
                total += int(np.bitwise_count(packed).sum(dtype=np.int64))
                out.write(packed.tobytes())
                begin = end
            meta = RegistryMeta(
                list_name=meta.list_name,
                count=total,
                built_at=meta.built_at,
                downloaded_at=meta.downloaded_at,
                sources=meta.sources,
            )
            blob = _meta_json(meta).ljust(meta_room)
            out.truncate(data_offset + data_len)  # an empty list has no bitmaps to extend the file
            out.seek(0)
            out.write(_HEADER.pack(MAGIC, len(blob), data_offset, present.size, data_len))
            out.write(slots.tobytes())
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return meta


def _parse_time(value: object, path: Path) -> datetime | None:
    if value is None:
        return None
    try:
        return _utc(datetime.fromisoformat(str(value)), "time")
    except ValueError:
        raise RegistryFormatError(f"{path}: bad timestamp {value!r} in metadata") from None


class DncRegistry:
    """One DNC list, memory-mapped read-only from a file written by ``build_registry``.

    Thread-safe for lookups (the mapping is read-only). Use as a context manager or call ``close``;
    lookups on a closed registry raise ValueError.

    Attributes:
        meta: the file's metadata (list name, distinct count, build and download times, sources).
        path: the file opened.
    """

    def __init__(self, path: Path, mm: mmap.mmap, meta: RegistryMeta, slots: np.ndarray, offset: int):
        self.path = path
        self.meta = meta
        self._mm: mmap.mmap | None = mm
        self._offset = offset
        self._slot_list: list[int] = slots.tolist()
        # base bit index of each NPA's bitmap in the data block, -1 where the NPA is absent
        self._base = np.append(np.where(slots >= 0, slots.astype(np.int64) * _NPA_BITS, -1), -1)
        self._data: np.ndarray | None = np.frombuffer(
            mm, dtype=np.uint8, count=int((slots >= 0).sum()) * _NPA_BYTES, offset=offset
        )

    @classmethod
    def open(cls, path: Path) -> DncRegistry:
        """Map ``path`` read-only and check its header; reads the header only, not the bitmaps.

        Raises:
            RegistryFormatError: not a registry file (bad magic/version), truncated, or an
                inconsistent header; the message names the path.
            OSError: the file cannot be opened.
        """
        path = Path(path)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < _META_OFFSET:
                raise RegistryFormatError(f"{path}: not a DNC registry file (only {size} bytes)")
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            magic, meta_len, offset, npa_count, data_len = _HEADER.unpack_from(mm, 0)
            if magic != MAGIC:
                if magic[:6] == MAGIC[:6]:
                    raise RegistryFormatError(f"{path}: unsupported registry version {magic[6:]!r}")
                raise RegistryFormatError(f"{path}: not a DNC registry file (bad magic {magic!r})")
            slots = np.frombuffer(mm, dtype="<i4", count=1000, offset=_SLOTS_OFFSET).copy()
            present = slots[slots >= 0]
            if (
                data_len != npa_count * _NPA_BYTES
                or offset % _PAGE
                or offset < _META_OFFSET + meta_len
                or present.size != npa_count
                or not np.array_equal(present, np.arange(npa_count))
            ):
                raise RegistryFormatError(f"{path}: inconsistent registry header")
            if size != offset + data_len:
                raise RegistryFormatError(
                    f"{path}: truncated or padded registry file ({size} bytes, header says "
                    f"{offset + data_len})"
                )
            try:
                raw = json.loads(mm[_META_OFFSET : _META_OFFSET + meta_len])
                built_at = _parse_time(raw["built_at"], path)
                if built_at is None:
                    raise RegistryFormatError(f"{path}: registry metadata has no built_at")
                meta = RegistryMeta(
                    list_name=str(raw["list_name"]),
                    count=int(raw["count"]),
                    built_at=built_at,
                    downloaded_at=_parse_time(raw["downloaded_at"], path),
                    sources=tuple(str(s) for s in raw["sources"]),
                )
            except (ValueError, KeyError, TypeError) as exc:
                if isinstance(exc, RegistryFormatError):
                    raise
                raise RegistryFormatError(f"{path}: bad registry metadata ({exc})") from None
            return cls(path, mm, meta, slots, offset)
        except BaseException:
            mm.close()
            raise

    def _mapping(self) -> tuple[mmap.mmap, np.ndarray]:
        if self._mm is None or self._data is None:
            raise ValueError(f"registry {self.path} is closed")
        return self._mm, self._data

    def __contains__(self, number: object) -> bool:
        """Whether the ten-digit integer ``number`` is on the list (False if it cannot be).

        Raises:
            TypeError: ``number`` is not an integer (a string here would be a bug, not a miss).
            ValueError: the registry is closed.
        """
        if isinstance(number, bool) or not isinstance(number, int | np.integer):
            raise TypeError(f"DNC lookups take a ten-digit integer, got {type(number).__name__}")
        mm, _ = self._mapping()
        n = int(number)
        if not _MIN <= n < _MAX:
            return False
        npa, rest = divmod(n, _E7)
        slot = self._slot_list[npa]
        if rest < _REST_MIN or slot < 0:
            return False
        bit = slot * _NPA_BITS + rest - _REST_MIN
        return bool((mm[self._offset + (bit >> 3)] >> (bit & 7)) & 1)

    def contains_e164(self, e164: str) -> bool:
        """Whether the E.164 number is on the list; False for numbers that cannot be on a NANP list."""
        n = ten_digit(e164)
        return False if n is None else n in self

    def contains_many(self, numbers: np.ndarray) -> np.ndarray:
        """Batch lookup: a bool array of ``numbers``' shape, True where the number is on the list.

        Args:
            numbers: integer array (uint64 or int64) of ten-digit numbers; invalid ones give False.

        Raises:
            TypeError: ``numbers`` is not an integer array.
            ValueError: the registry is closed.
        """
        _, data = self._mapping()
        arr = np.asarray(numbers)
        _check_integer(arr)
        flat = arr.ravel()
        out = np.zeros(flat.size, dtype=np.bool_)
        if data.size == 0:
            return out.reshape(arr.shape)
        base = self._base
        for start in range(0, flat.size, _CHUNK):
            x = _as_uint64(flat[start : start + _CHUNK]).astype(np.int64)  # values >= 2**63 turn < 0
            npa = x // _E7
            rest = x - npa * _E7 - _REST_MIN
            np.clip(npa, 0, 1000, out=npa)  # 0-199 and 1000 are absent (-1) in the base table
            bit = base[npa]
            ok = (bit >= 0) & (rest >= 0)
            bit += rest
            bit *= ok
            hit = data[bit >> 3] >> (bit & 7).astype(np.uint8)
            np.logical_and(hit & np.uint8(1), ok, out=out[start : start + _CHUNK])
        return out.reshape(arr.shape)

    def numbers(self) -> np.ndarray:
        """Every registered number, ascending, as uint64 (8 bytes each: 2 GB for the national list).

        Raises:
            RegistryFormatError: the bitmaps do not hold ``meta.count`` numbers (a damaged file).
            ValueError: the registry is closed.
        """
        _, data = self._mapping()
        out = np.empty(self.meta.count, dtype=np.uint64)
        pos = 0
        for npa, slot in enumerate(self._slot_list):
            if slot < 0:
                continue
            block = data[slot * _NPA_BYTES : (slot + 1) * _NPA_BYTES]
            found = np.flatnonzero(np.unpackbits(block, bitorder="little"))
            if pos + found.size > out.size:
                raise RegistryFormatError(f"{self.path}: holds more numbers than its count")
            out[pos : pos + found.size] = found.astype(np.uint64) + np.uint64(npa * _E7 + _REST_MIN)
            pos += found.size
        if pos != out.size:
            raise RegistryFormatError(f"{self.path}: holds {pos} numbers, metadata says {out.size}")
        return out

    def close(self) -> None:
        """Unmap the file. Idempotent."""
        self._data = None
        mm, self._mm = self._mm, None
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                pass  # a caller still holds a view (e.g. a traceback frame); unmapped when it goes

    def __enter__(self) -> DncRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DncRegistry({str(self.path)!r}, list_name={self.meta.list_name!r}, count={self.meta.count})"


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    _check_integer(arr)
    arr = _as_uint64(arr.ravel())
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
