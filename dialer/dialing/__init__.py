"""Dialing: the hopper that selects leads and the step that gates and dials one.

- :mod:`dialer.dialing.hopper`: the tick's selection (callbacks, retries, new leads; ``FOR UPDATE
  SKIP LOCKED``; batch = free capacity) and campaign completion.
- :mod:`dialer.dialing.dial`: the dial task's work, set-based for a batch of leads (take k of N
  slots and leases, then in one transaction with the leads locked read the gate's facts
  (:mod:`~dialer.dialing.facts`), gate and write every row in bulk (:mod:`~dialer.dialing.decide`,
  rows from :mod:`~dialer.dialing.attempt`), then place the calls concurrently
  (:mod:`~dialer.dialing.placing`)).

The calls themselves (capacity and pacing, the carrier, their progress and outcomes) are the
:mod:`dialer.calls` room, which this one builds on.
"""

from dialer.dialing.dial import DialResult, dial_batch, dial_lead
from dialer.dialing.hopper import active_attempts, claim_dialable_leads, complete_finished_campaigns

__all__ = [
    "DialResult",
    "active_attempts",
    "claim_dialable_leads",
    "complete_finished_campaigns",
    "dial_batch",
    "dial_lead",
]
