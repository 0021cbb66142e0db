"""How many calls one bridge process carries per core, against a bare relay on the same stack.

Each call is sandbox-shaped: a Twilio media stream sending a 20 ms frame 50 times a second, the
agent (a fake Realtime server, :mod:`bench._load_side`) speaking 20 ms deltas 50 times a second
once the bridge greets, and every mark echoed. The server under test runs alone on core 0; the
load generator and the fake agent share core 1 (this process, on uvloop, its start-up heap
frozen, its WebSocket ends lean :mod:`bench._lean_ws` protocols that timestamp a frame when the
event loop hands its bytes over). For each server, the most calls *sustained* is found by
doubling then bisecting: a step passes when every frame sent in its window arrived, both ways,
and the p99 forwarding latency (frame sent -> frame received, through the server) is at most
20 ms. Each step also prints the load side's own event-loop lag (p99 of a 1 ms timer's
lateness), the part of that latency that is the generator's. The bridge is the real product app
(``bridge.app``, the OpenAI adapter, PostgreSQL for the stream tokens); the bare relay
(:mod:`bench._bare_relay`) is the same uvicorn stack forwarding JSON with no logic. Their steps
alternate, and each pass reports the two maxima and their ratio; the figures are the medians
over the passes (the machine is shared).

    .venv/bin/python bench/bridge_load.py [--passes 3] [--window 4]
    .venv/bin/python bench/bridge_load.py --only bridge --calls 60 --window 30   # one step, to profile

Prints ``ratio: X`` (bridge / bare relay calls per core) last.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._bench_servers import Servers, server_cpu_s  # noqa: E402
from bench._load_side import CallSpec, FakeAgent, LagProbe, Meter, TwilioSide  # noqa: E402
from dialer.serving import UVICORN_OPTIONS  # noqa: E402

P99_LIMIT_MS = 20.0
WARMUP_S = 2.0
GRACE_S = 0.5
CONNECT_BATCH = 10
MIN_CALLS = 5
FRAMES_PER_CALL_SECOND = 100  # 50 each way


@dataclass(frozen=True)
class Step:
    """One measured step: ``calls`` concurrent calls on one server for the window."""

    kind: str
    calls: int
    connected: int
    frames_sent: int
    frames_delivered: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu_ms_per_1000: float
    server_cpu_share: float
    load_cpu_share: float
    load_lag_p99_ms: float
    p99_limit_ms: float = P99_LIMIT_MS

    @property
    def passed(self) -> bool:
        return (
            self.connected == self.calls
            and self.frames_sent > 0
            and self.frames_delivered == self.frames_sent
            and self.p99_ms <= self.p99_limit_ms
        )

    def line(self) -> str:
        verdict = "ok" if self.passed else "FAIL"
        return (
            f"  {self.kind:6} {self.calls:4d} calls: {verdict:4} delivered {self.frames_delivered}/"
            f"{self.frames_sent} latency p50/p99/max {self.p50_ms:.1f}/{self.p99_ms:.1f}/{self.max_ms:.0f} "
            "ms, "
            f"{self.cpu_ms_per_1000:5.1f} ms CPU/1000 frames, "
            f"server core {self.server_cpu_share:4.0%}, load core {self.load_cpu_share:4.0%} "
            f"(its loop lag p99 {self.load_lag_p99_ms:.1f} ms)"
        )


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("inf")


async def _until(predicate, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def run_step(
    kind: str,
    calls: int,
    servers: Servers,
    agent: FakeAgent,
    window_s: float,
    p99_limit_ms: float = P99_LIMIT_MS,
) -> Step:
    """Open ``calls`` calls on ``kind``'s server, measure ``window_s`` seconds, hang them all up."""
    up, down = Meter(), Meter()
    agent.up, agent.down = up, down
    twilio = TwilioSide(up, down)
    stop = asyncio.Event()
    loops = [asyncio.create_task(twilio.talk(stop)), asyncio.create_task(agent.speak(stop))]
    specs: list[CallSpec] = servers.calls(kind, calls)
    for start in range(0, len(specs), CONNECT_BATCH):
        await asyncio.gather(*(twilio.open(spec) for spec in specs[start : start + CONNECT_BATCH]))
    await _until(lambda: twilio.streaming == calls and agent.speaking >= calls, 30)
    connected = min(twilio.streaming, agent.speaking)
    await asyncio.sleep(WARMUP_S)
    pid = servers.pid(kind)
    cpu_before, load_before, wall_before = server_cpu_s(pid), _own_cpu_s(), time.monotonic()
    up.open_window(window_s)
    down.window = up.window
    probe, probe_stop = LagProbe(), asyncio.Event()
    probing = asyncio.create_task(probe.run(probe_stop))
    await asyncio.sleep(window_s)
    probe_stop.set()
    cpu, load, wall = (
        server_cpu_s(pid) - cpu_before,
        _own_cpu_s() - load_before,
        time.monotonic() - wall_before,
    )
    await asyncio.sleep(GRACE_S)
    stop.set()
    await asyncio.gather(*loops, probing)
    await twilio.hang_up()
    await _until(lambda: not agent.sessions, 30)
    delivered = up.delivered + down.delivered
    latencies = sorted(up.latencies_ms + down.latencies_ms)
    return Step(
        kind=kind,
        calls=calls,
        connected=connected,
        frames_sent=up.sent + down.sent,
        frames_delivered=delivered,
        p50_ms=_quantile(latencies, 0.5),
        p99_ms=_quantile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else float("inf"),
        cpu_ms_per_1000=cpu * 1000 / max(1, delivered) * 1000,
        server_cpu_share=cpu / wall,
        load_cpu_share=load / wall,
        load_lag_p99_ms=_quantile(sorted(probe.lags_ms), 0.99),
        p99_limit_ms=p99_limit_ms,
    )


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Search:
    """The most calls that pass: double from ``start`` until a step fails, then bisect."""

    def __init__(self, start: int, maximum: int) -> None:
        self._start, self._max = start, maximum
        self.best: Step | None = None
        self._lo, self._hi = 0, maximum + 1

    def record(self, step: Step) -> None:
        if step.passed and step.calls > self._lo:
            self._lo, self.best = step.calls, step
        elif not step.passed:
            self._hi = min(self._hi, step.calls)

    def next_calls(self) -> int | None:
        if self._lo == 0:  # nothing passed yet: halve from the start (down to MIN_CALLS)
            calls = self._start if self._hi > self._max else self._hi // 2
            return calls if calls >= MIN_CALLS else None
        if self._hi > self._max:
            return min(self._lo * 2, self._max) if self._lo < self._max else None
        if self._hi - self._lo <= max(4, self._lo // 20):
            return None
        return (self._lo + self._hi) // 2

    @property
    def calls(self) -> int:
        return self._lo


async def one_pass(
    servers: Servers, agent: FakeAgent, args: argparse.Namespace, cpu: dict[str, list[float]]
) -> dict[str, Search]:
    """Alternate the two servers' searches, one step each in turn, until both have converged.

    ``cpu`` collects the CPU ms per 1000 frames of each server's first step (``--start`` calls).
    """
    searches = {kind: Search(args.start, args.max) for kind in ("bridge", "relay")}
    while True:
        moved = False
        for kind, search in searches.items():
            calls = search.next_calls()
            if calls is None:
                continue
            step = await run_step(kind, calls, servers, agent, args.window, args.p99_ms)
            print(step.line(), flush=True)
            if calls == args.start:  # the same load for both servers, every pass
                cpu[kind].append(step.cpu_ms_per_1000)
            search.record(step)
            moved = True
        if not moved:
            return searches


async def main(args: argparse.Namespace) -> None:
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {1})
    agent = FakeAgent(Meter(), Meter())
    await agent.start()
    options = {**UVICORN_OPTIONS, **{k: v for k, v in (("ws", args.ws), ("loop", args.loop)) if v}}
    with Servers(agent_port=agent.port, options=options, attempts=args.attempts) as servers:
        gc.collect()
        gc.freeze()  # the load side's start-up heap (SQLAlchemy, the seeding) is never walked again
        print(
            f"server stack: uvicorn {options}; bridge pid {servers.pid('bridge')}, relay pid "
            f"{servers.pid('relay')}; bridge RSS at start {servers.bridge_rss_mb():.0f} MB",
            flush=True,
        )
        if args.calls:
            step = await run_step(args.only or "bridge", args.calls, servers, agent, args.window, args.p99_ms)
            print(step.line())
            return
        for kind in ("bridge", "relay"):  # first calls load what every call needs (ZIP tables, imports)
            await run_step(kind, 5, servers, agent, 1.0)
        results: dict[str, list[int]] = {"bridge": [], "relay": []}
        cpu: dict[str, list[float]] = {"bridge": [], "relay": []}
        ratios = []
        for number in range(1, args.passes + 1):
            print(f"pass {number}:", flush=True)
            searches = await one_pass(servers, agent, args, cpu)
            for kind, search in searches.items():
                results[kind].append(search.calls)
            bridge, relay = searches["bridge"].calls, searches["relay"].calls
            ratios.append(bridge / relay if relay else 0.0)
            print(f"pass {number}: bridge {bridge} calls, bare relay {relay} calls, ratio {ratios[-1]:.2f}")
    await agent.close()
    _report(results, cpu, ratios)


