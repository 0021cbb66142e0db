"""Dial capacity on the machine's Redis (one Lua script) and in process: CPS windows and leases."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

from dialer.calls import UNLIMITED, CapacityLimits, Denied, Lease, LocalCapacity, RedisCapacity, acquire
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def _redis(redis_url, **limits):
    return RedisCapacity(
        redis.Redis.from_url(redis_url), CapacityLimits(**limits), key_prefix=f"test:{uuid.uuid4().hex}"
    )


@pytest.fixture(params=["redis", "local"])
def make_capacity(request, redis_url):
    if request.param == "redis":
        return lambda **limits: _redis(redis_url, **limits)
    return lambda **limits: LocalCapacity(CapacityLimits(**limits))


def _take(capacity, caller="+13125550199", campaign=1, limit=UNLIMITED):
    return capacity.try_acquire(campaign_id=campaign, caller_id=caller, campaign_limit=limit)


def test_account_cps_allows_the_limit_per_window_then_frees_a_second_after_each_send(make_capacity):
    capacity = make_capacity(account_cps=2, window_ms=1000)
    first, second = _take(capacity), _take(capacity, caller="+13125550198")
    assert isinstance(first, Lease) and isinstance(second, Lease)
    denied = _take(capacity)
    assert isinstance(denied, Denied) and denied.reason == "account_cps"
    sent_at = time.monotonic()
    assert capacity.mark_sent(first, attempt_id=1) and capacity.mark_sent(second, attempt_id=2)
    third = acquire(capacity, campaign_id=1, caller_id="+13125550199", campaign_limit=UNLIMITED, timeout_s=5)
    assert isinstance(third, Lease)
    assert time.monotonic() - sent_at >= 0.9  # a slot frees one window after its call was sent


def test_caller_id_cps_is_separate_from_the_account(make_capacity):
    capacity = make_capacity(account_cps=10, caller_id_cps=1)
    assert isinstance(_take(capacity, caller="+13125550199"), Lease)
    denied = _take(capacity, caller="+13125550199")
    assert isinstance(denied, Denied) and denied.reason == "caller_id_cps"
    assert isinstance(_take(capacity, caller="+13125550198"), Lease)


def test_a_slot_given_back_is_free_at_once(make_capacity):
    capacity = make_capacity(account_cps=1)
    lease = _take(capacity)
    assert isinstance(_take(capacity), Denied)
    capacity.give_back(lease)
    assert isinstance(_take(capacity), Lease)


def test_a_slot_held_past_its_hold_time_is_not_sent(make_capacity):
    capacity = make_capacity(account_cps=1, hold_ms=50)
    lease = _take(capacity)
    time.sleep(0.1)  # the point: the caller holds the slot past its 50 ms hold time (no event to wait on)
    assert capacity.mark_sent(lease, attempt_id=7) is False


def test_concurrency_leases_per_campaign_and_in_total(redis_url):
    capacity = _redis(redis_url, total_concurrent=3)
    leases = [_take(capacity, campaign=1, limit=2), _take(capacity, campaign=1, limit=2)]
    assert all(isinstance(x, Lease) for x in leases)
    denied = _take(capacity, campaign=1, limit=2)
    assert isinstance(denied, Denied) and denied.reason == "campaign_concurrency"
    assert isinstance(_take(capacity, campaign=2, limit=5), Lease)
    denied = _take(capacity, campaign=2, limit=5)
    assert isinstance(denied, Denied) and denied.reason == "total_concurrency"
    assert capacity.in_use(campaign_id=1) == (2, 3)
    assert capacity.mark_sent(leases[0], attempt_id=41)
    capacity.release(campaign_id=1, attempt_id=41)  # the final status callback
    assert capacity.in_use(campaign_id=1) == (1, 2)
    capacity.release(campaign_id=1, attempt_id=41)  # a repeated callback changes nothing
    assert capacity.in_use(campaign_id=1) == (1, 2)


def test_a_lease_whose_final_callback_never_comes_expires(redis_url):
    capacity = _redis(redis_url, lease_ms=300)
    lease = _take(capacity, limit=1)
    assert capacity.mark_sent(lease, attempt_id=9)
    assert isinstance(_take(capacity, limit=1), Denied)
    wait_until(lambda: isinstance(_take(capacity, limit=1), Lease), timeout=10, what="the lease to expire")


def test_four_workers_never_exceed_the_cps_in_any_window(redis_url):
    """Sends stamped as they happen: no one-second window (of the send times) holds more than the limit."""
    cps = 10
    prefix = f"test:{uuid.uuid4().hex}"
    client = redis.Redis.from_url(redis_url)
    workers = [RedisCapacity(client, CapacityLimits(account_cps=cps), key_prefix=prefix) for _ in range(4)]
    sends: list[float] = []
    lock = threading.Lock()
    ids = iter(range(10_000))

    def work(capacity):
        for _ in range(6):
            lease = acquire(capacity, campaign_id=1, caller_id="+1", campaign_limit=UNLIMITED, timeout_s=20)
            assert lease is not None
            with lock:
                attempt = next(ids)
            assert capacity.mark_sent(lease, attempt_id=attempt)
            with lock:
                sends.append(time.monotonic())

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    sends.sort()
    assert len(sends) == 24
    busiest = max(sum(1 for s in sends if start <= s < start + 1.0) for start in sends)
    assert busiest <= cps
