"""Lean WebSocket ends for the load generator of ``bench/bridge_load.py`` (RFC 6455, text frames).

The generator plays a Twilio media stream and a Realtime agent for hundreds of calls on one
core, about 15,000 frames a second each way at 150 calls. With the ``websockets`` library's
asyncio connections it spent ~25 µs of Python per frame (a lock, a future and a task wake-up
per message, a fresh random mask per send) and timestamped a frame only when its reader task ran,
so its own event-loop lag was counted as the server's latency. These ends are plain
:class:`asyncio.Protocol` s: a frame is timestamped in ``data_received`` (the moment the event
loop hands over the bytes) and written with one ``transport.write``.

Not a general WebSocket implementation: no fragmentation, no extensions, no binary messages
(neither peer sends them here); the handshakes use ``websockets``' key functions. The client
masks with a zero key (RFC 6455 §5.3 asks for an unpredictable one, which guards proxies, not
this loopback): the server unmasks every frame the same way whatever the key, so its work is
unchanged and the generator skips an XOR per frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import urlsplit

from websockets.frames import apply_mask
from websockets.utils import accept_key, generate_key

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA
_ZERO_MASK = b"\0\0\0\0"


def frame(opcode: int, payload: bytes, *, masked: bool) -> bytes:
    """One final frame: ``opcode`` (``OP_*``), ``payload``; ``masked`` for a client's (zero key)."""
    size = len(payload)
    mask_bit, key = (0x80, _ZERO_MASK) if masked else (0, b"")
    if size < 126:
        header = bytes((0x80 | opcode, mask_bit | size))
    elif size < 65536:
        header = bytes((0x80 | opcode, mask_bit | 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, mask_bit | 127)) + size.to_bytes(8, "big")
    return header + key + payload


class FrameReader:
    """Splits a byte stream into ``(opcode, payload)`` frames (payloads unmasked)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """The frames completed by ``data`` (a partial frame waits for the next bytes)."""
        buffer = self._buffer
        buffer += data
        frames = []
        while len(buffer) >= 2:
            size, start = buffer[1] & 0x7F, 2
            if size == 126:
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            masked = buffer[1] & 0x80
            end = start + (4 if masked else 0) + size
            if len(buffer) < end:
                break
            if masked:
                payload = apply_mask(bytes(buffer[start + 4 : end]), bytes(buffer[start : start + 4]))
            else:
                payload = bytes(buffer[start:end])
            frames.append((buffer[0] & 0x0F, payload))
            del buffer[:end]
        return frames


class End(asyncio.Protocol):
    """What both ends share: the transport, frame reading, ping/close handling."""

    masked = False

    def __init__(self, on_text: Callable[[End, str], None]) -> None:
        self._on_text = on_text
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()
        self._close_sent = False
        self._reader = FrameReader()
        self._head: bytes | None = b""  # the HTTP upgrade so far; None once upgraded

    def data_received(self, data: bytes) -> None:
        if self._head is None:
            self._frames(data)
            return
        self._head += data
        head, found, rest = self._head.partition(b"\r\n\r\n")
        if not found:
            return
        self._head = None
        if self._upgraded(head) and rest:
            self._frames(rest)

    def _upgraded(self, head: bytes) -> bool:
        """The upgrade's HTTP head arrived (without its blank line); False if it failed."""
        raise NotImplementedError

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.closed.done():
            self.closed.set_result(None)

    def send_text(self, text: str) -> bool:
        """Write one text frame now; False when the connection is gone."""
        if self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(frame(OP_TEXT, text.encode(), masked=self.masked))
        return True

    def close(self) -> None:
        """Send a close frame (1000, normal); the peer answers and the server closes the TCP."""
        if self.transport is not None and not self.transport.is_closing() and not self._close_sent:
            self._close_sent = True
            self.transport.write(frame(OP_CLOSE, b"\x03\xe8", masked=self.masked))

    def _frames(self, data: bytes) -> None:
        for opcode, payload in self._reader.feed(data):
            if opcode == OP_TEXT:
                self.on_text(payload.decode())
            elif opcode == OP_PING and self.transport is not None:
                self.transport.write(frame(OP_PONG, payload, masked=self.masked))
            elif opcode == OP_CLOSE and self.transport is not None:
                if not self._close_sent:  # answer the peer's close, then drop the connection
                    self._close_sent = True
                    self.transport.write(frame(OP_CLOSE, payload[:2], masked=self.masked))
                self.transport.close()

    def on_text(self, text: str) -> None:
        """One text message arrived (called from ``data_received``): the handler's."""
        self._on_text(self, text)


class ClientEnd(End):
    """A client connection; :func:`connect` opens it. ``on_text(end, message)`` per message."""

    masked = True

    def __init__(self, on_text: Callable[[End, str], None]) -> None:
        super().__init__(on_text)
        self.opened = asyncio.get_running_loop().create_future()
        self._key = ""

    def request(self, url: str, headers: dict[str, str]) -> None:
        """Write the upgrade request for ``url`` (``ws://host:port/path?query``)."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._key = generate_key()
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self._key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        assert self.transport is not None
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _upgraded(self, head: bytes) -> bool:
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" " or accept_key(self._key).encode() not in head:
            self.opened.set_exception(ConnectionError(f"upgrade refused: {status.decode(errors='replace')}"))
            return False
        self.opened.set_result(None)
        return True


async def connect(url: str, headers: dict[str, str], on_text: Callable[[End, str], None]) -> ClientEnd:
    """Open a WebSocket to ``url``; ``on_text(end, message)`` runs for each text message.

    Raises:
        OSError: the TCP connection failed.
        ConnectionError: the server refused the upgrade.
        TimeoutError: no answer within 30 s.
    """
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    _, end = await loop.create_connection(lambda: ClientEnd(on_text), parts.hostname, parts.port or 80)
    end.request(url, headers)
    await asyncio.wait_for(end.opened, 30)
    return end


class ServerEnd(End):
    """One accepted connection: answers the upgrade, calls ``on_open(end)``, then ``on_text``."""

    def __init__(
        self,
        on_open: Callable[[ServerEnd], None],
        on_text: Callable[[End, str], None],
        on_close: Callable[[ServerEnd], None],
    ) -> None:
        super().__init__(on_text)
        self._on_open, self._on_close = on_open, on_close

    def _upgraded(self, head: bytes) -> bool:
        key = next(
            (
                line.split(b":", 1)[1].strip().decode()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            ),
            "",
        )
        assert self.transport is not None
        self.transport.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
            ).encode()
        )
        self._on_open(self)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._on_close(self)
