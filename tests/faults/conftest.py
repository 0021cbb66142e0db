"""The production stack, started for real, for the fault tests (issue 7, item 5).

One stack per test package (starting Celery workers costs seconds on this machine): the sandbox
carrier and agent, the FastAPI bridge, Celery beat and worker processes, all on the run's
PostgreSQL database and on a redis-server of our own (on a free port, never the shared 6379), so
that a test can restart it. Each test runs its own small campaign on fresh phone numbers and
checks it with :meth:`FaultStack.check_campaign`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from dialer.celery_app import create_celery_app
from dialer.db import make_engine, session_factory, transaction
from dialer.demo.processes import (
    api_server_args,
    celery_beat_args,
    celery_worker_args,
    free_port,
    listening_socket,
    sandbox_args,
)
from dialer.models import (
    ACTIVE_ATTEMPT_STATUSES,
    FINAL_LEAD_STATUSES,
    AuditEvent,
    CallAttempt,
    Campaign,
    CampaignStatus,
    DncEntry,
    Lead,
    LeadStatus,
)
from dialer.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_OPENAI_KEY
from sandbox.carrier.cast import cast_for
from tests.conftest import (
    MONDAY_11_CHICAGO,
    NATIONAL_DNC_NUMBER,
    build_test_registry,
    make_settings,
    truncate_all,
)
from tests.factories import create_campaign, create_lead
from tests.waiting import wait_until

REPEATS = int(os.environ.get("DIALER_TEST_FAULT_REPEATS", "3"))
"""How many times each fault test runs (each on a fresh campaign): deterministic, not lucky."""

QUICK_PERSONAS = (
    "no_answer",
    "voicemail",
    "busy",
    "not_interested",
    "no_answer",
    "voicemail",
    "busy",
    "asks_removal",
    "no_answer",
    "wrong_person",
)
"""Prospects whose calls end within seconds (machines, unanswered lines, short conversations);
``asks_removal`` opts out on the call."""


class OwnRedis:
    """A throwaway redis-server on a free port, without persistence (a restart loses everything).

    The port is probed for (:func:`free_port`), not bound here: redis-server binds its own port
    and cannot be handed a socket, and a restart must come back on the same port.
    """

    def __init__(self, log_dir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:  # pragma: no cover - environment failure
            pytest.fail("redis-server is required for the fault tests")
        self.binary = binary
        self.port = free_port()
        self.log_path = log_dir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_until(lambda: _pings(client), timeout=20, what="our redis-server")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        """Kill the server (its data is lost: no RDB, no AOF) and start it again on the same port."""
        self.kill()
        self.start()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).is_success
    except httpx.HTTPError:
        return False


@dataclass
class FaultStack:
    """The running processes, the database, and the sandbox carrier's admin API."""

    env: dict[str, str]
    workdir: Path
    redis: OwnRedis
    engine: Engine
    carrier_url: str
    api_url: str
    sessions: sessionmaker[Session]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    others: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _numbers: dict[str, Iterator[str]] = field(default_factory=dict)
    _worker_count: int = 0
    crashes: list[str] = field(default_factory=list)
    """Workers that exited on their own and were restarted (see :meth:`supervise`)."""

    # --- processes ---

    def spawn(self, name: str, *args: str, pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
        """Start ``python -m <args>`` in the stack's environment, logging to ``<name>.log``.

        ``pass_fds``: file descriptors the child inherits (its listening sockets).
        """
        log = (self.workdir / f"{name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
        )

    def start_worker(self, concurrency: int = 4) -> subprocess.Popen[bytes]:
        """Start a Celery worker process (threads pool); see :meth:`ensure_workers` to wait for it."""
        self._worker_count += 1
        name = f"worker-{self._worker_count}"
        worker = self.spawn(
            name,
            *celery_worker_args(concurrency, node=f"fault-{name}@%h"),
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        )
        worker.log_path = self.workdir / f"{name}.log"  # type: ignore[attr-defined]
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        """``kill -9`` the worker's whole process group, at once, no cleanup."""
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        self.workers.remove(worker)

    def kill_workers(self) -> None:
        """``kill -9`` every worker's whole process group, at once, no cleanup."""
        for worker in self.workers:
            os.killpg(worker.pid, signal.SIGKILL)
        for worker in self.workers:
            worker.wait(10)
        self.workers.clear()

    def stop_workers(self) -> None:
        for worker in list(self.workers):
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in list(self.workers):
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        self.workers.clear()

    def supervise(self) -> None:
        """Restart any worker that exited on its own, as compose's ``restart: unless-stopped`` does.

        Celery's Redis transport can die with an "Unrecoverable error" when the broker goes away
        again while it is still reconnecting (kombu's ``_connparams`` on a closed connection); in
        production the supervisor restarts it. Each such exit is recorded in :attr:`crashes`
        with the last CRITICAL line of its log, so a test can tell a restart from a clean run.
        """
        for worker in list(self.workers):
            if worker.poll() is None:
                continue
            log_path: Path = worker.log_path  # type: ignore[attr-defined]
            critical = [
                line for line in log_path.read_text(errors="replace").splitlines() if "CRITICAL" in line
            ]
            self.crashes.append(
                f"{log_path.name} exited {worker.returncode}: {critical[-1] if critical else '?'}"
            )
            self.workers.remove(worker)
            self.start_worker()

    def ensure_workers(self, count: int = 2) -> None:
        """Have ``count`` live workers, each ready (consuming), starting new ones as needed."""
        for worker in list(self.workers):
            if worker.poll() is not None:
                self.workers.remove(worker)
        while len(self.workers) < count:
            self.start_worker()
        for worker in self.workers:
            log_path: Path = worker.log_path  # type: ignore[attr-defined]
            wait_until(
                lambda p=log_path: " ready." in p.read_text(errors="replace"),
                timeout=60,
                what=f"{log_path.name} to be ready",
                poll=0.2,
            )

    def node(self, worker: subprocess.Popen[bytes]) -> str:
        """The worker's Celery node name (for remote control)."""
        return f"fault-{worker.log_path.stem}@{socket.gethostname()}"  # type: ignore[attr-defined]

    def consuming(self, on: bool, *workers: subprocess.Popen[bytes], queue: str = "celery") -> None:
        """Stop (or start) workers (default: all) taking tasks off ``queue`` (Celery remote control).

        Stopping is not instant for a message a worker is already fetching; tests that need a task
        to wait put it on a queue no worker has ever consumed (:meth:`publish_dials` with ``queue``).
        """
        targets = list(workers) or self.workers
        app = create_celery_app(make_settings(broker_url=self.env["DIALER_BROKER_URL"]))
        command = app.control.add_consumer if on else app.control.cancel_consumer
        missing = {self.node(worker) for worker in targets}
        deadline = time.monotonic() + 60
        # A broadcast is fire-and-forget (Redis pub/sub): a loaded worker can miss one, so the
        # command (idempotent) goes again to the nodes that have not answered yet.
        while missing and time.monotonic() < deadline:
            with app.connection() as connection:  # a fresh one: pooled ones die with a Redis restart
                replies = command(
                    queue,
                    reply=True,
                    timeout=10,
                    limit=len(missing),
                    destination=sorted(missing),
                    connection=connection,
                )
            missing -= {node for reply in replies for node in reply}
        assert not missing, f"no answer from {sorted(missing)} to {'add' if on else 'cancel'}_consumer"

    def publish_dials(self, lead_ids: list[int], *, queue: str = "celery") -> None:
        """Put one ``dialer.dial`` task per lead id on ``queue``, as the tick does."""
        app = create_celery_app(make_settings(broker_url=self.env["DIALER_BROKER_URL"]))
        with app.connection() as connection:
            for lead_id in lead_ids:
                app.send_task("dialer.dial", args=[lead_id], connection=connection, queue=queue)

    def log_marks(self) -> dict[Path, int]:
        """Where every process log ends now (see :meth:`logs_since`)."""
        return {path: path.stat().st_size for path in self.workdir.glob("*.log")}

    def logs_since(self, marks: dict[Path, int]) -> dict[str, str]:
        """What each process log gained since ``marks``, by file name."""
        texts = {}
        for path in self.workdir.glob("*.log"):
            with path.open("rb") as log:
                log.seek(marks.get(path, 0))
                texts[path.name] = log.read().decode(errors="replace")
        return texts

    # --- the sandbox carrier ---

    def faults(self, **changes: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.carrier_url}/sandbox/faults", json=changes, timeout=10)
        response.raise_for_status()
        return response.json()

    def carrier_stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.carrier_url}/sandbox/stats", timeout=10).json()

    def carrier_calls(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.carrier_url}/sandbox/calls", timeout=30).json()

    # --- campaigns ---

    def number(self, persona: str) -> str:
        """A fresh number (never used before in this run) that ``persona`` answers."""
        if persona not in self._numbers:

            def numbers(wanted: str = persona) -> Iterator[str]:
                for line in range(2000, 10000):
                    phone = f"+1312555{line:04d}"
                    if phone != NATIONAL_DNC_NUMBER and cast_for(phone).persona.name == wanted:
                        yield phone

            self._numbers[persona] = numbers()
        return next(self._numbers[persona])

    def create_campaign(
        self,
        leads: int,
        *,
        personas: tuple[str, ...] = QUICK_PERSONAS,
        status=CampaignStatus.RUNNING,
        **kw: Any,
    ) -> int:
        values: dict[str, Any] = {"max_concurrent_calls": 10, "max_attempts": 1, "retry_delay_seconds": 1}
        values.update(kw)
        with transaction(self.sessions) as s:
            campaign = create_campaign(s, status=status, **values)
            for i in range(leads):
                create_lead(s, campaign, phone=self.number(personas[i % len(personas)]))
            return campaign.id

    def start_campaign(self, campaign_id: int) -> None:
        with transaction(self.sessions) as s:
            s.get_one(Campaign, campaign_id).status = CampaignStatus.RUNNING

    def progress(self, campaign_id: int) -> tuple[int, int, int]:
        """(leads with an attempt, leads, attempts) of the campaign."""
        with self.sessions() as s:
            leads = s.scalars(select(Lead).where(Lead.campaign_id == campaign_id)).all()
            attempts = s.scalars(select(CallAttempt).where(CallAttempt.campaign_id == campaign_id)).all()
            return len({a.lead_id for a in attempts}), len(leads), len(attempts)

    def wait_finished(
        self, campaign_id: int, timeout: float = 90.0, *, restart_crashed: bool = False
    ) -> None:
        """Wait for the campaign to complete; a worker exiting on its own fails the wait at once.

        ``restart_crashed``: restart such workers instead (:meth:`supervise`), for the faults
        where a real deployment's supervisor is part of the recovery (the broker restarted).
        """

        def finished() -> bool:
            if restart_crashed:
                self.supervise()
            else:
                dead = [w.log_path.name for w in self.workers if w.poll() is not None]  # type: ignore[attr-defined]
                if dead:
                    pytest.fail(f"{dead} exited on their own; logs in {self.workdir}")
            with self.sessions() as s:
                return s.get_one(Campaign, campaign_id).status == CampaignStatus.COMPLETED

        try:
            wait_until(finished, timeout=timeout, what=f"campaign {campaign_id} to finish", poll=0.25)
        except AssertionError:
            crashes = "".join(f"\nrestarted: {crash}" for crash in self.crashes)
            raise AssertionError(f"{self.describe(campaign_id)}{crashes}\nlogs in {self.workdir}") from None

    def describe(self, campaign_id: int) -> str:
        with self.sessions() as s:
            leads = Counter(
                str(x) for x in s.scalars(select(Lead.status).where(Lead.campaign_id == campaign_id))
            )
            attempts = Counter(
                str(x)
                for x in s.scalars(select(CallAttempt.status).where(CallAttempt.campaign_id == campaign_id))
            )
        return f"campaign {campaign_id}: leads {dict(leads)}, attempts {dict(attempts)}"

    def check_campaign(self, campaign_id: int) -> dict[str, Any]:
        """The invariants every fault must keep; returns facts for the test's own checks.

        - no attempt reached the carrier twice (one carrier call per TwiML URL, which names the
          attempt), and every carrier call to the campaign's numbers belongs to one of its attempts;
        - no call to a number after it went on the internal DNC list;
        - no lead lost or stuck: every lead final, no attempt still live, the campaign completed;
        - no message left on a voicemail box.
        """
        with self.sessions() as s:
            leads = s.scalars(select(Lead).where(Lead.campaign_id == campaign_id)).all()
            attempts = s.scalars(select(CallAttempt).where(CallAttempt.campaign_id == campaign_id)).all()
            phones = {lead.phone_e164 for lead in leads}
            dnc = s.execute(
                select(DncEntry.phone_e164, DncEntry.created_at).where(DncEntry.phone_e164.in_(phones))
            )
            opted_out: dict[str, datetime] = {}
            for phone, at in dnc:
                opted_out[phone] = min(at, opted_out.get(phone, at))
            campaign = s.get_one(Campaign, campaign_id)
            status_events = Counter(
                (e.attempt_id, e.payload.get("to"))
                for e in s.scalars(
                    select(AuditEvent).where(
                        AuditEvent.kind == "call.status", AuditEvent.attempt_id.in_([a.id for a in attempts])
                    )
                )
            )
        calls = [c for c in self.carrier_calls() if c["to"] in phones]
        if os.environ.get("DIALER_TEST_FAULT_DUMP"):
            Path(os.environ["DIALER_TEST_FAULT_DUMP"]).write_text(json.dumps(calls))
        by_attempt = Counter(_attempt_of(c["url"]) for c in calls)
        attempt_ids = {a.id for a in attempts}
        assert max(by_attempt.values(), default=0) == 1, f"an attempt reached the carrier twice: {by_attempt}"
        assert set(by_attempt) <= attempt_ids, "a carrier call belongs to no attempt of the campaign"
        late = [
            c
            for c in calls
            if c["to"] in opted_out and datetime.fromisoformat(c["created_at"]) > opted_out[c["to"]]
        ]
        assert late == [], f"called after an opt-out: {late}"
        stuck = [(lead.id, str(lead.status)) for lead in leads if lead.status not in FINAL_LEAD_STATUSES]
        assert stuck == [], f"leads not final: {stuck}"
        live = [(a.id, str(a.status)) for a in attempts if a.status in ACTIVE_ATTEMPT_STATUSES]
        assert live == [], f"attempts still live: {live}"
        assert campaign.status == CampaignStatus.COMPLETED
        messages = [c["sid"] for c in calls if c["voicemail_message_left"]]
        assert messages == [], f"agent audio played to a voicemail box on {messages}"
        repeated = {key: n for key, n in status_events.items() if n > 1}
        assert repeated == {}, f"a status was applied twice to an attempt: {repeated}"
        return {"calls": calls, "attempts": attempts, "leads": leads, "opted_out": opted_out}

    def quiesce(self) -> None:
        """Leave nothing running for the next test (a failed test may leave a running campaign)."""
        with transaction(self.sessions) as s:
            s.execute(
                update(Campaign)
                .where(Campaign.status == CampaignStatus.RUNNING)
                .values(status=CampaignStatus.PAUSED)
            )
            s.execute(update(Lead).where(Lead.status == LeadStatus.QUEUED).values(status=LeadStatus.PENDING))


