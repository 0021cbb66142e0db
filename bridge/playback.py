"""What the caller has heard: agent audio sent to Twilio, and the marks Twilio echoed (pure).

Twilio plays media in order and echoes a mark once the audio queued before it has played
(PROTOCOLS A3/A4). The bridge sends one mark after every chunk, so the echoes say exactly how
many bytes of each agent item reached the caller's ear: 8 bytes a millisecond for μ-law.
:class:`PlaybackTracker` is that bookkeeping (pure); :class:`TwilioPlayback` sends the audio, the
marks and the ``clear`` that go with it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from bridge.metrics import CallClock
from bridge.twilio_protocol import MediaStreamPort, clear_message, mark_message, media_message

BYTES_PER_MS = 8


@dataclass
class _Item:
    sent_bytes: int = 0
    played_bytes: int = 0


def payload_bytes(payload_b64: str) -> int:
    """Decoded size of a base64 payload, without decoding it."""
    return (len(payload_b64) * 3) // 4 - payload_b64.count("=")


class PlaybackTracker:
    """Bookkeeping of sent and played agent audio for one call."""

    def __init__(self) -> None:
        self._marks: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._items: dict[str, _Item] = {}
        self._dropped: set[str] = set()
        self._seq = 0

    def dropped(self, item_id: str) -> bool:
        """True for an item whose unplayed audio was cleared: its late chunks must not be sent."""
        return item_id in self._dropped

    def sent(self, item_id: str, payload_b64: str) -> str:
        """Record a chunk sent to Twilio; return the name of the mark to send after it."""
        size = payload_bytes(payload_b64)
        self._items.setdefault(item_id, _Item()).sent_bytes += size
        self._seq += 1
        name = f"{item_id}:{self._seq}"
        self._marks[name] = (item_id, size)
        return name

    def echoed(self, name: str) -> bool:
        """Apply a mark echo (and every earlier mark); False for an unknown or cleared mark."""
        if name not in self._marks:
            return False
        while self._marks:
            mark, (item_id, size) = self._marks.popitem(last=False)
            self._items[item_id].played_bytes += size
            if mark == name:
                break
        return True

    @property
    def unplayed(self) -> bool:
        """True while some sent audio has not been confirmed played."""
        return bool(self._marks)

    def playing(self, item_ids: list[str]) -> bool:
        """True when any of ``item_ids`` still has unplayed audio."""
        pending = {item for item, _ in self._marks.values()}
        return any(item in pending for item in item_ids)

    def clear(self) -> list[tuple[str, int]]:
        """Forget unplayed audio (after a Twilio ``clear``).

        Returns:
            ``(item_id, heard_ms)`` for every item cut short, for truncating the agent's memory.
        """
        cut = list(dict.fromkeys(item for item, _ in self._marks.values()))
        self._marks.clear()
        self._dropped.update(cut)
        return [
            (item_id, self._items[item_id].played_bytes // BYTES_PER_MS)
            for item_id in cut
            if self._items[item_id].played_bytes < self._items[item_id].sent_bytes
        ]


class TwilioPlayback:
    """Agent audio to Twilio, a mark after each chunk, and ``clear`` to cut it (PROTOCOLS A3/A4).

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

    async def send(self, item_id: str, payload_b64: str) -> None:
        """Queue one base64 μ-law chunk of ``item_id`` for playback, then its mark."""
        mark = self._tracker.sent(item_id, payload_b64)
        await self._port.send(media_message(self._stream_sid, payload_b64))
        await self._port.send(mark_message(self._stream_sid, mark))
        self._clock.agent_audio()

    async def clear(self) -> list[tuple[str, int]]:
        """Cut whatever has not played yet; ``(item_id, heard_ms)`` for each item cut short."""
        if not self._tracker.unplayed:
            return []
        await self._port.send(clear_message(self._stream_sid))
        return self._tracker.clear()
