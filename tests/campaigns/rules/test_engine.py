"""campaigns.rules (engine, outcomes, reasons): pure dialing decisions, as tables. No Django, no clock.

Dates: 2026-01-12 is a Monday, 2026-01-16 a Friday. DST in 2026: New York
springs forward Sun Mar 8 and falls back Sun Nov 1; Paris Sun Mar 29 / Sun Oct 25.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from campaigns.phone import time_zones_for
from campaigns.rules.engine import (
    Action,
    CampaignPolicy,
    CustomerFacts,
    Decision,
    RegionRule,
    RetryDelays,
    Window,
    binding_limit,
    campaign_gate,
    eligibility,
    headroom,
    is_open,
    next_opening,
)
from campaigns.rules.outcome_plan import OutcomePlan, OutcomeRule, When
from campaigns.rules.outcomes import CallFacts, OutcomeClass, after_outcome, classify
from campaigns.rules.reasons import Reason

ENDED_REASONS = (
    Path(__file__).resolve().parents[2] / "spec" / "fixtures" / "provider" / "call-ended-reasons.json"
)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def wall(text: str, zone: str) -> datetime:
    """A local wall-clock time as a UTC instant (the first one, if the clock repeats it)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def weekdays(start: str, end: str) -> tuple[Window, ...]:
    return tuple(Window(day, time.fromisoformat(start), time.fromisoformat(end)) for day in range(MON, SAT))


RUNNING = CampaignPolicy(status="in-progress")
NINE_TO_FIVE_NY = replace(RUNNING, time_zone="America/New_York", calling_hours=weekdays("09:00", "17:00"))
CHICAGO = CustomerFacts(number="+13125550142", time_zones=("America/Chicago",))
BOISE = CustomerFacts(number="+12085550100", time_zones=("America/Boise", "America/Los_Angeles"))
LOS_ANGELES = CustomerFacts(number="+14155552671", time_zones=("America/Los_Angeles",))
HONOLULU = CustomerFacts(number="+18085550100", time_zones=("Pacific/Honolulu",))
NOON_CHICAGO = wall("2026-01-14 12:00", "America/Chicago")


# -- campaign states and schedule ---------------------------------------------


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (RUNNING, Decision(Action.DIAL)),
        (replace(RUNNING, status="paused"), (Action.WAIT, Reason.CAMPAIGN_PAUSED, None)),
        (replace(RUNNING, status="ended"), (Action.SKIP, Reason.CAMPAIGN_NOT_RUNNING, None)),
        (replace(RUNNING, status="scheduled"), (Action.WAIT, Reason.CAMPAIGN_NOT_RUNNING, None)),
        (
            replace(RUNNING, status="scheduled", earliest_at=utc("2026-01-15 09:00")),
            (Action.WAIT, Reason.CAMPAIGN_NOT_RUNNING, utc("2026-01-15 09:00")),
        ),
    ],
    ids=[
        "in-progress dials",
        "paused waits",
        "ended skips",
        "scheduled waits for a start",
        "scheduled waits for earliestAt",
    ],
)
def test_the_campaign_status_decides_first(policy, expected):
    decision = campaign_gate(policy, utc("2026-01-14 18:00"))
    if isinstance(expected, Decision):
        assert decision == expected
    else:
        assert (decision.action, decision.reason, decision.until) == expected


def test_it_dials_exactly_at_earliest_at_and_waits_until_it_before():
    policy = replace(RUNNING, earliest_at=utc("2026-01-14 15:00"))
    assert eligibility(CHICAGO, policy, utc("2026-01-14 15:00")).action is Action.DIAL
    before = eligibility(CHICAGO, policy, utc("2026-01-14 14:59:59"))
    assert (before.action, before.reason, before.until) == (
        Action.WAIT,
        Reason.SCHEDULE_NOT_STARTED,
        utc("2026-01-14 15:00"),
    )


def test_it_dials_until_the_last_moment_before_latest_at_and_expires_exactly_at_it():
    policy = replace(RUNNING, latest_at=utc("2026-01-14 20:00"))
    assert eligibility(CHICAGO, policy, utc("2026-01-14 19:59:59")).action is Action.DIAL
    at_latest = eligibility(CHICAGO, policy, utc("2026-01-14 20:00"))
    assert (at_latest.action, at_latest.reason) == (Action.SKIP, Reason.SCHEDULE_EXPIRED)


def test_it_waits_for_the_first_opening_after_earliest_at_not_earliest_at_itself():
    policy = replace(NINE_TO_FIVE_NY, earliest_at=wall("2026-01-14 20:00", "America/New_York"))
    decision = campaign_gate(policy, utc("2026-01-14 12:00"))
    assert (decision.reason, decision.until) == (
        Reason.SCHEDULE_NOT_STARTED,
        wall("2026-01-15 09:00", "America/New_York"),
    )