def _attempt_of(url: str) -> int:
    return int(url.rsplit("attempt=", 1)[1].split("&", 1)[0])


@pytest.fixture(scope="package")
def fault_stack(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    workdir = tmp_path_factory.mktemp("faults")
    dnc_dir = workdir / "dnc"
    dnc_dir.mkdir()
    (workdir / "broker").mkdir()  # beat's schedule file
    build_test_registry(
        dnc_dir, downloaded_at=MONDAY_11_CHICAGO - timedelta(days=1), numbers=(NATIONAL_DNC_NUMBER,)
    )
    engine = make_engine(pg_url)
    truncate_all(engine)
    own_redis = OwnRedis(workdir)
    own_redis.start()
    # Bound here and inherited by the servers (pass_fds): each port is known before they start.
    sockets = {name: listening_socket() for name in ("carrier", "agent", "api")}
    ports = {name: sock.getsockname()[1] for name, sock in sockets.items()}
    fds = {name: sock.fileno() for name, sock in sockets.items()}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DIALER_")},
        "DIALER_ENVIRONMENT": "development",
        "DIALER_DATABASE_URL": pg_url,
        "DIALER_BROKER_URL": f"{own_redis.url}/0",
        "DIALER_REDIS_URL": f"{own_redis.url}/1",
        "DIALER_BROKER_DIR": str(workdir / "broker"),
        "DIALER_DNC_DIR": str(dnc_dir),
        "DIALER_PUBLIC_URL": f"http://127.0.0.1:{ports['api']}",
        "DIALER_TWILIO_ACCOUNT_SID": SANDBOX_ACCOUNT_SID,
        "DIALER_TWILIO_AUTH_TOKEN": SANDBOX_AUTH_TOKEN,
        "DIALER_TWILIO_API_BASE_URL": f"http://127.0.0.1:{ports['carrier']}",
        "DIALER_OPENAI__API_KEY": SANDBOX_OPENAI_KEY,
        "DIALER_OPENAI__WEBSOCKET_BASE_URL": f"ws://127.0.0.1:{ports['agent']}/v1",
        "DIALER_ASSEMBLYAI__URL": f"ws://127.0.0.1:{ports['agent']}/v1/ws",
        "DIALER_SANDBOX_CLOCK_START": MONDAY_11_CHICAGO.isoformat(),
        "DIALER_SANDBOX_CLOCK_ANCHOR": datetime.now(UTC).isoformat(),
        "DIALER_TICK_INTERVAL_SECONDS": "0.5",
        "DIALER_DIAL_CPS": "50",
        "DIALER_RING_TIMEOUT_SECONDS": "15",
        "DIALER_REQUEUE_AFTER_SECONDS": "3",
        "DIALER_RECONCILE_REQUESTING_AFTER_SECONDS": "3",
        "DIALER_RECONCILE_SILENT_AFTER_SECONDS": "4",
        "DIALER_BRIDGE__AMD_WAIT_MAX_MS": "8000",
        "DIALER_BRIDGE__VAD_SILENCE_MS": "300",
    }
    stack = FaultStack(
        env=env,
        workdir=workdir,
        redis=own_redis,
        engine=engine,
        carrier_url=f"http://127.0.0.1:{ports['carrier']}",
        api_url=f"http://127.0.0.1:{ports['api']}",
        sessions=session_factory(engine),
    )
    try:
        stack.others.append(
            stack.spawn(
                "sandbox",
                *sandbox_args(fds["carrier"], fds["agent"], ring_seconds=0.3, ms_per_char=3),
                "--generation-speed",
                "4",
                pass_fds=(fds["carrier"], fds["agent"]),
            )
        )
        stack.others.append(stack.spawn("api", *api_server_args(fds["api"]), pass_fds=(fds["api"],)))
        for sock in sockets.values():
            sock.close()  # the servers have them
        stack.others.append(stack.spawn("beat", *celery_beat_args(loglevel="warning")))
        wait_until(lambda: _http_ok(f"{stack.carrier_url}/sandbox/stats"), timeout=60, what="the sandbox")
        wait_until(lambda: _http_ok(f"{stack.api_url}/healthz"), timeout=60, what="the API")
        stack.ensure_workers(2)
        yield stack
    finally:
        for sock in sockets.values():
            sock.close()
        stack.quiesce()
        stack.stop_workers()
        for process in stack.others:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in stack.others:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        own_redis.kill()
        truncate_all(engine)
        engine.dispose()


@pytest.fixture
def stack(fault_stack: FaultStack) -> Iterator[FaultStack]:
    """The package's stack, healthy and fault-free at the start of each test."""
    fault_stack.faults(
        duplicate_callbacks=False,
        shuffle_callbacks=False,
        drop_final_status=False,
        amd_delay_ms=0,
        hold_creates=None,
    )
    fault_stack.ensure_workers(2)
    yield fault_stack
    fault_stack.faults(hold_creates=None)
    fault_stack.quiesce()
