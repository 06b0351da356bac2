"""The pre-flight (rules.preflight): who a campaign could call under its settings, who never and
why, who has no local caller ID, and when its first calls might be done."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from campaigns.rules import caller_ids
from campaigns.rules.engine import SCHEDULED, CampaignPolicy, CustomerFacts
from campaigns.rules.hours import every_day, intervals
from campaigns.rules.preflight import DEFAULT_CALL_SECONDS, Group, preflight

NY_OFFICE = CampaignPolicy(
    status=SCHEDULED, time_zone="America/New_York", calling_hours=every_day(time(9), time(17))
)
TUESDAY_2PM_NY = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def group(count: int, *zones: str, number: str = "+12125550100", local: bool | None = None) -> Group:
    return Group(count, CustomerFacts(number=number, time_zones=zones), local)


def run(policy: CampaignPolicy, groups: list[Group], now: datetime = TUESDAY_2PM_NY, **kw):
    ahead = intervals(policy.calling_hours, policy.time_zone, now, now + timedelta(days=30))
    options = {"skipped": {}, "concurrency": 10, "call_seconds": 60.0, "open_ahead": ahead} | kw
    return preflight(policy, groups, now, **options)


def test_callees_in_hours_are_callable_now_those_whose_window_never_meets_the_campaigns_are_held() -> None:
    found = run(
        NY_OFFICE,
        [
            group(30, "America/New_York"),
            group(20, "America/Los_Angeles", number="+14155550100"),
            group(5, "Asia/Tokyo", number="+81312345678"),  # 04:00 there: 8-21 never meets 9-17 NY
            group(2),  # no known zone
        ],
        skipped={"do_not_call": 4, "invalid_number": 1},
    )
    assert (found.pending, found.callable_now, found.callable_later) == (57, 50, 0)
    assert found.held == {"no_common_hours": 5, "unknown_time_zone": 2}
    assert found.skipped == {"do_not_call": 4, "invalid_number": 1}
    assert found.problems == [
        "7 of 57 customers can never be called under these settings: no time within 8 days suits "
        "both the campaign's and the callee's hours (5), no time zone is known for this number (2)."
    ]


def test_before_the_hours_open_everyone_waits_for_them_and_the_estimate_starts_there() -> None:
    seven_am = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 07:00 in New York
    found = run(NY_OFFICE, [group(100, "America/New_York")], now=seven_am)
    nine_am = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert (found.callable_now, found.callable_later, found.next_at) == (0, 100, nine_am)
    assert found.waiting == {"outside_calling_hours": 100}
    # 100 first calls, 10 at a time, a minute each: ten minutes from the opening.
    assert found.finish_at == nine_am + timedelta(minutes=10)
    assert found.problems == []


def test_the_estimate_spills_into_the_next_days_hours() -> None:
    four_pm = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # 16:00 in New York: an hour left today
    found = run(NY_OFFICE, [group(900, "America/New_York")], now=four_pm)
    # 90 minutes of calling: 60 today, 30 tomorrow from 09:00.
    assert found.finish_at == datetime(2026, 12, 2, 14, 30, tzinfo=UTC)
    assert "900 first calls, 10 at a time, about 60 s each" in found.estimate


def test_with_no_past_call_the_length_is_a_guess_and_says_so() -> None:
    found = run(NY_OFFICE, [group(10, "America/New_York")], call_seconds=None)
    assert f"about {DEFAULT_CALL_SECONDS:.0f} s each (no call yet: a guess)" in found.estimate


def test_nobody_callable_is_said_plainly_with_no_estimate() -> None:
    found = run(NY_OFFICE, [group(5, "Asia/Tokyo", number="+81312345678")])
    assert found.callable_now == found.callable_later == 0 and found.finish_at is None
    assert found.problems[0].startswith("Nobody can be called under these settings:")
    assert "no estimate" in found.estimate


def test_callees_without_a_local_caller_id_are_counted() -> None:
    found = run(
        NY_OFFICE,
        [
            group(3, "America/New_York", local=True),
            group(4, "America/Chicago", number="+13125550100", local=False),
        ],
    )
    assert found.without_local_caller_id == 4
    assert found.problems == ["4 customers have no local caller ID in the pool (area code or region)."]
    assert run(NY_OFFICE, [group(3, "America/New_York")]).without_local_caller_id is None


def test_a_local_caller_id_matches_by_area_code_or_region_and_never_a_disabled_or_rested_one() -> None:
    pool = caller_ids.Pool(
        numbers=(
            caller_ids.CallerId("a", "p", "US", "US-NY", "212"),
            caller_ids.CallerId("b", "p", "US", "US-CA", "415", disabled=True),
            caller_ids.CallerId("c", "p", "US", "US-IL", "312", rested=True),
        ),
        default="a",
    )

    def local(region: str, area: str) -> bool:
        return caller_ids.has_local(pool, caller_ids.Callee("x", "US", region, area))

    assert local("US-NY", "718")  # same state
    assert local("", "212")  # same area code
    assert not local("US-CA", "415") and not local("US-IL", "312")
    assert not local("US-TX", "214")
