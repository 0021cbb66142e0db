"""Calls-per-second pacing, in one process and shared through the machine's Redis."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

from dialer.calls.pacing import LocalCallPacer, RedisCallPacer

pytestmark = pytest.mark.integration


def _acquire_concurrently(pacers, per_thread: int) -> list[float]:
    """Slot starts won by ``pacers`` working in parallel threads, sorted."""
    slots: list[float] = []
    lock = threading.Lock()

    def work(pacer):
        for _ in range(per_thread):
            won = pacer.wait_for_slot()
            with lock:
                slots.append(won)

    threads = [threading.Thread(target=work, args=(p,)) for p in pacers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return sorted(slots)


def test_workers_sharing_redis_never_exceed_the_account_cps(redis_url):
    cps = 20.0
    prefix = f"test:cps:{uuid.uuid4().hex}"
    client = redis.Redis.from_url(redis_url)
    workers = [RedisCallPacer(client, cps, key_prefix=prefix) for _ in range(4)]  # four workers
    started = time.time()
    slots = _acquire_concurrently(workers, per_thread=3)
    assert len(slots) == 12 and len(set(slots)) == 12  # at most one call per 50 ms slot
    assert slots[-1] - slots[0] >= 11 / cps * 0.99
    assert time.time() - started >= 10 / cps  # the workers really waited for their slots


def test_local_pacer_spaces_calls():
    pacer = LocalCallPacer(50.0)
    slots = _acquire_concurrently([pacer, pacer], per_thread=5)
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert min(gaps) >= 0.02 * 0.99
