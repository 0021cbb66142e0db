"""The hopper's tick and the gate's call-history queries at 10 k and 1 M leads, on PostgreSQL.

For each size, a fresh database (migrated to head) gets one running campaign with that many
leads, as a campaign in full swing has them: 55 % new, 30 % waiting for a time the gate deferred
them to (``next_allowed_at`` hours ahead), 5 % retries due, 0.5 % with a callback due, the rest
final; and as many call attempts (a third answered). Then it times:

- the tick's claim (:func:`dialer.dialing.claim_dialable_leads`, 50 leads of free capacity, rolled
  back so every run sees the same table; median of 7) against the pre-issue-7 query (every
  dialable lead, sorted, ``LIMIT``) on the same table: the ratio is the figure;
- the gate's history and abandonment queries (:mod:`dialer.dialing.gate`) against the same queries with
  index scans disabled (what they cost before migration 0005);

and prints ``EXPLAIN ANALYZE`` of every statement the claim sent and of the gate's queries.

    .venv/bin/python bench/hopper.py               # 10 k and 1 M leads (about 2 minutes)
    .venv/bin/python bench/hopper.py --quick       # 10 k and 100 k (under a minute)
    .venv/bin/python bench/hopper.py --sizes 10000 300000 --no-plans
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, or_, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dialer.db import make_engine  # noqa: E402
from dialer.dialing import claim_dialable_leads  # noqa: E402
from dialer.dialing.gate import _history, abandonment_rate  # noqa: E402
from dialer.migrate import upgrade  # noqa: E402
from dialer.models import Lead, LeadStatus  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
ROOM = 50

_SEED = """
INSERT INTO campaigns (id, name, seller_name, agent_name, product, caller_id, callback_number, script,
                       status, max_concurrent_calls, max_attempts, retry_delay_seconds, record_calls,
                       created_at, updated_at)
VALUES (1, 'bench', 'Northwind Analytics, Inc.', 'Alex', 'x', '+13125550199', '+13125550199', '',
        'running', :room, 3, 600, false, :now, :now);
INSERT INTO leads (campaign_id, phone_e164, phone_raw, fields, status, attempt_count, next_attempt_at,
                   source_file, source_row, created_at, updated_at, priority)
SELECT 1, '+1312' || lpad(g::text, 7, '0'), 'x', '{}',
       CASE WHEN g % 200 < 110 THEN 'pending'
            WHEN g % 200 < 181 THEN 'waiting'
            ELSE 'completed' END,
       CASE WHEN g % 200 < 110 THEN 0 ELSE 1 END,
       CASE WHEN g % 200 < 110 THEN NULL
            WHEN g % 200 < 170 THEN :now + (g % 600) * interval '1 minute'
            WHEN g % 200 < 181 THEN :now - (g % 600) * interval '1 minute'
            ELSE NULL END,
       'bench.csv', g, :now, :now, (g % 3)::smallint
FROM generate_series(1, :n) AS g;
INSERT INTO callbacks (campaign_id, lead_id, phone_e164, due_at, requested_text, lead_timezone, status,
                       created_at, updated_at)
SELECT 1, id, phone_e164, :now - interval '5 minutes', 'later', 'America/Chicago', 'pending', :now, :now
FROM leads WHERE status = 'waiting' AND id % 200 = 175 ORDER BY id LIMIT 20;
INSERT INTO gate_decisions (id, campaign_id, lead_id, decided_at, allowed, reasons, warnings,
                            rule_data_version, trace, facts, created_at)
VALUES (1, 1, 1, :now, true, '[]', '[]', '', '[]', '{}', :now);
INSERT INTO call_attempts (campaign_id, lead_id, gate_decision_id, attempt_number, status, to_e164,
                           from_e164, requested_at, answered_at, ended_at, answered_by, agent_usage,
                           created_at, updated_at)
SELECT 1, id, 1, 1, 'completed', phone_e164, '+13125550199',
       :now - (id % 1440) * interval '1 hour',
       CASE WHEN id % 3 = 0 THEN :now - (id % 1440) * interval '1 hour' END,
       :now - (id % 1440) * interval '1 hour' + interval '1 minute',
       CASE WHEN id % 3 = 0 THEN 'human' END, '{}', :now, :now
FROM leads;
"""


def _old_claim(session: Session, now: datetime, room: int) -> list[int]:
    """The tick's selection before issue 7: every dialable lead of the campaign sorted, then LIMIT."""
    return list(
        session.scalars(
            select(Lead.id)
            .where(
                Lead.campaign_id == 1,
                Lead.status.in_([LeadStatus.PENDING, LeadStatus.WAITING]),
                or_(Lead.next_attempt_at.is_(None), Lead.next_attempt_at <= now),
            )
            .order_by(Lead.next_attempt_at.is_not(None), Lead.next_attempt_at, Lead.id)
            .limit(room)
            .with_for_update(skip_locked=True)
        )
    )


def _timed(engine: Any, work: Any, runs: int = 7) -> float:
    """Median ms of ``work(session)`` in a transaction that is rolled back."""
    times = []
    for _ in range(runs):
        with Session(engine) as session:
            started = time.perf_counter()
            work(session)
            times.append((time.perf_counter() - started) * 1000)
            session.rollback()
    return statistics.median(times)


