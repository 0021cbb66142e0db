"""Where outbox messages go: one :class:`Destination` per name (``crm:hubspot``, ``webhook:<name>``).

A destination delivers one message and returns what the other side answered (its ids), or raises
:class:`~dialer.errors.DeliveryError` saying whether a retry can help. It must be safe to call
twice for the same message: a try whose outcome was unknown (a timeout) is retried.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from dialer.errors import DeliveryError
from dialer.outbox import ClaimedMessage

RETRYABLE_STATUSES = frozenset({408, 425, 429})
"""HTTP statuses below 500 that mean "try again later" (timeout, too early, rate limited)."""


class Destination(ABC):
    """One receiver of outbox messages.

    Attributes:
        name: the outbox destination it serves (``crm:hubspot``, ``webhook:ops``).
        worst_case_seconds: the longest one :meth:`deliver` can take (every request at its
            timeouts); the drain sizes its claims so a message's lease outlasts it.
    """

    name: str
    worst_case_seconds: float = 60.0

    @abstractmethod
    def deliver(self, message: ClaimedMessage) -> dict[str, Any]:
        """Deliver ``message``; return the receiver's answer as JSON-able data (ids, status).

        Raises:
            DeliveryError: refused or failed; ``retryable`` says whether to try again.
        """


def delivery_error_for_status(status: int, body: str) -> DeliveryError:
    """The error for a non-2xx HTTP answer: retryable for 5xx and :data:`RETRYABLE_STATUSES`."""
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    return DeliveryError(f"HTTP {status}: {body[:300]}", retryable=retryable, http_status=status)
