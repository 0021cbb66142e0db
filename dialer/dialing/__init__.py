"""Dialing: the hopper that selects leads, the capacity that paces them, the step that dials one.

- :mod:`dialer.dialing.hopper`: the tick's selection (callbacks, retries, new leads; ``FOR UPDATE
  SKIP LOCKED``; batch = free capacity) and campaign completion.
- :mod:`dialer.dialing.capacity`: calls per second per account and caller ID, concurrent calls per
  campaign and in total, as expiring leases; :mod:`dialer.dialing.capacity_stores` keeps them
  (one Redis Lua script, or in process).
- :mod:`dialer.dialing.dial`: the dial task's work, set-based for a batch of leads (take k of N
  slots and leases, then in one transaction with the leads locked read the gate's facts
  (:mod:`~dialer.dialing.facts`), gate and write every row in bulk (:mod:`~dialer.dialing.decide`,
  rows from :mod:`~dialer.dialing.attempt`), then place the calls concurrently
  (:mod:`~dialer.dialing.placing`); :mod:`~dialer.dialing.failure` ends an attempt with no call).
- :mod:`dialer.dialing.pacing`: the older pacers (CPS only), kept for callers that use them.
"""

from dialer.dialing.capacity import (
    UNLIMITED,
    Capacity,
    CapacityLimits,
    Denied,
    Lease,
    acquire,
    acquire_many,
    release_after_commit,
)
from dialer.dialing.capacity_stores import LocalCapacity, RedisCapacity
from dialer.dialing.dial import DialResult, dial_batch, dial_lead, fail_attempt
from dialer.dialing.hopper import active_attempts, claim_dialable_leads, complete_finished_campaigns
from dialer.dialing.pacing import CallPacer, LocalCallPacer, RedisCallPacer

__all__ = [
    "UNLIMITED",
    "CallPacer",
    "Capacity",
    "CapacityLimits",
    "Denied",
    "DialResult",
    "Lease",
    "LocalCallPacer",
    "LocalCapacity",
    "RedisCallPacer",
    "RedisCapacity",
    "acquire",
    "acquire_many",
    "active_attempts",
    "claim_dialable_leads",
    "complete_finished_campaigns",
    "dial_batch",
    "dial_lead",
    "fail_attempt",
    "release_after_commit",
]
