"""Outbound webhooks: events POSTed to the receivers in ``DIALER_CRM__WEBHOOKS``, HMAC-SHA256 signed.

Each delivery is one POST of a JSON body::

    {"id": "meeting.booked:meeting-12", "type": "meeting.booked",
     "occurred_at": "2026-12-08T17:04:11Z", "data": {...}}

with these headers:

- ``X-Dialer-Signature: t=<unix seconds>,v1=<hex>``: ``v1`` is HMAC-SHA256 with the endpoint's
  secret over ``"<t>." + body`` (the raw body bytes as received); ``t`` is when this try was sent
  (the wall clock, re-signed on every retry);
- ``X-Dialer-Event``: the type; ``Idempotency-Key``: the event id, the same on every retry, so a
  receiver that saw it already answers 2xx and does nothing;
- ``X-Dialer-Delivery``: ``<message id>.<try>``, for the receiver's logs.

A receiver checks the signature with :func:`verify_signature` (or the same few lines in its own
language: recompute the HMAC, compare in constant time, refuse a ``t`` older than the replay
window, 300 s by default). Any 2xx accepts the event; 408, 429, 5xx, a timeout or a refused
connection are retried with backoff; any other answer (a 3xx included: redirects are not followed)
sends the message to the dead letters at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from crm.adapters import Links
from crm.destinations import Destination, delivery_error_for_status
from dialer.crm_settings import WebhookEndpoint
from dialer.errors import AccessDeniedError, DeliveryError
from dialer.outbox import ClaimedMessage

SIGNATURE_HEADER = "X-Dialer-Signature"
REPLAY_WINDOW_SECONDS = 300
"""How old a signature's ``t`` may be before :func:`verify_signature` refuses it (seconds)."""

__all__ = [
    "REPLAY_WINDOW_SECONDS",
    "SIGNATURE_HEADER",
    "WebhookSender",
    "WebhookSignatureError",
    "sign",
    "verify_signature",
    "webhook_body",
]


class WebhookSignatureError(AccessDeniedError):
    """A webhook whose signature header is missing, malformed, wrong or too old (replay)."""


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    """The ``X-Dialer-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float,
    tolerance_seconds: int = REPLAY_WINDOW_SECONDS,
) -> int:
    """Check a received webhook; return its timestamp (unix seconds).

    Args:
        header: the ``X-Dialer-Signature`` value as received.
        body: the raw request body.
        now: the receiver's clock, unix seconds.
        tolerance_seconds: the replay window: a signature older (or further in the future) is refused.

    Raises:
        WebhookSignatureError: the header is missing or malformed, no ``v1`` matches, or ``t`` is
            outside the window; the message says which.
    """
    if not header:
        raise WebhookSignatureError(f"missing {SIGNATURE_HEADER} header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise WebhookSignatureError(f"{SIGNATURE_HEADER} has no t=<unix seconds>") from None
    expected = sign(secret, body, timestamp=timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise WebhookSignatureError("the signature does not match the body")
    if abs(now - timestamp) > tolerance_seconds:
        raise WebhookSignatureError(
            f"the signature is {int(now - timestamp)} s old, outside the {tolerance_seconds} s replay window"
        )
    return timestamp


def webhook_body(message: ClaimedMessage, *, transcript_url: str | None = None) -> bytes:
    """The JSON body of ``message`` (see the module docstring), compact and key-sorted."""
    data: dict[str, Any] = dict(message.payload)
    if transcript_url is not None:
        data["transcript_url"] = transcript_url
    document = {
        "id": message.event_key,
        "type": message.event_type,
        "occurred_at": message.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


class WebhookSender(Destination):
    """Delivers outbox messages to one webhook endpoint.

    Args:
        endpoint: the receiver's settings (URL, secret, events).
        client: the HTTP client (tests pass one with ``httpx.MockTransport`` or a real server).
        links: the dialer's URLs (the transcript link put in ``call.completed`` data).
        wall_clock: unix seconds for the signature's ``t`` (not the sandbox clock: receivers use real time).
    """

    def __init__(
        self,
        endpoint: WebhookEndpoint,
        client: httpx.Client,
        *,
        links: Links,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = f"webhook:{endpoint.name}"
        self._endpoint = endpoint
        self._client = client
        self._links = links
        self._wall_clock = wall_clock
        t = client.timeout  # each phase may use its whole timeout: connect, write, read, pool
        self.worst_case_seconds = sum(x or 60.0 for x in (t.connect, t.write, t.read, t.pool))

    def deliver(self, message: ClaimedMessage) -> dict[str, Any]:
        """POST the signed event; return ``{"status": <HTTP status>}``.

        Raises:
            DeliveryError: not a 2xx (retryable for 408, 429, 5xx), a timeout or a transport error.
        """
        attempt_id = message.payload.get("attempt_id")
        link = None
        if message.event_type == "call.completed" and isinstance(attempt_id, int):
            link = self._links.transcript(attempt_id)
        body = webhook_body(message, transcript_url=link)
        secret = self._endpoint.secret.get_secret_value()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body, timestamp=int(self._wall_clock())),
            "X-Dialer-Event": message.event_type,
            "Idempotency-Key": message.event_key,
            "X-Dialer-Delivery": f"{message.message_id}.{message.attempt}",
        }
        try:
            response = self._client.post(self._endpoint.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(
                f"timed out ({type(exc).__name__}); outcome unknown", retryable=True
            ) from None
        except httpx.TransportError as exc:
            raise DeliveryError(f"could not reach {self._endpoint.url}: {exc}", retryable=True) from None
        if not response.is_success:
            raise delivery_error_for_status(response.status_code, response.text)
        return {"status": response.status_code}
