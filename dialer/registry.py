"""DNC registries on the dialer side: import, status, dial-time lookup, import-time scrub, RND answers.

The national registry (about 258.5 million numbers, COMPLIANCE_RULES 1.3) and the state lists
(2.1 notes: CO, FL, IN, LA, MA, MO, OK, PA, TN, TX, WY, and MS as uncertain) are kept as one
memory-mapped file per list, ``<directory>/<list>.dncr`` (``national.dncr``, ``TX.dncr``), built by
:func:`compliance.dnc_registry.build_registry` from the FTC / state files read by
:mod:`compliance.dnc_files`. The database keeps the audit side: a :class:`~dialer.models.DncSource`
row per imported file and a ``dnc.registry_imported`` audit event.

Ordering and atomicity of an import (:func:`import_registry`), chosen so that the list on disk and
the database never disagree after a failure that the process survives:

1. The audit chain head row is locked first (``FOR UPDATE``; SQLite's write lock does the same),
   so two imports of one list serialize and a change list is applied to the registry the previous
   import left, never to one a concurrent import is replacing.
2. Every file is read and checked before anything is written; a bad file raises
   :class:`RegistryFileError` (path, line, column) with nothing changed.
3. The new registry is built into a hidden staging file in the same directory.
4. The ``DncSource`` rows and the audit event are written and flushed in the caller's transaction.
5. The staging file replaces the list (``os.replace``, atomic) in the session's ``before_commit``,
   after a hard link of the previous file has been kept as a backup; if publishing fails, the
   commit fails and the database rolls back. If the commit itself then fails, the backup is put
   back when the transaction ends. After a successful commit the backup is removed; a transaction
   that ends without committing removes the staging file.

The remaining window is a crash of the process between the rename and the database commit (a few
milliseconds): the newer list would be on disk without its rows. The registry file carries its own
``downloaded_at`` and the sources (file name and sha256 of each file) it was built from, so the
staleness the gate computes is always that of the data actually on disk, and such a file can be
told apart from the ``dnc_sources`` rows.

Readers (:meth:`RegistryStore.lookup`, :meth:`RegistryStore.scrub`) keep each list open (mmap) per
process and reopen it when the file on disk changes (inode, mtime or size differ), so a running
worker sees a new import without a restart. A replaced file is never closed under a reader: its
mapping stays valid until the last reference goes.

Reassigned numbers (47 CFR 64.1200(m)): :func:`record_rnd_results` stores the FCC Reassigned
Numbers Database answers an operator imports; :func:`latest_rnd` gives the newest for a number.
"""

from __future__ import annotations

import csv
import hashlib
import os
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from compliance import PhoneNumberError, normalize_phone
from compliance.dnc_files import DncFileError, read_change_list, read_full_list
from compliance.dnc_registry import (
    DncRegistry,
    RegistryFormatError,
    RegistryMeta,
    apply_changes,
    build_registry,
    ten_digit,
)
from compliance.policy import conservative_policy
from dialer.audit import record_event
from dialer.db import lock_for_update
from dialer.dnc import add_internal_dnc
from dialer.errors import DialerError
from dialer.models import AuditChainHead, DncEntry, DncSource, RndResult
from dialer.settings import Settings

NATIONAL = "national"
"""The list name of the FTC National Do Not Call Registry."""
INTERNAL = "internal"
"""The company-specific list (``dnc_entries``), imported through :func:`import_internal_list`."""
STATE_LISTS: frozenset[str] = frozenset(
    {"CO", "FL", "IN", "LA", "MA", "MO", "OK", "PA", "TN", "TX", "WY", "MS"}
)
"""States with their own DNC list (COMPLIANCE_RULES 2.1 notes; MS is uncertain but kept: fail closed)."""
SUFFIX = ".dncr"
"""File name suffix of a registry file (``national.dncr``)."""
STALE_AFTER = timedelta(days=conservative_policy().dnc_max_age_days)
"""National data older than this is stale: the gate's own threshold (``Policy.dnc_max_age_days``,
CP-10 ``DNC_SCRUB_STALE``; 16 CFR 310.4(b)(3)(iv)), shown by ``dialer dnc status``."""