def _report(results: dict[str, list[int]], cpu: dict[str, list[float]], ratios: list[float]) -> None:
    """Medians over the passes; the CPU-bound ceiling (one core / CPU per call); ``ratio:`` last."""
    ceilings = {}
    for kind, label in (("bridge", "bridge"), ("relay", "bare relay")):
        cost = statistics.median(cpu[kind]) if cpu[kind] else float("nan")
        ceilings[kind] = 1000 * 1000 / (cost * FRAMES_PER_CALL_SECOND) if cpu[kind] else 0.0
        print(
            f"{label}: {statistics.median(results[kind]):.0f} calls per core sustained (median of passes), "
            f"{cost:.0f} ms CPU per 1000 frames at the first step (median): CPU-bound ceiling "
            f"{ceilings[kind]:.0f} calls"
        )
    if ceilings["relay"]:
        print(f"CPU-bound ceiling ratio (bridge / bare relay): {ceilings['bridge'] / ceilings['relay']:.2f}")
    print(f"ratio: {statistics.median(ratios):.2f}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passes", type=int, default=3, help="alternated passes (default 3)")
    parser.add_argument("--window", type=float, default=4.0, help="measured seconds per step (default 4)")
    parser.add_argument("--start", type=int, default=40, help="first step's calls (default 40)")
    parser.add_argument("--max", type=int, default=400, help="most calls tried (default 400)")
    parser.add_argument("--attempts", type=int, default=8000, help="call attempts seeded (default 8000)")
    parser.add_argument("--p99-ms", type=float, default=P99_LIMIT_MS, help="latency bound (default 20)")
    parser.add_argument("--calls", type=int, help="run one step of this many calls and stop (profiling)")
    parser.add_argument("--only", choices=["bridge", "relay"], help="with --calls: which server")
    parser.add_argument("--ws", help="override dialer.serving's uvicorn --ws (to compare stacks)")
    parser.add_argument("--loop", help="override dialer.serving's uvicorn --loop (to compare stacks)")
    return parser.parse_args()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the servers and the database go too
    uvloop.run(main(_arguments()))
