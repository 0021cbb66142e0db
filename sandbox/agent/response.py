"""One response: a :class:`~sandbox.agent.script.Plan` streamed as GA server events.

Event order (per the API's event reference)::

    response.created, rate_limits.updated,
    for speech:  response.output_item.added, conversation.item.added, response.content_part.added,
                 N x (response.output_audio.delta, response.output_audio_transcript.delta),
                 response.output_audio.done, response.output_audio_transcript.done,
                 response.content_part.done, response.output_item.done, conversation.item.done
    per call:    response.output_item.added, conversation.item.added,
                 response.function_call_arguments.delta..., response.function_call_arguments.done,
                 response.output_item.done, conversation.item.done
    response.done (with usage)

Audio deltas are paced: each carries ``chunk_ms`` of audio and they are generated at
``generation_speed`` times real time. All events are emitted synchronously between the pauses, so
:meth:`ResponseRun.cancel` always finds a consistent state: it ends the message being spoken with
what was generated so far and reports ``response.done`` with status ``cancelled``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
from collections.abc import Callable
from typing import Any, Literal

from sandbox.agent.config import AgentConfig
from sandbox.agent.conversation import Conversation, FunctionCall, Message
from sandbox.agent.protocol import JsonObject, new_id, server_event
from sandbox.agent.script import FunctionCall as PlannedCall
from sandbox.agent.script import Plan
from sandbox.agent.session_config import AudioOutput
from sandbox.agent.speech import bytes_per_ms, render_speech
from sandbox.agent.usage import InputUsage

logger = logging.getLogger(__name__)

ResponseStatus = Literal["in_progress", "completed", "cancelled", "failed"]
CancelReason = Literal["turn_detected", "client_cancelled"]
Emit = Callable[[JsonObject], None]

_ARGUMENT_DELTA_CHARS = 32


class ResponseRun:
    """Generates one response into the conversation.

    Attributes:
        id: the response id (``resp_...``).
        status: ``in_progress`` until it completes or is cancelled.
        cancel_reason: why it was cancelled, if it was.
        failure: what went wrong, if the sandbox failed to generate it.
        output: the items it added, in order.
    """

    def __init__(
        self,
        *,
        plan: Plan,
        audio: AudioOutput,
        conversation: Conversation,
        usage: InputUsage,
        config: AgentConfig,
        emit: Emit,
        on_done: Callable[[ResponseRun], None],
        max_output_tokens: int | Literal["inf"] = "inf",
        metadata: dict[str, str] | None = None,
    ) -> None:
        self.id = new_id("resp")
        self.status: ResponseStatus = "in_progress"
        self.cancel_reason: CancelReason | None = None
        self.failure: str | None = None
        self.output: list[Message | FunctionCall] = []
        self._plan = plan
        self._audio = audio
        self._conversation = conversation
        self._usage = usage
        self._config = config
        self._emit = emit
        self._on_done = on_done
        self._max_output_tokens = max_output_tokens
        self._metadata = metadata
        self._speaking: Message | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def audio_ms(self) -> float:
        """Agent audio generated so far, in ms."""
        return sum(item.audio_ms for item in self.output if isinstance(item, Message))

    def start(self) -> None:
        """Announce the response and start generating it in the background."""
        self._emit(server_event("response.created", response=self._resource(usage=None)))
        self._emit(server_event("rate_limits.updated", rate_limits=self._usage.rate_limits()))
        self._task = asyncio.create_task(self._generate(), name=f"sandbox-agent-{self.id}")

    def cancel(self, reason: CancelReason) -> None:
        """Stop generating; report what was generated and ``response.done`` as cancelled."""
        if self.status != "in_progress":
            return
        self.abort()
        if self._speaking is not None:
            self._end_speech(self._speaking, status="incomplete")
        self.cancel_reason = reason
        self._finish("cancelled")

    def abort(self) -> None:
        """Stop generating without a word (the connection is gone)."""
        if self._task is not None:
            self._task.cancel()

    async def _generate(self) -> None:
        try:
            if self._plan.speech is not None:
                await self._speak(self._plan.speech)
            for call in self._plan.calls:
                self._call(call)
        except Exception as exc:  # a sandbox bug fails this response like a server error, not the session
            logger.exception("sandbox agent response %s failed", self.id)
            if self._speaking is not None:
                self._end_speech(self._speaking, status="incomplete")
            self.failure = f"{type(exc).__name__}: {exc}"
            self._finish("failed")
        else:
            self._finish("completed")

    async def _speak(self, text: str) -> None:
        item = Message(id=new_id("item"), role="assistant", content_type="output_audio", status="in_progress")
        self._speaking = item
        self._add_output(item)
        self._emit(
            self._part_event("response.content_part.added", item, part={"type": "audio", "transcript": ""})
        )
        if self._config.first_audio_delay_ms:  # a slow agent
            await asyncio.sleep(self._config.first_audio_delay_ms / 1000)
        audio_format = self._audio.format.type
        audio = render_speech(text, audio_format, ms_per_char=self._config.ms_per_char)
        chunk = bytes_per_ms(audio_format) * self._config.chunk_ms
        interval_s = self._config.chunk_ms / 1000 / self._config.generation_speed
        loop = asyncio.get_running_loop()
        started = loop.time()
        for number, offset in enumerate(range(0, len(audio), chunk), start=1):
            sent = min(offset + chunk, len(audio))
            self._emit(
                self._part_event(
                    "response.output_audio.delta",
                    item,
                    delta=base64.b64encode(audio[offset:sent]).decode("ascii"),
                )
            )
            spoken = text[: math.floor(len(text) * sent / len(audio))]
            if len(spoken) > len(item.text):
                self._emit(
                    self._part_event(
                        "response.output_audio_transcript.delta", item, delta=spoken[len(item.text) :]
                    )
                )
            item.text = spoken
            item.audio_ms = sent / bytes_per_ms(audio_format)
            await asyncio.sleep(max(0.0, started + number * interval_s - loop.time()))
        self._end_speech(item, status="completed")

    def _end_speech(self, item: Message, *, status: Literal["completed", "incomplete"]) -> None:
        self._emit(self._part_event("response.output_audio.done", item))
        self._emit(self._part_event("response.output_audio_transcript.done", item, transcript=item.text))
        self._emit(
            self._part_event(
                "response.content_part.done", item, part={"type": "audio", "transcript": item.text}
            )
        )
        item.status = status
        self._speaking = None
        self._end_output(item)

    def _call(self, call: PlannedCall) -> None:
        item = FunctionCall(id=new_id("item"), call_id=new_id("call"), name=call.name, status="in_progress")
        index = self._add_output(item)
        arguments = json.dumps(call.arguments)
        ids = {"response_id": self.id, "item_id": item.id, "output_index": index, "call_id": item.call_id}
        for start in range(0, len(arguments), _ARGUMENT_DELTA_CHARS):
            delta = arguments[start : start + _ARGUMENT_DELTA_CHARS]
            self._emit(server_event("response.function_call_arguments.delta", **ids, delta=delta))
        item.arguments = arguments
        item.status = "completed"
        self._emit(
            server_event("response.function_call_arguments.done", **ids, name=item.name, arguments=arguments)
        )
        self._end_output(item)

    def _add_output(self, item: Message | FunctionCall) -> int:
        index = len(self.output)
        self.output.append(item)
        previous = self._conversation.add(item)
        self._emit(
            server_event(
                "response.output_item.added", response_id=self.id, output_index=index, item=item.to_wire()
            )
        )
        self._emit(server_event("conversation.item.added", previous_item_id=previous, item=item.to_wire()))
        return index

    def _end_output(self, item: Message | FunctionCall) -> None:
        index = self.output.index(item)
        self._emit(
            server_event(
                "response.output_item.done", response_id=self.id, output_index=index, item=item.to_wire()
            )
        )
        previous = self._conversation.previous_id(item.id)
        self._emit(server_event("conversation.item.done", previous_item_id=previous, item=item.to_wire()))

    def _part_event(self, event_type: str, item: Message, **fields: Any) -> JsonObject:
        return server_event(
            event_type,
            response_id=self.id,
            item_id=item.id,
            output_index=self.output.index(item),
            content_index=0,
            **fields,
        )

    def _finish(self, status: ResponseStatus) -> None:
        self.status = status
        text_chars = sum(
            len(item.text) if isinstance(item, Message) else len(item.arguments) for item in self.output
        )
        usage = self._usage.response_usage(output_text_chars=text_chars, output_audio_ms=self.audio_ms)
        self._emit(server_event("response.done", response=self._resource(usage=usage)))
        self._on_done(self)

    def _resource(self, *, usage: JsonObject | None) -> JsonObject:
        details: JsonObject | None = None
        if self.status == "cancelled":
            details = {"type": "cancelled", "reason": self.cancel_reason}
        elif self.status == "failed":
            error = {"type": "server_error", "code": "sandbox_error", "message": self.failure}
            details = {"type": "failed", "error": error}
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": self.status,
            "status_details": details,
            "output": [item.to_wire() for item in self.output],
            "conversation_id": self._conversation.id,
            "output_modalities": ["audio"],
            "max_output_tokens": self._max_output_tokens,
            "audio": {"output": self._audio.model_dump(mode="json", include={"format", "voice"})},
            "usage": usage,
            "metadata": self._metadata,
        }
