"""What the caller has heard so far on one call: the seed of a replacement agent session.

Pure bookkeeping, no I/O. :class:`bridge.reconnect.ResilientConnection` feeds it the agent events
and commands of one call; after a dropped socket, the adapter seeds a fresh session from
:meth:`CallHistory.turns` (OpenAI Realtime GA: ``conversation.item.create`` per turn, PROTOCOLS D4,
D7 "reconnect with a fresh session and a rebuilt context") or :meth:`CallHistory.transcript`
(AssemblyAI: appended to the prompt when ``session.resume`` is refused, PROTOCOLS E4).

An agent item the caller cut short (a barge-in the bridge truncated to ``audio_end_ms``) counts
only as far as it was heard: the whole words of the same share of its transcript as of its audio
(μ-law 8 kHz, 8 bytes per ms; :func:`bridge.heard.heard_text`, as the record's heard text). What
was heard is the playback's word when it has one (``heard_ms``, the call's
:meth:`bridge.playback.PlaybackTracker.heard_ms`): a late chunk of a response cut before it
started an item is never played, and no truncation is sent for it, yet it was cut (at 0 ms).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bridge.heard import heard_text
from bridge.playback import BYTES_PER_MS, payload_bytes

RECONNECTED_NOTE = (
    "\n\nThe call was reconnected after a technical fault. Continue it where it stopped; do not "
    "greet or introduce yourself again."
)
"""Appended to the instructions of a session that replaces a dropped one (both backends)."""

TurnKind = Literal["caller", "agent", "tool_call", "tool_output"]


@dataclass(frozen=True)
class HeardTurn:
    """One entry of the call so far, oldest first.

    Attributes:
        kind: ``caller`` (a transcribed caller turn), ``agent`` (what the caller heard of one agent
            item), ``tool_call`` (``name`` called with the JSON ``text``) or ``tool_output`` (the
            result ``text`` of ``call_id``).
        text: the words, the arguments (JSON text) or the output.
        call_id: the tool call's id (tool entries only).
        name: the tool's name (``tool_call`` only).
    """

    kind: TurnKind
    text: str
    call_id: str = ""
    name: str = ""


@dataclass
class _AgentItem:
    text: str = ""
    audio_bytes: int = 0
    heard_ms: int | None = None  # set by a truncation

    def heard(self, played_ms: int | None) -> str:
        heard_ms = self.heard_ms if played_ms is None else played_ms
        if heard_ms is None:
            return self.text
        return heard_text(self.text, heard_ms, self.audio_bytes / BYTES_PER_MS)


class CallHistory:
    """The turns of one call in order, agent items as far as the caller heard them.

    Args:
        heard_ms: what the caller heard of an agent item cut short (ms), None if it was not
            (the call's :meth:`bridge.playback.PlaybackTracker.heard_ms`); it overrides
            :meth:`truncated`. None: only truncations count.
    """

    def __init__(self, heard_ms: Callable[[str], int | None] | None = None) -> None:
        self._played_ms = heard_ms
        self._order: list[tuple[TurnKind, str]] = []  # (kind, key): key = item id, call id or index
        self._items: dict[str, _AgentItem] = {}
        self._texts: list[str] = []
        self._calls: dict[str, tuple[str, str]] = {}  # call id -> (name, arguments)
        self._outputs: dict[str, str] = {}

    def caller_said(self, text: str) -> None:
        """A caller turn was transcribed."""
        if text.strip():
            self._texts.append(text.strip())
            self._order.append(("caller", str(len(self._texts) - 1)))

    def agent_audio(self, item_id: str, payload_b64: str) -> None:
        """A chunk of the agent's audio (base64 μ-law) for ``item_id`` went to the caller."""
        self._items.setdefault(item_id, _AgentItem()).audio_bytes += payload_bytes(payload_b64)

    def agent_said(self, item_id: str, text: str) -> None:
        """The transcript of agent item ``item_id`` is complete."""
        item = self._items.setdefault(item_id, _AgentItem())
        if not item.text:
            self._order.append(("agent", item_id))
        item.text = text

    def truncated(self, item_id: str, audio_end_ms: int) -> None:
        """The caller heard only the first ``audio_end_ms`` ms of ``item_id``."""
        self._items.setdefault(item_id, _AgentItem()).heard_ms = max(0, audio_end_ms)

    def tool_called(self, call_id: str, name: str, arguments: str) -> None:
        """The agent called ``name`` with ``arguments`` (JSON text)."""
        if call_id not in self._calls:
            self._calls[call_id] = (name, arguments)
            self._order.append(("tool_call", call_id))

    def tool_returned(self, call_id: str, output: str) -> None:
        """The bridge returned ``output`` for ``call_id``."""
        if call_id in self._calls and call_id not in self._outputs:
            self._outputs[call_id] = output
            self._order.append(("tool_output", call_id))

    def has_call(self, call_id: str) -> bool:
        """True when ``call_id`` was already called (a repeat must not run the tool again)."""
        return call_id in self._calls

    def turns(self) -> list[HeardTurn]:
        """The call so far, oldest first; agent items cut to what was heard, unheard ones left out."""
        turns: list[HeardTurn] = []
        for kind, key in self._order:
            if kind == "caller":
                turns.append(HeardTurn("caller", self._texts[int(key)]))
            elif kind == "agent":
                heard = self._items[key].heard(self._played_ms(key) if self._played_ms else None)
                if heard:
                    turns.append(HeardTurn("agent", heard))
            elif kind == "tool_call":
                name, arguments = self._calls[key]
                turns.append(HeardTurn("tool_call", arguments, call_id=key, name=name))
            else:
                turns.append(HeardTurn("tool_output", self._outputs[key], call_id=key))
        return turns

    def transcript(self) -> str:
        """The call so far as text, one line per turn (``Caller: ...`` / ``Agent: ...``)."""
        names = {call_id: name for call_id, (name, _) in self._calls.items()}
        lines = []
        for turn in self.turns():
            if turn.kind == "caller":
                lines.append(f"Caller: {turn.text}")
            elif turn.kind == "agent":
                lines.append(f"Agent: {turn.text}")
            elif turn.kind == "tool_call":
                lines.append(f"(The agent called {turn.name} with {turn.text}.)")
            else:
                lines.append(f"({names.get(turn.call_id, 'The tool')} returned {turn.text}.)")
        return "\n".join(lines)
