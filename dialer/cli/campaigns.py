"""``dialer campaigns``: create, start, pause, stop, list, show."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from dialer import campaigns as service
from dialer import listings
from dialer.assignment_rules import parse_rule, rules_of, set_rule
from dialer.calls.costs import campaign_costs, dollars
from dialer.calls.latency import campaign_latency
from dialer.cli._common import actor, console, runtime
from dialer.db import transaction
from dialer.dialing.gate import abandonment_counts, abandonment_fraction
from dialer.models import CampaignStatus

app = typer.Typer(no_args_is_help=True, help="Campaigns.")
ASSIGN_HELP = (
    "Who gets the meetings booked: none (ops assign by hand), fixed:<rep> or round_robin:<rep>,<rep>,..."
)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Unique campaign name."),
    seller: str = typer.Option(..., "--seller", help="Seller's legal name (spoken in the disclosure)."),
    caller_id: str = typer.Option(..., "--caller-id", help="From number (a Twilio number you own), E.164."),
    product: str = typer.Option(
        "", help="What the call is about, e.g. 'a data-quality monitoring platform'."
    ),
    agent_name: str = typer.Option("Alex", help="Name the AI agent introduces itself with."),
    callback_number: str | None = typer.Option(None, help="Number for DNC requests; default: the caller ID."),
    script: Path | None = typer.Option(None, exists=True, dir_okay=False, help="Script template file."),
    max_concurrent: int = typer.Option(5, help="Live calls at most."),
    max_attempts: int = typer.Option(3, help="Calls per lead at most."),
    retry_delay: int = typer.Option(3600, help="Seconds before retrying a no-answer/busy/machine attempt."),
    record: bool = typer.Option(False, "--record/--no-record", help="Ask Twilio to record calls."),
    subject: str | None = typer.Option(
        None,
        "--subject",
        help="What the calls are about; FL/OK/MD frequency caps count attempts with the same subject "
        "(default: every attempt to the number counts).",
    ),
    voice_agent: str | None = typer.Option(
        None, "--voice-agent", help="Speech-to-speech backend of its calls (default: DIALER_VOICE_AGENT)."
    ),
    max_call_seconds: int | None = typer.Option(
        None,
        "--max-call-seconds",
        help="Longest answered call (default and cap: DIALER_CALL_TIME_LIMIT_SECONDS).",
    ),
    silence_timeout: int | None = typer.Option(
        None, "--silence-timeout", help="Hang up after this many seconds of silence (default: the bridge's)."
    ),
    assign: str = typer.Option("none", "--assign", help=ASSIGN_HELP),
) -> None:
    """Create a campaign (in draft; start it with `dialer campaigns start`)."""
    text = service.DEFAULT_SCRIPT if script is None else script.read_text(encoding="utf-8")
    service.check_script(text, where=str(script))
    rule = parse_rule(assign)
    rt = runtime()
    with transaction(rt.sessions) as session:
        campaign = service.create_campaign(
            session,
            name=name,
            seller_name=seller,
            caller_id=caller_id,
            now=rt.clock.now(),
            actor=actor(),
            product=product,
            agent_name=agent_name,
            callback_number=callback_number,
            script=text,
            max_concurrent_calls=max_concurrent,
            max_attempts=max_attempts,
            retry_delay_seconds=retry_delay,
            record_calls=record,
            subject=subject,
            call_settings=service.CallSettings(voice_agent, max_call_seconds, silence_timeout),
        )
        set_rule(session, campaign=campaign, rule=rule, now=rt.clock.now(), actor=actor())
        console.print(f"created campaign {campaign.name!r} (id {campaign.id}, draft, meetings: {rule})")


@app.command("update")
def update(
    name: str,
    assign: str = typer.Option(..., "--assign", help=ASSIGN_HELP),
) -> None:
    """Change a campaign's assignment rule (meetings booked from now on; a round robin starts over)."""
    rule = parse_rule(assign)
    rt = runtime()
    with transaction(rt.sessions) as session:
        campaign = service.get_campaign(session, name=name)
        set_rule(session, campaign=campaign, rule=rule, now=rt.clock.now(), actor=actor())
        console.print(f"campaign {name!r}: meetings {rule}")