def test_a_campaign_whose_next_opening_is_after_latest_at_has_expired():
    policy = replace(NINE_TO_FIVE_NY, latest_at=wall("2026-01-16 20:00", "America/New_York"))
    decision = campaign_gate(policy, wall("2026-01-16 18:00", "America/New_York"))  # Friday evening
    assert (decision.action, decision.reason) == (Action.SKIP, Reason.SCHEDULE_EXPIRED)


# -- campaign calling hours -----------------------------------------------------


@pytest.mark.parametrize(
    ("local_now", "expected_until"),
    [
        ("2026-01-12 08:59", "2026-01-12 09:00"),  # Monday morning
        ("2026-01-12 09:00", None),
        ("2026-01-12 16:59", None),
        ("2026-01-12 17:00", "2026-01-13 09:00"),
        ("2026-01-16 17:00", "2026-01-19 09:00"),  # Friday evening -> Monday
        ("2026-01-17 12:00", "2026-01-19 09:00"),  # Saturday
    ],
)
def test_it_dials_only_inside_the_campaigns_weekly_hours(local_now, expected_until):
    decision = campaign_gate(NINE_TO_FIVE_NY, wall(local_now, "America/New_York"))
    if expected_until is None:
        assert decision.action is Action.DIAL
    else:
        assert (decision.action, decision.reason) == (Action.WAIT, Reason.OUTSIDE_CALLING_HOURS)
        assert decision.until == wall(expected_until, "America/New_York")


FRIDAY_NIGHT = (Window(FRI, time(22, 0), time(2, 0)),)


@pytest.mark.parametrize(
    ("local_at", "open_"),
    [
        ("2026-01-16 21:59", False),
        ("2026-01-16 22:00", True),
        ("2026-01-17 00:00", True),
        ("2026-01-17 01:00", True),
        ("2026-01-17 01:59:59", True),
        ("2026-01-17 02:00", False),
        ("2026-01-17 22:30", False),  # Saturday night has no window of its own
    ],
)
def test_a_window_crossing_midnight_stays_open_into_the_next_morning(local_at, open_):
    assert is_open(FRIDAY_NIGHT, "America/New_York", wall(local_at, "America/New_York")) is open_


def test_a_24_hour_window_is_written_with_equal_start_and_end():
    all_tuesday = (Window(TUE, time(0, 0), time(0, 0)),)
    assert is_open(all_tuesday, "UTC", utc("2026-01-13 23:59:59"))
    assert not is_open(all_tuesday, "UTC", utc("2026-01-14 00:00"))


def test_no_windows_means_any_time():
    assert is_open((), "Europe/Paris", utc("2026-01-17 03:00"))
    assert next_opening((), "Europe/Paris", utc("2026-01-17 03:00")) == utc("2026-01-17 03:00")


def test_next_opening_is_now_when_already_open():
    now = wall("2026-01-12 10:00", "America/New_York")
    assert next_opening(NINE_TO_FIVE_NY.calling_hours, "America/New_York", now) == now


# -- DST change days ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "window", "opens", "closes"),
    [
        # Spring forward, New York: 02:00 EST -> 03:00 EDT at 07:00 UTC.
        ("America/New_York", (SUN, "01:30", "03:30"), "2026-03-08 06:30", "2026-03-08 07:30"),
        ("America/New_York", (SUN, "02:30", "04:00"), "2026-03-08 07:00", "2026-03-08 08:00"),
        # Fall back, New York: 02:00 EDT -> 01:00 EST at 06:00 UTC; 01:xx happens twice.
        ("America/New_York", (SUN, "01:00", "02:00"), "2026-11-01 05:00", "2026-11-01 06:00"),
        ("America/New_York", (SUN, "01:00", "01:45"), "2026-11-01 05:00", "2026-11-01 05:45"),
        # Spring forward, Paris: 02:00 CET -> 03:00 CEST at 01:00 UTC.
        ("Europe/Paris", (SUN, "01:30", "03:30"), "2026-03-29 00:30", "2026-03-29 01:30"),
        ("Europe/Paris", (SUN, "02:30", "05:00"), "2026-03-29 01:00", "2026-03-29 03:00"),
        # Fall back, Paris: 03:00 CEST -> 02:00 CET at 01:00 UTC; 02:xx happens twice.
        ("Europe/Paris", (SUN, "02:00", "02:30"), "2026-10-25 00:00", "2026-10-25 00:30"),
        ("Europe/Paris", (SUN, "02:00", "03:00"), "2026-10-25 00:00", "2026-10-25 01:00"),
    ],
    ids=[
        "NY spring 01:30-03:30 lasts one real hour",
        "NY spring start in the skipped hour opens at the jump",
        "NY fall 01:00-02:00 lasts one real hour, not two",
        "NY fall 01:00-01:45 first pass only",
        "Paris spring 01:30-03:30 lasts one real hour",
        "Paris spring start in the skipped hour opens at the jump",
        "Paris fall 02:00-02:30 first pass only",
        "Paris fall 02:00-03:00 lasts one real hour, not two",
    ],
)
def test_windows_follow_the_wall_clock_on_dst_change_days(zone, window, opens, closes):
    day, start, end = window
    windows = (Window(day, time.fromisoformat(start), time.fromisoformat(end)),)
    night_before = utc(opens) - timedelta(hours=12)
    assert next_opening(windows, zone, night_before) == utc(opens)
    assert is_open(windows, zone, utc(opens))
    assert is_open(windows, zone, utc(closes) - timedelta(seconds=1))
    assert not is_open(windows, zone, utc(closes))


