import random

import pytest

from sandbox.speech_codec import (
    FRAME_BYTES,
    SpeechDecoder,
    SpeechEnded,
    SpeechStarted,
    duration_ms,
    encode_utterance,
    silence,
)


def _chunks(data: bytes, size: int):
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    "text", ["Hello?", "Tuesday at 2pm works.", "It's jane.doe@acme.io — café", "aa bb 11"]
)
def test_round_trip_in_twilio_frames(text):
    audio = silence(100) + encode_utterance(text) + silence(60)
    decoder = SpeechDecoder()
    events = [e for frame in _chunks(audio, FRAME_BYTES) for e in decoder.feed(frame)]
    assert events[0] == SpeechStarted(offset_ms=100.0)
    assert isinstance(events[1], SpeechEnded)
    assert events[1].text == text and events[1].complete
    assert len(events) == 2


def test_any_chunking_decodes_the_same():
    text = "Please take me off your list."
    audio = encode_utterance(text, ms_per_char=3)
    rng = random.Random(7)
    decoder = SpeechDecoder()
    events = []
    i = 0
    while i < len(audio):
        n = rng.randint(1, 37)
        events += decoder.feed(audio[i : i + n])
        i += n
    assert [e.text for e in events if isinstance(e, SpeechEnded)] == [text]


def test_duration_follows_speaking_rate():
    audio = encode_utterance("x" * 100, ms_per_char=10)
    assert 900 <= duration_ms(audio) <= 1100


def test_cut_short_utterance_reports_what_was_heard():
    text = "Would Tuesday at two work for a quick call?"
    audio = encode_utterance(text)
    decoder = SpeechDecoder()
    decoder.feed(audio[: len(audio) // 2])
    assert decoder.speaking and text.startswith(decoder.partial_text[:5])
    (ended,) = decoder.flush()
    assert not ended.complete
    assert text.startswith(ended.text) and 0 < len(ended.text) < len(text)


def test_silence_mid_utterance_ends_it_incomplete():
    audio = encode_utterance("Hello there")
    decoder = SpeechDecoder()
    events = decoder.feed(audio[: len(audio) // 2] + silence(20))
    assert isinstance(events[-1], SpeechEnded) and not events[-1].complete


def test_corrupted_checksum_is_not_complete():
    audio = bytearray(encode_utterance("Hi", ms_per_char=4))
    # Flip one data nibble (keep the toggle bit) in the middle of the first data symbol run.
    idx = next(i for i, b in enumerate(audio) if 0x20 <= b < 0x40)
    run_end = idx
    while run_end < len(audio) and audio[run_end] == audio[idx]:
        run_end += 1
    for j in range(idx, run_end):
        audio[j] ^= 0x01
    (start, end) = SpeechDecoder().feed(bytes(audio))
    assert not end.complete


def test_silence_is_not_speech():
    assert SpeechDecoder().feed(silence(1000)) == []


def test_empty_text_is_refused():
    with pytest.raises(ValueError):
        encode_utterance("")
