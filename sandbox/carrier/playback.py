"""The carrier's playback queue: audio the app sends down a Media Stream, played out in real time."""

from __future__ import annotations

from collections import deque


class PlaybackBuffer:
    """Buffered outbound μ-law audio plus the marks queued behind it (Twilio's A3/A4 semantics).

    Positions count bytes since the stream started (8 bytes a ms). The stream's clock calls
    :meth:`finished_marks` and then :meth:`play` once a tick, so a mark is released one tick after
    the last byte before it left the buffer: when that audio has finished playing, not when it
    started.
    """

    def __init__(self) -> None:
        self._audio = bytearray()
        self._played = 0
        self._marks: deque[tuple[int, str]] = deque()

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting to be played."""
        return len(self._audio)

    def append(self, audio: bytes) -> None:
        """Queue ``audio`` (raw μ-law) behind what is already buffered."""
        self._audio += audio

    def mark(self, name: str) -> bool:
        """Queue a mark at the end of the buffered audio.

        Args:
            name: the mark's name, echoed back unchanged.

        Returns:
            True when nothing is buffered or pending, so the mark must be echoed at once (it was
            not queued); False when it waits for the audio before it.
        """
        if not self._audio and not self._marks:
            return True
        self._marks.append((self._played + len(self._audio), name))
        return False

    def play(self, max_bytes: int) -> bytes:
        """Take up to ``max_bytes`` from the front of the buffer: the audio played this tick."""
        chunk = bytes(self._audio[:max_bytes])
        del self._audio[:max_bytes]
        self._played += len(chunk)
        return chunk

    def finished_marks(self) -> list[str]:
        """Remove and return, in order, the marks whose preceding audio has all been played."""
        names: list[str] = []
        while self._marks and self._marks[0][0] <= self._played:
            names.append(self._marks.popleft()[1])
        return names

    def clear(self) -> list[str]:
        """Drop all buffered audio; remove and return every pending mark, in order."""
        self._audio.clear()
        names = [name for _, name in self._marks]
        self._marks.clear()
        return names
