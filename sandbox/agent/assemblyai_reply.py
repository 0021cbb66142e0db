"""One AssemblyAI reply: a :class:`~sandbox.agent.script.Plan` streamed as Voice Agent server events.

Event order (PROTOCOLS E3, E4)::

    reply.started {reply_id}
    N x (reply.audio {reply_id, item_id, data}, transcript.agent.delta {reply_id, delta, start_ms, end_ms})
    transcript.agent {reply_id, item_id, text, interrupted: false}
    per call: tool.call {reply_id, call_id, name, arguments: {...}}
    (one chunk's time, in which a tool.result would be early)
    reply.done {reply_id, status: "completed"}

Audio is paced like the Realtime stand-in (``chunk_ms`` per chunk at ``generation_speed`` times
real time). :meth:`AssemblyAIReply.interrupt` (the server's barge-in) ends the reply with
``transcript.agent`` trimmed to what was generated and ``interrupted: true``, then ``reply.done``
``interrupted``; its tool calls are not made.
"""

from __future__ import annotations

import asyncio
import base64
import math
from collections.abc import Callable
from typing import Literal

from sandbox.agent.config import AgentConfig
from sandbox.agent.protocol import JsonObject, new_id
from sandbox.agent.records import ToolCallRecord
from sandbox.agent.script import Plan
from sandbox.agent.speech import AudioFormatType, bytes_per_ms, render_speech

Emit = Callable[[JsonObject], None]
ReplyStatus = Literal["in_progress", "completed", "interrupted"]


class AssemblyAIReply:
    """Generates one reply.

    Attributes:
        id: the ``reply_id``.
        status: ``in_progress`` until ``completed`` or ``interrupted``.
        text: what the agent has said so far.
        calls: the tool calls made (only once the speech completed).
    """

    def __init__(
        self,
        *,
        plan: Plan,
        audio_format: AudioFormatType,
        config: AgentConfig,
        emit: Emit,
        on_done: Callable[[AssemblyAIReply], None],
    ) -> None:
        self.id = new_id("reply")
        self.item_id = new_id("item")
        self.status: ReplyStatus = "in_progress"
        self.text = ""
        self.audio_ms = 0.0
        self.calls: list[ToolCallRecord] = []
        self._plan = plan
        self._format = audio_format
        self._config = config
        self._emit = emit
        self._on_done = on_done
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Announce the reply and generate it in the background."""
        self._emit({"type": "reply.started", "reply_id": self.id})
        self._task = asyncio.create_task(self._generate(), name=f"sandbox-assemblyai-{self.id}")

    def interrupt(self) -> None:
        """The caller barged in: stop, trim the transcript, report ``interrupted``."""
        if self.status != "in_progress":
            return
        self.abort()
        self._transcript(interrupted=True)
        self._finish("interrupted")

    def abort(self) -> None:
        """Stop without a word (the connection is gone)."""
        if self._task is not None:
            self._task.cancel()

    async def _generate(self) -> None:
        if self._plan.speech is not None:
            await self._speak(self._plan.speech)
            self._transcript(interrupted=False)
        for call in self._plan.calls:
            call_id = new_id("call")
            self.calls.append(ToolCallRecord(call_id, call.name, dict(call.arguments)))
            self._emit(
                {
                    "type": "tool.call",
                    "reply_id": self.id,
                    "call_id": call_id,
                    "name": call.name,
                    "arguments": dict(call.arguments),
                }
            )
        if self._plan.calls:  # the agent talks on briefly while tools run; results belong after reply.done
            await asyncio.sleep(self._config.chunk_ms / 1000 / self._config.generation_speed)
        self._finish("completed")

    async def _speak(self, text: str) -> None:
        if self._config.first_audio_delay_ms:  # a slow agent
            await asyncio.sleep(self._config.first_audio_delay_ms / 1000)
        audio = render_speech(text, self._format, ms_per_char=self._config.ms_per_char)
        per_ms = bytes_per_ms(self._format)
        chunk = per_ms * self._config.chunk_ms
        interval_s = self._config.chunk_ms / 1000 / self._config.generation_speed
        loop = asyncio.get_running_loop()
        started = loop.time()
        for number, offset in enumerate(range(0, len(audio), chunk), start=1):
            sent = min(offset + chunk, len(audio))
            data = base64.b64encode(audio[offset:sent]).decode("ascii")
            self._emit({"type": "reply.audio", "reply_id": self.id, "item_id": self.item_id, "data": data})
            spoken = text[: math.floor(len(text) * sent / len(audio))]
            start_ms, self.audio_ms = self.audio_ms, sent / per_ms
            if len(spoken) > len(self.text):
                self._emit(
                    {
                        "type": "transcript.agent.delta",
                        "reply_id": self.id,
                        "delta": spoken[len(self.text) :],
                        "start_ms": round(start_ms),
                        "end_ms": round(self.audio_ms),
                    }
                )
            self.text = spoken
            await asyncio.sleep(max(0.0, started + number * interval_s - loop.time()))

    def _transcript(self, *, interrupted: bool) -> None:
        if self._plan.speech is None:
            return
        self._emit(
            {
                "type": "transcript.agent",
                "reply_id": self.id,
                "item_id": self.item_id,
                "text": self.text,
                "interrupted": interrupted,
            }
        )

    def _finish(self, status: ReplyStatus) -> None:
        self.status = status
        self._emit({"type": "reply.done", "reply_id": self.id, "status": status})
        self._on_done(self)
