"""The ``dialer`` command line.

Every command reads the same settings (``DIALER_*`` environment variables, ``.env``). Errors from
the product (:data:`dialer.errors.PRODUCT_ERRORS`: the dialer's tree and the compliance package's)
are printed as one clear line and exit with status 2; nothing is half-applied. A command that needs
the database checks its schema first (:func:`dialer.migrate.require_current_schema`).
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from dialer.cli import audit, campaigns, compliance, consent, crm, db, demo, dnc, leads, services, users
from dialer.errors import PRODUCT_ERRORS, message_of

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Outbound AI campaign dialer.")
app.add_typer(db.app, name="db")
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(leads.app, name="leads")
app.add_typer(dnc.app, name="dnc")
app.add_typer(audit.app, name="audit")
app.add_typer(compliance.app, name="compliance")
app.add_typer(consent.app, name="consent")
app.add_typer(crm.app, name="crm")
app.add_typer(users.app, name="users")
services.register(app)
demo.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except PRODUCT_ERRORS as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {message_of(exc)}", highlight=False, soft_wrap=True)
        sys.exit(2)
