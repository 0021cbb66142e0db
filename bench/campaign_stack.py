"""A whole sandbox campaign on the production stack: PostgreSQL + Redis + 4 Celery workers (issue 7, 8(d)).

Generates a lead file (default 2,000 leads; every lead with written consent for the seller, numbers
spread over 20 area codes in states whose calling window is open at the sandbox clock, prospects
answering as the sandbox cast's hashed persona mix: meetings, refusals, voicemail, no answer, busy,
callbacks, opt-outs), and runs ``dialer demo`` on it with PostgreSQL (a database of its own, dropped
and recreated), Redis (a database of its own, emptied) and 4 worker processes plus beat: the real
gate, the twilio SDK against the sandbox carrier, the bridge with its media stream (20 ms frames),
the sandbox agent. It reports wall time, leads settled (every lead final or scheduled: a callback,
or a window that opens later), calls placed, calls per second, ``duplicate_calls`` (must be 0),
the carrier's safety counts, the calls' latencies (the report's ``latency``) and how many leads the
campaign's abandonment rate blocked (the TSR 2-second rule: a slow stack stops itself).

Baseline, measured in the same run: a tenth of the same leads (the first N/10 rows, same personas)
on the embedded stack (SQLite, the filesystem broker, one worker with beat in it), same campaign
settings and concurrency cap. The ratio printed is calls per second while dialing (calls placed over
the time from the first call request to the last, so start-up and the last calls' tail are left
out), stack / embedded: what PostgreSQL, Redis and four workers do to campaign throughput when
calls, not dial decisions, are the work (the cap on live calls and the 2-core box bound both).

    .venv/bin/python bench/campaign_stack.py                      # 2,000 leads, target < 10 min
    .venv/bin/python bench/campaign_stack.py --leads 100          # quick (< 1 min here... on an idle box)
    .venv/bin/python bench/campaign_stack.py --database-url postgresql+psycopg://postgres@127.0.0.1/x \\
        --broker-url redis://127.0.0.1:6379/8 --json out.json

Run it with a PostgreSQL database name and a Redis database number nobody else uses: both are reset.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
from rich.console import Console
from sqlalchemy import create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialer.demo.runner import DemoOptions, run_demo  # noqa: E402
from dialer.demo.seed import SELLER  # noqa: E402
from dialer.models import CallAttempt  # noqa: E402

AT = datetime(2026, 11, 23, 11, 0, tzinfo=ZoneInfo("America/Chicago"))  # a Monday, 11:00 Chicago
TARGET_SECONDS = 600.0
AREAS = (  # area code, state, ZIP: windows open at 11:00 Chicago, no per-day frequency cap state
    ("312", "IL", "60601"),
    ("773", "IL", "60614"),
    ("214", "TX", "75201"),
    ("512", "TX", "78701"),
    ("713", "TX", "77002"),
    ("404", "GA", "30303"),
    ("816", "MO", "64105"),
    ("314", "MO", "63101"),
    ("615", "TN", "37201"),
    ("303", "CO", "80202"),
    ("602", "AZ", "85004"),
    ("617", "MA", "02108"),
    ("212", "NY", "10001"),
    ("412", "PA", "15222"),
    ("612", "MN", "55401"),
    ("503", "OR", "97201"),
    ("317", "IN", "46204"),
    ("502", "KY", "40202"),
    ("919", "NC", "27601"),
    ("206", "WA", "98101"),
)
HEADER = (
    "first_name,last_name,company,email,phone,state,zip,consent_type,consent_at,consent_seller,"
    "consent_artificial_voice,consent_evidence"
).split(",")


def write_leads(path: Path, count: int) -> Path:
    """``count`` consented leads with distinct valid US numbers (exchange 2NN, lines from 1000)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        written, serial = 0, 0
        while written < count:
            area, state, zip_code = AREAS[serial % len(AREAS)]
            block = serial // len(AREAS)
            number = f"+1{area}{201 + block // 9000}{1000 + block % 9000:04d}"
            serial += 1
            if not phonenumbers.is_valid_number(phonenumbers.parse(number)):
                continue
            writer.writerow(
                [
                    f"Lead{written}",
                    "Bench",
                    f"Company {written}",
                    f"lead{written}@bench.example",
                    number,
                    state,
                    zip_code,
                    "pewc",
                    "2026-10-02T15:04:00Z",
                    SELLER,
                    "yes",
                    f"https://northwind.example/optin/bench-{written}",
                ]
            )
            written += 1
    return path


