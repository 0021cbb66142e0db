"""A scripted voice agent speaking the AssemblyAI Voice Agent API (PROTOCOLS E1-E4), transport-free.

The same brain as the Realtime stand-in (:mod:`sandbox.agent.script`, the sandbox speech code via
:class:`~sandbox.agent.input_audio.InputAudio`), behind AssemblyAI's events:

- ``session.update`` must come first (E1, E3); ``session.ready {session_id, config, expires_at,
  resume_token}`` answers the first valid one (E4), ``session.updated {config}`` later ones.
  ``input.audio`` before ``session.ready`` gets ``session.error`` ``session_not_ready``.
- A caller turn: ``input.speech.started`` -> ``transcript.user.delta`` -> ``input.speech.stopped``
  -> ``transcript.user`` -> the agent's reply, always (there is no way to turn automatic replies
  off, E2). A turn that ends during a reply is answered after it. Turns end after ``min_silence``
  of silence (the stand-in's end-of-turn model is silence only).
- With ``interrupt_response`` on (the default), speech during a reply interrupts it
  (``transcript.agent {interrupted: true}``, ``reply.done {status: "interrupted"}``); its tool calls
  are not made. Off, replies always finish.
- ``reply.create {instructions?}``: a reply now; ``Say exactly: "..."`` instructions are spoken
  verbatim, like the Realtime stand-in. During a reply it is refused (``reply_in_progress``; the
  real API's behaviour there is undocumented).
- ``tool.call`` -> ``reply.done`` -> client ``tool.result`` (one per call) -> a new reply with the
  script's answer to the results (E2). A result sent before its ``reply.done`` is accepted but
  recorded (``early_tool_results``): the tutorials say it "causes timing issues" (E1).
- ``conversation.message`` is recorded; a ``user`` one counts as heard words. A ``system`` one
  reading ``Result of your <tool> call, made before the reconnect: <result>`` (a bridge handing a
  fresh session the result of a call its dropped predecessor made) is kept as that tool's result:
  the next ``reply.create`` answers it, as a ``tool.result`` would be answered.
- ``session.end`` -> ``session.ended {session_duration_seconds, audio_duration_seconds}``; the
  connection then closes 1000. A connection lost without it leaves the session resumable with
  ``session.resume`` for ``resume_grace_s`` (see :mod:`sandbox.agent.app`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable
from typing import Any

from sandbox.agent.assemblyai_config import AssemblyAIError, VoiceAgentSettings, updated
from sandbox.agent.assemblyai_reply import AssemblyAIReply
from sandbox.agent.config import AgentConfig
from sandbox.agent.input_audio import InputAudio, SpeechBegan, VadTiming
from sandbox.agent.protocol import new_id
from sandbox.agent.records import ErrorRecord, ResponseRecord, SessionRegistry, ToolOutputRecord
from sandbox.agent.script import Heard, Plan, ScriptState, ToolResult, ToolResults, respond, verbatim_line
from sandbox.agent.speech import bytes_per_ms

Emit = Callable[[dict[str, Any]], None]
MODEL = "assemblyai-voice-agent"
SESSION_LIFETIME_S = 3600


class AssemblyAISession:
    """The server side of one Voice Agent session (it may outlive a connection, for resume).

    Attributes:
        id: the ``session_id``.
        ended: True once ``session.ended`` was sent.
    """

    def __init__(self, *, config: AgentConfig, emit: Emit, registry: SessionRegistry) -> None:
        self.id = new_id("sess")
        self.resume_token = new_id("resume")
        self._config = config
        self._emit = emit
        self.record = registry.open(session_id=self.id, model=MODEL)
        self._settings = VoiceAgentSettings()
        self._ready = False
        self.ended = False
        self._input = InputAudio()
        self._script = ScriptState()
        self._active: AssemblyAIReply | None = None
        self._unheard: list[str] = []
        self._turn_waiting = False
        self._awaiting: dict[str, str] = {}  # call_id -> tool name, of the last finished reply
        self._results: list[ToolResult] = []
        self._late: list[ToolResult] = []  # results of a dropped predecessor's calls, as messages
        self._early: dict[str, str] = {}  # call_id -> result, sent before the call's reply.done
        self._started = time.monotonic()
        self._audio_s = 0.0

    def attach(self, emit: Emit) -> None:
        """A resumed connection: events go to ``emit`` from now on; ``session.ready`` again."""
        self._emit = emit
        self.record.open = True
        self.record.resumes += 1
        self._send_ready()

    def detach(self) -> None:
        """The connection is gone (no ``session.end``): stop generating, keep the conversation."""
        if self._active is not None:
            self._active.abort()
            self._active = None
        self.record.open = False

    def receive(self, frame: str | bytes) -> None:
        """Handle one client frame; a bad one gets ``session.error`` and the session goes on."""
        try:
            event = _decode(frame)
            self._dispatch(event["type"], event)
        except AssemblyAIError as error:
            self.record.errors.append(ErrorRecord(error.code, error.message, None, None))
            self._emit(error.to_event())

    def _dispatch(self, kind: str, event: dict[str, Any]) -> None:
        if kind == "session.update":
            self._update(event.get("session"))
        elif not self._ready:
            raise AssemblyAIError(
                "session_not_ready", f"{kind} before session.ready; send session.update first"
            )
        elif kind == "input.audio":
            self._audio(event.get("audio"))
        elif kind == "reply.create":
            self._reply_create(event.get("instructions"))
        elif kind == "tool.result":
            self._tool_result(event)
        elif kind == "conversation.message":
            self._message(event)
        elif kind == "session.end":
            self.end()
        else:
            raise AssemblyAIError("unknown_message_type", f"Unknown message type {kind!r}")

    def end(self) -> None:
        """``session.ended`` with the billed durations; the caller closes the socket (1000)."""
        if self._active is not None:
            self._active.abort()
        self.ended = True
        self.record.open = False
        duration = round(time.monotonic() - self._started, 3)
        self._emit(
            {
                "type": "session.ended",
                "session_id": self.id,
                "session_duration_seconds": duration,
                "audio_duration_seconds": round(self._audio_s, 3),
            }
        )

    # --- configuration ---

    def _update(self, session: object) -> None:
        self._settings = updated(self._settings, session, ready=self._ready)
        self.record.system_prompt = self._settings.system_prompt
        if self._ready:
            self._emit({"type": "session.updated", "config": self._settings.to_wire()})
            return
        self._ready = True
        self._send_ready()
        if self._settings.greeting:
            self._start(Plan(speech=self._settings.greeting))

    def _send_ready(self) -> None:
        self._emit(
            {
                "type": "session.ready",
                "session_id": self.id,
                "config": self._settings.to_wire(),
                "expires_at": int(time.time()) + SESSION_LIFETIME_S,
                "resume_token": self.resume_token,
            }
        )

    # --- the caller ---

    def _audio(self, audio: object) -> None:
        try:
            data = base64.b64decode(str(audio), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AssemblyAIError("invalid_audio", "input.audio.audio is not valid base64") from exc
        settings = self._settings
        vad = VadTiming(prefix_padding_ms=0, silence_duration_ms=settings.min_silence_ms)
        self._audio_s += len(data) / bytes_per_ms(settings.input_encoding) / 1000
        for turn in self._input.append(data, audio_format=settings.input_encoding, vad=vad):
            if isinstance(turn, SpeechBegan):
                self._emit({"type": "input.speech.started", "audio_start_ms": turn.audio_start_ms})
                if self._active is not None and settings.interrupt_response:
                    self._active.interrupt()
            else:
                self._heard(turn.transcript, turn.audio_end_ms)

    def _heard(self, text: str, audio_end_ms: int) -> None:
        self._emit({"type": "transcript.user.delta", "text": text})
        self._emit({"type": "input.speech.stopped", "audio_end_ms": audio_end_ms})
        self._emit({"type": "transcript.user", "text": text})
        self.record.turns_heard.append(text)
        self._unheard.append(text)
        if self._active is None and not self._awaiting:
            self._answer()
        else:
            self._turn_waiting = True

    def _message(self, event: dict[str, Any]) -> None:
        content, role = event.get("content"), event.get("role")
        if not isinstance(content, str) or role not in ("user", "system"):
            raise AssemblyAIError(
                "invalid_message", "conversation.message needs a role (user|system) and content"
            )
        self.record.messages.append(content)
        if role == "user":
            self._unheard.append(content)
        elif (late := _LATE_RESULT.match(content)) is not None:
            self._late.append(ToolResult.from_output(late["name"], late["result"]))

    # --- replies ---

    def _answer(self) -> None:
        heard = " ".join(text for text in self._unheard if text)
        self._unheard = []
        self._turn_waiting = False
        self._script, plan = respond(self._script, Heard(heard), frozenset(self._settings.tools))
        self._start(plan)

    def _reply_create(self, instructions: object) -> None:
        if self._active is not None:
            raise AssemblyAIError("reply_in_progress", f"Reply {self._active.id} is still in progress")
        line = verbatim_line(instructions if isinstance(instructions, str) else None)
        if line is not None:
            self._start(Plan(speech=line))
        elif self._late:
            results, self._late = tuple(self._late), []
            self._script, plan = respond(self._script, ToolResults(results), frozenset(self._settings.tools))
            self._start(plan)
        else:
            self._answer()

    def _start(self, plan: Plan) -> None:
        self._active = AssemblyAIReply(
            plan=plan,
            audio_format=self._settings.output_encoding,
            config=self._config,
            emit=lambda event: self._emit(event),
            on_done=self._reply_done,
        )
        self._active.start()

    def _reply_done(self, reply: AssemblyAIReply) -> None:
        self._active = None
        reason = "turn_detected" if reply.status == "interrupted" else None
        record = ResponseRecord(reply.id, reply.status, reason, reply.text, tuple(reply.calls))
        self.record.responses.append(record)
        if reply.calls and reply.status == "completed":  # an interrupted reply's calls are dropped (E1)
            self._awaiting = {call.call_id: call.name for call in reply.calls}
            self._results = []
            early, self._early = self._early, {}
            for call_id, result in early.items():
                self._take_result(call_id, result)
        self._early = {}
        if self._turn_waiting and not self._awaiting and self._active is None:
            self._answer()

    def _tool_result(self, event: dict[str, Any]) -> None:
        call_id, result = event.get("call_id"), event.get("result")
        if not isinstance(result, str):
            raise AssemblyAIError("invalid_tool_result", "tool.result.result must be a string (JSON)")
        if self._active is not None and any(call.call_id == call_id for call in self._active.calls):
            self.record.early_tool_results.append(str(call_id))
            self._early[str(call_id)] = result
            return
        self._take_result(str(call_id), result)

    def _take_result(self, call_id: str, result: str) -> None:
        name = self._awaiting.pop(call_id, None)
        if name is None:
            raise AssemblyAIError("unknown_call_id", f"No pending tool call {call_id!r}")
        self.record.tool_outputs.append(ToolOutputRecord(call_id, name, result))
        self._results.append(ToolResult.from_output(name, result))
        if not self._awaiting and self._active is None:
            self._script, plan = respond(
                self._script, ToolResults(tuple(self._results)), frozenset(self._settings.tools)
            )
            self._start(plan)


_LATE_RESULT = re.compile(
    r"Result of your (?P<name>\w+) call, made before the reconnect: (?P<result>.*)", re.S
)


def _decode(frame: str | bytes) -> dict[str, Any]:
    try:
        event = json.loads(frame)
    except ValueError as exc:
        raise AssemblyAIError("invalid_message", "Messages must be JSON text") from exc
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise AssemblyAIError("invalid_message", "Messages must be JSON objects with a string 'type'")
    return event
