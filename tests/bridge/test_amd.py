import asyncio

from bridge import amd
from bridge.amd import AmdBoard


async def _no_stored_verdict():
    return None


async def test_a_waiting_session_wakes_when_the_verdict_arrives():
    board = AmdBoard()
    waiter = asyncio.create_task(board.wait("CA1", timeout=2, poll=_no_stored_verdict))
    await asyncio.sleep(0.05)
    board.publish("CA1", "human")
    assert await waiter == "human"


async def test_no_verdict_in_time_is_none_and_uncollected_verdicts_are_dropped(monkeypatch):
    board = AmdBoard()
    assert await board.wait("CA2", timeout=0.1, poll=_no_stored_verdict) is None
    board.publish("CA3", "machine_start")  # its stream never connected: nobody collects it
    monkeypatch.setattr(amd, "RETENTION_SECONDS", 0.0)
    await asyncio.sleep(0.01)
    board.publish("CA4", "human")
    assert await board.wait("CA3", timeout=0, poll=_no_stored_verdict) is None
    assert await board.wait("CA4", timeout=0, poll=_no_stored_verdict) == "human"
