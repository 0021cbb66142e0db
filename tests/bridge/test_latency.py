"""The TSR 2-second rule and the call's latencies, as pure bookkeeping (bridge.latency)."""

from __future__ import annotations

import pytest

from bridge.latency import TSR_MAX_WAIT_S, LatencyLog

ANSWER = 100.0
STREAM = 100.4  # the stream's start, 400 ms after the TwiML request


def log() -> LatencyLog:
    return LatencyLog(answered_at=ANSWER, stream_started_at=STREAM)


def test_a_silent_callee_is_counted_from_the_answer():
    calls = log()
    assert calls.deadline() == pytest.approx(ANSWER + TSR_MAX_WAIT_S)
    first, turn = calls.agent_audio(ANSWER + 1.5)
    assert first is not None and turn is None
    assert (first.answer_to_first_audio_ms, first.greeting_to_first_audio_ms, first.abandoned) == (
        1500,
        1500,
        False,
    )
    assert calls.deadline() is None and calls.end(ANSWER + 30) is False


def test_the_wait_runs_from_where_the_callees_greeting_ended_in_the_audio():
    calls = log()
    calls.caller_speech_started()
    assert calls.deadline() is None  # "Hello?" is still being said: no deadline yet
    # The VAD reports the stop 500 ms after the last word, which was 1.2 s into the stream's audio.
    calls.caller_speech_stopped(STREAM + 1.7, audio_end_ms=1200)
    assert calls.deadline() == pytest.approx(STREAM + 1.2 + TSR_MAX_WAIT_S)
    first, _ = calls.agent_audio(STREAM + 3.0)
    assert first is not None and first.greeting_to_first_audio_ms == 1800 and not first.abandoned
    assert first.answer_to_first_audio_ms == 3400


def test_agent_audio_more_than_two_seconds_after_the_greeting_is_abandoned():
    calls = log()
    calls.caller_speech_started()
    calls.caller_speech_stopped(STREAM + 1.0, audio_end_ms=500)
    first, _ = calls.agent_audio(STREAM + 0.5 + 2.2)
    assert first is not None and first.abandoned and first.greeting_to_first_audio_ms == 2200
    assert calls.abandoned is True and calls.end(STREAM + 10) is True


def test_the_deadline_abandons_a_call_that_has_heard_nothing_yet():
    calls = log()
    assert not calls.expire(ANSWER + 1.99)
    assert calls.expire(ANSWER + 2.0)
    assert not calls.expire(ANSWER + 2.5)  # once
    first, _ = calls.agent_audio(ANSWER + 4.0)  # it speaks at last: still abandoned
    assert first is not None and first.abandoned and first.greeting_to_first_audio_ms == 4000


def test_a_callee_who_hangs_up_before_the_deadline_was_not_abandoned():
    calls = log()
    assert calls.end(ANSWER + 1.5) is False
    late = log()
    assert late.end(ANSWER + 2.5) is True  # nobody spoke to them for 2.5 s, then the call ended


def test_a_callee_still_talking_when_the_agent_starts_waited_for_nothing():
    calls = log()
    calls.caller_speech_started()
    first, _ = calls.agent_audio(ANSWER + 5.0)
    assert first is not None and first.greeting_to_first_audio_ms == 0 and not first.abandoned


def test_speech_after_the_first_utterance_does_not_move_the_greeting():
    calls = log()
    calls.caller_speech_stopped(STREAM + 1.0, audio_end_ms=600)
    calls.caller_speech_started()  # "Hello?" again: the first greeting was complete
    assert calls.deadline() == pytest.approx(STREAM + 0.6 + TSR_MAX_WAIT_S)


def test_each_turn_latency_is_measured_once_on_the_first_audio_of_its_answer():
    calls = log()
    calls.agent_audio(ANSWER + 1.0)
    calls.turn_ended(ANSWER + 10.0)
    _, turn = calls.agent_audio(ANSWER + 10.7)
    assert turn == pytest.approx(0.7)
    assert calls.agent_audio(ANSWER + 10.8) == (None, None)
    calls.turn_ended(ANSWER + 20.0)
    calls.agent_audio(ANSWER + 21.25)
    assert calls.turn_latencies_ms == [700, 1250]