def _captured(engine: Any, work: Any) -> list[tuple[str, Any]]:
    """The statements ``work(session)`` sends, with their parameters (rolled back)."""
    seen: list[tuple[str, Any]] = []

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            work(session)
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def _explain(engine: Any, statement: str, parameters: Any, *, no_index: bool = False) -> str:
    with engine.connect() as conn:
        if no_index:
            conn.exec_driver_sql(
                "SET enable_indexscan = off; SET enable_bitmapscan = off; SET enable_indexonlyscan = off"
            )
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS OFF) {statement}", parameters).all()
        conn.rollback()
    return "\n".join("    " + r[0] for r in rows)


def _no_index_ms(engine: Any, work: Any) -> float:
    def unindexed(session: Session) -> None:
        session.execute(text("SET LOCAL enable_indexscan = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
        session.execute(text("SET LOCAL enable_indexonlyscan = off"))
        work(session)

    return _timed(engine, unindexed, runs=3)


def run_size(n: int, *, plans: bool) -> dict[str, float]:
    """Build a database of ``n`` leads, time and explain; return the figures (ms)."""
    name = f"bench_hopper_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    engine = make_engine(url)
    try:
        upgrade(url)
        started = time.perf_counter()
        with engine.begin() as conn:
            for statement in _SEED.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), {"n": n, "now": NOW, "room": ROOM})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        print(f"\n== {n:,} leads, {n:,} call attempts (built in {time.perf_counter() - started:.1f} s)")

        def claim(session: Session) -> None:
            claimed = claim_dialable_leads(session, now=NOW, requeue_after=timedelta(minutes=2))
            assert len(claimed) == ROOM, len(claimed)

        lead_id = (n // 2 // 1440) * 1440 + 5  # called 5 hours ago (inside the 24 h history window)
        number = "+1312" + f"{lead_id:07d}"

        def history(session: Session) -> None:
            _history(session, number, now=NOW)

        def abandonment(session: Session) -> None:
            abandonment_rate(session, campaign_id=1, now=NOW)

        figures = {
            "tick_ms": _timed(engine, claim),
            "old_tick_ms": _timed(engine, lambda s: _old_claim(s, NOW, ROOM)),
            "history_ms": _timed(engine, history),
            "history_noindex_ms": _no_index_ms(engine, history),
            "abandonment_ms": _timed(engine, abandonment),
            "abandonment_noindex_ms": _no_index_ms(engine, abandonment),
        }
        print(
            f"tick claim ({ROOM} leads): {figures['tick_ms']:.2f} ms   "
            f"pre-issue-7 sorted selection: {figures['old_tick_ms']:.2f} ms   "
            f"ratio {figures['old_tick_ms'] / figures['tick_ms']:.1f}x"
        )
        print(
            f"gate history query: {figures['history_ms']:.2f} ms "
            f"(without index {figures['history_noindex_ms']:.2f} ms)"
            f"   abandonment: {figures['abandonment_ms']:.2f} ms (without index "
            f"{figures['abandonment_noindex_ms']:.2f} ms)"
        )
        if plans:
            print("\n-- EXPLAIN ANALYZE of every statement the tick's claim sent:")
            for statement, parameters in _captured(engine, claim):
                if statement.lstrip().upper().startswith("SELECT"):
                    print("  " + " ".join(statement.split())[:160] + " ...")
                    print(_explain(engine, statement, parameters))
            for label, work in (("gate history", history), ("gate abandonment", abandonment)):
                print(f"\n-- EXPLAIN ANALYZE, {label}:")
                for statement, parameters in _captured(engine, work):
                    print(_explain(engine, statement, parameters))
        return figures
    finally:
        engine.dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    """Parse arguments, run each size, print the summary."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--quick", action="store_true", help="10 k and 100 k leads")
    parser.add_argument("--no-plans", dest="plans", action="store_false")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else args.sizes
    results = {n: run_size(n, plans=args.plans) for n in sizes}
    print("\n== summary (median ms)")
    print(
        f"{'leads':>10} {'tick':>8} {'old tick':>9} {'ratio':>6} {'history':>8} {'no idx':>8} "
        f"{'abandon':>8} {'no idx':>8}"
    )
    for n, f in results.items():
        print(
            f"{n:>10,} {f['tick_ms']:>8.2f} {f['old_tick_ms']:>9.2f} {f['old_tick_ms'] / f['tick_ms']:>6.1f} "
            f"{f['history_ms']:>8.2f} {f['history_noindex_ms']:>8.2f} {f['abandonment_ms']:>8.2f} "
            f"{f['abandonment_noindex_ms']:>8.2f}"
        )
    first, last = results[sizes[0]], results[sizes[-1]]
    print(
        f"tick growth from {sizes[0]:,} to {sizes[-1]:,} leads: {last['tick_ms'] / first['tick_ms']:.2f}x "
        f"(pre-issue-7 selection: {last['old_tick_ms'] / first['old_tick_ms']:.2f}x)"
    )


if __name__ == "__main__":
    main()
