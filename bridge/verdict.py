"""The answering verdict one call's greeting waits for: the AMD webhook, the attempt row, the carrier.

Twilio's async AMD posts ``AnsweredBy`` to the AMD webhook, which records it on the attempt and
wakes this process's :class:`bridge.amd.AmdBoard`. The bridge reads the verdict from there at once,
from the attempt row (a verdict taken by another API process, or a webhook retried after a failed
delivery), or, once the wait is over, from the carrier's Call resource (``answered_by`` stays there
when every delivery of the AMD webhook failed, PROTOCOLS B3).
"""

from __future__ import annotations

import asyncio
import logging

from bridge.amd import AmdBoard
from dialer.calls import attempts as call_records
from dialer.calls.attempts import CallContext
from dialer.models import CallAttempt
from dialer.runtime import Runtime

log = logging.getLogger(__name__)


class AnswerVerdicts:
    """Where one call's AMD verdict comes from.

    Args:
        runtime: database sessions and the carrier client.
        amd: the process's AMD webhook board.
        context: the call (``attempt_id``, ``call_sid``).
    """

    def __init__(self, *, runtime: Runtime, amd: AmdBoard, context: CallContext) -> None:
        self._runtime = runtime
        self._amd = amd
        self._ctx = context

    async def stored(self) -> str | None:
        """The verdict on the attempt row (``human``, ``machine_start``...), or None."""
        return await asyncio.to_thread(
            self._runtime.run_in_transaction,
            lambda s, _: s.get_one(CallAttempt, self._ctx.attempt_id).answered_by,
        )

    async def wait(self, timeout_s: float) -> str | None:
        """The verdict, waited for up to ``timeout_s`` seconds, then asked of the carrier; None if none.

        A verdict read from the carrier is stored through the AMD webhook's own path, so a machine
        gets its disposition.
        """
        verdict = await self._amd.wait(self._ctx.call_sid, timeout=timeout_s, poll=self.stored)
        if verdict is not None:
            return verdict
        return await self._from_carrier()

    async def late(self, timeout_s: float) -> str | None:
        """A verdict arriving after the greeting started (the stored row polled each second)."""
        return await self._amd.wait(
            self._ctx.call_sid, timeout=timeout_s, poll=self.stored, poll_interval=1.0
        )

    def forget(self) -> None:
        """Drop the call from the AMD board (the call is over)."""
        self._amd.forget(self._ctx.call_sid)

    async def _from_carrier(self) -> str | None:
        try:
            call = await asyncio.to_thread(self._runtime.carrier.fetch_call, self._ctx.call_sid)
        except Exception as exc:  # noqa: BLE001 - no answer from the carrier is no verdict
            log.warning("attempt %s: fetching the AMD verdict failed: %s", self._ctx.attempt_id, exc)
            return None
        verdict = call.answered_by if call is not None else None
        if verdict is None:
            return None
        attempt_id, sid = self._ctx.attempt_id, self._ctx.call_sid
        await asyncio.to_thread(
            self._runtime.run_in_transaction,
            lambda s, now: call_records.apply_amd(
                s, attempt_id=attempt_id, call_sid=sid, answered_by=verdict, now=now
            ),
        )
        return verdict
