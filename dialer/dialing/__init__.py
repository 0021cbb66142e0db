"""Dialing: the hopper that selects leads and the step that gates and dials one.

- :mod:`dialer.dialing.hopper`: the tick's selection (callbacks, retries, new leads; ``FOR UPDATE
  SKIP LOCKED``; batch = free capacity) and campaign completion.
- :mod:`dialer.dialing.dial`: the dial task's work (take a capacity lease, then gate and create the
  attempt in one transaction with the lead locked, then place the call).
- :mod:`dialer.dialing.attempt`: what one dial writes (the refused lead's next state, or the
  attempt and its carrier request).

The calls themselves (capacity and pacing, the carrier, their progress and outcomes) are the
:mod:`dialer.calls` room, which this one builds on.
"""

from dialer.dialing.dial import DialResult, dial_lead
from dialer.dialing.hopper import active_attempts, claim_dialable_leads, complete_finished_campaigns

__all__ = [
    "DialResult",
    "active_attempts",
    "claim_dialable_leads",
    "complete_finished_campaigns",
    "dial_lead",
]
