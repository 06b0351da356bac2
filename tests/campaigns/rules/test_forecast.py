"""rules.forecast: when a running campaign finishes at its recent pace, within its calling hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from campaigns.rules import forecast

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ALWAYS = [(NOW, NOW + forecast.HORIZON)]


def days_of(hours_a_day: int, days: int = 100) -> list[tuple[datetime, datetime]]:
    """Open from 9:00 for `hours_a_day` hours every day, from NOW."""
    return [(NOW + timedelta(days=d), NOW + timedelta(days=d, hours=hours_a_day)) for d in range(days)]


def test_the_finish_is_the_work_left_at_the_recent_pace() -> None:
    found = forecast.forecast(
        now=NOW,
        customers_left=100,
        customers_final=100,
        calls_ended=200,  # two calls per finished customer so far
        recent_calls=60,
        recent_open_minutes=30,  # two calls a minute
        open_ahead=ALWAYS,
    )
    assert (found.calls_left, found.calls_per_minute) == (200, 2.0)
    assert found.finish_at == NOW + timedelta(minutes=100)
    assert found.confidence == forecast.MEDIUM and "200 calls left" in found.why


def test_closed_hours_push_the_finish_to_the_next_day() -> None:
    found = forecast.forecast(
        now=NOW,
        customers_left=1000,
        customers_final=500,
        calls_ended=500,
        recent_calls=300,
        recent_open_minutes=30,  # 10 a minute: 100 minutes of calling, the day holds 60
        open_ahead=days_of(1),
    )
    assert found.finish_at == NOW + timedelta(days=1, minutes=40)
    assert found.confidence == forecast.HIGH


def test_no_recent_pace_means_no_estimate_and_says_why() -> None:
    found = forecast.forecast(
        now=NOW, customers_left=5, customers_final=0, calls_ended=0, recent_calls=0,
        recent_open_minutes=30, open_ahead=ALWAYS,
    )  # fmt: skip
    assert (found.finish_at, found.confidence) == (None, forecast.NONE)
    assert "no pace" in found.why


def test_work_beyond_the_horizon_has_no_date() -> None:
    found = forecast.forecast(
        now=NOW, customers_left=10**9, customers_final=1, calls_ended=1, recent_calls=1,
        recent_open_minutes=30, open_ahead=days_of(1),
    )  # fmt: skip
    assert found.finish_at is None and "90 days" in found.why


@given(
    left=st.integers(1, 10**6),
    more=st.integers(1, 10**6),
    final=st.integers(0, 10**5),
    recent=st.integers(1, 10**4),
    hours_a_day=st.integers(1, 24),
)
def test_more_work_never_finishes_sooner_and_never_before_now(left, more, final, recent, hours_a_day) -> None:
    ahead = days_of(hours_a_day)
    common = {"now": NOW, "customers_final": final, "calls_ended": final * 2, "recent_calls": recent}
    common |= {"recent_open_minutes": 30.0, "open_ahead": ahead}
    sooner = forecast.forecast(customers_left=left, **common)
    later = forecast.forecast(customers_left=left + more, **common)
    if later.finish_at is not None:
        assert sooner.finish_at is not None and NOW <= sooner.finish_at <= later.finish_at
        # The finish lies within calling hours (or at the close of a window).
        assert any(start <= later.finish_at <= end for start, end in ahead)
    assert sooner.confidence == later.confidence != forecast.NONE
