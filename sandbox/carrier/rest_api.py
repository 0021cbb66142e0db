"""The Calls REST API under ``/2010-04-01/Accounts/{AccountSid}``, as the twilio SDK calls it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.carrier.calls import CallFilter, Carrier
from sandbox.carrier.faults import HoldCreates
from sandbox.carrier.records import CallRecord
from sandbox.carrier.rest_models import (
    API_VERSION,
    CallRequest,
    TwilioApiError,
    authentication_error,
    call_resource,
    calls_uri,
    invalid_parameter,
    not_found_error,
)

_DEFAULT_PAGE_SIZE = 50
_MAX_PAGE_SIZE = 1000
_PAGING_KEYS = frozenset({"Page", "PageSize", "PageToken"})

Handler = Callable[[Request], Awaitable[Response]]


def _credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, separator, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if separator else None


def _parse_time(name: str, raw: str) -> date | datetime:
    """A ``StartTime`` filter: ``YYYY-MM-DD`` (a UTC date) or an ISO-8601 datetime (naive means UTC)."""
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid_parameter(name, raw) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_parameter(name, raw) from None
    if not low <= value <= high:
        raise invalid_parameter(name, raw)
    return value


def _call_filter(request: Request) -> CallFilter:
    query = request.query_params
    started_on = _parse_time("StartTime", query["StartTime"]) if "StartTime" in query else None
    if isinstance(started_on, datetime):
        started_on = started_on.date()
    return CallFilter(
        to=query.get("To"),
        from_=query.get("From"),
        status=query.get("Status"),
        started_on=started_on,
        started_after=_parse_time("StartTime>", query["StartTime>"]) if "StartTime>" in query else None,
        started_before=_parse_time("StartTime<", query["StartTime<"]) if "StartTime<" in query else None,
    )


class CallsApi:
    """Request handlers for ``Calls.json`` and ``Calls/{CallSid}.json``."""

    def __init__(self, carrier: Carrier):
        """Serve ``carrier``'s calls."""
        self._carrier = carrier

    def routes(self) -> list[Route]:
        """Starlette routes at the paths the twilio SDK requests."""
        prefix = f"/{API_VERSION}/Accounts/{{account_sid}}"
        return [
            Route(f"{prefix}/Calls.json", self._guarded(self._calls), methods=["GET", "POST"]),
            Route(f"{prefix}/Calls/{{call_sid}}.json", self._guarded(self._call), methods=["GET", "POST"]),
        ]

    def _guarded(self, handler: Handler) -> Handler:
        """Wrap ``handler`` with HTTP Basic authentication and Twilio-style error bodies."""

        async def guarded(request: Request) -> Response:
            try:
                self._authenticate(request)
                return await handler(request)
            except TwilioApiError as exc:
                return JSONResponse(exc.body(), status_code=exc.status)

        return guarded

    def _authenticate(self, request: Request) -> None:
        config = self._carrier.config
        credentials = _credentials(request)
        if credentials is None:
            raise authentication_error()
        user, password = credentials
        valid = (
            hmac.compare_digest(user.encode(), config.account_sid.encode())
            and hmac.compare_digest(password.encode(), config.auth_token.encode())
            and request.path_params["account_sid"] == config.account_sid
        )
        if not valid:
            raise authentication_error()

    async def _calls(self, request: Request) -> Response:
        if request.method == "POST":
            call_request = CallRequest.from_form(await request.form())
            carrier = self._carrier
            if carrier.faults.hold_creates == "before_create":
                if not await self._hold(request, "before_create"):
                    carrier.creates_dropped += 1
                    return Response(status_code=499)  # nobody is listening; the call never existed
            record = carrier.place(call_request)
            if carrier.faults.hold_creates == "after_create":
                await self._hold(request, "after_create")
            return JSONResponse(call_resource(record), status_code=201)
        return JSONResponse(self._page(request))

    async def _call(self, request: Request) -> Response:
        record = self._record(request)
        if request.method == "POST":
            form = await request.form()
            status = form.get("Status")
            if status is None:
                raise TwilioApiError(400, 400, "The sandbox carrier only supports updating a call's Status")
            self._carrier.hang_up(record, str(status))
        return JSONResponse(call_resource(record))

    async def _hold(self, request: Request, stage: HoldCreates) -> bool:
        """Wait while the ``hold_creates`` fault holds ``stage``; False if the client went away."""
        carrier = self._carrier
        carrier.creates_held += 1
        try:
            while carrier.faults.hold_creates == stage:
                if await request.is_disconnected():
                    return False
                await asyncio.sleep(0.05)
            return not await request.is_disconnected()
        finally:
            carrier.creates_held -= 1

    def _record(self, request: Request) -> CallRecord:
        record = self._carrier.get(request.path_params["call_sid"])
        if record is None:
            raise not_found_error(request.url.path)
        return record

    def _page(self, request: Request) -> dict[str, object]:
        """One page of the filtered Calls list, in the format ``twilio.base.page.Page`` parses."""
        query = request.query_params
        page_size = _parse_int("PageSize", query.get("PageSize"), _DEFAULT_PAGE_SIZE, 1, _MAX_PAGE_SIZE)
        page = _parse_int("Page", query.get("Page"), 0, 0, 1_000_000)
        records = self._carrier.find(_call_filter(request))
        start = page * page_size
        chunk = records[start : start + page_size]
        filters = [(key, value) for key, value in query.multi_items() if key not in _PAGING_KEYS]
        base = calls_uri(request.path_params["account_sid"])

        def page_uri(number: int) -> str:
            return f"{base}?{urlencode([*filters, ('PageSize', page_size), ('Page', number)])}"

        return {
            "calls": [call_resource(record) for record in chunk],
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if start + page_size < len(records) else None,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "page": page,
            "page_size": page_size,
            "start": start,
            "end": start + max(len(chunk) - 1, 0),
            "uri": page_uri(page),
        }
