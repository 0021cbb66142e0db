"""One Realtime connection: session settings, the caller's audio and turns, the agent's responses.

:class:`AgentSession` is transport-free. The connection feeds it client frames with
:meth:`AgentSession.receive` and it answers through ``emit`` (synchronously, in protocol order);
responses stream from background tasks through the same ``emit``.
"""

from __future__ import annotations

import base64
import binascii
import json

from sandbox.agent.client_events import (
    ConversationItemCreate,
    ConversationItemDelete,
    ConversationItemRetrieve,
    ConversationItemTruncate,
    FunctionCallItemParam,
    FunctionCallOutputParam,
    InputAudioBufferAppend,
    InputAudioBufferClear,
    InputAudioBufferCommit,
    ResponseCancel,
    ResponseCreate,
    ResponseParams,
    SessionUpdate,
    parse_client_event,
)
from sandbox.agent.config import AgentConfig
from sandbox.agent.conversation import Conversation, FunctionCall, FunctionCallOutput, Item, Message
from sandbox.agent.input_audio import InputAudio, SpeechBegan, TurnEnded
from sandbox.agent.protocol import RealtimeError, new_id, server_event
from sandbox.agent.records import (
    ErrorRecord,
    ResponseRecord,
    SessionRegistry,
    ToolCallRecord,
    ToolOutputRecord,
    TruncationRecord,
)
from sandbox.agent.response import Emit, ResponseRun
from sandbox.agent.script import (
    Heard,
    Plan,
    ScriptState,
    ToolResult,
    ToolResults,
    Turn,
    respond,
    verbatim_line,
)
from sandbox.agent.session_config import AudioOutput, SessionConfig, function_names
from sandbox.agent.usage import InputUsage, transcription_usage

MIN_COMMIT_MS = 100
"""The shortest input buffer a client may commit, in ms."""


