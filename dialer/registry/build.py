"""Building DNC registry files from FTC / state downloads: staged beside the list, then published.

A full list replaces a list with the union of its files; change lists are applied, in order, to
the list on disk (:func:`compliance.dnc_registry.apply_changes`). Every file is read and checked
before anything is written: a bad file raises :class:`~dialer.registry.store.RegistryFileError` (path,
line, column) with nothing changed. The new registry is built into a hidden staging file in the
list's directory (:class:`StagedRegistry`) and replaces the list atomically (``os.replace``) when
published, after a hard link of the previous file has been kept as a backup, so that a failure
before the import is final can put the previous list back.

:func:`import_full` and :func:`import_changes` publish at once and record nothing;
:func:`dialer.registry.imports.import_registry` publishes when the database transaction commits.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np

from compliance.dnc_files import DncFileError, read_change_list, read_full_list
from compliance.dnc_registry import DncRegistry, RegistryFormatError, apply_changes, build_registry
from dialer.registry.store import RegistryError, RegistryFileError, RegistryStore, check_list_name

RegistryKind = Literal["full", "change"]
"""``full`` replaces a list; ``change`` applies change lists (additions, deletions) to it."""
_HASH_CHUNK = 1 << 20
_T = TypeVar("_T")


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

    @property
    def provenance(self) -> str:
        """How the registry file names it among its sources: ``<file name> sha256:<hex digest>``."""
        return f"{self.path.name} sha256:{self.sha256}"


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


class StagedRegistry:
    """A registry built into a hidden file beside its list, waiting to replace it.

    Attributes:
        summary: what the import does once published.
        staged: the hidden staging file.
        target: the list's file it replaces.
        backup: a hard link of the previous list, kept while the import is not final.
        published: the staging file has replaced the list.
        settled: committed or abandoned; nothing more to do.
    """

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


def import_full(
    store: RegistryStore, list_name: str, files: Sequence[Path], *, downloaded_at: datetime, now: datetime
) -> ImportSummary:
    """Replace the list with the union of the full-list files, published at once (no database).

    :func:`dialer.registry.imports.import_registry` does the same recorded, published on commit.

    Args:
        store: the registry directory.
        list_name: ``national`` or a state code.
        files: FTC/state full-list files (flat text, zipped or not).
        downloaded_at: when they were downloaded from the registry (aware, not in the future).
        now: the product's clock (aware).

    Raises:
        RegistryFileError: a file cannot be read (path, line, column); nothing changed.
        RegistryError: unknown list, no files, naive or future download time.
    """
    return _publish_now(stage_import(store, list_name, "full", files, downloaded_at=downloaded_at, now=now))


def import_changes(
    store: RegistryStore, list_name: str, files: Sequence[Path], *, downloaded_at: datetime, now: datetime
) -> ImportSummary:
    """Apply change-list files, in order, to the existing list (no database).

    Raises:
        RegistryFileError: a file cannot be read; nothing changed.
        RegistryError: no registry for the list yet (import a full list first), the change
            list is older than the list's data, or as :func:`import_full`.
    """
    return _publish_now(stage_import(store, list_name, "change", files, downloaded_at=downloaded_at, now=now))


def _publish_now(staged: StagedRegistry) -> ImportSummary:
    try:
        staged.publish()
    except BaseException:
        staged.abandon()
        raise
    staged.commit()
    return staged.summary


def stage_import(
    store: RegistryStore,
    list_name: str,
    kind: RegistryKind,
    files: Sequence[Path],
    *,
    downloaded_at: datetime,
    now: datetime,
) -> StagedRegistry:
    """Read and check every file, then build the new registry into a staging file beside the list.

    Args:
        store: the registry directory (created if missing).
        list_name: ``national`` or a state code.
        kind: ``full`` (replaces the list) or ``change``.
        files: full-list or change-list files, applied in this order.
        downloaded_at: when the files were downloaded from the registry (aware, not future).
        now: the product's clock (aware).

    Returns:
        The staged registry, not yet published: the caller publishes and commits it, or abandons it.

    Raises:
        RegistryFileError: a file cannot be read (path, line, column); nothing written.
        RegistryError: unknown list, no files, naive/future time, change list without a list.
    """
    target = store.path_for(list_name)
    name = check_list_name(list_name)
    _check_times(downloaded_at, now)
    paths = [Path(p) for p in files]
    if not paths:
        raise RegistryError("no files to import")
    for path in paths:
        if not path.is_file():
            raise RegistryFileError("no such file", path=path)
    store.directory.mkdir(parents=True, exist_ok=True)
    staged_path = store.directory / f".{name}.{uuid.uuid4().hex}.staged"
    build = _Build(name, target, staged_path, downloaded_at, now)
    try:
        summary = _build_full(build, paths) if kind == "full" else _build_changes(build, paths)
    except (ValueError, TypeError) as exc:
        staged_path.unlink(missing_ok=True)
        raise RegistryError(f"cannot build the {name} registry: {exc}") from None
    except BaseException:
        staged_path.unlink(missing_ok=True)
        raise
    return StagedRegistry(summary, staged_path)


@dataclass(frozen=True, slots=True)
class _Build:
    """One list being rebuilt: its name, its file, the staging file and the import's times."""

    name: str
    target: Path
    staged_path: Path
    downloaded_at: datetime
    now: datetime

    def write(
        self,
        kind: RegistryKind,
        numbers: np.ndarray,
        sources: list[SourceFile],
        *,
        count_before: int,
        earlier_sources: Sequence[str] = (),
        additions: int = 0,
        deletions: int = 0,
    ) -> ImportSummary:
        """Build ``numbers`` into the staging file and say what the import does."""
        meta = build_registry(
            self.staged_path,
            numbers,
            list_name=self.name,
            downloaded_at=self.downloaded_at,
            sources=[*earlier_sources, *(s.provenance for s in sources)],
            built_at=self.now,
        )
        return ImportSummary(
            list_name=self.name,
            kind=kind,
            files=tuple(sources),
            count_before=count_before,
            count_after=meta.count,
            additions=additions,
            deletions=deletions,
            downloaded_at=self.downloaded_at,
            imported_at=self.now,
            path=self.target,
        )


