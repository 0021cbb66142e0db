"""The two :class:`~dialer.calls.capacity.Capacity` stores: Redis (shared) and in-process.

:class:`RedisCapacity` keeps the account's and caller IDs' pacing windows and the campaign's and the
dialer's live-call leases in Redis sorted sets (member -> busy-until, ms of Redis' own clock),
changed in one Lua script, so any number of workers share exact limits. :class:`LocalCapacity` is
the same algorithm in one process (the SQLite demo's single worker).
"""

from __future__ import annotations

import threading
import time
import uuid

import redis

from dialer.calls.capacity import UNLIMITED, CapacityLimits, Denied, Lease, attempt_member

_LUA = """
local op = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function prune(k) redis.call('ZREMRANGEBYSCORE', k, '-inf', now) end
local function wait_for(k)
  local first = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
  if first[2] then return math.max(1, tonumber(first[2]) - now) end
  return 1
end
if op == 'acquire' then
  local member = ARGV[2]
  local limits = {tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])}
  local reasons = {'account_cps', 'caller_id_cps', 'campaign_concurrency', 'total_concurrency'}
  local hold, lease = tonumber(ARGV[7]), tonumber(ARGV[8])
  for i = 1, 4 do
    prune(KEYS[i])
    if limits[i] >= 0 and redis.call('ZCARD', KEYS[i]) >= limits[i] then
      return {0, reasons[i], wait_for(KEYS[i])}
    end
  end
  for i = 1, 2 do
    redis.call('ZADD', KEYS[i], now + hold, member)
    redis.call('PEXPIRE', KEYS[i], hold + lease)
  end
  for i = 3, 4 do
    redis.call('ZADD', KEYS[i], now + lease, member)
    redis.call('PEXPIRE', KEYS[i], lease)
  end
  return {1, 'granted', now}
elseif op == 'sent' then
  local member, bound, window, lease = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
  local held = redis.call('ZSCORE', KEYS[1], member)
  if (not held) or tonumber(held) < now then
    for i = 1, 4 do redis.call('ZREM', KEYS[i], member) end
    return {0, 'expired', 0}
  end
  for i = 1, 2 do
    redis.call('ZREM', KEYS[i], member)
    redis.call('ZADD', KEYS[i], now + window, bound)
  end
  for i = 3, 4 do
    redis.call('ZREM', KEYS[i], member)
    redis.call('ZADD', KEYS[i], now + lease, bound)
  end
  return {1, 'sent', now}
elseif op == 'give_back' then
  for i = 1, 4 do redis.call('ZREM', KEYS[i], ARGV[2]) end
  return {1, 'given_back', now}
elseif op == 'release' then
  redis.call('ZREM', KEYS[3], ARGV[2])
  redis.call('ZREM', KEYS[4], ARGV[2])
  return {1, 'released', now}
elseif op == 'usage' then
  prune(KEYS[3])
  prune(KEYS[4])
  return {redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[4]), now}
end
return redis.error_reply('unknown op ' .. op)
"""


def _limit(value: float) -> str:
    return str(UNLIMITED) if value < 0 else str(int(value))


class RedisCapacity:
    """:class:`Capacity` shared by every worker through Redis (one Lua script, Redis' clock).

    Args:
        client: a Redis client.
        limits: the limits (CPS windows of ``limits.account_cps`` calls; fractional CPS below 1 is
            rounded up to one call per window).
        account: the carrier account the CPS limit belongs to (its key).
        key_prefix: namespace of the keys.
    """

    counts_in_database = False

    def __init__(
        self,
        client: redis.Redis,
        limits: CapacityLimits,
        *,
        account: str = "default",
        key_prefix: str = "dialer",
    ) -> None:
        self._client = client
        self._limits = limits
        self._script = client.register_script(_LUA)
        self._prefix = f"{key_prefix}:capacity"
        self._account = account

    @property
    def limits(self) -> CapacityLimits:
        """The limits in force."""
        return self._limits

    def _keys(self, campaign_id: int, caller_id: str) -> list[str]:
        p = self._prefix
        return [
            f"{p}:cps:account:{self._account}",
            f"{p}:cps:caller:{caller_id}",
            f"{p}:live:campaign:{campaign_id}",
            f"{p}:live:total",
        ]

    def _run(self, keys: list[str], *args: str | int | float) -> list[object]:
        return list(self._script(keys=keys, args=list(args)))

    def try_acquire(self, *, campaign_id: int, caller_id: str, campaign_limit: int) -> Lease | Denied:
        """See :meth:`Capacity.try_acquire`."""
        member = f"l{uuid.uuid4().hex}"
        lim = self._limits
        ok, reason, value = self._run(
            self._keys(campaign_id, caller_id),
            "acquire",
            member,
            _cps_per_window(lim.account_cps),
            _cps_per_window(lim.caller_id_cps),
            _limit(campaign_limit),
            _limit(lim.total_concurrent),
            lim.hold_ms,
            lim.lease_ms,
        )
        if int(ok) == 1:  # type: ignore[call-overload]
            return Lease(member=member, campaign_id=campaign_id, caller_id=caller_id)
        return Denied(reason=_text(reason), retry_after_ms=int(value))  # type: ignore[call-overload]

    def mark_sent(self, lease: Lease, *, attempt_id: int) -> bool:
        """See :meth:`Capacity.mark_sent`."""
        ok, _, _ = self._run(
            self._keys(lease.campaign_id, lease.caller_id),
            "sent",
            lease.member,
            attempt_member(attempt_id),
            self._limits.window_ms,
            self._limits.lease_ms,
        )
        return int(ok) == 1  # type: ignore[call-overload]

    def give_back(self, lease: Lease) -> None:
        """See :meth:`Capacity.give_back`."""
        self._run(self._keys(lease.campaign_id, lease.caller_id), "give_back", lease.member)

    def release(self, *, campaign_id: int, attempt_id: int) -> None:
        """See :meth:`Capacity.release`."""
        self._run(self._keys(campaign_id, "-"), "release", attempt_member(attempt_id))

    def in_use(self, *, campaign_id: int) -> tuple[int, int]:
        """See :meth:`Capacity.in_use`."""
        campaign, total, _ = self._run(self._keys(campaign_id, "-"), "usage")
        return int(campaign), int(total)  # type: ignore[call-overload]


