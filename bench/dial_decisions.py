"""Dial decisions per second in one worker process, on PostgreSQL + Redis + the sandbox carrier.

One decision is what the hopper and the dial task do for one lead: the claim (the tick), the
pacing slot and live-call lease (Redis Lua), the gate on fresh facts with the lead locked, the
stored decision and its audit event, the attempt row, and the carrier request (the Twilio SDK's
``calls.create`` against the sandbox carrier, a Twilio-compatible stand-in started here, whose
calls ring for an hour so that no call progresses during the run).

Two paths, each on a fresh database with the same leads, in one run:

- **batch** (what the tick publishes now): each tick claims ``--batch`` leads and splits them into
  ``dialer.dial_batch`` tasks of ``--batch-size`` leads, run by ``--tasks`` threads of one process
  (``celery worker --pool threads --concurrency N``): k of N slots in one Lua call, one
  transaction per batch (set-based gate reads, bulk inserts), requests sent concurrently.
- **lead**: one ``dialer.dial`` task (a batch of one) per lead, on ``--threads`` threads.

Baseline, measured in the same run against the same stand-in with ``--threads`` threads: raw
``requests`` POSTs of the same call parameters (what the carrier request alone allows).

    .venv/bin/python bench/dial_decisions.py                    # 3,000 leads per path
    .venv/bin/python bench/dial_decisions.py --leads 600        # quick
    .venv/bin/python bench/dial_decisions.py --path batch       # the batched path only
    .venv/bin/python bench/dial_decisions.py --path setup       # no dials: a run's fixed part
    .venv/bin/python bench/dial_decisions.py --path batch --profile out.txt  # py-spy samples
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import requests
from sqlalchemy import event, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _dialing_setup import AT, fresh_database, registry_dir, sandbox_carrier, seed_campaign  # noqa: E402

from dialer.db import transaction  # noqa: E402
from dialer.dialing import DialResult, claim_dialable_leads, dial_batch, dial_lead  # noqa: E402
from dialer.models import CallAttempt  # noqa: E402
from dialer.runtime import Runtime, build_runtime  # noqa: E402
from dialer.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, load_settings  # noqa: E402

TARGET = 300.0
REQUEUE = timedelta(minutes=2)


def _raw_posts(base: str, count: int, threads: int) -> float:
    """Raw POSTs per second of the same call parameters, ``threads`` at a time (one Session each)."""
    url = f"{base}/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/Calls.json"
    local: dict[int, requests.Session] = {}

    def post(i: int) -> None:
        session = local.setdefault(threading.get_ident(), requests.Session())
        session.auth = (SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN)
        session.post(
            url,
            data={
                "To": f"+1773{200 + i // 10000}{i % 10000:04d}",
                "From": "+13125550199",
                "Url": f"http://127.0.0.1:9/twilio/voice?attempt=r{i}",
                "Method": "POST",
                "StatusCallback": f"http://127.0.0.1:9/twilio/status?attempt=r{i}",
                "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
                "StatusCallbackMethod": "POST",
                "MachineDetection": "Enable",
                "MachineDetectionTimeout": "30",
                "AsyncAmd": "true",
                "AsyncAmdStatusCallback": f"http://127.0.0.1:9/twilio/amd?attempt=r{i}",
                "AsyncAmdStatusCallbackMethod": "POST",
                "Record": "false",
                "Timeout": "30",
                "TimeLimit": "900",
            },
        ).raise_for_status()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, range(20)))
        started = time.perf_counter()
        list(pool.map(post, range(20, 20 + count)))
        return count / (time.perf_counter() - started)


@dataclass
class _Statements:
    """SQL statements sent during the measured phase, by kind, with their time to result."""

    count: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    spent: Counter[str] = field(default_factory=Counter)
    starts: dict[int, float] = field(default_factory=dict)

    def before(self, _conn: object, cursor: object, statement: str, *_: object) -> None:
        self.count += 1
        self.kinds[" ".join(statement.split())[:100]] += 1
        self.starts[id(cursor)] = time.perf_counter()

    def after(self, _conn: object, cursor: object, statement: str, *_: object) -> None:
        began = self.starts.pop(id(cursor), None)
        if began is not None:
            self.spent[" ".join(statement.split())[:100]] += (time.perf_counter() - began) * 1000


def _runtime(url: str, base: str, redis_url: str, name: str) -> Runtime:
    """A runtime on ``url``; webhooks under ``/<name>``, so the carrier tells the paths' attempts apart."""
    return build_runtime(
        load_settings(
            _env_file=None,
            database_url=url,
            redis_url=redis_url,
            capacity_key_prefix=f"bench:{uuid.uuid4().hex}",
            dnc_dir=registry_dir(Path(tempfile.mkdtemp(prefix="bench-dial-")) / "dnc"),
            dial_cps=100_000,
            twilio_api_base_url=base,
            public_url=f"http://127.0.0.1:9/{name}",
            sandbox_clock_start=AT,
            sandbox_clock_anchor=datetime.now(UTC),
        )
    )


