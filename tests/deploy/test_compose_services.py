"""The compose stack's api, worker and beat, started as the image would start them (Docker cannot run here).

Each service's ``command`` runs with the compose file's environment (plus the Dockerfile's ``ENV``)
as an unprivileged user, in an empty read-only working directory (the image's ``/app`` is root's),
with every volume the service mounts replaced by a fresh directory that user owns. Only the
addresses change: PostgreSQL and Redis become the test run's database and Redis databases, and
the secrets ``.env`` would hold point at the sandbox carrier and agent. Then the README's production
commands (``docker compose exec api ...``) run the same way and a campaign must dial: the api
answers ``/healthz``, the worker answers the compose healthcheck (``celery inspect ping``), beat
keeps its schedule in its volume and its tick claims the lead the worker dials.

Run as root (as here), the processes drop to ``nobody``; when the test interpreter lives where
``nobody`` cannot reach it (``/root/.pyenv``), its installation is bind-mounted at a readable path in
a private mount namespace of each process (``unshare -m``), which changes nothing else.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis
import yaml
from sqlalchemy import select

from dialer.demo.processes import free_port, listening_socket, sandbox_args
from dialer.models import CallAttempt
from dialer.settings import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_OPENAI_KEY
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
README = ROOT / "README.md"
CLOCK = datetime(2026, 12, 2, 11, 0, tzinfo=ZoneInfo("America/Chicago"))
"""A Wednesday, the day after the README's ``--downloaded-at`` (so the 31-day rule passes)."""
SERVICES = ("api", "worker", "beat")
NOBODY = ("nobody", "nogroup")


def _wait(check, *, timeout: float, what: str, procs: dict[str, subprocess.Popen] | None = None) -> None:
    """Wait until ``check()`` is true; fail at once if one of ``procs`` exits meanwhile."""

    def done() -> bool:
        for name, proc in (procs or {}).items():
            if proc.poll() is not None:
                raise AssertionError(
                    f"{name} exited with {proc.returncode} while waiting for {what}: {_log_tail(name)}"
                )
        return check()

    wait_until(done, timeout=timeout, what=what, poll=0.25)


LOGS: list[Path] = []


def _log_tail(name: str) -> str:
    for directory in LOGS:
        path = directory / f"{name}.log"
        if path.exists():
            return path.read_text(errors="replace")[-3000:]
    return "(no log)"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def _interpolate(value: str) -> str:
    """Compose's ``${NAME:-default}`` with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def _readme_exec_commands() -> list[str]:
    """The README's ``docker compose exec api ...`` commands (continuations joined, comments dropped)."""
    text = README.read_text()
    block = text[text.index("## Running against real Twilio and OpenAI") :]
    block = block[block.index("```bash") + len("```bash") : block.index("```", block.index("```bash") + 7)]
    commands, current = [], ""
    for raw in block.splitlines():
        line = raw.split("  #", 1)[0].rstrip()
        current += " " + line.rstrip("\\").strip()
        if not line.endswith("\\"):
            if current.strip().startswith("docker compose exec api "):
                commands.append(current.strip().removeprefix("docker compose exec api "))
            current = ""
    return commands


class Unprivileged:
    """How to run a command as ``nobody`` with an interpreter that user can execute."""

    def __init__(self, base: Path) -> None:
        self.root = os.geteuid() == 0
        self.mount: tuple[str, str] | None = None
        prefix = Path(sys.base_prefix)
        python = Path(sys.executable).resolve()
        if self.root and not self._reachable(python):
            # The interpreter's installation, bind-mounted at a path nobody can traverse.
            target = base / "python"
            target.mkdir()
            self.mount = (str(prefix), str(target))
            python = target / python.relative_to(prefix)
        self.python = python
        self.lib = str(Path(self.mount[1]) / "lib") if self.mount else ""

    @staticmethod
    def _reachable(path: Path) -> bool:
        # Through a shell, as the services' commands run (an exec straight from setpriv may still
        # pass a path check the user's own processes fail).
        probe = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        probe += ["sh", "-c", 'exec "$0" -c pass', str(path)]
        return subprocess.run(probe, capture_output=True, env={"PATH": "/usr/bin:/bin"}).returncode == 0

    def argv(self, command: list[str]) -> list[str]:
        """``command`` wrapped to run as nobody (in a private mount namespace if needed)."""
        if not self.root:
            return command
        drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", *command]
        if self.mount is None:
            return drop
        script = f"mount --bind {shlex.quote(self.mount[0])} {shlex.quote(self.mount[1])} && exec "
        return ["unshare", "-m", "sh", "-c", script + shlex.join(drop)]

    def chown(self, path: Path) -> None:
        """Give ``path`` to the unprivileged user (a volume it owns)."""
        if self.root:
            shutil.chown(path, *NOBODY)


