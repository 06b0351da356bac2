"""The pacing bucket: calls leave evenly at the rate set, never in bursts, whoever dispatches."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.rules.pacing import Bucket, allowance, capacity, next_call_at, refill, take

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("per_minute", "expected"),
    [(1, 1.0), (12, 1.0), (30, 1.0), (60, 2.0), (600, 20.0)],
)
def test_the_bucket_holds_two_seconds_of_calls_and_at_least_one(per_minute, expected) -> None:
    assert capacity(per_minute) == expected


def test_a_new_bucket_lets_the_first_call_leave_at_once() -> None:
    assert allowance(Bucket(0, None), 12, T0) == 1


def test_twelve_a_minute_leave_one_every_five_seconds_not_twelve_at_once() -> None:
    bucket, started = Bucket(0, None), []
    for second in range(60):
        now = T0 + timedelta(seconds=second)
        n = allowance(bucket, 12, now)
        bucket = take(bucket, 12, now, n)
        started += [second] * n
    assert started == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55]


def test_next_call_at_says_when_the_next_token_is_whole() -> None:
    bucket = take(Bucket(0, None), 12, T0, 1)
    assert next_call_at(bucket, 12, T0) == T0 + timedelta(seconds=5)
    assert next_call_at(bucket, 12, T0 + timedelta(seconds=7)) == T0 + timedelta(seconds=7)


def test_a_clock_behind_the_bucket_neither_refills_nor_drains_it() -> None:
    bucket = take(Bucket(0, None), 60, T0, 2)
    assert refill(bucket, 60, T0 - timedelta(seconds=30)).tokens == 0
    assert refill(bucket, 60, T0 - timedelta(seconds=30)).at == T0


def test_it_refuses_more_calls_than_tokens() -> None:
    with pytest.raises(ValueError, match="exceed"):
        take(Bucket(0.5, T0), 12, T0, 1)
    with pytest.raises(ValueError, match="naive|timezone-aware"):
        allowance(Bucket(0, None), 12, datetime(2026, 6, 1, 9))  # noqa: DTZ001


@settings(max_examples=300, deadline=None)
@given(
    per_minute=st.integers(min_value=1, max_value=6000),
    steps=st.lists(st.integers(min_value=0, max_value=20_000), min_size=1, max_size=80),
    greed=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=80),
)
def test_no_window_ever_holds_more_calls_than_the_rate_allows(per_minute, steps, greed) -> None:
    """Whatever the tick times and however many calls each pass wants, any span of s seconds
    starts at most capacity + rate * s calls, and tokens stay within [0, capacity]."""
    bucket, now, starts = Bucket(0, None), T0, []
    for i, gap_ms in enumerate(steps):
        now += timedelta(milliseconds=gap_ms)
        n = min(greed[i % len(greed)], allowance(bucket, per_minute, now))
        bucket = take(bucket, per_minute, now, n)
        assert 0 <= bucket.tokens <= capacity(per_minute) + 1e-9
        starts += [now] * n
    for i, first in enumerate(starts):
        for j in range(i, len(starts)):
            span = (starts[j] - first).total_seconds()
            assert j - i + 1 <= math.floor(capacity(per_minute) + per_minute / 60 * span + 1e-6)
