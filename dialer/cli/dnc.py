"""``dialer dnc``: the internal do-not-call list."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import select

from compliance import PhoneNumberError, normalize_phone
from dialer.cli._common import actor, console, runtime
from dialer.db import transaction
from dialer.dnc import add_internal_dnc
from dialer.errors import InvalidStateError
from dialer.models import DncEntry

app = typer.Typer(no_args_is_help=True, help="Internal do-not-call list.")


@app.command("add")
def add(
    phone: str = typer.Argument(..., help="Number to suppress (any common format)."),
    reason: str = typer.Option("", help="Why (e.g. 'requested by email on 2026-11-02')."),
) -> None:
    """Add a number to the internal DNC list: every campaign stops calling it at once."""
    try:
        e164 = normalize_phone(phone).e164
    except PhoneNumberError as exc:
        raise InvalidStateError(f"{phone!r} is not a valid phone number: {exc}") from None
    rt = runtime()
    with transaction(rt.sessions) as session:
        entry = add_internal_dnc(
            session, phone_e164=e164, source="cli", now=rt.clock.now(), actor=actor(), reason=reason
        )
        console.print(f"{e164} is on the internal DNC list (entry {entry.id})")


@app.command("list")
def list_entries() -> None:
    """List internal DNC entries."""
    rt = runtime()
    table = Table("id", "phone", "source", "requested at (UTC)", "reason")
    with rt.sessions() as session:
        for e in session.scalars(select(DncEntry).order_by(DncEntry.id)):
            table.add_row(
                str(e.id), e.phone_e164, e.source, e.requested_at.isoformat(timespec="seconds"), e.reason
            )
    console.print(table)
