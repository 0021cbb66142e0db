"""The voice-agent seam: one interface in front of every speech-to-speech backend.

A backend adapter (:mod:`bridge.openai_agent` for OpenAI Realtime GA, :mod:`bridge.assemblyai_agent`
for AssemblyAI's Voice Agent API) turns its wire events into
the frozen dataclasses below and takes the bridge's commands. Backend-specific timing rules stay
inside the adapter: OpenAI wants tool results as ``function_call_output`` items followed by a
``response.create`` after ``response.done``; the bridge just calls :meth:`AgentConnection.
deliver_tool_results` once the response that made the calls is done. AssemblyAI wants ``tool.result``
after ``reply.done`` and answers it by itself; where its semantics differ from this interface (it
answers every caller turn, has no cancel or truncate) is in that adapter's docstring.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bridge.history import CallHistory
from dialer.errors import AgentUnavailableError as AgentUnavailableError


@dataclass(frozen=True)
class ToolSpec:
    """A function the agent may call: name, description, JSON-Schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class AgentSessionConfig:
    """How to configure the agent for one call.

    Attributes:
        instructions: the system prompt (campaign script, lead facts, rules).
        tools: functions the agent may call.
        voice: backend voice id.
        vad_threshold / vad_silence_ms / vad_prefix_padding_ms: server VAD tuning (ms).
    """

    instructions: str
    tools: tuple[ToolSpec, ...]
    voice: str
    vad_threshold: float = 0.5
    vad_silence_ms: int = 500
    vad_prefix_padding_ms: int = 300


@dataclass(frozen=True)
class AgentAudio:
    """A chunk of agent speech: base64 μ-law, to be played unchanged."""

    response_id: str
    item_id: str
    payload: str


@dataclass(frozen=True)
class AgentSaid:
    """The transcript of one finished agent item.

    ``audio_ms``: the length of the audio ``text`` covers, when the backend generated more than
    it delivered (AssemblyAI speaks a muted reply to its end); None: the audio delivered.
    """

    response_id: str
    item_id: str
    text: str
    audio_ms: int | None = None


@dataclass(frozen=True)
class CallerSpeechStarted:
    """The agent's VAD heard the caller start speaking (a barge-in if agent audio is playing)."""

    audio_start_ms: int


@dataclass(frozen=True)
class CallerSpeechStopped:
    """The agent's VAD heard the caller's turn end (the bridge decides whether the agent answers)."""

    audio_end_ms: int


@dataclass(frozen=True)
class CallerSaid:
    """The transcript of one caller turn."""

    text: str


@dataclass(frozen=True)
class ResponseStarted:
    """The agent began a response."""

    response_id: str


@dataclass(frozen=True)
class ToolCall:
    """The agent called a tool; ``arguments`` is the raw JSON text it produced."""

    response_id: str
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ResponseFinished:
    """A response ended.

    ``status`` is ``completed``, ``cancelled`` (``reason`` e.g. ``turn_detected``), ``incomplete`` or
    ``failed``; ``usage`` holds the response's token counts.
    """

    response_id: str
    status: str
    reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentProblem:
    """An error reported by the backend; ``fatal`` when the session cannot continue."""

    code: str
    message: str
    fatal: bool


@dataclass(frozen=True)
class AgentReconnected:
    """The agent session dropped and was replaced (:mod:`bridge.reconnect`).

    ``how`` is ``resumed`` (the same server session, AssemblyAI ``session.resume``) or ``fresh`` (a
    new session seeded with what the caller heard); ``cause`` says what went wrong.
    """

    how: str
    cause: str


AgentEvent = (
    AgentAudio
    | AgentSaid
    | CallerSpeechStarted
    | CallerSpeechStopped
    | CallerSaid
    | ResponseStarted
    | ToolCall
    | ResponseFinished
    | AgentProblem
    | AgentReconnected
)


class AgentConnection(ABC):
    """One live agent session. Methods may be called concurrently with iterating :meth:`events`."""

    @abstractmethod
    async def send_audio(self, payload_b64: str) -> None:
        """Forward caller audio (base64 μ-law 8 kHz, exactly as Twilio sent it)."""

    @abstractmethod
    async def start_response(self, instructions: str | None = None) -> None:
        """Ask the agent to speak now; ``instructions`` apply to this response only."""

    @abstractmethod
    async def deliver_tool_results(self, results: list[tuple[str, str]], *, respond: bool) -> None:
        """Return tool outputs ``(call_id, output)`` and, if ``respond``, ask for the next response."""

    @abstractmethod
    async def cancel_response(self) -> None:
        """Cancel the response in progress."""

    @abstractmethod
    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """Tell the agent the caller heard only the first ``audio_end_ms`` ms of ``item_id``."""

    @abstractmethod
    def events(self) -> AsyncIterator[AgentEvent]:
        """The agent's events, until the session closes."""

    @abstractmethod
    async def close(self) -> None:
        """End the session (idempotent)."""

    async def reopen(self, history: CallHistory) -> str:
        """Replace a dropped session in place with one that knows the call so far.

        Called by :class:`bridge.reconnect.ResilientConnection` after :meth:`events` ended without
        :meth:`close` (or with a fatal :class:`AgentProblem`); :meth:`events` then reads the new
        session. The new session must not greet again.

        Returns:
            ``resumed`` (the server kept the session) or ``fresh`` (a new one, seeded from ``history``).

        Raises:
            AgentUnavailableError: no session could be opened (the default: a backend that cannot).
        """
        raise AgentUnavailableError("this voice agent cannot reconnect")

    @abstractmethod
    def abort(self) -> None:
        """Drop the socket at once, without a closing handshake (a stalled peer never answers one).

        :meth:`events` then ends as after any drop.
        """

    def billed_usage(self) -> dict[str, int]:
        """What the backend bills that no response reports, read after :meth:`close`.

        E.g. AssemblyAI's session time as ``{"session_ms": 93000}``; ``{}`` for a backend billed
        by the token counts of :class:`ResponseFinished`.
        """
        return {}


class VoiceAgent(ABC):
    """Opens agent sessions (one adapter per backend; built by :func:`bridge.agents.build_voice_agent`).

    Attributes:
        voice: the backend's voice id its sessions speak with (:attr:`AgentSessionConfig.voice`).
    """

    voice: str

    @abstractmethod
    async def connect(self, config: AgentSessionConfig) -> AgentConnection:
        """Open and configure a session.

        Raises:
            AgentUnavailableError: the backend could not be reached or refused the session.
        """
