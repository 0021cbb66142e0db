"""What the caller has heard: agent audio sent to Twilio, and the marks Twilio echoed (pure).

Twilio plays media in order and echoes a mark once the audio queued before it has played, and
echoes every outstanding mark at once after a ``clear`` (PROTOCOLS A3/A4). The bridge sends a
mark after the chunk that completes each :data:`MARK_INTERVAL_MS` of an item (and after an item's
last chunk), so an echo places the caller's ear within that interval: 8 bytes a millisecond for
μ-law. A mark is named ``<item id>:<cumulative ms>:<generation>``:

- *item id* and *cumulative ms*: how much of that agent item had been sent when the mark was;
  its echo moves the item's played position there (and every earlier mark's item to theirs).
- *generation*: the playback generation, one more after every cut (barge-in, opt-out, machine).
  An echo from an earlier generation is stale (Twilio echoing cleared marks) and changes nothing;
  audio of a response that started in an earlier generation arrived late and is not played.

:class:`PlaybackTracker` is that bookkeeping (pure); :class:`TwilioPlayback` sends the audio, the
marks and the ``clear`` that go with it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from bridge.metrics import CallClock
from bridge.twilio_protocol import MediaStreamPort, clear_message, mark_message, media_message

BYTES_PER_MS = 8
MARK_INTERVAL_MS = 100
"""Most audio (ms) of one item between two marks: the played position is never older than this."""
_MARK_BYTES = MARK_INTERVAL_MS * BYTES_PER_MS


@dataclass
class _Item:
    received_bytes: int = 0  # every chunk the agent sent, played or dropped
    sent_bytes: int = 0  # queued at Twilio
    marked_bytes: int = 0  # position of the last mark sent
    played_bytes: int = 0  # position of the last mark echoed
    heard_ms: int | None = None  # set when the item was cut short


@dataclass(frozen=True)
class Cut:
    """An item whose playback was cut short.

    Attributes:
        item_id: the agent's item.
        heard_ms: how much of it the caller heard (ms from its start), from the echoed marks.
    """

    item_id: str
    heard_ms: int


def _unplayed(item: _Item) -> bool:
    return item.heard_ms is None and item.sent_bytes > item.played_bytes


def payload_bytes(payload_b64: str) -> int:
    """Decoded size of a base64 payload, without decoding it (runs on every agent chunk)."""
    return (len(payload_b64) * 3) // 4 - payload_b64[-2:].count("=")


class PlaybackTracker:
    """Bookkeeping of sent and played agent audio for one call.

    Attributes:
        generation: the playback generation (0 at the start, one more after every :meth:`cut`).
    """

    def __init__(self) -> None:
        self.generation = 0
        self._items: dict[str, _Item] = {}
        self._marks: deque[tuple[str, str, int]] = deque()  # (name, item id, position in bytes)

    def sent(self, item_id: str, generation: int, payload_b64: str) -> tuple[bool, str | None]:
        """Record a chunk of ``item_id`` from a response that started in ``generation``.

        Returns:
            ``(play, mark)``: whether to send the chunk to Twilio (False for a late chunk of a
            response started before the last cut), and the name of the mark to send after it
            (None when no mark is due yet).
        """
        item = self._items.setdefault(item_id, _Item())
        size = payload_bytes(payload_b64)
        item.received_bytes += size
        if generation < self.generation or item.heard_ms is not None:
            if item.heard_ms is None:  # a new item of a response cut short: none of it is heard
                item.heard_ms = item.played_bytes // BYTES_PER_MS
            return False, None
        item.sent_bytes += size
        if item.sent_bytes - item.marked_bytes < _MARK_BYTES:
            return True, None
        return True, self._mark(item_id, item)

    def finish(self, item_ids: Iterable[str]) -> list[str]:
        """Names of the marks to send after the last chunk of each of ``item_ids`` (their tails)."""
        names = []
        for item_id in item_ids:
            item = self._items.get(item_id)
            if item is not None and item.heard_ms is None and item.sent_bytes > item.marked_bytes:
                names.append(self._mark(item_id, item))
        return names

    def _mark(self, item_id: str, item: _Item) -> str:
        item.marked_bytes = item.sent_bytes
        name = f"{item_id}:{item.sent_bytes // BYTES_PER_MS}:{self.generation}"
        self._marks.append((name, item_id, item.sent_bytes))
        return name

    def echoed(self, name: str) -> bool:
        """Apply a mark echo (and every earlier mark); False for a stale, unknown or malformed mark."""
        _, _, generation = name.rpartition(":")
        if generation != str(self.generation) or not any(mark == name for mark, _, _ in self._marks):
            return False
        while self._marks:
            mark, item_id, position = self._marks.popleft()
            self._items[item_id].played_bytes = position
            if mark == name:
                break
        return True

    @property
    def unplayed(self) -> bool:
        """True while some sent audio has not been confirmed played."""
        return any(_unplayed(item) for item in self._items.values())

    def playing(self, item_ids: Iterable[str]) -> bool:
        """True when any of ``item_ids`` still has unplayed audio."""
        return any(item_id in self._items and _unplayed(self._items[item_id]) for item_id in item_ids)

    def cut(self, generating: Iterable[str] = ()) -> list[Cut]:
        """End the current generation (after a Twilio ``clear``): forget unplayed audio.

        Args:
            generating: items of responses still under way (their audio may have played to
                the end so far, yet more of it was generated than the caller will hear).

        Returns:
            Every item cut short (unplayed audio, or still generating), with what was heard.
        """
        still = set(generating)
        cuts = []
        for item_id, item in self._items.items():
            if item.heard_ms is None and (_unplayed(item) or item_id in still):
                item.heard_ms = item.played_bytes // BYTES_PER_MS
                cuts.append(Cut(item_id, item.heard_ms))
        self._marks.clear()
        self.generation += 1
        return cuts

    def heard_ms(self, item_id: str) -> int | None:
        """What the caller heard of ``item_id`` (ms) if it was cut short, else None."""
        item = self._items.get(item_id)
        return None if item is None else item.heard_ms

    def received_ms(self, item_id: str) -> int:
        """All the audio of ``item_id`` the agent sent (ms), including chunks never played."""
        item = self._items.get(item_id)
        return 0 if item is None else item.received_bytes // BYTES_PER_MS


class TwilioPlayback:
    """Agent audio to Twilio, its marks, and ``clear`` to cut it (PROTOCOLS A3/A4).

    Args:
        port: the call's media stream.
        stream_sid: Twilio's ``streamSid``.
        tracker: the call's playback bookkeeping.
        clock: the call's latency clock (first audio, turn latency).
    """

    def __init__(
        self, port: MediaStreamPort, stream_sid: str, tracker: PlaybackTracker, clock: CallClock
    ) -> None:
        self._port = port
        self._stream_sid = stream_sid
        self._tracker = tracker
        self._clock = clock
        self._last_item: str | None = None

    async def send(self, item_id: str, generation: int, payload_b64: str) -> bool:
        """Queue one base64 μ-law chunk of ``item_id`` for playback (and a mark, when one is due).

        Returns:
            False when the chunk was dropped: its response started before the last cut.
        """
        play, mark = self._tracker.sent(item_id, generation, payload_b64)
        if not play:
            return False
        if self._last_item is not None and self._last_item != item_id:
            await self.finish([self._last_item])  # the item before ended: its tail gets its mark
        self._last_item = item_id
        await self._port.send(media_message(self._stream_sid, payload_b64))
        if mark is not None:
            await self._port.send(mark_message(self._stream_sid, mark))
        self._clock.agent_audio()
        return True

    async def finish(self, item_ids: Iterable[str]) -> None:
        """Mark the end of each item's audio sent so far, so its last echo says it all played."""
        for name in self._tracker.finish(item_ids):
            await self._port.send(mark_message(self._stream_sid, name))

    async def cut(self, generating: Iterable[str] = ()) -> list[Cut]:
        """Cut whatever has not played yet (``clear`` if Twilio holds any); the items cut short."""
        if self._tracker.unplayed:
            await self._port.send(clear_message(self._stream_sid))
        return self._tracker.cut(generating)