def _claim(runtime: Runtime, limit: int | None) -> list[int]:
    with transaction(runtime.sessions) as session:
        return claim_dialable_leads(
            session,
            now=runtime.clock.now(),
            requeue_after=REQUEUE,
            capacity=runtime.capacity,
            batch_limit=limit,
        )


def _others_cpu() -> dict[str, float]:
    """CPU seconds used so far by the sandbox carrier and by PostgreSQL (Linux ``/proc``; else {}).

    Other people's PostgreSQL sessions on the same server count too: read it as an upper bound.
    """
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    used = {"sandbox carrier": 0.0, "PostgreSQL": 0.0}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if "-m sandbox" in cmdline:
            used["sandbox carrier"] += seconds
        elif cmdline.startswith("postgres"):
            used["PostgreSQL"] += seconds
    return used if Path("/proc/self/stat").exists() else {}


def _profiler(path: Path) -> subprocess.Popen[bytes]:
    spy = subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "-f", "raw", "-r", "200"]
        + ["-o", str(path), "-p", str(os.getpid())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    return spy


@dataclass
class _Run:
    """One path's figures."""

    name: str
    decisions: int
    elapsed: float
    cpu: float
    results: Counter[str]
    latencies: list[float]
    statements: _Statements
    attempts: int
    others: dict[str, float]

    @property
    def rate(self) -> float:
        return self.decisions / self.elapsed


def _measure(
    args: argparse.Namespace,
    base: str,
    name: str,
    dial_tick: Callable[[Runtime, list[int], Counter[str], list[float]], None],
) -> _Run:
    """Seed a fresh database, warm up, then claim and dial every lead with ``dial_tick``."""
    with fresh_database() as url:
        seed_campaign(url, campaign_id=1, leads=args.leads)
        runtime = _runtime(url, base, args.redis_url, name)
        results: Counter[str] = Counter()
        latencies: list[float] = []
        warm = _claim(runtime, None)  # warm-up: registry mmap, ZIP tables, pools, statement caches
        dial_tick(runtime, warm[: args.threads * 2], results, latencies)
        results.clear()
        latencies.clear()
        with transaction(runtime.sessions) as session:  # unclaim the rest of the warm-up batch
            session.execute(
                text("UPDATE leads SET status = 'pending', queued_at = NULL WHERE status = 'queued'")
            )
        statements = _Statements()
        engine = runtime.sessions.kw["bind"]
        event.listen(engine, "before_cursor_execute", statements.before)
        event.listen(engine, "after_cursor_execute", statements.after)
        spy = _profiler(args.profile) if args.profile else None
        others = _others_cpu()
        started, cpu_started = time.perf_counter(), time.process_time()
        while batch := _claim(runtime, args.batch):
            dial_tick(runtime, batch, results, latencies)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        others = {name: seconds - others[name] for name, seconds in _others_cpu().items()}
        event.remove(engine, "before_cursor_execute", statements.before)
        event.remove(engine, "after_cursor_execute", statements.after)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        with runtime.sessions() as session:
            attempts = session.scalar(select(func.count()).select_from(CallAttempt)) or 0
        engine.dispose()
        return _Run(
            name, sum(results.values()), elapsed, cpu, results, latencies, statements, attempts, others
        )


def _per_lead(threads: int) -> Callable[[Runtime, list[int], Counter[str], list[float]], None]:
    pool = ThreadPoolExecutor(threads)

    def tick(runtime: Runtime, lead_ids: list[int], results: Counter[str], latencies: list[float]) -> None:
        def one(lead_id: int) -> None:
            began = time.perf_counter()
            results[dial_lead(runtime, lead_id=lead_id)] += 1
            latencies.append((time.perf_counter() - began) * 1000)

        list(pool.map(one, lead_ids))

    return tick


def _batched(tasks: int, size: int) -> Callable[[Runtime, list[int], Counter[str], list[float]], None]:
    pool = ThreadPoolExecutor(tasks)
    lock = threading.Lock()

    def tick(runtime: Runtime, lead_ids: list[int], results: Counter[str], latencies: list[float]) -> None:
        def one(chunk: list[int]) -> None:
            began = time.perf_counter()
            got = dial_batch(runtime, chunk)
            with lock:
                results.update(str(r) for r in got.values())
                latencies.append((time.perf_counter() - began) * 1000)

        list(pool.map(one, [lead_ids[i : i + size] for i in range(0, len(lead_ids), size)]))

    return tick


def _report(run: _Run, stats: dict[str, int], raw_rate: float, show_sql: bool) -> None:
    print(f"--- {run.name}: {run.decisions} decisions, results {dict(run.results)}")
    print(
        f"attempts {run.attempts}, carrier calls so far {stats['calls_created']}, "
        f"duplicates {stats['duplicate_calls']}"
    )
    lat = sorted(run.latencies)
    print(f"task latency: median {statistics.median(lat):.1f} ms, p95 {lat[int(len(lat) * 0.95)]:.1f} ms")
    print(f"SQL statements per decision (claim included): {run.statements.count / run.decisions:.2f}")
    print(
        f"worker process CPU per decision: {run.cpu / run.decisions * 1000:.2f} ms "
        f"(one process runs Python on one core at a time: at most {run.decisions / run.cpu:.0f}/s)"
    )
    for other, seconds in run.others.items():
        print(f"{other} CPU per decision (same phase): {seconds / run.decisions * 1000:.2f} ms")
    if show_sql:
        print("SQL statements per decision, by statement (count, ms from send to result):")
        for sql, n in run.statements.kinds.most_common(20):
            print(f"  {n / run.decisions:6.3f} {run.statements.spent[sql] / n:7.2f} ms  {sql}")
    print(
        f"{run.name}: dial decisions per second (one worker process): {run.rate:.0f}/s "
        f"(target {TARGET:.0f}/s)"
    )
    print(f"{run.name}: ratio decisions / raw POSTs: {run.rate / raw_rate:.2f}")
    if run.results[DialResult.PLACED] != run.decisions:
        print("WARNING: not every decision placed a call; see results above")


def main() -> None:
    """Start the sandbox carrier, measure the baseline, then each path on a fresh database; print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=3000, help="leads per path")
    parser.add_argument(
        "--path",
        choices=("batch", "lead", "both", "setup"),
        default="both",
        help="setup: the sandbox, the baseline and a seeded database, no dials (the fixed part of a run)",
    )
    parser.add_argument("--threads", type=int, default=16, help="per-lead tasks at once; raw POST threads")
    parser.add_argument("--tasks", type=int, default=4, help="dial_batch tasks at once (worker threads)")
    parser.add_argument("--batch-size", type=int, default=50, help="leads per dial_batch task")
    parser.add_argument("--batch", type=int, default=200, help="leads per tick")
    parser.add_argument(
        "--redis-url", default=os.environ.get("DIALER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    )
    parser.add_argument(
        "--profile", type=Path, help="write py-spy raw samples (threads on CPU) of the dial phase"
    )
    args = parser.parse_args()

    with sandbox_carrier() as base:
        raw_rate = _raw_posts(base, min(args.leads, 1000), args.threads)
        runs = []
        if args.path in ("batch", "both"):
            runs.append(_measure(args, base, "batch", _batched(args.tasks, args.batch_size)))
        if args.path in ("lead", "both"):
            runs.append(_measure(args, base, "per-lead", _per_lead(args.threads)))
        if args.path == "setup":
            with fresh_database() as url:
                seed_campaign(url, campaign_id=1, leads=args.leads)
        stats = httpx.get(f"{base}/sandbox/stats", timeout=10).json()
        print(
            f"leads {args.leads} per path; batch: {args.tasks} tasks of {args.batch_size} leads, "
            f"{args.batch} per tick; per-lead: {args.threads} threads"
        )
        for run in runs:
            _report(run, stats, raw_rate, show_sql=True)
        print(
            f"baseline, raw POSTs of the same call to the same stand-in ({args.threads} threads): "
            f"{raw_rate:.0f}/s"
        )
        if len(runs) == 2:
            print(f"batch / per-lead decisions per second: {runs[0].rate / runs[1].rate:.2f}")


if __name__ == "__main__":
    main()
