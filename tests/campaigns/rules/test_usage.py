"""campaigns.rules.usage: billing periods and the quota, as tables and by property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.rules.engine import Action, CampaignPolicy, Reason, campaign_gate
from campaigns.rules.usage import QuotaMode, billing_period, is_money, quota

NOW = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "day", "start", "end"),
    [
        ("2026-12-02 13:00", 1, "2026-12-01", "2027-01-01"),
        ("2026-12-02 13:00", 2, "2026-12-02", "2027-01-02"),
        ("2026-12-02 13:00", 3, "2026-11-03", "2026-12-03"),
        ("2026-12-01 00:00", 1, "2026-12-01", "2027-01-01"),  # the first instant belongs to it
        ("2026-11-30 23:59", 1, "2026-11-01", "2026-12-01"),
        ("2027-01-10 08:00", 15, "2026-12-15", "2027-01-15"),  # across a year
        ("2027-03-01 08:00", 28, "2027-02-28", "2027-03-28"),  # February has a 28th
    ],
)
def test_the_billing_period_starts_on_the_billing_day_at_or_before_now(now, day, start, end) -> None:
    period = billing_period(datetime.fromisoformat(now).replace(tzinfo=UTC), day)
    assert (f"{period.start:%Y-%m-%d}", f"{period.end:%Y-%m-%d}") == (start, end)


@pytest.mark.parametrize("day", [0, 29, 31, -1])
def test_a_billing_day_every_month_does_not_have_is_refused(day) -> None:
    with pytest.raises(ValueError, match="billing_day"):
        billing_period(NOW, day)


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now"):
        billing_period(datetime(2026, 12, 2), 1)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.integers(1, 28),
)
def test_every_instant_falls_in_exactly_one_period_starting_on_its_day(now, day) -> None:
    period = billing_period(now, day)
    assert period.start <= now < period.end
    assert period.start.day == period.end.day == day
    assert (period.start.hour, period.start.minute, period.start.second) == (0, 0, 0)
    assert timedelta(days=28) <= period.end - period.start <= timedelta(days=31)
    # The next period starts where this one ends; the instant before the start is in the last one.
    assert billing_period(period.end, day).start == period.end
    assert billing_period(period.start - timedelta(microseconds=1), day).end == period.start


QUOTA_TABLE = [
    # mode, included, used seconds -> spent, warn, refuses_calls, remaining
    ("off", None, 10_000, False, False, False, None),
    ("pause", None, 10_000, False, False, False, None),  # no included minutes: no quota
    ("off", 10, 600, True, False, False, 0.0),
    ("warn", 10, 599, False, False, False, 10 - 599 / 60),
    ("warn", 10, 600, True, True, False, 0.0),
    ("pause", 10, 599, False, False, False, 10 - 599 / 60),
    ("pause", 10, 600, True, True, True, 0.0),
    ("pause", 10, 9_000, True, True, True, 0.0),  # never negative
    ("pause", 0, 0, True, True, True, 0.0),  # nothing included: spent from the start
]


@pytest.mark.parametrize(("mode", "included", "used", "spent", "warn", "refuses", "remaining"), QUOTA_TABLE)
def test_the_quota_by_mode(mode, included, used, spent, warn, refuses, remaining) -> None:
    found = quota(mode, included, used)
    assert (found.spent, found.warn, found.refuses_calls) == (spent, warn, refuses)
    if remaining is None:
        assert found.remaining_minutes is None
    else:
        assert found.remaining_minutes == pytest.approx(remaining)
    assert found.used_minutes == pytest.approx(used / 60)


def test_an_unknown_mode_or_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError):
        quota("sometimes", 10, 0)
    with pytest.raises(ValueError, match="included_minutes"):
        quota("pause", -1, 0)


@given(st.sampled_from(list(QuotaMode)), st.none() | st.integers(0, 10**6), st.floats(0, 10**9))
def test_only_a_spent_quota_in_pause_mode_refuses_calls(mode, included, used) -> None:
    found = quota(mode, included, used)
    assert found.refuses_calls == (mode is QuotaMode.PAUSE and included is not None and used / 60 >= included)
    assert found.warn == (found.spent and mode is not QuotaMode.OFF)
    assert found.remaining_minutes is None or found.remaining_minutes >= 0


@pytest.mark.parametrize(
    ("status", "spent", "action", "reason"),
    [
        ("in-progress", True, Action.WAIT, Reason.QUOTA_SPENT),
        ("in-progress", False, Action.DIAL, None),
        ("paused", True, Action.WAIT, Reason.CAMPAIGN_PAUSED),  # its own pause says more
        ("ended", True, Action.SKIP, Reason.CAMPAIGN_NOT_RUNNING),
    ],
)
def test_the_engine_waits_while_the_quota_refuses_calls(status, spent, action, reason) -> None:
    decision = campaign_gate(CampaignPolicy(status=status, quota_spent=spent), NOW)
    assert (decision.action, decision.reason) == (action, reason)
    if reason is Reason.QUOTA_SPENT:
        assert decision.until is None  # nothing but a new period or more minutes lifts it


def test_the_organization_wide_stop_is_named_before_the_quota() -> None:
    policy = CampaignPolicy(status="in-progress", quota_spent=True, organization_paused=True)
    assert campaign_gate(policy, NOW).reason is Reason.ORGANIZATION_PAUSED


@pytest.mark.parametrize(("unit", "money"), [("USD", True), ("EUR", True), ("credits", False), ("", False)])
def test_currencies_are_money_and_provider_units_are_not(unit, money) -> None:
    assert is_money(unit) is money
