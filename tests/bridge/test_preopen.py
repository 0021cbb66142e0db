"""Agent sessions opened during the TwiML request (bridge.preopen): used by the stream, never leaked."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from bridge.agent import AgentConnection, AgentSessionConfig
from bridge.app import create_app
from bridge.preopen import PreopenedAgents
from dialer.settings import BridgeParams
from tests.bridge.test_session import Harness, call  # noqa: F401 - the dialled attempt fixture
from tests.factories import dial_one_lead
from tests.fakes.agent import FakeVoiceAgent
from tests.waiting import wait_until_async

TOKEN = "sandbox-auth-token"
PUBLIC = "https://dialer.example.com"


class GatedAgent(FakeVoiceAgent):
    """A voice agent whose connect finishes only when the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def connect(self, config: AgentSessionConfig) -> AgentConnection:
        await self.gate.wait()
        return await super().connect(config)


def _config() -> AgentSessionConfig:
    return AgentSessionConfig(instructions="", tools=(), voice="marin")


async def test_the_stream_takes_the_session_opened_for_its_attempt():
    agent = FakeVoiceAgent()
    opened = PreopenedAgents(timeout_s=60)
    opened.open(7, agent.connect(_config()), answered_at=1.0)
    assert opened.claim(8) is None
    entry = opened.claim(7)
    assert entry is not None and entry.answered_at == 1.0
    assert await entry.take() is agent.connection and not agent.connection.closed
    assert opened.claim(7) is None and len(opened) == 0


async def test_a_session_whose_stream_never_comes_is_closed_at_the_timeout():
    agent = FakeVoiceAgent()
    opened = PreopenedAgents(timeout_s=0.2)
    opened.open(7, agent.connect(_config()), answered_at=time.monotonic())
    await wait_until_async(lambda: agent.connection.closed, timeout=10, what="the session to be closed")
    assert len(opened) == 0 and opened.claim(7) is None


async def test_a_session_still_connecting_when_discarded_is_closed_once_it_connects():
    agent = GatedAgent()
    opened = PreopenedAgents(timeout_s=60)
    entry = opened.open(7, agent.connect(_config()), answered_at=0.0)
    await asyncio.sleep(0)  # the connect has started and waits at the gate
    opened.discard(7)
    agent.gate.set()
    await asyncio.gather(entry.task, return_exceptions=True)
    assert entry.task.cancelled() or agent.connection.closed
    # A second TwiML request replaces the first session and closes it.
    first = opened.open(8, FakeVoiceAgent().connect(_config()), answered_at=0.0)
    conn = await first.task
    opened.open(8, agent.connect(_config()), answered_at=0.0)
    await wait_until_async(lambda: conn.closed, timeout=10, what="the replaced session to be closed")


async def test_a_stream_that_goes_away_while_waiting_for_the_connect_leaks_nothing():
    agent = GatedAgent()
    opened = PreopenedAgents(timeout_s=60)
    opened.open(7, agent.connect(_config()), answered_at=0.0)
    entry = opened.claim(7)
    assert entry is not None
    waiter = asyncio.create_task(entry.take())
    await asyncio.sleep(0)
    waiter.cancel()
    agent.gate.set()
    await asyncio.gather(waiter, return_exceptions=True)
    await wait_until_async(lambda: agent.connection.closed, timeout=10, what="the orphaned session to close")


async def test_a_call_session_given_a_preopened_agent_does_not_connect_again(runtime, call):  # noqa: F811
    agent = FakeVoiceAgent()
    opened = PreopenedAgents(timeout_s=60)
    opened.open(call.attempt_id, agent.connect(_config()), answered_at=time.monotonic())
    harness = Harness(runtime, call, agent=agent, preopened=opened.claim(call.attempt_id))
    await harness.start("human")  # greeted on the pre-opened session
    assert agent.connection.responses_requested and len(agent.configs) == 1
    await harness.port.close()
    await harness.finished()
    assert len(agent.configs) == 1 and agent.connection.closed


def _signed(path: str, form: dict[str, str]) -> dict[str, str]:
    signature = RequestValidator(TOKEN).compute_signature(f"{PUBLIC}{path}", form)
    return {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}


async def _post(client: httpx.AsyncClient, path: str, form: dict[str, str]) -> httpx.Response:
    return await client.post(path, content=urlencode(form), headers=_signed(path, form))


async def test_the_twiml_request_opens_the_session_and_a_machine_verdict_closes_it_at_once(runtime):
    attempt = await asyncio.to_thread(dial_one_lead, runtime)
    agent = FakeVoiceAgent()
    app = create_app(runtime=runtime, agent=agent)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as client:
        form = {"CallSid": attempt.call_sid, "CallStatus": "in-progress"}
        assert (await _post(client, f"/twilio/voice?attempt={attempt.id}", form)).status_code == 200
        assert len(app.state.bridge.preopened) == 1
        await wait_until_async(lambda: agent.configs, timeout=10, what="the agent session to be opened")
        assert agent.configs[0].instructions and agent.configs[0].tools  # configured as the call's
        amd = {"CallSid": attempt.call_sid, "AnsweredBy": "machine_start"}
        assert (await _post(client, f"/twilio/amd?attempt={attempt.id}", amd)).status_code == 204
    # Long before the 15 s timeout: the machine ended the call, so its session is closed now.
    await wait_until_async(lambda: agent.connection.closed, timeout=5, what="the session to be closed")
    assert len(app.state.bridge.preopened) == 0


async def test_the_twiml_requests_session_is_closed_when_no_stream_comes(runtime):
    attempt = await asyncio.to_thread(dial_one_lead, runtime)
    settings = runtime.settings.model_copy(update={"bridge": BridgeParams(agent_preopen_timeout_ms=1000)})
    agent = FakeVoiceAgent()
    app = create_app(runtime=dataclasses.replace(runtime, settings=settings), agent=agent)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as client:
        form = {"CallSid": attempt.call_sid, "CallStatus": "in-progress"}
        assert (await _post(client, f"/twilio/voice?attempt={attempt.id}", form)).status_code == 200
    assert len(app.state.bridge.preopened) == 1
    await wait_until_async(lambda: agent.connection.closed, timeout=20, what="the session to time out")
    assert len(app.state.bridge.preopened) == 0
