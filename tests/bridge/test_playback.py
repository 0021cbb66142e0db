import base64

from bridge.playback import PlaybackTracker, payload_bytes


def _b64(n: int) -> str:
    return base64.b64encode(b"\x20" * n).decode()


def test_payload_size_without_decoding():
    for n in (0, 1, 2, 3, 159, 160, 800):
        assert payload_bytes(_b64(n)) == n


def test_echo_confirms_everything_up_to_that_mark():
    tracker = PlaybackTracker()
    marks = [tracker.sent("item_a", _b64(800)) for _ in range(3)]
    assert tracker.unplayed and tracker.playing(["item_a"])
    assert tracker.echoed(marks[1])  # Twilio echoes in order; an echo implies the earlier ones
    assert tracker.clear() == [("item_a", 200)]  # 1600 bytes played = 200 ms heard
    assert not tracker.unplayed and tracker.dropped("item_a")
    assert not tracker.echoed(marks[2])  # echoed after the clear: never played


def test_fully_played_items_need_no_truncation():
    tracker = PlaybackTracker()
    first = tracker.sent("item_a", _b64(800))
    tracker.sent("item_b", _b64(800))
    tracker.echoed(first)
    assert tracker.clear() == [("item_b", 0)]
    assert not tracker.dropped("item_a")
