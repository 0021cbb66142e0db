"""``dialer demo``: run a whole sandbox campaign and print its report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from dialer.cli._common import console
from dialer.demo.runner import EXAMPLE_LEADS, DemoOptions, run_demo
from dialer.demo.stack import check_stack_urls

MAX_ROWS = 15


def _at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not ISO-8601, e.g. 2026-11-23T11:00:00-06:00") from None
    if parsed.tzinfo is None:
        raise typer.BadParameter("--at needs a UTC offset, e.g. 2026-11-23T11:00:00-06:00")
    return parsed


def print_report(report: dict[str, Any]) -> None:
    """The report as tables on the console."""
    summary = Table("measure", "value", title="sandbox campaign")
    summary.add_row("sandbox clock", report["clock"]["local"])
    for key in ("leads", "attempts", "calls_placed", "disclosures_played", "dnc_added", "duplicate_calls"):
        summary.add_row(key, str(report[key]))
    summary.add_row("voicemail messages left", str(report["carrier"]["voicemail_messages_left"]))
    summary.add_row("calls to numbers the gate must block", str(report["carrier"]["unexpected_calls"]))
    summary.add_row(
        "audit events (chain intact)", f"{report['audit']['events']} ({report['audit']['chain_intact']})"
    )
    costs = report["costs"]
    summary.add_row(
        "estimated cost: total / per call / per meeting (USD)",
        " / ".join(
            "-" if costs[k] is None else f"${costs[k]:.4f}" for k in ("total", "per_call", "per_meeting")
        ),
    )
    summary.add_row("elapsed", f"{report['elapsed_seconds']} s")
    console.print(summary)
    outcomes = Table("disposition", "count", title="dispositions")
    for name, count in report["dispositions"].items():
        outcomes.add_row(name, str(count))
    console.print(outcomes)
    skipped = Table("reason code", "count", title="skipped by the gate")
    for name, count in report["skipped"].items():
        skipped.add_row(name, str(count))
    console.print(skipped)
    meetings = Table(
        "lead", "starts at (lead's time)", "email", title=f"meetings booked ({len(report['meetings'])})"
    )
    for meeting in report["meetings"][:MAX_ROWS]:
        meetings.add_row(meeting["lead"], meeting["starts_at"], meeting["email"])
    console.print(meetings)
    if len(report["meetings"]) > MAX_ROWS:
        console.print(f"... and {len(report['meetings']) - MAX_ROWS} more in the JSON report")


def report_problems(report: dict[str, Any]) -> list[str]:
    """What in a demo report means the run failed, one sentence each (empty: it passed).

    Args:
        report: the demo report (:func:`dialer.demo.report.build_report`).

    Returns:
        A sentence for duplicate calls at the carrier, calls to numbers the gate must block, and
        an audit chain that does not verify, for each that happened.
    """
    problems = []
    if report["duplicate_calls"]:
        problems.append(f"{report['duplicate_calls']} attempts reached the carrier more than once")
    if report["carrier"]["unexpected_calls"]:
        problems.append(f"{report['carrier']['unexpected_calls']} calls to numbers the gate must block")
    if not report["audit"]["chain_intact"]:
        problems.append("the audit chain does not verify")
    return problems


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the top-level app."""

    @app.command("demo")
    def demo(
        leads: Path = typer.Option(EXAMPLE_LEADS, "--leads", exists=True, dir_okay=False, help="Lead CSV."),
        report: Path = typer.Option(Path("demo-report.json"), "--report", help="The JSON report's path."),
        at: str | None = typer.Option(
            None, "--at", help="Sandbox clock start (default: next weekday 11:00 America/Chicago)."
        ),
        consent_attestation: str | None = typer.Option(
            None, "--consent-attestation", help="PEWC evidence for files without consent columns."
        ),
        concurrency: int = typer.Option(8, help="Live calls at most."),
        timeout: float = typer.Option(1800, help="Seconds to wait for every lead to settle."),
        workdir: Path = typer.Option(Path(".dialer/demo"), help="Scratch directory (wiped first)."),
        database_url: str | None = typer.Option(
            None,
            "--database-url",
            help="PostgreSQL for the production stack: postgresql+psycopg://USER@HOST:PORT/DB "
            "(created if missing, migrated; must hold no campaign data unless --reset).",
        ),
        broker_url: str | None = typer.Option(
            None, "--broker-url", help="Redis for the production stack: redis://HOST:PORT/DB (its own DB)."
        ),
        workers: int = typer.Option(1, "--workers", help="Celery worker processes (production stack)."),
        voice_agent: str | None = typer.Option(
            None, "--voice-agent", help="openai or assemblyai (the campaign's)."
        ),
        reset: bool = typer.Option(
            False, "--reset", help="Drop and recreate the database and empty the Redis DB first."
        ),
    ) -> None:
        """Run a whole campaign on the sandbox carrier and agent, end to end, and report on it.

        Earlier opt-outs travel with the leads file: ``<stem>.dnc.csv`` beside it (for
        ``leads.example.csv``: ``leads.example.dnc.csv``) is imported to the internal DNC list first.
        """
        check_stack_urls(database_url, broker_url, workers)
        options = DemoOptions(
            leads_file=leads,
            report_path=report,
            at=_at(at),
            consent_attestation=consent_attestation,
            concurrency=concurrency,
            timeout_seconds=timeout,
            workdir=workdir,
            database_url=database_url,
            broker_url=broker_url,
            workers=workers,
            reset=reset,
            voice_agent=voice_agent,
        )
        result = run_demo(options, console)
        print_report(result)
        console.print(f"report written to {report}")
        problems = report_problems(result)
        for problem in problems:
            console.print(f"[bold red]problem:[/] {problem}")
        if problems:
            raise typer.Exit(1)
