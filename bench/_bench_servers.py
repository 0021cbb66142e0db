"""The servers of ``bench/bridge_load.py``: the real bridge and the bare relay, pinned to core 0.

The bridge is ``bridge.app`` served by uvicorn with :data:`dialer.serving.UVICORN_OPTIONS` (as
``dialer serve`` runs it), on a fresh PostgreSQL database holding answered call attempts
(``answered_by=human``, so the bridge greets at once); each call gets a one-time stream token
issued through the product's own :func:`dialer.calls.attempts.issue_stream_token` and a signed
upgrade (``X-Twilio-Signature``), exactly what the carrier sends.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from bench._dialing_setup import fresh_database, seed_campaign, wait_for_http
from bench._load_side import CallSpec
from dialer.calls.attempts import issue_stream_token
from dialer.db import make_engine
from dialer.demo.processes import listening_socket
from dialer.serving import uvicorn_cli_args
from dialer.settings import SANDBOX_AUTH_TOKEN

ROOT = Path(__file__).resolve().parents[1]
_ATTEMPTS = """
INSERT INTO gate_decisions (campaign_id, lead_id, decided_at, allowed, reasons, warnings, rule_data_version,
                            trace, facts, created_at)
SELECT campaign_id, id, :now, true, '[]', '[]', '', '[]', '{}', :now FROM leads WHERE campaign_id = 1;
INSERT INTO call_attempts (campaign_id, lead_id, gate_decision_id, attempt_number, status, to_e164,
                           from_e164, call_sid, answered_by, answered_at, requested_at, agent_usage,
                           created_at, updated_at)
SELECT g.campaign_id, g.lead_id, g.id, 1, 'in_progress', l.phone_e164, '+13125550199',
       'CA' || md5(l.id::text), 'human', :now, :now, '{}', :now, :now
FROM gate_decisions g JOIN leads l ON l.id = g.lead_id;
"""


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pin_to_core_0() -> None:
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {0})


class Servers:
    """Both servers running (a context manager), and the calls to open on each."""

    def __init__(self, *, agent_port: int, options: dict[str, str], attempts: int) -> None:
        self._agent_port = agent_port
        self._options = options
        self._attempts = attempts
        self._stack = ExitStack()
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._ports: dict[str, int] = {}
        self._next_attempt = 1
        self._relay_calls = 0

    def __enter__(self) -> Servers:
        url = self._stack.enter_context(fresh_database())
        seed_campaign(url, campaign_id=1, leads=self._attempts)
        self._engine = make_engine(url)
        with self._engine.begin() as conn:
            for statement in _ATTEMPTS.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), {"now": datetime.now(UTC)})
        bridge_env = {
            "DIALER_DATABASE_URL": url,
            "DIALER_OPENAI__WEBSOCKET_BASE_URL": f"ws://127.0.0.1:{self._agent_port}/v1",
            "DIALER_BRIDGE__IDLE_HANGUP_MS": "600000",
        }
        self._start("bridge", ["bridge.server_app:serving_app", "--factory"], bridge_env)
        relay_env = {"BARE_RELAY_AGENT_URL": f"ws://127.0.0.1:{self._agent_port}/v1/realtime"}
        self._start("relay", ["bench._bare_relay:app"], relay_env)
        self._wait_healthy()
        return self

    def _start(self, kind: str, app: list[str], env: dict[str, str]) -> None:
        sock = listening_socket()
        self._ports[kind] = sock.getsockname()[1]
        if kind == "bridge":
            env = {**env, "DIALER_PUBLIC_URL": f"http://127.0.0.1:{self._ports[kind]}"}
        args = [sys.executable, "-m", "uvicorn", *app, "--fd", str(sock.fileno()), "--log-level", "warning"]
        self._processes[kind] = subprocess.Popen(
            [*args, *uvicorn_cli_args(self._options)],
            cwd=ROOT,
            env={**os.environ, **env},
            pass_fds=[sock.fileno()],
            preexec_fn=_pin_to_core_0,  # noqa: PLW1509 - no threads in this process yet
        )
        sock.close()

    def _wait_healthy(self) -> None:
        wait_for_http(
            f"http://127.0.0.1:{self._ports['bridge']}/healthz",
            what="the bridge",
            alive=lambda: all(p.poll() is None for p in self._processes.values()),
        )

    def pid(self, kind: str) -> int:
        return self._processes[kind].pid

    def bridge_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid('bridge')}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def calls(self, kind: str, count: int) -> list[CallSpec]:
        """``count`` fresh calls for ``kind``'s server (bridge: attempts with new stream tokens)."""
        if kind == "relay":
            first, self._relay_calls = self._relay_calls, self._relay_calls + count
            url = f"ws://127.0.0.1:{self._ports['relay']}/relay"
            return [
                CallSpec(url, {}, f"MZrelay{n:026d}", f"CArelay{n:026d}", {})
                for n in range(first, first + count)
            ]
        ids = range(self._next_attempt, self._next_attempt + count)
        if ids.stop > self._attempts + 1:
            raise RuntimeError(f"out of seeded call attempts ({self._attempts}); raise --attempts")
        self._next_attempt = ids.stop
        url = f"ws://127.0.0.1:{self._ports['bridge']}/twilio/media"
        signature = RequestValidator(SANDBOX_AUTH_TOKEN).compute_signature(url, {})
        now = datetime.now(UTC)
        specs = []
        with Session(self._engine) as session, session.begin():
            for attempt_id in ids:
                call_sid = session.execute(
                    text("SELECT call_sid FROM call_attempts WHERE id = :id"), {"id": attempt_id}
                ).scalar_one()
                token = issue_stream_token(
                    session, attempt_id=attempt_id, call_sid=call_sid, now=now, ttl_seconds=600
                )
                params = {"attempt": str(attempt_id), "token": token}
                sid = f"MZ{attempt_id:032d}"
                specs.append(CallSpec(url, {"X-Twilio-Signature": signature}, sid, call_sid, params))
        return specs

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for process in self._processes.values():
            process.terminate()
        for process in self._processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self._engine.dispose()
        self._stack.close()
