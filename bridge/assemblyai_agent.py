"""AssemblyAI Voice Agent API adapter for :class:`bridge.agent.VoiceAgent` (PROTOCOLS E1-E4).

One WebSocket per call (the ``websockets`` client), ``Authorization: Bearer <key>`` on the upgrade
(E1). ``session.update`` is the first message and nothing else is sent before ``session.ready``
(E1); audio is ``audio/pcmu`` both ways, so Twilio payloads pass through unchanged. Frames are
parsed by :func:`bridge.assemblyai_events.parse_server_event` and mapped by
:class:`bridge.assemblyai_replies.ReplyTranslator`.

Where AssemblyAI's semantics differ from the bridge's interface (modelled on OpenAI Realtime), and
how each is handled:

- **It always answers a caller turn itself.** No setting stops the reply after a user turn (E2;
  ``reply.create`` is additive). :meth:`start_response` without instructions (the bridge's "answer
  the caller's turn") is therefore a no-op: the server's own reply is that answer. A turn the bridge
  would leave unanswered (speech over the disclosure) is answered once the disclosure has finished.
- **Protected disclosure / goodbye.** ``input.turn_detection.interrupt_response`` is sent ``false``
  (E4: "disable barge-in entirely"), so the server never cuts a reply; the bridge's
  :mod:`bridge.turns` decides. Speech over the disclosure is still transcribed
  (``transcript.user``) and opt-out checked, and nothing is cleared: the disclosure plays in full.
  The cost: AssemblyAI's semantic barge-in (back-channels do not interrupt) is not used; the bridge
  clears on every ``input.speech.started`` outside a protected response, as AssemblyAI's Twilio
  guide does (E4).
- **No ``reply.cancel``** (E2's client events are session.update/resume/end, input.audio,
  tool.result, reply.create, conversation.message). :meth:`cancel_response` mutes the reply in
  progress locally: its further audio is dropped and its ``reply.done`` reads ``cancelled``. The
  server still generates it to the end and believes it was said.
- **No truncation.** :meth:`truncate` tells the agent what the caller actually heard with a
  ``conversation.message`` (system), estimated from ``transcript.agent.delta`` timings (E4).
- **Tool results** are sent only when the bridge delivers them, which it does after the reply's
  ``reply.done`` (E1's timing rule). The server always continues with a new reply after a
  ``tool.result``, so :meth:`deliver_tool_results` with ``respond=False`` (the reply was interrupted,
  or the call is ending) *discards* the results instead of sending them (E1: "drop pending tool
  results" on ``interrupted``).
- **No greeting in ``session.update``.** The bridge holds the disclosure until the AMD verdict, so
  it is asked for with ``reply.create {instructions}`` instead (``greeting`` is immutable after
  ``session.ready`` anyway, E4).
- **VAD tuning.** Only ``vad_threshold`` is mapped; ``min_silence``/``max_silence`` are left to the
  server, since setting them turns off its adaptive, entity-aware end-of-turn. ``prefix_padding``
  has no counterpart. No token usage is reported (E2): cost is by session time (``session.ended``).
- **Resume.** After a drop, :meth:`AssemblyAIConnection.reopen` (called by
  :mod:`bridge.reconnect`) reattaches with ``session.resume {session_id}``; if the server refuses
  (E4: ``session_not_found`` 1-15 s after a drop), a fresh session is configured with the call so
  far (what the caller heard) in its prompt, and no greeting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from bridge import assemblyai_events as wire
from bridge.agent import (
    AgentConnection,
    AgentEvent,
    AgentSessionConfig,
    AgentUnavailableError,
    VoiceAgent,
)
from bridge.assemblyai_replies import ReplyTranslator
from bridge.history import RECONNECTED_NOTE, CallHistory
from bridge.wire_json import dumps

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 10.0
"""Longest wait for ``session.ready`` after ``session.update`` / ``session.resume``."""
CLOSE_WAIT_S = 1.0
"""Longest wait, after ``session.end``, for the server's ``session.ended`` and close 1000."""


