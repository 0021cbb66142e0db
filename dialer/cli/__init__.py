"""The ``dialer`` command line.

Every command reads the same settings (``DIALER_*`` environment variables, ``.env``). Errors from
the product (:class:`dialer.errors.DialerError`) are printed as one clear line and exit with
status 2; nothing is half-applied.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from dialer.cli import audit, campaigns, compliance, consent, db, demo, dnc, leads, services
from dialer.errors import DialerError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Outbound AI campaign dialer.")
app.add_typer(db.app, name="db")
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(leads.app, name="leads")
app.add_typer(dnc.app, name="dnc")
app.add_typer(audit.app, name="audit")
app.add_typer(compliance.app, name="compliance")
app.add_typer(consent.app, name="consent")
services.register(app)
demo.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except DialerError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc.message}", highlight=False)
        sys.exit(2)