def _set(name: str, status: CampaignStatus) -> None:
    rt = runtime()
    with transaction(rt.sessions) as session:
        campaign = service.get_campaign(session, name=name)
        service.set_status(session, campaign=campaign, status=status, now=rt.clock.now(), actor=actor())
        console.print(f"campaign {name!r} is {status}")


@app.command("start")
def start(name: str) -> None:
    """Start (or resume) dialing a campaign."""
    _set(name, CampaignStatus.RUNNING)


@app.command("pause")
def pause(name: str) -> None:
    """Pause a campaign: calls in progress finish, no new calls are placed."""
    _set(name, CampaignStatus.PAUSED)


@app.command("stop")
def stop(name: str) -> None:
    """Stop a campaign for good."""
    _set(name, CampaignStatus.STOPPED)


@app.command("list")
def list_campaigns() -> None:
    """List campaigns with their lead progress."""
    rt = runtime()
    table = Table("id", "name", "status", "seller", "leads", "open", "meetings to")
    with rt.sessions() as session:
        campaigns = listings.list_campaigns(session)
        counts = service.progress_of(session, campaign_ids=[c.id for c in campaigns])
        rules = rules_of(session, campaign_ids=[c.id for c in campaigns])
        for campaign in campaigns:
            progress = counts[campaign.id]
            table.add_row(
                str(campaign.id),
                campaign.name,
                campaign.status,
                campaign.seller_name,
                str(progress.total),
                str(progress.open),
                str(rules[campaign.id]),
            )
    console.print(table)


@app.command("show")
def show(name: str) -> None:
    """Show one campaign's settings, lead counts by status and its estimated spend (US dollars)."""
    rt = runtime()
    with rt.sessions() as session:
        campaign = service.get_campaign(session, name=name)
        progress = service.progress(session, campaign_id=campaign.id)
        spend = campaign_costs(session, campaign_id=campaign.id, settings=rt.settings)
        latency_rows = _latency_rows(session, campaign.id, rt.clock.now())
        rule = rules_of(session, campaign_ids=[campaign.id])[campaign.id]
    table = Table("field", "value")
    for field in (
        "name",
        "status",
        "seller_name",
        "agent_name",
        "product",
        "subject",
        "caller_id",
        "callback_number",
        "max_concurrent_calls",
        "max_attempts",
        "retry_delay_seconds",
        "record_calls",
        "voice_agent",
        "max_call_seconds",
        "silence_timeout_seconds",
    ):
        value = getattr(campaign, field)
        if field == "subject" and value is None:
            value = "(none: caps count every attempt to the number)"
        elif value is None:
            value = "(the process setting)"
        table.add_row(field, str(value))
    table.add_row("meetings assigned", str(rule))
    for status, count in sorted(progress.by_status.items()):
        table.add_row(f"leads {status}", str(count))
    table.add_row("calls placed", str(spend.calls))
    table.add_row("meetings booked", str(spend.meetings))
    for part, amount in spend.parts.items():
        table.add_row(f"cost {part}", dollars(amount))
    table.add_row("cost total (estimate, DIALER_PRICES__*)", dollars(spend.total))
    table.add_row("cost per call", dollars(spend.per_call))
    table.add_row("cost per meeting booked", dollars(spend.per_meeting))
    for note in spend.unpriced:
        table.add_row("cost not priced", note)
    for row in latency_rows:
        table.add_row(*row)
    console.print(table)


def _latency_rows(session: Session, campaign_id: int, now: datetime) -> list[tuple[str, str]]:
    """The campaign's latencies and the abandonment rate the gate reads (47 CFR 64.1200(a)(7))."""
    latency = campaign_latency(session, campaign_id=campaign_id)
    answered, abandoned = abandonment_counts(session, campaign_id=campaign_id, now=now)
    rate = abandonment_fraction(answered, abandoned)
    return [
        ("answer to first agent audio", latency.first_audio.describe()),
        ("greeting to first agent audio (TSR: 2 s)", latency.greeting.describe()),
        ("turn latency", latency.turns.describe()),
        ("abandoned by the 2-second rule", str(latency.tsr_abandoned)),
        (
            "abandonment rate, 30 days (gate: above 3 % blocks)",
            f"{rate:.1%} ({abandoned} of {answered} live answers)",
        ),
    ]
