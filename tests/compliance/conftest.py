"""Shared by the compliance tests: a clock the test moves, and campaigns whose calls are placed
in this process, through the real dispatcher, the real gate and the simulated provider."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns import clock, services
from campaigns.models import Call, Campaign, Customer
from dialer import dispatch, placement

# Where the moved clock starts: before every instant a test moves it to, so what a test creates
# before it moves the clock is due at the moved time whatever today's date is (regression: a
# campaign created at the real time, then the clock set to a morning that had passed, held its
# customers as not yet due and the test failed from that morning on).
START = datetime(2026, 12, 1, tzinfo=ZoneInfo("UTC"))


class Clock:
    """What `campaigns.clock.now()` answers while a test runs: START until the test moves it."""

    def __init__(self) -> None:
        self.at: datetime = START

    def set(self, wall: str, zone: str = "UTC") -> datetime:
        """Move to a wall-clock time in `zone`, e.g. set("2026-12-02 22:36", "America/Los_Angeles")."""
        at = datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone))
        assert at >= START, f"the moved clock starts at {START:%Y-%m-%d %H:%M} UTC; move it later"
        self.at = at
        return self.at


@pytest.fixture
def moved_clock() -> Iterator[Clock]:
    controlled = Clock()
    clock.set_now(lambda: controlled.at)
    yield controlled
    clock.set_now(None)


def customer(number: str, *, check: bool = True, name: str = "") -> services.CustomerInput:
    return services.CustomerInput(number=number, number_e164_check_enabled=check, name=name, source=number)


def dispatched(campaign: Campaign) -> list[str]:
    """The call ids one dispatch pass queues (placement not started)."""
    queued: list[str] = []
    dispatch.dispatch_campaign(Campaign.objects.get(pk=campaign.pk), enqueue=queued.extend)
    return queued


def dial(campaign: Campaign) -> list[Call]:
    """One dispatch pass and the placement of what it queued; returns the calls sent to the provider."""
    ids = dispatched(campaign)
    if ids:
        placement.place_many(ids)
    return list(Call.objects.filter(pk__in=ids, confirmed_at__isnull=False))


def state(campaign: Campaign, number: str) -> tuple[str, str]:
    found = Customer.objects.get(campaign=campaign, number=number)
    return found.state, found.reason