class AgentSession:
    """The server side of one Realtime connection.

    Attributes:
        record: what this connection did, for inspection.
    """

    def __init__(self, *, config: AgentConfig, model: str, emit: Emit, registry: SessionRegistry) -> None:
        self._config = config
        self._emit = emit
        self._settings = SessionConfig.initial(model)
        self.record = registry.open(session_id=self._settings.id, model=model)
        self._conversation = Conversation()
        self._input = InputAudio()
        self._script = ScriptState()
        self._active: ResponseRun | None = None
        self._turn_item_id: str | None = None
        self._user_audio_ms = 0.0
        self._previous_input_tokens = 0
        self._audio_produced = False

    def open(self) -> None:
        """Greet the client with ``session.created``, the first server event."""
        self._emit(server_event("session.created", session=self._settings.to_wire()))

    def receive(self, frame: str | bytes) -> None:
        """Handle one client frame; a bad one gets an ``error`` event and the session goes on."""
        try:
            event = parse_client_event(frame)
            match event:
                case SessionUpdate():
                    self._update_session(event)
                case InputAudioBufferAppend():
                    self._append_audio(event)
                case InputAudioBufferCommit():
                    self._commit_audio(event)
                case InputAudioBufferClear():
                    self._input.clear()
                    self._turn_item_id = None
                    self._emit(server_event("input_audio_buffer.cleared"))
                case ResponseCreate():
                    self._create_response(event)
                case ResponseCancel():
                    self._cancel_response(event)
                case ConversationItemCreate():
                    self._create_item(event)
                case ConversationItemTruncate():
                    self._truncate(event)
                case ConversationItemDelete():
                    self._delete_item(event)
                case ConversationItemRetrieve():
                    item = self._item(event.item_id, event.event_id)
                    self._emit(server_event("conversation.item.retrieved", item=item.to_wire()))
        except RealtimeError as error:
            self.record.errors.append(ErrorRecord(error.code, error.message, error.param, error.event_id))
            self._emit(error.to_event())

    def close(self) -> None:
        """The connection is gone: stop generating."""
        if self._active is not None:
            self._active.abort()
        self.record.open = False

    def _update_session(self, event: SessionUpdate) -> None:
        spoken = self._audio_produced or (self._active is not None and self._active.audio_ms > 0)
        self._settings = self._settings.updated(event.session, audio_produced=spoken, event_id=event.event_id)
        self.record.system_prompt = self._settings.instructions
        self._emit(server_event("session.updated", session=self._settings.to_wire()))

    def _append_audio(self, event: InputAudioBufferAppend) -> None:
        try:
            audio = base64.b64decode(event.audio, validate=True)
        except binascii.Error as exc:
            raise RealtimeError(
                "invalid_value", "The audio is not valid base64.", param="audio", event_id=event.event_id
            ) from exc
        detection = self._settings.audio.input.turn_detection
        turns = self._input.append(
            audio,
            audio_format=self._settings.audio.input.format.type,
            vad=detection.timing() if detection is not None else None,
        )
        for turn in turns:
            if isinstance(turn, SpeechBegan):
                self._speech_started(turn)
            else:
                self._turn_ended(turn)

    def _speech_started(self, began: SpeechBegan) -> None:
        self._turn_item_id = new_id("item")
        self._emit(
            server_event(
                "input_audio_buffer.speech_started",
                audio_start_ms=began.audio_start_ms,
                item_id=self._turn_item_id,
            )
        )
        detection = self._settings.audio.input.turn_detection
        if self._active is not None and detection is not None and detection.interrupt_response:
            self._active.cancel("turn_detected")

    def _turn_ended(self, ended: TurnEnded) -> None:
        item_id = self._turn_item_id or new_id("item")
        self._turn_item_id = None
        self._emit(
            server_event(
                "input_audio_buffer.speech_stopped", audio_end_ms=ended.audio_end_ms, item_id=item_id
            )
        )
        self._add_user_turn(item_id, ended.transcript, ended.duration_ms)
        detection = self._settings.audio.input.turn_detection
        if detection is not None and detection.create_response and self._active is None:
            self._start_response(ResponseParams())

    def _commit_audio(self, event: InputAudioBufferCommit) -> None:
        buffered = self._input.buffered_ms
        if buffered < MIN_COMMIT_MS:
            raise RealtimeError(
                "input_audio_buffer_commit_empty",
                f"Error committing input audio buffer: buffer too small. Expected at least {MIN_COMMIT_MS}ms "
                f"of audio, but buffer only has {buffered:.2f}ms of audio.",
                event_id=event.event_id,
            )
        committed = self._input.commit()
        item_id = self._turn_item_id or new_id("item")
        self._turn_item_id = None
        self._add_user_turn(item_id, committed.transcript, committed.duration_ms)

    def _add_user_turn(self, item_id: str, transcript: str, audio_ms: float) -> None:
        previous = self._conversation.last_item_id
        self._emit(server_event("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id))
        self._add_item(
            Message(id=item_id, role="user", content_type="input_audio", text=transcript, audio_ms=audio_ms)
        )
        if self._settings.audio.input.transcription is not None:
            self._emit(
                server_event(
                    "conversation.item.input_audio_transcription.completed",
                    item_id=item_id,
                    content_index=0,
                    transcript=transcript,
                    usage=transcription_usage(audio_ms=audio_ms, transcript=transcript),
                )
            )
        self._user_audio_ms += audio_ms
        self.record.turns_heard.append(transcript)

    def _add_item(self, item: Item) -> None:
        previous = self._conversation.add(item)
        self._emit(server_event("conversation.item.added", previous_item_id=previous, item=item.to_wire()))
        self._emit(server_event("conversation.item.done", previous_item_id=previous, item=item.to_wire()))

    def _create_response(self, event: ResponseCreate) -> None:
        if self._active is not None:
            raise RealtimeError(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self._active.id}. "
                "Wait until the response is finished before creating a new one.",
                event_id=event.event_id,
            )
        self._start_response(event.response or ResponseParams())

    def _start_response(self, params: ResponseParams) -> None:
        settings = self._settings
        unread = self._conversation.take_unread()
        line = verbatim_line(params.instructions)
        if line is not None:
            plan = Plan(speech=line)
        else:
            declared = function_names(params.tools if params.tools is not None else settings.tools)
            self._script, plan = respond(self._script, self._turn_from(unread), declared)
        instructions = params.instructions if params.instructions is not None else settings.instructions
        usage = InputUsage.measure(
            text_chars=len(instructions) + self._conversation.text_chars(),
            user_audio_ms=self._user_audio_ms,
            previous_input_tokens=self._previous_input_tokens,
        )
        self._user_audio_ms = 0.0
        self._previous_input_tokens = usage.total
        self._active = ResponseRun(
            plan=plan,
            audio=self._output_audio(params),
            conversation=self._conversation,
            usage=usage,
            config=self._config,
            emit=self._emit,
            on_done=self._response_done,
            max_output_tokens=params.max_output_tokens or settings.max_output_tokens,
            metadata=params.metadata,
        )
        self._active.start()

    def _turn_from(self, items: list[Item]) -> Turn:
        results = []
        for item in items:
            if isinstance(item, FunctionCallOutput):
                call = self._conversation.function_call(item.call_id)
                results.append(ToolResult.from_output(call.name if call else "", item.output))
        if results:
            return ToolResults(tuple(results))
        said = [
            item.text for item in items if isinstance(item, Message) and item.role == "user" and item.text
        ]
        return Heard(" ".join(said))

    def _output_audio(self, params: ResponseParams) -> AudioOutput:
        audio = self._settings.audio.output
        override = params.audio.output if params.audio is not None else None
        if override is None:
            return audio
        changes = {"format": override.format, "voice": override.voice}
        return audio.model_copy(update={name: value for name, value in changes.items() if value is not None})

    def _response_done(self, run: ResponseRun) -> None:
        self._active = None
        self._audio_produced = self._audio_produced or run.audio_ms > 0
        calls = tuple(
            ToolCallRecord(item.call_id, item.name, json.loads(item.arguments))
            for item in run.output
            if isinstance(item, FunctionCall) and item.status == "completed"
        )
        transcript = " ".join(item.text for item in run.output if isinstance(item, Message))
        self.record.responses.append(ResponseRecord(run.id, run.status, run.cancel_reason, transcript, calls))

    def _cancel_response(self, event: ResponseCancel) -> None:
        run = self._active
        if run is None or (event.response_id is not None and event.response_id != run.id):
            raise RealtimeError(
                "response_cancel_not_active",
                "Cancellation failed: no active response found",
                event_id=event.event_id,
            )
        run.cancel("client_cancelled")

    def _create_item(self, event: ConversationItemCreate) -> None:
        param = event.item
        if param.id is not None and self._conversation.get(param.id) is not None:
            raise RealtimeError(
                "invalid_value",
                f"Item with id '{param.id}' already exists.",
                param="item.id",
                event_id=event.event_id,
            )
        item_id = param.id or new_id("item")
        self.record.items_created.append(param.model_dump(exclude_none=True))
        if isinstance(param, FunctionCallItemParam):
            self._add_item(
                FunctionCall(id=item_id, call_id=param.call_id, name=param.name, arguments=param.arguments)
            )
            self._conversation.take_unread()  # the agent's own turn: what came before was answered
        elif isinstance(param, FunctionCallOutputParam):
            call = self._conversation.function_call(param.call_id)
            if call is None:
                raise RealtimeError(
                    "invalid_value",
                    f"No function call with call_id '{param.call_id}' found in the conversation.",
                    param="item.call_id",
                    event_id=event.event_id,
                )
            self._add_item(FunctionCallOutput(id=item_id, call_id=param.call_id, output=param.output))
            self.record.tool_outputs.append(ToolOutputRecord(param.call_id, call.name, param.output))
        else:
            message = Message(id=item_id, role=param.role, content_type=param.content_type, text=param.text)
            self._add_item(message)
            if param.role == "assistant":  # a rebuilt history: what came before was answered
                self._conversation.take_unread()

    def _truncate(self, event: ConversationItemTruncate) -> None:
        item = self._item(event.item_id, event.event_id)
        if not isinstance(item, Message) or item.content_type != "output_audio":
            raise RealtimeError(
                "unsupported_content_type",
                "Only model output audio messages can be truncated",
                param="item_id",
                event_id=event.event_id,
            )
        if event.content_index != 0:
            raise RealtimeError(
                "invalid_value",
                f"Content index {event.content_index} does not exist; the item has one content part.",
                param="content_index",
                event_id=event.event_id,
            )
        if item.status == "in_progress":
            raise RealtimeError(
                "invalid_value",
                f"Item {item.id} is still being generated; cancel the response before truncating it.",
                param="item_id",
                event_id=event.event_id,
            )
        if event.audio_end_ms > item.audio_ms:
            raise RealtimeError(
                "invalid_value",
                f"Audio content of {item.audio_ms:.0f}ms is already shorter than {event.audio_end_ms}ms",
                param="audio_end_ms",
                event_id=event.event_id,
            )
        item.truncate(event.audio_end_ms)
        self._emit(
            server_event(
                "conversation.item.truncated",
                item_id=item.id,
                content_index=0,
                audio_end_ms=event.audio_end_ms,
            )
        )
        self.record.truncations.append(TruncationRecord(item.id, event.audio_end_ms))

    def _delete_item(self, event: ConversationItemDelete) -> None:
        self._item(event.item_id, event.event_id)
        self._conversation.delete(event.item_id)
        self._emit(server_event("conversation.item.deleted", item_id=event.item_id))

    def _item(self, item_id: str, event_id: str | None) -> Item:
        item = self._conversation.get(item_id)
        if item is None:
            raise RealtimeError(
                "invalid_value", f"Item with item_id not found: {item_id}", param="item_id", event_id=event_id
            )
        return item
