"""The AssemblyAI Voice Agent WebSocket of the sandbox agent (``/v1/ws``, PROTOCOLS E1, E3).

The handshake needs ``Authorization: Bearer <key>`` or ``?token=<key>`` (the stand-in for a
temporary token; each real one works once), else HTTP 401. The first frame decides the session: a
``session.resume {session_id}`` reattaches a session lost within the grace window (else
``session.error`` ``session_not_found``, as seen live, E4); anything else opens a new one, which
insists on ``session.update`` first. After ``session.ended`` the socket closes with 1000. A
connection lost without ``session.end`` leaves its session in :class:`ResumableSessions`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from sandbox.agent.assemblyai import AssemblyAISession
from sandbox.agent.config import AgentConfig
from sandbox.agent.faults import DROP_CLOSE_CODE, AgentFaults, ConnectionFaults
from sandbox.agent.records import SessionRegistry


class ResumableSessions:
    """Sessions whose connection was lost without ``session.end``, until their grace window ends.

    Attributes:
        grace_s: the window, in seconds (tests set 0 to see a refused resume).
        sockets: the live socket of each session, by id (tests close one to simulate a drop).
    """

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self.sockets: dict[str, WebSocket] = {}
        self._lost: dict[str, tuple[AssemblyAISession, float]] = {}

    def keep(self, session: AssemblyAISession) -> None:
        """Hold a lost session for the grace window."""
        self._lost[session.id] = (session, time.monotonic() + self.grace_s)

    def take(self, session_id: object) -> AssemblyAISession | None:
        """The lost session ``session_id``, if its window is still open (it leaves the pool)."""
        found = self._lost.pop(str(session_id), None)
        if found is None or time.monotonic() >= found[1]:
            return None
        return found[0]


async def serve_assemblyai(
    websocket: WebSocket,
    config: AgentConfig,
    registry: SessionRegistry,
    lost: ResumableSessions,
    faults: AgentFaults,
) -> None:
    """Run one accepted connection until the client leaves or the session ends (or a fault fires)."""
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    session: AssemblyAISession | None = None
    watch = faults.watch(
        lambda: session.id if session else "", lambda: session.record.system_prompt if session else ""
    )
    writer = asyncio.create_task(_write(websocket, outbox, watch))
    try:
        while True:
            await watch.hold_if_stalled()
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            frame = message.get("text") if message.get("text") is not None else message.get("bytes")
            if frame is None:
                continue
            if session is None:
                session = _first(frame, config, registry, lost, outbox.put_nowait)
                if session is not None:
                    lost.sockets[session.id] = websocket
                continue
            session.receive(frame)
            if session.ended:
                await outbox.join()
                with contextlib.suppress(RuntimeError):  # the client may have closed first
                    await websocket.close(code=1000)
                break
    finally:
        if session is not None:
            lost.sockets.pop(session.id, None)
            if not session.ended:
                session.detach()
                lost.keep(session)
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)


def _first(
    frame: str | bytes, config: AgentConfig, registry: SessionRegistry, lost: ResumableSessions, emit: Any
) -> AssemblyAISession | None:
    try:
        event = json.loads(frame)
    except ValueError:
        event = None
    if isinstance(event, dict) and event.get("type") == "session.resume":
        resumed = lost.take(event.get("session_id"))
        if resumed is None:
            message = "Session not found: the grace window has expired or the id is unknown"
            emit({"type": "session.error", "code": "session_not_found", "message": message})
            return None
        resumed.attach(emit)
        return resumed
    session = AssemblyAISession(config=config, emit=emit, registry=registry)
    session.receive(frame)
    return session


async def _write(
    websocket: WebSocket, outbox: asyncio.Queue[dict[str, Any]], watch: ConnectionFaults
) -> None:
    while True:
        event = await outbox.get()
        try:
            await websocket.send_text(json.dumps(event))
        except (RuntimeError, WebSocketDisconnect):
            pass  # the client is gone; the reader sees the disconnect
        finally:
            outbox.task_done()
        action = watch.after_sent(str(event.get("type")))
        if action == "drop":
            with contextlib.suppress(RuntimeError):
                await websocket.close(code=DROP_CLOSE_CODE)
            return
        await watch.hold_if_stalled()
