"""The GA session object: its defaults, the shape ``session.update`` must have, and merging.

A ``session.update`` is validated against :class:`SessionSettings` (unknown fields, including the
beta API's flat ``voice`` / ``input_audio_format`` / ``modalities`` / ``temperature``, are
rejected). Only the fields present change; ``audio``, ``audio.input`` and ``audio.output`` merge
field by field, any other field is replaced whole (a ``turn_detection`` object gets its type's
defaults for the fields it leaves out).
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from sandbox.agent.input_audio import VadTiming
from sandbox.agent.protocol import RealtimeError, new_id

DEFAULT_MODEL = "gpt-realtime-2.1"
DEFAULT_INSTRUCTIONS = (
    "You are a helpful, friendly assistant. Keep your answers short and speak clearly. "
    "Call a function whenever one fits what the user asked for."
)
SESSION_TTL_S = 3600
"""Sessions last at most 60 minutes."""

Voice = Literal["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Section(_Strict):
    """A nested part of the session that ``session.update`` merges field by field."""


class PcmFormat(_Strict):
    """24 kHz, 16-bit little-endian mono PCM."""

    type: Literal["audio/pcm"]
    rate: Literal[24000] = 24000


class PcmuFormat(_Strict):
    """G.711 μ-law, 8 kHz."""

    type: Literal["audio/pcmu"]


class PcmaFormat(_Strict):
    """G.711 A-law, 8 kHz."""

    type: Literal["audio/pcma"]


AudioFormat = Annotated[PcmFormat | PcmuFormat | PcmaFormat, Field(discriminator="type")]


class ServerVad(_Strict):
    """Silence-based turn detection; durations in ms of input audio.

    ``threshold`` and ``idle_timeout_ms`` are accepted and reported: the sandbox's speech code needs
    no loudness threshold, and it does not prompt idle callers.
    """

    type: Literal["server_vad"]
    threshold: float = Field(0.5, ge=0, le=1)
    prefix_padding_ms: int = Field(300, ge=0)
    silence_duration_ms: int = Field(500, ge=0)
    idle_timeout_ms: int | None = None
    create_response: bool = True
    interrupt_response: bool = True

    def timing(self) -> VadTiming:
        """When the sandbox reports a turn's start and end."""
        return VadTiming(
            prefix_padding_ms=self.prefix_padding_ms, silence_duration_ms=self.silence_duration_ms
        )


_SEMANTIC_SILENCE_MS = {"low": 1000, "medium": 500, "auto": 500, "high": 250}


class SemanticVad(_Strict):
    """Turn detection by meaning; the sandbox approximates it with a silence per eagerness."""

    type: Literal["semantic_vad"]
    eagerness: Literal["low", "medium", "high", "auto"] = "auto"
    create_response: bool = True
    interrupt_response: bool = True

    def timing(self) -> VadTiming:
        """When the sandbox reports a turn's start and end (quicker for higher eagerness)."""
        return VadTiming(prefix_padding_ms=300, silence_duration_ms=_SEMANTIC_SILENCE_MS[self.eagerness])


TurnDetection = Annotated[ServerVad | SemanticVad, Field(discriminator="type")]


class Transcription(_Strict):
    """Asynchronous transcription of the caller's audio."""

    model: str | None = None
    language: str | None = None
    languages: list[str] | None = None
    prompt: str | None = None
    keywords: list[str] | None = None
    delay: Literal["minimal", "low", "medium", "high", "xhigh"] | None = None


class NoiseReduction(_Strict):
    """Input noise reduction (accepted and reported; the sandbox's audio has no noise)."""

    type: Literal["near_field", "far_field"] | None = None
    strength: float | None = None


class AudioInput(_Section):
    """``session.audio.input``."""

    format: AudioFormat = Field(default_factory=lambda: PcmFormat(type="audio/pcm"))
    transcription: Transcription | None = None
    noise_reduction: NoiseReduction | None = None
    turn_detection: TurnDetection | None = Field(default_factory=lambda: ServerVad(type="server_vad"))


class VoiceId(_Strict):
    """A custom voice."""

    id: str


class AudioOutput(_Section):
    """``session.audio.output``; ``speed`` is a multiple of normal speaking pace."""

    format: AudioFormat = Field(default_factory=lambda: PcmFormat(type="audio/pcm"))
    voice: Voice | VoiceId = "marin"
    speed: float = Field(1.0, ge=0.25, le=1.5)


class AudioConfig(_Section):
    """``session.audio``."""

    input: AudioInput = Field(default_factory=AudioInput)
    output: AudioOutput = Field(default_factory=AudioOutput)


