"""The ASGI app: the Realtime WebSocket at ``/v1/realtime``, AssemblyAI's at ``/v1/ws``, an inspection view.

This is the only module that touches the WebSocket. It authenticates the handshake like the API
(``Authorization: Bearer <key>``, else HTTP 401), turns away beta-shaped clients
(``OpenAI-Beta: realtime=v1``) with ``beta_api_shape_disabled`` and close code 4000, then pumps
frames into an :class:`~sandbox.agent.session.AgentSession` and its events back out, in order.
``/v1/ws`` speaks the AssemblyAI Voice Agent API with the same key and the same scripted agent
(:mod:`sandbox.agent.assemblyai_app`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Mapping

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse

from sandbox.agent.assemblyai_app import ResumableSessions, serve_assemblyai
from sandbox.agent.config import AgentConfig
from sandbox.agent.faults import DROP_CLOSE_CODE, AgentFaults, ConnectionFaults
from sandbox.agent.protocol import JsonObject, RealtimeError
from sandbox.agent.records import SessionRegistry
from sandbox.agent.session import AgentSession
from sandbox.agent.session_config import DEFAULT_MODEL

BETA_CLOSE_CODE = 4000
_BETA_ERROR = RealtimeError(
    "beta_api_shape_disabled",
    "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.",
)
_INVALID_KEY = {
    "error": {
        "message": "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}


def create_agent_app(config: AgentConfig) -> FastAPI:
    """Build the sandbox voice agent.

    Args:
        config: the key clients must present and the agent's speaking pace.

    Returns:
        An ASGI app serving the Realtime GA WebSocket at ``/v1/realtime?model=...``, the AssemblyAI
        Voice Agent WebSocket at ``/v1/ws`` and, for the same bearer key, ``GET /sandbox/sessions``
        (what each connection did, oldest first). The records are also at ``app.state.registry``
        (a :class:`~sandbox.agent.records.SessionRegistry`); AssemblyAI sessions lost without
        ``session.end`` at ``app.state.resumable`` (:class:`~sandbox.agent.assemblyai_app.ResumableSessions`).
        Faults to inject (dropped or stalled sessions, both protocols) are planned on
        ``app.state.faults`` (:class:`~sandbox.agent.faults.AgentFaults`).
    """
    app = FastAPI(title="Sandbox voice agent (OpenAI Realtime GA)", docs_url=None, redoc_url=None)
    registry = SessionRegistry()
    app.state.registry = registry
    resumable = ResumableSessions(config.resume_grace_s)
    app.state.resumable = resumable
    faults = AgentFaults()
    app.state.faults = faults

    @app.websocket("/v1/realtime")
    async def realtime(websocket: WebSocket) -> None:
        if not _authorized(websocket.headers, config.api_key):
            await _deny(websocket)
            return
        await _handshake_delay(config)
        await websocket.accept()
        if "realtime=v1" in websocket.headers.get("openai-beta", ""):
            await websocket.send_text(json.dumps(_BETA_ERROR.to_event()))
            await websocket.close(code=BETA_CLOSE_CODE)
            return
        model = websocket.query_params.get("model") or DEFAULT_MODEL
        outbox: asyncio.Queue[JsonObject] = asyncio.Queue()
        session = AgentSession(config=config, model=model, emit=outbox.put_nowait, registry=registry)
        watch = faults.watch(lambda: session.record.session_id, lambda: session.record.system_prompt)
        await _serve(websocket, session, outbox, watch)

    @app.websocket("/v1/ws")
    async def voice_agent(websocket: WebSocket) -> None:
        token = websocket.query_params.get("token", "")
        if not (_authorized(websocket.headers, config.api_key) or _same(token, config.api_key)):
            await _deny(websocket)
            return
        await _handshake_delay(config)
        await websocket.accept()
        await serve_assemblyai(websocket, config, registry, resumable, faults)

    @app.get("/sandbox/sessions")
    async def sessions(request: Request) -> JSONResponse:
        if not _authorized(request.headers, config.api_key):
            return JSONResponse(_INVALID_KEY, status_code=401)
        return JSONResponse([record.to_json() for record in registry])

    return app


async def _handshake_delay(config: AgentConfig) -> None:
    if config.connect_delay_ms:
        await asyncio.sleep(config.connect_delay_ms / 1000)


def _authorized(headers: Mapping[str, str], api_key: str) -> bool:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and _same(token.strip(), api_key)


def _same(token: str, api_key: str) -> bool:
    return bool(token) and hmac.compare_digest(token.encode(), api_key.encode())


async def _deny(websocket: WebSocket) -> None:
    """Refuse the handshake with HTTP 401, or close with 1008 (HTTP 403) if the server cannot."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(_INVALID_KEY, status_code=401))
    else:
        await websocket.close(code=1008)


async def _serve(
    websocket: WebSocket, session: AgentSession, outbox: asyncio.Queue[JsonObject], watch: ConnectionFaults
) -> None:
    """Feed client frames to ``session`` and send what it emits, until the client goes away."""
    writer = asyncio.create_task(_write(websocket, outbox, watch))
    session.open()
    try:
        while True:
            await watch.hold_if_stalled()
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            frame = message.get("text") if message.get("text") is not None else message.get("bytes")
            if frame is not None:
                session.receive(frame)
    finally:
        session.close()
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)


async def _write(websocket: WebSocket, outbox: asyncio.Queue[JsonObject], watch: ConnectionFaults) -> None:
    while True:
        event = await outbox.get()
        await websocket.send_text(json.dumps(event))
        action = watch.after_sent(str(event.get("type")))
        if action == "drop":
            await websocket.close(code=DROP_CLOSE_CODE)
            return
        await watch.hold_if_stalled()
