"""One call's bridge: Twilio media stream <-> voice agent, with the turn handling compliance needs.

Sequence (PROTOCOLS A, D7; DESIGN rules 4-6):

1. The agent session, opened with the campaign's instructions and tools during the TwiML request
   (:mod:`bridge.preopen`), or now if it was not; its latencies go on the attempt (``clock``).
2. Greeting: once the stream has started, the agent says nothing until the async AMD verdict
   (:mod:`bridge.verdict`, up to ``amd_wait_max_ms``). ``human`` or ``unknown``: it speaks the
   opening disclosure verbatim. A machine or fax gets nothing: no message is left. No verdict: the
   call is hung up unheard as ``agent_error`` and the lead follows the retry policy.
3. Caller audio reaches the agent from the first second, unchanged (μ-law both ways); the bridge
   owns turn-taking (:mod:`bridge.turns`). The disclosure and the goodbye are *protected*: speech
   over them cuts nothing, but is transcribed and opt-out checked; the key press (9) stays live.
   Twilio's echo of the mark after the disclosure's last chunk proves it played; it is stored.
4. Agent audio goes to Twilio with a mark every 100 ms of each item (:mod:`bridge.playback`);
   speech over other agent audio (barge-in) cancels the response, clears Twilio's queue and
   truncates the agent's item to what was heard; each agent turn is stored with the words the
   caller heard beside its full transcript (:mod:`bridge.agent_turns`).
5. Tool calls run as they arrive; their results go back after the response's ``response.done``.
   ``honor_dnc`` ends the call after the goodbye; ``end_call`` after the audio drains. A phrase
   check on the caller's transcript records an opt-out even if the model does not, and makes sure
   the call ends after the agent's current response.
6. Hang-up (:mod:`bridge.ending`) goes through the carrier's REST API, then the socket closes.
7. Upstream faults (:mod:`bridge.reconnect`): a dropped, failing or stalled agent session is
   replaced once with the call so far; the disclosure is spoken again only if the drop cut it.
"""

from __future__ import annotations

import asyncio
import logging

from bridge.agent import (
    AgentAudio,
    AgentConnection,
    AgentProblem,
    AgentReconnected,
    AgentSaid,
    AgentUnavailableError,
    CallerSaid,
    CallerSpeechStarted,
    CallerSpeechStopped,
    ResponseFinished,
    ResponseStarted,
    ToolCall,
    VoiceAgent,
)
from bridge.agent_turns import AgentTurns
from bridge.amd import AmdBoard
from bridge.call_record import CallRecorder
from bridge.ending import CallEnding
from bridge.metrics import CallClock
from bridge.phrases import match_opt_out
from bridge.playback import PlaybackTracker, TwilioPlayback
from bridge.preopen import PreopenedAgent
from bridge.prompt import agent_session_config, greeting_instructions, opening_line
from bridge.reconnect import ResilientConnection
from bridge.responses import Response, ResponseLedger, Role
from bridge.tools import ToolDispatcher, ToolEffect, ToolResult
from bridge.turns import TurnTaking
from bridge.twilio_protocol import Dtmf, Mark, Media, MediaStreamPort, Stop
from bridge.verdict import AnswerVerdicts
from dialer.calls.attempts import MACHINE_VERDICTS, CallContext
from dialer.models import Speaker
from dialer.runtime import Runtime
from dialer.settings import BridgeParams

log = logging.getLogger(__name__)