@pytest.fixture
def stack_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="dialer-compose-"))
    base.chmod(0o755)  # traversable by the unprivileged user (pytest's tmp_path is not)
    try:
        yield base
    finally:
        subprocess.run(["umount", "-q", str(base / "python")], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _sandbox(carrier: socket.socket, agent: socket.socket, log: Path) -> subprocess.Popen:
    """The sandbox carrier and agent, serving on ``carrier`` and ``agent`` (closed here once it has them)."""
    fds = (carrier.fileno(), agent.fileno())
    with carrier, agent:
        return subprocess.Popen(
            [sys.executable, "-m", *sandbox_args(*fds, ring_seconds=1.0, ms_per_char=12.0)],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=fds,
        )


def _stop(procs: dict[str, subprocess.Popen]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_compose_services_start_unprivileged_in_a_read_only_app_dir_and_dial(
    stack_dir, committed_pg, pg_url, redis_url, broker_url
):
    compose = _compose()
    user = Unprivileged(stack_dir)
    app = stack_dir / "app"
    app.mkdir()
    logs = stack_dir / "logs"
    logs.mkdir()
    LOGS[:] = [logs]
    bin_dir = stack_dir / "bin"  # the image's console scripts, for this interpreter
    bin_dir.mkdir()
    for name, module in (("dialer", "dialer.cli"), ("celery", "celery")):
        script = bin_dir / name
        main = f"import runpy\nrunpy.run_module({module!r}, run_name='__main__')\n"
        script.write_text(f"#!{user.python}\n{main}")
        script.chmod(0o755)
    home = stack_dir / "home"
    home.mkdir()
    user.chown(home)
    redis.Redis.from_url(broker_url).flushdb()
    redis.Redis.from_url(redis_url).flushdb()

    # The sandbox serves on sockets bound here; the api binds the port its compose command names,
    # so that one is probed for.
    sandbox_sockets = listening_socket(), listening_socket()
    ports = {
        "api": free_port(),
        "carrier": sandbox_sockets[0].getsockname()[1],
        "agent": sandbox_sockets[1].getsockname()[1],
    }
    volumes: dict[str, Path] = {}  # compose volume (named or ./host) -> its stand-in directory

    def mounts(service: dict) -> dict[str, Path]:
        found = {}
        for spec in service.get("volumes", []):
            source, target = spec.split(":")[:2]
            if source not in volumes:
                volumes[source] = stack_dir / "volumes" / source.strip("./").replace("/", "_")
                volumes[source].mkdir(parents=True)
                user.chown(volumes[source])
            found[target] = volumes[source]
        return found

    def rewrite(value: str, where: dict[str, Path]) -> str:
        for target, directory in sorted(where.items(), key=lambda item: -len(item[0])):
            value = re.sub(rf"(?<![\w/]){re.escape(target)}(?=/|\b|$)", str(directory), value)
        return value

    def service_env(name: str) -> tuple[dict[str, str], dict[str, Path]]:
        service = compose["services"][name]
        where = mounts(service)
        env = {**_dockerfile_env()}
        for key, value in service["environment"].items():
            env[key] = rewrite(_interpolate(value), where)
        assert env["DIALER_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["DIALER_BROKER_URL"].startswith("redis://") and env["DIALER_REDIS_URL"].startswith(
            "redis://"
        )
        env |= {
            # The addresses: this machine's PostgreSQL and Redis, the test run's databases.
            "DIALER_DATABASE_URL": pg_url,
            "DIALER_BROKER_URL": broker_url,
            "DIALER_REDIS_URL": redis_url,
            # What .env holds in production, here the sandbox's stand-ins.
            "DIALER_ENVIRONMENT": "development",
            "DIALER_PUBLIC_URL": f"http://127.0.0.1:{ports['api']}",
            "DIALER_TWILIO_ACCOUNT_SID": SANDBOX_ACCOUNT_SID,
            "DIALER_TWILIO_AUTH_TOKEN": SANDBOX_AUTH_TOKEN,
            "DIALER_TWILIO_API_BASE_URL": f"http://127.0.0.1:{ports['carrier']}",
            "DIALER_OPENAI__API_KEY": SANDBOX_OPENAI_KEY,
            "DIALER_OPENAI__WEBSOCKET_BASE_URL": f"ws://127.0.0.1:{ports['agent']}/v1",
            "DIALER_ASSEMBLYAI__URL": f"ws://127.0.0.1:{ports['agent']}/v1/ws",
            "DIALER_SANDBOX_CLOCK_START": CLOCK.isoformat(),
            "DIALER_SANDBOX_CLOCK_ANCHOR": datetime.now(UTC).isoformat(),
            "DIALER_TICK_INTERVAL_SECONDS": "0.5",
            "DIALER_DIAL_CPS": "5",
            # The container's own.
            "HOSTNAME": socket.gethostname(),
            "HOME": str(home),
            "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
            ),
        }
        if "DIALER_API_PORT" in env:
            env["DIALER_API_PORT"] = str(ports["api"])
        if user.lib:
            env["LD_LIBRARY_PATH"] = user.lib
        return env, where

    def run(name: str, command: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
        return subprocess.Popen(
            user.argv(command),
            env=env,
            cwd=app,
            stdout=(logs / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,
        )

    app.chmod(0o555)  # the image's /app: root's, read-only to the service user
    procs: dict[str, subprocess.Popen] = {}
    try:
        procs["sandbox"] = _sandbox(*sandbox_sockets, logs / "sandbox.log")
        envs = {name: service_env(name) for name in SERVICES}
        procs["api"] = run("api", compose["services"]["api"]["command"], envs["api"][0])
        _wait(
            lambda: _http_ok(f"http://127.0.0.1:{ports['api']}/healthz"),
            timeout=90,
            what="the api's /healthz",
            procs=procs,
        )
        procs["worker"] = run("worker", compose["services"]["worker"]["command"], envs["worker"][0])
        procs["beat"] = run("beat", compose["services"]["beat"]["command"], envs["beat"][0])
        health = compose["services"]["worker"]["healthcheck"]["test"]
        assert health[0] == "CMD-SHELL"
        ping = ["sh", "-c", health[1].replace("$$", "$")]

        def worker_answers_ping() -> bool:
            done = subprocess.run(
                user.argv(ping), env=envs["worker"][0], cwd=app, capture_output=True, timeout=60
            )
            return done.returncode == 0

        _wait(worker_answers_ping, timeout=120, what="the worker's healthcheck (inspect ping)", procs=procs)

        # The README's production commands, as `docker compose exec api` runs them.
        api_env, api_mounts = envs["api"]
        data = api_mounts["/data"]
        (data / "ftc").mkdir()
        user.chown(data / "ftc")
        with zipfile.ZipFile(data / "ftc" / "national.zip", "w") as archive:
            archive.writestr("312.txt", "3125550177\n")
        (data / "leads.csv").write_text(
            "first_name,phone,state,zip,consent_type,consent_at,consent_seller,consent_artificial_voice,"
            "consent_evidence\n"
            'Ada,(312) 555-0142,IL,60601,pewc,2026-10-02T15:04:00Z,"Northwind Analytics, Inc.",yes,'
            "https://northwind.example/optin/x1\n"
        )
        commands = _readme_exec_commands()
        assert [c.split()[:2] for c in commands] == [
            ["dialer", "campaigns"],
            ["sh", "-c"],
            ["dialer", "leads"],
            ["dialer", "campaigns"],
        ], commands
        for command in commands:
            argv = ["sh", "-c", rewrite(command, api_mounts)]
            done = subprocess.run(user.argv(argv), env=api_env, cwd=app, capture_output=True, timeout=120)
            assert done.returncode == 0, (command, done.stdout.decode()[-2000:], done.stderr.decode()[-2000:])

        def dialed() -> bool:
            with committed_pg.connect() as conn:
                placed = select(CallAttempt.id).where(CallAttempt.call_sid.is_not(None))
                return conn.execute(placed).first() is not None

        _wait(dialed, timeout=120, what="an attempt placed with the sandbox carrier", procs=procs)
        stats = httpx.get(f"http://127.0.0.1:{ports['carrier']}/sandbox/stats", timeout=10).json()
        assert stats["calls_created"] >= 1 and stats["duplicate_calls"] == 0
        beat_volume = envs["beat"][1]["/var/lib/dialer/beat"]
        assert any(beat_volume.iterdir()), "beat kept no schedule in its volume"
        for name in SERVICES:
            assert procs[name].poll() is None, f"{name} exited: {(logs / f'{name}.log').read_text()[-2000:]}"
        assert list(app.iterdir()) == []  # nothing wrote into the working directory (it could not)
    finally:
        _stop(procs)


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).is_success
    except httpx.HTTPError:
        return False
