"""campaigns.rules.strategy: the dialing strategy's rules, written once, as tables. No Django."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from campaigns.rules.engine import CampaignPolicy, RetryDelays
from campaigns.rules.strategy import (
    BOUNDS,
    DEFAULT_RETRY_DELAYS,
    DEFAULTS,
    FIELDS,
    RECIPIENT_WINDOW,
    RETRY_OUTCOMES,
    WEEKDAY_INDEX,
    WEEKDAY_NAMES,
    WEEKDAYS,
    bound_message,
    is_time_zone,
    parse_hhmm,
    within_bounds,
)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("00:00", time(0, 0)),
        ("09:05", time(9, 5)),
        ("23:59", time(23, 59)),
        ("24:00", None),
        ("9:00", None),
        ("09:60", None),
        ("09:00:00", None),
        ("09:00\n", None),  # a trailing newline is not HH:MM (time.fromisoformat refuses it later)
        (" 09:00", None),
        ("", None),
        (900, None),
        (None, None),
    ],
)
def test_a_time_of_day_is_hh_mm_and_nothing_else(text, read) -> None:
    assert parse_hhmm(text) == read


@pytest.mark.parametrize(
    ("field", "value", "kept"),
    [
        ("max_attempts", 1, True),
        ("max_attempts", 20, True),
        ("max_attempts", 0, False),
        ("max_attempts", 21, False),
        ("max_attempts", True, False),  # a boolean is not a number of attempts
        ("max_attempts", 3.0, False),
        ("max_ring_seconds", 14, False),
        ("max_ring_seconds", 15, True),
        ("capacity_wait_seconds", 30 * 86_400, True),
        ("capacity_wait_seconds", 30 * 86_400 + 1, False),
    ],
)
def test_integer_settings_keep_their_bounds(field, value, kept) -> None:
    assert within_bounds(field, value) is kept


def test_the_bounds_message_says_both_ends() -> None:
    assert bound_message("max_attempts") == "must be an integer from 1 to 20"


def test_weekdays_are_indexed_as_python_counts_them() -> None:
    monday = date(2026, 1, 12)
    assert [WEEKDAY_INDEX[day] for day in WEEKDAYS] == [
        (monday + timedelta(days=i)).weekday() for i in range(7)
    ]
    assert [WEEKDAY_NAMES[day] for day in WEEKDAYS] == [
        (monday + timedelta(days=i)).strftime("%A") for i in range(7)
    ]


def test_the_engine_starts_from_the_same_defaults() -> None:
    delays = RetryDelays()
    assert {key: getattr(delays, name) for key, name in RETRY_OUTCOMES.items()} == DEFAULT_RETRY_DELAYS
    policy = CampaignPolicy(status="scheduled")
    assert (policy.recipient_start, policy.recipient_end) == RECIPIENT_WINDOW
    assert policy.max_attempts == DEFAULTS["max_attempts"]


def test_every_bound_and_default_names_a_setting() -> None:
    assert set(BOUNDS) <= set(FIELDS)
    assert set(DEFAULTS) <= set(FIELDS)
    assert all(within_bounds(field, DEFAULTS[field]) for field in BOUNDS if field in DEFAULTS)


@pytest.mark.parametrize(
    ("name", "accepted"),
    [("Europe/Paris", True), ("UTC", True), ("Etc/GMT+5", True), ("EST5EDT", False), ("Mars/Base", False)],
)
def test_time_zones_are_places_utc_or_etc(name, accepted) -> None:
    assert is_time_zone(name) is accepted
