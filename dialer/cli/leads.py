"""``dialer leads``: import lead files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dialer.cli._common import actor, console, runtime
from dialer.db import transaction
from dialer.errors import InvalidStateError
from dialer.leads.report import format_registry_scrub
from dialer.leads.service import import_leads
from dialer.registry import registry_store

app = typer.Typer(no_args_is_help=True, help="Leads.")


def _mappings(values: list[str]) -> dict[str, str]:
    mappings: dict[str, str] = {}
    for value in values:
        column, sep, field = value.partition("=")
        if not sep or not column or not field:
            raise InvalidStateError(f"--map {value!r}: expected COLUMN=FIELD, e.g. --map 'Cell'=mobile")
        mappings[column] = field
    return mappings


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
) -> None:
    """Import leads: detect columns, normalise numbers to E.164, fold duplicates, record consent.

    Accepted rows commit in one transaction. Rejected rows are listed (row, column, reason) and
    written to FILE.rejected.csv next to the input.
    """
    rt = runtime()
    with transaction(rt.sessions) as session:
        result = import_leads(
            session,
            campaign_name=campaign,
            path=file,
            mappings=_mappings(map_),
            attestation=consent_attestation,
            attested_by=actor().removeprefix("user:"),
            default_region=region,
            now=rt.clock.now(),
            registry=registry_store(rt.settings),
        )
    mapping = Table("column", "field", title="columns")
    for column, field in result.mapping.items():
        mapping.add_row(column, field)
    console.print(mapping)
    console.print(
        f"imported {result.leads_created} leads ({result.consents_created} consent records) "
        f"into {campaign!r}; {len(result.rejected)} rejected, {len(result.folded)} duplicates folded, "
        f"{len(result.warnings)} warnings"
    )
    if result.rejected:
        rejected = Table("row", "column", "value", "reason", title="rejected rows")
        for row in result.rejected[:50]:
            rejected.add_row(str(row.row), row.column or "", row.value or "", row.reason)
        console.print(rejected)
        if len(result.rejected) > 50:
            console.print(f"... and {len(result.rejected) - 50} more")
    if result.rejected_report_path:
        console.print(f"rejected rows written to {result.rejected_report_path}")
    if result.registry_scrub is not None:
        console.print(format_registry_scrub(result.registry_scrub))