def session_payload(config: AgentSessionConfig, *, history: str = "") -> dict[str, Any]:
    """The ``session`` of ``session.update`` for a phone call: μ-law both ways, no server barge-in.

    Args:
        config: the call's instructions, tools and voice.
        history: the call so far, for a fresh session after a failed resume (appended to the prompt).
    """
    prompt = config.instructions
    if history:
        prompt += f"{RECONNECTED_NOTE} The call so far (what the caller heard):\n{history}"
    return {
        "system_prompt": prompt,
        "tools": [
            {"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters}
            for t in config.tools
        ],
        "input": {
            "format": {"encoding": "audio/pcmu"},
            # The bridge owns barge-in (bridge.turns): the server never cuts a reply.
            "turn_detection": {"vad_threshold": config.vad_threshold, "interrupt_response": False},
        },
        "output": {"voice": config.voice, "format": {"encoding": "audio/pcmu"}},
    }


async def open_session(
    url: str, api_key: str, first: dict[str, Any], *, timeout_s: float = READY_TIMEOUT_S
) -> tuple[ClientConnection, wire.SessionReady]:
    """Connect, send ``first`` (``session.update`` or ``session.resume``), wait for ``session.ready``.

    Raises:
        AgentUnavailableError: the connection failed, timed out, or the server answered
            ``session.error`` (its code leads the message, e.g. ``session_not_found: ...``).
    """
    try:
        ws = await connect(
            url, additional_headers={"Authorization": f"Bearer {api_key}"}, open_timeout=timeout_s
        )
    except (OSError, WebSocketException, TimeoutError) as exc:
        raise AgentUnavailableError(f"voice agent unavailable: {exc}") from exc
    try:
        await ws.send(dumps(first))
        async with asyncio.timeout(timeout_s):
            while True:
                event = wire.parse_server_event(await ws.recv())
                if isinstance(event, wire.SessionReady):
                    return ws, event
                if isinstance(event, wire.ErrorEvent):
                    raise AgentUnavailableError(f"{event.error_code}: {event.error_message}")
    except AgentUnavailableError:
        await ws.close()
        raise
    except (ConnectionClosed, TimeoutError) as exc:
        await ws.close()
        raise AgentUnavailableError(f"voice agent unavailable: no session.ready ({exc!r})") from exc


class AssemblyAIConnection(AgentConnection):
    """A live Voice Agent session (see the module docstring for how each command maps).

    Attributes:
        session_id: the server's id (from ``session.ready``); the same after a resume.
    """

    def __init__(
        self,
        ws: ClientConnection,
        ready: wire.SessionReady,
        *,
        url: str,
        api_key: str,
        config: AgentSessionConfig,
    ) -> None:
        self._ws = ws
        self.session_id = ready.session_id
        self._url = url
        self._api_key = api_key
        self._config = config
        self._replies = ReplyTranslator()
        self._send_lock = asyncio.Lock()
        self._ready = True
        self._closed = False
        self._ended = False
        self._opened_at = time.monotonic()
        self._session_ms: int | None = None  # the session's time: server's session.ended, else measured
        self._foreign_calls: dict[str, str] = {}  # call id -> tool, of calls a replaced session made

    async def _send(self, event: dict[str, Any]) -> bool:
        """Send one client event; False when the socket is down (the reader handles the drop)."""
        if not self._ready or self._closed:
            return False
        async with self._send_lock:
            try:
                await self._ws.send(dumps(event))  # orjson: 50 a second per call
            except ConnectionClosed:
                return False
        return True

    async def send_audio(self, payload_b64: str) -> None:
        """``input.audio`` with the Twilio payload; dropped while reconnecting."""
        await self._send(wire.input_audio(payload_b64))

    async def start_response(self, instructions: str | None = None) -> None:
        """``reply.create {instructions}``; without instructions a no-op (the server answers turns itself)."""
        if instructions is not None:
            await self._send(wire.reply_create(instructions))

    async def deliver_tool_results(self, results: list[tuple[str, str]], *, respond: bool) -> None:
        """``tool.result`` per output if ``respond`` (the server then replies); else discard them.

        A call made by a dropped session that this (fresh) session never saw gets its result as a
        system message instead (:func:`bridge.assemblyai_events.late_tool_result`), then ``reply.create``.
        """
        if not respond:
            if results:
                log.info("assemblyai session %s: %d tool result(s) discarded", self.session_id, len(results))
            return
        known = [call_id for call_id, _ in results if call_id not in self._foreign_calls]
        for call_id, output in results:
            if call_id in self._foreign_calls:
                await self._send(wire.late_tool_result(self._foreign_calls[call_id], output))
            else:
                await self._send(wire.tool_result(call_id, output))
        if not known:
            await self._send(wire.reply_create())

    async def cancel_response(self) -> None:
        """Mute the reply in progress (there is no ``reply.cancel``)."""
        self._replies.mute_current()

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """Tell the agent, as a system message, what the caller heard of ``item_id``."""
        item = self._replies.items.get(item_id)
        if item is None:
            return
        heard = item.heard(audio_end_ms)
        note = (
            f'The caller interrupted you. They heard only: "{heard}"'
            if heard
            else "The caller interrupted you before hearing any of your last reply."
        )
        await self._send(wire.conversation_message(note))

    async def events(self) -> AsyncIterator[AgentEvent]:
        """Translated events until the session ends or the socket drops."""
        while not self._closed:
            try:
                raw = await self._ws.recv()
            except ConnectionClosed:
                return
            frame = wire.parse_server_event(raw)
            if isinstance(frame, wire.SessionEnded):
                self._ended = True
                self._note_session_time(frame.session_duration_seconds)
            for translated in self._replies.translate(frame):
                yield translated
            if self._ended:
                return

    async def reopen(self, history: CallHistory) -> str:
        """``session.resume``; if refused, a fresh session with ``history`` in its prompt.

        Raises:
            AgentUnavailableError: neither could be opened.
        """
        self._ready = False
        self._replies.abandon_current("connection_lost")  # the wrapper ends it for the bridge
        self._note_session_time()
        try:
            self._ws, _ = await open_session(self._url, self._api_key, wire.session_resume(self.session_id))
            how = "resumed"
        except AgentUnavailableError as refused:
            log.warning("assemblyai session %s: resume refused (%s); a fresh one", self.session_id, refused)
            payload = session_payload(self._config, history=history.transcript())
            self._ws, ready = await open_session(self._url, self._api_key, wire.session_update(payload))
            self.session_id = ready.session_id
            how = "fresh"
        self._foreign_calls = (
            {} if how == "resumed" else {t.call_id: t.name for t in history.turns() if t.kind == "tool_call"}
        )
        self._ended = False
        self._ready = True
        return how

    def abort(self) -> None:
        """Drop the socket at once (no ``session.end``: the session stays resumable)."""
        self._ready = False
        transport = self._ws.transport
        if transport is not None:
            transport.abort()

    def _note_session_time(self, server_seconds: float | None = None) -> None:
        measured = round((time.monotonic() - self._opened_at) * 1000)
        server = round(server_seconds * 1000) if server_seconds is not None else 0
        self._session_ms = max(self._session_ms or 0, measured, server)

    def billed_usage(self) -> dict[str, int]:
        """``{"session_ms": ...}``: the session's time, what AssemblyAI bills (E4).

        The larger of the server's ``session.ended`` duration and the time this connection was
        open (a resumed or replaced session, or an end that never arrived, still counts).
        """
        if not self._closed:
            self._note_session_time()
        return {"session_ms": self._session_ms or 0}

    async def close(self) -> None:
        """``session.end`` (so the 30 s grace window is not billed), then close the socket."""
        if self._closed:
            return
        ended = await self._send(wire.session_end())
        self._closed = True
        try:
            if ended:
                async with asyncio.timeout(CLOSE_WAIT_S):
                    await self._ws.wait_closed()
        except TimeoutError:
            pass
        try:
            await self._ws.close()
        except Exception:  # noqa: BLE001 - closing a dead socket must not mask the call's outcome
            pass
        self._note_session_time()


class AssemblyAIVoiceAgent(VoiceAgent):
    """Opens Voice Agent sessions.

    Args:
        api_key: the AssemblyAI API key (sent as ``Bearer``).
        url: ``wss://agents.assemblyai.com/v1/ws``, or a sandbox agent's ``ws://host:port/v1/ws``.
        voice: a catalog voice id, e.g. ``ivy`` (lowercase; an unknown one gives ``session.error``).
    """

    def __init__(self, *, api_key: str, url: str, voice: str) -> None:
        self.voice = voice
        self._api_key = api_key
        self._url = url

    async def connect(self, config: AgentSessionConfig) -> AgentConnection:
        """Open a session, send ``session.update`` for ``config`` and wait for ``session.ready``.

        Raises:
            AgentUnavailableError: no connection, no ``session.ready`` in time, or ``session.error``.
        """
        ws, ready = await open_session(self._url, self._api_key, wire.session_update(session_payload(config)))
        return AssemblyAIConnection(ws, ready, url=self._url, api_key=self._api_key, config=config)