@pytest.mark.parametrize(
    ("zone", "start", "second_pass", "next_week"),
    [
        ("America/New_York", "01:00", "2026-11-01 06:15", "2026-11-08 01:00"),  # 01:15 EST
        ("Europe/Paris", "02:00", "2026-10-25 01:15", "2026-11-01 02:00"),  # 02:15 CET
    ],
)
def test_the_repeated_hour_does_not_open_twice(zone, start, second_pass, next_week):
    begin = time.fromisoformat(start)
    windows = (Window(SUN, begin, begin.replace(minute=45)),)
    assert not is_open(windows, zone, utc(second_pass))  # the clock reads xx:15 for the second time
    assert next_opening(windows, zone, utc(second_pass)) == wall(next_week, zone)


def test_an_overnight_window_pauses_while_the_clock_repeats_an_hour_and_skips_nothing():
    saturday_night = (Window(SAT, time(22, 0), time(6, 0)),)
    zone = "America/New_York"
    assert is_open(saturday_night, zone, utc("2026-11-01 05:59"))  # 01:59 EDT
    assert not is_open(saturday_night, zone, utc("2026-11-01 06:30"))  # 01:30 EST, again
    assert is_open(saturday_night, zone, utc("2026-11-01 07:00"))  # 02:00 EST, new
    assert not is_open(saturday_night, zone, utc("2026-11-01 11:00"))  # 06:00 EST


def test_a_window_wholly_inside_the_skipped_hour_opens_the_next_week():
    windows = (Window(SUN, time(2, 10), time(2, 50)),)
    assert next_opening(windows, "America/New_York", utc("2026-03-08 00:00")) == wall(
        "2026-03-15 02:10", "America/New_York"
    )


def test_it_waits_for_the_recipients_morning_on_a_spring_forward_day():
    now = wall("2026-03-08 07:10", "America/Chicago")  # already CDT
    decision = eligibility(CHICAGO, RUNNING, now)
    assert decision.until == utc("2026-03-08 13:00")  # 08:00 CDT
    assert decision.until - now == timedelta(minutes=50)


# -- recipient local time ---------------------------------------------------------


def test_it_waits_for_the_recipients_morning_in_chicago():
    decision = eligibility(CHICAGO, RUNNING, wall("2026-01-14 07:10", "America/Chicago"))
    assert (decision.action, decision.reason) == (Action.WAIT, Reason.RECIPIENT_LOCAL_TIME)
    assert decision.until == wall("2026-01-14 08:00", "America/Chicago") == utc("2026-01-14 14:00")
    assert "08:00–21:00" in decision.detail and "America/Chicago" in decision.detail


@pytest.mark.parametrize(
    ("local_now", "expected_until"),
    [
        ("2026-01-14 07:59", "2026-01-14 08:00"),
        ("2026-01-14 08:00", None),
        ("2026-01-14 20:59", None),
        ("2026-01-14 21:00", "2026-01-15 08:00"),
        ("2026-01-14 23:30", "2026-01-15 08:00"),
    ],
)
def test_the_recipient_window_includes_its_start_and_excludes_its_end(local_now, expected_until):
    decision = eligibility(CHICAGO, RUNNING, wall(local_now, "America/Chicago"))
    if expected_until is None:
        assert decision.action is Action.DIAL
    else:
        assert decision.until == wall(expected_until, "America/Chicago")


def test_a_number_spanning_two_zones_dials_only_when_both_are_inside_the_window():
    # +1 208 (Idaho) is Mountain and Pacific time: Boise runs an hour ahead of Los Angeles.
    zone_boise = "America/Boise"
    early = eligibility(BOISE, RUNNING, wall("2026-01-14 08:30", zone_boise))
    assert (early.reason, early.until) == (
        Reason.AMBIGUOUS_TIME_ZONE,  # Boise is awake, Los Angeles not yet
        wall("2026-01-14 08:00", "America/Los_Angeles"),
    )
    assert "America/Los_Angeles" in early.detail and "America/Boise" not in early.detail.split(" until")[0]
    assert eligibility(BOISE, RUNNING, wall("2026-01-14 09:00", zone_boise)).action is Action.DIAL
    assert eligibility(BOISE, RUNNING, wall("2026-01-14 20:59", zone_boise)).action is Action.DIAL
    late = eligibility(BOISE, RUNNING, wall("2026-01-14 21:00", zone_boise))
    assert late.until == wall("2026-01-15 08:00", "America/Los_Angeles")


