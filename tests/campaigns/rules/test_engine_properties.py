"""campaigns.rules.engine, by property: random windows, zones and instants, many near DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.rules.engine import (
    Action,
    CampaignPolicy,
    CustomerFacts,
    Reason,
    Window,
    campaign_gate,
    eligibility,
    is_open,
    next_opening,
)

ZONES = [
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/St_Johns",  # half-hour offset
    "America/Santiago",  # changes at midnight
    "Europe/Paris",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",  # quarter-hour offset
    "Australia/Lord_Howe",  # half-hour DST
    "Pacific/Chatham",
    "Pacific/Honolulu",
]
# 2026 transitions, in UTC; instants are drawn around them as often as anywhere.
TRANSITIONS = [
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York, spring
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York, fall
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Paris and London, spring
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Paris and London, fall
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe, fall
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe, spring
    datetime(2026, 4, 5, 3, 0, tzinfo=UTC),  # Santiago, fall
    datetime(2026, 9, 6, 4, 0, tzinfo=UTC),  # Santiago, spring
]

wall_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 0, 15, 30, 45, 59]))
windows = st.lists(st.builds(Window, st.integers(0, 6), wall_times, wall_times), max_size=4).map(tuple)


def _near(hours: int):
    return st.builds(
        lambda at, minutes: at + timedelta(minutes=minutes),
        st.sampled_from(TRANSITIONS),
        st.integers(-hours * 60, hours * 60),
    )


instants = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    _near(hours=72),
    _near(hours=3),
)


def _minutes(low: int, high: int):
    return st.integers(low, high).map(lambda minutes: timedelta(minutes=minutes))


DAYS = 24 * 60
past_or_soon = st.one_of(st.none(), _minutes(-3 * DAYS, 0), _minutes(0, DAYS))
later = st.one_of(st.none(), _minutes(1, 10 * DAYS), _minutes(-DAYS, 10 * DAYS))
calling_hours = st.one_of(
    st.just(()),
    windows,
    st.builds(lambda start, end: tuple(Window(day, start, end) for day in range(7)), wall_times, wall_times),
)
recipient_starts = st.one_of(st.builds(time, st.integers(6, 10), st.sampled_from([0, 30])), wall_times)
recipient_ends = st.one_of(st.builds(time, st.integers(17, 22), st.sampled_from([0, 30])), wall_times)


def naively_open(windows: tuple[Window, ...], zone: str, at: datetime) -> bool:
    """Reading the local clock without any DST care."""
    local = at.astimezone(ZoneInfo(zone))
    day, clock = local.weekday(), local.time().replace(tzinfo=None)
    for window in windows:
        if window.start < window.end:
            if day == window.weekday and window.start <= clock < window.end:
                return True
        elif (day == window.weekday and clock >= window.start) or (
            day == (window.weekday + 1) % 7 and clock < window.end
        ):
            return True
    return False


def second_pass(zone: str, at: datetime) -> bool:
    """Whether the local clock shows, at `at`, a time it already showed (fall back)."""
    local = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return local.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC) != at


@settings(max_examples=400, deadline=None)
@given(windows=windows, zone=st.sampled_from(ZONES), at=instants)
def test_windows_are_open_exactly_when_the_clock_reads_inside_them_for_the_first_time(windows, zone, at):
    expected = (naively_open(windows, zone, at) and not second_pass(zone, at)) if windows else True
    assert is_open(windows, zone, at) is expected


@settings(max_examples=400, deadline=None)
@given(windows=windows, zone=st.sampled_from(ZONES), after=instants)
def test_next_opening_is_the_first_open_instant_at_or_after(windows, zone, after):
    opening = next_opening(windows, zone, after)
    if opening is None:
        return  # every window empty (wholly inside skipped hours)
    assert opening >= after
    assert is_open(windows, zone, opening)
    if is_open(windows, zone, after):
        assert opening == after
    else:
        assert not is_open(windows, zone, opening - timedelta(microseconds=1))


ANY_STATUS = st.sampled_from(["in-progress"] * 6 + ["scheduled", "paused", "ended"])


@st.composite
def situations(draw, status=ANY_STATUS):
    now = draw(instants)

    def around(offset):
        return None if offset is None else now + offset

    policy = CampaignPolicy(
        status=draw(status),
        time_zone=draw(st.sampled_from(ZONES)),
        calling_hours=draw(calling_hours),
        earliest_at=around(draw(past_or_soon)),
        latest_at=around(draw(later)),
        started_at=around(draw(past_or_soon)),
        capacity_wait=draw(st.sampled_from([None, None, timedelta(hours=1), timedelta(days=2)])),
        respect_recipient_time_zone=draw(st.sampled_from([True, True, True, False])),
        recipient_start=draw(recipient_starts),
        recipient_end=draw(recipient_ends),
        max_attempts=draw(st.integers(1, 4)),
    )
    used_up = draw(st.sampled_from([False] * 5 + [True]))
    attempts = policy.max_attempts if used_up else draw(st.integers(0, policy.max_attempts - 1))
    customer = CustomerFacts(
        number=draw(st.sampled_from(["+13125550142", "+13125550142", ""])),
        time_zones=tuple(draw(st.lists(st.sampled_from(ZONES), max_size=2, unique=True))),
        attempts=attempts,
        next_attempt_at=around(draw(st.one_of(st.none(), _minutes(-DAYS, 2 * DAYS)))),
        do_not_call=draw(st.sampled_from([False] * 7 + [True])),
        valid_number=draw(st.sampled_from([True] * 7 + [False])),
    )
    return customer, policy, now


def recipient_window(policy: CampaignPolicy) -> tuple[Window, ...]:
    return tuple(Window(day, policy.recipient_start, policy.recipient_end) for day in range(7))


@settings(max_examples=1000, deadline=None)
@given(situations())
def test_a_dial_breaks_no_rule(situation):
    customer, policy, now = situation
    if eligibility(customer, policy, now).action is not Action.DIAL:
        return
    assert policy.status == "in-progress"
    assert campaign_gate(policy, now).action is Action.DIAL
    assert is_open(policy.calling_hours, policy.time_zone, now)
    assert policy.earliest_at is None or policy.earliest_at <= now
    assert policy.latest_at is None or now < policy.latest_at
    assert customer.valid_number and not customer.do_not_call and customer.attempts < policy.max_attempts
    if customer.attempts and customer.next_attempt_at:
        assert customer.next_attempt_at <= now
    if policy.respect_recipient_time_zone:
        for zone in customer.time_zones:
            assert naively_open(recipient_window(policy), zone, now), zone


@settings(max_examples=1000, deadline=None)
@given(situations(status=st.just("in-progress")))
def test_a_wait_ends_exactly_when_dialing_becomes_possible(situation):
    customer, policy, now = situation
    decision = eligibility(customer, policy, now)
    if decision.action is not Action.WAIT or decision.until is None:
        return
    assert decision.until > now
    assert decision.until.tzinfo is UTC
    at_until = eligibility(customer, policy, decision.until)
    # Dialable then, unless by then it waited past Vapi's capacity window (a drop, not a wait).
    assert at_until.action is Action.DIAL or at_until.reason is Reason.CAPACITY_WAIT_EXPIRED
    assert eligibility(customer, policy, decision.until - timedelta(microseconds=1)).action is not Action.DIAL
