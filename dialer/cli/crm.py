"""``dialer crm``: the outbox of CRM sync and webhooks (the console shows the same at ``/console/crm``)."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from dialer.cli._common import console, runtime
from dialer.db import transaction
from dialer.errors import InvalidInputError
from dialer.models import OutboxStatus
from dialer.outbox import requeue
from dialer.outbox.prune import parse_age, prune_delivered
from dialer.outbox.status import delivery_log, destination_states, list_messages, unrouted_events

app = typer.Typer(no_args_is_help=True, help="CRM sync and webhooks: the outbox and its delivery log.")


def _at(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else ""


def _show_log(message_id: int) -> None:
    rt = runtime()
    with rt.sessions() as session:
        tries = delivery_log(session, message_id=message_id)
    table = Table(
        "try", "started (UTC)", "ms", "ok", "HTTP", "error", title=f"deliveries of message {message_id}"
    )
    for d in tries:
        ms = int((d.finished_at - d.started_at).total_seconds() * 1000)
        table.add_row(str(d.attempt), _at(d.started_at), str(ms), "yes" if d.ok else "no",
                      str(d.status_code or ""), d.error or "")  # fmt: skip
    console.print(table)


@app.command("outbox")
def outbox(
    status: str = typer.Option("", help="Only messages in this state: pending, delivered or dead."),
    limit: int = typer.Option(20, min=1, help="Messages to list, newest first."),
    message: int = typer.Option(0, help="Show the delivery log (every try) of this message instead."),
) -> None:
    """Show the outbox: each destination's pending, due, delivered and dead messages, then the latest."""
    if message:
        _show_log(message)
        return
    if status and status not in {s.value for s in OutboxStatus}:
        raise InvalidInputError(f"--status {status!r}: use pending, delivered or dead")
    rt = runtime()
    with rt.sessions() as session:
        states = destination_states(session, now=rt.clock.now())
        unrouted = unrouted_events(session)
        messages = list_messages(session, status=OutboxStatus(status) if status else None, limit=limit)
    summary = Table("destination", "pending", "due", "delivered", "dead", "oldest pending (UTC)")
    for s in states:
        summary.add_row(s.destination, str(s.pending), str(s.due), str(s.delivered), str(s.dead),
                        _at(s.oldest_pending_at))  # fmt: skip
    console.print(summary)
    if unrouted:
        console.print(f"{unrouted} events not routed yet (the next drain routes them)")
    table = Table("id", "event", "destination", "status", "tries", "next try (UTC)", "last error")
    for m in messages:
        next_try = _at(m.next_attempt_at) if m.status == OutboxStatus.PENDING else _at(m.delivered_at)
        table.add_row(str(m.id), m.event_key, m.destination, m.status.value, str(m.attempts), next_try,
                      (m.last_error or "")[:120])  # fmt: skip
    console.print(table)


@app.command("retry")
def retry(
    ids: list[int] = typer.Argument(None, help="Dead messages to deliver again."),
    dead: bool = typer.Option(False, "--dead", help="Every dead message."),
) -> None:
    """Re-queue dead messages (after fixing what killed them: a token, a URL, an outage)."""
    if not ids and not dead:
        raise InvalidInputError("name the dead messages to retry, or pass --dead for all of them")
    rt = runtime()
    with transaction(rt.sessions) as session:
        count = requeue(session, now=rt.clock.now(), message_ids=ids or (), all_dead=dead)
    console.print(f"{count} messages re-queued; the next drain delivers them")


@app.command("prune")
def prune(
    older_than: str = typer.Option(
        "30d", "--older-than", help="Delete delivered messages older than this (30d, 12h)."
    ),
) -> None:
    """Delete delivered messages (and their delivery log) older than --older-than; pending and dead stay."""
    age = parse_age(older_than)
    rt = runtime()
    messages = events = 0
    while True:  # in chunks: each a short transaction
        with transaction(rt.sessions) as session:
            chunk = prune_delivered(session, before=rt.clock.now() - age)
        messages, events = messages + chunk[0], events + chunk[1]
        if chunk == (0, 0):
            break
    console.print(f"pruned {messages} delivered messages and {events} events older than {older_than}")
