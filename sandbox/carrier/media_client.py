"""The carrier side of a bidirectional Media Stream (``<Connect><Stream>``), per PROTOCOLS A2-A10.

The carrier dials the app's WebSocket, sends ``connected`` and ``start``, then one inbound
``media`` frame (160 bytes of μ-law, 20 ms) per tick from a monotonic clock, carrying the
prospect's voice. It plays the app's ``media`` through a :class:`PlaybackBuffer` in real time,
echoes ``mark``s once their audio has played (all at once on ``clear``) and lets the prospect
hear exactly what played. Stream time (``timestamp``) is ms since ``start``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from sandbox.carrier.callbacks import CallCallbacks
from sandbox.carrier.config import CarrierConfig
from sandbox.carrier.playback import PlaybackBuffer
from sandbox.carrier.records import CallRecord, utc_now
from sandbox.carrier.twiml import ConnectStream
from sandbox.carrier.webhooks import WebhookSender
from sandbox.speech_codec import BYTES_PER_MS, FRAME_BYTES

FRAME_MS = FRAME_BYTES // BYTES_PER_MS
"""Length of one inbound media frame: 20 ms."""
_APP_EVENTS = frozenset({"media", "mark", "clear"})
_WS_SCHEMES = {"http": "ws", "https": "wss"}


def resolve_stream_url(twiml_url: str, stream_url: str) -> str:
    """The absolute WebSocket URL of a ``<Stream url>``, which may be relative to the TwiML URL.

    An absolute URL is returned exactly as written; it is also what the handshake's
    ``x-twilio-signature`` signs (with no parameters).
    """
    if urlsplit(stream_url).scheme:
        return stream_url
    parts = urlsplit(urljoin(twiml_url, stream_url))
    return urlunsplit(parts._replace(scheme=_WS_SCHEMES.get(parts.scheme, parts.scheme)))


@dataclass(frozen=True)
class StreamOutcome:
    """How a Media Stream ended.

    Attributes:
        ended_by: ``"app"`` (the app closed the socket: ``<Connect>`` is over), ``"carrier"``
            (the call ended, ``stop`` was sent) or ``"rejected"`` (no connection was made).
        detail: a short explanation for the call log.
    """

    ended_by: str
    detail: str


class MediaStreamClient:
    """Runs one call's Media Stream from handshake to close."""

    def __init__(
        self,
        *,
        record: CallRecord,
        stream: ConnectStream,
        callbacks: CallCallbacks,
        sender: WebhookSender,
        config: CarrierConfig,
    ):
        """Prepare the stream for ``record`` as ``<Stream>`` describes it."""
        self._record = record
        self._stream = stream
        self._url = resolve_stream_url(record.request.url, stream.url)
        self._callbacks = callbacks
        self._sender = sender
        self._config = config
        self._stream_sid = "MZ" + uuid.uuid4().hex
        self._playback = PlaybackBuffer()
        self._send_lock = asyncio.Lock()
        self._sequence = 0
        self._t0 = 0.0

    async def run(self) -> StreamOutcome:
        """Connect, exchange audio until the app closes the socket or the call ends, then close.

        Returns:
            Who ended the stream. Never raises for network or protocol trouble; that is logged.
        """
        stats = self._record.stream
        stats.stream_sid, stats.url = self._stream_sid, self._url
        stats.custom_parameters = dict(self._stream.parameters)
        if urlsplit(self._stream.url).query:
            self._record.stream_url_query_violation = True
            self._record.violation(
                "query string on <Stream url> (Twilio does not support it; use <Parameter>)"
            )
        headers = {"x-twilio-signature": self._sender.sign(self._url, {})}
        try:
            websocket = await connect(
                self._url,
                additional_headers=headers,
                open_timeout=self._config.stream_open_timeout_seconds,
                close_timeout=2,
                max_size=None,
                compression=None,
                user_agent_header="Twilio.TmeWs/1.0",
            )
        except InvalidStatus as exc:
            return self._rejected(f"31920 handshake answered HTTP {exc.response.status_code}")
        except (InvalidHandshake, InvalidURI, OSError, TimeoutError) as exc:
            return self._rejected(f"could not connect: {type(exc).__name__}: {exc}")
        self._record.log("stream_connected", url=self._url, stream_sid=self._stream_sid)
        self._stream_status("stream-started")
        try:
            outcome = await self._converse(websocket)
        finally:
            await websocket.close()
        stats.stopped_by = outcome.ended_by
        self._record.log("stream_ended", ended_by=outcome.ended_by, detail=outcome.detail)
        self._stream_status("stream-stopped")
        return outcome

    def _rejected(self, detail: str) -> StreamOutcome:
        self._record.stream.stopped_by = "rejected"
        self._record.log("stream_rejected", url=self._url, detail=detail)
        self._stream_status("stream-error", error=detail)
        return StreamOutcome("rejected", detail)

    def _stream_status(self, event: str, error: str | None = None) -> None:
        url = self._stream.status_callback
        if not url:
            return
        params = {
            "AccountSid": self._record.account_sid,
            "CallSid": self._record.sid,
            "StreamSid": self._stream_sid,
            "StreamName": self._stream.name or self._stream_sid,
            "StreamEvent": event,
            "Timestamp": utc_now().isoformat().replace("+00:00", "Z"),
        }
        if error is not None:
            params["StreamError"] = error
        stream = self._stream
        self._callbacks.fire("stream", url, params, stream.status_callback_method)

    async def _converse(self, websocket: ClientConnection) -> StreamOutcome:
        loop = asyncio.get_running_loop()
        try:
            await websocket.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
            await self._send(websocket, "start", {"start": self._start_payload()})
        except ConnectionClosed:
            return StreamOutcome("app", "socket closed before start was sent")
        self._t0 = loop.time()
        clock = asyncio.create_task(self._clock(websocket))
        receiver = asyncio.create_task(self._receive(websocket))
        hangup = asyncio.create_task(self._record.wait_ended())
        done, pending = await asyncio.wait({clock, receiver, hangup}, return_when=asyncio.FIRST_COMPLETED)
        if self._record.is_ended:
            stop = {"stop": {"accountSid": self._record.account_sid, "callSid": self._record.sid}}
            try:
                await self._send(websocket, "stop", stop)
            except ConnectionClosed:
                pass
            outcome = StreamOutcome("carrier", f"call ended: {self._record.end_reason}")
        else:
            outcome = StreamOutcome("app", "the app closed the socket")
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()  # surface bugs; the tasks themselves absorb ConnectionClosed
        return outcome

    def _start_payload(self) -> dict[str, Any]:
        return {
            "accountSid": self._record.account_sid,
            "streamSid": self._stream_sid,
            "callSid": self._record.sid,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": dict(self._stream.parameters),
        }

    async def _send(self, websocket: ClientConnection, event: str, body: dict[str, Any]) -> None:
        async with self._send_lock:
            self._sequence += 1
            sequence = str(self._sequence)
            message = {"event": event, "sequenceNumber": sequence, "streamSid": self._stream_sid, **body}
            await websocket.send(json.dumps(message))

    async def _clock(self, websocket: ClientConnection) -> None:
        """Every 20 ms (absolute deadlines, so no drift): play, listen, speak, send a frame."""
        loop = asyncio.get_running_loop()
        prospect = self._record.prospect
        tick = 0
        try:
            while True:
                delay = self._t0 + tick * FRAME_MS / 1000 - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                at_ms = tick * FRAME_MS
                for name in self._playback.finished_marks():
                    await self._echo_mark(websocket, name)
                played = self._playback.play(FRAME_BYTES)
                if played:
                    prospect.hear(played, at_ms)
                frame = prospect.next_frame(at_ms, FRAME_BYTES)
                for digit in prospect.take_digits():
                    await self._send(websocket, "dtmf", {"dtmf": {"track": "inbound_track", "digit": digit}})
                media = {
                    "track": "inbound",
                    "chunk": str(tick + 1),
                    "timestamp": str(at_ms),
                    "payload": base64.b64encode(frame).decode("ascii"),
                }
                await self._send(websocket, "media", {"media": media})
                self._record.stream.media_frames_sent += 1
                if prospect.wants_to_hang_up(at_ms):
                    self._record.end("completed", "the prospect hung up")
                    return
                tick += 1
        except ConnectionClosed:
            return

    async def _receive(self, websocket: ClientConnection) -> None:
        try:
            async for message in websocket:
                await self._handle(websocket, message)
        except ConnectionClosed as exc:
            self._record.log("stream_closed_abnormally", code=exc.rcvd.code if exc.rcvd else None)

    async def _handle(self, websocket: ClientConnection, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            self._record.violation("binary WebSocket frame: Media Streams messages are JSON text")
            return
        try:
            message = json.loads(raw)
        except ValueError:
            self._record.violation("WebSocket message is not JSON")
            return
        event = message.get("event") if isinstance(message, dict) else None
        if event not in _APP_EVENTS:
            self._record.violation(f"unknown event {event!r} from the app (expected media, mark or clear)")
            return
        if message.get("streamSid") != self._stream_sid:
            problem = "without streamSid" if "streamSid" not in message else "with a wrong streamSid"
            self._record.violation(f"{event} message {problem}: ignored")
            return
        if event == "media":
            self._play(message)
        elif event == "mark":
            await self._mark(websocket, message)
        else:
            await self._clear(websocket)

    def _play(self, message: dict[str, Any]) -> None:
        media = message.get("media")
        payload = media.get("payload") if isinstance(media, dict) else None
        if not isinstance(payload, str):
            self._record.violation("media message without media.payload")
            return
        try:
            self._playback.append(base64.b64decode(payload, validate=True))
        except binascii.Error:
            self._record.violation("media.payload is not valid base64")

    async def _mark(self, websocket: ClientConnection, message: dict[str, Any]) -> None:
        mark = message.get("mark")
        name = mark.get("name") if isinstance(mark, dict) else None
        if not isinstance(name, str):
            self._record.violation("mark message without mark.name")
            return
        if self._playback.mark(name):
            await self._echo_mark(websocket, name)

    async def _clear(self, websocket: ClientConnection) -> None:
        self._record.stream.clears_received += 1
        at_ms = (asyncio.get_running_loop().time() - self._t0) * 1000
        self._record.prospect.hear_clear(at_ms)
        for name in self._playback.clear():
            await self._echo_mark(websocket, name)

    async def _echo_mark(self, websocket: ClientConnection, name: str) -> None:
        await self._send(websocket, "mark", {"mark": {"name": name}})
        self._record.stream.marks_echoed += 1
