"""``dialer leads``: import lead files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from dialer.cli._common import actor, console, runtime
from dialer.db import transaction
from dialer.leads.mappings import parse_mappings
from dialer.leads.report import format_registry_scrub
from dialer.leads.service import ImportProgress, import_leads
from dialer.registry import registry_store

app = typer.Typer(no_args_is_help=True, help="Leads.")


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Lead CSV (UTF-8)."),
    campaign: str = typer.Option(..., "--campaign", help="Campaign to import into (must exist)."),
    map_: list[str] = typer.Option([], "--map", help="COLUMN=FIELD, overrides header detection; repeatable."),
    consent_attestation: str | None = typer.Option(
        None,
        "--consent-attestation",
        help="Statement that PEWC for every row was captured elsewhere; stored as evidence on each lead.",
    ),
    region: str = typer.Option("US", help="Region assumed for numbers without a country code."),
    allow_vanity: bool = typer.Option(
        False,
        "--allow-vanity",
        help="Accept numbers written with letters (1-800-FLOWERS) as keypad digits, warning on each row.",
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on stderr."),
) -> None:
    """Import leads: detect columns, normalise numbers to E.164, fold duplicates, record consent.

    Accepted rows commit in one transaction (all or nothing). Rejected rows are listed (row,
    column, reason) and written to FILE.rejected.csv next to the input once the import commits.
    A progress bar (rows/s) goes to stderr.
    """
    rt = runtime()
    with _progress_bar(enabled=progress) as on_progress, transaction(rt.sessions) as session:
        result = import_leads(
            session,
            campaign_name=campaign,
            path=file,
            mappings=parse_mappings(map_),
            attestation=consent_attestation,
            attested_by=actor().removeprefix("user:"),
            default_region=region,
            now=rt.clock.now(),
            registry=registry_store(rt.settings),
            allow_vanity=allow_vanity,
            progress=on_progress,
        )
    mapping = Table("column", "field", title="columns")
    for column, field in result.mapping.items():
        mapping.add_row(column, field)
    console.print(mapping)
    console.print(
        f"imported {result.leads_created} leads ({result.consents_created} consent records) "
        f"into {campaign!r}; {result.rejected_count} rejected, {result.folded_count} duplicates folded, "
        f"{result.warnings_count} warnings"
    )
    if result.rejected:
        rejected = Table("row", "column", "value", "reason", title="rejected rows")
        for row in result.rejected[:50]:
            rejected.add_row(str(row.row), row.column or "", row.value or "", row.reason)
        console.print(rejected)
        if result.rejected_count > 50:
            console.print(f"... and {result.rejected_count - 50} more")
    if result.rejected_report_path:
        console.print(f"rejected rows written to {result.rejected_report_path}")
    if result.registry_scrub is not None:
        console.print(format_registry_scrub(result.registry_scrub))


class _RowsPerSecond(TextColumn):
    """``12,345 rows  98,765 rows/s`` from the task's ``rows`` field."""

    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):
        """The rows done and their rate."""
        rows = task.fields.get("rows", 0)
        elapsed = task.elapsed or 0.0
        rate = rows / elapsed if elapsed > 0 else 0.0
        return f"{rows:,} rows  {rate:,.0f} rows/s"


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[Callable[[ImportProgress], None] | None]:
    """A rich progress bar on stderr (stdout stays for the report); None when disabled."""
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("importing"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        _RowsPerSecond(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
        auto_refresh=False,  # no refresh thread: the import forks its parser processes
    )
    task = bar.add_task("import", total=None, rows=0)

    def update(p: ImportProgress) -> None:
        bar.update(task, total=p.bytes_total, completed=p.bytes_read, rows=p.rows)
        bar.refresh()

    with bar:
        yield update
