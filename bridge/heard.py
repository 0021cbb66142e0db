"""What the caller heard of an agent item cut short: its transcript up to the heard point (pure).

The backends' transcripts carry no timing the bridge can trust on every backend (OpenAI's
``response.output_audio_transcript.delta`` has none), so the words are placed proportionally
along the item's audio and only whole words before the heard point count: the record may say
the caller heard a word less than they did, never a word more.
"""

from __future__ import annotations

import math
import re

_PARTIAL_WORD = re.compile(r"\S+$")


def heard_text(text: str, heard_ms: float, audio_ms: float) -> str:
    """The whole words of ``text`` spoken in the first ``heard_ms`` of its ``audio_ms`` of audio.

    Args:
        text: the item's transcript (what its ``audio_ms`` of audio says).
        heard_ms: how much of the audio played (ms from the item's start).
        audio_ms: the length of the audio ``text`` covers (ms).

    Returns:
        A prefix of ``text`` (stripped); all of it once ``heard_ms`` reaches ``audio_ms``, ``""``
        when nothing played or nothing is known of the audio.
    """
    if heard_ms >= audio_ms > 0:
        return text.strip()
    if heard_ms <= 0 or audio_ms <= 0:
        return ""
    kept = math.floor(len(text) * heard_ms / audio_ms)
    prefix = text[:kept]
    if kept < len(text) and not text[kept].isspace():
        prefix = _PARTIAL_WORD.sub("", prefix)  # the word under the heard point was not finished
    return prefix.strip()
