"""OpenAI Realtime GA adapter for :class:`bridge.agent.VoiceAgent` (the ``openai`` SDK's client).

Audio is ``audio/pcmu`` in both directions, so Twilio payloads pass through unchanged (PROTOCOLS
D3, D7). Frames are read raw and parsed by :func:`bridge.openai_events.parse_server_event`.

The SDK opens and closes the connection; the frames go over its WebSocket (the ``websockets``
client the SDK holds) directly. The SDK's own send path takes two thread locks and looks up the
current task for every message (its queue for its own reconnects, which are not used here), and
its typed ``send`` transforms each event: at 50 caller frames a second per call that was ~20 % of
the bridge's CPU (``bench/bridge_load.py``, ``bench/realtime_send.py``). Events are built
GA-shaped by :mod:`bridge.openai_events` and encoded with orjson (:mod:`bridge.wire_json`).

Realtime has no resume: server state is lost with the socket (D7). After a drop,
:meth:`OpenAIRealtimeConnection.reopen` (called by :mod:`bridge.reconnect`) opens a fresh session
with the call's configuration, a note not to greet again, and the call so far as conversation
items: what the caller heard (barged-in items cut to the heard part), the tool calls and their
results. The SDK's own reconnect (``on_reconnecting``) only redials the socket, so it is not used.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

from openai import AsyncOpenAI, OpenAIError
from websockets.exceptions import ConnectionClosed

from bridge import openai_events as wire
from bridge.agent import (
    AgentAudio,
    AgentConnection,
    AgentEvent,
    AgentProblem,
    AgentSaid,
    AgentSessionConfig,
    AgentUnavailableError,
    CallerSaid,
    CallerSpeechStarted,
    CallerSpeechStopped,
    ResponseFinished,
    ResponseStarted,
    ToolCall,
    VoiceAgent,
)
from bridge.history import RECONNECTED_NOTE, CallHistory
from bridge.wire_json import dumps

_FATAL_ERROR_CODES = {"session_expired", "beta_api_shape_disabled", "invalid_api_key", "insufficient_quota"}
TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"


def session_payload(config: AgentSessionConfig) -> dict[str, Any]:
    """The GA ``session`` for a phone call: μ-law both ways, VAD reporting speech only, transcripts."""
    return {
        "instructions": config.instructions,
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": {"type": "audio/pcmu"},
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": config.vad_threshold,
                    "prefix_padding_ms": config.vad_prefix_padding_ms,
                    "silence_duration_ms": config.vad_silence_ms,
                    # The bridge owns turn-taking (bridge.turns): the VAD only reports speech, so
                    # the disclosure and the goodbye are never cut and no turn answers itself.
                    "create_response": False,
                    "interrupt_response": False,
                },
                "transcription": {"model": TRANSCRIPTION_MODEL},
            },
            "output": {"format": {"type": "audio/pcmu"}, "voice": config.voice},
        },
        "tools": [
            {"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters}
            for t in config.tools
        ],
        "tool_choice": "auto",
    }


def _usage(usage: dict[str, Any] | None) -> dict[str, int]:
    if not usage:
        return {}
    flat: dict[str, int] = {}
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        if isinstance(usage.get(key), int):
            flat[key] = usage[key]
    for side in ("input_token_details", "output_token_details"):
        details = usage.get(side) or {}
        for key in ("text_tokens", "audio_tokens", "cached_tokens"):
            if isinstance(details.get(key), int):
                flat[f"{side.split('_')[0]}_{key}"] = details[key]
    cached = (usage.get("input_token_details") or {}).get("cached_tokens_details") or {}
    for key in ("text_tokens", "audio_tokens"):  # the cached subset of each input kind (D8)
        if isinstance(cached.get(key), int):
            flat[f"input_cached_{key}"] = cached[key]
    return flat


def translate(event: wire.ServerEvent) -> AgentEvent | None:
    """Map one GA server event to the bridge's agent event (None for events the bridge ignores)."""
    match event:
        case wire.OutputAudioDelta():
            return AgentAudio(response_id=event.response_id, item_id=event.item_id, payload=event.delta)
        case wire.OutputTranscriptDone():
            return AgentSaid(response_id=event.response_id, item_id=event.item_id, text=event.transcript)
        case wire.SpeechStarted():
            return CallerSpeechStarted(audio_start_ms=event.audio_start_ms)
        case wire.SpeechStopped():
            return CallerSpeechStopped(audio_end_ms=event.audio_end_ms)
        case wire.InputTranscriptionCompleted():
            return CallerSaid(text=event.transcript)
        case wire.ResponseCreated():
            return ResponseStarted(response_id=event.response.id)
        case wire.FunctionCallArgumentsDone():
            return ToolCall(
                response_id=event.response_id,
                call_id=event.call_id,
                name=event.name,
                arguments=event.arguments,
            )
        case wire.ResponseDone():
            details = event.response.status_details or {}
            reason = details.get("reason") if isinstance(details, dict) else None
            return ResponseFinished(
                response_id=event.response.id,
                status=event.response.status or "completed",
                reason=reason,
                usage=_usage(event.response.usage),
            )
        case wire.ErrorEvent():
            code = event.error.code or event.error.type
            return AgentProblem(code=code, message=event.error.message, fatal=code in _FATAL_ERROR_CODES)
        case wire.InvalidServerEvent():
            return AgentProblem(code="invalid_server_event", message=event.problem, fatal=False)
    return None


Opener = Callable[[AgentSessionConfig], Awaitable[Any]]
"""Opens and configures a fresh SDK connection (raises :class:`AgentUnavailableError`)."""


