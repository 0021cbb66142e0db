"""The bare relay of ``bench/bridge_load.py``: the bridge's server stack forwarding JSON, no logic.

A Starlette WebSocket route served exactly as the bridge is (:mod:`dialer.serving`): for each
media stream it opens a Realtime session on the agent (``BARE_RELAY_AGENT_URL``) with the same
``websockets`` client the openai SDK uses, asks for a response, and then only translates: a
Twilio ``media`` frame becomes ``input_audio_buffer.append``, an ``output_audio.delta`` becomes a
Twilio ``media`` frame, everything else is dropped. No marks, no database, no checks. Its
start-up heap is frozen as the bridge's is (:mod:`bridge.server_app`): a full collection of
these ~30 k objects took 40-80 ms here, a stall every call's frames waited behind.

    uvicorn bench._bare_relay:app
"""

from __future__ import annotations

import asyncio
import gc
import os

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bridge.wire_json import dumps, loads


async def _relay(ws: WebSocket) -> None:
    await ws.accept()
    stream_sid = ""
    while not stream_sid:
        message = loads(await ws.receive_text())
        if message.get("event") == "start":
            stream_sid = message["streamSid"]
    url = os.environ["BARE_RELAY_AGENT_URL"]
    async with connect(url, compression=None, max_queue=None) as agent:
        await agent.send(dumps({"type": "session.update", "session": {"type": "realtime"}}))
        await agent.send(dumps({"type": "response.create"}))

        async def down() -> None:
            async for raw in agent:
                event = loads(raw)
                if event.get("type") == "response.output_audio.delta":
                    media = {"event": "media", "streamSid": stream_sid, "media": {"payload": event["delta"]}}
                    await ws.send_text(dumps(media))

        task = asyncio.create_task(down())
        try:
            while True:
                message = loads(await ws.receive_text())
                if message.get("event") == "media":
                    await agent.send(
                        dumps({"type": "input_audio_buffer.append", "audio": message["media"]["payload"]})
                    )
                elif message.get("event") == "stop":
                    break
        except (WebSocketDisconnect, ConnectionClosed, RuntimeError):
            pass
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


app = Starlette(routes=[WebSocketRoute("/relay", _relay)])
gc.collect()
gc.freeze()
