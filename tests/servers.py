"""ASGI apps served by uvicorn inside the test process, on a port the kernel picks.

The listening socket is bound to port 0 before uvicorn starts and handed to it, so the port is
known at once, is never probed for, and cannot be taken by anyone else in between.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import uvicorn

from tests.waiting import wait_until, wait_until_async


def bound_socket() -> socket.socket:
    """A TCP socket bound to 127.0.0.1 on a port of the kernel's choosing (``getsockname()[1]``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _server(app: Any, options: dict[str, Any]) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, **({"log_level": "warning"} | options)))


@asynccontextmanager
async def serve(app: Any, *, sock: socket.socket | None = None, **options: Any) -> AsyncIterator[int]:
    """Serve ``app`` on this event loop while inside; yield its port (``options`` go to uvicorn).

    ``sock``: a socket from :func:`bound_socket`, for an app that must know its own port before it
    is built (default: a fresh one).
    """
    sock = sock or bound_socket()
    server = _server(app, options)
    task = asyncio.create_task(server.serve(sockets=[sock]))

    def started() -> bool:
        if task.done():
            task.result()  # uvicorn failed to start: its error, not a timeout
        return server.started

    try:
        await wait_until_async(started, timeout=20, what="uvicorn to start")
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextmanager
def serve_in_thread(app: Any, *, sock: socket.socket | None = None, **options: Any) -> Iterator[int]:
    """Serve ``app`` on an event loop in a thread of its own while inside; yield its port.

    ``sock``: as for :func:`serve`.
    """
    sock = sock or bound_socket()
    server = _server(app, options)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout=20, what="uvicorn to start")
        assert server.started, "uvicorn exited before it started (see the log above)"
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
