"""``dialer compliance``: the gate as a command, compliance flags, and the outside contact history."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from compliance.check import check_cases, load_document
from compliance.policy import conservative_policy, policy_from_files
from dialer.cli._common import actor, console, runtime
from dialer.consent import compliance_flags, import_contact_history_csv, set_compliance_flag
from dialer.db import transaction
from dialer.errors import InvalidInputError

app = typer.Typer(no_args_is_help=True, help="Ask the compliance gate about calls.")


@app.command("check")
def check(
    file: Path = typer.Argument(..., help="JSON document {'cases': [...]}, or - for standard input."),
    trace: bool = typer.Option(False, "--trace", help="Add each decision's rule trace to its line."),
    out: Path | None = typer.Option(None, "--out", help="Write the result lines here instead of stdout."),
    rules: Path | None = typer.Option(None, "--rules", help="Another state rule table (TOML)."),
    holidays: Path | None = typer.Option(None, "--holidays", help="Other holiday calendars (TOML)."),
) -> None:
    """Decide every case of FILE and print one JSON object per line (README, "Compliance check").

    Exit status 0 when every case was answered (allowed or blocked), 2 when the document itself is
    unreadable. A malformed case is answered with a block (FACTS_INVALID) and its errors, never skipped.
    """
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{file}: cannot read: {exc}") from None
    try:
        cases = load_document(text, origin=str(file))
        policy = policy_from_files(rules, holidays) if rules or holidays else conservative_policy()
    except OSError as exc:
        raise InvalidInputError(f"cannot read a rule data file: {exc}") from None
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for line in check_cases(cases, policy, trace=trace):
            sink.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if out:
            sink.close()


@app.command("flag")
def flag(
    name: str = typer.Argument(..., help="The flag: la_emergency (La. R.S. 45:844.31)."),
    value: str = typer.Argument(..., help="on or off."),
    note: str = typer.Option("", "--note", help="Why: the notice it follows (required to turn a flag on)."),
) -> None:
    """Turn a compliance flag on or off; the gate reads it at dial time (CP-10); every change is audited."""
    state = value.strip().casefold()
    if state not in ("on", "off"):
        raise InvalidInputError(f"{value!r}: expected on or off")
    rt = runtime()
    with transaction(rt.sessions) as session:
        row = set_compliance_flag(
            session, name=name, active=state == "on", note=note, actor=actor(), now=rt.clock.now()
        )
        console.print(f"{row.name} is {'on' if row.active else 'off'}")


@app.command("flags")
def flags() -> None:
    """List the compliance flags, their value, who set them and when (UTC)."""
    rt = runtime()
    table = Table("flag", "value", "note", "updated at (UTC)", "updated by", "meaning")
    with rt.sessions() as session:
        for name, meaning, row in compliance_flags(session):
            if row is None:
                table.add_row(name, "off (never set)", "", "", "", meaning)
            else:
                table.add_row(
                    name,
                    "on" if row.active else "off",
                    row.note,
                    row.updated_at.isoformat(timespec="seconds"),
                    row.updated_by,
                    meaning,
                )
    console.print(table)


@app.command("import-history")
def import_history(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="CSV: phone,attempted_at,channel[,subject][,caller_id][,answered]",
    ),
) -> None:
    """Import contacts made outside this dialer (SMS, other dialers); frequency caps count them (CP-9).

    A bad row writes nothing.
    """
    rt = runtime()
    with transaction(rt.sessions) as session:
        rows = import_contact_history_csv(session, file, now=rt.clock.now(), actor=actor())
        channels = sorted({r.channel for r in rows})
    console.print(f"{len(rows)} contact attempts imported from {file.name} ({', '.join(channels)})")
