"""One call's life on the simulated network: ring, answer, fetch and run TwiML, stream, hang up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

from sandbox.carrier.callbacks import CallCallbacks
from sandbox.carrier.config import CarrierConfig
from sandbox.carrier.faults import CarrierFaults
from sandbox.carrier.media_client import MediaStreamClient
from sandbox.carrier.records import CallRecord
from sandbox.carrier.twiml import (
    ConnectStream,
    Hangup,
    Pause,
    Say,
    TwimlError,
    Unsupported,
    Verb,
    parse_twiml,
)
from sandbox.carrier.webhooks import WebhookSender

logger = logging.getLogger(__name__)
_T = TypeVar("_T")
_BEEP_AFTER_GREETING_MS = 200
"""With ``DetectMessageEnd``, the beep is heard this many ms after a voicemail greeting ends."""


class CallLifecycle:
    """Drives one call from ``queued`` to exactly one terminal status callback."""

    def __init__(
        self,
        record: CallRecord,
        *,
        config: CarrierConfig,
        sender: WebhookSender,
        faults: CarrierFaults | None = None,
    ):
        """Prepare to run ``record``; webhooks are signed and sent through ``sender``, with ``faults``."""
        self._record = record
        self._config = config
        self._sender = sender
        self._faults = faults or CarrierFaults()
        self._callbacks = CallCallbacks(record, sender, self._faults)
        self._background: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Run the call to its end. Never raises: a carrier bug ends the call ``failed`` and is logged."""
        record = self._record
        time_limit: asyncio.TimerHandle | None = None
        try:
            if await self._ring():
                limit = min(self._config.max_call_seconds, record.request.time_limit_seconds or float("inf"))
                loop = asyncio.get_running_loop()
                time_limit = loop.call_later(limit, record.end, "completed", "time limit reached")
                await self._connected()
        except Exception as exc:
            logger.exception("sandbox carrier: call %s crashed", record.sid)
            record.log("carrier_error", detail=f"{type(exc).__name__}: {exc}")
            record.end("failed", "sandbox carrier error")
        finally:
            if time_limit is not None:
                time_limit.cancel()
            for task in self._background:
                task.cancel()
            record.end("completed" if record.answered_at else "canceled", "the carrier stopped the call")
            self._callbacks.status("completed")
            await self._callbacks.close()

    async def _ring(self) -> bool:
        """Dial and ring; True once the far end answers, False if the call ended unanswered."""
        record = self._record
        persona = record.casting.persona
        self._callbacks.status("initiated")
        record.ring()
        if persona.ring_outcome == "failed":
            record.end("failed", "the number could not be reached")
            return False
        self._callbacks.status("ringing")
        busy = persona.ring_outcome == "busy"
        if await record.wait_ended(self._config.busy_seconds if busy else self._config.ring_seconds):
            return False
        if persona.ring_outcome is not None:
            record.end(persona.ring_outcome, f"the line was {persona.ring_outcome}")
            return False
        record.answer()
        record.log("answered", answered_by=persona.answered_by)
        self._callbacks.status("answered")
        return True

    async def _connected(self) -> None:
        record = self._record
        amd_params = await self._detect_machine()
        if record.is_ended:
            return
        result = await self._until_ended(self._callbacks.fetch_twiml(amd_params))
        if result is None:
            return
        if not result.ok:
            record.log("application_error", detail=f"TwiML request failed: {result.describe()}")
            record.end("completed", "application error: TwiML request failed")
            return
        try:
            verbs = parse_twiml(result.body)
        except TwimlError as exc:
            record.log("application_error", detail=f"invalid TwiML: {exc}")
            record.end("completed", "application error: invalid TwiML")
            return
        await self._execute(verbs)
        record.end("completed", "the TwiML finished")

    async def _execute(self, verbs: list[Verb]) -> None:
        record = self._record
        for verb in verbs:
            if record.is_ended:
                return
            if isinstance(verb, Say):
                record.log("say", text=verb.text)
                await record.wait_ended(len(verb.text) * self._config.ms_per_char / 1000)
            elif isinstance(verb, Pause):
                record.log("pause", seconds=verb.seconds)
                await record.wait_ended(verb.seconds)
            elif isinstance(verb, Hangup):
                record.end("completed", "<Hangup/>")
            elif isinstance(verb, ConnectStream):
                outcome = await MediaStreamClient(
                    record=record,
                    stream=verb,
                    callbacks=self._callbacks,
                    sender=self._sender,
                    config=self._config,
                ).run()
                if outcome.ended_by == "rejected":
                    record.end("completed", f"media stream failed: {outcome.detail}")
            elif isinstance(verb, Unsupported):
                record.log("unsupported_verb", verb=verb.verb)

    async def _detect_machine(self) -> dict[str, str]:
        """Run answering-machine detection if the app asked for it.

        Returns:
            Parameters to add to the TwiML request: ``AnsweredBy`` and ``MachineDetectionDuration``
            for synchronous AMD, nothing for asynchronous AMD or without AMD.
        """
        request = self._record.request
        if request.machine_detection is None:
            return {}
        if not request.async_amd:
            verdict, delay_ms = self._amd_verdict()
            if await self._record.wait_ended(delay_ms / 1000):
                return {}
            self._record.answered_by = verdict
            self._record.log("amd", answered_by=verdict, duration_ms=delay_ms)
            return {"AnsweredBy": verdict, "MachineDetectionDuration": str(delay_ms)}
        if request.async_amd_status_callback is None:
            self._record.log("warning", detail="21262: AsyncAmd without AsyncAmdStatusCallback")
        task = asyncio.create_task(self._report_machine_later())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return {}

    async def _report_machine_later(self) -> None:
        record, request = self._record, self._record.request
        verdict, delay_ms = self._amd_verdict()
        if await record.wait_ended(delay_ms / 1000):
            return
        record.answered_by = verdict
        if self._faults.amd_delay_ms:
            record.log("amd_delayed", fault="amd_delay_ms", delay_ms=self._faults.amd_delay_ms)
            if await record.wait_ended(self._faults.amd_delay_ms / 1000):
                return
        record.log("amd", answered_by=verdict, duration_ms=delay_ms)
        if request.async_amd_status_callback is not None:
            params = {
                "AccountSid": record.account_sid,
                "CallSid": record.sid,
                "AnsweredBy": verdict,
                "MachineDetectionDuration": str(delay_ms),
            }
            url, method = request.async_amd_status_callback, request.async_amd_status_callback_method
            self._callbacks.fire("amd", url, params, method)

    def _amd_verdict(self) -> tuple[str, int]:
        """``(AnsweredBy, ms after answer)`` for this call's persona and AMD mode."""
        persona = self._record.casting.persona
        if not persona.is_machine:
            return "human", self._config.amd_human_ms
        if self._record.request.machine_detection == "Enable":
            return "machine_start", self._config.amd_machine_ms
        beep_ms = round(len(persona.greeting or "") * self._config.ms_per_char) + _BEEP_AFTER_GREETING_MS
        return "machine_end_beep", max(self._config.amd_machine_ms, beep_ms)

    async def _until_ended(self, work: Awaitable[_T]) -> _T | None:
        """Await ``work`` unless the call ends first (then cancel it and return None)."""
        task = asyncio.ensure_future(work)
        ended = asyncio.create_task(self._record.wait_ended())
        await asyncio.wait({task, ended}, return_when=asyncio.FIRST_COMPLETED)
        ended.cancel()
        if task.done():
            return task.result()
        task.cancel()
        return None
