"""Dial capacity: calls per second (per account and per caller ID) and concurrent calls, as leases.

A dial task takes a :class:`Lease` *before* it gates the lead (decide after the wait, issue 7).
One lease is two things at once:

- a **pacing slot** in the account's and the caller ID's sliding one-second windows. The slot is
  *held* from the grant until the request is sent (at most ``hold_ms``), then *stamped* with the
  send time and kept for ``window_ms`` (1 s plus a margin for the spread of request latency), so
  the carrier never sees more than the limit in any one-second window, whatever the time between
  grant and send;
- a **concurrency lease** for the campaign and for the whole dialer, with an expiry
  (``lease_ms``): released when the call's final status is applied, or freed by its expiry when
  that callback never comes.

:class:`RedisCapacity` keeps all four sets in Redis sorted sets (member -> busy-until, ms of Redis'
own clock) and changes them in one Lua script, so any number of workers share exact limits.
:class:`LocalCapacity` is the same algorithm in one process (the SQLite demo's single worker);
it counts concurrent calls in the database instead (its leases would not be seen by the API
process that applies final statuses).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

POLL_S = 0.1
"""Longest sleep between two tries for a lease, in seconds."""
UNLIMITED = -1
"""A limit that never binds (e.g. no per-caller-ID CPS)."""


@dataclass(frozen=True)
class CapacityLimits:
    """The limits a lease is taken under.

    Attributes:
        account_cps: calls per second for the carrier account (> 0, or :data:`UNLIMITED`).
        caller_id_cps: calls per second per caller ID (> 0, or :data:`UNLIMITED`).
        total_concurrent: live calls across every campaign at once (or :data:`UNLIMITED`).
        window_ms: length of the pacing window, ms (1000 plus a margin for request jitter).
        hold_ms: longest time between grant and send, ms; a later send is refused.
        lease_ms: a concurrency lease's life without a final status, ms.
    """

    account_cps: float = UNLIMITED
    caller_id_cps: float = UNLIMITED
    total_concurrent: int = UNLIMITED
    window_ms: int = 1050
    hold_ms: int = 30_000
    lease_ms: int = 990_000


@dataclass(frozen=True)
class Lease:
    """A pacing slot and concurrency lease granted to one dial.

    Attributes:
        member: the lease's id in every set.
        campaign_id: the campaign whose concurrency it counts against.
        caller_id: the caller ID (E.164) whose CPS window it counts against.
    """

    member: str
    campaign_id: int
    caller_id: str


@dataclass(frozen=True)
class Denied:
    """Why a lease was not granted now, and when to ask again.

    Attributes:
        reason: ``account_cps``, ``caller_id_cps``, ``campaign_concurrency`` or ``total_concurrency``.
        retry_after_ms: when a slot frees at the earliest (ms from now).
    """

    reason: str
    retry_after_ms: int


class Capacity(Protocol):
    """Pacing and concurrency shared by the dial tasks (see the module docstring)."""

    counts_in_database: bool
    """True when concurrent calls are counted from the database, not from leases."""

    def try_acquire(self, *, campaign_id: int, caller_id: str, campaign_limit: int) -> Lease | Denied:
        """Take a slot and lease now, or say why not (no waiting)."""
        ...

    def mark_sent(self, lease: Lease, *, attempt_id: int) -> bool:
        """Stamp the slot with the send time and bind the lease to the attempt; False if it expired."""
        ...

    def give_back(self, lease: Lease) -> None:
        """Return an unused slot and lease (the gate said no, the lead was gone)."""
        ...

    def release(self, *, campaign_id: int, attempt_id: int) -> None:
        """Free the concurrency lease of an attempt whose call has ended (idempotent)."""
        ...

    def in_use(self, *, campaign_id: int) -> tuple[int, int]:
        """Live leases ``(of the campaign, in total)``."""
        ...

    @property
    def limits(self) -> CapacityLimits:
        """The limits in force."""
        ...


def acquire(
    capacity: Capacity, *, campaign_id: int, caller_id: str, campaign_limit: int, timeout_s: float
) -> Lease | None:
    """Wait up to ``timeout_s`` seconds for a lease; None when none came in time.

    Sleeps until the earliest moment a slot can free by expiry (from the script's answer), at
    most ``POLL_S`` (a slot given back frees earlier), never past the deadline.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        got = capacity.try_acquire(
            campaign_id=campaign_id, caller_id=caller_id, campaign_limit=campaign_limit
        )
        if isinstance(got, Lease):
            return got
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(left, POLL_S, max(0.001, got.retry_after_ms / 1000.0)))


def attempt_member(attempt_id: int) -> str:
    """The lease id of an attempt once its call was sent."""
    return f"a{attempt_id}"


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

    def _run(self, keys: list[str], *args: object) -> list[object]:
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


def release_after_commit(session: Session, *, campaign_id: int, attempt_id: int) -> None:
    """Free the attempt's concurrency lease once ``session`` commits (no-op without a capacity).

    The capacity comes from ``session.info["capacity"]`` (the runtime's session factory puts it
    there). A Redis error is logged, not raised: the commit stands and the lease expires later.
    """
    capacity = session.info.get(SESSION_KEY)
    if capacity is None:
        return
    pending: list[tuple[int, int]] = session.info.setdefault(_PENDING_KEY, [])
    pending.append((campaign_id, attempt_id))
    if not session.info.get(_LISTENING_KEY):
        session.info[_LISTENING_KEY] = True
        event.listen(session, "after_commit", _release_pending)
        event.listen(session, "after_rollback", _forget_pending)


SESSION_KEY = "capacity"
"""``session.info`` key holding the process's :class:`Capacity`."""
_PENDING_KEY = "capacity_releases"
_LISTENING_KEY = "capacity_listening"


def _release_pending(session: Session) -> None:
    capacity: Capacity = session.info[SESSION_KEY]
    pending = session.info.pop(_PENDING_KEY, [])
    for campaign_id, attempt_id in pending:
        try:
            capacity.release(campaign_id=campaign_id, attempt_id=attempt_id)
        except redis.RedisError as exc:
            log.warning("could not release the lease of attempt %s (it will expire): %s", attempt_id, exc)


def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
