"""``dialer compliance``: the gate as a command, for auditors and integrations."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from compliance.check import CheckDocumentError, check_cases, load_document
from compliance.policy import conservative_policy, policy_from_files
from compliance.state_rules import RuleDataError
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
    except (CheckDocumentError, RuleDataError, ValueError, OSError) as exc:
        raise InvalidInputError(str(exc)) from None
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for line in check_cases(cases, policy, trace=trace):
            sink.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if out:
            sink.close()
