"""DNC registry lists (national, state, internal) as memory-mapped bitmaps: build, open, look up.

A registry file holds one list (``list_name``: ``"national"``, a USPS state code, or ``"internal"``)
of ten-digit NANP numbers, an integer ``NPA * 10**7 + NXX * 10**4 + line`` whose NPA (area code)
and NXX (exchange) both start with 2-9 (``ten_digit``). The file is rebuilt on every import
(``build_registry``, atomic via ``os.replace``) and opened read-only with ``mmap``
(``DncRegistry.open``), so opening reads only the header and lookups page in what they touch.

This module is the public surface and holds the reader, :class:`DncRegistry`. The file format
(version 1: a header, a slot table per area code, JSON metadata, one 1 MB bitmap per area code
present) is documented and encoded in :mod:`compliance._dnc_format`; building files and applying
change lists is :mod:`compliance._dnc_build`. Both are private: import their names from here.

Size: 1 MB per area code present, whatever its count. The national registry (258.5 M numbers,
COMPLIANCE_RULES.md 1.3) over the 383 area codes that ``phonenumbers`` 9.0.43 knows as US is
383 MB on disk, about 1.5 bytes per registered number, all of it resident once a batch scrub has
touched every page (measured in ``bench/dnc_scrub.py``). A batch lookup is two gathers and a bit
test per number (numpy, no Python loop); a single lookup reads one byte of the mapping.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import numpy as np

from compliance._dnc_build import apply_changes, build_registry
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
    SLOTS_OFFSET,
    RegistryFormatError,
    RegistryMeta,
    as_uint64,
    check_integer,
    decode_meta,
    ten_digit,
)

__all__ = [
    "DncRegistry",
    "RegistryFormatError",
    "RegistryMeta",
    "apply_changes",
    "build_registry",
    "ten_digit",
]

_CHUNK = 1 << 14  # numbers per batch-lookup step (temporaries stay in cache)


def _checked_header(mm: mmap.mmap, size: int, path: Path) -> tuple[int, int, np.ndarray]:
    """Read and check a mapped file's header and slot table against its ``size`` in bytes.

    Returns:
        ``(meta_len, data_offset, slots)``: the metadata block's length, where the bitmaps start,
        and a copy of the slot table (1000 int32, -1 for an absent area code).

    Raises:
        RegistryFormatError: bad magic or an unsupported version, an inconsistent header, or a
            file longer or shorter than the header says; the message names ``path``.
    """
    magic, meta_len, offset, npa_count, data_len = HEADER.unpack_from(mm, 0)
    if magic != MAGIC:
        if magic[:6] == MAGIC[:6]:
            raise RegistryFormatError(f"{path}: unsupported registry version {magic[6:]!r}")
        raise RegistryFormatError(f"{path}: not a DNC registry file (bad magic {magic!r})")
    slots = np.frombuffer(mm, dtype="<i4", count=1000, offset=SLOTS_OFFSET).copy()
    present = slots[slots >= 0]
    if (
        data_len != npa_count * NPA_BYTES
        or offset % PAGE
        or offset < META_OFFSET + meta_len
        or present.size != npa_count
        or not np.array_equal(present, np.arange(npa_count))
    ):
        raise RegistryFormatError(f"{path}: inconsistent registry header")
    if size != offset + data_len:
        raise RegistryFormatError(
            f"{path}: truncated or padded registry file ({size} bytes, header says {offset + data_len})"
        )
    return meta_len, offset, slots


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
        self._base = np.append(np.where(slots >= 0, slots.astype(np.int64) * NPA_BITS, -1), -1)
        self._data: np.ndarray | None = np.frombuffer(
            mm, dtype=np.uint8, count=int((slots >= 0).sum()) * NPA_BYTES, offset=offset
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
            if size < META_OFFSET:
                raise RegistryFormatError(f"{path}: not a DNC registry file (only {size} bytes)")
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            meta_len, offset, slots = _checked_header(mm, size, path)
            meta = decode_meta(mm[META_OFFSET : META_OFFSET + meta_len], path)
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
        if not MIN <= n < MAX:
            return False
        npa, rest = divmod(n, E7)
        slot = self._slot_list[npa]
        if rest < REST_MIN or slot < 0:
            return False
        bit = slot * NPA_BITS + rest - REST_MIN
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
        check_integer(arr)
        flat = arr.ravel()
        out = np.zeros(flat.size, dtype=np.bool_)
        if data.size == 0:
            return out.reshape(arr.shape)
        base = self._base
        for start in range(0, flat.size, _CHUNK):
            x = as_uint64(flat[start : start + _CHUNK]).astype(np.int64)  # values >= 2**63 turn < 0
            npa = x // E7
            rest = x - npa * E7 - REST_MIN
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
            block = data[slot * NPA_BYTES : (slot + 1) * NPA_BYTES]
            found = np.flatnonzero(np.unpackbits(block, bitorder="little"))
            if pos + found.size > out.size:
                raise RegistryFormatError(f"{self.path}: holds more numbers than its count")
            out[pos : pos + found.size] = found.astype(np.uint64) + np.uint64(npa * E7 + REST_MIN)
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
