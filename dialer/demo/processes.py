"""Starting, watching and stopping the demo's child processes (API, worker, sandbox)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from dialer.serving import uvicorn_cli_args


def celery_worker_args(concurrency: int, *, loglevel: str = "info", node: str | None = None) -> list[str]:
    """``python -m`` arguments of a Celery worker of the product's app on a pool of threads.

    ``concurrency`` is the number of threads (dial tasks at once); ``node`` the worker's node name
    (``name@%h``), so several workers on one host stay distinct.
    """
    args = ["celery", "-A", "dialer.celery_app", "worker", "--pool", "threads"]
    args += ["--concurrency", str(concurrency), "--loglevel", loglevel]
    return [*args, "-n", node] if node else args


def celery_beat_args(*, loglevel: str = "info") -> list[str]:
    """``python -m`` arguments of the Celery beat that drives the tick and audit sealing."""
    return ["celery", "-A", "dialer.celery_app", "beat", "--loglevel", loglevel]


def sandbox_args(carrier_fd: int, agent_fd: int, *, ring_seconds: float, ms_per_char: float) -> list[str]:
    """``python -m`` arguments of the sandbox (carrier and agent stand-ins) on inherited sockets.

    ``carrier_fd`` and ``agent_fd`` are listening sockets (:func:`listening_socket`) the child
    inherits (``pass_fds``); ``ring_seconds`` is how long a sandbox call rings before the prospect
    answers; ``ms_per_char`` the pace of the agent's speech (milliseconds of audio per character).
    """
    args = ["sandbox", "--carrier-fd", str(carrier_fd), "--agent-fd", str(agent_fd)]
    return [*args, "--ring-seconds", str(ring_seconds), "--ms-per-char", str(ms_per_char)]


def api_server_args(fd: int, *, loglevel: str = "warning") -> list[str]:
    """``python -m`` arguments of the API server (webhooks, media stream) on an inherited socket.

    ``fd`` is a listening socket (:func:`listening_socket`) the child inherits (``pass_fds``).
    """
    args = ["uvicorn", "bridge.server_app:serving_app", "--factory", "--fd", str(fd), *uvicorn_cli_args()]
    return [*args, "--log-level", loglevel]


def listening_socket() -> socket.socket:
    """A TCP socket listening on 127.0.0.1 on a port the kernel picked, for a child to serve on.

    The port (``getsockname()[1]``) is known before the child starts and stays this process's
    until the child has it: no probing for a free port, no race with anyone else for it.
    Connections made before the child serves wait in the backlog. Pass the socket's
    ``fileno()`` in ``pass_fds`` and close it here once the child has started.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (it may be taken by the time it is used).

    Only for servers that must bind a port themselves (redis-server, a command whose port is
    configuration); prefer :func:`listening_socket`.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Child:
    """A child process with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the process's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Supervisor:
    """Starts children with a shared environment and stops them all, in reverse order."""

    env: dict[str, str]
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, *args: str, pass_fds: tuple[int, ...] = ()) -> Child:
        """Start ``python -m <args>`` with the demo environment, logging to ``<log_dir>/<name>.log``.

        ``pass_fds``: file descriptors the child inherits (its listening sockets).
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
        )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def check(self) -> None:
        """Raise if a child died.

        Raises:
            RuntimeError: naming the process, its exit code and its log's last lines.
        """
        for child in self.children:
            if not child.alive():
                raise RuntimeError(
                    f"{child.name} exited with code {child.process.returncode}; "
                    f"its log ({child.log_path}) ends:\n{child.log_tail()}"
                )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every child (whole process group), then SIGKILL what is left after ``timeout``."""
        for child in reversed(self.children):
            if child.alive():
                os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in reversed(self.children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()


@contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Inside, SIGTERM raises ``SystemExit(143)`` so that ``finally`` blocks stop the children.

    The children run in sessions of their own (so a terminal's Ctrl-C reaches them only through
    :meth:`Supervisor.stop`); without this a ``kill`` of the demo would leave them running. Outside
    the main thread this does nothing (signal handlers belong to the main thread).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, supervisor: Supervisor) -> None:
    """Poll ``check`` every 0.1 s until it is true.

    Raises:
        RuntimeError: a child died, or ``timeout`` seconds passed (naming ``what``).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.check()
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def http_ok(url: str) -> Callable[[], bool]:
    """A check that ``GET url`` answers 2xx."""

    def check() -> bool:
        try:
            return httpx.get(url, timeout=1.0).is_success
        except httpx.HTTPError:
            return False

    return check