def test_a_toll_free_number_dials_only_while_all_42_north_american_zones_are_awake():
    zones = time_zones_for("+18005550100")
    assert len(zones) == 42 and {"Pacific/Guam", "Pacific/Pago_Pago", "America/St_Johns"} <= set(zones)
    customer = CustomerFacts("+18005550100", zones)
    decision = eligibility(customer, RUNNING, utc("2026-01-14 18:00"))
    # Guam (UTC+10) wakes last: 08:00 there is 22:00 UTC; St John's (UTC-3:30) sleeps first at 00:30 UTC.
    assert (decision.reason, decision.until) == (Reason.AMBIGUOUS_TIME_ZONE, utc("2026-01-14 22:00"))
    assert "Pacific/Guam (04:00)" in decision.detail
    assert eligibility(customer, RUNNING, utc("2026-01-15 00:29")).action is Action.DIAL
    assert eligibility(customer, RUNNING, utc("2026-01-15 00:30")).action is Action.WAIT
    at_night = eligibility(customer, RUNNING, utc("2026-01-15 09:00"))
    assert at_night.until == utc("2026-01-15 22:00")
    assert "and 37 more" in at_night.detail  # 40 zones asleep, three named


def test_a_number_whose_zones_are_never_all_awake_together_waits_without_a_time():
    zones = ("America/New_York", "Europe/London", "Asia/Tokyo")
    decision = eligibility(CustomerFacts("+99912345", zones), RUNNING, NOON_CHICAGO)
    assert (decision.action, decision.reason, decision.until) == (
        Action.WAIT,
        Reason.AMBIGUOUS_TIME_ZONE,  # New York and London are awake, Tokyo is not
        None,
    )


def test_the_wait_ends_when_both_the_campaign_and_the_recipient_allow():
    # 10:00 in New York is 07:00 in Los Angeles: the campaign is open, the callee asleep.
    decision = eligibility(LOS_ANGELES, NINE_TO_FIVE_NY, wall("2026-01-14 10:00", "America/New_York"))
    assert (decision.reason, decision.until) == (
        Reason.RECIPIENT_LOCAL_TIME,
        wall("2026-01-14 11:00", "America/New_York"),
    )
    # Honolulu is five hours behind New York in January.
    decision = eligibility(HONOLULU, NINE_TO_FIVE_NY, wall("2026-01-14 06:00", "America/New_York"))
    assert (decision.reason, decision.until) == (
        Reason.OUTSIDE_CALLING_HOURS,
        wall("2026-01-14 13:00", "America/New_York"),
    )


def test_it_expires_a_customer_whose_morning_comes_after_latest_at():
    policy = replace(RUNNING, latest_at=wall("2026-01-14 07:30", "America/Chicago"))
    decision = eligibility(CHICAGO, policy, wall("2026-01-14 06:00", "America/Chicago"))
    assert (decision.action, decision.reason) == (Action.SKIP, Reason.SCHEDULE_EXPIRED)


def test_it_expires_a_customer_when_no_hour_suits_both_sides_before_latest_at():
    policy = replace(
        NINE_TO_FIVE_NY,
        calling_hours=(Window(MON, time(9, 0), time(10, 0)),),  # 04:00-05:00 in Honolulu
        latest_at=wall("2026-01-15 09:00", "America/New_York"),
    )
    decision = eligibility(HONOLULU, policy, wall("2026-01-12 09:00", "America/New_York"))
    assert (decision.action, decision.reason) == (Action.SKIP, Reason.SCHEDULE_EXPIRED)
    without_end = eligibility(
        HONOLULU, replace(policy, latest_at=None), wall("2026-01-12 09:00", "America/New_York")
    )
    assert (without_end.action, without_end.until) == (Action.WAIT, None)


def test_it_ignores_the_recipients_clock_when_told_to():
    policy = replace(RUNNING, respect_recipient_time_zone=False)
    assert eligibility(CHICAGO, policy, wall("2026-01-14 03:00", "America/Chicago")).action is Action.DIAL


def test_the_recipient_window_comes_from_the_policy():
    policy = replace(RUNNING, recipient_start=time(9, 30), recipient_end=time(18, 0))
    decision = eligibility(CHICAGO, policy, wall("2026-01-14 18:00", "America/Chicago"))
    assert decision.until == wall("2026-01-15 09:30", "America/Chicago")
    assert "09:30–18:00" in decision.detail


