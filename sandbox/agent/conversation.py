"""The conversation the server holds: ordered items, as the client and the agent added them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sandbox.agent.protocol import JsonObject, new_id

ItemStatus = Literal["in_progress", "completed", "incomplete"]
ContentType = Literal["input_text", "input_audio", "output_text", "output_audio"]


@dataclass(eq=False)
class Message:
    """A message with one content part.

    Attributes:
        id: the item id.
        role: who said it.
        content_type: ``input_audio`` for a caller turn, ``output_audio`` for the agent's speech,
            ``input_text`` / ``output_text`` for messages a client typed in.
        text: the text, or the transcript of the audio (for ``output_audio``, what has been
            generated, then what remains after a truncation).
        status: ``in_progress`` while the agent is still speaking it.
        audio_ms: length of the item's audio in ms (0 for text).
    """

    id: str
    role: Literal["user", "assistant", "system"]
    content_type: ContentType
    text: str = ""
    status: ItemStatus = "completed"
    audio_ms: float = 0.0

    def truncate(self, audio_end_ms: float) -> None:
        """Keep the first ``audio_end_ms`` of the audio, and about as much of the transcript."""
        kept_chars = math.floor(len(self.text) * audio_end_ms / self.audio_ms) if self.audio_ms else 0
        self.text = self.text[:kept_chars]
        self.audio_ms = audio_end_ms

    def to_wire(self) -> JsonObject:
        """The item as JSON; an item in progress has no content yet."""
        content: list[JsonObject] = []
        if self.status != "in_progress":
            if self.content_type == "input_audio":
                content.append({"type": "input_audio", "transcript": None})
            elif self.content_type == "output_audio":
                content.append({"type": "output_audio", "transcript": self.text})
            else:
                content.append({"type": self.content_type, "text": self.text})
        return {
            "id": self.id,
            "object": "realtime.item",
            "type": "message",
            "status": self.status,
            "role": self.role,
            "content": content,
        }


@dataclass(eq=False)
class FunctionCall:
    """A function call the agent made; ``arguments`` is a JSON string once complete."""

    id: str
    call_id: str
    name: str
    arguments: str = ""
    status: ItemStatus = "completed"

    def to_wire(self) -> JsonObject:
        """The item as JSON."""
        return {
            "id": self.id,
            "object": "realtime.item",
            "type": "function_call",
            "status": self.status,
            "name": self.name,
            "call_id": self.call_id,
            "arguments": self.arguments,
        }


@dataclass(eq=False)
class FunctionCallOutput:
    """What a function call returned, as the client reported it."""

    id: str
    call_id: str
    output: str

    def to_wire(self) -> JsonObject:
        """The item as JSON."""
        return {
            "id": self.id,
            "object": "realtime.item",
            "type": "function_call_output",
            "status": "completed",
            "call_id": self.call_id,
            "output": self.output,
        }


Item = Message | FunctionCall | FunctionCallOutput


def item_text_chars(item: Item) -> int:
    """Characters of text an item puts into the model's context."""
    if isinstance(item, Message):
        return len(item.text)
    if isinstance(item, FunctionCall):
        return len(item.name) + len(item.arguments)
    return len(item.output)


class Conversation:
    """The default conversation: items in order, plus which ones the agent has not reacted to yet."""

    def __init__(self) -> None:
        self.id = new_id("conv")
        self._items: list[Item] = []
        self._unread: list[Item] = []

    @property
    def last_item_id(self) -> str | None:
        """The id of the newest item, if any."""
        return self._items[-1].id if self._items else None

    def add(self, item: Item) -> str | None:
        """Append ``item``; return the id of the item before it."""
        previous = self.last_item_id
        self._items.append(item)
        self._unread.append(item)
        return previous

    def previous_id(self, item_id: str) -> str | None:
        """The id of the item just before ``item_id``, if there is one."""
        ids = [item.id for item in self._items]
        position = ids.index(item_id) if item_id in ids else 0
        return ids[position - 1] if position else None

    def get(self, item_id: str) -> Item | None:
        """The item with ``item_id``, if the conversation holds it."""
        return next((item for item in self._items if item.id == item_id), None)

    def delete(self, item_id: str) -> bool:
        """Remove the item with ``item_id``; False when there is none."""
        item = self.get(item_id)
        if item is None:
            return False
        self._items.remove(item)
        if item in self._unread:
            self._unread.remove(item)
        return True

    def function_call(self, call_id: str) -> FunctionCall | None:
        """The agent's function call with ``call_id``, if the conversation holds it."""
        return next(
            (item for item in self._items if isinstance(item, FunctionCall) and item.call_id == call_id),
            None,
        )

    def take_unread(self) -> list[Item]:
        """Items added since the last call, oldest first; they count as read afterwards."""
        unread, self._unread = self._unread, []
        return unread

    def text_chars(self) -> int:
        """Characters of text the whole conversation puts into the model's context."""
        return sum(item_text_chars(item) for item in self._items)
