"""Playback bookkeeping: named marks every 100 ms, echoes, generations, cuts; the heard words."""

import base64

import pytest

from bridge.heard import heard_text
from bridge.playback import MARK_INTERVAL_MS, Cut, PlaybackTracker, payload_bytes

FRAME = base64.b64encode(b"\x20" * 160).decode()  # 20 ms of μ-law, the size Twilio itself uses


def _b64(n: int) -> str:
    return base64.b64encode(b"\x20" * n).decode()


def _send(tracker: PlaybackTracker, item_id: str, frames: int, generation: int = 0) -> list[str]:
    """Send ``frames`` 20 ms chunks; the marks the tracker asked for."""
    marks = []
    for _ in range(frames):
        play, mark = tracker.sent(item_id, generation, FRAME)
        assert play
        if mark is not None:
            marks.append(mark)
    return marks


def test_payload_size_without_decoding():
    for n in (0, 1, 2, 3, 159, 160, 800):
        assert payload_bytes(_b64(n)) == n


def test_a_mark_every_100_ms_of_an_item_named_by_item_position_and_generation():
    tracker = PlaybackTracker()
    marks = _send(tracker, "item_a", 12)  # 240 ms in 20 ms chunks
    assert marks == ["item_a:100:0", "item_a:200:0"]  # 2 marks for 12 chunks, not 12
    assert tracker.finish(["item_a"]) == ["item_a:240:0"]  # the tail, once the item ends
    assert tracker.finish(["item_a"]) == []  # nothing new since


def test_a_chunk_longer_than_the_interval_gets_a_mark_of_its_own():
    tracker = PlaybackTracker()
    assert tracker.sent("item_a", 0, _b64(2400)) == (True, "item_a:300:0")


def test_an_echo_moves_the_played_position_and_a_cut_truncates_there():
    tracker = PlaybackTracker()
    marks = _send(tracker, "item_a", 25)  # 500 ms sent, marks at 100..500
    assert tracker.echoed(marks[2])  # Twilio echoes in order: 300 ms played
    assert tracker.unplayed and tracker.playing(["item_a"])
    assert tracker.cut() == [Cut("item_a", 300)]
    assert not tracker.unplayed and tracker.heard_ms("item_a") == 300
    assert tracker.received_ms("item_a") == 500


@pytest.mark.parametrize("heard_at_ms", [20, 120, 260, 480])
def test_the_truncation_is_within_one_mark_interval_of_the_heard_point(heard_at_ms):
    tracker = PlaybackTracker()
    marks = _send(tracker, "item_a", 25)
    for mark in marks:  # Twilio echoes each mark once the audio before it has played
        if int(mark.split(":")[1]) <= heard_at_ms:
            assert tracker.echoed(mark)
    [cut] = tracker.cut()
    assert heard_at_ms - MARK_INTERVAL_MS < cut.heard_ms <= heard_at_ms


def test_echoes_of_cleared_marks_are_stale_and_change_nothing():
    tracker = PlaybackTracker()
    marks = _send(tracker, "item_a", 10)
    tracker.echoed(marks[0])
    tracker.cut()
    assert tracker.generation == 1
    assert not tracker.echoed(marks[1])  # Twilio echoes every outstanding mark after a clear
    assert tracker.heard_ms("item_a") == 100 and not tracker.unplayed
    assert not tracker.echoed("item_a:200") and not tracker.echoed("nonsense")


def test_late_audio_of_a_response_started_before_the_cut_is_not_played():
    tracker = PlaybackTracker()
    _send(tracker, "item_a", 5)
    tracker.cut()
    assert tracker.sent("item_a", 0, FRAME) == (False, None)  # the cut item itself
    assert tracker.sent("item_b", 0, FRAME) == (False, None)  # a new item of the old response
    assert tracker.heard_ms("item_b") == 0  # none of it was heard
    assert tracker.received_ms("item_a") == 120  # but it counts as generated
    assert tracker.sent("item_c", 1, FRAME) == (True, None)  # the next response plays


def test_fully_played_items_need_no_truncation_unless_still_generating():
    tracker = PlaybackTracker()
    first = _send(tracker, "item_a", 5)  # 100 ms: one mark
    _send(tracker, "item_b", 4)
    assert tracker.finish(["item_b"]) == ["item_b:80:0"]
    tracker.echoed(first[-1])
    assert tracker.cut() == [Cut("item_b", 0)]
    assert tracker.heard_ms("item_a") is None
    # an item whose audio all played, but whose response was still generating when cut
    played = _send(tracker, "item_c", 5, generation=1) + tracker.finish(["item_c"])
    assert tracker.echoed(played[-1]) and not tracker.unplayed
    assert tracker.cut(generating=["item_c"]) == [Cut("item_c", 100)]


def test_heard_text_keeps_whole_words_up_to_the_heard_point():
    text = "We help data teams catch broken dashboards."  # 43 characters over 430 ms
    assert heard_text(text, 430, 430) == text
    assert heard_text(text, 500, 430) == text
    assert heard_text(text, 0, 430) == ""
    assert heard_text(text, 70, 430) == "We help"  # 7 characters: "help" just finished
    assert heard_text(text, 100, 430) == "We help"  # 10 characters: "data" half said
    assert heard_text(text, 200, 0) == ""
