"""The carrier client: the only code that speaks Twilio REST.

:class:`CarrierClient` is the seam; :class:`TwilioCarrier` is the real adapter (the ``twilio`` SDK,
pointed at api.twilio.com or, for rehearsals, at a sandbox carrier through ``base_url``). Tests
use the recording fake in ``tests/fakes/carrier.py``.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from dialer.errors import CarrierError, CarrierUnavailableError
from dialer.settings import Settings

STATUS_CALLBACK_EVENTS = ("initiated", "ringing", "answered", "completed")
"""Every call-progress event (Twilio's default is ``completed`` only)."""

_ALREADY_ENDED_CODES = {20404, 21220}
"""Twilio codes meaning the call no longer exists or is not in progress (hang-up is then a no-op)."""


@dataclass(frozen=True)
class PlaceCallRequest:
    """Everything needed to place one outbound call.

    Attributes:
        to: callee, E.164.
        from_: caller ID, E.164 (a Twilio number or verified caller ID).
        twiml_url: absolute URL Twilio fetches on answer (carries the attempt id in its query).
        status_callback_url: absolute URL for call-progress callbacks (all events).
        amd_callback_url: absolute URL for the async AMD verdict.
        record: ask Twilio to record the call.
        ring_timeout_seconds: how long to ring before ``no-answer`` (15-600).
        machine_detection_timeout_seconds: how long AMD may take before ``unknown``.
        time_limit_seconds: longest the call may last once answered (caps a runaway call's cost).
    """

    to: str
    from_: str
    twiml_url: str
    status_callback_url: str
    amd_callback_url: str
    record: bool
    ring_timeout_seconds: int
    machine_detection_timeout_seconds: int
    time_limit_seconds: int


@dataclass(frozen=True)
class PlacedCall:
    """A call as the carrier reports it.

    Attributes:
        sid: the CallSid.
        status: Twilio's call status (``queued``, ``ringing``, ``in-progress``, ``completed``...).
        to: callee, E.164.
        created_at: when the carrier created it (UTC), if reported.
        duration_seconds: call length once it has ended, if reported.
        answered_by: the AMD verdict on the Call resource (``human``, ``machine_start``, ...), if any.
    """

    sid: str
    status: str
    to: str
    created_at: datetime | None = None
    duration_seconds: int | None = None
    answered_by: str | None = None


class CarrierClient(ABC):
    """Places and ends calls. Implementations are synchronous (workers call them in threads)."""

    @abstractmethod
    def place_call(self, request: PlaceCallRequest) -> PlacedCall:
        """Create an outbound call.

        Raises:
            CarrierUnavailableError: the request was not processed (transport error, 5xx, 429);
                whether a call exists is unknown only for transport errors after sending.
            CarrierError: the carrier refused the call (4xx), e.g. an invalid number.
        """

    @abstractmethod
    def hang_up(self, call_sid: str) -> None:
        """End a call in any state (``status=completed``); a call that already ended is not an error.

        Raises:
            CarrierError: the carrier refused for another reason.
        """

    @abstractmethod
    def fetch_call(self, call_sid: str) -> PlacedCall | None:
        """The call as the carrier knows it now, or None if the carrier has no such call.

        Raises:
            CarrierError: the request failed.
        """

    @abstractmethod
    def calls_to(self, to: str, *, since: datetime) -> list[PlacedCall]:
        """Calls to ``to`` created at or after ``since`` (UTC; whole-day precision is acceptable).

        Used to reconcile an attempt whose create request may have reached the carrier.
        """


POOL_CONNECTIONS = 64
"""Keep-alive connections the carrier client keeps per host (one per concurrent dial thread)."""


TWILIO_API = "https://api.twilio.com"
"""Where the SDK sends REST requests when no sandbox base URL is set."""


def pooled_http_client(timeout_seconds: float, base_url: str | None = None) -> TwilioHttpClient:
    """The SDK's transport: one keep-alive pool per process, sized for every dial thread.

    Connection reuse: ``TwilioHttpClient`` mounts a pool of ``min(32, cpus + 4)`` connections for
    ``https://`` (6 on a 2-core machine) and requests' default of 10 for ``http://``; with more
    threads than that, each surplus request opens a new connection (a TLS handshake to
    api.twilio.com) and throws it away afterwards. Both schemes get :data:`POOL_CONNECTIONS`.

    The environment is read once, here, not on every request: with ``trust_env`` requests scans
    every environment variable twice per request for proxy settings (about 0.4 ms of CPU, half
    the SDK's own cost per call). The proxy for ``base_url`` (``HTTPS_PROXY``/``NO_PROXY``...) and
    the CA bundle (``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) are resolved at start instead.
    """
    client = TwilioHttpClient(timeout=timeout_seconds, pool_connections=True)
    session = client.session
    assert session is not None
    for scheme in ("https://", "http://"):
        session.mount(scheme, HTTPAdapter(pool_connections=4, pool_maxsize=POOL_CONNECTIONS))
    session.proxies.update(get_environ_proxies(base_url or TWILIO_API))
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.trust_env = False
    return client


class TwilioCarrier(CarrierClient):
    """:class:`CarrierClient` over the ``twilio`` SDK.

    Args:
        account_sid: ``AC…`` account SID.
        auth_token: the account's auth token.
        base_url: None for api.twilio.com; a sandbox carrier's base URL otherwise.
        timeout_seconds: HTTP timeout per request.
        http_client: the SDK's transport (default: ``TwilioHttpClient``); tests pass a recorder.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        base_url: str | None = None,
        timeout_seconds: float = 10.0,
        http_client: HttpClient | None = None,
    ) -> None:
        transport = http_client or pooled_http_client(timeout_seconds, base_url)
        self._client = Client(account_sid, auth_token, http_client=transport)
        if base_url is not None:
            self._client.api.base_url = base_url

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioCarrier:
        """The carrier the settings name (sandbox when ``twilio_api_base_url`` is set)."""
        return cls(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            base_url=settings.twilio_api_base_url,
        )

    def place_call(self, request: PlaceCallRequest) -> PlacedCall:
        """See :meth:`CarrierClient.place_call`; uses async AMD and every status callback event."""
        try:
            call = self._client.calls.create(
                to=request.to,
                from_=request.from_,
                url=request.twiml_url,
                method="POST",
                status_callback=request.status_callback_url,
                status_callback_event=list(STATUS_CALLBACK_EVENTS),
                status_callback_method="POST",
                machine_detection="Enable",
                machine_detection_timeout=request.machine_detection_timeout_seconds,
                async_amd="true",
                async_amd_status_callback=request.amd_callback_url,
                async_amd_status_callback_method="POST",
                record=request.record,
                timeout=request.ring_timeout_seconds,
                time_limit=request.time_limit_seconds,
            )
        except TwilioRestException as exc:
            raise _carrier_error(exc) from exc
        except TwilioException as exc:
            raise CarrierUnavailableError(f"carrier request failed: {exc}") from exc
        except OSError as exc:
            raise CarrierUnavailableError(f"carrier unreachable: {exc}") from exc
        return PlacedCall(
            sid=call.sid or "",
            status=str(call.status or "queued"),
            to=request.to,
            created_at=call.date_created,
        )

    def hang_up(self, call_sid: str) -> None:
        """See :meth:`CarrierClient.hang_up` (Twilio 20404 "not found" counts as already ended)."""
        try:
            self._client.calls(call_sid).update(status="completed")
        except TwilioRestException as exc:
            if exc.code in _ALREADY_ENDED_CODES or exc.status == 404:
                return
            raise _carrier_error(exc) from exc
        except (TwilioException, OSError) as exc:
            raise CarrierUnavailableError(f"hang-up of {call_sid} failed: {exc}") from exc

    def fetch_call(self, call_sid: str) -> PlacedCall | None:
        """See :meth:`CarrierClient.fetch_call` (Twilio 20404 means no such call)."""
        try:
            call = self._client.calls(call_sid).fetch()
        except TwilioRestException as exc:
            if exc.code == 20404 or exc.status == 404:
                return None
            raise _carrier_error(exc) from exc
        except (TwilioException, OSError) as exc:
            raise CarrierUnavailableError(f"fetching {call_sid} failed: {exc}") from exc
        duration = int(call.duration) if call.duration not in (None, "") else None
        return PlacedCall(
            sid=call.sid or call_sid,
            status=str(call.status),
            to=call.to or "",
            created_at=call.date_created,
            duration_seconds=duration,
            answered_by=call.answered_by or None,
        )

    def calls_to(self, to: str, *, since: datetime) -> list[PlacedCall]:
        """See :meth:`CarrierClient.calls_to`."""
        try:
            calls = self._client.calls.list(to=to, start_time_after=since, page_size=50)
        except TwilioRestException as exc:
            raise _carrier_error(exc) from exc
        except (TwilioException, OSError) as exc:
            raise CarrierUnavailableError(f"listing calls to {to} failed: {exc}") from exc
        return [
            PlacedCall(sid=c.sid or "", status=str(c.status), to=c.to or to, created_at=c.date_created)
            for c in calls
        ]


def _carrier_error(exc: TwilioRestException) -> CarrierError:
    message = f"carrier refused (HTTP {exc.status}, code {exc.code}): {exc.msg}"
    if exc.status == 429 or exc.status >= 500 or exc.code == 20429:
        return CarrierUnavailableError(message, code=exc.code, http_status=exc.status)
    return CarrierError(message, code=exc.code, http_status=exc.status)
