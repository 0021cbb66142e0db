"""Token accounting that imitates the API's (``response.done.usage``, transcription usage).

The whole conversation is input to every response. Rates: text about 4 characters a token, caller
audio 1 token per 100 ms, agent audio 1 token per 50 ms. Caching is approximated as half of the
previous response's input. Counts are deterministic so cost reports can be tested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sandbox.agent.protocol import JsonObject

CHARS_PER_TEXT_TOKEN = 4
MS_PER_INPUT_AUDIO_TOKEN = 100
MS_PER_OUTPUT_AUDIO_TOKEN = 50
RATE_LIMIT_REQUESTS = 5000
RATE_LIMIT_TOKENS = 400_000


def text_tokens(chars: int) -> int:
    """Tokens of ``chars`` characters of text."""
    return math.ceil(chars / CHARS_PER_TEXT_TOKEN)


@dataclass(frozen=True)
class InputUsage:
    """The input side of one response, measured when it starts.

    Attributes:
        text_tokens: instructions plus the conversation's text.
        audio_tokens: caller audio committed since the previous response.
        cached_tokens: the part of the input served from the prompt cache.
    """

    text_tokens: int
    audio_tokens: int
    cached_tokens: int

    @property
    def total(self) -> int:
        """All input tokens (cached ones included)."""
        return self.text_tokens + self.audio_tokens

    @classmethod
    def measure(cls, *, text_chars: int, user_audio_ms: float, previous_input_tokens: int) -> InputUsage:
        """Measure a response's input.

        Args:
            text_chars: characters of instructions and conversation text.
            user_audio_ms: caller audio committed since the previous response, in ms.
            previous_input_tokens: input tokens of the previous response (0 for the first).
        """
        text = text_tokens(text_chars)
        audio = round(user_audio_ms / MS_PER_INPUT_AUDIO_TOKEN)
        return cls(
            text_tokens=text, audio_tokens=audio, cached_tokens=min(previous_input_tokens // 2, text + audio)
        )

    def response_usage(self, *, output_text_chars: int, output_audio_ms: float) -> JsonObject:
        """The ``usage`` of ``response.done``.

        Args:
            output_text_chars: characters of transcript and function-call arguments generated.
            output_audio_ms: agent audio generated, in ms (all of it, even if it was cut short).
        """
        output_text = text_tokens(output_text_chars)
        output_audio = round(output_audio_ms / MS_PER_OUTPUT_AUDIO_TOKEN)
        cached_text = min(self.cached_tokens, self.text_tokens)
        return {
            "total_tokens": self.total + output_text + output_audio,
            "input_tokens": self.total,
            "output_tokens": output_text + output_audio,
            "input_token_details": {
                "text_tokens": self.text_tokens,
                "audio_tokens": self.audio_tokens,
                "image_tokens": 0,
                "cached_tokens": self.cached_tokens,
                "cached_tokens_details": {
                    "text_tokens": cached_text,
                    "audio_tokens": self.cached_tokens - cached_text,
                    "image_tokens": 0,
                },
            },
            "output_token_details": {"text_tokens": output_text, "audio_tokens": output_audio},
        }

    def rate_limits(self) -> list[JsonObject]:
        """The ``rate_limits`` of ``rate_limits.updated``, with this response's input reserved."""
        return [
            {
                "name": "requests",
                "limit": RATE_LIMIT_REQUESTS,
                "remaining": RATE_LIMIT_REQUESTS - 1,
                "reset_seconds": 0.012,
            },
            {
                "name": "tokens",
                "limit": RATE_LIMIT_TOKENS,
                "remaining": RATE_LIMIT_TOKENS - self.total,
                "reset_seconds": 0.5,
            },
        ]


def transcription_usage(*, audio_ms: float, transcript: str) -> JsonObject:
    """The ``usage`` of ``conversation.item.input_audio_transcription.completed``.

    Args:
        audio_ms: length of the transcribed caller audio, in ms.
        transcript: the transcript produced.
    """
    audio = round(audio_ms / MS_PER_INPUT_AUDIO_TOKEN)
    output = text_tokens(len(transcript))
    return {
        "type": "tokens",
        "total_tokens": audio + output,
        "input_tokens": audio,
        "input_token_details": {"text_tokens": 0, "audio_tokens": audio},
        "output_tokens": output,
    }
