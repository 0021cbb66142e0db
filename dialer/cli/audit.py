"""``dialer audit``: export and verify the hash-chained audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from dialer import audit as service
from dialer.campaigns import get_campaign
from dialer.cli._common import console, runtime

app = typer.Typer(no_args_is_help=True, help="Audit log.")


@app.command("export")
def export(
    out: Path = typer.Option(Path("audit.jsonl"), "--out", "-o", help="Destination file."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
    campaign: str | None = typer.Option(None, help="Only this campaign's events."),
) -> None:
    """Write every audit event (gate decisions, tool calls, dispositions, DNC changes...) in order."""
    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter("--format must be jsonl or csv")
    rt = runtime()
    with rt.sessions() as session:
        campaign_id = get_campaign(session, name=campaign).id if campaign else None
        chosen: Literal["jsonl", "csv"] = "csv" if fmt == "csv" else "jsonl"
        count = service.export_events(session, out, fmt=chosen, campaign_id=campaign_id)
    console.print(f"wrote {count} audit events to {out}")


@app.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 1 if any event was altered, removed or reordered."""
    rt = runtime()
    with rt.sessions() as session:
        result = service.verify_chain(session)
    if result.ok:
        console.print(f"audit chain intact ({result.events_checked} events)")
        return
    console.print(f"[bold red]audit chain broken[/] at event {result.first_bad_event_id}: {result.problem}")
    raise typer.Exit(1)