def _build_full(build: _Build, paths: list[Path]) -> ImportSummary:
    lists, sources = _read_sources(paths, read_full_list, len)
    arrays = [np.asarray(numbers, dtype=np.uint64) for numbers in lists]
    merged = np.unique(np.concatenate(arrays)) if arrays else np.empty(0, dtype=np.uint64)
    return build.write("full", merged, sources, count_before=_count(build.target))


def _build_changes(build: _Build, paths: list[Path]) -> ImportSummary:
    name, target, downloaded_at = build.name, build.target, build.downloaded_at
    if not target.exists():
        raise RegistryError(
            f"there is no {name} registry to apply a change list to; import a full list first"
        )
    changes, sources = _read_sources(
        paths, read_change_list, lambda change: len(change.additions) + len(change.deletions)
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
        return build.write(
            "change",
            numbers,
            sources,
            count_before=current.meta.count,
            earlier_sources=current.meta.sources,
            additions=sum(int(len(c.additions)) for c in changes),
            deletions=sum(int(len(c.deletions)) for c in changes),
        )


def _read_sources(
    paths: list[Path], read: Callable[[Path], _T], count: Callable[[_T], int]
) -> tuple[list[_T], list[SourceFile]]:
    """Every file read with ``read`` (in order), and its :class:`SourceFile` (``count`` numbers).

    Raises:
        RegistryFileError: a file cannot be read or parsed (path, line, column).
    """
    parsed: list[_T] = []
    sources: list[SourceFile] = []
    for path in paths:
        try:
            value = read(path)
        except DncFileError as exc:
            raise _file_error(exc, path) from None
        except OSError as exc:
            raise RegistryFileError.unreadable(exc, path) from None
        parsed.append(value)
        sources.append(SourceFile(path, _sha256(path), int(count(value))))
    return parsed, sources


def _count(target: Path) -> int:
    if not target.exists():
        return 0
    try:
        with DncRegistry.open(target) as current:
            return current.meta.count
    except (RegistryFormatError, OSError):
        return 0  # an unreadable previous file is replaced by a full list


def _check_times(downloaded_at: datetime, now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if downloaded_at.tzinfo is None:
        raise RegistryError("the download time needs a UTC offset, e.g. 2026-11-20T09:30:00-06:00")
    if downloaded_at > now:
        raise RegistryError(
            f"the download time {downloaded_at.isoformat()} is in the future (now is {now.isoformat()})"
        )


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
