"""The far end of one answered call: hears the agent's played audio and speaks back as its persona.

All times are *stream time*: ms since the Media Stream started (the ``timestamp`` of inbound
media frames). The media client drives a :class:`Prospect` once per 20 ms tick: it passes the
agent audio played during the tick to :meth:`Prospect.hear`, then asks :meth:`Prospect.next_frame`
for the prospect's next 160 bytes of inbound audio and :meth:`Prospect.take_digits` for key presses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sandbox.carrier.personas import BargeIn, Dtmf, Persona, Reaction
from sandbox.speech_codec import (
    BYTES_PER_MS,
    SILENCE_BYTE,
    SpeechDecoder,
    SpeechEnded,
    SpeechStarted,
    encode_utterance,
    silence,
)

_ALT_SILENCE_BYTE = 0x7F
"""The other μ-law encoding of a zero sample; neither counts as agent speech."""
_GAP_MS = 60
"""Silence the prospect leaves after each of its own utterances."""


@dataclass
class HeardUtterance:
    """An agent utterance as the prospect heard it.

    Attributes:
        text: the decoded text; for an utterance cut short, the part that played.
        complete: False when the utterance was cut (cleared, or interrupted by other audio).
        start_ms: stream time at which it started playing.
        end_ms: stream time at which it finished playing or was cut.
    """

    text: str
    complete: bool
    start_ms: float
    end_ms: float


@dataclass
class SaidItem:
    """Something the prospect did: an utterance (``kind="speech"``) or a key press (``kind="dtmf"``).

    Attributes:
        kind: ``"speech"`` or ``"dtmf"``.
        text: the words spoken, or the digit pressed.
        start_ms: stream time at which it started.
        end_ms: stream time at which it ended (equal to ``start_ms`` for a key press).
    """

    kind: str
    text: str
    start_ms: float
    end_ms: float


@dataclass
class BargeInRecord:
    """A barge-in: the prospect talking over the agent, and how fast the app stopped playback.

    Attributes:
        at_ms: stream time at which the prospect started talking over the agent.
        cleared_after_ms: ms from ``at_ms`` to the first ``clear`` from the app, None if none came.
        cleared_in_time: True when that ``clear`` came within the configured window.
    """

    at_ms: float
    cleared_after_ms: float | None = None
    cleared_in_time: bool = False


class Prospect:
    """A persona brought to life on a call's Media Stream."""

    def __init__(
        self,
        persona: Persona,
        *,
        ms_per_char: float,
        reply_delay_ms: float,
        patience_ms: float,
        clear_window_ms: float,
    ) -> None:
        """Prepare the prospect; nothing happens until the stream clock starts driving it.

        Args:
            persona: the behaviour to play.
            ms_per_char: speaking pace, ms of audio per character.
            reply_delay_ms: pause after the agent finishes before a reply starts, in ms.
            patience_ms: ms without hearing the agent after which the prospect hangs up.
            clear_window_ms: a ``clear`` within this many ms of a barge-in counts as in time.
        """
        self.persona = persona
        self.heard: list[HeardUtterance] = []
        self.said: list[SaidItem] = []
        self.barge_in: BargeInRecord | None = None
        self._ms_per_char = ms_per_char
        self._reply_delay_ms = reply_delay_ms
        self._patience_ms = patience_ms
        self._clear_window_ms = clear_window_ms
        self._decoder = SpeechDecoder()
        self._fed_ms = 0.0
        self._agent_audio_bytes = 0
        self._heard_start_ms = 0.0
        self._voice = bytearray()
        self._digits: list[str] = []
        self._next_reaction = 0
        self._reply_at_ms: float | None = None
        self._barge_in_at_ms: float | None = None
        self._last_activity_ms = 0.0
        self._greeted = False

    @property
    def agent_audio_ms(self) -> float:
        """Milliseconds of non-silent agent audio played to the prospect (to a machine: a message left)."""
        return self._agent_audio_bytes / BYTES_PER_MS

    def hear(self, audio: bytes, at_ms: float) -> None:
        """Listen to agent audio that started playing at stream time ``at_ms``."""
        self._agent_audio_bytes += len(audio) - audio.count(SILENCE_BYTE) - audio.count(_ALT_SILENCE_BYTE)
        fed_before = self._fed_ms
        for event in self._decoder.feed(audio):
            event_ms = at_ms + (event.offset_ms - fed_before)
            if isinstance(event, SpeechStarted):
                self._agent_started(event_ms)
            else:
                self._agent_ended(event, event_ms)
        self._fed_ms += len(audio) / BYTES_PER_MS
        if self._decoder.speaking:
            self._last_activity_ms = at_ms + len(audio) / BYTES_PER_MS

    def hear_clear(self, at_ms: float) -> None:
        """The app cleared its playback at ``at_ms``: whatever was being said is cut off there."""
        for event in self._decoder.flush():
            if isinstance(event, SpeechEnded):
                self._agent_ended(event, at_ms)
        if self.barge_in is not None and self.barge_in.cleared_after_ms is None:
            after_ms = at_ms - self.barge_in.at_ms
            self.barge_in.cleared_after_ms = after_ms
            self.barge_in.cleared_in_time = after_ms <= self._clear_window_ms

    def next_frame(self, at_ms: float, frame_bytes: int) -> bytes:
        """The prospect's audio for the frame that starts at stream time ``at_ms``.

        Args:
            at_ms: stream time of the frame.
            frame_bytes: frame length in bytes (160 for 20 ms).

        Returns:
            Exactly ``frame_bytes`` of μ-law: the prospect's speech, else silence.
        """
        self._act(at_ms)
        chunk = bytes(self._voice[:frame_bytes])
        del self._voice[:frame_bytes]
        return chunk + silence((frame_bytes - len(chunk)) / BYTES_PER_MS)

    def take_digits(self) -> list[str]:
        """Remove and return the keys pressed since the last call, in order."""
        digits, self._digits = self._digits, []
        return digits

    def wants_to_hang_up(self, at_ms: float) -> bool:
        """True once the prospect has waited ``patience_ms`` without hearing the agent or speaking."""
        busy = self._decoder.speaking or self._voice or self._reply_at_ms is not None
        return not busy and at_ms - self._last_activity_ms >= self._patience_ms

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary: ``heard``, ``said``, ``barge_in``, ``agent_audio_ms``."""
        return {
            "heard": [asdict(item) for item in self.heard],
            "said": [asdict(item) for item in self.said],
            "barge_in": asdict(self.barge_in) if self.barge_in else None,
            "agent_audio_ms": self.agent_audio_ms,
        }

    def _reaction(self) -> Reaction:
        if self._next_reaction < len(self.persona.reactions):
            return self.persona.reactions[self._next_reaction]
        return None

    def _has_reaction(self) -> bool:
        return self._next_reaction < len(self.persona.reactions)

    def _agent_started(self, at_ms: float) -> None:
        self._heard_start_ms = at_ms
        self._last_activity_ms = at_ms
        self._reply_at_ms = None  # the agent kept talking: wait for it to finish again
        reaction = self._reaction()
        if isinstance(reaction, BargeIn):
            self._barge_in_at_ms = at_ms + reaction.after_ms

    def _agent_ended(self, event: SpeechEnded, at_ms: float) -> None:
        self.heard.append(HeardUtterance(event.text, event.complete, self._heard_start_ms, at_ms))
        self._last_activity_ms = at_ms
        self._barge_in_at_ms = None  # it finished before the barge-in moment: try the next one
        if not event.complete or not self._has_reaction():
            return
        reaction = self._reaction()
        if reaction is None:
            self._next_reaction += 1
        elif not isinstance(reaction, BargeIn):
            self._reply_at_ms = at_ms + self._reply_delay_ms

    def _act(self, at_ms: float) -> None:
        if not self._greeted:
            self._greeted = True
            if self.persona.greeting:
                self._speak(self.persona.greeting, at_ms)
        if self._reply_at_ms is not None and at_ms >= self._reply_at_ms:
            self._reply_at_ms = None
            reaction = self._reaction()
            self._next_reaction += 1
            if isinstance(reaction, Dtmf):
                self._digits.append(reaction.digit)
                self.said.append(SaidItem("dtmf", reaction.digit, at_ms, at_ms))
                self._last_activity_ms = at_ms
            elif isinstance(reaction, str):
                self._speak(reaction, at_ms)
        if self._barge_in_at_ms is not None and at_ms >= self._barge_in_at_ms:
            self._barge_in_at_ms = None
            reaction = self._reaction()
            if isinstance(reaction, BargeIn) and self._decoder.speaking:
                self._next_reaction += 1
                self.barge_in = BargeInRecord(at_ms=at_ms + len(self._voice) / BYTES_PER_MS)
                self._speak(reaction.text, at_ms)

    def _speak(self, text: str, at_ms: float) -> None:
        start_ms = at_ms + len(self._voice) / BYTES_PER_MS
        audio = encode_utterance(text, ms_per_char=self._ms_per_char)
        end_ms = start_ms + len(audio) / BYTES_PER_MS
        self._voice += audio + silence(_GAP_MS)
        self.said.append(SaidItem("speech", text, start_ms, end_ms))
        self._last_activity_ms = end_ms
