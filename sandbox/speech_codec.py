"""A framed text code carried in G.711 μ-law audio, so scripted speech crosses the real bridge as bytes.

The sandbox carrier's prospects and the sandbox voice agent "speak" by encoding an utterance into
μ-law bytes and "hear" by decoding the bytes they receive. The bridge in between moves the bytes
exactly as it moves real telephone audio (base64 payloads, 8 kHz, 8 bits a sample, 8 bytes a ms).

Layout of one utterance (every symbol is a run of ``k`` identical bytes)::

    SOF (0x40) | data symbols | EOF (0x41)

Data symbols carry the UTF-8 text followed by one CRC-8 byte, high nibble first; a nibble ``n`` is
the byte ``0x20 | toggle << 4 | n`` where ``toggle`` alternates, so two neighbouring symbols never
share a byte value and a decoder finds symbol boundaries without knowing ``k``. Silence between
utterances is ``0xFF`` (μ-law zero). ``k`` stretches the utterance to a speaking time
(``ms_per_char``), which is what makes barge-in, marks and playback timing realistic.
"""

from __future__ import annotations

from dataclasses import dataclass

SILENCE_BYTE = 0xFF
"""μ-law encoding of a zero sample."""
BYTES_PER_MS = 8
"""G.711 at 8 kHz: one byte a sample, eight samples a millisecond."""
FRAME_BYTES = 160
"""One 20 ms Twilio media frame."""

_SOF = 0x40
_EOF = 0x41
_DATA_BASE = 0x20
DEFAULT_MS_PER_CHAR = 12.0
"""Default speaking time per character of text (a fast but audible pace for rehearsals)."""


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def silence(ms: float) -> bytes:
    """``ms`` milliseconds of μ-law silence."""
    return bytes([SILENCE_BYTE]) * int(round(ms * BYTES_PER_MS))


def encode_utterance(text: str, *, ms_per_char: float = DEFAULT_MS_PER_CHAR) -> bytes:
    """Encode ``text`` as μ-law bytes lasting about ``len(text) * ms_per_char`` milliseconds.

    Raises:
        ValueError: for empty text or a non-positive ``ms_per_char``.
    """
    if not text:
        raise ValueError("cannot encode an empty utterance")
    if ms_per_char <= 0:
        raise ValueError("ms_per_char must be positive")
    payload = text.encode("utf-8")
    payload += bytes([_crc8(payload)])
    nibbles = [n for byte in payload for n in (byte >> 4, byte & 0x0F)]
    symbols = [_SOF]
    symbols += [_DATA_BASE | ((i & 1) << 4) | n for i, n in enumerate(nibbles)]
    symbols.append(_EOF)
    total_bytes = len(text) * ms_per_char * BYTES_PER_MS
    run = max(2, int(round(total_bytes / len(symbols))))
    return b"".join(bytes([symbol]) * run for symbol in symbols)


def duration_ms(audio: bytes) -> float:
    """Playing time of μ-law ``audio`` in milliseconds."""
    return len(audio) / BYTES_PER_MS


@dataclass(frozen=True)
class SpeechStarted:
    """An utterance began at ``offset_ms`` (ms of audio fed to the decoder before it)."""

    offset_ms: float


@dataclass(frozen=True)
class SpeechEnded:
    """An utterance ended.

    Attributes:
        text: the decoded text; for an incomplete utterance, the whole characters heard so far.
        complete: True when the end marker arrived and the checksum matched.
        offset_ms: where it ended, in ms of audio fed to the decoder.
    """

    text: str
    complete: bool
    offset_ms: float


DecodedEvent = SpeechStarted | SpeechEnded


class SpeechDecoder:
    """Streaming decoder: feed μ-law bytes in any chunking, get speech start/end events.

    An utterance cut short (silence or a new start marker before its end marker, or :meth:`flush`)
    ends with ``complete=False`` and the text decoded so far, which is what a listener heard
    before a barge-in ``clear``.
    """

    def __init__(self) -> None:
        self._previous: int | None = None
        self._in_utterance = False
        self._nibbles: list[int] = []
        self._bytes_seen = 0

    @property
    def speaking(self) -> bool:
        """True between an utterance's start marker and its end."""
        return self._in_utterance

    @property
    def partial_text(self) -> str:
        """Text of the utterance in progress, as far as decoded (empty outside an utterance)."""
        return self._text(drop_crc=False) if self._in_utterance else ""

    def feed(self, audio: bytes) -> list[DecodedEvent]:
        """Decode the next chunk of audio; return the events it completes, in order."""
        events: list[DecodedEvent] = []
        for byte in audio:
            offset = self._bytes_seen / BYTES_PER_MS
            self._bytes_seen += 1
            if byte == self._previous:
                continue
            self._previous = byte
            if byte == _SOF:
                if self._in_utterance:
                    events.append(self._end(offset, complete=False))
                self._in_utterance = True
                self._nibbles = []
                events.append(SpeechStarted(offset))
            elif byte == _EOF:
                if self._in_utterance:
                    events.append(self._end(offset, complete=True))
            elif _DATA_BASE <= byte < _DATA_BASE + 0x20:
                if self._in_utterance:
                    self._nibbles.append(byte & 0x0F)
            elif self._in_utterance:
                events.append(self._end(offset, complete=False))
        return events

    def flush(self) -> list[DecodedEvent]:
        """End an utterance in progress as incomplete (e.g. its audio was cleared)."""
        self._previous = None
        if not self._in_utterance:
            return []
        return [self._end(self._bytes_seen / BYTES_PER_MS, complete=False)]

    def _payload(self) -> bytes:
        nibbles = self._nibbles
        return bytes((nibbles[i] << 4) | nibbles[i + 1] for i in range(0, len(nibbles) - 1, 2))

    def _text(self, *, drop_crc: bool) -> str:
        data = self._payload()
        return (data[:-1] if drop_crc else data).decode("utf-8", errors="ignore")

    def _end(self, offset: float, *, complete: bool) -> SpeechEnded:
        self._in_utterance = False
        data = self._payload()
        intact = complete and len(self._nibbles) % 2 == 0 and len(data) >= 2 and _crc8(data[:-1]) == data[-1]
        text = self._text(drop_crc=intact)
        self._nibbles = []
        return SpeechEnded(text=text, complete=intact, offset_ms=offset)
