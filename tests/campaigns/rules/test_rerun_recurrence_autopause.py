"""The pure rules of re-runs, recurrence and automatic pause, by property and by table."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.rules.autopause import AutoPause, is_provider_failure, pause_reason
from campaigns.rules.outcomes import OutcomeClass, classify
from campaigns.rules.recurrence import FREQUENCIES, Recurrence, due, recurrence_problems, run_at, run_on
from campaigns.rules.rerun import GROUPS, chosen, group_of, who_problems

REASONS = [
    "customer-ended-call",
    "voicemail",
    "customer-busy",
    "customer-did-not-answer",
    "customer-opted-out",
    "manually-canceled",
    "call.in-progress.error-sip-outbound-call-failed-to-connect",
    "pipeline-error-openai-llm-failed",
    "unknown-error",
]
STATES = ["pending", "queued", "dialing", "completed", "voicemail", "failed", "skipped", "cancelled"]
FAILED = "call.in-progress.error-sip-outbound-call-failed-to-connect"

# -- re-runs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "reason", "met", "group"),
    [
        ("completed", "customer-did-not-answer", None, "not-answered"),
        ("failed", "customer-busy", None, "not-answered"),
        ("voicemail", "voicemail", None, "not-answered"),
        ("failed", FAILED, None, "failed"),
        ("completed", "customer-ended-call", False, "objective-not-met"),
        ("completed", "customer-ended-call", True, None),
        ("completed", "customer-ended-call", None, None),  # no result: nothing says it was not met
        ("skipped", "customer-ended-call", False, None),  # opted out, or on the do-not-call list
        ("cancelled", "", None, None),  # never called
        ("pending", "customer-did-not-answer", None, None),  # the campaign may still call them
    ],
)
def test_each_customer_falls_in_one_group_or_none(state, reason, met, group):
    assert group_of(state, reason, met) == group


@given(st.sampled_from(STATES), st.sampled_from([*REASONS, ""]), st.sampled_from([True, False, None]))
def test_a_group_is_only_ever_a_finished_customer_that_was_called(state, reason, met):
    group = group_of(state, reason, met)
    assert group in (*GROUPS, None)
    if group is not None:
        assert state in ("completed", "voicemail", "failed") and reason
        assert classify(reason) not in (OutcomeClass.OPT_OUT, OutcomeClass.CANCELLED)
    if met is True:
        assert group != "objective-not-met"


@given(
    st.sets(
        st.tuples(st.sampled_from(STATES), st.sampled_from(REASONS), st.sampled_from([True, False, None]))
    ),
    st.sets(st.sampled_from(GROUPS)),
)
def test_chosen_is_exactly_the_triples_of_the_groups_asked(triples, who):
    picked = chosen(triples, who)
    assert picked <= triples
    assert all(group_of(*t) in who for t in picked)
    assert all(group_of(*t) not in who for t in triples - picked)


@pytest.mark.parametrize(
    ("who", "problems"),
    [
        (["failed"], []),
        ([], ["must be a non-empty array of not-answered, failed, objective-not-met"]),
        ("failed", ["must be a non-empty array of not-answered, failed, objective-not-met"]),
        (["failed", "x"], ["1: must be one of not-answered, failed, objective-not-met"]),
        (["failed", "failed"], ["must not name a group twice"]),
    ],
)
def test_who_is_checked(who, problems):
    assert who_problems(who) == problems


# -- recurrence -----------------------------------------------------------------------------------


def rec(frequency="daily", first=date(2026, 3, 1), at=time(9, 30), zone="America/New_York", **end):
    return Recurrence(frequency, zone, first, at, end.get("ends_on"), end.get("max_runs", 10))


def test_monthly_runs_keep_the_day_or_take_the_months_last():
    monthly = rec("monthly", first=date(2026, 1, 31))
    assert [run_on(monthly, i) for i in range(4)] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_runs_keep_their_local_time_across_a_dst_change():
    daily = rec(first=date(2026, 3, 7))  # US clocks go forward on 8 March 2026
    local = [run_at(daily, i).astimezone(ZoneInfo("America/New_York")) for i in range(3)]
    assert [t.time() for t in local] == [time(9, 30)] * 3
    assert run_at(daily, 1) - run_at(daily, 0) == timedelta(hours=23)  # the night the clocks moved
    assert run_at(daily, 2) - run_at(daily, 1) == timedelta(hours=24)


@given(
    st.sampled_from(FREQUENCIES),
    st.integers(1, 12),
    st.integers(0, 400 * 24),
    st.integers(2, 30),
)
def test_due_makes_at_most_one_run_never_early_never_twice_never_past_the_end(frequency, start, hours, runs):
    series = rec(frequency, max_runs=runs)
    now = run_at(series, 0) + timedelta(hours=hours)
    plan = due(series, start, now)
    if plan.make is not None:
        assert start <= plan.make < runs and run_at(series, plan.make) <= now
        assert plan.skipped == tuple(range(start, plan.make))
        assert plan.next_index == plan.make + 1
    else:
        assert plan.next_index == start and not plan.skipped
    if plan.next_at is not None:
        assert plan.next_at > now and plan.next_index < runs
    else:
        assert plan.next_index >= runs
    # Asked again at the same moment with where it left off: nothing more is due.
    again = due(series, plan.next_index, now)
    assert again.make is None and again.next_index == plan.next_index


def test_an_end_date_stops_the_series_on_that_day():
    weekly = Recurrence("weekly", "UTC", date(2026, 1, 1), time(10), date(2026, 1, 15), None)
    plan = due(weekly, 1, datetime(2026, 2, 1, tzinfo=UTC))
    assert (plan.make, plan.skipped, plan.next_at) == (2, (1,), None)


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({}, []),
        ({"frequency": "hourly"}, ["frequency"]),
        ({"time_zone": "Mars/Olympus"}, ["time_zone"]),
        ({"at": "9:30"}, ["at"]),
        ({"ends_on": None, "max_runs": None}, ["ends_on"]),
        ({"ends_on": date(2026, 3, 1)}, ["ends_on"]),  # not after the first run's day
        ({"ends_on": date(2030, 3, 1)}, ["ends_on"]),  # beyond the horizon
        ({"max_runs": 1}, ["max_runs"]),
        ({"max_runs": True}, ["max_runs"]),
    ],
)
def test_recurrence_settings_are_checked_by_field(values, fields):
    given_values = {"frequency": "weekly", "time_zone": "UTC", "at": time(9), "ends_on": None, "max_runs": 4}
    problems = recurrence_problems(**{**given_values, **values}, first_on=date(2026, 3, 1))
    assert [field for field, _ in problems] == fields


# -- automatic pause -----------------------------------------------------------------------------

PLAN = AutoPause(window=10, error_rate=50, consecutive=4)


@pytest.mark.parametrize(
    ("latest", "paused"),
    [
        ([FAILED] * 3, False),
        ([FAILED] * 4, True),
        ([FAILED] * 3 + ["customer-ended-call"] + [FAILED] * 3, False),  # 6 of 7: no full window
        ([FAILED, "voicemail"] * 5, True),  # 5 of the last 10
        (["voicemail", FAILED] * 4 + ["customer-busy"] * 2, False),  # 4 of 10
        (["customer-did-not-answer"] * 20, False),  # nobody answering is not the provider's fault
        ([], False),
    ],
)
def test_a_campaign_pauses_on_a_run_or_a_rate_of_provider_failures(latest, paused):
    assert (pause_reason(latest, PLAN) is not None) == paused


def test_a_call_still_in_flight_breaks_a_run_and_is_no_failure_in_the_rate():
    plan = AutoPause(window=5, error_rate=60, consecutive=3)
    assert pause_reason([FAILED, FAILED, FAILED], plan) is not None
    assert pause_reason([FAILED, None, FAILED, FAILED], plan) is None
    # Four of the five ended ones failed; two of the five placed.
    assert pause_reason([FAILED, None, FAILED, None, "voicemail", FAILED, FAILED], plan) is None
    assert pause_reason([FAILED, FAILED, "voicemail", FAILED, FAILED], plan).startswith("4 of the last 5")


@given(
    st.lists(st.sampled_from([*REASONS, None]), max_size=40),
    st.integers(5, 30),
    st.integers(1, 100),
    st.integers(2, 20),
)
def test_the_decision_follows_its_definition(latest, window, rate, consecutive):
    plan = AutoPause(window=window, error_rate=rate, consecutive=consecutive)
    failed = [r is not None and is_provider_failure(r) for r in latest]
    run = next((i for i, f in enumerate(failed) if not f), len(failed))
    full = len(latest) >= window and sum(failed[:window]) * 100 >= rate * window
    assert (pause_reason(latest, plan) is not None) == (run >= consecutive or full)
    assert pause_reason(latest, AutoPause(enabled=False)) is None
