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

The stores are in :mod:`dialer.calls.capacity_stores`: ``RedisCapacity`` keeps all four sets in
Redis sorted sets, changed in one Lua script, so any number of workers share exact limits;
``LocalCapacity`` is the same algorithm in one process (the SQLite demo's single worker), which
counts concurrent calls in the database instead (its leases would not be seen by the API process
that applies final statuses).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
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

    def take(
        self, *, campaign_id: int, caller_id: str, campaign_limit: int, count: int
    ) -> list[Lease] | Denied:
        """Take up to ``count`` slots and leases at once, or say why not one is free now (no waiting).

        k of N: as many as every limit has room for (at least one), all held as one grant.
        """
        ...

    def mark_sending(self, pairs: Sequence[tuple[Lease, int]]) -> list[bool]:
        """Bind each ``(lease, attempt id)`` to its attempt just before its request is sent.

        The pacing slot stays held (``hold_ms`` from now) until :meth:`stamp_sent`; one answer
        per pair, False when the slot's hold had run out (the request must not be sent).
        """
        ...

    def stamp_sent(self, *, campaign_id: int, caller_id: str, attempt_ids: Sequence[int]) -> None:
        """The attempts' requests have been sent: keep their pacing slots one window from now."""
        ...

    def give_back_many(self, leases: Sequence[Lease]) -> None:
        """Return unused slots and leases (of one campaign and caller ID) in one step."""
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


def acquire_many(
    capacity: Capacity, *, campaign_id: int, caller_id: str, campaign_limit: int, count: int, timeout_s: float
) -> list[Lease]:
    """Wait up to ``timeout_s`` seconds for at least one of ``count`` leases; [] when none came.

    Takes as many as are free at the first grant (never more than ``count``), sleeping between
    tries as :func:`acquire` does.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        got = capacity.take(
            campaign_id=campaign_id, caller_id=caller_id, campaign_limit=campaign_limit, count=count
        )
        if isinstance(got, list):
            return got
        left = deadline - time.monotonic()
        if left <= 0:
            return []
        time.sleep(min(left, POLL_S, max(0.001, got.retry_after_ms / 1000.0)))


def attempt_member(attempt_id: int) -> str:
    """The lease id of an attempt once its call was sent."""
    return f"a{attempt_id}"


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
