"""Signed webhook requests, made the way Twilio makes them (``X-Twilio-Signature``, HMAC-SHA1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from twilio.request_validator import RequestValidator

_USER_AGENT = "TwilioProxy/1.1"


@dataclass(frozen=True)
class WebhookResult:
    """How one webhook request went.

    Attributes:
        status_code: the HTTP status, or None when no response came.
        body: the response body (TwiML for a voice URL), empty on failure.
        error: why no response came (connection refused, timeout, ...), else None.
    """

    status_code: int | None
    body: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx response."""
        return self.status_code is not None and 200 <= self.status_code < 300

    def describe(self) -> str:
        """``"200"``, ``"500"`` or the error text, for the call log."""
        return str(self.status_code) if self.status_code is not None else f"error: {self.error}"


def _without_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc)), (parts.username, parts.password or "")


class WebhookSender:
    """Makes signed form POSTs (or GETs) to an app's webhooks; never raises for delivery failures."""

    def __init__(self, client: httpx.AsyncClient, auth_token: str):
        """Sign with ``auth_token``, send with ``client`` (its timeout applies)."""
        self._client = client
        self._validator = RequestValidator(auth_token)

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        """The ``X-Twilio-Signature`` of a request to ``url`` carrying form ``params``."""
        return self._validator.compute_signature(url, dict(params))

    async def send(self, url: str, params: Mapping[str, str], method: str = "POST") -> WebhookResult:
        """Request ``url`` like Twilio does.

        POST sends ``params`` form-encoded and signs the URL plus the sorted params. GET appends
        ``params`` to the query string and signs that full URL. Credentials in the URL
        (``user:pass@``) become HTTP Basic auth and are left out of the signed URL.

        Args:
            url: the webhook URL exactly as the app configured it, query string included.
            params: the webhook's parameters.
            method: ``"POST"`` or ``"GET"``.

        Returns:
            The outcome; connection errors and timeouts are reported, not raised.
        """
        target, auth = _without_userinfo(url)
        headers = {"User-Agent": _USER_AGENT}
        basic_auth = auth or httpx.USE_CLIENT_DEFAULT
        try:
            if method == "GET":
                separator = "&" if urlsplit(target).query else "?"
                full_url = f"{target}{separator}{urlencode(params)}" if params else target
                headers["X-Twilio-Signature"] = self.sign(full_url, {})
                response = await self._client.get(full_url, headers=headers, auth=basic_auth)
            else:
                headers["X-Twilio-Signature"] = self.sign(target, params)
                response = await self._client.post(
                    target, data=dict(params), headers=headers, auth=basic_auth
                )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return WebhookResult(status_code=None, error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        return WebhookResult(status_code=response.status_code, body=response.text)
