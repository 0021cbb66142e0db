"""Dial decisions per second in one worker process, on PostgreSQL + Redis + the sandbox carrier.

One decision is what the hopper and the dial task do for one lead: the claim (the tick), the
capacity lease (Redis Lua), the gate on fresh facts with the lead locked, the stored decision and
its audit event, the attempt row, and the carrier request (the Twilio SDK's ``calls.create``
against the sandbox carrier, a Twilio-compatible stand-in started here, whose calls ring for an
hour so that no call progresses during the run). The worker is one process with a pool of
threads, as ``celery worker --pool threads --concurrency N`` runs the dial task.

Baseline, measured in the same run against the same stand-in with the same threads: raw
``requests`` POSTs of the same call parameters (what the carrier request alone allows).

    .venv/bin/python bench/dial_decisions.py                  # 3,000 leads, 16 threads
    .venv/bin/python bench/dial_decisions.py --leads 600      # quick (under a minute)
    .venv/bin/python bench/dial_decisions.py --profile out.txt  # run under py-spy (raw samples)
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
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import requests
from sqlalchemy import event, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _dialing_setup import AT, fresh_database, registry_dir, sandbox_carrier, seed_campaign  # noqa: E402

from dialer.db import transaction  # noqa: E402
from dialer.dialing import DialResult, claim_dialable_leads, dial_lead  # noqa: E402
from dialer.models import CallAttempt  # noqa: E402
from dialer.runtime import build_runtime  # noqa: E402
from dialer.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, load_settings  # noqa: E402

TARGET = 300.0


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


def main() -> None:  # noqa: PLR0915 - a linear script
    """Set up the database, Redis keys and the sandbox carrier; run; print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--batch", type=int, default=200, help="leads per tick")
    parser.add_argument(
        "--redis-url", default=os.environ.get("DIALER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    )
    parser.add_argument("--profile", type=Path, help="write py-spy raw samples of the dial phase here")
    args = parser.parse_args()

    with fresh_database() as url, sandbox_carrier() as base:
        seed_campaign(url, campaign_id=1, leads=args.leads)
        settings = load_settings(
            _env_file=None,
            database_url=url,
            redis_url=args.redis_url,
            capacity_key_prefix=f"bench:{uuid.uuid4().hex}",
            dnc_dir=registry_dir(Path(tempfile.mkdtemp(prefix="bench-dial-")) / "dnc"),
            dial_cps=100_000,
            twilio_api_base_url=base,
            public_url="http://127.0.0.1:9",
            sandbox_clock_start=AT,
            sandbox_clock_anchor=datetime.now(UTC),
        )
        runtime = build_runtime(settings)
        raw_rate = _raw_posts(base, min(args.leads, 1000), args.threads)

        results: Counter[str] = Counter()
        latencies: list[float] = []

        def dial(lead_id: int) -> None:
            started = time.perf_counter()
            results[dial_lead(runtime, lead_id=lead_id)] += 1
            latencies.append((time.perf_counter() - started) * 1000)

        statements = [0]
        kinds: Counter[str] = Counter()
        spent: Counter[str] = Counter()  # ms from send to result, per statement kind
        starts: dict[int, float] = {}

        def count(_conn: object, cursor: object, statement: str, *_: object) -> None:
            statements[0] += 1
            kinds[" ".join(statement.split())[:100]] += 1
            starts[id(cursor)] = time.perf_counter()

        def timed(_conn: object, cursor: object, statement: str, *_: object) -> None:
            began = starts.pop(id(cursor), None)
            if began is not None:
                spent[" ".join(statement.split())[:100]] += (time.perf_counter() - began) * 1000

        engine = runtime.sessions.kw["bind"]
        with ThreadPoolExecutor(args.threads) as pool:  # warm-up: registry mmap, ZIP tables, pools
            with transaction(runtime.sessions) as session:
                warm = claim_dialable_leads(
                    session, now=runtime.clock.now(), requeue_after=timedelta(minutes=2)
                )
            list(pool.map(lambda lead_id: dial_lead(runtime, lead_id=lead_id), warm[: args.threads * 2]))
        results.clear()
        with transaction(runtime.sessions) as session:  # unclaim the rest of the warm-up batch
            session.execute(
                text("UPDATE leads SET status = 'pending', queued_at = NULL WHERE status = 'queued'")
            )
        event.listen(engine, "before_cursor_execute", count)
        event.listen(engine, "after_cursor_execute", timed)
        spy = None
        if args.profile:
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("py-spy")),
                    "record",
                    "--idle",
                    "-f",
                    "raw",
                    "-r",
                    "200",
                    "-o",
                    str(args.profile),
                    "-p",
                    str(os.getpid()),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
        started = time.perf_counter()
        cpu_started = time.process_time()
        with ThreadPoolExecutor(args.threads) as pool:
            while True:
                with transaction(runtime.sessions) as session:
                    batch = claim_dialable_leads(
                        session,
                        now=runtime.clock.now(),
                        requeue_after=timedelta(minutes=2),
                        capacity=runtime.capacity,
                        batch_limit=args.batch,
                    )
                if not batch:
                    break
                list(pool.map(dial, batch))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "after_cursor_execute", timed)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        with runtime.sessions() as session:
            attempts = session.scalar(select(func.count()).select_from(CallAttempt))
        stats = httpx.get(f"{base}/sandbox/stats", timeout=10).json()
        decisions = sum(results.values())
        rate = decisions / elapsed
        print(f"leads {args.leads}, threads {args.threads}, results {dict(results)}")
        print(
            f"attempts {attempts}, calls the carrier created {stats['calls_created']}, "
            f"duplicates {stats['duplicate_calls']}"
        )
        print(
            f"dial decision latency: median {statistics.median(latencies):.1f} ms, "
            f"p95 {sorted(latencies)[int(len(latencies) * 0.95)]:.1f} ms"
        )
        print(
            f"SQL statements per decision (claim included, pool pings excluded): "
            f"{statements[0] / decisions:.1f}"
        )
        print(
            f"worker process CPU per decision: {cpu / decisions * 1000:.1f} ms "
            f"(the GIL lets one thread run Python at a time: at most {decisions / cpu:.0f}/s per process)"
        )
        print("SQL statements per decision, by statement (count, ms from send to result):")
        for sql, n in kinds.most_common():
            print(f"  {n / decisions:5.2f} {spent[sql] / n:6.2f} ms  {sql}")
        print(f"dial decisions per second (one worker process): {rate:.0f}/s (target {TARGET:.0f}/s)")
        print(f"baseline, raw POSTs of the same call to the same stand-in: {raw_rate:.0f}/s")
        print(f"ratio decisions / raw POSTs: {rate / raw_rate:.2f}")
        if results[DialResult.PLACED] != decisions:
            print("WARNING: not every decision placed a call; see results above")


if __name__ == "__main__":
    main()
