"""What each connection did, kept for tests and for the ``GET /sandbox/sessions`` inspection view."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_RECORDS = 1000
"""Connections remembered; older ones are forgotten first."""


@dataclass(frozen=True)
class ToolCallRecord:
    """A function call the agent made; ``arguments`` decoded from its JSON string."""

    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ResponseRecord:
    """One finished response.

    Attributes:
        id: the response id.
        status: ``completed`` or ``cancelled``.
        cancel_reason: ``turn_detected`` or ``client_cancelled`` when cancelled.
        transcript: what the agent said (as far as it was generated).
        tool_calls: the function calls it made.
    """

    id: str
    status: str
    cancel_reason: str | None
    transcript: str
    tool_calls: tuple[ToolCallRecord, ...]


@dataclass(frozen=True)
class ToolOutputRecord:
    """A function result the client sent back."""

    call_id: str
    name: str
    output: str


@dataclass(frozen=True)
class TruncationRecord:
    """A truncation of the agent's speech to what the caller heard (``audio_end_ms``, in ms)."""

    item_id: str
    audio_end_ms: int


@dataclass(frozen=True)
class ErrorRecord:
    """An ``error`` event sent to the client."""

    code: str
    message: str
    param: str | None
    event_id: str | None


@dataclass
class SessionRecord:
    """Everything one connection did, appended as it happens.

    Attributes:
        session_id: the ``sess_...`` id.
        model: the model the client connected with.
        opened_at: when the connection was accepted (UTC).
        open: False once the connection closed.
        turns_heard: the caller's turns, as transcribed.
        responses: finished responses, in order.
        tool_outputs: function results received.
        truncations: truncations applied.
        errors: errors sent.
        messages: ``conversation.message`` contents received (AssemblyAI protocol).
        early_tool_results: call ids whose ``tool.result`` came before their ``reply.done``
            (AssemblyAI: "send them in the reply.done handler", PROTOCOLS E1).
        resumes: times the session was reattached with ``session.resume`` (AssemblyAI protocol).
        system_prompt: the effective ``system_prompt`` (AssemblyAI) or ``instructions`` (Realtime).
        items_created: the items the client added with ``conversation.item.create`` (Realtime), as sent.
    """

    session_id: str
    model: str
    opened_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    open: bool = True
    turns_heard: list[str] = field(default_factory=list)
    responses: list[ResponseRecord] = field(default_factory=list)
    tool_outputs: list[ToolOutputRecord] = field(default_factory=list)
    truncations: list[TruncationRecord] = field(default_factory=list)
    errors: list[ErrorRecord] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    early_tool_results: list[str] = field(default_factory=list)
    resumes: int = 0
    system_prompt: str = ""
    items_created: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tool_calls(self) -> list[ToolCallRecord]:
        """All function calls the agent made, in order."""
        return [call for response in self.responses for call in response.tool_calls]

    @property
    def cancellations(self) -> list[ResponseRecord]:
        """The responses that were cancelled."""
        return [response for response in self.responses if response.status == "cancelled"]

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data, with ``tool_calls`` and ``cancellations`` spelled out."""
        data = asdict(self)
        data["opened_at"] = self.opened_at.isoformat()
        data["tool_calls"] = [asdict(call) for call in self.tool_calls]
        data["cancellations"] = [{"response_id": r.id, "reason": r.cancel_reason} for r in self.cancellations]
        return data


class SessionRegistry:
    """The records of the latest connections (at most :data:`MAX_RECORDS`), oldest first."""

    def __init__(self) -> None:
        self._records: deque[SessionRecord] = deque(maxlen=MAX_RECORDS)

    def open(self, *, session_id: str, model: str) -> SessionRecord:
        """Start the record of a new connection."""
        record = SessionRecord(session_id=session_id, model=model)
        self._records.append(record)
        return record

    def __iter__(self) -> Iterator[SessionRecord]:
        return iter(list(self._records))

    def find(self, session_id: str) -> SessionRecord | None:
        """The record of ``session_id``, if it is still remembered."""
        return next((record for record in self._records if record.session_id == session_id), None)
