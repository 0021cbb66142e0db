"""Settings of the sandbox voice agent."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.speech_codec import DEFAULT_MS_PER_CHAR


@dataclass(frozen=True)
class AgentConfig:
    """How the sandbox agent authenticates clients and how fast it speaks.

    Attributes:
        api_key: the only key accepted in ``Authorization: Bearer <api_key>``.
        ms_per_char: speaking time of the agent's speech, in ms per character of text.
        generation_speed: audio is generated at this multiple of real time (2.0 streams a 4 s
            utterance over about 2 s), so a response stays in progress for a realistic while.
        chunk_ms: playing time carried by one ``response.output_audio.delta``, in ms.
        resume_grace_s: how long an AssemblyAI session lost without ``session.end`` stays
            resumable (``session.resume``), in seconds (30 s documented, PROTOCOLS E1).
        first_audio_delay_ms: a slow agent: how long each response "thinks" before its first
            audio, in ms (0: at once), on both protocols.
        connect_delay_ms: how long a connection waits before it is accepted, in ms (a far-away
            service's handshake; 0: at once), on both protocols.
    """

    api_key: str
    ms_per_char: float = DEFAULT_MS_PER_CHAR
    generation_speed: float = 2.0
    chunk_ms: int = 100
    resume_grace_s: float = 30.0
    first_audio_delay_ms: int = 0
    connect_delay_ms: int = 0

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ValueError("api_key must not be empty")
        if self.ms_per_char <= 0:
            raise ValueError("ms_per_char must be positive")
        if self.generation_speed <= 0:
            raise ValueError("generation_speed must be positive")
        if self.chunk_ms <= 0:
            raise ValueError("chunk_ms must be positive")
        if self.first_audio_delay_ms < 0 or self.connect_delay_ms < 0:
            raise ValueError("first_audio_delay_ms and connect_delay_ms must not be negative")
