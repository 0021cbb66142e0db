"""Calls: placing them within capacity, their progress at the carrier, and how they end.

- :mod:`.capacity` and :mod:`.capacity_stores`: calls per second per account and caller ID and
  concurrent calls per campaign and in total, as expiring leases (one Redis Lua script, or in
  process); :mod:`.pacing`: the older CPS-only pacers.
- :mod:`.carrier`: the only code that speaks Twilio REST.
- :mod:`.attempts`: an attempt after the dial: status and AMD callbacks (idempotent), stream
  tokens, the call's context for the bridge, transcripts, the disclosure's proof, agent usage.
- :mod:`.outcomes`: dispositions and the retry policy: final, retry later, call back, never again.
- :mod:`.reconcile`: attempts whose request or call the carrier must be asked about; failed ones.
- :mod:`.callbacks`: callbacks a prospect asks for.

It imports the rooms below it (audit, models, the core), never :mod:`dialer.dialing`, which builds
on it.
"""

from dialer.calls.capacity import (
    UNLIMITED,
    Capacity,
    CapacityLimits,
    Denied,
    Lease,
    acquire,
    acquire_many,
    release_after_commit,
)
from dialer.calls.capacity_stores import LocalCapacity, RedisCapacity
from dialer.calls.pacing import CallPacer, LocalCallPacer, RedisCallPacer
from dialer.calls.reconcile import fail_attempt, reconcile_overdue_calls, reconcile_requesting_attempts

__all__ = [
    "UNLIMITED",
    "CallPacer",
    "Capacity",
    "CapacityLimits",
    "Denied",
    "Lease",
    "LocalCallPacer",
    "LocalCapacity",
    "RedisCallPacer",
    "RedisCapacity",
    "acquire",
    "acquire_many",
    "fail_attempt",
    "reconcile_overdue_calls",
    "reconcile_requesting_attempts",
    "release_after_commit",
]