@pytest.mark.parametrize(
    ("customer", "policy", "expected"),
    [
        # Unknown zone: it waits, whatever the campaign's hours (no invented zone)...
        (CustomerFacts("+99912345", ()), NINE_TO_FIVE_NY, (Action.WAIT, Reason.UNKNOWN_TIME_ZONE)),
        (CustomerFacts("+99912345", ()), RUNNING, (Action.WAIT, Reason.UNKNOWN_TIME_ZONE)),
        # ...unless the organization allows such numbers: then the campaign's hours decide,
        (
            CustomerFacts("+99912345", ()),
            replace(NINE_TO_FIVE_NY, call_unknown_zones=True),
            (Action.DIAL, None),
        ),
        # and without calling hours nothing would limit the hour, so it still waits.
        (
            CustomerFacts("+99912345", ()),
            replace(RUNNING, call_unknown_zones=True),
            (Action.WAIT, Reason.UNKNOWN_TIME_ZONE),
        ),
        # SIP-only customer: no number, no recipient clock.
        (CustomerFacts("", ()), RUNNING, (Action.DIAL, None)),
        # Unknown zone with respect off (an organization that allows it): any time.
        (
            CustomerFacts("+99912345", ()),
            replace(RUNNING, respect_recipient_time_zone=False),
            (Action.DIAL, None),
        ),
    ],
    ids=[
        "waits despite calling hours",
        "waits without calling hours",
        "organization allows: calling hours decide",
        "organization allows, no calling hours: waits",
        "sip only",
        "respect off",
    ],
)
def test_a_number_without_a_known_zone_waits_unless_the_organization_allows_it_in_calling_hours(
    customer, policy, expected
):
    decision = eligibility(customer, policy, wall("2026-01-14 12:00", "America/New_York"))
    assert (decision.action, decision.reason) == expected


def test_an_allowed_number_without_a_known_zone_waits_for_the_campaign_hours():
    decision = eligibility(
        CustomerFacts("+99912345", ()),
        replace(NINE_TO_FIVE_NY, call_unknown_zones=True),
        wall("2026-01-14 03:00", "America/New_York"),
    )
    assert (decision.reason, decision.until) == (
        Reason.OUTSIDE_CALLING_HOURS,
        wall("2026-01-14 09:00", "America/New_York"),
    )


# -- customers' own reasons ---------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "reason"),
    [
        (replace(CHICAGO, valid_number=False), Reason.INVALID_NUMBER),
        (replace(CHICAGO, do_not_call=True), Reason.DO_NOT_CALL),
        (replace(CHICAGO, attempts=3), Reason.MAX_ATTEMPTS),
        (replace(CHICAGO, attempts=4), Reason.MAX_ATTEMPTS),
    ],
)
def test_it_skips_customers_who_must_never_be_called(customer, reason):
    decision = eligibility(customer, RUNNING, NOON_CHICAGO)
    assert (decision.action, decision.reason) == (Action.SKIP, reason)


def test_it_skips_numbers_on_the_do_not_call_list_even_while_the_campaign_waits():
    paused = replace(RUNNING, status="paused")
    assert eligibility(replace(CHICAGO, do_not_call=True), paused, NOON_CHICAGO).reason is Reason.DO_NOT_CALL
    assert eligibility(CHICAGO, paused, NOON_CHICAGO).reason is Reason.CAMPAIGN_PAUSED


def test_it_reports_an_ended_campaign_before_the_customers_own_reasons():
    ended = replace(RUNNING, status="ended")
    decision = eligibility(replace(CHICAGO, do_not_call=True), ended, NOON_CHICAGO)
    assert decision.reason is Reason.CAMPAIGN_NOT_RUNNING


CAPACITY = replace(RUNNING, started_at=NOON_CHICAGO, capacity_wait=timedelta(hours=1))


@pytest.mark.parametrize(
    ("customer", "now", "expected"),
    [
        (CHICAGO, NOON_CHICAGO + timedelta(minutes=59), (Action.DIAL, None)),
        (CHICAGO, NOON_CHICAGO + timedelta(hours=1), (Action.SKIP, Reason.CAPACITY_WAIT_EXPIRED)),
        # Only never-dialed customers are dropped.
        (replace(CHICAGO, attempts=1), NOON_CHICAGO + timedelta(hours=2), (Action.DIAL, None)),
    ],
)
def test_vapis_capacity_wait_drops_customers_never_dialed_an_hour_after_start(customer, now, expected):
    decision = eligibility(customer, CAPACITY, now)
    assert (decision.action, decision.reason) == expected


def test_a_customer_waiting_for_their_morning_is_not_dropped_by_the_capacity_wait():
    # Started at 05:00 Chicago: the customer waits for 08:00 local time, not for a free line,
    # so Vapi's one-hour capacity rule does not drop them; at 08:00 they are dialed.
    policy = replace(CAPACITY, started_at=wall("2026-01-14 05:00", "America/Chicago"))
    decision = eligibility(CHICAGO, policy, wall("2026-01-14 05:10", "America/Chicago"))
    assert (decision.action, decision.reason) == (Action.WAIT, Reason.RECIPIENT_LOCAL_TIME)
    assert decision.until == wall("2026-01-14 08:00", "America/Chicago")


def test_it_waits_out_the_retry_delay_after_a_previous_attempt():
    retry_at = NOON_CHICAGO + timedelta(minutes=10)
    decision = eligibility(replace(CHICAGO, attempts=1, next_attempt_at=retry_at), RUNNING, NOON_CHICAGO)
    assert (decision.action, decision.reason, decision.until) == (Action.WAIT, Reason.RETRY_DELAY, retry_at)
    assert (
        eligibility(replace(CHICAGO, attempts=1, next_attempt_at=retry_at), RUNNING, retry_at).action
        is Action.DIAL
    )


