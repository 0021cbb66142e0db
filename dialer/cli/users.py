"""``dialer users``: accounts of the console and the REST API (create, list, roles, disable, tokens)."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from dialer import accounts
from dialer.cli._common import actor, console, runtime
from dialer.db import transaction
from dialer.models import Role

app = typer.Typer(no_args_is_help=True, help="Users of the web console and the REST API.")
ROLES = ", ".join(role.value for role in Role)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("create")
def create(
    username: str = typer.Argument(..., help="The login (lower case letters, digits, . _ @ + -)."),
    role: str = typer.Option(..., "--role", help=f"One of: {ROLES}."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of standard input."
    ),
) -> None:
    """Create a user (the password is asked for twice, or read with --password-stdin; 12+ characters)."""
    password = _password(password_stdin)
    rt = runtime()
    with transaction(rt.sessions) as session:
        user = accounts.create_user(
            session, username=username, role=role, password=password, now=rt.clock.now(), actor=actor()
        )
        console.print(f"created user {user.username!r} ({user.role}, id {user.id})")


@app.command("list")
def list_command() -> None:
    """List users: role, state, last login (UTC)."""
    rt = runtime()
    table = Table("id", "username", "role", "state", "last login (UTC)", "HubSpot owner")
    with rt.sessions() as session:
        for user in accounts.list_users(session):
            state = f"disabled {user.disabled_at:%Y-%m-%d %H:%M}" if user.disabled_at else "active"
            last = user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "never"
            table.add_row(str(user.id), user.username, user.role, state, last, user.hubspot_owner_id or "")
    console.print(table)


@app.command("set-role")
def set_role(username: str, role: str = typer.Argument(..., help=f"One of: {ROLES}.")) -> None:
    """Give a user another role (audited as user.role_changed)."""
    rt = runtime()
    with transaction(rt.sessions) as session:
        user = accounts.set_role(session, username=username, role=role, now=rt.clock.now(), actor=actor())
        console.print(f"user {user.username!r} is {user.role}")


@app.command("set-hubspot-owner")
def set_hubspot_owner(
    username: str,
    owner_id: str | None = typer.Argument(None, help="The HubSpot owner id; omit it to clear."),
) -> None:
    """Make OWNER_ID the HubSpot owner of the meetings (and calls) assigned to USERNAME."""
    rt = runtime()
    with transaction(rt.sessions) as session:
        user = accounts.set_hubspot_owner(
            session, username=username, owner_id=owner_id, now=rt.clock.now(), actor=actor()
        )
        owner = user.hubspot_owner_id or "DIALER_CRM__HUBSPOT__OWNER_ID (the default)"
        console.print(f"user {user.username!r}: HubSpot owner {owner}")


@app.command("disable")
def disable(username: str) -> None:
    """Disable a user: no more logins, and their sessions and API tokens stop working at once."""
    rt = runtime()
    with transaction(rt.sessions) as session:
        user = accounts.disable_user(session, username=username, now=rt.clock.now(), actor=actor())
        console.print(f"user {user.username!r} is disabled")


@app.command("token-create")
def token_create(
    username: str, name: str = typer.Option(..., "--name", help="What the token is for, e.g. 'ci'.")
) -> None:
    """Create an API token acting as USERNAME; it is printed once and only its hash is kept."""
    rt = runtime()
    with transaction(rt.sessions) as session:
        token, value = accounts.create_token(
            session, username=username, name=name, now=rt.clock.now(), actor=actor()
        )
    console.print(f"API token {token.id} for {username!r} ({name}); send it as 'Authorization: Bearer ...':")
    typer.echo(value)


@app.command("token-revoke")
def token_revoke(token_id: int) -> None:
    """Revoke an API token (by the id `token-create` and `tokens` show)."""
    rt = runtime()
    with transaction(rt.sessions) as session:
        accounts.revoke_token(session, token_id=token_id, now=rt.clock.now(), actor=actor())
    console.print(f"API token {token_id} is revoked")


@app.command("tokens")
def tokens(username: str) -> None:
    """List a user's API tokens (never the tokens themselves)."""
    rt = runtime()
    table = Table("id", "name", "created (UTC)", "revoked (UTC)")
    with rt.sessions() as session:
        for token in accounts.list_tokens(session, username=username):
            revoked = token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else ""
            table.add_row(str(token.id), token.name, token.created_at.isoformat(timespec="seconds"), revoked)
    console.print(table)
