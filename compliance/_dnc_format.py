"""The DNC registry file format, version 1: its layout, its metadata, and the numbers it can hold.

Shared by the builder (:mod:`compliance._dnc_build`) and the reader
(:class:`compliance.dnc_registry.DncRegistry`); the public names are re-exported by
:mod:`compliance.dnc_registry`.

A registry file holds one list (``list_name``: ``"national"``, a USPS state code, or ``"internal"``)
of ten-digit NANP numbers, an integer ``NPA * 10**7 + NXX * 10**4 + line`` whose NPA (area code)
and NXX (exchange) both start with 2-9 (:func:`ten_digit`). All integers little-endian::

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
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from compliance.errors import ComplianceError

MAGIC = b"DNCREG01"
HEADER = struct.Struct("<8sQQQQ")
"""magic, meta_len, data_offset, npa_count, data_len."""
SLOTS_OFFSET = HEADER.size  # 40
META_OFFSET = SLOTS_OFFSET + 1000 * 4  # 4040
PAGE = 4096
NPA_BITS = 8_000_000  # NXX 200-999 times 10,000 lines
NPA_BYTES = NPA_BITS // 8
E7 = 10_000_000
MIN = 2_000_000_000  # NPA 200, NXX 000, line 0000
MAX = 10_000_000_000  # exclusive
REST_MIN = 2_000_000  # NXX 200
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


def utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC; ValueError naming ``name`` when it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def as_uint64(chunk: np.ndarray) -> np.ndarray:
    """An integer array as uint64, without a copy when it already is one."""
    # Negative signed values wrap to >= 2**63, which every range check rejects.
    return chunk.astype(np.uint64, copy=False)


def check_integer(numbers: np.ndarray) -> None:
    """TypeError unless ``numbers`` is an integer array."""
    if numbers.dtype.kind not in "iu":
        raise TypeError(f"numbers must be an integer array, got dtype {numbers.dtype}")


def encode_meta(meta: RegistryMeta) -> bytes:
    """The metadata block's JSON (UTF-8, keys sorted, times ISO 8601), before padding."""
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


def _parse_time(value: object, path: Path) -> datetime | None:
    """A metadata timestamp (ISO 8601, or None) as an aware UTC datetime.

    Raises:
        RegistryFormatError: not an aware ISO 8601 timestamp.
    """
    if value is None:
        return None
    try:
        return utc(datetime.fromisoformat(str(value)), "time")
    except ValueError:
        raise RegistryFormatError(f"{path}: bad timestamp {value!r} in metadata") from None


def decode_meta(block: bytes, path: Path) -> RegistryMeta:
    """The metadata block read back (trailing padding allowed).

    Raises:
        RegistryFormatError: not JSON, a field missing or of the wrong type, a bad timestamp, or no
            ``built_at``; the message names ``path``.
    """
    try:
        raw: Any = json.loads(block)
        built_at = _parse_time(raw["built_at"], path)
        if built_at is None:
            raise RegistryFormatError(f"{path}: registry metadata has no built_at")
        return RegistryMeta(
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
