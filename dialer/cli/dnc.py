"""``dialer dnc``: the internal do-not-call list, the national and state registries, RND answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from compliance import PhoneNumberError, normalize_phone
from dialer.cli._common import actor, console, runtime
from dialer.consent import add_internal_dnc, import_internal_list
from dialer.db import transaction
from dialer.errors import InvalidInputError
from dialer.listings import list_internal_dnc
from dialer.registry import (
    INTERNAL,
    NATIONAL,
    STALE_AFTER,
    check_list_name,
    import_registry,
    is_stale,
    read_rnd_csv,
    record_rnd_results,
    registry_store,
)

app = typer.Typer(no_args_is_help=True, help="Do-not-call lists: internal, national and state registries.")


@app.command("add")
def add(
    phone: str = typer.Argument(..., help="Number to suppress (any common format)."),
    reason: str = typer.Option("", help="Why (e.g. 'requested by email on 2026-11-02')."),
) -> None:
    """Add a number to the internal DNC list: every campaign stops calling it at once."""
    try:
        e164 = normalize_phone(phone).e164
    except PhoneNumberError as exc:
        raise InvalidInputError(f"{phone!r} is not a valid phone number: {exc}") from None
    rt = runtime()
    with transaction(rt.sessions) as session:
        entry = add_internal_dnc(
            session, phone_e164=e164, source="cli", now=rt.clock.now(), actor=actor(), reason=reason
        )
        console.print(f"{e164} is on the internal DNC list (entry {entry.id})")


@app.command("list")
def list_entries() -> None:
    """List internal DNC entries (an entry an admin withdrew in the console says when and by whom)."""
    rt = runtime()
    table = Table("id", "phone", "source", "requested at (UTC)", "reason", "removed (admin)")
    with rt.sessions() as session:
        for e in list_internal_dnc(session, limit=None):
            removed = (
                ""
                if e.removed_at is None
                else f"{e.removed_at.isoformat(timespec='seconds')} by {e.removed_by}"
            )
            table.add_row(
                str(e.id),
                e.phone_e164,
                e.source,
                e.requested_at.isoformat(timespec="seconds"),
                e.reason,
                removed,
            )
    console.print(table)


def _downloaded_at(value: str | None, list_name: str) -> datetime:
    if value is None:
        raise InvalidInputError(
            f"--downloaded-at is required for the {list_name} list: the registry download time is "
            "what the 31-day rule counts (e.g. --downloaded-at 2026-11-20T09:30:00-06:00)"
        )
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"--downloaded-at {value!r} is not an ISO-8601 time") from None
    if when.tzinfo is None:
        raise InvalidInputError(
            f"--downloaded-at {value!r} needs a UTC offset, e.g. 2026-11-20T09:30:00-06:00 or ...Z"
        )
    return when


@app.command("import")
def import_command(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="List files (text or zip)."),
    list_name: str = typer.Option(..., "--list", help="national, a state code (TX, FL, ...) or internal."),
    kind: str = typer.Option("full", "--kind", help="full (replaces the list) or change (FTC change list)."),
    downloaded_at: str | None = typer.Option(
        None,
        "--downloaded-at",
        help="When the files were downloaded from the registry (ISO-8601 with offset).",
    ),
    reason: str = typer.Option("", help="internal list only: the reason stored on each entry."),
) -> None:
    """Import DNC list files: the national or a state registry, or numbers for the internal list.

    A registry import (national/state) rebuilds the list file atomically and records each file; a
    bad file is reported with its line and column and nothing changes. An internal-list import
    adds every number in one transaction (all or nothing).
    """
    rt = runtime()
    now = rt.clock.now()
    if list_name.strip().lower() == INTERNAL:
        if kind != "full" or downloaded_at is not None:
            raise InvalidInputError(
                "--kind and --downloaded-at apply to registry lists, not the internal list"
            )
        with transaction(rt.sessions) as session:
            added = 0
            for file in files:
                added += len(import_internal_list(session, file, now=now, actor=actor(), reason=reason))
        console.print(f"{added} numbers added to the internal DNC list")
        return
    name = check_list_name(list_name)
    if kind not in ("full", "change"):
        raise InvalidInputError(f"--kind {kind!r}: expected full or change")
    when = _downloaded_at(downloaded_at, name)
    store = registry_store(rt.settings)
    with transaction(rt.sessions) as session:
        summary = import_registry(
            session,
            store,
            list_name=name,
            files=files,
            kind=kind,  # type: ignore[arg-type]
            downloaded_at=when,
            now=now,
            actor=actor(),
        )
    change = f" (+{summary.additions} / -{summary.deletions} listed)" if summary.kind == "change" else ""
    console.print(
        f"{summary.list_name}: {summary.kind} import of {len(summary.files)} file(s){change}; "
        f"{summary.count_before} -> {summary.count_after} numbers, downloaded "
        f"{summary.downloaded_at.astimezone(UTC).isoformat(timespec='seconds')}"
    )


def _size(path: Path) -> str:
    try:
        size = float(path.stat().st_size)
    except OSError:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return "?"  # pragma: no cover


@app.command("status")
def status() -> None:
    """Show every registry list: numbers, download time, age, STALE past 31 days, file size."""
    rt = runtime()
    now = rt.clock.now()
    store = registry_store(rt.settings)
    metas = store.status()
    table = Table(
        "list", "numbers", "downloaded at (UTC)", "age (days)", "stale", "file size", "built at (UTC)"
    )
    for meta in metas:
        age = f"{(now - meta.downloaded_at).total_seconds() / 86400:.1f}" if meta.downloaded_at else "?"
        table.add_row(
            meta.list_name,
            str(meta.count),
            meta.downloaded_at.isoformat(timespec="seconds") if meta.downloaded_at else "unknown",
            age,
            "STALE" if is_stale(meta.downloaded_at, now) else "",
            _size(store.path_for(meta.list_name)),
            meta.built_at.isoformat(timespec="seconds"),
        )
    console.print(table)
    if not any(meta.list_name == NATIONAL for meta in metas):
        console.print(
            f"national list: missing in {store.directory} (import it with `dialer dnc import FILE "
            "--list national --downloaded-at ...`); the gate cannot scrub against it"
        )
    console.print(f"data older than {STALE_AFTER.days} days is STALE (CP-10: DNC_SCRUB_STALE)")


@app.command("rnd-import")
def rnd_import(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV: phone,queried_at,consent_date,result"
    ),
) -> None:
    """Import Reassigned Numbers Database answers (47 CFR 64.1200(m)); a bad row writes nothing."""
    rt = runtime()
    now = rt.clock.now()
    rows = read_rnd_csv(file, now=now)
    with transaction(rt.sessions) as session:
        results = record_rnd_results(session, rows, source=file.name, now=now, actor=actor())
    counts = {answer: sum(1 for r in results if r.result == answer) for answer in ("yes", "no", "no_data")}
    console.print(
        f"{len(results)} RND results imported: {counts['yes']} yes (disconnected: do not call), "
        f"{counts['no']} no, {counts['no_data']} no data"
    )