def _socket_of(connection: Any) -> Any:
    """The ``websockets`` client connection under an SDK Realtime connection.

    Raises:
        AgentUnavailableError: the SDK holds no such socket (an SDK change this module missed).
    """
    socket = getattr(connection, "_connection", None)
    if socket is None or not hasattr(socket, "send") or not hasattr(socket, "recv"):
        raise AgentUnavailableError(f"the openai SDK's {type(connection).__name__} holds no WebSocket")
    return socket


class OpenAIRealtimeConnection(AgentConnection):
    """A live Realtime session: opened and closed by the SDK, its frames on the SDK's WebSocket.

    Args:
        connection: the SDK connection, configured for ``config``.
        config: the call's session configuration (reused by :meth:`reopen`).
        opener: opens a replacement (``None``: this connection cannot :meth:`reopen`).

    Raises:
        AgentUnavailableError: ``connection`` holds no WebSocket (see :func:`_socket_of`).
    """

    def __init__(self, connection: Any, config: AgentSessionConfig, opener: Opener | None = None) -> None:
        self._conn = connection
        self._socket = _socket_of(connection)
        self._config = config
        self._opener = opener
        self._closed = False

    async def _send(self, event: dict[str, Any]) -> None:
        # websockets writes each whole message before it waits to drain, so concurrent sends keep
        # their order without a lock.
        try:
            await self._socket.send(dumps(event))
        except ConnectionClosed:
            pass  # the socket is down: the reader sees the drop and bridge.reconnect acts

    async def send_audio(self, payload_b64: str) -> None:
        """See :meth:`AgentConnection.send_audio`."""
        await self._send(wire.append_audio(payload_b64))

    async def start_response(self, instructions: str | None = None) -> None:
        """See :meth:`AgentConnection.start_response`."""
        await self._send(wire.response_create(instructions))

    async def deliver_tool_results(self, results: list[tuple[str, str]], *, respond: bool) -> None:
        """Send each output as a ``function_call_output`` item, then ``response.create`` if asked."""
        for call_id, output in results:
            await self._send(wire.function_call_output(call_id, output))
        if respond:
            await self._send(wire.response_create())

    async def cancel_response(self) -> None:
        """See :meth:`AgentConnection.cancel_response`."""
        await self._send(wire.response_cancel())

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """See :meth:`AgentConnection.truncate`."""
        await self._send(wire.truncate_item(item_id, audio_end_ms))

    async def events(self) -> AsyncIterator[AgentEvent]:
        """Read frames until the socket closes, yielding translated events."""
        while not self._closed:
            try:
                raw = await self._socket.recv(decode=False)
            except (ConnectionClosed, OpenAIError):
                return
            translated = translate(wire.parse_server_event(raw))
            if translated is not None:
                yield translated

    async def reopen(self, history: CallHistory) -> str:
        """A fresh session: the call's configuration, no greeting, the call so far as items.

        Raises:
            AgentUnavailableError: the new session could not be opened or seeded.
        """
        if self._opener is None:
            raise AgentUnavailableError("this connection cannot reopen")
        reopened = replace(self._config, instructions=self._config.instructions + RECONNECTED_NOTE)
        connection = await self._opener(reopened)
        try:
            socket = _socket_of(connection)
            for event in wire.seed_items(history.turns()):
                await socket.send(dumps(event))
        except BaseException as exc:  # a session we cannot seed is no session: never leave it open
            with contextlib.suppress(Exception):
                await connection.close()
            if not isinstance(exc, Exception):
                raise  # cancelled mid-seed
            raise AgentUnavailableError(f"voice agent reopened but not seeded: {exc}") from exc
        self._conn, self._socket = connection, socket
        return "fresh"

    def abort(self) -> None:
        """Drop the socket without a closing handshake (the SDK exposes no abort: its websocket's)."""
        transport = getattr(self._socket, "transport", None)
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        """See :meth:`AgentConnection.close`."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._conn.close()
        except Exception:  # noqa: BLE001 - closing a dead socket must not mask the call's outcome
            pass


class OpenAIRealtimeAgent(VoiceAgent):
    """Opens Realtime sessions with ``AsyncOpenAI(...).realtime.connect``.

    Args:
        api_key: the OpenAI API key.
        model: e.g. ``gpt-realtime-2.1``.
        voice: e.g. ``marin``.
        websocket_base_url: None for OpenAI; a sandbox agent's ``ws://host:port/v1`` otherwise.
    """

    def __init__(
        self, *, api_key: str, model: str, voice: str, websocket_base_url: str | None = None
    ) -> None:
        self.voice = voice
        kwargs: dict[str, Any] = {"api_key": api_key}
        if websocket_base_url is not None:
            kwargs["websocket_base_url"] = websocket_base_url
        self._client = AsyncOpenAI(**kwargs)
        self._model = model

    async def connect(self, config: AgentSessionConfig) -> AgentConnection:
        """Open a session and send the ``session.update`` for ``config``.

        Raises:
            AgentUnavailableError: the connection or its first event failed.
        """
        return OpenAIRealtimeConnection(await self._open(config), config, self._open)

    async def _open(self, config: AgentSessionConfig) -> Any:
        try:
            connection = await self._client.realtime.connect(model=self._model).enter()
            await _socket_of(connection).send(dumps(wire.session_update(session_payload(config))))
        except Exception as exc:  # noqa: BLE001 - whatever failed, there is no agent for this call
            raise AgentUnavailableError(f"voice agent unavailable: {exc}") from exc
        return connection
