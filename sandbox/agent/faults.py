"""Upstream faults the sandbox agent injects on purpose, on either protocol (tests of issue 9, item 6).

A test plans a :class:`Fault` on ``app.state.faults`` (an :class:`AgentFaults`); each connection
watches the server events it sends (:meth:`AgentFaults.watch`) and, on the ``nth`` event of type
``after`` of a session whose prompt contains ``prompt_contains``, the fault fires:

- ``drop``: the socket is closed with 1011 (internal error), as a crashed or restarted server does;
  an AssemblyAI session stays resumable for its grace window, a Realtime one is gone.
- ``stall``: the agent stops reading and writing (a hung process): its receive buffer fills, TCP
  pushes back, and the client's sends block. It lasts until :meth:`AgentFaults.release`.

A fault hits ``times`` connections, then it is spent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

DROP_CLOSE_CODE = 1011
"""WebSocket close code of a dropped session (internal error)."""

FaultAction = Literal["drop", "stall"]


@dataclass
class Fault:
    """One planned fault.

    Attributes:
        action: ``drop`` or ``stall``.
        after: the server event type after which it fires (``response.done``, ``reply.done``,
            ``session.updated``, ``session.ready``, ...).
        nth: on the connection's ``nth`` event of that type.
        prompt_contains: only sessions whose instructions (Realtime) or ``system_prompt``
            (AssemblyAI) contain this text; empty: every session.
        times: how many connections it hits.
        fired: the session ids it hit, in order.
    """

    action: FaultAction
    after: str
    nth: int = 1
    prompt_contains: str = ""
    times: int = 1
    fired: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.nth < 1 or self.times < 1:
            raise ValueError("nth and times must be at least 1")


class AgentFaults:
    """The faults planned on one sandbox agent, and the stalls in force."""

    def __init__(self) -> None:
        self.planned: list[Fault] = []
        self._released = asyncio.Event()

    def plan(self, fault: Fault) -> Fault:
        """Arm ``fault`` for the connections that follow (and those open now)."""
        self._released.clear()
        self.planned.append(fault)
        return fault

    def release(self) -> None:
        """End every stall: the stalled connections read and write again."""
        self._released.set()

    async def stalled(self) -> None:
        """Wait until :meth:`release` (what a stalled connection does instead of its work)."""
        await self._released.wait()

    def watch(self, session_id: Callable[[], str], prompt: Callable[[], str]) -> ConnectionFaults:
        """The fault watcher of one connection (``session_id`` and ``prompt`` read when an event goes out)."""
        return ConnectionFaults(self, session_id, prompt)


class ConnectionFaults:
    """One connection's view of the planned faults: which event makes which one fire."""

    def __init__(self, faults: AgentFaults, session_id: Callable[[], str], prompt: Callable[[], str]) -> None:
        self._faults = faults
        self._session_id = session_id
        self._prompt = prompt
        self._seen: dict[int, int] = {}  # id(fault) -> events of its type seen on this connection
        self.stalled = False

    def after_sent(self, event_type: str) -> FaultAction | None:
        """The action to take after sending an event of ``event_type``, if a fault fires now."""
        for fault in self._faults.planned:
            if len(fault.fired) >= fault.times or fault.after != event_type:
                continue
            if fault.prompt_contains not in self._prompt():
                continue
            seen = self._seen[id(fault)] = self._seen.get(id(fault), 0) + 1
            if seen == fault.nth:
                fault.fired.append(self._session_id())
                self.stalled = self.stalled or fault.action == "stall"
                return fault.action
        return None

    async def hold_if_stalled(self) -> None:
        """If this connection is stalled, wait until the faults are released."""
        if self.stalled:
            await self._faults.stalled()
            self.stalled = False
