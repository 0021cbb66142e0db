"""AssemblyAI replies as the bridge sees them: wire events -> :mod:`bridge.agent` events (PROTOCOLS E).

:class:`ReplyTranslator` holds the little state the mapping needs, because AssemblyAI's events
carry less than the bridge's interface asks for:

- ``reply_id`` / ``item_id`` are optional on the wire (E1 shows neither, E4 says they exist): the
  reply in progress is remembered from ``reply.started`` and fills them in; a reply's audio without
  an ``item_id`` is one item named after the reply. Audio that arrives with no ``reply.started``
  opens a reply of its own, so playback accounting never loses it.
- Cancelling is local (the protocol has no ``reply.cancel``, E2): a *muted* reply's further
  ``reply.audio`` is dropped here and its ``reply.done`` reads ``cancelled`` / ``client_cancelled``.
  ``reply.done`` ``interrupted`` (the server's own barge-in) reads ``cancelled`` / ``turn_detected``.
- ``reply.error`` (E4) ends the reply in progress as ``failed``, so the bridge never waits for a
  ``reply.done`` that will not come; a later ``reply.done`` for it is ignored.
- What the caller heard of an item is estimated from ``transcript.agent.delta`` spans (``end_ms``)
  when the server sends them, else proportionally from the final transcript and the audio length
  (μ-law: 8 bytes per ms).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from dataclasses import dataclass, field

from bridge import assemblyai_events as wire
from bridge.agent import (
    AgentAudio,
    AgentEvent,
    AgentProblem,
    AgentSaid,
    CallerSaid,
    CallerSpeechStarted,
    CallerSpeechStopped,
    ResponseFinished,
    ResponseStarted,
    ToolCall,
)
from bridge.heard import heard_text
from bridge.playback import BYTES_PER_MS

FATAL_ERROR_CODES = frozenset(
    {
        "unauthorized",
        "invalid_api_key",
        "insufficient_balance",
        "session_expired",
        "session_not_found",
        "max_session_duration_exceeded",
        "internal_error",
    }
)
"""``session.error`` codes after which the session cannot go on (others are logged, the call goes on)."""


@dataclass
class SpokenItem:
    """One item of agent speech: its audio length and transcript, for truncation and resume."""

    audio_ms: float = 0.0
    text: str = ""
    spans: list[tuple[int, str]] = field(default_factory=list)  # (end_ms, delta)

    def heard(self, audio_end_ms: int) -> str:
        """What the caller heard of this item when playback stopped at ``audio_end_ms``."""
        if self.spans:
            return "".join(delta for end_ms, delta in self.spans if end_ms <= audio_end_ms).strip()
        return heard_text(self.text, audio_end_ms, self.audio_ms)


class ReplyTranslator:
    """Maps AssemblyAI server events to the bridge's agent events for one call (across reconnects)."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.items: dict[str, SpokenItem] = {}
        self._item_of_reply: dict[str, str] = {}
        self._muted: set[str] = set()
        self._finished: set[str] = set()
        self._numbers = itertools.count(1)

    def mute_current(self) -> bool:
        """Stop playing the reply in progress (the bridge's cancel); False when none is on."""
        if self.current is None:
            return False
        self._muted.add(self.current)
        return True

    def abandon_current(self, reason: str) -> list[AgentEvent]:
        """The socket dropped mid-reply: end that reply as ``failed`` for the bridge."""
        if self.current is None:
            return []
        return self._finish(self.current, "failed", reason)

    def translate(self, event: wire.ServerEvent) -> list[AgentEvent]:
        """The bridge events for one server event (often none)."""
        match event:
            case wire.ReplyStarted():
                return self._start(event.reply_id)
            case wire.ReplyAudio():
                return self._audio(event)
            case wire.AgentTranscriptDelta():
                self._delta(event)
            case wire.AgentTranscript():
                return self._said(event)
            case wire.ToolCallEvent():
                opened = self._start(None) if self.current is None else []
                assert self.current is not None
                arguments = json.dumps(event.arguments)
                return [*opened, ToolCall(self.current, event.call_id, event.name, arguments)]
            case wire.ReplyDone():
                return self._done(event)
            case _:
                return self._other(event)
        return []

    def _other(self, event: wire.ServerEvent) -> list[AgentEvent]:
        match event:
            case wire.SpeechStarted():
                return [CallerSpeechStarted(audio_start_ms=event.audio_start_ms)]
            case wire.SpeechStopped():
                return [CallerSpeechStopped(audio_end_ms=event.audio_end_ms)]
            case wire.UserTranscript():
                return [CallerSaid(text=event.text)]
            case wire.ErrorEvent():
                return self._error(event)
            case wire.SessionEnded():
                message = f"session ended after {event.session_duration_seconds} s"
                return [AgentProblem(code="session_ended", message=message, fatal=True)]
            case wire.UntypedError():
                return [AgentProblem(code="untyped_error", message=event.raw, fatal=False)]
            case wire.InvalidServerEvent():
                return [AgentProblem(code="invalid_server_event", message=event.problem, fatal=False)]
        return []

    def _start(self, reply_id: str | None) -> list[AgentEvent]:
        if self.current is not None and reply_id == self.current:
            return []
        self.current = reply_id or f"reply_local_{next(self._numbers)}"
        return [ResponseStarted(response_id=self.current)]

    def _audio(self, event: wire.ReplyAudio) -> list[AgentEvent]:
        opened = (
            self._start(event.reply_id)
            if self.current is None or (event.reply_id and event.reply_id != self.current)
            else []
        )
        reply_id = self.current
        assert reply_id is not None
        item_id = self._item_of_reply.setdefault(reply_id, event.item_id or reply_id)
        try:
            size = len(base64.b64decode(event.data, validate=True))
        except (binascii.Error, ValueError):
            problem = AgentProblem(code="invalid_audio", message="reply.audio is not base64", fatal=False)
            return [*opened, problem]
        self.items.setdefault(item_id, SpokenItem()).audio_ms += size / BYTES_PER_MS
        if reply_id in self._muted:
            return opened  # generated (the transcript covers it) but never played
        return [*opened, AgentAudio(response_id=reply_id, item_id=item_id, payload=event.data)]

    def _delta(self, event: wire.AgentTranscriptDelta) -> None:
        reply_id = event.reply_id or self.current
        if reply_id is None or event.end_ms is None:
            return
        item_id = self._item_of_reply.setdefault(reply_id, reply_id)
        self.items.setdefault(item_id, SpokenItem()).spans.append((event.end_ms, event.delta))

    def _said(self, event: wire.AgentTranscript) -> list[AgentEvent]:
        reply_id = event.reply_id or self.current
        if reply_id is None:
            return []
        item_id = self._item_of_reply.setdefault(reply_id, event.item_id or reply_id)
        item = self.items.setdefault(item_id, SpokenItem())
        item.text = event.text
        return [
            AgentSaid(response_id=reply_id, item_id=item_id, text=event.text, audio_ms=round(item.audio_ms))
        ]

    def _done(self, event: wire.ReplyDone) -> list[AgentEvent]:
        reply_id = event.reply_id or self.current
        if reply_id is None or reply_id in self._finished:
            return []
        if event.status == "interrupted":
            return self._finish(reply_id, "cancelled", "turn_detected")
        if reply_id in self._muted:
            return self._finish(reply_id, "cancelled", "client_cancelled")
        return self._finish(reply_id, event.status, None)

    def _error(self, event: wire.ErrorEvent) -> list[AgentEvent]:
        code = event.error_code
        problem = AgentProblem(code=code, message=event.error_message, fatal=code in FATAL_ERROR_CODES)
        if event.type == "reply.error" and self.current is not None:
            return [problem, *self._finish(self.current, "failed", code)]
        return [problem]

    def _finish(self, reply_id: str, status: str, reason: str | None) -> list[AgentEvent]:
        self._finished.add(reply_id)
        self._muted.discard(reply_id)
        if self.current == reply_id:
            self.current = None
        return [ResponseFinished(response_id=reply_id, status=status, reason=reason)]
