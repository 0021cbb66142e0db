"""The media-stream WebSocket route: the only module that touches ``starlette.websockets``.

The upgrade is refused (HTTP 403) unless ``x-twilio-signature`` signs the stream URL. After
``connected`` and ``start``, the ``<Parameter>``s must carry the attempt id and its one-time token,
redeemed atomically; anything else closes the socket, which ends the call.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from bridge.call_latency import CallLatency
from bridge.metrics import ACTIVE_CALLS
from bridge.session import CallSession
from bridge.state import BridgeState
from bridge.twilio_protocol import (
    AudioTimeline,
    Connected,
    Dtmf,
    Mark,
    Media,
    ProtocolError,
    Start,
    Stop,
    parse_message,
)
from bridge.wire_json import dumps
from dialer.calls.attempts import CallContext, load_call_context, redeem_stream_token
from dialer.errors import DialerError

log = logging.getLogger(__name__)
router = APIRouter()
START_TIMEOUT_SECONDS = 10.0
MAX_ATTEMPT_ID = 2**31 - 1
POLICY_VIOLATION = 1008


class StarletteMediaPort:
    """:class:`bridge.twilio_protocol.MediaStreamPort` over a Starlette WebSocket."""

    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket
        self._send_lock = asyncio.Lock()
        self._timeline = AudioTimeline()
        self._pending: deque[Media] = deque()

    async def receive_any(self) -> Connected | Start | Media | Mark | Dtmf | Stop | None:
        """Next valid message; None when the socket closed. Invalid frames are logged and skipped."""
        while True:
            try:
                raw = await self._ws.receive_text()
            except (WebSocketDisconnect, RuntimeError):
                return None
            try:
                return parse_message(raw)
            except ProtocolError as exc:
                log.warning("ignoring invalid media-stream frame: %s", exc)

    async def receive(self) -> Media | Mark | Dtmf | Stop | None:
        """Next message after ``start`` (a stray ``connected``/``start`` is ignored).

        Caller audio comes gapless: a jump in Twilio's timestamps arrives first as silence
        (:class:`bridge.twilio_protocol.AudioTimeline`).
        """
        while True:
            if self._pending:
                return self._pending.popleft()
            message = await self.receive_any()
            if isinstance(message, Media):
                self._pending.extend(self._timeline.fill(message))
            elif not isinstance(message, Connected | Start):
                return message

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON message; a closed socket is ignored (the call is over)."""
        async with self._send_lock:
            if self._ws.application_state == WebSocketState.CONNECTED:
                try:
                    await self._ws.send_text(dumps(message))
                except (WebSocketDisconnect, RuntimeError):
                    pass

    async def close(self, code: int = 1000) -> None:
        """Close the socket if it is still open."""
        if self._ws.application_state == WebSocketState.CONNECTED:
            try:
                await self._ws.close(code=code)
            except (WebSocketDisconnect, RuntimeError, OSError):
                pass  # the carrier already went away (uvicorn's ClientDisconnected is an OSError)


async def _read_start(port: StarletteMediaPort) -> Start | None:
    while True:
        message = await port.receive_any()
        if message is None or isinstance(message, Start):
            return message
        if not isinstance(message, Connected):
            return None


async def _admit(state: BridgeState, start: Start) -> CallContext | None:
    """Redeem the stream's one-time token and read the call; None if the stream is not admitted."""
    params = start.start.custom_parameters
    try:
        attempt_id = int(params.get("attempt", ""))
    except ValueError:
        attempt_id = 0
    if not 1 <= attempt_id <= MAX_ATTEMPT_ID:
        return None

    def admit(session: Session, now: datetime) -> CallContext | None:
        ok = redeem_stream_token(
            session,
            attempt_id=attempt_id,
            token=params.get("token", ""),
            call_sid=start.start.call_sid,
            stream_sid=start.stream_sid,
            now=now,
        )
        return load_call_context(session, attempt_id=attempt_id) if ok else None

    try:
        context = await asyncio.to_thread(state.runtime.run_in_transaction, admit)
    except DialerError as exc:
        log.warning("refusing stream for attempt %s: %s", attempt_id, exc)
        return None
    if context is None:
        log.warning("refusing stream for attempt %s: invalid or used token", attempt_id)
    return context


async def _bridge(state: BridgeState, port: StarletteMediaPort, start: Start, context: CallContext) -> None:
    """Run the call's session with its campaign's voice agent, counted in the active calls.

    The agent session opened during the TwiML request is used if it is here (:mod:`bridge.preopen`);
    the call's latencies are recorded on its attempt (:mod:`bridge.call_latency`).
    """
    preopened = state.preopened.claim(context.attempt_id)
    try:
        agent = state.agent_for(context.voice_agent)
    except DialerError as exc:  # a campaign naming a backend this process cannot build
        log.error("attempt %s: %s; closing the stream", context.attempt_id, exc)
        if preopened is not None:
            preopened.close()
        return
    answered_at = preopened.answered_at if preopened is not None else None
    async with CallLatency(state.runtime, context.attempt_id, answered_at=answered_at) as clock:
        session = CallSession(
            port=port,
            agent=agent,
            runtime=state.runtime,
            context=context,
            stream_sid=start.stream_sid,
            params=state.runtime.settings.bridge,
            amd=state.amd,
            voice=agent.voice,
            clock=clock,
            preopened=preopened,
        )
        ACTIVE_CALLS.inc()
        try:
            await session.run()
        finally:
            ACTIVE_CALLS.dec()


@router.websocket("/twilio/media")
async def media_stream(websocket: WebSocket) -> None:
    """Bridge one call's media stream to the voice agent."""
    state: BridgeState = websocket.app.state.bridge
    if not state.signatures.stream_is_valid(
        stream_url=state.runtime.settings.media_stream_url,
        signature=websocket.headers.get("x-twilio-signature"),
    ):
        await websocket.close(code=POLICY_VIOLATION)  # before accept: the client gets HTTP 403
        return
    await websocket.accept()
    port = StarletteMediaPort(websocket)
    try:
        start = await asyncio.wait_for(_read_start(port), START_TIMEOUT_SECONDS)
    except TimeoutError:
        start = None
    context = None if start is None else await _admit(state, start)
    if start is None or context is None:
        await port.close(POLICY_VIOLATION)
        return
    try:
        await _bridge(state, port, start, context)
    finally:
        await port.close()
