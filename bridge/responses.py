"""The agent's responses on one call: which ones the bridge asked for, their items and tool calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from bridge.tools import ToolResult


class Role(Enum):
    """What the bridge asked a response to be (None: the agent's own turn)."""

    DISCLOSURE = "disclosure"
    GOODBYE = "goodbye"


@dataclass
class Response:
    """One agent response: its role, the audio items it produced, its tool calls (``call_id``, task).

    ``status`` is the backend's final status once it ``finished`` (``completed``, ``cancelled``...).
    ``generation`` is the playback generation it started in (:mod:`bridge.playback`): once a cut
    ends that generation, its further audio is late and is not played.
    """

    role: Role | None
    generation: int = 0
    items: list[str] = field(default_factory=list)
    tool_tasks: list[tuple[str, asyncio.Task[ToolResult]]] = field(default_factory=list)
    finished: bool = False
    status: str | None = None


class ResponseLedger:
    """Responses by id, in the order they started; the next one takes the role last asked for.

    Args:
        generation: the current playback generation, stamped on each response as it starts.
    """

    def __init__(self, generation: Callable[[], int] = lambda: 0) -> None:
        self._generation = generation
        self._responses: dict[str, Response] = {}
        self._next_role: Role | None = None
        self.disclosure: Response | None = None

    def expect(self, role: Role) -> None:
        """The next response to start is the one the bridge just requested, in ``role``."""
        self._next_role = role

    def get(self, response_id: str) -> Response:
        """The response with this id, registering it if its start was not seen yet."""
        if response_id not in self._responses:
            role, self._next_role = self._next_role, None
            response = Response(role=role, generation=self._generation())
            self._responses[response_id] = response
            if role == Role.DISCLOSURE and self.disclosure is None:
                self.disclosure = response
        return self._responses[response_id]

    def cut_disclosure(self) -> bool:
        """After a reconnect: if the disclosure started but did not complete, expect it again.

        Returns:
            True when the disclosure must be asked for again; False when it completed or was
            never asked for (then it is still to come, from the greeting).
        """
        if self.disclosure is None and self._next_role == Role.DISCLOSURE:
            return True  # asked for, but the drop came before it started: ask again
        if self.disclosure is None or self.disclosure.status == "completed":
            return False
        self.disclosure = None
        self.expect(Role.DISCLOSURE)
        return True

    @property
    def protected(self) -> list[Response]:
        """The responses the caller may not cut short: the disclosure and the goodbye."""
        return [r for r in self._responses.values() if r.role is not None]

    @property
    def active(self) -> bool:
        """True while some response has not finished."""
        return any(not r.finished for r in self._responses.values())

    def generating_items(self) -> list[str]:
        """The audio items of every response not finished yet."""
        return [item for r in self._responses.values() if not r.finished for item in r.items]

    def tool_tasks(self) -> list[asyncio.Task[ToolResult]]:
        """Every tool task started on this call."""
        return [task for r in self._responses.values() for _, task in r.tool_tasks]