def head(source: Path, destination: Path, rows: int) -> Path:
    """The header and first ``rows`` data rows of ``source``."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    destination.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return destination


def dialing_window(database_url: str) -> float:
    """Seconds from the first call request to the last (the campaign's busy period, no start-up or tail)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            first, last = conn.execute(
                select(func.min(CallAttempt.requested_at), func.max(CallAttempt.requested_at))
            ).one()
    finally:
        engine.dispose()
    return (last - first).total_seconds() if first and last else 0.0


def summary(report: dict, wall: float, database_url: str) -> dict:
    """The figures of one run."""
    settled = report["leads"]  # run_demo returns once every lead is final or scheduled
    window = dialing_window(database_url)
    return {
        "leads": report["leads"],
        "leads_by_status": report["leads_by_status"],
        "wall_seconds": round(wall, 1),
        "calls_placed": report["calls_placed"],
        "calls_per_second": round(report["calls_placed"] / wall, 2),
        "dialing_seconds": round(window, 1),
        "calls_per_second_while_dialing": round(report["calls_placed"] / window, 2) if window else None,
        "leads_settled_per_second": round(settled / wall, 3),
        "duplicate_calls": report["duplicate_calls"],
        "unexpected_calls": report["carrier"]["unexpected_calls"],
        "voicemail_messages_left": report["carrier"]["voicemail_messages_left"],
        "webhook_failures": report["carrier"]["webhook_failures"],
        "scheduled": len(report["scheduled"]),
        "chain_intact": report["audit"]["chain_intact"],
        "latency": report["latency"],
        "blocked_by_abandonment_rate": report["skipped"].get("ABANDONMENT_RATE_EXCEEDED", 0),
    }


def run(options: DemoOptions, console: Console) -> dict:
    """Run one campaign; its figures (or the error, if it did not settle)."""
    started = time.monotonic()
    try:
        report = run_demo(options, console)
    except RuntimeError as exc:
        return {"error": str(exc).splitlines()[0], "wall_seconds": round(time.monotonic() - started, 1)}
    return summary(report, time.monotonic() - started, options.stack.database_url)


def main() -> int:
    """Run the stack campaign and its embedded baseline; print both and the ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=2000, help="leads in the campaign (quick: 100)")
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/dialer_bench_campaign"
    )
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=64, help="the campaign's cap on live calls")
    parser.add_argument("--threads", type=int, default=8, help="dial-task threads per worker")
    parser.add_argument("--cps", type=float, default=10.0, help="the account's calls per second")
    parser.add_argument("--baseline-fraction", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    console = Console(stderr=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-campaign-"))
    leads = write_leads(scratch / "leads.csv", args.leads)
    common = dict(
        at=AT,
        concurrency=args.concurrency,
        timeout_seconds=args.timeout,
        dial_cps=args.cps,
        worker_concurrency=args.threads,
    )
    stack = run(
        DemoOptions(
            leads_file=leads,
            report_path=scratch / "stack-report.json",
            workdir=scratch / "stack",
            database_url=args.database_url,
            broker_url=args.broker_url,
            workers=args.workers,
            reset=True,
            **common,
        ),
        console,
    )
    baseline_rows = max(10, int(args.leads * args.baseline_fraction))
    embedded = run(
        DemoOptions(
            leads_file=head(leads, scratch / "baseline.csv", baseline_rows),
            report_path=scratch / "embedded-report.json",
            workdir=scratch / "embedded",
            **common,
        ),
        console,
    )
    figures = {"stack": stack, "embedded_baseline": embedded, "scratch": str(scratch)}
    rate = stack.get("calls_per_second_while_dialing")
    base = embedded.get("calls_per_second_while_dialing")
    figures["ratio_dialing_rate_stack_over_embedded"] = round(rate / base, 2) if rate and base else None
    print(f"campaign on PostgreSQL + Redis + {args.workers} workers, {args.leads} leads:")
    print(json.dumps(stack, indent=2))
    print(f"baseline: the first {baseline_rows} of those leads on the embedded stack (SQLite, 1 worker):")
    print(json.dumps(embedded, indent=2))
    print(
        f"calls per second while dialing: stack {rate} / embedded {base} = "
        f"{figures['ratio_dialing_rate_stack_over_embedded']}"
    )
    ok = (
        "error" not in stack
        and stack["duplicate_calls"] == 0
        and stack["unexpected_calls"] == 0
        and stack["voicemail_messages_left"] == 0
    )
    within = ok and stack["wall_seconds"] < TARGET_SECONDS
    print(
        f"every lead final or scheduled, 0 duplicate calls: {'yes' if ok else 'NO'}; "
        f"wall {stack['wall_seconds']} s (target < {TARGET_SECONDS:.0f} s): {'met' if within else 'NOT met'}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
