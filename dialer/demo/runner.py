"""Run a whole sandbox campaign: fresh database, import, campaign, API + worker + sandbox, report.

Everything real runs for real: the Alembic migration, the importer, the Celery worker and its
beat tick (on the embedded filesystem broker, or several workers and beat on Redis with PostgreSQL:
:mod:`dialer.demo.stack`), the gate at dial time, the twilio SDK against the
sandbox carrier, the FastAPI bridge with signed webhooks and the media WebSocket, and the openai
SDK against the sandbox Realtime agent. Only time is shifted: every process reads the same
sandbox clock, so the gate's outcome does not depend on when the demo runs.
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import make_url

from dialer.audit import seal_pending
from dialer.db import transaction
from dialer.demo.processes import (
    Supervisor,
    api_server_args,
    http_ok,
    listening_socket,
    sandbox_args,
    sigterm_as_exit,
    wait_until,
)
from dialer.demo.report import build_report, settled_counts
from dialer.demo.seed import seed_campaign
from dialer.demo.stack import Stack, prepare_postgres, prepare_redis, worker_commands
from dialer.dialing import active_attempts
from dialer.migrate import upgrade
from dialer.runtime import build_runtime
from dialer.settings import (
    SANDBOX_ACCOUNT_SID,
    SANDBOX_AUTH_TOKEN,
    SANDBOX_OPENAI_KEY,
    Settings,
    load_settings,
)

CLOCK_ZONE = "America/Chicago"
EXAMPLE_LEADS = Path("leads.example.csv")


def default_clock_instant(real_now: datetime) -> datetime:
    """The next weekday 11:00 in America/Chicago after ``real_now`` (the demo's default clock)."""
    local = real_now.astimezone(ZoneInfo(CLOCK_ZONE))
    candidate = local.replace(hour=11, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    while candidate.weekday() >= 5:
        candidate += timedelta(days=1)
    return candidate


@dataclass
class DemoOptions:
    """What ``dialer demo`` was asked to do.

    Attributes:
        leads_file: the lead CSV (default: ``leads.example.csv``).
        report_path: where the JSON report goes.
        at: the sandbox clock's starting instant (default: next weekday 11:00 America/Chicago).
        consent_attestation: stored as PEWC evidence on every row (for files without consent columns).
        concurrency: the campaign's live-call cap.
        timeout_seconds: give up if leads are not settled by then.
        workdir: where the demo's database, broker, logs and report live (wiped first).
        ms_per_char: sandbox speaking pace.
        database_url: a PostgreSQL database for the production stack (None: SQLite in ``workdir``).
        broker_url: the Redis broker for the production stack (None: the embedded filesystem broker).
        workers: Celery worker processes (production stack only; the embedded stack runs one).
        reset: drop and recreate the PostgreSQL database and empty the Redis database first.
        dial_cps: the account's calls per second (the carrier's limit the pacer keeps to).
        worker_concurrency: dial-task threads per worker (default: the campaign's cap, at least 4).
        voice_agent: the campaign's speech-to-speech backend (``openai``, ``assemblyai``; the
            sandbox agent speaks both protocols); None: the ``voice_agent`` setting.
    """

    leads_file: Path = EXAMPLE_LEADS
    report_path: Path = Path("demo-report.json")
    at: datetime | None = None
    consent_attestation: str | None = None
    concurrency: int = 8
    timeout_seconds: float = 1800.0
    workdir: Path = Path(".dialer/demo")
    ms_per_char: float = 8.0
    database_url: str | None = None
    broker_url: str | None = None
    workers: int = 1
    reset: bool = False
    dial_cps: float = 10.0
    worker_concurrency: int | None = None
    voice_agent: str | None = None

    @property
    def stack(self) -> Stack:
        """The database, broker and worker count the campaign runs on."""
        if self.database_url is None or self.broker_url is None:
            return Stack(f"sqlite:///{self.workdir.resolve() / 'demo.db'}", "localfs://")
        return Stack(self.database_url, self.broker_url, self.workers)


def _environment(
    options: DemoOptions, ports: dict[str, int], clock_start: datetime, anchor: datetime
) -> dict[str, str]:
    workdir = options.workdir.resolve()
    stack = options.stack
    redis = {} if stack.embedded else {"DIALER_REDIS_URL": stack.broker_url}  # pacing shared by workers
    return {
        "DIALER_ENVIRONMENT": "development",
        "DIALER_DATABASE_URL": stack.database_url,
        "DIALER_BROKER_URL": stack.broker_url,
        **redis,
        "DIALER_BROKER_DIR": str(workdir / "broker"),
        "DIALER_BEAT_SCHEDULE_FILE": str(workdir / "celerybeat-schedule"),
        "DIALER_DNC_DIR": str(workdir / "dnc"),
        "DIALER_PUBLIC_URL": f"http://127.0.0.1:{ports['api']}",
        "DIALER_TWILIO_ACCOUNT_SID": SANDBOX_ACCOUNT_SID,
        "DIALER_TWILIO_AUTH_TOKEN": SANDBOX_AUTH_TOKEN,
        "DIALER_TWILIO_API_BASE_URL": f"http://127.0.0.1:{ports['carrier']}",
        "DIALER_OPENAI__API_KEY": SANDBOX_OPENAI_KEY,
        "DIALER_OPENAI__WEBSOCKET_BASE_URL": f"ws://127.0.0.1:{ports['agent']}/v1",
        "DIALER_ASSEMBLYAI__URL": f"ws://127.0.0.1:{ports['agent']}/v1/ws",
        "DIALER_SANDBOX_CLOCK_START": clock_start.isoformat(),
        "DIALER_SANDBOX_CLOCK_ANCHOR": anchor.isoformat(),
        "DIALER_TICK_INTERVAL_SECONDS": "0.5",
        "DIALER_DIAL_CPS": str(options.dial_cps),
        "DIALER_RING_TIMEOUT_SECONDS": "20",
        "DIALER_BRIDGE__VAD_SILENCE_MS": "300",
        "DIALER_BRIDGE__AMD_WAIT_MAX_MS": "3000",
    }


def _settings_from(env: dict[str, str]) -> Settings:
    """The settings ``env`` gives a process (``DIALER_A__B`` -> the ``a`` sub-model's ``b``)."""
    fields: dict[str, Any] = {}
    for key, value in env.items():
        *parents, name = key.removeprefix("DIALER_").lower().split("__")
        target = fields
        for parent in parents:
            target = target.setdefault(parent, {})
        target[name] = value
    return load_settings(_env_file=None, **fields)


def settings_safe_url(database_url: str) -> str:
    """``database_url`` with any password masked (for printing)."""
    return make_url(database_url).render_as_string(hide_password=True)


def run_demo(options: DemoOptions, console: Console) -> dict[str, Any]:
    """Run the demo and return its report (also written to ``options.report_path``).

    Raises:
        RuntimeError: a process died or the campaign did not settle in time (with log excerpts).
        DialerError: the leads file could not be imported, or another product error.
    """
    started = time.monotonic()
    if options.workdir.exists():
        shutil.rmtree(options.workdir)
    options.workdir.mkdir(parents=True)
    anchor = datetime.now(UTC)
    clock_start = options.at or default_clock_instant(anchor)
    # Bound here, served by the children that inherit them: each port is known before they start.
    sockets = {name: listening_socket() for name in ("api", "carrier", "agent")}
    ports = {name: sock.getsockname()[1] for name, sock in sockets.items()}
    env = _environment(options, ports, clock_start, anchor)
    settings = _settings_from(env)
    runtime = build_runtime(settings)
    console.print(f"sandbox clock: {clock_start.astimezone(ZoneInfo(CLOCK_ZONE)).isoformat()} ({CLOCK_ZONE})")
    _prepare_stores(options, settings, console)
    campaign_id, import_summary = seed_campaign(options, runtime, console)
    supervisor = Supervisor(env=env, log_dir=options.workdir / "logs")
    with sigterm_as_exit():
        carrier_stats = _run_processes(options, sockets, supervisor, runtime, campaign_id, console)
    with transaction(runtime.sessions) as session:  # seal the tail, so the report proves the order
        seal_pending(session, now=runtime.clock.now())
    with runtime.sessions() as session:
        report = build_report(
            session,
            settings=settings,
            campaign_id=campaign_id,
            clock_instant=clock_start,
            clock_zone=CLOCK_ZONE,
            carrier_stats=carrier_stats,
            import_summary=import_summary,
            elapsed_seconds=time.monotonic() - started,
        )
    options.report_path.parent.mkdir(parents=True, exist_ok=True)
    options.report_path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return report


def _prepare_stores(options: DemoOptions, settings: Settings, console: Console) -> None:
    """Migrate the embedded database, or prepare (and with ``reset``, empty) PostgreSQL and Redis."""
    stack = options.stack
    if stack.embedded:
        upgrade(settings.database_url)
        return
    console.print(
        f"stack: {settings_safe_url(stack.database_url)}, broker {stack.broker_url}, "
        f"{stack.workers} worker processes and beat"
    )
    prepare_postgres(stack.database_url, reset=options.reset)
    prepare_redis(stack.broker_url, reset=options.reset)


def _run_processes(
    options: DemoOptions,
    sockets: dict[str, socket.socket],
    supervisor: Supervisor,
    runtime: Any,
    campaign_id: int,
    console: Console,
) -> dict[str, Any]:
    """Start the sandbox, the API and the Celery processes, watch until settled, stop them all.

    Returns:
        The sandbox carrier's counts (``/sandbox/stats``).
    """
    ports = {name: sock.getsockname()[1] for name, sock in sockets.items()}
    fds = {name: sock.fileno() for name, sock in sockets.items()}
    try:
        sandbox = sandbox_args(
            fds["carrier"], fds["agent"], ring_seconds=1.0, ms_per_char=options.ms_per_char
        )
        supervisor.start("sandbox", *sandbox, pass_fds=(fds["carrier"], fds["agent"]))
        supervisor.start("api", *api_server_args(fds["api"]), pass_fds=(fds["api"],))
        for sock in sockets.values():
            sock.close()  # the children have them; connections wait in the backlog until served
        wait_until(
            http_ok(f"http://127.0.0.1:{ports['carrier']}/sandbox/stats"),
            timeout=60,
            what="the sandbox carrier",
            supervisor=supervisor,
        )
        wait_until(
            http_ok(f"http://127.0.0.1:{ports['api']}/healthz"),
            timeout=60,
            what="the API",
            supervisor=supervisor,
        )
        threads = options.worker_concurrency or max(4, options.concurrency)
        for name, args in worker_commands(options.stack, concurrency=threads):
            supervisor.start(name, *args)
        _watch(runtime, campaign_id, options, supervisor, console)
        carrier_stats = httpx.get(f"http://127.0.0.1:{ports['carrier']}/sandbox/stats", timeout=10).json()
        return carrier_stats
    finally:
        for sock in sockets.values():
            sock.close()
        supervisor.stop()


def _watch(
    runtime: Any, campaign_id: int, options: DemoOptions, supervisor: Supervisor, console: Console
) -> None:
    """Show progress until every lead is settled and no call is in flight."""
    deadline = time.monotonic() + options.timeout_seconds
    columns = (
        TextColumn("[bold]leads settled"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[live]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("leads", total=None, live="")
        while True:
            supervisor.check()
            with runtime.sessions() as session:
                settled, total = settled_counts(session, campaign_id=campaign_id, now=runtime.clock.now())
                live = active_attempts(session, campaign_id=campaign_id)
            progress.update(task, total=total, completed=settled, live=f"{live} calls live")
            if settled == total and live == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the campaign did not settle within {options.timeout_seconds:.0f} s "
                    f"({settled}/{total} leads settled, {live} calls live); logs are in {supervisor.log_dir}"
                )
            time.sleep(0.5)
