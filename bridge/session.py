"""One call's bridge: Twilio media stream <-> voice agent, with the turn handling compliance needs.

Sequence (PROTOCOLS A, D7; DESIGN rules 4-6):

1. The agent session is opened with the campaign's instructions and the tools.
2. Greeting: once the stream has started, the bridge waits (up to ``amd_wait_max_ms``) for the
   async AMD verdict; the agent says nothing before it. ``human`` or ``unknown``: the agent speaks
   the opening disclosure verbatim. A machine or fax gets nothing: no message is left. No verdict
   (even from the carrier's Call resource): the call is hung up unheard as ``agent_error`` and
   the lead follows the retry policy.
3. The disclosure and the closing goodbye are *protected*: caller audio is not forwarded while they
   play, so neither can be talked over and cancelled. The key-press opt-out (9) stays live.
   Twilio's echo of the mark after the disclosure's last chunk proves it played; it is stored.
4. Caller audio is then forwarded unchanged (μ-law both ways). Agent audio goes to Twilio followed
   by a mark per chunk; when the caller starts speaking over unplayed agent audio (barge-in) the
   bridge sends ``clear`` and truncates the agent's item to what was actually heard.
5. Tool calls run as they arrive; their results go back after the response's ``response.done``.
   ``honor_dnc`` ends the call after the goodbye; ``end_call`` after the audio drains. A phrase
   check on the caller's transcript records an opt-out even if the model does not, and makes sure
   the call ends after the agent's current response.
6. Hang-up goes through the carrier's REST API (``status=completed``), then the socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from bridge.agent import (
    AgentAudio,
    AgentConnection,
    AgentProblem,
    AgentSaid,
    AgentSessionConfig,
    AgentUnavailableError,
    CallerSaid,
    CallerSpeechStarted,
    ResponseFinished,
    ResponseStarted,
    ToolCall,
    VoiceAgent,
)
from bridge.amd import AmdBoard
from bridge.phrases import is_opt_out
from bridge.playback import PlaybackTracker
from bridge.prompt import greeting_instructions, opening_line, session_instructions
from bridge.responses import Response, ResponseLedger, Role
from bridge.tools import TOOL_SPECS, ToolDispatcher, ToolEffect, ToolResult
from bridge.twilio_protocol import Dtmf, Mark, Media, Stop, clear_message, mark_message, media_message
from dialer import calls as call_records
from dialer.calls import MACHINE_VERDICTS, CallContext
from dialer.models import CallAttempt, DispositionName, DispositionSource, Speaker
from dialer.outcomes import record_attempt_disposition
from dialer.runtime import Runtime
from dialer.settings import BridgeParams

log = logging.getLogger(__name__)
_T = TypeVar("_T")

OPT_OUT_DIGIT = "9"
DNC_GOODBYE = "Understood. You won't be called again. Goodbye."
OPT_OUT_GRACE_SECONDS = 1.5
"""How long the bridge lets the model respond to an opt-out before it says the goodbye itself."""


class MediaStreamPort(Protocol):
    """The Twilio side of a call as the session sees it (the WebSocket route implements it)."""

    async def receive(self) -> Media | Mark | Dtmf | Stop | None:
        """The next message after ``start``; None once the socket has closed."""
        ...

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON message (media, mark, clear)."""
        ...

    async def close(self) -> None:
        """Close the socket (with nothing after ``</Connect>``, this ends the call)."""
        ...


