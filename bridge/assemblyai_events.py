"""AssemblyAI Voice Agent API server events the bridge uses, as typed models (PROTOCOLS E1, E2, E4).

:func:`parse_server_event` turns one WebSocket text frame into a typed event, dispatching on the
``type`` string. Types the bridge does not act on come back as :class:`OtherServerEvent`. Frames
that are not a JSON object are :class:`InvalidServerEvent`; an object *without* a ``type`` that
carries an ``error`` or ``message`` is an :class:`UntypedError` (E4: "some error frames in the wild
arrive without a type: log and tolerate them"). Client events are plain dicts built by the functions
at the end. Field names follow the API reference; every field beyond the documented minimum
(``reply_id``, ``item_id``, timings) is optional, because the tutorials (E1) omit them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from bridge.wire_json import loads


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str


class SessionReady(_Event):
    """``session.ready``: audio may flow now; E4 adds ``config``, ``expires_at``, ``resume_token``."""

    session_id: str
    resume_token: str | None = None
    expires_at: Any = None
    config: dict[str, Any] | None = None


class SessionUpdated(_Event):
    """``session.updated``: a mid-session ``session.update`` was applied."""


class SpeechStarted(_Event):
    """``input.speech.started``: turn detection heard the caller begin (fires on every utterance, E2)."""

    audio_start_ms: int = 0


class SpeechStopped(_Event):
    """``input.speech.stopped``: the caller's turn ended."""

    audio_end_ms: int = 0


class UserTranscript(_Event):
    """``transcript.user``: the final transcript of one caller turn."""

    text: str


class ReplyStarted(_Event):
    """``reply.started``: the agent began a reply (its own, or one asked for with ``reply.create``)."""

    reply_id: str | None = None


class ReplyAudio(_Event):
    """``reply.audio``: base64 audio in the session's output encoding; the field is ``data`` (E1)."""

    data: str
    reply_id: str | None = None
    item_id: str | None = None


class AgentTranscriptDelta(_Event):
    """``transcript.agent.delta`` (E4): part of what the agent is saying, with its audio span in ms."""

    delta: str = ""
    reply_id: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None


class AgentTranscript(_Event):
    """``transcript.agent``: what the agent said; after a barge-in trimmed and ``interrupted`` (E1)."""

    text: str
    reply_id: str | None = None
    item_id: str | None = None
    interrupted: bool = False


class ToolCallEvent(_Event):
    """``tool.call``: ``arguments`` is already an object, not a JSON string (E1)."""

    call_id: str
    name: str
    arguments: dict[str, Any] = {}
    reply_id: str | None = None


class ReplyDone(_Event):
    """``reply.done``: ``completed``, or ``interrupted`` on barge-in; a bare one means completed (E4)."""

    status: str = "completed"
    reply_id: str | None = None


class ErrorEvent(_Event):
    """``session.error`` or ``reply.error`` (E4). ``code``/``message`` may also sit under ``error``."""

    code: str | None = None
    message: str | None = None
    error: Any = None

    @property
    def error_code(self) -> str:
        """The machine-readable code, wherever the frame put it."""
        if self.code:
            return self.code
        if isinstance(self.error, dict) and isinstance(self.error.get("code"), str):
            return self.error["code"]
        return self.type

    @property
    def error_message(self) -> str:
        """The human-readable message, wherever the frame put it."""
        if self.message:
            return self.message
        if isinstance(self.error, dict):
            return str(self.error.get("message") or "")
        return str(self.error or "")


class SessionEnded(_Event):
    """``session.ended``: the final event before close 1000; the durations are what is billed (E4)."""

    session_duration_seconds: float | None = None
    audio_duration_seconds: float | None = None


class OtherServerEvent(_Event):
    """A valid event the bridge does not act on (``session.updated``, ``transcript.user.delta`` ...)."""


class UntypedError(BaseModel):
    """An object without ``type`` carrying an error (E4): logged and tolerated."""

    model_config = ConfigDict(frozen=True)

    type: Literal["untyped_error"] = "untyped_error"
    raw: str


