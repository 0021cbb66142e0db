import asyncio

from bridge import amd
from bridge.amd import AmdBoard


async def _no_stored_verdict():
    return None


async def test_a_waiting_session_wakes_when_the_verdict_arrives():
    board = AmdBoard()
    polled = asyncio.Event()

    async def no_stored_verdict_yet():
        polled.set()
        return None

    # Polls a minute apart: only the published verdict can end the wait within the 20 s below.
    waiter = asyncio.create_task(board.wait("CA1", timeout=120, poll=no_stored_verdict_yet, poll_interval=60))
    await asyncio.wait_for(polled.wait(), 20)  # the session is waiting, the verdict not yet in
    assert not waiter.done()
    board.publish("CA1", "human")
    assert await asyncio.wait_for(waiter, 20) == "human"


async def test_no_verdict_in_time_is_none_and_uncollected_verdicts_are_dropped(monkeypatch):
    board = AmdBoard()
    assert await board.wait("CA2", timeout=0.1, poll=_no_stored_verdict) is None
    board.publish("CA3", "machine_start")  # its stream never connected: nobody collects it
    monkeypatch.setattr(amd, "RETENTION_SECONDS", -1.0)  # every verdict published so far is past it
    board.publish("CA4", "human")
    assert await board.wait("CA3", timeout=0, poll=_no_stored_verdict) is None
    assert await board.wait("CA4", timeout=0, poll=_no_stored_verdict) == "human"
