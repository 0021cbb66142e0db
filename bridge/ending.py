"""How one bridged call ends: after its audio has played, at once, or without a word.

The hang-up goes through the carrier's REST API (``status=completed``), then the media socket
closes (with nothing after ``</Connect>``, that alone would end the call too). A watchdog ends a
call nobody speaks on (``idle_hangup_ms``) and hangs up one whose goodbye never finishes playing
(``goodbye_timeout_ms``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from bridge.metrics import AGENT_ERRORS
from bridge.playback import PlaybackTracker
from bridge.responses import ResponseLedger
from bridge.twilio_protocol import MediaStreamPort
from dialer.calls.attempts import CallContext
from dialer.calls.outcomes import record_attempt_disposition
from dialer.models import DispositionName, DispositionSource
from dialer.runtime import Runtime
from dialer.settings import BridgeParams

log = logging.getLogger(__name__)

WATCHDOG_INTERVAL_SECONDS = 0.5
"""How often the watchdog looks at the call's idle time."""


class CallEnding:
    """One call's ending: whether it is ending, whether it is hung up, and doing it once.

    Args:
        port: the Twilio media stream.
        runtime: database sessions and the carrier client.
        context: the call.
        params: ``idle_hangup_ms`` (unless the campaign sets its own silence timeout) and
            ``goodbye_timeout_ms``.
        playback: what agent audio is still unplayed.
        responses: whether an agent response is under way.
        finished: set once the call is over (the session's run returns).

    Attributes:
        ending: the call is ending: no new turn starts; it hangs up once the audio has played.
        hung_up: the hang-up has been sent.
    """

    def __init__(
        self,
        *,
        port: MediaStreamPort,
        runtime: Runtime,
        context: CallContext,
        params: BridgeParams,
        playback: PlaybackTracker,
        responses: ResponseLedger,
        finished: asyncio.Event,
    ) -> None:
        self._port = port
        self._runtime = runtime
        self._ctx = context
        self._params = params
        self._playback = playback
        self._responses = responses
        self._finished = finished
        self.ending = False
        self.hung_up = False
        self._last_activity = time.monotonic()
        campaign_limit = context.silence_timeout_seconds
        self._idle_limit_ms = params.idle_hangup_ms if campaign_limit is None else campaign_limit * 1000

    def touch(self) -> None:
        """Either side did something (audio, a mark, speech): the idle clock starts again."""
        self._last_activity = time.monotonic()

    async def after_playback(self) -> None:
        """End the call once the agent's audio has played and no response is under way."""
        self.ending = True
        await self.maybe_hang_up()

    async def maybe_hang_up(self) -> None:
        """Hang up if the call is ending and nothing is left to play."""
        if not self.ending or self.hung_up:
            return
        if self._playback.unplayed or self._responses.active:
            return
        await self.hang_up()

    async def hang_up(self) -> None:
        """Hang up now (REST, then close the socket); idempotent; tolerates a carrier failure."""
        if self.hung_up:
            return
        self.hung_up = True
        self.ending = True
        try:
            await asyncio.to_thread(self._runtime.carrier.hang_up, self._ctx.call_sid)
        except Exception as exc:  # noqa: BLE001 - closing the socket below ends the call anyway
            log.warning("REST hang-up of %s failed (%s); closing the stream", self._ctx.call_sid, exc)
        with contextlib.suppress(Exception):
            await self._port.close()
        self._finished.set()

    async def agent_problem(self, code: str, message: str, *, fatal: bool) -> bool:
        """An error the voice agent reported: logged; a ``fatal`` one ends the call (:meth:`agent_failed`).

        Returns:
            ``fatal``: True when the call is over for the agent.
        """
        log.warning("agent error on attempt %s: %s %s", self._ctx.attempt_id, code, message)
        if fatal:
            await self.agent_failed(f"{code}: {message}")
        return fatal

    async def agent_failed(self, reason: str) -> None:
        """No agent (or no AMD verdict): record ``agent_error`` and end the call without speaking."""
        if self.ending:
            return
        self.ending = True
        AGENT_ERRORS.inc()
        attempt_id = self._ctx.attempt_id
        await asyncio.to_thread(
            self._runtime.run_in_transaction,
            lambda s, now: record_attempt_disposition(
                s,
                attempt_id=attempt_id,
                name=DispositionName.AGENT_ERROR,
                source=DispositionSource.SYSTEM,
                now=now,
                notes=reason,
            ),
        )
        await self.hang_up()

    async def watchdog(self) -> None:
        """Run until cancelled: end an idle call; hang up a goodbye that outlasts its timeout."""
        while True:
            await asyncio.sleep(WATCHDOG_INTERVAL_SECONDS)
            idle_ms = (time.monotonic() - self._last_activity) * 1000
            if not self.ending and idle_ms > self._idle_limit_ms:
                log.info("attempt %s idle for %d ms; ending", self._ctx.attempt_id, idle_ms)
                await self.after_playback()
            if self.ending and idle_ms > self._params.goodbye_timeout_ms:
                await self.hang_up()