def _cps_per_window(cps: float) -> str:
    """Calls allowed per one-second window (a CPS below 1 still allows one call per window)."""
    return str(UNLIMITED) if cps < 0 else str(max(1, int(cps)))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class LocalCapacity:
    """:class:`Capacity` for one process: the same CPS windows, concurrency counted in the database.

    Exact for the embedded default (one worker process running beat and the dial tasks); with
    several worker processes use Redis. The dial step checks the campaign's live attempts in its
    transaction (``counts_in_database``), so leases here carry pacing only.

    Args:
        limits: the limits (``total_concurrent`` is checked from the database by the dial step).
    """

    counts_in_database = True

    def __init__(self, limits: CapacityLimits | None = None) -> None:
        self._limits = limits or CapacityLimits()
        self._lock = threading.Lock()
        self._windows: dict[str, dict[str, float]] = {}

    @property
    def limits(self) -> CapacityLimits:
        """The limits in force."""
        return self._limits

    def _sets(self, caller_id: str) -> list[tuple[dict[str, float], float]]:
        lim = self._limits
        return [
            (self._windows.setdefault("account", {}), lim.account_cps),
            (self._windows.setdefault(f"caller:{caller_id}", {}), lim.caller_id_cps),
        ]

    def try_acquire(self, *, campaign_id: int, caller_id: str, campaign_limit: int) -> Lease | Denied:
        """See :meth:`Capacity.try_acquire` (pacing only)."""
        member = f"l{uuid.uuid4().hex}"
        with self._lock:
            now = time.monotonic() * 1000
            sets = self._sets(caller_id)
            for (window, cps), reason in zip(sets, ("account_cps", "caller_id_cps"), strict=True):
                for key in [k for k, until in window.items() if until <= now]:
                    del window[key]
                if cps >= 0 and len(window) >= max(1, int(cps)):
                    return Denied(reason=reason, retry_after_ms=max(1, int(min(window.values()) - now)))
            for window, _ in sets:
                window[member] = now + self._limits.hold_ms
        return Lease(member=member, campaign_id=campaign_id, caller_id=caller_id)

    def mark_sent(self, lease: Lease, *, attempt_id: int) -> bool:
        """See :meth:`Capacity.mark_sent`."""
        with self._lock:
            now = time.monotonic() * 1000
            sets = self._sets(lease.caller_id)
            held = sets[0][0].get(lease.member)
            for window, _ in sets:
                window.pop(lease.member, None)
            if held is None or held < now:
                return False
            for window, _ in sets:
                window[attempt_member(attempt_id)] = now + self._limits.window_ms
        return True

    def give_back(self, lease: Lease) -> None:
        """See :meth:`Capacity.give_back`."""
        with self._lock:
            for window, _ in self._sets(lease.caller_id):
                window.pop(lease.member, None)

    def release(self, *, campaign_id: int, attempt_id: int) -> None:
        """Nothing to do: concurrency is counted from the attempts' statuses."""

    def in_use(self, *, campaign_id: int) -> tuple[int, int]:
        """Not known here (``counts_in_database``): always ``(0, 0)``."""
        return 0, 0
