"""Client events of the Realtime GA protocol, parsed from wire JSON into typed models.

:func:`parse_client_event` is the only way in: it turns a text frame into one of the models below
or raises :class:`~sandbox.agent.protocol.RealtimeError` naming what is wrong (bad JSON, a missing
or unknown ``type``, an unknown, missing or invalid parameter).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from sandbox.agent.conversation import ContentType
from sandbox.agent.protocol import RealtimeError
from sandbox.agent.session_config import (
    AudioFormat,
    Reasoning,
    SessionSettings,
    Tool,
    ToolChoice,
    Voice,
    VoiceId,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClientEvent(_Strict):
    """Fields every client event has; ``event_id`` is echoed in errors it causes."""

    event_id: str | None = None


class SessionUpdate(ClientEvent):
    """Change the session's settings."""

    type: Literal["session.update"]
    session: SessionSettings


class InputAudioBufferAppend(ClientEvent):
    """More caller audio, base64 in the session's input format."""

    type: Literal["input_audio_buffer.append"]
    audio: str


class InputAudioBufferCommit(ClientEvent):
    """Make the buffered audio a user turn (used when turn detection is off)."""

    type: Literal["input_audio_buffer.commit"]


class InputAudioBufferClear(ClientEvent):
    """Drop the buffered audio."""

    type: Literal["input_audio_buffer.clear"]


class ResponseAudioOutput(_Strict):
    """Per-response output audio overrides."""

    format: AudioFormat | None = None
    voice: Voice | VoiceId | None = None


class ResponseAudio(_Strict):
    """``response.audio``."""

    output: ResponseAudioOutput | None = None


class ResponseParams(_Strict):
    """``response.create``'s ``response``: overrides for one response.

    The sandbox acts on ``instructions``, ``tools``, ``audio.output``, ``metadata`` and
    ``max_output_tokens``; it accepts the other GA fields and answers in the default conversation.
    """

    instructions: str | None = None
    tools: list[Tool] | None = None
    audio: ResponseAudio | None = None
    metadata: dict[str, str] | None = None
    max_output_tokens: Annotated[int, Field(ge=1, le=4096)] | Literal["inf"] | None = None
    output_modalities: list[Literal["audio"]] | None = None
    conversation: str | None = None
    input: list[dict[str, Any]] | None = None
    tool_choice: ToolChoice | None = None
    prompt: dict[str, Any] | None = None
    reasoning: Reasoning | None = None
    parallel_tool_calls: bool | None = None


class ResponseCreate(ClientEvent):
    """Start a response."""

    type: Literal["response.create"]
    response: ResponseParams | None = None


class ResponseCancel(ClientEvent):
    """Stop the active response (optionally only if it is ``response_id``)."""

    type: Literal["response.cancel"]
    response_id: str | None = None


class MessageContent(_Strict):
    """One content part of a message item."""

    type: ContentType
    text: str | None = None
    transcript: str | None = None
    audio: str | None = None


_CONTENT_TYPES_BY_ROLE: dict[str, tuple[ContentType, ...]] = {
    "user": ("input_text", "input_audio"),
    "system": ("input_text",),
    "assistant": ("output_text", "output_audio"),
}


class MessageItemParam(_Strict):
    """A message the client adds to the conversation; its parts must suit its role."""

    type: Literal["message"]
    role: Literal["user", "assistant", "system"]
    content: list[MessageContent]
    id: str | None = None
    object: Literal["realtime.item"] | None = None
    status: Literal["completed", "incomplete", "in_progress"] | None = None

    @model_validator(mode="after")
    def _content_suits_role(self) -> MessageItemParam:
        allowed = _CONTENT_TYPES_BY_ROLE[self.role]
        if any(part.type not in allowed for part in self.content):
            raise ValueError(f"a {self.role} message takes content of type {' or '.join(allowed)}")
        return self

    @property
    def content_type(self) -> ContentType:
        """The type of the message's content (of its first part)."""
        return self.content[0].type if self.content else _CONTENT_TYPES_BY_ROLE[self.role][0]

    @property
    def text(self) -> str:
        """The text or transcripts of all parts, joined."""
        return " ".join(part.text or part.transcript or "" for part in self.content).strip()


class FunctionCallOutputParam(_Strict):
    """The result of a function call the agent made; ``output`` is usually a JSON string."""

    type: Literal["function_call_output"]
    call_id: str
    output: str
    id: str | None = None
    object: Literal["realtime.item"] | None = None
    status: Literal["completed", "incomplete", "in_progress"] | None = None


class FunctionCallItemParam(_Strict):
    """A function call of the agent's, added by the client (to rebuild a conversation, D4)."""

    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str
    id: str | None = None
    object: Literal["realtime.item"] | None = None
    status: Literal["completed", "incomplete", "in_progress"] | None = None


ItemParam = Annotated[
    MessageItemParam | FunctionCallOutputParam | FunctionCallItemParam, Field(discriminator="type")
]


class ConversationItemCreate(ClientEvent):
    """Add an item to the conversation (it does not start a response).

    The sandbox always appends the item; ``previous_item_id`` is accepted and not used.
    """

    type: Literal["conversation.item.create"]
    item: ItemParam
    previous_item_id: str | None = None


class ConversationItemTruncate(ClientEvent):
    """Cut an assistant message's audio at ``audio_end_ms`` (what the caller actually heard)."""

    type: Literal["conversation.item.truncate"]
    item_id: str
    content_index: int = Field(ge=0)
    audio_end_ms: int = Field(ge=0)


class ConversationItemDelete(ClientEvent):
    """Remove an item from the conversation."""

    type: Literal["conversation.item.delete"]
    item_id: str


class ConversationItemRetrieve(ClientEvent):
    """Ask for an item as the server holds it."""

    type: Literal["conversation.item.retrieve"]
    item_id: str


AnyClientEvent = (
    SessionUpdate
    | InputAudioBufferAppend
    | InputAudioBufferCommit
    | InputAudioBufferClear
    | ResponseCreate
    | ResponseCancel
    | ConversationItemCreate
    | ConversationItemTruncate
    | ConversationItemDelete
    | ConversationItemRetrieve
)

_ADAPTER: TypeAdapter[AnyClientEvent] = TypeAdapter(Annotated[AnyClientEvent, Field(discriminator="type")])
_EVENT_TYPES: tuple[str, ...] = tuple(
    get_args(model.model_fields["type"].annotation)[0] for model in get_args(AnyClientEvent)
)


def parse_client_event(raw: str | bytes) -> AnyClientEvent:
    """Parse one client frame.

    Args:
        raw: the frame's JSON text.

    Returns:
        The typed event.

    Raises:
        RealtimeError: the frame is not a valid client event.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RealtimeError("invalid_json", f"The event is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise RealtimeError("invalid_event", "An event must be a JSON object.")
    event_id = data.get("event_id") if isinstance(data.get("event_id"), str) else None
    event_type = data.get("type")
    if event_type is None:
        raise RealtimeError("invalid_event", "The 'type' field is missing.", param="type", event_id=event_id)
    if event_type not in _EVENT_TYPES:
        supported = ", ".join(f"'{name}'" for name in _EVENT_TYPES)
        raise RealtimeError(
            "invalid_value",
            f"Invalid value: '{event_type}'. Supported values are: {supported}.",
            param="type",
            event_id=event_id,
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise RealtimeError.from_validation(exc, data, event_id=event_id) from exc