RegistryKind = Literal["full", "change"]
RndAnswer = Literal["yes", "no", "no_data"]
RND_ANSWERS: frozenset[str] = frozenset({"yes", "no", "no_data"})
RND_COLUMNS: tuple[str, ...] = ("phone", "queried_at", "consent_date", "result")
_HASH_CHUNK = 1 << 20


class RegistryError(DialerError):
    """A registry import or lookup that cannot be done (unknown list, bad time, unreadable file)."""

    status_code = 422


class RegistryFileError(RegistryError):
    """An input file that cannot be imported; nothing was written.

    Attributes:
        path: the file.
        line: 1-based line (or CSV row) of the problem, when it is in one place.
        column: 1-based column, or the CSV column's name, when known.
    """

    def __init__(self, message: str, *, path: Path | str, line: int | None = None, column: Any = None):
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(message if message.startswith(where) else f"{where}: {message}")
        self.path = str(path)
        self.line = line
        self.column = column


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


def _check_times(downloaded_at: datetime, now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if downloaded_at.tzinfo is None:
        raise RegistryError("the download time needs a UTC offset, e.g. 2026-11-20T09:30:00-06:00")
    if downloaded_at > now:
        raise RegistryError(
            f"the download time {downloaded_at.isoformat()} is in the future (now is {now.isoformat()})"
        )


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One input file of an import.

    Attributes:
        path: the file as given.
        sha256: hex digest of its bytes.
        numbers: numbers it carries (a change list: additions + deletions).
    """

    path: Path
    sha256: str
    numbers: int


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What a registry import did.

    Attributes:
        list_name: ``national`` or a state code.
        kind: ``full`` or ``change``.
        files: the input files, in the order applied.
        count_before: numbers on the list before (0 when there was no list).
        count_after: numbers on the list after.
        additions: numbers added by the change lists (as listed in the files; 0 for a full list).
        deletions: numbers deleted by the change lists (as listed; 0 for a full list).
        downloaded_at: when the files were downloaded from the registry (UTC); the list's age.
        imported_at: the product's clock at import (UTC).
        path: the registry file.
        source_ids: ids of the ``DncSource`` rows (empty when imported without a database).
    """

    list_name: str
    kind: RegistryKind
    files: tuple[SourceFile, ...]
    count_before: int
    count_after: int
    additions: int
    deletions: int
    downloaded_at: datetime
    imported_at: datetime
    path: Path
    source_ids: tuple[int, ...] = ()


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
    """

    checked: int
    national_present: bool
    national: int
    states: dict[str, int] = field(default_factory=dict)
    national_downloaded_at: datetime | None = None

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
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _file_error(exc: DncFileError, path: Path) -> RegistryFileError:
    return RegistryFileError(
        exc.reason,
        path=exc.path or path,
        line=getattr(exc, "line", None),
        column=getattr(exc, "column", None),
    )


class _Staged:
    """A registry built into a hidden file beside its list, waiting to replace it."""

    def __init__(self, summary: ImportSummary, staged: Path) -> None:
        self.summary = summary
        self.staged = staged
        self.target = summary.path
        self.backup: Path | None = None
        self.published = False
        self.settled = False

    def publish(self) -> None:
        """Keep a hard link of the current list as a backup, then atomically replace it."""
        if self.target.exists():
            backup = self.target.with_name(f".{self.target.name}.{uuid.uuid4().hex}.backup")
            os.link(self.target, backup)
            self.backup = backup
        os.replace(self.staged, self.target)
        self.published = True

    def commit(self) -> None:
        """The import is final: drop the backup."""
        self.settled = True
        if self.backup is not None:
            self.backup.unlink(missing_ok=True)

    def abandon(self) -> None:
        """The import did not happen: put the previous list back (or remove the new one)."""
        self.settled = True
        if self.published:
            if self.backup is not None:
                os.replace(self.backup, self.target)
            else:
                self.target.unlink(missing_ok=True)
        else:
            self.staged.unlink(missing_ok=True)
            if self.backup is not None:
                self.backup.unlink(missing_ok=True)


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

    # ------------------------------------------------------------------ imports (files only)

    def import_full(
        self, list_name: str, files: Sequence[Path], *, downloaded_at: datetime, now: datetime
    ) -> ImportSummary:
        """Replace the list with the union of the full-list files (no database; see :func:`import_registry`).

        Args:
            list_name: ``national`` or a state code.
            files: FTC/state full-list files (flat text, zipped or not).
            downloaded_at: when they were downloaded from the registry (aware, not in the future).
            now: the product's clock (aware).

        Raises:
            RegistryFileError: a file cannot be read (path, line, column); nothing changed.
            RegistryError: unknown list, no files, naive or future download time.
        """
        staged = self._stage(list_name, "full", files, downloaded_at=downloaded_at, now=now)
        return self._publish_now(staged)

    def import_changes(
        self, list_name: str, files: Sequence[Path], *, downloaded_at: datetime, now: datetime
    ) -> ImportSummary:
        """Apply change-list files, in order, to the existing list (no database).

        Raises:
            RegistryFileError: a file cannot be read; nothing changed.
            RegistryError: no registry for the list yet (import a full list first), the change
                list is older than the list's data, or as :meth:`import_full`.
        """
        staged = self._stage(list_name, "change", files, downloaded_at=downloaded_at, now=now)
        return self._publish_now(staged)

    def _publish_now(self, staged: _Staged) -> ImportSummary:
        try:
            staged.publish()
        except BaseException:
            staged.abandon()
            raise
        staged.commit()
        return staged.summary

    def _stage(
        self,
        list_name: str,
        kind: RegistryKind,
        files: Sequence[Path],
        *,
        downloaded_at: datetime,
        now: datetime,
    ) -> _Staged:
        target = self.path_for(list_name)
        name = check_list_name(list_name)
        _check_times(downloaded_at, now)
        paths = [Path(p) for p in files]
        if not paths:
            raise RegistryError("no files to import")
        for path in paths:
            if not path.is_file():
                raise RegistryFileError("no such file", path=path)
        self.directory.mkdir(parents=True, exist_ok=True)
        staged_path = self.directory / f".{name}.{uuid.uuid4().hex}.staged"
        try:
            if kind == "full":
                summary = self._build_full(name, paths, target, staged_path, downloaded_at, now)
            else:
                summary = self._build_changes(name, paths, target, staged_path, downloaded_at, now)
        except (ValueError, TypeError) as exc:
            staged_path.unlink(missing_ok=True)
            raise RegistryError(f"cannot build the {name} registry: {exc}") from None
        except BaseException:
            staged_path.unlink(missing_ok=True)
            raise
        return _Staged(summary, staged_path)

    def _build_full(
        self,
        name: str,
        paths: list[Path],
        target: Path,
        staged_path: Path,
        downloaded_at: datetime,
        now: datetime,
    ) -> ImportSummary:
        arrays: list[np.ndarray] = []
        sources: list[SourceFile] = []
        for path in paths:
            try:
                numbers = read_full_list(path)
            except DncFileError as exc:
                raise _file_error(exc, path) from None
            except OSError as exc:
                raise RegistryFileError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
            arrays.append(np.asarray(numbers, dtype=np.uint64))
            sources.append(SourceFile(path, _sha256(path), int(len(numbers))))
        merged = np.unique(np.concatenate(arrays)) if arrays else np.empty(0, dtype=np.uint64)
        before = self._count(target)
        meta = build_registry(
            staged_path,
            merged,
            list_name=name,
            downloaded_at=downloaded_at,
            sources=[f"{s.path.name} sha256:{s.sha256}" for s in sources],
            built_at=now,
        )
        return ImportSummary(
            list_name=name,
            kind="full",
            files=tuple(sources),
            count_before=before,
            count_after=meta.count,
            additions=0,
            deletions=0,
            downloaded_at=downloaded_at,
            imported_at=now,
            path=target,
        )

    def _build_changes(
        self,
        name: str,
        paths: list[Path],
        target: Path,
        staged_path: Path,
        downloaded_at: datetime,
        now: datetime,
    ) -> ImportSummary:
        if not target.exists():
            raise RegistryError(
                f"there is no {name} registry to apply a change list to; import a full list first"
            )
        changes = []
        sources: list[SourceFile] = []
        for path in paths:
            try:
                change = read_change_list(path)
            except DncFileError as exc:
                raise _file_error(exc, path) from None
            except OSError as exc:
                raise RegistryFileError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
            changes.append(change)
            sources.append(
                SourceFile(path, _sha256(path), int(len(change.additions) + len(change.deletions)))
            )
        try:
            current = DncRegistry.open(target)
        except (RegistryFormatError, OSError) as exc:
            raise RegistryError(f"the {name} registry file {target} is unreadable: {exc}") from None
        with current:
            previous = current.meta.downloaded_at
            if previous is not None and downloaded_at < previous:
                raise RegistryError(
                    f"the change list was downloaded at {downloaded_at.isoformat()}, before the {name} "
                    f"registry's data ({previous.isoformat()}); apply change lists in download order"
                )
            numbers = current.numbers()
            for change in changes:
                numbers = apply_changes(numbers, change.additions, change.deletions)
            # Built while the current file is still open: ``numbers`` may be a view of its mapping.
            meta = build_registry(
                staged_path,
                numbers,
                list_name=name,
                downloaded_at=downloaded_at,
                sources=[*current.meta.sources, *(f"{s.path.name} sha256:{s.sha256}" for s in sources)],
                built_at=now,
            )
            before = current.meta.count
        return ImportSummary(
            list_name=name,
            kind="change",
            files=tuple(sources),
            count_before=before,
            count_after=meta.count,
            additions=sum(int(len(c.additions)) for c in changes),
            deletions=sum(int(len(c.deletions)) for c in changes),
            downloaded_at=downloaded_at,
            imported_at=now,
            path=target,
        )

    @staticmethod
    def _count(target: Path) -> int:
        if not target.exists():
            return 0
        try:
            with DncRegistry.open(target) as current:
                return current.meta.count
        except (RegistryFormatError, OSError):
            return 0  # an unreadable previous file is replaced by a full list

    # ------------------------------------------------------------------ reading

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
        return ScrubCounts(
            checked=len(unique),
            national_present=national is not None,
            national=int(masks[NATIONAL].sum()) if national is not None else 0,
            states={name: int(mask.sum()) for name, mask in masks.items() if name != NATIONAL},
            national_downloaded_at=national.meta.downloaded_at if national is not None else None,
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


# ---------------------------------------------------------------------- database side


def _lock_imports(session: Session) -> None:
    """Serialize registry imports on the audit chain head (also taken by the audit event)."""
    session.execute(lock_for_update(select(AuditChainHead).where(AuditChainHead.id == 1), session)).one()


def _publish_on_commit(session: Session, staged: _Staged) -> None:
    root = session.get_transaction()

    def before_commit(_session: Session) -> None:
        # Also dispatched for a savepoint's commit: only the root transaction's commit publishes.
        if not staged.settled and not staged.published and not session.in_nested_transaction():
            staged.publish()

    def after_commit(_session: Session) -> None:
        if not staged.settled and staged.published:
            staged.commit()

    def after_transaction_end(_session: Session, transaction: SessionTransaction) -> None:
        if transaction is root and not staged.settled:
            staged.abandon()

    event.listen(session, "before_commit", before_commit)
    event.listen(session, "after_commit", after_commit)
    event.listen(session, "after_transaction_end", after_transaction_end)


def import_registry(
    session: Session,
    store: RegistryStore,
    *,
    list_name: str,
    files: Sequence[Path],
    kind: RegistryKind,
    downloaded_at: datetime,
    now: datetime,
    actor: str,
) -> ImportSummary:
    """Import registry files and record them, the file replaced when the transaction commits.

    See the module docstring for the ordering. Nothing on disk changes until ``session`` commits;
    a rollback (or a session closed without commit) leaves the previous list in place.

    Args:
        session: an open session; the caller commits.
        store: the registry directory.
        list_name: ``national`` or a state code.
        files: full-list or change-list files, applied in this order.
        kind: ``full`` (replaces the list) or ``change``.
        downloaded_at: when the files were downloaded from the registry (aware, not future).
        now: the product's clock (aware).
        actor: the audit actor (``user:<login>``).

    Returns:
        The summary, with the ``DncSource`` ids.

    Raises:
        RegistryFileError: a file cannot be read (path, line, column); nothing written.
        RegistryError: unknown list, naive/future time, change list without a list.
    """
    _lock_imports(session)
    staged = store._stage(list_name, kind, files, downloaded_at=downloaded_at, now=now)
    try:
        summary = staged.summary
        rows = [
            DncSource(
                list_name=summary.list_name,
                kind=kind,
                file_name=source.path.name[:500],
                sha256=source.sha256,
                numbers=source.numbers,
                downloaded_at=downloaded_at,
                imported_at=now,
                registry_count_after=summary.count_after,
            )
            for source in summary.files
        ]
        session.add_all(rows)
        session.flush()
        record_event(
            session,
            kind="dnc.registry_imported",
            occurred_at=now,
            actor=actor,
            payload={
                "list": summary.list_name,
                "kind": kind,
                "files": [
                    {"name": s.path.name, "sha256": s.sha256, "numbers": s.numbers} for s in summary.files
                ],
                "dnc_source_ids": [row.id for row in rows],
                "downloaded_at": downloaded_at.isoformat(),
                "count_before": summary.count_before,
                "count_after": summary.count_after,
                "additions": summary.additions,
                "deletions": summary.deletions,
            },
        )
        _publish_on_commit(session, staged)
    except BaseException:
        staged.abandon()
        raise
    return ImportSummary(**{**_fields(summary), "source_ids": tuple(row.id for row in rows)})


def _fields(summary: ImportSummary) -> dict[str, Any]:
    return {name: getattr(summary, name) for name in ImportSummary.__slots__}


def national_downloaded_at(session: Session) -> datetime | None:
    """``downloaded_at`` of the newest national import (full or change) recorded in the database."""
    return session.scalar(
        select(DncSource.downloaded_at)
        .where(DncSource.list_name == NATIONAL)
        .order_by(DncSource.downloaded_at.desc())
        .limit(1)
    )


# ---------------------------------------------------------------------- internal list files


def read_number_file(path: Path, *, default_region: str = "US") -> list[str]:
    """The distinct numbers of a plain list (one per line, any common format or ``312,5550101``), as E.164.

    Blank lines and lines starting with ``#`` are skipped; a first line without digits is a header.

    Raises:
        RegistryFileError: unreadable or non-UTF-8 file, an invalid number (with its line), or no
            number at all.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise RegistryFileError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    except UnicodeDecodeError as exc:
        raise RegistryFileError(f"not UTF-8 text (byte {exc.start})", path=path) from None
    numbers: dict[str, None] = {}
    for line_no, row in enumerate(csv.reader(text.splitlines()), start=1):
        cell = row[0].strip() if row else ""
        if len(row) == 2 and len(cell) == 3 and len(row[1].strip()) == 7:
            cell += row[1].strip()  # the FTC shape "312,5550101"
        if not cell or cell.startswith("#"):
            continue
        if not numbers and line_no == 1 and not any(ch.isdigit() for ch in cell):
            continue  # a header
        try:
            numbers[normalize_phone(cell, default_region=default_region).e164] = None
        except PhoneNumberError as exc:
            raise RegistryFileError(
                f"{cell!r} is not a valid phone number: {exc}", path=path, line=line_no, column=1
            ) from None
    if not numbers:
        raise RegistryFileError("the file has no phone numbers", path=path)
    return list(numbers)


def import_internal_list(
    session: Session, path: Path, *, now: datetime, actor: str, reason: str = ""
) -> list[DncEntry]:
    """Add every number of ``path`` to the internal DNC list (source ``import``), in the caller's transaction.

    The file is read completely first; a bad line raises before anything is written, and the
    caller's single commit makes the import all-or-nothing.

    Raises:
        RegistryFileError: as :func:`read_number_file`.
    """
    numbers = read_number_file(path)
    why = reason or f"imported from {Path(path).name}"
    return [
        add_internal_dnc(session, phone_e164=e164, source="import", now=now, actor=actor, reason=why)
        for e164 in numbers
    ]


# ---------------------------------------------------------------------- Reassigned Numbers Database


@dataclass(frozen=True, slots=True)
class RndRow:
    """One RND answer read from a file.

    Attributes:
        row: the CSV line it came from (1-based, the header is line 1).
        phone_e164: the number queried.
        queried_at: when the query was made (aware, UTC).
        consent_date: the date given with the query (when consent was obtained).
        result: ``yes`` (disconnected since the date: reassigned, block), ``no`` (safe harbor) or
            ``no_data``.
    """

    row: int
    phone_e164: str
    queried_at: datetime
    consent_date: date
    result: str


def read_rnd_csv(path: Path, *, now: datetime) -> list[RndRow]:
    """Read an RND results file with columns ``phone,queried_at,consent_date,result``.

    ``queried_at`` is ISO-8601 with a UTC offset (``2026-11-20T15:00:00Z``), not after ``now``;
    ``consent_date`` is ``YYYY-MM-DD``, not after the query; ``result`` is ``yes``, ``no`` or
    ``no_data`` (``no data`` accepted).

    Raises:
        RegistryFileError: unreadable/non-UTF-8 file, a missing column, a bad value (row and
            column named), or no rows.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise RegistryFileError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    except UnicodeDecodeError as exc:
        raise RegistryFileError(f"not UTF-8 text (byte {exc.start})", path=path) from None
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in RND_COLUMNS if c not in header]
    if missing:
        raise RegistryFileError(
            f"missing column(s) {', '.join(missing)}; expected {','.join(RND_COLUMNS)}", path=path, line=1
        )
    index = {c: header.index(c) for c in RND_COLUMNS}
    rows: list[RndRow] = []
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue

        def cell(column: str, cells: list[str] = cells) -> str:
            i = index[column]
            return cells[i].strip() if i < len(cells) else ""

        def bad(column: str, why: str, line_no: int = line_no) -> RegistryFileError:
            return RegistryFileError(why, path=path, line=line_no, column=column)

        try:
            phone = normalize_phone(cell("phone")).e164
        except PhoneNumberError as exc:
            raise bad("phone", f"{cell('phone')!r} is not a valid phone number: {exc}") from None
        try:
            queried_at = datetime.fromisoformat(cell("queried_at"))
        except ValueError:
            raise bad("queried_at", f"{cell('queried_at')!r} is not an ISO-8601 time") from None
        if queried_at.tzinfo is None:
            raise bad("queried_at", f"{cell('queried_at')!r} needs a UTC offset, e.g. 2026-11-20T15:00:00Z")
        if queried_at > now:
            raise bad("queried_at", f"{cell('queried_at')!r} is in the future")
        try:
            consent_date = date.fromisoformat(cell("consent_date"))
        except ValueError:
            raise bad("consent_date", f"{cell('consent_date')!r} is not a date (YYYY-MM-DD)") from None
        if consent_date > queried_at.astimezone(UTC).date() + timedelta(days=1):
            raise bad("consent_date", f"{cell('consent_date')!r} is after the query")
        result = cell("result").lower().replace(" ", "_").replace("-", "_")
        if result not in RND_ANSWERS:
            raise bad("result", f"{cell('result')!r} is not an RND answer (yes, no, no_data)")
        rows.append(RndRow(line_no, phone, queried_at.astimezone(UTC), consent_date, result))
    if not rows:
        raise RegistryFileError("the file has no RND results", path=path)
    return rows


def record_rnd_results(
    session: Session, rows: Sequence[RndRow], *, source: str, now: datetime, actor: str = "system"
) -> list[RndResult]:
    """Store RND answers in the caller's transaction, with one ``dnc.rnd_imported`` audit event.

    Args:
        rows: the answers (:func:`read_rnd_csv`).
        source: the file name, or ``api``.
        now: the product's clock (aware), for the audit event.
        actor: the audit actor.

    Returns:
        The flushed rows.
    """
    results = [
        RndResult(
            phone_e164=r.phone_e164,
            queried_at=r.queried_at,
            consent_date=r.consent_date,
            result=r.result,
            source=source[:500],
        )
        for r in rows
    ]
    session.add_all(results)
    session.flush()
    counts = {answer: sum(1 for r in rows if r.result == answer) for answer in sorted(RND_ANSWERS)}
    record_event(
        session,
        kind="dnc.rnd_imported",
        occurred_at=now,
        actor=actor,
        payload={
            "source": source,
            "rows": len(results),
            "results": counts,
            "first_id": results[0].id if results else None,
        },
    )
    return results


def latest_rnd(session: Session, phone_e164: str) -> RndResult | None:
    """The newest RND answer for a number (latest ``queried_at``, then latest stored), or None."""
    return session.scalars(
        select(RndResult)
        .where(RndResult.phone_e164 == phone_e164)
        .order_by(RndResult.queried_at.desc(), RndResult.id.desc())
        .limit(1)
    ).first()
