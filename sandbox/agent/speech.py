"""The agent's voice: text rendered as audio in the session's output format.

Only ``audio/pcmu`` carries the sandbox speech code (see :mod:`sandbox.speech_codec`), because
that is what the phone line carries end to end. The other GA formats get silence of the same
playing time, so timing, truncation and cost accounting still hold.
"""

from __future__ import annotations

from typing import Literal

from sandbox.speech_codec import duration_ms, encode_utterance

AudioFormatType = Literal["audio/pcm", "audio/pcmu", "audio/pcma"]
"""The GA audio formats: 24 kHz 16-bit PCM, G.711 μ-law and G.711 A-law (both 8 kHz)."""

_BYTES_PER_MS: dict[AudioFormatType, int] = {"audio/pcm": 48, "audio/pcmu": 8, "audio/pcma": 8}
_SILENCE_BYTE: dict[AudioFormatType, int] = {"audio/pcm": 0x00, "audio/pcmu": 0xFF, "audio/pcma": 0xD5}


def bytes_per_ms(audio_format: AudioFormatType) -> int:
    """Bytes of ``audio_format`` audio per millisecond (48 for 24 kHz PCM16, 8 for G.711)."""
    return _BYTES_PER_MS[audio_format]


def render_speech(text: str, audio_format: AudioFormatType, *, ms_per_char: float) -> bytes:
    """Audio of the agent saying ``text``.

    Args:
        text: what to say; must not be empty.
        audio_format: the session's output format.
        ms_per_char: speaking time per character, in ms.

    Returns:
        The speech code for ``audio/pcmu``; for other formats, silence lasting as long.
    """
    coded = encode_utterance(text, ms_per_char=ms_per_char)
    if audio_format == "audio/pcmu":
        return coded
    length = round(duration_ms(coded) * _BYTES_PER_MS[audio_format])
    return bytes([_SILENCE_BYTE[audio_format]]) * length
