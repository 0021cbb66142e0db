"""``dialer audit``: seal, verify and export the audit log (with proof), and check an export offline."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from dialer import audit as service
from dialer.campaigns import get_campaign
from dialer.cli._common import console, runtime
from dialer.db import transaction
from dialer.errors import InvalidInputError
from dialer.runtime import Runtime

app = typer.Typer(no_args_is_help=True, help="Audit log.")


def _seal(rt: Runtime) -> service.SealReport:
    with transaction(rt.sessions) as session:
        return service.seal_pending(session, now=rt.clock.now())


@app.command("seal")
def seal() -> None:
    """Chain every committed event after the last seal into new seals (safe to run any time)."""
    report = _seal(runtime())
    console.print(
        f"sealed {report.events} audit events in {report.seals} seals;"
        f" last sealed event {report.last_sealed_id}"
    )
    if report.waiting_on_gap is not None:
        console.print(f"event id {report.waiting_on_gap} may still be in flight: later events wait for it")


@app.command("export")
def export(
    out: Path = typer.Option(Path("audit.jsonl"), "--out", "-o", help="Destination file."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
    campaign: str | None = typer.Option(None, help="Only this campaign's events."),
    from_id: int | None = typer.Option(None, "--from-id", help="First event id (sealed range)."),
    to_id: int | None = typer.Option(None, "--to-id", help="Last event id (sealed range)."),
    seal_id: int | None = typer.Option(None, "--seal", help="Export exactly the events of this seal."),
    proof: Path | None = typer.Option(
        None,
        "--proof",
        help="Write the seals and inclusion proofs here (default with a range: OUT.proof.json).",
    ),
) -> None:
    """Write audit events in id order; a sealed range comes with the proof a third party checks offline."""
    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter("--format must be jsonl or csv")
    rt = runtime()
    _seal(rt)
    ranged = from_id is not None or to_id is not None or seal_id is not None
    if proof is None and ranged:
        proof = out.with_name(out.name + ".proof.json")
    with rt.sessions() as session:
        if seal_id is not None:
            from_id, to_id = service.sealed_range(session, seal_id=seal_id)
        campaign_id = get_campaign(session, name=campaign).id if campaign else None
        chosen: Literal["jsonl", "csv"] = "csv" if fmt == "csv" else "jsonl"
        count = service.export_events(
            session, out, fmt=chosen, campaign_id=campaign_id, from_id=from_id, to_id=to_id, proof=proof
        )
    console.print(f"wrote {count} audit events to {out}" + (f", proof in {proof}" if proof else ""))


@app.command("verify")
def verify() -> None:
    """Seal, then check every event and seal; exit 1 if any was altered, removed, reordered or inserted."""
    rt = runtime()
    _seal(rt)
    with rt.sessions() as session:
        result = service.verify_chain(session)
    if result.ok:
        console.print(
            f"audit chain intact ({result.events_checked} events, {result.seals_checked} seals, "
            f"{result.unsealed_events} not sealed yet; last seal hash {result.last_seal_hash})"
        )
        return
    if result.first_bad_event_id is not None:
        console.print(
            f"[bold red]audit chain broken[/] at event {result.first_bad_event_id}: {result.problem}"
        )
    if result.first_bad_seal_id is not None:
        console.print(
            f"[bold red]audit chain broken[/] at seal {result.first_bad_seal_id}: {result.seal_problem}"
        )
    raise typer.Exit(1)


@app.command("verify-export")
def verify_export(
    events: Path = typer.Argument(..., help="The exported events (jsonl)."),
    proof: Path = typer.Argument(..., help="The proof written with them."),
) -> None:
    """Check an export against its proof, without the database; exit 1 if any line fails."""
    try:
        result = service.verify_export(events, proof)
    except OSError as exc:
        raise InvalidInputError(f"cannot read the export: {exc}") from None
    if result.ok:
        console.print(
            f"export verified ({result.events_checked} events; last seal hash {result.last_seal_hash})"
        )
        return
    where = f"line {result.first_bad_line}" if result.first_bad_line else "export"
    console.print(
        f"[bold red]export does not verify[/] at {where} (event {result.event_id}): {result.problem}"
    )
    raise typer.Exit(1)