class FunctionTool(_Strict):
    """A function the model may call; ``parameters`` is a JSON schema."""

    type: Literal["function"]
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class McpTool(BaseModel):
    """A remote MCP server (accepted and reported; the sandbox never calls it)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["mcp"]
    server_label: str


Tool = Annotated[FunctionTool | McpTool, Field(discriminator="type")]


class ToolChoiceFunction(_Strict):
    """Force a call of the named function."""

    type: Literal["function"]
    name: str


class ToolChoiceMcp(_Strict):
    """Force a call of a tool of the named MCP server."""

    type: Literal["mcp"]
    server_label: str
    name: str | None = None


ToolChoice = Literal["auto", "none", "required"] | ToolChoiceFunction | ToolChoiceMcp


class RetentionRatio(_Strict):
    """Context truncation that keeps a share of the conversation."""

    type: Literal["retention_ratio"]
    retention_ratio: float = Field(ge=0, le=1)
    token_limits: dict[str, int] | None = None


class Reasoning(_Strict):
    """Reasoning effort of ``gpt-realtime-2`` models."""

    effort: Literal["minimal", "low", "medium", "high", "xhigh"] | None = None


class SessionSettings(_Strict):
    """What a client may set: the ``session`` of a ``session.update``.

    The sandbox speaks only, so ``output_modalities`` accepts ``["audio"]`` alone.
    """

    type: Literal["realtime"]
    model: str = DEFAULT_MODEL
    instructions: str = DEFAULT_INSTRUCTIONS
    output_modalities: list[Literal["audio"]] = Field(default_factory=lambda: ["audio"], min_length=1)  # type: ignore[arg-type]
    audio: AudioConfig = Field(default_factory=AudioConfig)
    tools: list[Tool] = Field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    max_output_tokens: Annotated[int, Field(ge=1, le=4096)] | Literal["inf"] = "inf"
    tracing: Literal["auto"] | dict[str, Any] | None = None
    prompt: dict[str, Any] | None = None
    truncation: Literal["auto", "disabled"] | RetentionRatio = "auto"
    include: list[Literal["item.input_audio_transcription.logprobs"]] | None = None
    reasoning: Reasoning | None = None
    parallel_tool_calls: bool | None = None


def function_names(tools: list[Tool]) -> frozenset[str]:
    """Names of the function tools among ``tools``."""
    return frozenset(tool.name for tool in tools if isinstance(tool, FunctionTool))


class SessionConfig(SessionSettings):
    """The effective session, as ``session.created`` and ``session.updated`` report it."""

    object: Literal["realtime.session"] = "realtime.session"
    id: str
    expires_at: int
    """Unix time in seconds."""

    @classmethod
    def initial(cls, model: str) -> SessionConfig:
        """The defaults a new session starts with, for ``model`` (from the connect URL)."""
        return cls(
            type="realtime", model=model, id=new_id("sess"), expires_at=int(time.time()) + SESSION_TTL_S
        )

    def to_wire(self) -> dict[str, Any]:
        """The session object as JSON."""
        return self.model_dump(mode="json")

    def updated(self, patch: SessionSettings, *, audio_produced: bool, event_id: str | None) -> SessionConfig:
        """This session with the fields present in ``patch`` applied.

        Args:
            patch: a validated ``session.update`` session.
            audio_produced: whether the agent has already spoken, which fixes model and voice.
            event_id: the ``session.update``'s event id, echoed in an error.

        Raises:
            RealtimeError: the patch changes the model or the voice after the agent spoke.
        """
        merged = _merged(self, patch)
        if audio_produced and merged.audio.output.voice != self.audio.output.voice:
            raise RealtimeError(
                "cannot_update_voice",
                "Cannot update a conversation's voice if assistant audio is present.",
                param="session.audio.output.voice",
                event_id=event_id,
            )
        if audio_produced and merged.model != self.model:
            raise RealtimeError(
                "cannot_update_model",
                "Cannot update the model once assistant audio is present.",
                param="session.model",
                event_id=event_id,
            )
        return merged


_M = TypeVar("_M", bound=BaseModel)


def _merged(base: _M, patch: BaseModel) -> _M:
    changes: dict[str, Any] = {}
    for name in patch.model_fields_set:
        new, old = getattr(patch, name), getattr(base, name)
        changes[name] = _merged(old, new) if isinstance(new, _Section) and isinstance(old, _Section) else new
    return base.model_copy(update=changes)
