"""Answer -> the agent's first audio, with the agent session opened during the TwiML request or not.

Issue 9 item 4 ("no dead air"). Each run dials the same number of leads (Chicago numbers with
PEWC; the sandbox cast's hashed personas: the human answers give the figures) through the real
dial path, the sandbox carrier and agent (a child process, ``--agent-connect-delay-ms`` standing
in for a remote agent's handshake) and the real bridge (in this process), on a fresh PostgreSQL
database. It prints each run's answer -> first agent audio (median, p95, max, as stored on the
attempts) and how many calls the TSR 2-second rule counted abandoned.

Baseline, in the same run: the same bridge, but each call's agent connect held back until its
stream starts (as before issue 9 item 4); the answer is the TwiML request in both, so the figures
compare.

    .venv/bin/python bench/first_audio.py                          # 30 leads, 600 ms handshake
    .venv/bin/python bench/first_audio.py --leads 60 --connect-delay-ms 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._dialing_setup import AT, fresh_database, registry_dir, sandbox, seed_campaign  # noqa: E402
from bridge import app as app_module  # noqa: E402
from bridge.agent import AgentConnection  # noqa: E402
from bridge.app import create_app  # noqa: E402
from bridge.preopen import PreopenedAgent, PreopenedAgents  # noqa: E402
from dialer.calls.latency import latency_stats  # noqa: E402
from dialer.db import transaction  # noqa: E402
from dialer.demo.processes import listening_socket  # noqa: E402
from dialer.dialing import claim_dialable_leads, dial_lead  # noqa: E402
from dialer.models import CallAttempt  # noqa: E402
from dialer.runtime import build_runtime  # noqa: E402
from dialer.settings import Settings  # noqa: E402


@contextmanager
def bridge(settings: Settings, sock: Any) -> Iterator[Any]:
    """The real API app on ``sock`` in a thread of its own; yields the dialer's runtime."""
    runtime = build_runtime(settings)
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=runtime), log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the bridge did not start")
        time.sleep(0.05)
    try:
        yield runtime
    finally:
        server.should_exit = True
        thread.join(10)


class ConnectAtStreamStart(PreopenedAgents):
    """The baseline: the TwiML request is timed as the answer, but the connect waits for the stream."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(timeout_s)
        self._streams: dict[int, asyncio.Event] = {}

    def open(self, attempt_id: int, connect: Any, *, answered_at: float) -> PreopenedAgent:
        started = self._streams[attempt_id] = asyncio.Event()

        async def at_stream_start() -> AgentConnection:
            await started.wait()
            return await connect

        return super().open(attempt_id, at_stream_start(), answered_at=answered_at)

    def claim(self, attempt_id: int) -> PreopenedAgent | None:
        entry = super().claim(attempt_id)
        started = self._streams.pop(attempt_id, None)
        if started is not None:
            started.set()
        return entry


def run(leads: int, connect_delay_ms: int, *, preopen: bool, scratch: Path) -> dict[str, Any]:
    """One campaign's calls; the stored first-audio figures."""
    saved = app_module.PreopenedAgents
    if not preopen:
        app_module.__dict__["PreopenedAgents"] = ConnectAtStreamStart
    try:
        options = ("--ms-per-char", "4", "--agent-connect-delay-ms", str(connect_delay_ms))
        with fresh_database() as url, sandbox(0.3, *options) as (carrier, agent):
            seed_campaign(url, campaign_id=1, leads=leads)
            sock = listening_socket()
            settings = Settings(
                _env_file=None,
                database_url=url,
                public_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
                twilio_api_base_url=carrier,
                openai={"websocket_base_url": agent},
                dnc_dir=registry_dir(scratch / ("on" if preopen else "off")),
                sandbox_clock_start=AT,
                sandbox_clock_anchor=datetime.now(UTC),
                dial_cps=50,
            )
            with bridge(settings, sock) as runtime:
                return _dial_all(runtime)
    finally:
        app_module.__dict__["PreopenedAgents"] = saved


def _dial_all(runtime: Any) -> dict[str, Any]:
    with transaction(runtime.sessions) as s:
        lead_ids = claim_dialable_leads(s, now=runtime.clock.now(), requeue_after=timedelta(minutes=5))

    async def dial() -> None:
        await asyncio.gather(*(asyncio.to_thread(dial_lead, runtime, lead_id=i) for i in lead_ids))

    asyncio.run(dial())
    deadline = time.monotonic() + 300
    while True:
        with runtime.sessions() as s:
            rows = s.execute(
                select(CallAttempt.ended_at, CallAttempt.answer_to_first_audio_ms, CallAttempt.tsr_abandoned)
            ).all()
        live = [r for r in rows if r[0] is None]
        if not live and all(r[2] is not None for r in rows if r[1] is not None):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(live)} calls still live after 300 s")
        time.sleep(0.5)
    stats = latency_stats([r[1] for r in rows if r[1] is not None])
    return {"calls": len(rows), **stats.to_dict(), "tsr_abandoned": sum(1 for r in rows if r[2])}


def main() -> int:
    """Run both and print their figures and the ratio of the medians."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=30)
    parser.add_argument("--connect-delay-ms", type=int, default=600, help="the agent's handshake time")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-first-audio-"))
    figures = {
        "preopened": run(args.leads, args.connect_delay_ms, preopen=True, scratch=scratch),
        "connect_at_stream_start": run(args.leads, args.connect_delay_ms, preopen=False, scratch=scratch),
    }
    print(json.dumps(figures, indent=2))
    on, off = figures["preopened"]["median_ms"], figures["connect_at_stream_start"]["median_ms"]
    if on and off:
        print(f"answer -> first agent audio, median: {on} ms pre-opened / {off} ms baseline = {on / off:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
