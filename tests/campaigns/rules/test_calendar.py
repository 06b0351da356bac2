"""campaigns.rules.engine: blackout dates (holidays, callee-local) and the campaign's policy for
numbers that may be in several zones; tables, then properties over random calendars."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.rules.engine import (
    CAMPAIGN_ZONE,
    EVERY_ZONE,
    Action,
    CampaignPolicy,
    CustomerFacts,
    Reason,
    RegionRule,
    Window,
    eligibility,
)
from campaigns.rules.hours import day_start, every_day
from tests.campaigns.rules.test_engine_properties import (
    ZONES,
    instants,
    naively_open,
    recipient_window,
    second_pass,
    wall_times,
)


def wall(text: str, zone: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


RUNNING = CampaignPolicy(status="in-progress", time_zone="America/Chicago")
CHRISTMAS = frozenset({date(2026, 12, 25)})
TOKYO = CustomerFacts("+81312345678", ("Asia/Tokyo",))
CHICAGO = CustomerFacts("+13125550142", ("America/Chicago",))
BOISE = CustomerFacts("+12085550100", ("America/Boise", "America/Los_Angeles"))


def test_a_holiday_is_the_callees_own_date() -> None:
    # 18:00 on the 24th in Chicago is 09:00 on the 25th in Tokyo.
    now = wall("2026-12-24 18:00", "America/Chicago")
    policy = replace(RUNNING, blackout_dates=CHRISTMAS)

    tokyo = eligibility(TOKYO, policy, now)
    assert (tokyo.action, tokyo.reason) == (Action.WAIT, Reason.BLACKOUT_DATE)
    assert tokyo.until == wall("2026-12-26 08:00", "Asia/Tokyo")  # the day after, once it is 08:00
    assert tokyo.detail.startswith(
        "2026-12-25 is a blackout date in Asia/Tokyo; next possible Sat 2026-12-26 08:00"
    )
    assert eligibility(CHICAGO, policy, now).action is Action.DIAL


def test_every_zone_of_an_ambiguous_number_keeps_the_holiday() -> None:
    # 00:30 on the 25th in Boise is still 23:30 on the 24th in Los Angeles: Boise has the holiday,
    # and the number may be there; it ends when the 25th has ended in Los Angeles too.
    policy = replace(
        RUNNING,
        blackout_dates=CHRISTMAS,
        recipient_start=datetime.min.time(),
        recipient_end=datetime.max.time(),
    )
    decision = eligibility(BOISE, policy, wall("2026-12-25 00:30", "America/Boise"))
    assert decision.reason is Reason.BLACKOUT_DATE and "America/Boise" in decision.detail
    assert decision.until == wall("2026-12-26 01:00", "America/Boise")  # midnight in Los Angeles


def test_a_callee_with_no_zone_keeps_the_campaigns_holidays() -> None:
    sip = CustomerFacts("", ())
    policy = replace(RUNNING, blackout_dates=CHRISTMAS)
    assert (
        eligibility(sip, policy, wall("2026-12-25 12:00", "America/Chicago")).reason is Reason.BLACKOUT_DATE
    )
    assert eligibility(sip, policy, wall("2026-12-26 00:00", "America/Chicago")).action is Action.DIAL


@pytest.mark.parametrize(
    ("policy", "campaign_zone", "expected"),
    [
        (EVERY_ZONE, "America/Boise", Reason.AMBIGUOUS_TIME_ZONE),
        (CAMPAIGN_ZONE, "America/Boise", None),  # Boise is awake: dialed
        (CAMPAIGN_ZONE, "America/Los_Angeles", Reason.RECIPIENT_LOCAL_TIME),
    ],
)
def test_the_campaign_decides_where_an_ambiguous_callee_lives(policy, campaign_zone, expected) -> None:
    campaign = replace(RUNNING, time_zone=campaign_zone, ambiguous_zones=policy)
    decision = eligibility(BOISE, campaign, wall("2026-01-14 08:30", "America/Boise"))
    assert decision.reason is expected
    if expected is None:
        assert decision.action is Action.DIAL


def test_a_number_whose_every_zone_sleeps_is_not_called_ambiguous() -> None:
    decision = eligibility(BOISE, RUNNING, wall("2026-01-14 03:00", "America/Boise"))
    assert decision.reason is Reason.RECIPIENT_LOCAL_TIME


def test_an_unknown_ambiguity_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ambiguous-zone policy 'guess'"):
        replace(RUNNING, ambiguous_zones="guess")


# -- by property -------------------------------------------------------------------------------


@st.composite
def calendars(draw):
    now = draw(instants)
    around = now.date()
    holidays = draw(
        st.lists(st.integers(-2, 6), max_size=5).map(
            lambda days: frozenset(around + timedelta(d) for d in days)
        )
    )
    policy = CampaignPolicy(
        status="in-progress",
        time_zone=draw(st.sampled_from(ZONES)),
        respect_recipient_time_zone=draw(st.sampled_from([True, True, False])),
        blackout_dates=holidays,
        ambiguous_zones=draw(st.sampled_from([EVERY_ZONE, CAMPAIGN_ZONE])),
    )
    zones = tuple(draw(st.lists(st.sampled_from(ZONES), max_size=3, unique=True)))
    number = draw(st.sampled_from(["+13125550142", ""])) if not zones else "+13125550142"
    return CustomerFacts(number=number, time_zones=zones), policy, now


def where_the_callee_is(customer: CustomerFacts, policy: CampaignPolicy) -> tuple[str, ...]:
    zones = customer.time_zones if policy.respect_recipient_time_zone else ()
    if len(zones) > 1 and policy.ambiguous_zones == CAMPAIGN_ZONE:
        zones = (policy.time_zone,)
    return zones


@settings(max_examples=600, deadline=None)
@given(calendars())
def test_no_call_on_a_holiday_or_outside_hours_wherever_the_callee_may_be(situation) -> None:
    customer, policy, now = situation
    if eligibility(customer, policy, now).action is not Action.DIAL:
        return
    zones = where_the_callee_is(customer, policy)
    for zone in zones or (policy.time_zone,):
        assert now.astimezone(ZoneInfo(zone)).date() not in policy.blackout_dates, zone
    for zone in zones:
        assert naively_open(recipient_window(policy), zone, now), zone


@settings(max_examples=600, deadline=None)
@given(calendars())
def test_a_holiday_wait_ends_exactly_when_a_call_may_leave(situation) -> None:
    customer, policy, now = situation
    decision = eligibility(customer, policy, now)
    if decision.action is not Action.WAIT or decision.until is None:
        return
    assert eligibility(customer, policy, decision.until).action is Action.DIAL
    assert eligibility(customer, policy, decision.until - timedelta(microseconds=1)).action is not Action.DIAL


# -- region rules --------------------------------------------------------------------------------

FLORIDA = RegionRule("US-FL", every_day(time(8), time(20)), "Florida: 8:00–20:00")
GERMANY_NO_SUNDAY = RegionRule(
    "DE", tuple(Window(day, time(0), time(0)) for day in range(6)), "No calls on Sundays"
)
MIAMI = CustomerFacts("+13055550100", ("America/New_York",), regions=("US", "US-FL"))
BERLIN = CustomerFacts("+493012345678", ("Europe/Berlin",), regions=("DE",))
RULED = replace(RUNNING, region_rules=(FLORIDA, GERMANY_NO_SUNDAY))


def test_a_states_own_hours_narrow_the_callee_window_with_their_own_reason() -> None:
    late = eligibility(MIAMI, RULED, wall("2026-01-14 20:30", "America/New_York"))
    assert (late.reason, late.until) == (Reason.REGION_HOURS, wall("2026-01-15 08:00", "America/New_York"))
    assert late.detail.startswith("Florida: 8:00–20:00 (America/New_York Wed 20:30)")
    assert eligibility(MIAMI, RUNNING, wall("2026-01-14 20:30", "America/New_York")).action is Action.DIAL
    chicago = replace(CHICAGO, regions=("US", "US-IL"))
    assert eligibility(chicago, RULED, wall("2026-01-14 20:30", "America/Chicago")).action is Action.DIAL


def test_a_countrys_day_of_rest_holds_its_callees_until_monday() -> None:
    sunday = eligibility(BERLIN, RULED, wall("2026-01-18 11:00", "Europe/Berlin"))
    assert (sunday.reason, sunday.until) == (Reason.REGION_HOURS, wall("2026-01-19 08:00", "Europe/Berlin"))
    assert eligibility(BERLIN, RULED, wall("2026-01-17 11:00", "Europe/Berlin")).action is Action.DIAL


def test_a_region_rule_holds_even_when_the_campaign_ignores_callee_time() -> None:
    ignoring = replace(RULED, respect_recipient_time_zone=False)
    assert (
        eligibility(MIAMI, ignoring, wall("2026-01-14 21:30", "America/New_York")).reason
        is Reason.REGION_HOURS
    )
    assert (
        eligibility(
            MIAMI, replace(ignoring, region_rules=()), wall("2026-01-14 21:30", "America/New_York")
        ).action
        is Action.DIAL
    )


REGIONS = ("US", "US-FL", "DE", "US-CA")
rules = st.lists(
    st.builds(
        RegionRule,
        st.sampled_from(REGIONS),
        st.lists(st.builds(Window, st.integers(0, 6), wall_times, wall_times), min_size=1, max_size=3).map(
            tuple
        ),
    ),
    max_size=3,
).map(tuple)


@st.composite
def ruled(draw):
    customer, policy, now = draw(calendars())
    customer = replace(
        customer, regions=tuple(draw(st.lists(st.sampled_from(REGIONS), max_size=2, unique=True)))
    )
    return customer, replace(policy, region_rules=draw(rules)), now


def rule_zones(customer: CustomerFacts, policy: CampaignPolicy) -> tuple[str, ...]:
    zones = customer.time_zones
    if len(zones) > 1 and policy.ambiguous_zones == CAMPAIGN_ZONE:
        zones = ()
    return zones or (policy.time_zone,)


@settings(max_examples=600, deadline=None)
@given(ruled())
def test_no_call_outside_a_rule_of_the_callees_region(situation) -> None:
    customer, policy, now = situation
    if eligibility(customer, policy, now).action is not Action.DIAL:
        return
    for rule in policy.region_rules:
        if rule.region in customer.regions:
            for zone in rule_zones(customer, policy):
                assert naively_open(rule.windows, zone, now) and not second_pass(zone, now), (rule, zone)


@settings(max_examples=600, deadline=None)
@given(ruled())
def test_a_region_wait_ends_exactly_when_a_call_may_leave(situation) -> None:
    customer, policy, now = situation
    decision = eligibility(customer, policy, now)
    if decision.action is not Action.WAIT or decision.until is None:
        return
    assert eligibility(customer, policy, decision.until).action is Action.DIAL
    assert eligibility(customer, policy, decision.until - timedelta(microseconds=1)).action is not Action.DIAL


@pytest.mark.parametrize(
    "at, tz, expected",
    [
        # Paris, 23:30 on 2 December: the day began at 23:00 UTC on the 1st.
        (datetime(2026, 12, 2, 22, 30, tzinfo=UTC), "Europe/Paris", datetime(2026, 12, 1, 23, 0, tzinfo=UTC)),
        # Kiritimati (UTC+14): already the 3rd there.
        (
            datetime(2026, 12, 2, 11, 0, tzinfo=UTC),
            "Pacific/Kiritimati",
            datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
        ),
        # Sao Paulo skipped midnight on 4 November 2018 (00:00 -> 01:00): the day began at 01:00.
        (
            datetime(2018, 11, 4, 12, 0, tzinfo=UTC),
            "America/Sao_Paulo",
            datetime(2018, 11, 4, 3, 0, tzinfo=UTC),
        ),
    ],
)
def test_a_day_starts_at_the_zones_own_midnight(at, tz, expected) -> None:
    assert day_start(at, tz) == expected


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
    tz=st.sampled_from(["UTC", "America/Los_Angeles", "Europe/Paris", "Asia/Kolkata", "America/Sao_Paulo"]),
)
def test_the_day_start_holds_the_instant_and_reads_that_days_date(at, tz) -> None:
    start = day_start(at, tz)
    assert start <= at
    assert start.astimezone(ZoneInfo(tz)).date() == at.astimezone(ZoneInfo(tz)).date()
    assert (start - timedelta(microseconds=1)).astimezone(ZoneInfo(tz)).date() < at.astimezone(
        ZoneInfo(tz)
    ).date()
