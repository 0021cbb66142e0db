"""The DNC registry files on the dialer side: where they are, dial-time lookup, import-time scrub, status.

The national registry (about 258.5 million numbers, COMPLIANCE_RULES 1.3) and the state lists
(2.1 notes: CO, FL, IN, LA, MA, MO, OK, PA, TN, TX, WY, and MS as uncertain) are kept as one
memory-mapped file per list, ``<directory>/<list>.dncr`` (``national.dncr``, ``TX.dncr``), built by
:func:`compliance.dnc_registry.build_registry` from the FTC / state files read by
:mod:`compliance.dnc_files`. Writing them is :mod:`dialer.registry.build` (files only) and
:mod:`dialer.registry.imports` (recorded in the database, published on commit); Reassigned Numbers
Database answers are :mod:`dialer.registry.rnd`.

Readers (:meth:`RegistryStore.lookup`, :meth:`RegistryStore.scrub`) keep each list open (mmap) per
process and reopen it when the file on disk changes (inode, mtime or size differ), so a running
worker sees a new import without a restart. A replaced file is never closed under a reader: its
mapping stays valid until the last reference goes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from compliance.dnc_registry import DncRegistry, RegistryFormatError, RegistryMeta, ten_digit
from compliance.policy import conservative_policy
from dialer.errors import RegistryError as RegistryError
from dialer.errors import RegistryFileError as RegistryFileError
from dialer.settings import Settings

NATIONAL = "national"
"""The list name of the FTC National Do Not Call Registry."""
INTERNAL = "internal"
"""The company-specific list (``dnc_entries``), imported by :func:`~dialer.consent.import_internal_list`."""
STATE_LISTS: frozenset[str] = frozenset(conservative_policy().rules.dnc_lists)
"""States with their own DNC list: the ``dnc_list`` rows of the rule data (``state_rules.toml``)."""
SUFFIX = ".dncr"
"""File name suffix of a registry file (``national.dncr``)."""
STALE_AFTER = timedelta(days=conservative_policy().dnc_max_age_days)
"""National data older than this is stale: the gate's own threshold (``Policy.dnc_max_age_days``,
CP-10 ``DNC_SCRUB_STALE``; 16 CFR 310.4(b)(3)(iv)), shown by ``dialer dnc status``."""


def read_text(path: Path) -> str:
    """The text of an operator's input file: UTF-8, a leading byte-order mark dropped.

    Raises:
        RegistryFileError: the file cannot be read or is not UTF-8 (the byte offset named).
    """
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise RegistryFileError.unreadable(exc, path) from None
    except UnicodeDecodeError as exc:
        raise RegistryFileError(f"not UTF-8 text (byte {exc.start})", path=path) from None


def check_list_name(list_name: str) -> str:
    """The canonical name of a registry list: ``national`` or an upper-case state code.

    Raises:
        RegistryError: not ``national`` nor a state with its own DNC list.
    """
    name = list_name.strip()
    if name.lower() == NATIONAL:
        return NATIONAL
    if name.upper() in STATE_LISTS:
        return name.upper()
    raise RegistryError(
        f"{list_name!r} is not a DNC registry list; use 'national' or a state with its own list "
        f"({', '.join(sorted(STATE_LISTS))})"
    )


@dataclass(frozen=True, slots=True)
class RegistryHits:
    """Where one number is listed, as of the registry files on disk.

    Attributes:
        national: on the national registry.
        state_lists: state codes of the state lists it is on, sorted.
        national_downloaded_at: when the national data was downloaded (UTC), the input of the
            31-day rule; None when there is no national list (or it does not say).
        national_present: a national list exists; when False the number could not be checked
            and the gate must block (fail closed).
    """

    national: bool
    state_lists: tuple[str, ...]
    national_downloaded_at: datetime | None
    national_present: bool

    @property
    def listed(self) -> bool:
        """On the national list or any state list."""
        return self.national or bool(self.state_lists)


@dataclass(frozen=True, slots=True)
class ScrubCounts:
    """How many of a batch of numbers are on each list (the import-time scrub).

    Attributes:
        checked: numbers scrubbed.
        national_present: a national list exists (when False, ``national`` is 0 and means nothing).
        national: numbers on the national list.
        states: ``{state code: numbers on that state's list}`` for every state list present.
        national_downloaded_at: when the national data was downloaded (UTC), if known.
        listed: numbers on at least one list (national or state).
    """

    checked: int
    national_present: bool
    national: int
    states: dict[str, int] = field(default_factory=dict)
    national_downloaded_at: datetime | None = None
    listed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the audit log and reports)."""
        return {
            "checked": self.checked,
            "national_present": self.national_present,
            "national": self.national,
            "states": dict(sorted(self.states.items())),
            "national_downloaded_at": (
                self.national_downloaded_at.isoformat() if self.national_downloaded_at else None
            ),
            "listed": self.listed,
        }


class RegistryStore:
    """The DNC registry files of one directory, with a per-process cache of opened lists.

    Args:
        directory: where ``<list>.dncr`` files live (``Settings.dnc_dir``); created on import.

    Thread-safe: lookups from several threads share the cache under a lock.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[int, int, int], DncRegistry]] = {}

    def path_for(self, list_name: str) -> Path:
        """The registry file of ``list_name`` (which need not exist).

        Raises:
            RegistryError: unknown list name.
        """
        return self.directory / f"{check_list_name(list_name)}{SUFFIX}"

    def _current(self) -> dict[str, DncRegistry]:
        """Every list present, opened (reopened when its file changed since the last call)."""
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            entries = []
        with self._lock:
            found: dict[str, DncRegistry] = {}
            for entry in entries:
                if entry.name.startswith(".") or not entry.name.endswith(SUFFIX):
                    continue
                stem = entry.name[: -len(SUFFIX)]
                if stem != NATIONAL and stem not in STATE_LISTS:
                    continue
                try:
                    # stat before open: a file replaced in between is seen as changed next time.
                    st = os.stat(entry.path)
                except FileNotFoundError:
                    continue
                key = (st.st_ino, st.st_mtime_ns, st.st_size)
                cached = self._cache.get(stem)
                if cached is None or cached[0] != key:
                    try:
                        registry = DncRegistry.open(Path(entry.path))
                    except (RegistryFormatError, OSError) as exc:
                        raise RegistryError(
                            f"the {stem} registry file {entry.path} is unreadable: {exc}"
                        ) from None
                    # The replaced registry is not closed: another thread may still be reading it.
                    cached = (key, registry)
                    self._cache[stem] = cached
                found[stem] = cached[1]
            for gone in set(self._cache) - set(found):
                del self._cache[gone]
            return found

    def lookup(self, e164: str) -> RegistryHits:
        """Dial-time lookup of one number on the national list and every state list present.

        Args:
            e164: the number (``+13125550101``); a non-NANP number is on no list.

        Raises:
            RegistryError: a registry file is unreadable (the gate must block: fail closed).
        """
        number = ten_digit(e164)
        registries = self._current()
        national = registries.get(NATIONAL)
        states = tuple(
            sorted(
                name
                for name, registry in registries.items()
                if name != NATIONAL and number is not None and number in registry
            )
        )
        return RegistryHits(
            national=national is not None and number is not None and number in national,
            state_lists=states,
            national_downloaded_at=national.meta.downloaded_at if national is not None else None,
            national_present=national is not None,
        )

    def _masks(self, e164s: Sequence[str]) -> tuple[dict[str, DncRegistry], dict[str, np.ndarray]]:
        numbers = np.array([ten_digit(e) or 0 for e in e164s], dtype=np.uint64)
        valid = numbers != 0
        registries = self._current()
        masks = {
            name: np.asarray(registry.contains_many(numbers), dtype=bool) & valid
            for name, registry in registries.items()
        }
        return registries, masks

    def scrub(self, e164s: Sequence[str]) -> dict[str, RegistryHits]:
        """Batch lookup (import time): ``{e164: hits}`` for every distinct number given.

        Raises:
            RegistryError: a registry file is unreadable.
        """
        unique = list(dict.fromkeys(e164s))
        registries, masks = self._masks(unique)
        national = registries.get(NATIONAL)
        downloaded_at = national.meta.downloaded_at if national is not None else None
        states = sorted(name for name in masks if name != NATIONAL)
        return {
            e164: RegistryHits(
                national=bool(masks[NATIONAL][i]) if national is not None else False,
                state_lists=tuple(s for s in states if masks[s][i]),
                national_downloaded_at=downloaded_at,
                national_present=national is not None,
            )
            for i, e164 in enumerate(unique)
        }

    def scrub_counts(self, e164s: Sequence[str]) -> ScrubCounts:
        """How many of ``e164s`` (distinct) are on the national list and on each state list present.

        Raises:
            RegistryError: a registry file is unreadable.
        """
        unique = list(dict.fromkeys(e164s))
        registries, masks = self._masks(unique)
        national = registries.get(NATIONAL)
        listed = np.zeros(len(unique), dtype=bool)
        for mask in masks.values():
            listed |= mask
        return ScrubCounts(
            checked=len(unique),
            national_present=national is not None,
            national=int(masks[NATIONAL].sum()) if national is not None else 0,
            states={name: int(mask.sum()) for name, mask in masks.items() if name != NATIONAL},
            national_downloaded_at=national.meta.downloaded_at if national is not None else None,
            listed=int(listed.sum()),
        )

    def status(self) -> list[RegistryMeta]:
        """The metadata of every list present: national first, then states by code.

        Raises:
            RegistryError: a registry file is unreadable.
        """
        registries = self._current()
        order = sorted(registries, key=lambda name: (name != NATIONAL, name))
        return [registries[name].meta for name in order]

    def national_age(self, now: datetime) -> timedelta | None:
        """``now - downloaded_at`` of the national data on disk; None when missing or undated.

        The gate blocks with ``DNC_SCRUB_STALE`` past :data:`STALE_AFTER` and when this is None.
        """
        national = self._current().get(NATIONAL)
        if national is None or national.meta.downloaded_at is None:
            return None
        return now - national.meta.downloaded_at


@lru_cache(maxsize=8)
def _store_for(directory: Path) -> RegistryStore:
    return RegistryStore(directory)


def registry_store(settings: Settings) -> RegistryStore:
    """The process-wide store for ``settings.dnc_dir`` (one cache of opened lists per process)."""
    return _store_for(Path(settings.dnc_dir).resolve())


def is_stale(downloaded_at: datetime | None, now: datetime) -> bool:
    """True when registry data downloaded at ``downloaded_at`` is too old to call on (CP-10)."""
    return downloaded_at is None or now - downloaded_at > STALE_AFTER
