"""Twilio request authentication: ``X-Twilio-Signature`` on webhooks and on the media WebSocket.

The signed URL is rebuilt from the configured public URL (never from the proxied request, which
behind TLS termination shows ``http://`` or an internal host; PROTOCOLS C3) plus the request's path
and raw query string. The WebSocket handshake is signed over the ``wss://`` URL with no parameters
(PROTOCOLS A8); the lower-case header name is what Twilio sends there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from twilio.request_validator import RequestValidator


class _MultiParams(dict[str, list[str]]):
    """Form parameters with repeated keys, in the shape ``RequestValidator`` reads (``getlist``)."""

    def getlist(self, key: str) -> list[str]:
        return self[key]


class TwilioSignatureCheck:
    """Validates Twilio signatures for one auth token and public base URL.

    Args:
        auth_token: the account's primary auth token.
        public_url: the externally visible base URL, e.g. ``https://dialer.example.com``.
    """

    def __init__(self, auth_token: str, public_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._public_url = public_url.rstrip("/")

    def public_http_url(self, path: str, raw_query: str) -> str:
        """The URL Twilio requested for a webhook: public base + path + raw query string."""
        return f"{self._public_url}{path}" + (f"?{raw_query}" if raw_query else "")

    def webhook_is_valid(
        self,
        *,
        path: str,
        raw_query: str,
        form: Mapping[str, str] | Sequence[tuple[str, str]],
        signature: str | None,
    ) -> bool:
        """True when ``signature`` signs this form POST (every received parameter, repeated keys kept)."""
        if not signature:
            return False
        params = _MultiParams()
        for key, value in form.items() if isinstance(form, Mapping) else form:
            params.setdefault(key, []).append(value)
        return self._validator.validate(self.public_http_url(path, raw_query), params, signature)

    def stream_is_valid(self, *, stream_url: str, signature: str | None) -> bool:
        """True when ``signature`` signs the WebSocket upgrade to ``stream_url`` (as written in TwiML).

        Also accepts the URL with a trailing ``/``, as Twilio's security guide advises.
        """
        if not signature:
            return False
        return self._validator.validate(stream_url, {}, signature) or self._validator.validate(
            stream_url.rstrip("/") + "/", {}, signature
        )
