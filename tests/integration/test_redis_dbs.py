"""Each test run's own Redis databases (tests/conftest.py): locked, never shared between runs."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.conftest import REDIS_LOCK_DB, REDIS_SERVER, _claim_redis_dbs, _lock_key, _release_redis_dbs

pytestmark = pytest.mark.integration


def test_two_runs_never_share_a_redis_database_and_each_drops_only_its_own_locks():
    server = redis.Redis.from_url(f"{REDIS_SERVER}/{REDIS_LOCK_DB}")
    run_a, run_b = f"test-a:{uuid.uuid4().hex}", f"test-b:{uuid.uuid4().hex}"
    (first,) = _claim_redis_dbs(server, 1, run_a)
    try:
        assert first != REDIS_LOCK_DB
        (second,) = _claim_redis_dbs(server, 1, run_b)
        try:
            assert second != first
            with pytest.raises(pytest.fail.Exception, match="no free Redis database"):
                _claim_redis_dbs(server, 1, run_b, candidates=[first])  # run A holds it
            _release_redis_dbs(server, [first], run_b, flush=False)  # not B's to drop
            assert server.get(_lock_key(first)) == run_a.encode()
        finally:
            _release_redis_dbs(server, [second], run_b, flush=False)
        assert server.get(_lock_key(second)) is None
    finally:
        _release_redis_dbs(server, [first], run_a, flush=False)
    assert server.get(_lock_key(first)) is None
