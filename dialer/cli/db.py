"""``dialer db``: schema migrations."""

from __future__ import annotations

import typer

from dialer.cli._common import console
from dialer.migrate import upgrade
from dialer.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Database schema.")


@app.command("upgrade")
def upgrade_command(revision: str = typer.Argument("head", help="Alembic revision to migrate to.")) -> None:
    """Migrate the database (DIALER_DATABASE_URL) to the newest schema."""
    url = get_settings().database_url
    upgrade(url, revision)
    console.print(f"database migrated to {revision}")
