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
from collections.abc import Sequence

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
  -- ARGV: op, hold, lease, four limits, then the candidate members; grants as many as fit.
  local hold, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
  local reasons = {'account_cps', 'caller_id_cps', 'campaign_concurrency', 'total_concurrency'}
  local wanted = #ARGV - 7
  local room, tightest = wanted, 0
  for i = 1, 4 do
    prune(KEYS[i])
    local limit = tonumber(ARGV[3 + i])
    if limit >= 0 then
      local free = limit - redis.call('ZCARD', KEYS[i])
      if free < room then room, tightest = free, i end
    end
  end
  if room <= 0 then return {0, reasons[tightest], wait_for(KEYS[tightest])} end
  for j = 1, room do
    local member = ARGV[7 + j]
    for i = 1, 2 do redis.call('ZADD', KEYS[i], now + hold, member) end
    for i = 3, 4 do redis.call('ZADD', KEYS[i], now + lease, member) end
  end
  for i = 1, 2 do redis.call('PEXPIRE', KEYS[i], hold + lease) end
  for i = 3, 4 do redis.call('PEXPIRE', KEYS[i], lease) end
  return {room, 'granted', now}
elseif op == 'sent' then
  -- ARGV: op, pacing ms, lease ms, then (member, bound) pairs; 1 per pair still held, else 0.
  local pacing, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
  local answers = {}
  for j = 4, #ARGV, 2 do
    local member, bound = ARGV[j], ARGV[j + 1]
    local held = redis.call('ZSCORE', KEYS[1], member)
    for i = 1, 4 do redis.call('ZREM', KEYS[i], member) end
    if (not held) or tonumber(held) < now then
      answers[#answers + 1] = 0
    else
      for i = 1, 2 do redis.call('ZADD', KEYS[i], now + pacing, bound) end
      for i = 3, 4 do redis.call('ZADD', KEYS[i], now + lease, bound) end
      answers[#answers + 1] = 1
    end
  end
  return answers
elseif op == 'stamp' then
  -- ARGV: op, window ms, then bound members: each sent now, kept one window from now.
  for j = 3, #ARGV do
    for i = 1, 2 do redis.call('ZADD', KEYS[i], now + tonumber(ARGV[2]), ARGV[j]) end
  end
  return {1, 'stamped', now}
elseif op == 'give_back' then
  for j = 2, #ARGV do
    for i = 1, 4 do redis.call('ZREM', KEYS[i], ARGV[j]) end
  end
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

    def take(
        self, *, campaign_id: int, caller_id: str, campaign_limit: int, count: int
    ) -> list[Lease] | Denied:
        """See :meth:`Capacity.take` (one script run for the whole batch)."""
        members = [f"l{uuid.uuid4().hex}" for _ in range(max(1, count))]
        lim = self._limits
        granted, reason, value = self._run(
            self._keys(campaign_id, caller_id),
            "acquire",
            lim.hold_ms,
            lim.lease_ms,
            _cps_per_window(lim.account_cps),
            _cps_per_window(lim.caller_id_cps),
            _limit(campaign_limit),
            _limit(lim.total_concurrent),
            *members,
        )
        if int(granted) > 0:  # type: ignore[call-overload]
            return [Lease(m, campaign_id, caller_id) for m in members[: int(granted)]]  # type: ignore[call-overload]
        return Denied(reason=_text(reason), retry_after_ms=int(value))  # type: ignore[call-overload]

    def try_acquire(self, *, campaign_id: int, caller_id: str, campaign_limit: int) -> Lease | Denied:
        """See :meth:`Capacity.try_acquire`."""
        got = self.take(campaign_id=campaign_id, caller_id=caller_id, campaign_limit=campaign_limit, count=1)
        return got[0] if isinstance(got, list) else got

    def _sent(self, pairs: Sequence[tuple[Lease, int]], pacing_ms: int) -> list[bool]:
        if not pairs:
            return []
        lease = pairs[0][0]
        flat = [v for member, attempt in pairs for v in (member.member, attempt_member(attempt))]
        answers = self._script(
            keys=self._keys(lease.campaign_id, lease.caller_id),
            args=["sent", pacing_ms, self._limits.lease_ms, *flat],
        )
        return [int(a) == 1 for a in answers]

    def mark_sent(self, lease: Lease, *, attempt_id: int) -> bool:
        """See :meth:`Capacity.mark_sent`."""
        return self._sent([(lease, attempt_id)], self._limits.window_ms)[0]

    def mark_sending(self, pairs: Sequence[tuple[Lease, int]]) -> list[bool]:
        """See :meth:`Capacity.mark_sending` (one script run)."""
        return self._sent(pairs, self._limits.hold_ms)

    def stamp_sent(self, *, campaign_id: int, caller_id: str, attempt_ids: Sequence[int]) -> None:
        """See :meth:`Capacity.stamp_sent` (one script run)."""
        if attempt_ids:
            members = [attempt_member(a) for a in attempt_ids]
            self._run(self._keys(campaign_id, caller_id), "stamp", self._limits.window_ms, *members)

    def give_back(self, lease: Lease) -> None:
        """See :meth:`Capacity.give_back`."""
        self.give_back_many([lease])

    def give_back_many(self, leases: Sequence[Lease]) -> None:
        """See :meth:`Capacity.give_back_many` (one script run for one campaign and caller ID)."""
        if leases:
            keys = self._keys(leases[0].campaign_id, leases[0].caller_id)
            self._run(keys, "give_back", *(lease.member for lease in leases))

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

    def take(
        self, *, campaign_id: int, caller_id: str, campaign_limit: int, count: int
    ) -> list[Lease] | Denied:
        """See :meth:`Capacity.take` (pacing only)."""
        with self._lock:
            now = time.monotonic() * 1000
            sets = self._sets(caller_id)
            room = max(1, count)
            for (window, cps), reason in zip(sets, ("account_cps", "caller_id_cps"), strict=True):
                for key in [k for k, until in window.items() if until <= now]:
                    del window[key]
                if cps >= 0:
                    free = max(1, int(cps)) - len(window)
                    if free <= 0:
                        return Denied(reason=reason, retry_after_ms=max(1, int(min(window.values()) - now)))
                    room = min(room, free)
            leases = [Lease(f"l{uuid.uuid4().hex}", campaign_id, caller_id) for _ in range(room)]
            for window, _ in sets:
                for lease in leases:
                    window[lease.member] = now + self._limits.hold_ms
        return leases

    def try_acquire(self, *, campaign_id: int, caller_id: str, campaign_limit: int) -> Lease | Denied:
        """See :meth:`Capacity.try_acquire` (pacing only)."""
        got = self.take(campaign_id=campaign_id, caller_id=caller_id, campaign_limit=campaign_limit, count=1)
        return got[0] if isinstance(got, list) else got

    def _sent(self, pairs: Sequence[tuple[Lease, int]], pacing_ms: int) -> list[bool]:
        answers = []
        with self._lock:
            now = time.monotonic() * 1000
            for lease, attempt_id in pairs:
                sets = self._sets(lease.caller_id)
                held = sets[0][0].get(lease.member)
                for window, _ in sets:
                    window.pop(lease.member, None)
                ok = held is not None and held >= now
                if ok:
                    for window, _ in sets:
                        window[attempt_member(attempt_id)] = now + pacing_ms
                answers.append(ok)
        return answers

    def mark_sent(self, lease: Lease, *, attempt_id: int) -> bool:
        """See :meth:`Capacity.mark_sent`."""
        return self._sent([(lease, attempt_id)], self._limits.window_ms)[0]

    def mark_sending(self, pairs: Sequence[tuple[Lease, int]]) -> list[bool]:
        """See :meth:`Capacity.mark_sending`."""
        return self._sent(pairs, self._limits.hold_ms)

    def stamp_sent(self, *, campaign_id: int, caller_id: str, attempt_ids: Sequence[int]) -> None:
        """See :meth:`Capacity.stamp_sent`."""
        with self._lock:
            now = time.monotonic() * 1000
            for window, _ in self._sets(caller_id):
                for attempt_id in attempt_ids:
                    window[attempt_member(attempt_id)] = now + self._limits.window_ms

    def give_back(self, lease: Lease) -> None:
        """See :meth:`Capacity.give_back`."""
        self.give_back_many([lease])

    def give_back_many(self, leases: Sequence[Lease]) -> None:
        """See :meth:`Capacity.give_back_many`."""
        with self._lock:
            for lease in leases:
                for window, _ in self._sets(lease.caller_id):
                    window.pop(lease.member, None)

    def release(self, *, campaign_id: int, attempt_id: int) -> None:
        """Nothing to do: concurrency is counted from the attempts' statuses."""

    def in_use(self, *, campaign_id: int) -> tuple[int, int]:
        """Not known here (``counts_in_database``): always ``(0, 0)``."""
        return 0, 0
