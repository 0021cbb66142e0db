"""Every webhook of one call: call-progress status callbacks, the TwiML fetch, AMD and stream events."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping

from sandbox.carrier.faults import CarrierFaults
from sandbox.carrier.records import CallRecord, utc_now
from sandbox.carrier.rest_models import API_VERSION, rfc2822
from sandbox.carrier.webhooks import WebhookResult, WebhookSender

_EVENT_STATUS = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}
_LOG_LABEL = {"status": "CallStatus", "stream": "StreamEvent", "amd": "AnsweredBy"}


class CallCallbacks:
    """Sends one call's webhooks and records each outcome in the call's log.

    Status callbacks go out one at a time in ``SequenceNumber`` order, from a worker task, so
    a slow status endpoint never delays the call itself. Other webhooks (AMD, stream status) go
    out concurrently. :meth:`close` waits for everything queued. The carrier's
    :class:`~sandbox.carrier.faults.CarrierFaults` may duplicate, reorder, delay or drop them.
    """

    def __init__(self, record: CallRecord, sender: WebhookSender, faults: CarrierFaults | None = None):
        """Serve ``record``'s webhooks through ``sender``, with ``faults`` (none by default)."""
        self._record = record
        self._sender = sender
        self._faults = faults or CarrierFaults()
        self._sequence = 0
        self._status_queue: asyncio.Queue[dict[str, str] | None] = asyncio.Queue()
        self._status_worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[WebhookResult]] = set()

    def voice_params(self, call_status: str) -> dict[str, str]:
        """The standard voice-request parameters Twilio sends with every call webhook."""
        request = self._record.request
        return {
            "AccountSid": self._record.account_sid,
            "CallSid": self._record.sid,
            "From": request.from_,
            "To": request.to,
            "Called": request.to,
            "Caller": request.from_,
            "CallStatus": call_status,
            "Direction": "outbound-api",
            "ApiVersion": API_VERSION,
        }

    def status(self, event: str) -> None:
        """Queue the status callback for ``event`` if the app subscribed to it.

        Args:
            event: ``"initiated"``, ``"ringing"``, ``"answered"`` or ``"completed"``; for
                ``"completed"`` the call must already be in its terminal status.
        """
        request = self._record.request
        if request.status_callback is None or event not in request.status_callback_events:
            return
        params = self.voice_params(_EVENT_STATUS.get(event, self._record.status))
        params |= {
            "CallbackSource": "call-progress-events",
            "Timestamp": rfc2822(utc_now()) or "",
            "SequenceNumber": str(self._sequence),
        }
        self._sequence += 1
        if event == "completed":
            seconds = self._record.duration_seconds or 0
            params |= {"CallDuration": str(seconds), "Duration": str(math.ceil(seconds / 60))}
        if self._record.answered_by is not None:
            params["AnsweredBy"] = self._record.answered_by
        if event == "completed" and self._faults.drop_final_status:
            self._record.log("webhook_status_dropped", event=params["CallStatus"], fault="drop_final_status")
            return
        self._status_queue.put_nowait(params)
        if self._status_worker is None:
            self._status_worker = asyncio.create_task(self._deliver_statuses())

    async def fetch_twiml(self, extra: Mapping[str, str]) -> WebhookResult:
        """Request the call's TwiML ``Url`` for an answered call.

        Args:
            extra: parameters added to the standard ones (e.g. synchronous AMD's ``AnsweredBy``).

        Returns:
            The response, TwiML in its body.
        """
        request = self._record.request
        params = self.voice_params("in-progress") | dict(extra)
        return await self._deliver("twiml", request.url, params, request.method)

    def fire(self, kind: str, url: str, params: Mapping[str, str], method: str = "POST") -> None:
        """Send a webhook in the background (AMD verdicts, stream status events).

        Args:
            kind: label for the call log, e.g. ``"amd"``.
            url: the app's URL.
            params: the webhook's parameters.
            method: ``"POST"`` or ``"GET"``.
        """
        copies = 2 if self._faults.duplicate_callbacks else 1
        for _ in range(copies):
            task = asyncio.create_task(self._deliver(kind, url, params, method))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Wait until every queued webhook has been delivered (or has failed)."""
        if self._status_worker is not None:
            self._status_queue.put_nowait(None)
            await self._status_worker
        while self._tasks:
            await asyncio.gather(*self._tasks)

    async def _deliver_statuses(self) -> None:
        request = self._record.request
        url = request.status_callback or ""
        while (params := await self._status_queue.get()) is not None:
            batch = [params]
            if self._faults.shuffle_callbacks:
                following = await self._status_queue.get()
                if following is not None:
                    batch.insert(0, following)  # the later callback overtakes the earlier one
                else:
                    self._status_queue.put_nowait(None)
            for item in batch:
                await self._deliver("status", url, item, request.status_callback_method)
                if self._faults.duplicate_callbacks:
                    replay = {k: v for k, v in item.items() if k not in ("SequenceNumber", "Timestamp")}
                    await self._deliver("status", url, replay, request.status_callback_method)

    async def _deliver(self, kind: str, url: str, params: Mapping[str, str], method: str) -> WebhookResult:
        result = await self._sender.send(url, params, method)
        details = {"url": url, "method": method, "result": result.describe()}
        label = params.get(_LOG_LABEL.get(kind, ""))
        if label:
            details["event"] = label
        self._record.log(f"webhook_{kind}", **details)
        self._record.webhook_responses[result.describe() if result.status_code else "error"] += 1
        if not result.ok:
            self._record.webhook_failures += 1
        return result
