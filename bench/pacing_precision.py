"""Pacing precision: 4 Celery worker processes share one CPS limit; what did the carrier see?

Starts the sandbox carrier (calls ring for an hour, so nothing but the create requests matter),
4 real ``celery worker`` processes (threads pool) on Redis + PostgreSQL, claims every lead of a
campaign at once and publishes one ``dialer.dial`` task per lead, so all workers compete for the
account's slots at the same moment. When every call exists, it reads the carrier's creation time
of each call (``GET /sandbox/calls``) and prints the most calls in any one-second window against
the limit (the figure: it must not exceed it).

Baseline, same run, same workers: the same campaign size dialed with the CPS limit set far above
what the workers can send (pacing out of the way), i.e. what the carrier would see unpaced.

    .venv/bin/python bench/pacing_precision.py                 # 5 CPS, 150 calls (about 40 s)
    .venv/bin/python bench/pacing_precision.py --calls 40      # quick
    .venv/bin/python bench/pacing_precision.py --cps 10 --calls 300
"""

from __future__ import annotations

import argparse
import bisect
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _dialing_setup import AT, fresh_database, registry_dir, sandbox_carrier, seed_campaign  # noqa: E402

from dialer.celery_app import create_celery_app  # noqa: E402
from dialer.db import make_engine, session_factory, transaction  # noqa: E402
from dialer.dialing import claim_dialable_leads  # noqa: E402
from dialer.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, load_settings  # noqa: E402

WORKERS = 4


def busiest_second(times: list[float]) -> int:
    """The most instants of ``times`` (s) in any half-open one-second window."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def _run_phase(*, url: str, base: str, broker: str, redis_url: str, cps: float, calls: int) -> int:
    """Dial every lead of the running campaign with 4 workers at ``cps``; return the busiest second."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-pacing-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DIALER_")},
        "DIALER_DATABASE_URL": url,
        "DIALER_BROKER_URL": broker,
        "DIALER_REDIS_URL": redis_url,
        "DIALER_CAPACITY_KEY_PREFIX": f"bench:{uuid.uuid4().hex}",
        "DIALER_BROKER_DIR": str(workdir / "broker"),
        "DIALER_DNC_DIR": str(registry_dir(workdir / "dnc")),
        "DIALER_TWILIO_ACCOUNT_SID": SANDBOX_ACCOUNT_SID,
        "DIALER_TWILIO_AUTH_TOKEN": SANDBOX_AUTH_TOKEN,
        "DIALER_TWILIO_API_BASE_URL": base,
        "DIALER_PUBLIC_URL": "http://127.0.0.1:9",
        "DIALER_SANDBOX_CLOCK_START": AT.isoformat(),
        "DIALER_SANDBOX_CLOCK_ANCHOR": datetime.now(UTC).isoformat(),
        "DIALER_DIAL_CPS": str(cps),
        "DIALER_SLOT_WAIT_SECONDS": "300",
    }
    redis.Redis.from_url(broker).delete("celery")
    engine = make_engine(url)
    sessions = session_factory(engine)
    known = {c["sid"] for c in httpx.get(f"{base}/sandbox/calls", timeout=30).json()}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dialer.celery_app", "worker", "--pool", "threads"]
            + ["--concurrency", "8", "--loglevel", "warning", "--without-heartbeat", "--without-mingle"]
            + ["--without-gossip", "-n", f"pacing{i}@%h"],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(WORKERS)
    ]
    try:
        time.sleep(3.0)  # let the four workers connect before the burst
        with transaction(sessions) as session:
            lead_ids = claim_dialable_leads(session, now=AT.astimezone(UTC), requeue_after=timedelta(hours=1))
        publisher = create_celery_app(load_settings(_env_file=None, broker_url=broker))
        for lead_id in lead_ids:
            publisher.send_task("dialer.dial", args=[lead_id])
        deadline = time.monotonic() + max(120.0, calls / cps * 3)
        while True:
            created = [
                c for c in httpx.get(f"{base}/sandbox/calls", timeout=30).json() if c["sid"] not in known
            ]
            if len(created) >= len(lead_ids):
                break
            if time.monotonic() > deadline:
                with sessions() as session:
                    states = session.execute(
                        text(
                            "SELECT l.status, d.name, d.notes, count(*) FROM leads l LEFT JOIN dispositions d"
                            " ON d.lead_id = l.id GROUP BY 1, 2, 3"
                        )
                    ).all()
                print(f"  lead states: {states}")
                raise RuntimeError(
                    f"only {len(created)} of {len(lead_ids)} calls reached the carrier in time"
                )
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        engine.dispose()
    times = [datetime.fromisoformat(c["created_at"]).timestamp() for c in created]
    span = max(times) - min(times)
    print(f"  {len(times)} calls over {span:.1f} s ({len(times) / max(span, 1e-9):.1f}/s on average)")
    return busiest_second(times)


def main() -> None:
    """Run the paced phase and the unpaced baseline; print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cps", type=float, default=5.0)
    parser.add_argument("--calls", type=int, default=150)
    parser.add_argument(
        "--redis-url", default=os.environ.get("DIALER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    )
    parser.add_argument(
        "--broker-url", default=os.environ.get("DIALER_BENCH_BROKER_URL", "redis://127.0.0.1:6379/6")
    )
    args = parser.parse_args()
    with fresh_database() as url, sandbox_carrier() as base:
        seed_campaign(url, campaign_id=1, leads=args.calls)
        print(f"paced: {WORKERS} worker processes, limit {args.cps:g} calls per second")
        paced = _run_phase(
            url=url,
            base=base,
            broker=args.broker_url,
            redis_url=args.redis_url,
            cps=args.cps,
            calls=args.calls,
        )
        seed_campaign(url, campaign_id=2, leads=args.calls, offset=100)
        with transaction(session_factory(make_engine(url))) as session:  # only campaign 2 is dialed now
            session.execute(text("UPDATE campaigns SET status = 'completed' WHERE id = 1"))
        print("baseline: the same workers with pacing out of the way (limit 100000 calls per second)")
        unpaced = _run_phase(
            url=url,
            base=base,
            broker=args.broker_url,
            redis_url=args.redis_url,
            cps=100_000,
            calls=args.calls,
        )
    print(
        f"most calls the carrier saw in any one-second window: {paced} (limit {args.cps:g}) -> "
        f"{'OK, never above the limit' if paced <= args.cps else 'OVER THE LIMIT'}"
    )
    print(
        f"baseline, unpaced: {unpaced} in the busiest second; "
        f"paced / unpaced = {paced / max(unpaced, 1):.2f}, paced / limit = {paced / args.cps:.2f}"
    )


if __name__ == "__main__":
    main()
