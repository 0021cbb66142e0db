"""The AssemblyAI stand-in's session configuration: ``session.update`` checked as the API does.

Checks (PROTOCOLS E1, E3, E4): every tool has ``type: "function"`` and a name; the voice is in the
catalog; ``greeting``, ``output.voice`` and ``output.format`` cannot change after
``session.ready`` (``immutable_field``); ``turn_detection`` values are in range. An encoding the API
does not know (``pcm_mulaw``) is ignored, as the tutorials warn, leaving the default ``audio/pcm``
(24 kHz PCM16). Violations raise :class:`AssemblyAIError`, sent as ``session.error``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, get_args

from sandbox.agent.speech import AudioFormatType

VOICES = frozenset({"ivy", "james", "sophie", "claire", "dawn", "mia", "winter", "bella", "anna", "paul"})
"""Catalog voice ids the stand-in accepts (lowercase, case-sensitive; the lists change, E4)."""
DEFAULT_MIN_SILENCE_MS = 1000
"""Silence before the end-of-turn check (the documented ``min_silence`` default)."""
_ENCODINGS: frozenset[str] = frozenset(get_args(AudioFormatType))


class AssemblyAIError(Exception):
    """A ``session.error`` (or ``reply.error``) to send; the session stays open.

    Attributes:
        code: machine-readable code, e.g. ``invalid_voice`` or ``session_not_found``.
        message: human-readable explanation.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_event(self, event_type: str = "session.error") -> dict[str, Any]:
        """The error as a server event."""
        return {"type": event_type, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class VoiceAgentSettings:
    """One session's configuration (defaults as documented)."""

    system_prompt: str = ""
    greeting: str = ""
    tools: tuple[str, ...] = ()
    input_encoding: AudioFormatType = "audio/pcm"
    output_encoding: AudioFormatType = "audio/pcm"
    voice: str = "ivy"
    vad_threshold: float = 0.5
    interrupt_response: bool = True
    min_silence_ms: int = DEFAULT_MIN_SILENCE_MS

    def to_wire(self) -> dict[str, Any]:
        """The effective configuration, as ``session.ready`` / ``session.updated`` carry it (``config``)."""
        return {
            "system_prompt": self.system_prompt,
            "greeting": self.greeting,
            "tools": list(self.tools),
            "input": {
                "format": {"encoding": self.input_encoding},
                "turn_detection": {
                    "vad_threshold": self.vad_threshold,
                    "interrupt_response": self.interrupt_response,
                    "min_silence": self.min_silence_ms,
                },
            },
            "output": {"voice": self.voice, "format": {"encoding": self.output_encoding}},
        }


def updated(current: VoiceAgentSettings, session: object, *, ready: bool) -> VoiceAgentSettings:
    """``current`` with the fields present in ``session`` applied.

    Raises:
        AssemblyAIError: a bad field, or an immutable one changed after ``session.ready``.
    """
    if not isinstance(session, dict):
        raise AssemblyAIError("invalid_session_config", "session must be an object")
    if "agent_id" in session:
        raise AssemblyAIError("invalid_session_config", "stored agents (agent_id) are not simulated")
    changes: dict[str, Any] = {}
    if "system_prompt" in session:
        changes["system_prompt"] = _string(session["system_prompt"], "system_prompt")
    if "greeting" in session:
        changes["greeting"] = _string(session["greeting"] or "", "greeting")
    if "tools" in session:
        changes["tools"] = _tools(session["tools"])
    changes |= _input(session.get("input"))
    changes |= _output(session.get("output"))
    new = replace(current, **changes)
    if ready:
        fixed = (("greeting", "greeting"), ("voice", "output.voice"), ("output_encoding", "output.format"))
        for name, field in fixed:
            if getattr(new, name) != getattr(current, name):
                raise AssemblyAIError("immutable_field", f"{field} cannot change after session.ready")
    return new


def _string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise AssemblyAIError("invalid_session_config", f"{name} must be a string")
    return value


def _tools(tools: object) -> tuple[str, ...]:
    if not isinstance(tools, list):
        raise AssemblyAIError("invalid_session_config", "tools must be a list")
    names = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise AssemblyAIError("invalid_tools", f"tools[{index}].type must be 'function'")
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            raise AssemblyAIError("invalid_tools", f"tools[{index}].name is required")
        names.append(tool["name"])
    return tuple(names)


def _encoding(block: object) -> dict[str, Any]:
    if not isinstance(block, dict) or not isinstance(block.get("format"), dict):
        return {}
    encoding = block["format"].get("encoding")
    return {"encoding": encoding} if encoding in _ENCODINGS else {}  # unknown encodings are ignored (E1)


def _input(block: object) -> dict[str, Any]:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise AssemblyAIError("invalid_session_config", "input must be an object")
    changes: dict[str, Any] = {}
    if "encoding" in (found := _encoding(block)):
        changes["input_encoding"] = found["encoding"]
    detection = block.get("turn_detection")
    if isinstance(detection, dict):
        threshold = detection.get("vad_threshold", 0.5)
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise AssemblyAIError("invalid_session_config", "turn_detection.vad_threshold must be 0-1")
        changes["vad_threshold"] = float(threshold)
        if "interrupt_response" in detection:
            changes["interrupt_response"] = bool(detection["interrupt_response"])
        if "min_silence" in detection:
            silence = detection["min_silence"]
            if not isinstance(silence, int) or silence < 0:
                raise AssemblyAIError("invalid_session_config", "turn_detection.min_silence must be ms >= 0")
            changes["min_silence_ms"] = silence
    return changes


def _output(block: object) -> dict[str, Any]:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise AssemblyAIError("invalid_session_config", "output must be an object")
    changes: dict[str, Any] = {}
    if "encoding" in (found := _encoding(block)):
        changes["output_encoding"] = found["encoding"]
    if "voice" in block:
        voice = block["voice"]
        if voice not in VOICES:
            raise AssemblyAIError("invalid_voice", f"Unknown voice {voice!r}; use a lowercase catalog id")
        changes["voice"] = voice
    return changes