def test_a_retry_due_at_night_waits_for_the_recipients_morning():
    retry_at = wall("2026-01-14 22:00", "America/Chicago")
    customer = replace(CHICAGO, attempts=1, next_attempt_at=retry_at)
    decision = eligibility(customer, RUNNING, wall("2026-01-14 20:50", "America/Chicago"))
    assert (decision.reason, decision.until) == (
        Reason.RETRY_DELAY,
        wall("2026-01-15 08:00", "America/Chicago"),
    )


def test_a_future_next_attempt_at_does_not_hold_back_a_first_attempt():
    customer = replace(CHICAGO, next_attempt_at=NOON_CHICAGO + timedelta(hours=1))
    assert eligibility(customer, RUNNING, NOON_CHICAGO).action is Action.DIAL


# -- inputs -----------------------------------------------------------------------------

NAIVE = datetime(2026, 1, 14, 12, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: campaign_gate(RUNNING, NAIVE),
        lambda: eligibility(CHICAGO, RUNNING, NAIVE),
        lambda: next_opening(FRIDAY_NIGHT, "UTC", NAIVE),
        lambda: is_open(FRIDAY_NIGHT, "UTC", NAIVE),
        lambda: after_outcome(ended_reason="customer-busy", attempts=1, policy=RUNNING, now=NAIVE),
        lambda: replace(RUNNING, latest_at=NAIVE),
        lambda: replace(CHICAGO, next_attempt_at=NAIVE),
    ],
    ids=["campaign_gate", "eligibility", "next_opening", "is_open", "after_outcome", "policy", "customer"],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": "running"},
        {"status": "in-progress", "max_attempts": 0},
        {"status": "ended", "time_zone": "Mars/Olympus"},
    ],
)
def test_nonsense_policies_are_refused(kwargs):
    with pytest.raises(ValueError):
        CampaignPolicy(**kwargs)


def test_results_are_in_utc_whatever_zone_now_was_given_in():
    decision = eligibility(CHICAGO, RUNNING, datetime(2026, 1, 14, 7, 10, tzinfo=ZoneInfo("America/Chicago")))
    assert decision.until.tzinfo is UTC


def test_customer_zones_may_be_given_as_a_list():
    assert CustomerFacts("+13125550142", ["America/Chicago"]).time_zones == ("America/Chicago",)


# -- every reason, at least once -----------------------------------------------------

REASON_SCENARIOS = {
    Reason.CAMPAIGN_NOT_RUNNING: lambda: eligibility(CHICAGO, replace(RUNNING, status="ended"), NOON_CHICAGO),
    Reason.CAMPAIGN_PAUSED: lambda: eligibility(CHICAGO, replace(RUNNING, status="paused"), NOON_CHICAGO),
    Reason.ORGANIZATION_PAUSED: lambda: eligibility(
        CHICAGO, replace(RUNNING, organization_paused=True), NOON_CHICAGO
    ),
    Reason.QUOTA_SPENT: lambda: eligibility(CHICAGO, replace(RUNNING, quota_spent=True), NOON_CHICAGO),
    Reason.SCHEDULE_NOT_STARTED: lambda: eligibility(
        CHICAGO, replace(RUNNING, earliest_at=NOON_CHICAGO + timedelta(hours=1)), NOON_CHICAGO
    ),
    Reason.SCHEDULE_EXPIRED: lambda: eligibility(
        CHICAGO, replace(RUNNING, latest_at=NOON_CHICAGO), NOON_CHICAGO
    ),
    Reason.CAPACITY_WAIT_EXPIRED: lambda: eligibility(CHICAGO, CAPACITY, NOON_CHICAGO + timedelta(hours=1)),
    Reason.OUTSIDE_CALLING_HOURS: lambda: eligibility(CHICAGO, NINE_TO_FIVE_NY, utc("2026-01-17 15:00")),
    Reason.RECIPIENT_LOCAL_TIME: lambda: eligibility(
        CHICAGO, RUNNING, wall("2026-01-14 06:00", "America/Chicago")
    ),
    Reason.AMBIGUOUS_TIME_ZONE: lambda: eligibility(
        BOISE, RUNNING, wall("2026-01-14 08:30", "America/Boise")
    ),
    Reason.BLACKOUT_DATE: lambda: eligibility(
        CHICAGO, replace(RUNNING, blackout_dates=frozenset({date(2026, 1, 14)})), NOON_CHICAGO
    ),
    Reason.REGION_HOURS: lambda: eligibility(
        replace(CHICAGO, regions=("US", "US-IL")),
        replace(RUNNING, region_rules=(RegionRule("US-IL", (Window(0, time(13), time(14)),)),)),
        NOON_CHICAGO,
    ),
    Reason.UNKNOWN_TIME_ZONE: lambda: eligibility(CustomerFacts("+99912345", ()), RUNNING, NOON_CHICAGO),
    Reason.DO_NOT_CALL: lambda: eligibility(replace(CHICAGO, do_not_call=True), RUNNING, NOON_CHICAGO),
    Reason.MAX_ATTEMPTS: lambda: eligibility(replace(CHICAGO, attempts=3), RUNNING, NOON_CHICAGO),
    Reason.RETRY_DELAY: lambda: eligibility(
        replace(CHICAGO, attempts=1, next_attempt_at=NOON_CHICAGO + timedelta(minutes=5)),
        RUNNING,
        NOON_CHICAGO,
    ),
    Reason.INVALID_NUMBER: lambda: eligibility(replace(CHICAGO, valid_number=False), RUNNING, NOON_CHICAGO),
    Reason.CANCELLED: lambda: after_outcome(
        ended_reason="customer-busy", attempts=1, policy=replace(RUNNING, status="ended"), now=NOON_CHICAGO
    ),
    Reason.CALLBACK: lambda: after_outcome(
        ended_reason="customer-ended-call",
        attempts=1,
        policy=RUNNING,
        now=NOON_CHICAGO,
        facts=CallFacts(analysis={"callbackAt": "2026-01-15T10:00"}, time_zones=("America/Chicago",)),
        plan=OutcomePlan(rules=(OutcomeRule(When(field="callbackAt", present=True), "callback"),)),
    ),
}


