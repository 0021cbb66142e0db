"""Audit appends per second with 4 concurrent writers on PostgreSQL, against plain INSERTs; sealing rate.

Each writer is its own process with its own connection and appends events the way real callers
do: one transaction per event (``BEGIN; record_event(...); COMMIT``). The baseline, measured in
the same run on the same fresh database, is the same writers doing a plain Core ``INSERT`` of the
same rows into the same table (a random hash in place of the content hash), one transaction
each, executed through a Session as callers' transactions are; the same INSERT on a bare
connection (no ORM session at all) is printed too. Baseline rows are deleted before sealing. The
figure is ``record_event rate / plain INSERT rate`` (target >= 0.5). Each round runs every mode,
in reverse order on even rounds, so load drifts hit all of them. Then the sealer seals
everything appended (events/s), and ``verify_chain`` reads it all back (events/s).

    .venv/bin/python bench/audit_append.py                    # 4 writers x 2,000 events x 2 rounds x 3 modes
    .venv/bin/python bench/audit_append.py --quick            # 4 x 200 x 1 round, < 1 minute
    .venv/bin/python bench/audit_append.py --code /tmp/old    # the same bench on another checkout
                                                              # (e.g. `git archive 83d3ca3`)
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_RATIO = 0.5
BASELINE_ACTOR = "bench:plain-insert"
PLAIN_MODES = ("session-insert", "insert")
MODE_NAMES = {
    "session-insert": "plain INSERT in a Session transaction (the baseline)",
    "insert": "plain INSERT on a bare connection",
    "record": "record_event",
}
T0 = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)


def _payload(writer: int, i: int) -> dict[str, object]:
    """A gate decision's payload, about as large as the real one."""
    return {
        "allowed": i % 3 != 0,
        "reasons": [] if i % 3 else ["OUTSIDE_CALLING_WINDOW"],
        "facts": {"zone": "America/Chicago", "state": "IL", "local_time": "11:00", "attempts_24h": i % 4},
        "phone_e164": f"+1312555{writer:01d}{i % 1000:03d}",
        "next_allowed_at": None,
        "writer": writer,
        "n": i,
    }


def _writer(code: str, url: str, mode: str, writer: int, count: int, barrier, results) -> None:
    sys.path.insert(0, code)
    from sqlalchemy import insert

    from dialer.audit import record_event
    from dialer.db import make_engine, session_factory
    from dialer.models import AuditEvent

    engine = make_engine(url, pool_size=1)
    columns = set(AuditEvent.__table__.columns.keys())
    factory = session_factory(engine)
    with engine.connect() as conn:  # warm the connection outside the timing
        conn.exec_driver_sql("SELECT 1")
    barrier.wait()
    started = time.perf_counter()
    for i in range(count):
        at = T0 + timedelta(milliseconds=i)
        if mode in PLAIN_MODES:
            digest = hashlib.sha256(f"{mode}:{writer}:{i}:{uuid.uuid4()}".encode()).hexdigest()
            row = {"occurred_at": at, "kind": "gate.decision", "actor": BASELINE_ACTOR, "campaign_id": 1}
            row |= {"lead_id": i, "attempt_id": None, "payload": _payload(writer, i), "hash": digest}
            if "prev_hash" in columns:  # the schema before 0004
                row["prev_hash"] = digest
            statement = insert(AuditEvent.__table__).values(**row)
            if mode == "session-insert":
                with factory() as session, session.begin():
                    session.execute(statement)
            else:
                with engine.begin() as conn:
                    conn.execute(statement)
        else:
            with factory() as session, session.begin():
                record_event(
                    session,
                    kind="gate.decision",
                    occurred_at=at,
                    campaign_id=1,
                    lead_id=i,
                    payload=_payload(writer, i),
                )
    results.put((started, time.perf_counter(), count))
    engine.dispose()


def _run(code: str, url: str, mode: str, writers: int, count: int) -> float:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(writers)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(code, url, mode, w, count, barrier, results))
        for w in range(writers)
    ]
    for proc in procs:
        proc.start()
    spans = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        if proc.exitcode != 0:
            raise SystemExit(f"{mode} writer failed with exit code {proc.exitcode}")
    elapsed = max(end for _, end, _ in spans) - min(start for start, _, _ in spans)
    return sum(n for _, _, n in spans) / elapsed


def _seal_and_verify(url: str) -> tuple[float | None, float | None, int]:
    try:
        from dialer.audit import seal_pending
    except ImportError:  # the code before sealing existed
        seal_pending = None
    from sqlalchemy import delete, func, select

    from dialer.audit import verify_chain
    from dialer.db import make_engine, session_factory, transaction
    from dialer.models import AuditEvent

    engine = make_engine(url)
    factory = session_factory(engine)
    with transaction(factory) as session:  # the baseline's rows carry no real hash: not part of the log
        session.execute(delete(AuditEvent).where(AuditEvent.actor == BASELINE_ACTOR))
    with factory() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    seal_rate = None
    if seal_pending is not None:
        started = time.perf_counter()
        with transaction(factory) as session:
            report = seal_pending(session, now=T0)
        seal_rate = report.events / (time.perf_counter() - started)
    started = time.perf_counter()
    with factory() as session:
        result = verify_chain(session)
    verify_rate = result.events_checked / (time.perf_counter() - started)
    engine.dispose()
    ok = "intact" if result.ok else f"BROKEN at {result.first_bad_event_id}: {result.problem}"
    print(f"  verify: {ok} ({result.events_checked} of {total} events)")
    return seal_rate, verify_rate, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--events", type=int, default=2000, help="events per writer per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="200 events per writer, 1 round")
    parser.add_argument(
        "--code", default=str(Path(__file__).resolve().parents[1]), help="checkout to measure"
    )
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    args = parser.parse_args()
    if args.quick:
        args.events, args.rounds = 200, 1
    sys.path.insert(0, args.code)
    from dialer.migrate import upgrade

    name = f"bench_audit_{uuid.uuid4().hex[:8]}"
    base = args.pg_admin_url.rsplit("/", 1)[0]
    with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    try:
        upgrade(url)
        print(f"code: {args.code}; {args.writers} writers x {args.events} events x {args.rounds} rounds")
        modes = ("session-insert", "record", "insert")
        rates: dict[str, list[float]] = {mode: [] for mode in modes}
        for round_no in range(args.rounds):
            for mode in modes if round_no % 2 == 0 else tuple(reversed(modes)):
                rates[mode].append(_run(args.code, url, mode, args.writers, args.events))
            print(f"  round {round_no + 1}: " + ", ".join(f"{m} {rates[m][-1]:,.0f}/s" for m in modes))
        seal_rate, verify_rate, total = _seal_and_verify(url)
    finally:
        with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    mean = {mode: sum(values) / len(values) for mode, values in rates.items()}
    for mode in ("session-insert", "insert", "record"):
        print(f"{MODE_NAMES[mode]} ({args.writers} writers): {mean[mode]:,.0f} appends/s")
    for mode in PLAIN_MODES:
        ratio = mean["record"] / mean[mode]
        verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
        print(f"ratio record_event / {MODE_NAMES[mode]}: {ratio:.2f} (target >= {TARGET_RATIO}) {verdict}")
    if seal_rate is not None:
        print(f"sealing: {seal_rate:,.0f} events/s ({total:,} events)")
    else:
        print("sealing: not in this code")
    print(f"verify_chain: {verify_rate:,.0f} events/s")


if __name__ == "__main__":
    main()
