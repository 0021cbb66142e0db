"""The caller's side: the input audio clock, speech decoding and server-VAD turn detection.

All times are milliseconds of input audio appended since the session started (the ``audio_start_ms``
/ ``audio_end_ms`` clock of the API), whatever the wall clock did.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.agent.speech import AudioFormatType, bytes_per_ms
from sandbox.speech_codec import SpeechDecoder, SpeechEnded, SpeechStarted


@dataclass(frozen=True)
class VadTiming:
    """Turn detection timing, in ms of input audio.

    Attributes:
        prefix_padding_ms: how far before the speech ``audio_start_ms`` is reported.
        silence_duration_ms: silence after speech that ends the turn.
    """

    prefix_padding_ms: int
    silence_duration_ms: int


@dataclass(frozen=True)
class SpeechBegan:
    """The caller started talking; ``audio_start_ms`` includes the prefix padding."""

    audio_start_ms: int


@dataclass(frozen=True)
class TurnEnded:
    """The caller stopped talking for long enough: a committed turn.

    Attributes:
        audio_start_ms: start of the turn's audio, with prefix padding.
        audio_end_ms: where the speech ended (before the trailing silence).
        transcript: what was said; an utterance cut short contributes the part decoded.
    """

    audio_start_ms: int
    audio_end_ms: int
    transcript: str

    @property
    def duration_ms(self) -> int:
        """Length of the turn's audio."""
        return self.audio_end_ms - self.audio_start_ms


TurnEvent = SpeechBegan | TurnEnded


@dataclass(frozen=True)
class CommittedAudio:
    """The buffer a client committed by hand: its transcript and length in ms."""

    transcript: str
    duration_ms: float


class InputAudio:
    """Hears the caller: decodes μ-law speech and, with VAD on, cuts it into turns.

    Audio in another format than ``audio/pcmu`` advances the clock but is heard as silence.
    Utterances that follow each other within the silence duration make one turn.
    """

    def __init__(self) -> None:
        self._decoder = SpeechDecoder()
        self._clock_ms = 0.0
        self._decoded_ms = 0.0
        self._buffer_start_ms = 0.0
        self._texts: list[str] = []
        self._turn_start_ms: float | None = None
        self._speech_end_ms: float | None = None

    @property
    def buffered_ms(self) -> float:
        """Audio appended since the last commit or clear."""
        return self._clock_ms - self._buffer_start_ms

    def append(
        self, audio: bytes, *, audio_format: AudioFormatType, vad: VadTiming | None
    ) -> list[TurnEvent]:
        """Take the next chunk of input audio.

        Args:
            audio: raw audio bytes in ``audio_format``.
            audio_format: the session's input format.
            vad: turn detection timing, or None when the client commits turns itself.

        Returns:
            The turn events this chunk completes, in order (always empty without VAD).
        """
        start_ms = self._clock_ms
        self._clock_ms += len(audio) / bytes_per_ms(audio_format)
        events: list[TurnEvent] = []
        if audio_format == "audio/pcmu":
            decoded_start = self._decoded_ms
            self._decoded_ms += len(audio) / bytes_per_ms(audio_format)
            for heard in self._decoder.feed(audio):
                at_ms = start_ms + heard.offset_ms - decoded_start
                if vad is not None:
                    events += self._turn_ended_before(at_ms, vad)
                if isinstance(heard, SpeechStarted):
                    if vad is not None and self._turn_start_ms is None:
                        self._turn_start_ms = max(0.0, at_ms - vad.prefix_padding_ms)
                        events.append(SpeechBegan(audio_start_ms=round(self._turn_start_ms)))
                    self._speech_end_ms = None
                elif isinstance(heard, SpeechEnded):
                    self._texts.append(heard.text)
                    self._speech_end_ms = at_ms
        if vad is not None:
            events += self._turn_ended_before(self._clock_ms, vad)
        return events

    def commit(self) -> CommittedAudio:
        """Close the buffer by hand: everything heard since the last commit, as one turn.

        An utterance still in progress is cut where the buffer ends; its rest is not heard.
        """
        self._texts += [heard.text for heard in self._decoder.flush() if isinstance(heard, SpeechEnded)]
        transcript = " ".join(text for text in self._texts if text)
        committed = CommittedAudio(transcript=transcript, duration_ms=self.buffered_ms)
        self._restart_buffer(self._clock_ms)
        return committed

    def clear(self) -> None:
        """Drop the buffered audio, including speech in progress."""
        self._decoder.flush()
        self._restart_buffer(self._clock_ms)

    def _turn_ended_before(self, at_ms: float, vad: VadTiming) -> list[TurnEvent]:
        if self._turn_start_ms is None or self._speech_end_ms is None:
            return []
        if at_ms < self._speech_end_ms + vad.silence_duration_ms:
            return []
        ended = TurnEnded(
            audio_start_ms=round(self._turn_start_ms),
            audio_end_ms=round(self._speech_end_ms),
            transcript=" ".join(text for text in self._texts if text),
        )
        self._restart_buffer(at_ms)
        return [ended]

    def _restart_buffer(self, at_ms: float) -> None:
        self._buffer_start_ms = at_ms
        self._texts = []
        self._turn_start_ms = None
        self._speech_end_ms = None
