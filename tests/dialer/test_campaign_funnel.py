"""The funnel's rates and the dispositions-over-time buckets (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialer.calls.funnel import Funnel, bucket_dispositions

T0 = datetime(2026, 12, 7, 15, 0, 20, tzinfo=UTC)


def test_rates_are_step_by_step_and_none_before_the_step_below() -> None:
    funnel = Funnel(dials=10, human_answers=4, conversations=2, meetings=1)
    assert (funnel.connection_rate, funnel.conversation_rate, funnel.book_rate) == (0.4, 0.5, 0.5)
    empty = Funnel(dials=3, human_answers=0, conversations=0, meetings=0)
    assert (empty.connection_rate, empty.conversation_rate, empty.book_rate) == (0.0, None, None)


def test_dispositions_are_counted_per_minute_without_gaps() -> None:
    rows = [(T0, "booked"), (T0 + timedelta(seconds=50), "machine"), (T0 + timedelta(minutes=3), "booked")]
    series = bucket_dispositions(rows)
    assert series.bucket_seconds == 60
    assert series.starts[0] == datetime(2026, 12, 7, 15, 0, tzinfo=UTC) and len(series.starts) == 4
    assert series.counts == {"booked": [1, 0, 0, 1], "machine": [0, 1, 0, 0]}


def test_a_long_campaign_gets_larger_buckets() -> None:
    rows = [(T0 + timedelta(hours=h), "no_answer") for h in range(0, 72, 5)]
    series = bucket_dispositions(rows, max_buckets=48)
    assert series.bucket_seconds == 6 * 3600
    assert len(series.starts) <= 48 and sum(series.counts["no_answer"]) == len(rows)


def test_naive_instants_are_read_as_utc_and_no_rows_give_an_empty_series() -> None:
    series = bucket_dispositions([(T0.replace(tzinfo=None), "busy")])
    assert series.starts == [datetime(2026, 12, 7, 15, 0, tzinfo=UTC)] and series.counts == {"busy": [1]}
    assert bucket_dispositions([]).starts == []
