"""`dialer users create | list | set-role | disable | token-create | token-revoke` as an admin runs them."""

from __future__ import annotations

import re
import sqlite3

import pytest

from dialer.cli import _common
from dialer.db import engine_for
from tests.api.conftest import PASSWORD
from tests.cli import invoke


@pytest.fixture
def dialer(tmp_path, monkeypatch):
    """``dialer(*args, stdin=None)`` on a migrated SQLite database in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_common.console, "_width", 200)
    env = {"DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200"}

    def run(*args: str, stdin: str | None = None):
        return invoke(args, env=env, stdin=stdin)

    assert run("db", "upgrade").returncode == 0
    yield run
    engine_for(env["DIALER_DATABASE_URL"]).dispose()


def _audit_kinds(tmp_path) -> list[str]:
    with sqlite3.connect(tmp_path / "cli.db") as db:
        return [k for (k,) in db.execute("select kind from audit_events order by id")]


@pytest.mark.filterwarnings("ignore::getpass.GetPassWarning")  # CliRunner has no terminal
def test_users_lifecycle_through_the_cli(dialer, tmp_path):
    created = dialer("users", "create", "dana", "--role", "ops", "--password-stdin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert "created user 'dana' (ops, id 1)" in created.stdout
    prompted = dialer("users", "create", "rhea", "--role", "rep", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.returncode == 0, prompted.stderr

    listing = dialer("users", "list")
    assert "dana" in listing.stdout and "rhea" in listing.stdout and "never" in listing.stdout

    assert dialer("users", "set-role", "dana", "admin").returncode == 0
    token = dialer("users", "token-create", "dana", "--name", "ci")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip().splitlines()[-1]
    assert secret.startswith("dlr_")
    assert (
        "ci" in dialer("users", "tokens", "dana").stdout
        and secret not in dialer("users", "tokens", "dana").stdout
    )
    assert dialer("users", "token-revoke", "1").returncode == 0
    assert dialer("users", "disable", "dana").returncode == 0
    assert "disabled" in dialer("users", "list").stdout

    with sqlite3.connect(tmp_path / "cli.db") as db:
        (stored,) = db.execute("select password_hash from users where username = 'dana'").fetchone()
        (token_hash,) = db.execute("select token_hash from api_tokens").fetchone()
    assert stored.startswith("$argon2id$") and secret not in token_hash
    assert _audit_kinds(tmp_path) == [
        "user.created",
        "user.created",
        "user.role_changed",
        "token.created",
        "token.revoked",
        "user.disabled",
    ]
    assert dialer("audit", "verify").returncode == 0


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("users", "create", "dana", "--role", "boss", "--password-stdin"),
            PASSWORD,
            "role 'boss' does not exist",
        ),
        (("users", "create", "dana", "--role", "ops", "--password-stdin"), "short", "at least 12 are needed"),
        (("users", "disable", "nobody"), None, "user 'nobody' does not exist"),
        (("users", "set-role", "nobody", "ops"), None, "user 'nobody' does not exist"),
    ],
)
def test_bad_user_commands_exit_2_with_the_reason_and_change_nothing(dialer, tmp_path, args, stdin, message):
    result = dialer(*args, stdin=stdin)
    assert result.returncode == 2 and message in result.stderr
    assert _audit_kinds(tmp_path) == []


def test_a_campaign_rule_is_set_and_shown_by_the_cli(dialer):
    for name in ("rhea", "ravi"):
        made = dialer("users", "create", name, "--role", "rep", "--password-stdin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
    base = ("campaigns", "create", "spring", "--seller", "Northwind Inc.", "--caller-id", "+13125550199")
    unknown = dialer(*base, "--assign", "fixed:nobody")
    assert unknown.returncode == 2 and "'nobody' is not an active rep" in unknown.stderr
    created = dialer(*base, "--assign", "fixed:rhea")
    assert created.returncode == 0 and "meetings: fixed:rhea" in created.stdout, created.stderr
    assert dialer("campaigns", "update", "spring", "--assign", "round_robin:ravi,rhea").returncode == 0
    assert "round_robin:ravi,rhea" in dialer("campaigns", "list").stdout
    bad = dialer("campaigns", "update", "spring", "--assign", "rotate:ravi")
    assert bad.returncode == 2 and "unknown rule 'rotate'" in bad.stderr
    shown = dialer("campaigns", "show", "spring").stdout
    assert re.search(r"meetings assigned +│ round_robin:ravi,rhea", shown)


def test_a_reps_hubspot_owner_is_set_listed_and_cleared_by_the_cli(dialer, tmp_path):
    assert (
        dialer(
            "users", "create", "rhea", "--role", "rep", "--password-stdin", stdin=PASSWORD + "\n"
        ).returncode
        == 0
    )
    bad = dialer("users", "set-hubspot-owner", "rhea", "owner-7")
    assert bad.returncode == 2 and "use the owner's numeric id" in bad.stderr
    assert dialer("users", "set-hubspot-owner", "rhea", "7770002").returncode == 0
    assert "7770002" in dialer("users", "list").stdout
    cleared = dialer("users", "set-hubspot-owner", "rhea")
    assert cleared.returncode == 0 and "DIALER_CRM__HUBSPOT__OWNER_ID" in cleared.stdout
    assert _audit_kinds(tmp_path)[-2:] == ["user.hubspot_owner_set", "user.hubspot_owner_set"]
