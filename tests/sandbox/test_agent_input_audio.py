import pytest

from sandbox.agent.input_audio import InputAudio, SpeechBegan, TurnEnded, VadTiming
from sandbox.speech_codec import FRAME_BYTES, encode_utterance, silence

VAD = VadTiming(prefix_padding_ms=300, silence_duration_ms=500)


def feed(audio_in: InputAudio, audio: bytes, *, vad: VadTiming | None = VAD, audio_format="audio/pcmu"):
    events = []
    for start in range(0, len(audio), FRAME_BYTES):
        events += audio_in.append(audio[start : start + FRAME_BYTES], audio_format=audio_format, vad=vad)
    return events


def test_a_turn_ends_only_after_the_silence_duration():
    speech = encode_utterance("Hello there", ms_per_char=10)
    end_marker_ms = 1000 + speech.index(0x41) / 8
    audio_in = InputAudio()
    assert feed(audio_in, silence(1000) + speech + silence(480)) == [SpeechBegan(audio_start_ms=700)]
    assert feed(audio_in, silence(40)) == [
        TurnEnded(audio_start_ms=700, audio_end_ms=round(end_marker_ms), transcript="Hello there")
    ]


def test_utterances_within_the_silence_duration_make_one_turn():
    audio = (
        encode_utterance("Yes.", ms_per_char=5) + silence(200) + encode_utterance("Go ahead.", ms_per_char=5)
    )
    events = feed(InputAudio(), audio + silence(600))
    assert [type(event) for event in events] == [SpeechBegan, TurnEnded]
    assert events[1].transcript == "Yes. Go ahead."


def test_a_long_pause_makes_two_turns_in_the_same_chunk():
    audio = encode_utterance("One", ms_per_char=5) + silence(600) + encode_utterance("Two", ms_per_char=5)
    events = InputAudio().append(audio + silence(600), audio_format="audio/pcmu", vad=VAD)
    assert [getattr(event, "transcript", None) for event in events] == [None, "One", None, "Two"]


def test_audio_in_another_format_is_heard_as_silence_but_keeps_time():
    audio_in = InputAudio()
    pcm_second = bytes(48_000)
    assert feed(audio_in, pcm_second, audio_format="audio/pcm") == []
    assert audio_in.buffered_ms == pytest.approx(1000)
    assert feed(audio_in, encode_utterance("Hi", ms_per_char=10)) == [SpeechBegan(audio_start_ms=700)]


def test_manual_commit_cuts_an_utterance_in_progress():
    speech = encode_utterance("Call me back tomorrow at 10am", ms_per_char=10)
    audio_in = InputAudio()
    assert feed(audio_in, silence(100) + speech[: len(speech) // 2], vad=None) == []
    committed = audio_in.commit()
    assert "Call me back".startswith(committed.transcript[:12]) and 0 < len(committed.transcript) < 29
    assert committed.duration_ms == 100 + len(speech[: len(speech) // 2]) / 8
    assert audio_in.buffered_ms == 0
    feed(audio_in, speech[len(speech) // 2 :] + encode_utterance("Hello", ms_per_char=10), vad=None)
    assert audio_in.commit().transcript == "Hello"


def test_clear_drops_what_was_heard():
    audio_in = InputAudio()
    feed(audio_in, encode_utterance("Forget this", ms_per_char=5), vad=None)
    audio_in.clear()
    assert audio_in.buffered_ms == 0
    assert audio_in.commit().transcript == ""
