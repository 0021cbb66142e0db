"""Outbox throughput on PostgreSQL: publishing events, and draining them to a webhook receiver.

Publishing is measured the way callers publish: inside the business transaction. The baseline is
a transaction that writes one row (the "change") and commits; the measured loop writes the same
row and publishes its event in the same transaction, so the ratio is what the event adds. The
drain delivers every event to a local receiver (uvicorn, in a thread of this process) that
verifies each signature, so its rate includes signing, HTTP, verification, the claim and the
batch's settling transaction.

    .venv/bin/python bench/outbox_drain.py               # 2,000 events
    .venv/bin/python bench/outbox_drain.py --events 200  # quick
    .venv/bin/python bench/outbox_drain.py --events 100000 --drain-only --budget 180  # a 10^5 backlog

``--drain-only`` seeds the events in one ``INSERT`` instead of publishing them. The drain is run
until nothing is left to route or deliver (a run routes at most what its version routes per
run), or, with ``--budget``, for that many seconds against the backlog (runs of 5 claims): the
figure is deliveries per second either way, whichever version of the code runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import text

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from _dialing_setup import fresh_database  # noqa: E402

from crm.outbox import build_destinations, drain  # noqa: E402
from crm.webhooks import verify_signature  # noqa: E402
from dialer.crm_settings import CrmSettings, OutboxParams, WebhookEndpoint  # noqa: E402
from dialer.db import make_engine, session_factory, transaction  # noqa: E402
from dialer.models import OutboxEventType  # noqa: E402
from dialer.outbox import publish  # noqa: E402
from dialer.runtime import Runtime  # noqa: E402
from dialer.settings import Settings  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"
_SEED = text(
    "INSERT INTO outbox_events (event_type, event_key, payload, occurred_at, created_at) "
    "SELECT 'dnc.added', 'bench:' || g, jsonb_build_object('entry_id', g, 'phone_e164', "
    "'+1312' || lpad(g::text, 7, '0'), 'source', 'bench', 'reason', ''), :at, :at "
    "FROM generate_series(1, :n) AS g"
)
NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)


class _Clock:
    def now(self) -> datetime:
        return NOW


def _receiver() -> tuple[object, list[int]]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    seen: list[int] = []

    async def hook(request: Request) -> Response:
        body = await request.body()
        verify_signature(SECRET, request.headers.get("x-dialer-signature"), body, now=time.time())
        seen.append(1)
        return Response(status_code=204)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])]), seen


@contextmanager
def _served(app: object) -> Iterator[int]:
    """Serve ``app`` with uvicorn in a thread, on a port the kernel picks; yield the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def main() -> None:
    """Run the bench and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--drain-only", action="store_true", help="Seed the events in bulk; skip publishing.")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--budget", type=float, default=0.0, help="Drain for this many seconds at most.")
    options = parser.parse_args()
    events = options.events
    with fresh_database() as url:
        engine = make_engine(url)
        sessions = session_factory(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE bench_change (id serial PRIMARY KEY, payload jsonb)")
        change = text("INSERT INTO bench_change (payload) VALUES (CAST(:p AS jsonb))")

        def run(with_event: bool) -> float:
            started = time.perf_counter()
            for i in range(events):
                payload = {"entry_id": i, "phone_e164": f"+1312555{i:04d}", "source": "bench", "reason": ""}
                with transaction(sessions) as session:
                    session.execute(change, {"p": json.dumps(payload)})
                    if with_event:
                        publish(session, event_type=OutboxEventType.DNC_ADDED, key=f"bench:{i}",
                                payload=payload, occurred_at=NOW)  # fmt: skip
            return time.perf_counter() - started

        if options.drain_only:
            with engine.begin() as conn:
                conn.execute(_SEED, {"n": events, "at": NOW})
        else:
            alone, published = run(False), run(True)
            print(f"publish: a one-row business transaction {alone / events * 1e6:,.0f} us alone, "
                  f"{published / events * 1e6:,.0f} us with its event (x{published / alone:.2f}; "
                  f"{events / published:,.0f} events/s)")  # fmt: skip

        app, seen = _receiver()
        with _served(app) as port:
            endpoint = WebhookEndpoint(name="bench", url=f"http://127.0.0.1:{port}/hook", secret=SECRET)
            crm = CrmSettings(webhooks=[endpoint], outbox=OutboxParams(batch_size=options.batch_size))
            settings = Settings(_env_file=None, database_url=url, crm=crm)  # type: ignore[call-arg]
            runtime = Runtime(settings=settings, sessions=sessions, clock=_Clock(), carrier=None, pacer=None)  # type: ignore[arg-type]
            started, delivered, runs = time.perf_counter(), 0, 0
            with httpx.Client(timeout=10) as http:
                destinations = build_destinations(settings, http)
                while not options.budget or time.perf_counter() - started < options.budget:
                    report = drain(runtime, destinations, max_batches=5 if options.budget else 10**6)
                    runs += 1
                    delivered += report.outcomes["delivered"]
                    if not report.routed and not sum(report.outcomes.values()):
                        break
            drained = time.perf_counter() - started
        assert delivered == len(seen) and (options.budget or delivered == events), (delivered, len(seen))
        print(f"drain: {delivered / drained:,.0f} deliveries/s to a local signed-webhook receiver "
              f"({delivered} of {events} delivered, signatures verified, {drained:.1f} s, "
              f"{runs} drain runs)")  # fmt: skip
        engine.dispose()


if __name__ == "__main__":
    main()
