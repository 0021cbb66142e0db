"""Wire shapes of Twilio's 2010-04-01 Calls API: request parsing, the Call resource, error bodies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from starlette.datastructures import ImmutableMultiDict

if TYPE_CHECKING:
    from sandbox.carrier.records import CallRecord

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
"""A phone number in E.164 form: ``+`` and 7 to 15 digits, no leading zero."""
STATUS_CALLBACK_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})
"""Call-progress events an app may subscribe to with ``StatusCallbackEvent``."""
MACHINE_DETECTION_MODES = frozenset({"Enable", "DetectMessageEnd"})
_METHODS = frozenset({"GET", "POST"})


class TwilioApiError(Exception):
    """A REST request the real API would refuse, with Twilio's legacy error body."""

    def __init__(self, status: int, code: int, message: str):
        """Describe the refusal.

        Args:
            status: HTTP status, e.g. 400.
            code: Twilio error code, e.g. 21211 (documented at twilio.com/docs/errors/<code>).
            message: human-readable explanation.
        """
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """``{"code", "message", "more_info", "status"}`` as Twilio sends it."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def authentication_error() -> TwilioApiError:
    """The 401 (code 20003) Twilio answers to missing or wrong credentials."""
    return TwilioApiError(401, 20003, "Authenticate")


def not_found_error(path: str) -> TwilioApiError:
    """The 404 (code 20404) Twilio answers for an unknown resource at ``path``."""
    return TwilioApiError(404, 20404, f"The requested resource {path} was not found")


def invalid_parameter(name: str, value: str) -> TwilioApiError:
    """A generic 400 Bad Request for a parameter value the API does not accept."""
    return TwilioApiError(400, 400, f"Invalid {name}: {value!r}")


@dataclass(frozen=True)
class CallRequest:
    """A validated ``POST /Calls.json``.

    Attributes:
        to: dialled number, E.164.
        from_: caller ID, E.164.
        url: the TwiML webhook, requested when the call is answered.
        method: ``"POST"`` or ``"GET"`` for ``url``.
        status_callback: where call-progress events go, or None.
        status_callback_method: ``"POST"`` or ``"GET"``.
        status_callback_events: subscribed events; ``("completed",)`` unless the app chose.
        machine_detection: ``"Enable"``, ``"DetectMessageEnd"`` or None (no AMD).
        async_amd: True to report AMD to ``async_amd_status_callback`` instead of delaying the TwiML.
        async_amd_status_callback: where the asynchronous AMD verdict goes, or None.
        async_amd_status_callback_method: ``"POST"`` or ``"GET"``.
        time_limit_seconds: the app's maximum call length after answer, or None.
    """

    to: str
    from_: str
    url: str
    method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)
    machine_detection: str | None = None
    async_amd: bool = False
    async_amd_status_callback: str | None = None
    async_amd_status_callback_method: str = "POST"
    time_limit_seconds: int | None = None

    @classmethod
    def from_form(cls, form: ImmutableMultiDict[str, Any]) -> CallRequest:
        """Validate a create request's form fields the way the Calls API does.

        Args:
            form: the form-encoded body; ``StatusCallbackEvent`` may repeat.

        Returns:
            The request.

        Raises:
            TwilioApiError: 21211 for a bad ``To``, 21212 for a bad ``From``, 21205 without ``Url``,
                400 for any other unacceptable value.
        """
        to, from_ = str(form.get("To", "")), str(form.get("From", ""))
        if not E164.match(to):
            raise TwilioApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not E164.match(from_):
            raise TwilioApiError(400, 21212, f"The 'From' number {from_} is not a valid phone number.")
        url = str(form.get("Url", ""))
        if not url:
            raise TwilioApiError(400, 21205, "Url parameter is required.")
        events = tuple(str(event) for event in form.getlist("StatusCallbackEvent")) or ("completed",)
        for event in events:
            if event not in STATUS_CALLBACK_EVENTS:
                raise invalid_parameter("StatusCallbackEvent", event)
        machine_detection = _optional(form, "MachineDetection")
        if machine_detection is not None and machine_detection not in MACHINE_DETECTION_MODES:
            raise invalid_parameter("MachineDetection", machine_detection)
        return cls(
            to=to,
            from_=from_,
            url=url,
            method=_method(form, "Method"),
            status_callback=_optional(form, "StatusCallback"),
            status_callback_method=_method(form, "StatusCallbackMethod"),
            status_callback_events=events,
            machine_detection=machine_detection,
            async_amd=str(form.get("AsyncAmd", "false")).lower() == "true",
            async_amd_status_callback=_optional(form, "AsyncAmdStatusCallback"),
            async_amd_status_callback_method=_method(form, "AsyncAmdStatusCallbackMethod"),
            time_limit_seconds=_positive_int(form, "TimeLimit"),
        )


def _optional(form: ImmutableMultiDict[str, Any], name: str) -> str | None:
    value = form.get(name)
    return str(value) if value else None


def _method(form: ImmutableMultiDict[str, Any], name: str) -> str:
    value = str(form.get(name) or "POST").upper()
    if value not in _METHODS:
        raise invalid_parameter(name, value)
    return value


def _positive_int(form: ImmutableMultiDict[str, Any], name: str) -> int | None:
    raw = form.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise invalid_parameter(name, str(raw)) from None
    if value <= 0:
        raise invalid_parameter(name, str(raw))
    return value


def rfc2822(moment: datetime | None) -> str | None:
    """``"Tue, 31 Aug 2010 20:36:28 +0000"`` for a UTC datetime, None for None."""
    return format_datetime(moment) if moment is not None else None


def display_number(number: str) -> str:
    """A number formatted for display: ``(312) 555-0101`` for North America, else unchanged E.164."""
    if len(number) == 12 and number.startswith("+1"):
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def calls_uri(account_sid: str) -> str:
    """Path of an account's Calls list, e.g. ``/2010-04-01/Accounts/AC…/Calls.json``."""
    return f"/{API_VERSION}/Accounts/{account_sid}/Calls.json"


def call_resource(record: CallRecord) -> dict[str, Any]:
    """The Call resource JSON for ``record``, as ``GET /Calls/{CallSid}.json`` returns it."""
    base = f"/{API_VERSION}/Accounts/{record.account_sid}/Calls/{record.sid}"
    duration = record.duration_seconds
    return {
        "sid": record.sid,
        "date_created": rfc2822(record.created_at),
        "date_updated": rfc2822(record.updated_at),
        "parent_call_sid": None,
        "account_sid": record.account_sid,
        "to": record.request.to,
        "to_formatted": display_number(record.request.to),
        "from": record.request.from_,
        "from_formatted": display_number(record.request.from_),
        "phone_number_sid": None,
        "status": record.status,
        "start_time": rfc2822(record.started_at),
        "end_time": rfc2822(record.ended_at),
        "duration": str(duration) if duration is not None else None,
        "price": None,
        "price_unit": "USD",
        "direction": "outbound-api",
        "answered_by": record.answered_by,
        "api_version": API_VERSION,
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": "0",
        "trunk_sid": None,
        "uri": f"{base}.json",
        "subresource_uris": {
            name: f"{base}/{name}.json"
            for name in ("notifications", "recordings", "payments", "events", "siprec", "streams")
        },
    }