# Reasons the engine does not give: the pre-dial check's, given by placement from the campaign server's
# answer; no usable caller ID, given by the pool's choice (rules.caller_ids, tested there).
NOT_THE_ENGINES = {Reason.PREDIAL_INELIGIBLE, Reason.PREDIAL_FAILED, Reason.NO_CALLER_ID}


def test_every_reason_has_a_scenario():
    assert set(REASON_SCENARIOS) == set(Reason) - NOT_THE_ENGINES


@pytest.mark.parametrize("reason", sorted(set(Reason) - NOT_THE_ENGINES))
def test_each_reason_is_produced(reason):
    assert REASON_SCENARIOS[reason]().reason is reason


# -- headroom ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"campaign_cap": 5, "campaign_in_flight": 0}, 5),
        ({"campaign_cap": 5, "campaign_in_flight": 5}, 0),
        ({"campaign_cap": 5, "campaign_in_flight": 7}, 0),  # never negative
        ({"campaign_cap": 5, "campaign_in_flight": 1, "org_cap": 10, "org_in_flight": 8}, 2),
        ({"campaign_cap": 5, "campaign_in_flight": 1, "org_cap": 0, "org_in_flight": 8}, 4),  # 0: no org cap
        ({"campaign_cap": 5, "campaign_in_flight": 0, "pacing_allowance": 2}, 2),
        ({"campaign_cap": 5, "campaign_in_flight": 0, "pacing_allowance": 0}, 0),
        ({"campaign_cap": 50, "campaign_in_flight": 0, "pacing_allowance": None}, 50),
        (
            {
                "campaign_cap": 9,
                "campaign_in_flight": 1,
                "org_cap": 20,
                "org_in_flight": 14,
                "pacing_allowance": 3,
            },
            3,
        ),
    ],
)
def test_headroom_is_the_tightest_limit(limits, expected):
    args = {"org_cap": None, "org_in_flight": 0, "pacing_allowance": None, **limits}
    assert headroom(**args) == expected


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"campaign_cap": 5, "campaign_in_flight": 5}, "campaign_lines"),
        ({"campaign_cap": 5, "campaign_in_flight": 0, "pacing_allowance": 0}, "pacing"),
        ({"campaign_cap": 5, "campaign_in_flight": 5, "pacing_allowance": 0}, "campaign_lines"),  # a tie
        (
            {"campaign_cap": 5, "campaign_in_flight": 0, "org_cap": 3, "org_in_flight": 3},
            "organization_lines",
        ),
    ],
)
def test_binding_limit_names_what_holds_the_calls_back(limits, expected):
    args = {"org_cap": None, "org_in_flight": 0, "pacing_allowance": None, **limits}
    assert binding_limit(**args) == expected


