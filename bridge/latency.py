"""One call's latencies and the TSR 2-second rule: pure bookkeeping over ``time.monotonic()`` instants.

What is measured (stored on the attempt in ms, :mod:`dialer.calls.latency`):

- **answer**: the carrier's TwiML request (``/twilio/voice``). Twilio fetches the call's TwiML when
  the call connects and, with async AMD, runs it at once (PROTOCOLS B2 ``url``, B3 AsyncAmd).
  When another API process served that request, the answer is the stream's ``start`` message,
  the earliest instant this process knows of.
- **first agent audio**: the first agent audio chunk sent to Twilio.
- **the callee's greeting** (the "completed greeting" of 47 CFR 64.1200(a)(7)(i) and 16 CFR
  310.4(b)(1)(iv); COMPLIANCE_RULES 1.1 "Abandoned calls"): the callee's first utterance heard
  on the stream before the agent's first audio, completed where the agent's VAD says it stopped
  (the audio offset it reports, not when the report arrives). A callee who has said nothing is
  taken to have completed the greeting at the answer: the earliest it could have been, so the
  wait is never counted short. A callee still speaking when the agent starts has not finished the
  greeting: that wait is 0.
- **abandoned (TSR 2-second rule)**: no agent audio within :data:`TSR_MAX_WAIT_S` of the completed
  greeting. It is decided at the deadline itself when no audio has come by then (a callee who
  never hears the agent is counted even if the call lasts), or at the first agent audio; a call
  that ends before the deadline (the callee hung up first) is not abandoned, unless the dialer
  itself hung up on it unheard (``agent_error``, :func:`dialer.calls.latency.record_call_end`).
  The rule is about live answers: a call AMD calls a machine is never counted.
- **turn latency**: a caller turn's end (the VAD's ``speech_stopped``, as the bridge received it)
  to the first agent audio of its answer, once per answered turn.
"""

from __future__ import annotations

from dataclasses import dataclass

TSR_MAX_WAIT_S = 2.0
"""A live answer must hear the seller within 2 s of the completed greeting (47 CFR 64.1200(a)(7)(i))."""


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


@dataclass(frozen=True)
class FirstAudio:
    """What the first agent audio settled.

    Attributes:
        answer_to_first_audio_ms: answer -> first agent audio, ms.
        greeting_to_first_audio_ms: the callee's completed greeting -> first agent audio, ms
            (0 when the callee was still speaking).
        abandoned: the TSR 2-second rule was broken (now or already at its deadline).
    """

    answer_to_first_audio_ms: int
    greeting_to_first_audio_ms: int
    abandoned: bool


class LatencyLog:
    """One call's latency facts, fed with monotonic instants (seconds); no clock, no I/O.

    Args:
        answered_at: the answer (see the module docstring).
        stream_started_at: the stream's ``start``, where the agent's audio offsets begin.
    """

    def __init__(self, *, answered_at: float, stream_started_at: float) -> None:
        self.answered_at = min(answered_at, stream_started_at)
        self._stream_started_at = stream_started_at
        self._greeting_end: float | None = None
        self._speaking = False
        self._turn_ended: float | None = None
        self.first_audio: FirstAudio | None = None
        self.abandoned: bool | None = None
        self.turn_latencies_ms: list[int] = []

    def caller_speech_started(self) -> None:
        """The callee began speaking (it suspends the greeting's deadline until they stop)."""
        if self.first_audio is None and self._greeting_end is None:
            self._speaking = True

    def caller_speech_stopped(self, at: float, audio_end_ms: int | None = None) -> None:
        """The callee stopped speaking; ``audio_end_ms``: where, as an offset in the stream's audio."""
        if self.first_audio is not None or self._greeting_end is not None:
            return
        end = at if audio_end_ms is None else self._stream_started_at + audio_end_ms / 1000
        self._greeting_end = max(self.answered_at, min(at, end))
        self._speaking = False

    def turn_ended(self, at: float) -> None:
        """A caller turn the agent will answer ended: the next agent audio closes its latency."""
        self._turn_ended = at

    def deadline(self) -> float | None:
        """The instant the first agent audio must start by; None once decided or while the callee speaks."""
        if self.first_audio is not None or self.abandoned is not None or self._speaking:
            return None
        return (self.answered_at if self._greeting_end is None else self._greeting_end) + TSR_MAX_WAIT_S

    def expire(self, at: float) -> bool:
        """Apply the deadline at ``at``; True when this call just became abandoned."""
        deadline = self.deadline()
        if deadline is None or at < deadline:
            return False
        self.abandoned = True
        return True

    def agent_audio(self, at: float) -> tuple[FirstAudio | None, float | None]:
        """An agent audio chunk went out at ``at``.

        Returns:
            ``(first, turn)``: the first-audio facts on the call's first chunk (else None), and a
            turn latency in seconds on the first chunk after a caller turn ended (else None).
        """
        first = None
        if self.first_audio is None:
            self.expire(at)
            greeting = at if self._speaking else (self._greeting_end or self.answered_at)
            wait = max(0.0, at - greeting)
            abandoned = bool(self.abandoned) or wait > TSR_MAX_WAIT_S
            self.abandoned = abandoned
            first = self.first_audio = FirstAudio(_ms(at - self.answered_at), _ms(wait), abandoned)
        turn = None
        if self._turn_ended is not None:
            turn = max(0.0, at - self._turn_ended)
            self.turn_latencies_ms.append(_ms(turn))
            self._turn_ended = None
        return first, turn

    def end(self, at: float) -> bool:
        """The call is over at ``at``: settle the rule if no agent audio came; return whether abandoned."""
        if self.abandoned is None:
            self.abandoned = self.expire(at)
        return self.abandoned
