"""OpenAI Realtime GA server events the bridge uses, as typed models (PROTOCOLS D5).

:func:`parse_server_event` turns one WebSocket text frame into a typed event, dispatching on the
``type`` string (never on the SDK's unchecked union, PROTOCOLS D9). Types the bridge does not act on
come back as :class:`OtherServerEvent`; a frame that is not a JSON object with a string ``type`` is
an :class:`InvalidServerEvent`. Client events are built as plain dicts by the functions at the end.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from bridge.history import HeardTurn
from bridge.wire_json import loads


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str
    event_id: str | None = None


class SessionEvent(_Event):
    """``session.created`` / ``session.updated``."""

    session: dict[str, Any]


class SpeechStarted(_Event):
    """``input_audio_buffer.speech_started``: the caller began speaking (server VAD)."""

    audio_start_ms: int = 0
    item_id: str | None = None


class SpeechStopped(_Event):
    """``input_audio_buffer.speech_stopped``: the caller's turn ended."""

    audio_end_ms: int = 0
    item_id: str | None = None


class InputTranscriptionCompleted(_Event):
    """``conversation.item.input_audio_transcription.completed``: what the caller said."""

    item_id: str
    transcript: str


class ResponseRef(BaseModel):
    """The parts of a response object the bridge reads."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    status: str | None = None
    status_details: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None


class ResponseCreated(_Event):
    """``response.created``."""

    response: ResponseRef


class ResponseDone(_Event):
    """``response.done``: always sent, with status completed | cancelled | incomplete | failed."""

    response: ResponseRef


class OutputAudioDelta(_Event):
    """``response.output_audio.delta``: base64 audio in the session's output format."""

    response_id: str
    item_id: str
    delta: str


class OutputAudioDone(_Event):
    """``response.output_audio.done``."""

    response_id: str
    item_id: str


class OutputTranscriptDone(_Event):
    """``response.output_audio_transcript.done``: what the agent said in one item."""

    response_id: str
    item_id: str
    transcript: str


class FunctionCallArgumentsDone(_Event):
    """``response.function_call_arguments.done``: a tool call with its JSON-string arguments."""

    response_id: str
    item_id: str
    call_id: str
    name: str
    arguments: str


class ErrorDetail(BaseModel):
    """The ``error`` object of an error event."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str = ""
    code: str | None = None
    message: str = ""
    param: str | None = None
    event_id: str | None = None


class ErrorEvent(_Event):
    """``error``: usually not fatal; the socket stays open."""

    error: ErrorDetail


class OtherServerEvent(_Event):
    """A valid event the bridge does not act on (kept for logging)."""


class InvalidServerEvent(BaseModel):
    """A frame that could not be read as a server event."""

    model_config = ConfigDict(frozen=True)

    type: Literal["invalid"] = "invalid"
    raw: str
    problem: str


ServerEvent = (
    SessionEvent
    | SpeechStarted
    | SpeechStopped
    | InputTranscriptionCompleted
    | ResponseCreated
    | ResponseDone
    | OutputAudioDelta
    | OutputAudioDone
    | OutputTranscriptDone
    | FunctionCallArgumentsDone
    | ErrorEvent
    | OtherServerEvent
    | InvalidServerEvent
)

_BY_TYPE: dict[str, type[_Event]] = {
    "session.created": SessionEvent,
    "session.updated": SessionEvent,
    "input_audio_buffer.speech_started": SpeechStarted,
    "input_audio_buffer.speech_stopped": SpeechStopped,
    "conversation.item.input_audio_transcription.completed": InputTranscriptionCompleted,
    "response.created": ResponseCreated,
    "response.done": ResponseDone,
    "response.output_audio.delta": OutputAudioDelta,
    "response.output_audio.done": OutputAudioDone,
    "response.output_audio_transcript.done": OutputTranscriptDone,
    "response.function_call_arguments.done": FunctionCallArgumentsDone,
    "error": ErrorEvent,
}


def parse_server_event(raw: str | bytes) -> ServerEvent:
    """Parse one server frame into a typed event (never raises)."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        data = loads(text)
    except ValueError:
        return InvalidServerEvent(raw=text[:500], problem="not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return InvalidServerEvent(raw=text[:500], problem="no string 'type'")
    model = _BY_TYPE.get(data["type"].strip(), OtherServerEvent)
    try:
        return model.model_validate({**data, "type": data["type"].strip()})  # type: ignore[return-value]
    except ValidationError as exc:
        return InvalidServerEvent(raw=text[:500], problem=str(exc)[:300])


def session_update(session: dict[str, Any]) -> dict[str, Any]:
    """``session.update`` (GA shape: ``session.type`` = ``realtime``)."""
    return {"type": "session.update", "session": {"type": "realtime", **session}}


def append_audio(payload_b64: str) -> dict[str, Any]:
    """``input_audio_buffer.append`` with a Twilio payload, unchanged (both sides audio/pcmu)."""
    return {"type": "input_audio_buffer.append", "audio": payload_b64}


def response_create(instructions: str | None = None) -> dict[str, Any]:
    """``response.create``; ``instructions`` override the session's for this response only."""
    if instructions is None:
        return {"type": "response.create"}
    return {"type": "response.create", "response": {"instructions": instructions}}


def function_call_output(call_id: str, output: str) -> dict[str, Any]:
    """``conversation.item.create`` carrying a tool result (a string, usually JSON)."""
    return {
        "type": "conversation.item.create",
        "item": {"type": "function_call_output", "call_id": call_id, "output": output},
    }


def truncate_item(item_id: str, audio_end_ms: int) -> dict[str, Any]:
    """``conversation.item.truncate``: the caller heard only ``audio_end_ms`` of this item."""
    return {
        "type": "conversation.item.truncate",
        "item_id": item_id,
        "content_index": 0,
        "audio_end_ms": audio_end_ms,
    }


def response_cancel() -> dict[str, Any]:
    """``response.cancel`` for the active response."""
    return {"type": "response.cancel"}


def seed_items(turns: list[HeardTurn]) -> list[dict[str, Any]]:
    """``conversation.item.create`` per turn, to rebuild a dropped call in a fresh session (D4, D7).

    Caller turns become user ``input_text`` messages, what the caller heard of the agent assistant
    ``output_text`` messages, tool calls ``function_call`` items and their results
    ``function_call_output`` items (same ``call_id``, so a result delivered later still fits).
    """
    events: list[dict[str, Any]] = []
    for turn in turns:
        if turn.kind == "tool_output":
            events.append(function_call_output(turn.call_id, turn.text))
            continue
        if turn.kind == "tool_call":
            item: dict[str, Any] = {
                "type": "function_call",
                "call_id": turn.call_id,
                "name": turn.name,
                "arguments": turn.text,
            }
        else:
            role, part = ("user", "input_text") if turn.kind == "caller" else ("assistant", "output_text")
            item = {"type": "message", "role": role, "content": [{"type": part, "text": turn.text}]}
        events.append({"type": "conversation.item.create", "item": item})
    return events