OPT_OUT_DIGIT = "9"
DNC_GOODBYE = "Understood. You won't be called again. Goodbye."
OPT_OUT_GRACE_SECONDS = 1.5
"""How long the bridge lets the model respond to an opt-out before it says the goodbye itself."""


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
        clock: the call's latency clock (:class:`bridge.call_latency.CallLatency` records it).
        preopened: the agent session opened during the TwiML request, if any.
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
        clock: CallClock | None = None,
        preopened: PreopenedAgent | None = None,
    ) -> None:
        self._port = port
        self._agent_factory, self._preopened = agent, preopened
        self._runtime = runtime
        self._ctx = context
        self._stream_sid = stream_sid
        self._params = params
        self._verdicts = AnswerVerdicts(runtime=runtime, amd=amd, context=context)
        self._voice = voice
        self._record = CallRecorder(runtime, context.attempt_id)
        self._tools = ToolDispatcher(runtime, context, timeout_ms=params.tool_timeout_ms)
        self._agent: AgentConnection | None = None
        self._playback = PlaybackTracker()
        self._clock = clock or CallClock()
        self._out = TwilioPlayback(port, stream_sid, self._playback, self._clock)
        self._responses = ResponseLedger(lambda: self._playback.generation)
        self._agent_turns = AgentTurns(
            self._out, self._playback, self._responses, self._record, lambda: self._agent
        )
        self._cut = self._agent_turns.cut
        self._background: set[asyncio.Task[None]] = set()
        self._listening = True
        self._opt_out_recorded = False
        self._opt_out_watch = False
        self._finished = asyncio.Event()
        self._end = CallEnding(
            port=port,
            runtime=runtime,
            context=context,
            params=params,
            playback=self._playback,
            responses=self._responses,
            finished=self._finished,
        )

    # --- lifecycle ---

    async def run(self) -> None:
        """Bridge the call until it ends; never raises for call-level failures."""
        opening = opening_line(self._ctx)
        config = agent_session_config(self._ctx, opening, self._params, self._voice)
        try:
            ahead = self._preopened
            first = await (ahead.take() if ahead else self._agent_factory.connect(config))
        except AgentUnavailableError as exc:
            await self._end.agent_failed(str(exc))
            return
        timeout_s = self._params.agent_send_timeout_ms / 1000
        self._agent = ResilientConnection(first, send_timeout_s=timeout_s, heard_ms=self._playback.heard_ms)
        self._turns = TurnTaking(
            self._agent, self._cut, self._playback, self._responses, self._hearing, self._clock
        )
        tasks = [
            asyncio.create_task(self._pump_twilio(), name="pump-twilio"),
            asyncio.create_task(self._pump_agent(), name="pump-agent"),
            asyncio.create_task(self._greet(opening), name="greet"),
            asyncio.create_task(self._end.watchdog(), name="watchdog"),
        ]
        try:
            await self._finished.wait()
        finally:
            for task in [*tasks, *self._background]:
                task.cancel()
            await asyncio.gather(*tasks, *self._background, return_exceptions=True)
            await asyncio.gather(*self._responses.tool_tasks(), return_exceptions=True)
            await self._cut(live=False)  # audio still queued when the call ended was never heard
            await self._agent.close()
            self._verdicts.forget()
            await self._record.flush_usage(self._agent.billed_usage())

    def _hearing(self) -> bool:
        """Caller audio goes to the agent from the first second, until an opt-out or the ending."""
        return self._listening and not self._end.ending

    # --- Twilio -> agent ---

    async def _pump_twilio(self) -> None:
        assert self._agent is not None
        try:
            while True:
                message = await self._port.receive()
                if message is None or isinstance(message, Stop):
                    break
                if isinstance(message, Media):
                    if self._hearing():
                        await self._agent.send_audio(message.media.payload)
                elif isinstance(message, Mark):
                    await self._on_mark(message.mark.name)
                elif isinstance(message, Dtmf) and message.dtmf.digit == OPT_OUT_DIGIT:
                    await self._opt_out_by_key()
        finally:
            self._finished.set()

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
                        self._end.touch()
                        await self._turns.speech_started()
                    case CallerSpeechStopped():
                        await self._turns.speech_stopped(event.audio_end_ms)
                    case CallerSaid():
                        await self._on_caller_said(event.text)
                    case ToolCall():
                        task = asyncio.create_task(self._run_tool(event), name=f"tool-{event.name}")
                        self._response(event.response_id).tool_tasks.append((event.call_id, task))
                    case ResponseFinished():
                        await self._on_response_finished(event)
                    case AgentReconnected():
                        await self._on_reconnected(event)
                    case AgentProblem():
                        if await self._end.agent_problem(event.code, event.message, fatal=event.fatal):
                            return
        finally:
            if not self._end.ending and not self._finished.is_set():
                await self._end.agent_failed("the voice agent closed the session")

    async def _greet(self, opening: str) -> None:
        """Speak the disclosure only once a verdict says someone may hear it (issue 7, item 5).

        Waiting for ``human`` or ``unknown`` is the only safe order: a greeting sent before the
        verdict plays into a voicemail box when the machine verdict comes late (a slow detection,
        or an AMD webhook that failed and was delivered again later), and that leaves an
        artificial-voice message (TUTORIAL_NOTES R6, R12). See :meth:`_no_verdict` for what
        happens when none arrives (:meth:`bridge.verdict.AnswerVerdicts.wait`).
        """
        assert self._agent is not None
        verdict = self._ctx.answered_by
        if verdict is None and self._params.greeting_waits_for_amd:
            verdict = await self._verdicts.wait(self._params.amd_wait_max_ms / 1000)
            if verdict is None:
                await self._no_verdict()
                return
        if verdict in MACHINE_VERDICTS:
            await self._machine_answered()
            return
        self._responses.expect(Role.DISCLOSURE)
        await self._agent.start_response(greeting_instructions(opening))
        if verdict is None:  # greeting_waits_for_amd is off: still stop at a machine verdict
            if await self._verdicts.late(timeout_s=60.0) in MACHINE_VERDICTS:
                await self._machine_answered()

    async def _on_reconnected(self, event: AgentReconnected) -> None:
        """A new agent session took over: record it; speak the disclosure again only if the drop cut it."""
        await self._record.agent_reconnected(f"{event.how} after {event.cause}")
        if not (self._agent_turns.disclosure_played or self._end.ending) and self._responses.cut_disclosure():
            assert self._agent is not None
            await self._agent.start_response(greeting_instructions(opening_line(self._ctx)))

    async def _no_verdict(self) -> None:
        """No verdict in time: end the call without a word (``agent_error``; the lead is retried)."""
        wait_ms = self._params.amd_wait_max_ms
        log.warning(
            "attempt %s: no AMD verdict within %d ms; hanging up unheard", self._ctx.attempt_id, wait_ms
        )
        await self._end.agent_failed(f"no AMD verdict within {wait_ms} ms; hung up without speaking")

    async def _machine_answered(self) -> None:
        """Say nothing (more) to an answering machine; the AMD webhook hangs the call up."""
        self._end.ending = True
        if self._agent is not None and self._responses.active:
            await self._agent.cancel_response()
        await self._cut()
        await self._end.hang_up()

    # --- audio and marks ---

    def _response(self, response_id: str) -> Response:
        response = self._responses.get(response_id)
        if response.role == Role.GOODBYE:
            self._opt_out_watch = False  # the goodbye is under way
        return response

    async def _play(self, audio: AgentAudio) -> None:
        if self._end.hung_up:
            return
        response = self._response(audio.response_id)
        if audio.item_id not in response.items:
            response.items.append(audio.item_id)
        if await self._out.send(audio.item_id, response.generation, audio.payload):
            self._end.touch()

    async def _on_mark(self, name: str) -> None:
        if not self._playback.echoed(name):
            return  # echoed after a clear: that audio never played
        self._end.touch()
        await self._agent_turns.check_disclosure(ending=self._end.ending)
        await self._end.maybe_hang_up()

    # --- transcripts ---

    async def _on_agent_said(self, said: AgentSaid) -> None:
        await self._agent_turns.said(said)

    async def _on_caller_said(self, text: str) -> None:
        self._end.touch()
        await self._record.turn(Speaker.CALLER, text)
        rule = None if self._opt_out_recorded else match_opt_out(text)
        if rule is None or not await self._record_opt_out(source="phrase_check", reason=f"{rule}: {text}"):
            return
        if not self._responses.active:
            task = asyncio.create_task(self._opt_out_grace(), name="opt-out-grace")
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _record_opt_out(self, *, source: str, reason: str) -> bool:
        """Record the caller's opt-out once, whatever the channel (DESIGN rule 5); False if already done."""
        if self._opt_out_recorded:
            return False
        self._opt_out_recorded = self._opt_out_watch = True
        self._listening = False
        await self._tools.honor_opt_out(source=source, reason=reason)
        return True

    async def _opt_out_grace(self) -> None:
        """Give the model a moment to answer the opt-out itself; if it does not, say goodbye."""
        await asyncio.sleep(OPT_OUT_GRACE_SECONDS)
        if self._opt_out_watch and not self._responses.active and not self._end.ending:
            await self._say_dnc_goodbye()

    # --- responses and tools ---

    async def _on_response_finished(self, event: ResponseFinished) -> None:
        assert self._agent is not None
        self._record.add_usage(event.usage)
        response = self._response(event.response_id)
        await self._out.finish(response.items)
        response.finished, response.status = True, event.status
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
            self._turns.responding()
            await self._agent.deliver_tool_results(outputs, respond=True)
        elif ToolEffect.END_NOW in effects:
            await self._agent.deliver_tool_results(outputs, respond=False)
            await self._end.after_playback()
        elif self._opt_out_watch:
            if outputs:
                await self._agent.deliver_tool_results(outputs, respond=False)
            await self._say_dnc_goodbye()
        elif outputs:
            respond = event.status == "completed" and not self._end.ending
            if respond:
                self._turns.responding()
            await self._agent.deliver_tool_results(outputs, respond=respond)
        if response.role == Role.GOODBYE:
            await self._end.after_playback()
        await self._agent_turns.check_disclosure(ending=self._end.ending)
        await self._end.maybe_hang_up()
        await self._turns.answer_pending()

    async def _run_tool(self, call: ToolCall) -> ToolResult:
        result = await self._tools.run(call)
        if result.effect != ToolEffect.NONE:
            self._listening = False  # the call is ending: nothing the caller says can change that
        return result

    async def _say_dnc_goodbye(self) -> None:
        """The caller opted out and the model did not end the call itself: clear, say goodbye, end.

        ``_opt_out_watch`` stays set until the goodbye response starts, so if the request races a
        response the model began on its own, the goodbye follows that response instead.
        """
        assert self._agent is not None
        await self._cut()
        self._responses.expect(Role.GOODBYE)
        self._turns.responding()
        await self._agent.start_response(greeting_instructions(DNC_GOODBYE))

    async def _opt_out_by_key(self) -> None:
        """Key-press opt-out (47 CFR 64.1200(b)(3)): record at once, stop the agent, say goodbye."""
        if not await self._record_opt_out(source="dtmf", reason="caller pressed 9"):
            return
        assert self._agent is not None
        if self._responses.active:
            await self._agent.cancel_response()  # the goodbye follows its response.done
            await self._cut()
        else:
            await self._say_dnc_goodbye()