class InvalidServerEvent(BaseModel):
    """A frame that could not be read as a server event."""

    model_config = ConfigDict(frozen=True)

    type: Literal["invalid"] = "invalid"
    raw: str
    problem: str


ServerEvent = (
    SessionReady
    | SessionUpdated
    | SpeechStarted
    | SpeechStopped
    | UserTranscript
    | ReplyStarted
    | ReplyAudio
    | AgentTranscriptDelta
    | AgentTranscript
    | ToolCallEvent
    | ReplyDone
    | ErrorEvent
    | SessionEnded
    | OtherServerEvent
    | UntypedError
    | InvalidServerEvent
)

_BY_TYPE: dict[str, type[_Event]] = {
    "session.ready": SessionReady,
    "session.updated": SessionUpdated,
    "input.speech.started": SpeechStarted,
    "input.speech.stopped": SpeechStopped,
    "transcript.user": UserTranscript,
    "reply.started": ReplyStarted,
    "reply.audio": ReplyAudio,
    "transcript.agent.delta": AgentTranscriptDelta,
    "transcript.agent": AgentTranscript,
    "tool.call": ToolCallEvent,
    "reply.done": ReplyDone,
    "session.error": ErrorEvent,
    "reply.error": ErrorEvent,
    "session.ended": SessionEnded,
}


def parse_server_event(raw: str | bytes) -> ServerEvent:
    """Parse one server frame into a typed event (never raises)."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        data = loads(text)  # orjson (bridge.wire_json): one of these per 20 ms of agent audio
    except ValueError:
        return InvalidServerEvent(raw=text[:500], problem="not JSON")
    if not isinstance(data, dict):
        return InvalidServerEvent(raw=text[:500], problem="not a JSON object")
    if not isinstance(data.get("type"), str):
        if "error" in data or "message" in data:
            return UntypedError(raw=text[:500])
        return InvalidServerEvent(raw=text[:500], problem="no string 'type'")
    model = _BY_TYPE.get(data["type"], OtherServerEvent)
    try:
        return model.model_validate(data)  # type: ignore[return-value]
    except ValidationError as exc:
        return InvalidServerEvent(raw=text[:500], problem=str(exc)[:300])


# --- client events (E1, E2) ---


def session_update(session: dict[str, Any]) -> dict[str, Any]:
    """``session.update``: the first message on a new socket; everything nested under ``session``."""
    return {"type": "session.update", "session": session}


def session_resume(session_id: str) -> dict[str, Any]:
    """``session.resume``: reattach to ``session_id`` within the 30 s grace window (E1, E4)."""
    return {"type": "session.resume", "session_id": session_id}


def input_audio(payload_b64: str) -> dict[str, Any]:
    """``input.audio`` with a Twilio payload, unchanged (``audio/pcmu`` input)."""
    return {"type": "input.audio", "audio": payload_b64}


def reply_create(instructions: str | None = None) -> dict[str, Any]:
    """``reply.create``: reply now; ``instructions`` apply to this reply only (E2)."""
    if instructions is None:
        return {"type": "reply.create"}
    return {"type": "reply.create", "instructions": instructions}


def tool_result(call_id: str, result: str) -> dict[str, Any]:
    """``tool.result``: ``result`` is a string (JSON-encode anything else, E1)."""
    return {"type": "tool.result", "call_id": call_id, "result": result}


def late_tool_result(name: str, result: str) -> dict[str, Any]:
    """A tool result for a fresh session that never saw the call (its dropped predecessor made it).

    ``tool.result`` needs a call the session knows, so the result goes in as a system
    ``conversation.message`` (E2) naming the tool; a ``reply.create`` should follow it.
    """
    return conversation_message(f"Result of your {name} call, made before the reconnect: {result}")


def conversation_message(content: str, role: Literal["user", "system"] = "system") -> dict[str, Any]:
    """``conversation.message``: context for the agent that nobody says aloud (E2)."""
    return {"type": "conversation.message", "role": role, "content": content}


def session_end() -> dict[str, Any]:
    """``session.end``: ask for ``session.ended`` and close 1000 (a bare close bills a 30 s grace window)."""
    return {"type": "session.end"}
