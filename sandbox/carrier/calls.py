"""The carrier's call registry: places calls, hangs them up, finds them, and counts what happened."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx

from sandbox.carrier.cast import cast_for
from sandbox.carrier.config import CarrierConfig
from sandbox.carrier.faults import CarrierFaults
from sandbox.carrier.lifecycle import CallLifecycle
from sandbox.carrier.prospect import Prospect
from sandbox.carrier.records import UNANSWERED_STATUSES, CallRecord
from sandbox.carrier.rest_models import CallRequest, invalid_parameter
from sandbox.carrier.webhooks import WebhookSender

_SHUTDOWN_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class CallFilter:
    """The list filters of ``GET /Calls.json``.

    Attributes:
        to: only calls to this number.
        from_: only calls from this number.
        status: only calls in this status.
        started_on: only calls started on this UTC date (``StartTime``).
        started_after: only calls started on or after this (``StartTime>``): a date, or an aware datetime.
        started_before: only calls started on or before this (``StartTime<``): a date, or an aware datetime.
    """

    to: str | None = None
    from_: str | None = None
    status: str | None = None
    started_on: date | None = None
    started_after: date | datetime | None = None
    started_before: date | datetime | None = None

    def matches(self, record: CallRecord) -> bool:
        """True when ``record`` passes every filter that is set."""
        if self.to is not None and record.request.to != self.to:
            return False
        if self.from_ is not None and record.request.from_ != self.from_:
            return False
        if self.status is not None and record.status != self.status:
            return False
        bounds = (self.started_on, self.started_after, self.started_before)
        if all(bound is None for bound in bounds):
            return True
        started = record.started_at
        if started is None:
            return False
        if self.started_on is not None and started.date() != self.started_on:
            return False
        if self.started_after is not None and _compare(started, self.started_after) < 0:
            return False
        return self.started_before is None or _compare(started, self.started_before) <= 0


def _compare(moment: datetime, bound: date | datetime) -> int:
    if isinstance(bound, datetime):
        return (moment > bound) - (moment < bound)
    day = moment.date()
    return (day > bound) - (day < bound)


class Carrier:
    """Every call this sandbox carrier has placed, and the tasks that run the live ones."""

    def __init__(self, config: CarrierConfig, faults: CarrierFaults | None = None):
        """An empty carrier with ``faults`` in force (none by default); call :meth:`start` first."""
        self.config = config
        self.faults = faults or CarrierFaults()
        self.creates_held = 0
        self.creates_dropped = 0
        self._calls: dict[str, CallRecord] = {}
        self._creates_by_url: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sender: WebhookSender | None = None

    def start(self, client: httpx.AsyncClient) -> None:
        """Begin serving; webhooks go out through ``client``."""
        self._sender = WebhookSender(client, self.config.auth_token)

    async def shutdown(self) -> None:
        """Hang up every live call, give them a moment to send their final webhooks, then stop."""
        for record in self._calls.values():
            if not record.is_ended:
                status = "canceled" if record.status in UNANSWERED_STATUSES else "completed"
                record.end(status, "the sandbox carrier shut down")
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=_SHUTDOWN_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def place(self, request: CallRequest) -> CallRecord:
        """Create a queued call for a validated request and start its lifecycle in the background.

        Raises:
            RuntimeError: if the carrier has not been started.
        """
        if self._sender is None:
            raise RuntimeError("the carrier is not started")
        casting = cast_for(request.to)
        prospect = Prospect(
            casting.persona,
            ms_per_char=self.config.ms_per_char,
            reply_delay_ms=self.config.reply_delay_ms,
            patience_ms=self.config.prospect_patience_seconds * 1000,
            clear_window_ms=self.config.barge_in_clear_window_ms,
        )
        record = CallRecord(
            sid="CA" + uuid.uuid4().hex,
            account_sid=self.config.account_sid,
            request=request,
            casting=casting,
            prospect=prospect,
        )
        self._calls[record.sid] = record
        self._creates_by_url[request.url] += 1
        record.log("created", to=request.to, url=request.url, persona=casting.persona.name)
        if casting.unexpected:
            record.log("unexpected_call", detail="this number must be blocked by the compliance gate")
        task = asyncio.create_task(
            CallLifecycle(record, config=self.config, sender=self._sender, faults=self.faults).run()
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record

    def get(self, sid: str) -> CallRecord | None:
        """The call with this sid, or None."""
        return self._calls.get(sid)

    def hang_up(self, record: CallRecord, status: str) -> None:
        """Apply a REST ``Status`` update the way Twilio does.

        ``completed`` ends the call in any state (an unanswered call ends ``canceled``); ``canceled``
        ends only a queued or ringing call and is otherwise ignored. Updating an ended call does
        nothing.

        Raises:
            TwilioApiError: for any other status value.
        """
        if status not in ("completed", "canceled"):
            raise invalid_parameter("Status", status)
        record.log("rest_update", status=status)
        unanswered = record.status in UNANSWERED_STATUSES
        if status == "completed":
            record.end("canceled" if unanswered else "completed", "hung up via the REST API")
        elif unanswered:
            record.end("canceled", "canceled via the REST API")

    def find(self, call_filter: CallFilter) -> list[CallRecord]:
        """Calls that pass ``call_filter``, newest first (the Calls list order)."""
        return [record for record in reversed(self._calls.values()) if call_filter.matches(record)]

    def all_calls(self) -> list[CallRecord]:
        """Every call, oldest first."""
        return list(self._calls.values())

    def stats(self) -> dict[str, Any]:
        """Totals a rehearsal is judged by (``GET /sandbox/stats``).

        ``duplicate_calls`` counts distinct TwiML URLs that were used to create more than one
        call; ``protocol_violations`` counts every violation, stream URL query strings included;
        ``webhook_responses`` counts webhook outcomes by HTTP status (``"error"``: no response);
        ``creates_held`` is the number of create requests waiting on the ``hold_creates`` fault
        right now, ``creates_dropped`` those whose client went away while held before creation.
        """
        calls = self._calls.values()
        return {
            "calls_created": len(self._calls),
            "duplicate_calls": sum(1 for count in self._creates_by_url.values() if count > 1),
            "by_persona": dict(Counter(record.casting.persona.name for record in calls)),
            "by_status": dict(Counter(record.status for record in calls)),
            "unexpected_calls": sum(1 for record in calls if record.casting.unexpected),
            "voicemail_messages_left": sum(1 for record in calls if record.voicemail_message_left),
            "stream_url_query_violations": sum(1 for record in calls if record.stream_url_query_violation),
            "protocol_violations": sum(len(record.violations) for record in calls),
            "webhook_failures": sum(record.webhook_failures for record in calls),
            "webhook_responses": dict(sum((record.webhook_responses for record in calls), Counter())),
            "creates_held": self.creates_held,
            "creates_dropped": self.creates_dropped,
            "active_calls": sum(1 for record in calls if not record.is_ended),
        }