# -- outcomes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ended_reason", "expected"),
    [
        ("voicemail", OutcomeClass.VOICEMAIL),
        ("customer-busy", OutcomeClass.BUSY),
        ("customer-did-not-answer", OutcomeClass.NO_ANSWER),
        ("call.in-progress.error-providerfault-outbound-sip-408-request-timeout", OutcomeClass.NO_ANSWER),
        (
            "call.in-progress.error-providerfault-outbound-sip-480-temporarily-unavailable",
            OutcomeClass.NO_ANSWER,
        ),
        ("customer-ended-call", OutcomeClass.ANSWERED),
        ("customer-ended-call-during-transfer", OutcomeClass.ANSWERED),
        ("assistant-ended-call", OutcomeClass.ANSWERED),
        ("assistant-said-end-call-phrase", OutcomeClass.ANSWERED),
        ("assistant-forwarded-call", OutcomeClass.ANSWERED),
        ("exceeded-max-duration", OutcomeClass.ANSWERED),
        ("silence-timed-out", OutcomeClass.ANSWERED),
        ("call.forwarding.operator-busy", OutcomeClass.ANSWERED),
        ("manually-canceled", OutcomeClass.CANCELLED),
        ("scheduled-call-deleted", OutcomeClass.CANCELLED),
        ("customer-opted-out", OutcomeClass.OPT_OUT),
        ("pipeline-error-openai-llm-failed", OutcomeClass.FAILED),
        ("call.start.error-get-assistant", OutcomeClass.FAILED),
        ("twilio-failed-to-connect-call", OutcomeClass.FAILED),
        ("call.in-progress.error-vapifault-worker-died", OutcomeClass.FAILED),
        ("something-vapi-adds-next-year", OutcomeClass.FAILED),
        ("", OutcomeClass.FAILED),
    ],
)
def test_it_classifies_vapi_ended_reasons(ended_reason, expected):
    assert classify(ended_reason) is expected


def test_every_documented_ended_reason_classifies_and_each_group_lands_in_its_class():
    fixture = json.loads(ENDED_REASONS.read_text())
    assert len(fixture["all"]) == fixture["count"]
    assert {type(classify(value)) for value in fixture["all"]} == {OutcomeClass}
    expected = {
        "voicemail": OutcomeClass.VOICEMAIL,
        "no_answer": OutcomeClass.NO_ANSWER,
        "busy": OutcomeClass.BUSY,
        "bad_number": OutcomeClass.FAILED,
        "connect_failed_retryable": OutcomeClass.FAILED,
        "completed_normal": OutcomeClass.ANSWERED,
        "cancelled": OutcomeClass.CANCELLED,
        "config_error_do_not_retry": OutcomeClass.FAILED,
    }
    assert set(fixture["groups"]) == set(expected)
    for group, values in fixture["groups"].items():
        assert {classify(value) for value in values} == {expected[group]}, group


DELAYS = RetryDelays(busy=60, no_answer=120, voicemail=180, failed=240)
RETRYING = replace(RUNNING, max_attempts=3, retry_delays=DELAYS)
T0 = utc("2026-01-14 18:00")


@pytest.mark.parametrize(
    ("ended_reason", "attempts", "policy", "expected"),
    [
        ("customer-ended-call", 1, RETRYING, ("completed", None, None, False)),
        ("customer-busy", 1, RETRYING, ("pending", 60, Reason.RETRY_DELAY, False)),
        ("customer-did-not-answer", 2, RETRYING, ("pending", 120, Reason.RETRY_DELAY, False)),
        ("voicemail", 1, RETRYING, ("pending", 180, Reason.RETRY_DELAY, False)),
        ("pipeline-error-openai-llm-failed", 1, RETRYING, ("pending", 240, Reason.RETRY_DELAY, False)),
        ("manually-canceled", 1, RETRYING, ("pending", 240, Reason.RETRY_DELAY, False)),
        # Attempts used up.
        ("customer-busy", 3, RETRYING, ("failed", None, Reason.MAX_ATTEMPTS, False)),
        ("customer-did-not-answer", 3, RETRYING, ("failed", None, Reason.MAX_ATTEMPTS, False)),
        ("voicemail", 3, RETRYING, ("voicemail", None, Reason.MAX_ATTEMPTS, False)),
        ("customer-busy", 1, replace(RETRYING, max_attempts=1), ("failed", None, Reason.MAX_ATTEMPTS, False)),
        # Voicemail not retried.
        ("voicemail", 1, replace(RETRYING, retry_voicemail=False), ("voicemail", None, None, False)),
        # Opt-out.
        ("customer-opted-out", 1, RETRYING, ("skipped", None, Reason.DO_NOT_CALL, True)),
        # The campaign has ended: nothing retries.
        (
            "manually-canceled",
            1,
            replace(RETRYING, status="ended"),
            ("cancelled", None, Reason.CANCELLED, False),
        ),
        ("customer-busy", 1, replace(RETRYING, status="ended"), ("cancelled", None, Reason.CANCELLED, False)),
        ("customer-ended-call", 1, replace(RETRYING, status="ended"), ("completed", None, None, False)),
    ],
)
def test_after_an_outcome_the_customer_retries_or_settles(ended_reason, attempts, policy, expected):
    outcome = after_outcome(ended_reason=ended_reason, attempts=attempts, policy=policy, now=T0)
    state, delay, reason, add_to_dnc = expected
    assert outcome.state == state
    assert outcome.next_attempt_at == (None if delay is None else T0 + timedelta(seconds=delay))
    assert outcome.reason is reason
    assert outcome.add_to_do_not_call is add_to_dnc


def test_after_outcome_needs_the_attempt_that_just_ended_counted():
    with pytest.raises(ValueError):
        after_outcome(ended_reason="customer-busy", attempts=0, policy=RUNNING, now=T0)
