"""The transactional outbox: events published with the change they report, delivered later.

:mod:`~dialer.outbox.publish` writes events in the caller's transaction (``meeting.booked``,
``call.completed``, ``dnc.added``); :mod:`~dialer.outbox.queue` routes them to destinations,
claims due messages and settles each try (backoff, dead letters); :mod:`~dialer.outbox.status`
reads the state for ``dialer crm outbox`` and the console. The deliveries themselves (HubSpot,
signed webhooks) are the CRM's: ``crm.outbox``.
"""

from dialer.outbox.publish import publish, publish_call_completed, publish_dnc_added, publish_meeting_booked
from dialer.outbox.queue import (
    ClaimedMessage,
    Routed,
    Try,
    backoff_seconds,
    claim_due,
    fan_out,
    requeue,
    settle,
    settle_many,
)

__all__ = [
    "ClaimedMessage",
    "Routed",
    "Try",
    "backoff_seconds",
    "claim_due",
    "fan_out",
    "publish",
    "publish_call_completed",
    "publish_dnc_added",
    "publish_meeting_booked",
    "requeue",
    "settle",
    "settle_many",
]
