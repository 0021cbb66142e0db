"""Twilio Media Streams messages: wire JSON <-> typed events (pure; PROTOCOLS A3/A4).

Inbound messages are validated pydantic models dispatched on ``event``; numeric fields arrive as
strings and are converted here. Outbound builders produce the exact JSON Twilio expects (``media``
without a track, ``mark`` always with a name, ``clear``).
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from dialer.errors import ProtocolError as ProtocolError


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Connected(_Wire):
    """First message on the socket."""

    event: Literal["connected"]
    protocol: str = "Call"
    version: str = ""


class MediaFormat(_Wire):
    """Audio format of the stream (always μ-law, 8000 Hz, mono for Twilio)."""

    encoding: str
    sample_rate: int = Field(alias="sampleRate")
    channels: int


class StartInfo(_Wire):
    """The ``start`` payload: identifiers and the TwiML ``<Parameter>`` values."""

    account_sid: str = Field(alias="accountSid")
    stream_sid: str = Field(alias="streamSid")
    call_sid: str = Field(alias="callSid")
    tracks: list[str] = []
    media_format: MediaFormat = Field(alias="mediaFormat")
    custom_parameters: dict[str, str] = Field(default_factory=dict, alias="customParameters")


class Start(_Wire):
    """Sent once, after ``connected``."""

    event: Literal["start"]
    sequence_number: int = Field(alias="sequenceNumber")
    start: StartInfo
    stream_sid: str = Field(alias="streamSid")


class MediaPayload(_Wire):
    """One chunk of inbound audio: base64 μ-law; ``timestamp`` in ms since the stream started."""

    track: str = "inbound"
    chunk: int
    timestamp: int
    payload: str


class Media(_Wire):
    """Caller audio."""

    event: Literal["media"]
    sequence_number: int = Field(alias="sequenceNumber")
    media: MediaPayload
    stream_sid: str = Field(alias="streamSid")


class DtmfPayload(_Wire):
    """A key press."""

    track: str = "inbound_track"
    digit: str


class Dtmf(_Wire):
    """The caller pressed a key."""

    event: Literal["dtmf"]
    sequence_number: int = Field(alias="sequenceNumber")
    dtmf: DtmfPayload
    stream_sid: str = Field(alias="streamSid")


class MarkPayload(_Wire):
    """The name of a mark."""

    name: str


class Mark(_Wire):
    """Echo of a mark we sent: the audio queued before it has played (or was cleared)."""

    event: Literal["mark"]
    sequence_number: int = Field(alias="sequenceNumber")
    mark: MarkPayload
    stream_sid: str = Field(alias="streamSid")


class Stop(_Wire):
    """The stream stopped (the call ended)."""

    event: Literal["stop"]
    sequence_number: int = Field(alias="sequenceNumber")
    stream_sid: str = Field(alias="streamSid")


TwilioEvent = Annotated[Connected | Start | Media | Dtmf | Mark | Stop, Field(discriminator="event")]
_ADAPTER: TypeAdapter[Connected | Start | Media | Dtmf | Mark | Stop] = TypeAdapter(TwilioEvent)


def parse_message(raw: str | bytes) -> Connected | Start | Media | Dtmf | Mark | Stop:
    """Parse one text frame from Twilio.

    Raises:
        ProtocolError: invalid JSON, an unknown ``event``, or missing/ill-typed fields.
    """
    try:
        return _ADAPTER.validate_json(raw)  # pydantic's own parser: no dict built in between
    except (ValueError, ValidationError) as exc:
        raise ProtocolError(f"not a Media Streams message: {str(exc)[:300]}") from None


def media_message(stream_sid: str, payload_b64: str) -> dict[str, Any]:
    """Audio to play to the caller (base64 μ-law 8 kHz, no header)."""
    return {"event": "media", "streamSid": stream_sid, "media": {"payload": payload_b64}}


def mark_message(stream_sid: str, name: str) -> dict[str, Any]:
    """A mark Twilio echoes once the audio sent before it has played."""
    return {"event": "mark", "streamSid": stream_sid, "mark": {"name": name}}


def clear_message(stream_sid: str) -> dict[str, Any]:
    """Drop the audio Twilio has buffered (barge-in); pending marks are echoed."""
    return {"event": "clear", "streamSid": stream_sid}


class MediaStreamPort(Protocol):
    """The Twilio side of a call as the session sees it (the WebSocket route implements it)."""

    async def receive(self) -> Media | Mark | Dtmf | Stop | None:
        """The next message after ``start``; None once the socket has closed."""
        ...

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON message (media, mark, clear)."""
        ...

    async def close(self) -> None:
        """Close the socket (with nothing after ``</Connect>``, this ends the call)."""
        ...


SILENCE = b"\xff"
"""One sample of μ-law silence (digital zero); 8 samples make a millisecond at 8 kHz."""
MAX_GAP_FILL_MS = 2000
"""The longest gap filled at once: a timestamp far ahead of the stream is not a reason to send minutes."""


class AudioTimeline:
    """Caller audio as one unbroken timeline: gaps in Twilio's media timestamps become silence.

    Twilio stamps each inbound chunk with its ms since the stream started (PROTOCOLS A3); a lost or
    late packet shows up as a jump. The agent's VAD and transcription expect continuous audio, so a
    jump of a frame (20 ms) or more is filled with μ-law silence, at most :data:`MAX_GAP_FILL_MS` at a
    time. A chunk stamped earlier than expected (reordered) is passed on unchanged. Pure.
    """

    def __init__(self) -> None:
        self._next_ms: int | None = None

    def fill(self, media: Media) -> list[Media]:
        """``media``, preceded by one silent chunk covering the gap before it, if there is one."""
        chunk = media.media
        duration_ms = (len(chunk.payload) * 3 // 4 - chunk.payload.count("=")) // 8
        out: list[Media] = []
        if self._next_ms is not None and chunk.timestamp - self._next_ms >= 20:
            gap_ms = min(chunk.timestamp - self._next_ms, MAX_GAP_FILL_MS)
            silence = base64.b64encode(SILENCE * (gap_ms * 8)).decode()
            out.append(media.model_copy(update={"media": chunk.model_copy(update={"payload": silence})}))
        out.append(media)
        end_ms = chunk.timestamp + duration_ms
        self._next_ms = end_ms if self._next_ms is None else max(self._next_ms, end_ms)
        return out
