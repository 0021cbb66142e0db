"""How long a call is without its agent when the agent's socket drops (issue 9, item 6).

Against the sandbox agent over loopback, per backend: a session greets, the sandbox drops it right
after the greeting's last event, and :class:`bridge.reconnect.ResilientConnection` replaces it.
Reports the time from the last event of the old session to ``AgentReconnected`` (the new session
configured and seeded; caller audio meanwhile is kept and sent on). Loopback only: a real backend
adds its connect and handshake time (one TLS round trip or more).

    .venv/bin/python bench/agent_reconnect.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import statistics
import time

import uvicorn

from bridge.agent import AgentReconnected, AgentSessionConfig, ResponseFinished, VoiceAgent
from bridge.assemblyai_agent import AssemblyAIVoiceAgent
from bridge.openai_agent import OpenAIRealtimeAgent
from bridge.reconnect import ResilientConnection
from sandbox.agent import AgentConfig, create_agent_app
from sandbox.agent.faults import Fault

KEY = "sk-bench"
DONE = {"openai": "response.done", "assemblyai": "reply.done"}
GREETING = 'Say exactly: "Hi, this is Sam from Acme Analytics. This call is recorded."'


def _agent(backend: str, port: int) -> VoiceAgent:
    if backend == "openai":
        return OpenAIRealtimeAgent(
            api_key=KEY,
            model="gpt-realtime-2.1",
            voice="marin",
            websocket_base_url=f"ws://127.0.0.1:{port}/v1",
        )
    return AssemblyAIVoiceAgent(api_key=KEY, url=f"ws://127.0.0.1:{port}/v1/ws", voice="ivy")


async def _one(app, backend: str, port: int) -> float:
    app.state.faults.plan(Fault("drop", after=DONE[backend]))
    voice = _agent(backend, port)
    config = AgentSessionConfig(instructions="You are Sam.", tools=(), voice=voice.voice)
    upstream = ResilientConnection(await voice.connect(config), send_timeout_s=5.0)
    await upstream.start_response(GREETING)
    last = time.perf_counter()
    try:
        async for event in upstream.events():
            if isinstance(event, ResponseFinished) and event.status == "completed":
                last = time.perf_counter()
            if isinstance(event, AgentReconnected):
                return (time.perf_counter() - last) * 1000
    finally:
        await upstream.close()
    raise RuntimeError("the session ended without a reconnect")


async def main(rounds: int) -> None:
    app = create_agent_app(AgentConfig(api_key=KEY, ms_per_char=1.0, generation_speed=50.0))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, no event
        await asyncio.sleep(0.01)
    port = sock.getsockname()[1]
    try:
        for backend, grace_s, how in [
            ("openai", 30.0, "fresh"),
            ("assemblyai", 30.0, "resumed"),
            ("assemblyai", 0.0, "fresh"),
        ]:
            app.state.resumable.grace_s = grace_s
            samples = [await _one(app, backend, port) for _ in range(rounds)]
            print(
                f"{backend:10} {how:8} drop -> reconnected: median {statistics.median(samples):6.1f} ms, "
                f"max {max(samples):6.1f} ms ({rounds} rounds)"
            )
    finally:
        server.should_exit = True
        await task


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    logging.disable(logging.WARNING)  # each round logs its drop; only the figures matter here
    asyncio.run(main(parser.parse_args().rounds))