class CallSession:
    """Runs one bridged call until either side ends it.

    Args:
        port: the Twilio media stream (after ``start``).
        agent: the voice-agent backend.
        runtime: database sessions, clock, carrier.
        context: the attempt, lead and campaign facts.
        stream_sid: Twilio's ``streamSid``.
        params: bridge tuning.
        amd: where the async AMD verdict arrives.
        voice: the agent's voice id.
    """

    def __init__(
        self,
        *,
        port: MediaStreamPort,
        agent: VoiceAgent,
        runtime: Runtime,
        context: CallContext,
        stream_sid: str,
        params: BridgeParams,
        amd: AmdBoard,
        voice: str,
    ) -> None:
        self._port = port
        self._agent_factory = agent
        self._runtime = runtime
        self._ctx = context
        self._stream_sid = stream_sid
        self._params = params
        self._amd = amd
        self._voice = voice
        self._tools = ToolDispatcher(runtime, context, timeout_ms=params.tool_timeout_ms)
        self._agent: AgentConnection | None = None
        self._playback = PlaybackTracker()
        self._responses = ResponseLedger()
        self._disclosure_text = ""
        self._disclosure_played = False
        self._background: set[asyncio.Task[None]] = set()
        self._listening = False
        self._ending = False
        self._hung_up = False
        self._opt_out_recorded = False
        self._opt_out_watch = False
        self._usage: dict[str, int] = {}
        self._last_activity = time.monotonic()
        self._finished = asyncio.Event()

    # --- lifecycle ---

    async def run(self) -> None:
        """Bridge the call until it ends; never raises for call-level failures."""
        opening = opening_line(self._ctx)
        config = AgentSessionConfig(
            instructions=session_instructions(self._ctx, opening),
            tools=TOOL_SPECS,
            voice=self._voice,
            vad_threshold=self._params.vad_threshold,
            vad_silence_ms=self._params.vad_silence_ms,
            vad_prefix_padding_ms=self._params.vad_prefix_padding_ms,
        )
        try:
            self._agent = await self._agent_factory.connect(config)
        except AgentUnavailableError as exc:
            await self._agent_failed(str(exc))
            return
        tasks = [
            asyncio.create_task(self._pump_twilio(), name="pump-twilio"),
            asyncio.create_task(self._pump_agent(), name="pump-agent"),
            asyncio.create_task(self._greet(opening), name="greet"),
            asyncio.create_task(self._watchdog(), name="watchdog"),
        ]
        try:
            await self._finished.wait()
        finally:
            for task in [*tasks, *self._background]:
                task.cancel()
            await asyncio.gather(*tasks, *self._background, return_exceptions=True)
            pending = self._responses.tool_tasks()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            await self._agent.close()
            self._amd.forget(self._ctx.call_sid)
            if self._usage:
                usage = dict(self._usage)
                await self._db(
                    lambda s, _: call_records.record_agent_usage(
                        s, attempt_id=self._ctx.attempt_id, usage=usage
                    )
                )

    def _finish(self) -> None:
        self._finished.set()

    async def _db(self, work: Callable[[Session, datetime], _T]) -> _T:
        """Run ``work(session, now)`` in a worker thread inside its own transaction."""
        return await asyncio.to_thread(self._runtime.run_in_transaction, work)

    # --- Twilio -> agent ---

    async def _pump_twilio(self) -> None:
        assert self._agent is not None
        try:
            while True:
                message = await self._port.receive()
                if message is None or isinstance(message, Stop):
                    break
                if isinstance(message, Media):
                    if self._listening:
                        await self._agent.send_audio(message.media.payload)
                elif isinstance(message, Mark):
                    await self._on_mark(message.mark.name)
                elif isinstance(message, Dtmf) and message.dtmf.digit == OPT_OUT_DIGIT:
                    await self._opt_out_by_key()
        finally:
            self._finish()

    # --- agent -> Twilio ---

    async def _pump_agent(self) -> None:
        assert self._agent is not None
        try:
            async for event in self._agent.events():
                match event:
                    case AgentAudio():
                        await self._play(event)
                    case ResponseStarted():
                        self._response(event.response_id)
                    case AgentSaid():
                        await self._on_agent_said(event)
                    case CallerSpeechStarted():
                        await self._on_barge_in()
                    case CallerSaid():
                        await self._on_caller_said(event.text)
                    case ToolCall():
                        task = asyncio.create_task(self._run_tool(event), name=f"tool-{event.name}")
                        self._response(event.response_id).tool_tasks.append((event.call_id, task))
                    case ResponseFinished():
                        await self._on_response_finished(event)
                    case AgentProblem():
                        log.warning(
                            "agent error on attempt %s: %s %s",
                            self._ctx.attempt_id,
                            event.code,
                            event.message,
                        )
                        if event.fatal:
                            await self._agent_failed(f"{event.code}: {event.message}")
                            return
        finally:
            if not self._ending and not self._finished.is_set():
                await self._agent_failed("the voice agent closed the session")

    async def _greet(self, opening: str) -> None:
        """Speak the disclosure only once a verdict says someone may hear it (issue 7, item 5).

        Waiting for ``human`` or ``unknown`` is the only safe order: a greeting sent before the
        verdict plays into a voicemail box when the machine verdict comes late (a slow detection,
        or an AMD webhook that failed and was delivered again later), and that leaves an
        artificial-voice message (TUTORIAL_NOTES R6, R12). See :meth:`_await_verdict` for what
        happens when none arrives.
        """
        assert self._agent is not None
        verdict = self._ctx.answered_by
        if verdict is None and self._params.greeting_waits_for_amd:
            verdict = await self._await_verdict()
            if verdict is None:
                await self._no_verdict()
                return
        if verdict in MACHINE_VERDICTS:
            await self._machine_answered()
            return
        self._responses.expect(Role.DISCLOSURE)
        await self._agent.start_response(greeting_instructions(opening))
        if verdict is None:  # greeting_waits_for_amd is off: still stop at a machine verdict
            late = await self._amd.wait(
                self._ctx.call_sid, timeout=60.0, poll=self._stored_verdict, poll_interval=1.0
            )
            if late in MACHINE_VERDICTS:
                await self._machine_answered()

    async def _await_verdict(self) -> str | None:
        """The AMD verdict, waited for up to ``amd_wait_max_ms``; None if there is none to trust.

        The verdict comes from this process's AMD webhook (at once), from the attempt row (a
        verdict taken by another API process, or a webhook retried after a failed delivery), or,
        once the wait is over, from the carrier's Call resource (``answered_by`` stays there when
        every delivery of the AMD webhook failed, PROTOCOLS B3). A verdict read from the carrier
        is stored through the AMD webhook's own path, so a machine gets its disposition.
        """
        verdict = await self._amd.wait(
            self._ctx.call_sid, timeout=self._params.amd_wait_max_ms / 1000, poll=self._stored_verdict
        )
        if verdict is not None:
            return verdict
        try:
            call = await asyncio.to_thread(self._runtime.carrier.fetch_call, self._ctx.call_sid)
        except Exception as exc:  # noqa: BLE001 - no answer from the carrier is no verdict
            log.warning("attempt %s: fetching the AMD verdict failed: %s", self._ctx.attempt_id, exc)
            return None
        verdict = call.answered_by if call is not None else None
        if verdict is None:
            return None
        sid = self._ctx.call_sid
        await self._db(
            lambda s, now: call_records.apply_amd(
                s, attempt_id=self._ctx.attempt_id, call_sid=sid, answered_by=verdict, now=now
            )
        )
        return verdict

    async def _no_verdict(self) -> None:
        """No verdict in time: end the call without a word (``agent_error``; the lead is retried)."""
        wait_ms = self._params.amd_wait_max_ms
        log.warning(
            "attempt %s: no AMD verdict within %d ms; hanging up unheard", self._ctx.attempt_id, wait_ms
        )
        await self._agent_failed(f"no AMD verdict within {wait_ms} ms; hung up without speaking")

    async def _stored_verdict(self) -> str | None:
        return await self._db(lambda s, _: s.get_one(CallAttempt, self._ctx.attempt_id).answered_by)

    async def _machine_answered(self) -> None:
        """Say nothing (more) to an answering machine; the AMD webhook hangs the call up."""
        self._listening = False
        self._ending = True
        await self._drop_unplayed_audio()
        if self._agent is not None and self._responses.active:
            await self._agent.cancel_response()
        await self._hang_up()

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            idle_ms = (time.monotonic() - self._last_activity) * 1000
            if not self._ending and idle_ms > self._params.idle_hangup_ms:
                log.info("attempt %s idle for %d ms; ending", self._ctx.attempt_id, idle_ms)
                await self._end_after_playback()
            if self._ending and idle_ms > self._params.goodbye_timeout_ms:
                await self._hang_up()

    # --- audio and marks ---

    def _response(self, response_id: str) -> Response:
        response = self._responses.get(response_id)
        if response.role == Role.GOODBYE:
            self._opt_out_watch = False  # the goodbye is under way
        return response

    async def _play(self, audio: AgentAudio) -> None:
        if self._playback.dropped(audio.item_id) or self._hung_up:
            return
        response = self._response(audio.response_id)
        if audio.item_id not in response.items:
            response.items.append(audio.item_id)
        mark = self._playback.sent(audio.item_id, audio.payload)
        await self._port.send(media_message(self._stream_sid, audio.payload))
        await self._port.send(mark_message(self._stream_sid, mark))
        self._last_activity = time.monotonic()

    async def _on_mark(self, name: str) -> None:
        if not self._playback.echoed(name):
            return  # echoed after a clear: that audio never played
        self._last_activity = time.monotonic()
        await self._check_disclosure_played()
        await self._maybe_hang_up()

    async def _check_disclosure_played(self) -> None:
        disclosure = self._responses.disclosure
        if disclosure is None or self._disclosure_played or self._ending or not disclosure.items:
            return
        if not disclosure.finished or self._playback.playing(disclosure.items):
            return
        self._disclosure_played = True
        self._listening = not self._opt_out_recorded
        text = self._disclosure_text
        await self._db(
            lambda s, now: call_records.record_disclosure_played(
                s, attempt_id=self._ctx.attempt_id, text=text, now=now
            )
        )

    async def _on_barge_in(self) -> None:
        self._last_activity = time.monotonic()
        if not self._listening or not self._playback.unplayed:
            return
        assert self._agent is not None
        await self._port.send(clear_message(self._stream_sid))
        for item_id, heard_ms in self._playback.clear():
            await self._agent.truncate(item_id, heard_ms)

    # --- transcripts ---

    async def _on_agent_said(self, said: AgentSaid) -> None:
        if self._responses.get(said.response_id) is self._responses.disclosure:
            self._disclosure_text = (self._disclosure_text + " " + said.text).strip()
        await self._record_turn(Speaker.AGENT, said.text, interrupted=self._playback.dropped(said.item_id))

    async def _on_caller_said(self, text: str) -> None:
        self._last_activity = time.monotonic()
        await self._record_turn(Speaker.CALLER, text)
        if self._opt_out_recorded or not is_opt_out(text):
            return
        self._opt_out_recorded = True
        self._opt_out_watch = True
        self._listening = False
        await self._tools.honor_opt_out(source="phrase_check", reason=text)
        if not self._responses.active:
            task = asyncio.create_task(self._opt_out_grace(), name="opt-out-grace")
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _record_turn(self, speaker: Speaker, text: str, *, interrupted: bool = False) -> None:
        attempt_id = self._ctx.attempt_id
        await self._db(
            lambda s, now: call_records.record_transcript(
                s, attempt_id=attempt_id, speaker=speaker, text=text, now=now, interrupted=interrupted
            )
        )

    async def _opt_out_grace(self) -> None:
        """Give the model a moment to answer the opt-out itself; if it does not, say goodbye."""
        await asyncio.sleep(OPT_OUT_GRACE_SECONDS)
        if self._opt_out_watch and not self._responses.active and not self._ending:
            await self._say_dnc_goodbye()

    # --- responses and tools ---

    async def _on_response_finished(self, event: ResponseFinished) -> None:
        assert self._agent is not None
        for key, value in event.usage.items():
            self._usage[key] = self._usage.get(key, 0) + value
        response = self._response(event.response_id)
        response.finished = True
        outputs: list[tuple[str, str]] = []
        effects: set[ToolEffect] = set()
        for call_id, task in response.tool_tasks:
            result = await task
            outputs.append((call_id, result.output))
            effects.add(result.effect)
        if ToolEffect.END_AFTER_REPLY in effects:
            self._opt_out_recorded = True
            self._listening = False
            self._responses.expect(Role.GOODBYE)
            await self._agent.deliver_tool_results(outputs, respond=True)
        elif ToolEffect.END_NOW in effects:
            await self._agent.deliver_tool_results(outputs, respond=False)
            await self._end_after_playback()
        elif self._opt_out_watch:
            if outputs:
                await self._agent.deliver_tool_results(outputs, respond=False)
            await self._say_dnc_goodbye()
        elif outputs:
            await self._agent.deliver_tool_results(
                outputs, respond=event.status == "completed" and not self._ending
            )
        if response.role == Role.GOODBYE:
            await self._end_after_playback()
        await self._check_disclosure_played()
        await self._maybe_hang_up()

    async def _run_tool(self, call: ToolCall) -> ToolResult:
        result = await self._tools.run(call)
        if result.effect != ToolEffect.NONE:
            self._listening = False  # the call is ending: nothing the caller says can change that
        return result

    async def _drop_unplayed_audio(self) -> None:
        if self._playback.unplayed:
            await self._port.send(clear_message(self._stream_sid))
            self._playback.clear()

    async def _say_dnc_goodbye(self) -> None:
        """The caller opted out and the model did not end the call itself: clear, say goodbye, end.

        ``_opt_out_watch`` stays set until the goodbye response starts, so if the request races a
        response the model began on its own, the goodbye follows that response instead.
        """
        assert self._agent is not None
        self._listening = False
        await self._drop_unplayed_audio()
        self._responses.expect(Role.GOODBYE)
        await self._agent.start_response(greeting_instructions(DNC_GOODBYE))

    async def _opt_out_by_key(self) -> None:
        """Key-press opt-out (47 CFR 64.1200(b)(3)): record at once, stop the agent, say goodbye."""
        if self._opt_out_recorded:
            return
        self._opt_out_recorded = True
        self._opt_out_watch = True
        self._listening = False
        await self._tools.honor_opt_out(source="dtmf", reason="caller pressed 9")
        assert self._agent is not None
        await self._drop_unplayed_audio()
        if self._responses.active:
            await self._agent.cancel_response()  # the goodbye follows its response.done
        else:
            await self._say_dnc_goodbye()

    # --- ending ---

    async def _end_after_playback(self) -> None:
        self._ending = True
        self._listening = False
        await self._maybe_hang_up()

    async def _maybe_hang_up(self) -> None:
        if not self._ending or self._hung_up:
            return
        if self._playback.unplayed or self._responses.active:
            return
        await self._hang_up()

    async def _hang_up(self) -> None:
        if self._hung_up:
            return
        self._hung_up = True
        self._ending = True
        try:
            await asyncio.to_thread(self._runtime.carrier.hang_up, self._ctx.call_sid)
        except Exception as exc:  # noqa: BLE001 - closing the socket below ends the call anyway
            log.warning("REST hang-up of %s failed (%s); closing the stream", self._ctx.call_sid, exc)
        with contextlib.suppress(Exception):
            await self._port.close()
        self._finish()

    async def _agent_failed(self, reason: str) -> None:
        """No agent (or no AMD verdict): record ``agent_error`` and end the call without speaking."""
        if self._ending:
            return
        self._ending = True
        await self._db(
            lambda s, now: record_attempt_disposition(
                s,
                attempt_id=self._ctx.attempt_id,
                name=DispositionName.AGENT_ERROR,
                source=DispositionSource.SYSTEM,
                now=now,
                notes=reason,
            )
        )
        await self._hang_up()
