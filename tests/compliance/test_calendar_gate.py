"""Blackout dates and the ambiguous-number policy are held by the last gate: calls a worker took
before a holiday was declared never leave, through the real dispatcher and gate."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import Call
from dialer import claims
from tests.compliance.conftest import customer, dial, dispatched, state
from tests.compliance.test_defects import ONE_ATTEMPT, recount

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("whose", ["organization", "campaign"])
def test_a_holiday_declared_after_the_take_stops_the_calls_at_the_gate(
    whose, make_campaign, org, owner, moved_clock
) -> None:
    moved_clock.set("2026-12-24 12:00", "America/Los_Angeles")
    campaign = services.campaign_start(campaign=make_campaign(3, strategy=ONE_ATTEMPT), by=owner)
    taken = claims.take(dispatched(campaign))
    assert len(taken) == 3

    if whose == "organization":
        services.organization_blackout_set(organization=org, by=owner, blackout_dates=["2026-12-24"])
    else:
        services.campaign_calendar_set(campaign=campaign, by=owner, blackout_dates=["2026-12-24"])

    assert claims.confirm_at_gate([(call, "POST /call", "{}") for call in taken]) == []
    assert not Call.objects.filter(campaign=campaign, log__kind="request").exists()
    assert set(campaign.customers.values_list("state", "reason")) == {("pending", "blackout_date")}
    recount(campaign)
    moved_clock.set("2026-12-25 09:00", "America/Los_Angeles")
    assert len(dial(campaign)) == 3  # the day after, within the callee's hours


def test_an_ambiguous_number_follows_the_campaigns_policy_at_the_gate(
    make_campaign, owner, moved_clock
) -> None:
    # +1 208 (Idaho): Boise (Mountain) or Los Angeles (Pacific). 08:30 in Boise is 07:30 in Los Angeles.
    moved_clock.set("2026-12-02 08:30", "America/Boise")
    strategy = {**ONE_ATTEMPT, "time_zone": "America/Boise"}
    waiting = services.campaign_start(
        campaign=make_campaign(customers=[customer("+12085550100")], strategy=strategy), by=owner
    )
    assert dial(waiting) == []
    assert set(waiting.customers.values_list("reason", flat=True)) == {"ambiguous_time_zone"}

    local = make_campaign(customers=[customer("+12085550101")], strategy=strategy, name="Boise time")
    services.campaign_calendar_set(campaign=local, by=owner, ambiguous_zones="campaign")
    local = services.campaign_start(campaign=local, by=owner)
    assert len(dial(local)) == 1


def test_a_region_rule_added_after_the_take_stops_the_calls_at_the_gate(
    make_campaign, org, owner, moved_clock
) -> None:
    # 20:30 in Miami: inside the default 08:00–21:00, outside Florida's 08:00–20:00.
    moved_clock.set("2026-12-02 20:30", "America/New_York")
    campaign = services.campaign_start(
        campaign=make_campaign(
            customers=[customer("+13055550100"), customer("+12125550100")], strategy=ONE_ATTEMPT
        ),
        by=owner,
    )
    taken = claims.take(dispatched(campaign))
    florida = [
        {"day": day, "start": "08:00", "end": "20:00"}
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ]
    services.organization_region_rules_set(
        organization=org, by=owner, rules=[{"region": "US-FL", "windows": florida, "note": "Florida 8–20"}]
    )

    sent = claims.confirm_at_gate([(call, "POST /call", "{}") for call in taken])

    assert [call.customer.number for call in sent] == ["+12125550100"]  # New York has no such rule
    assert state(campaign, "+13055550100") == ("pending", "region_hours")


def test_where_the_callee_lives_decides_their_hours_and_their_regions_rules(
    make_campaign, org, owner, moved_clock
) -> None:
    # 20:30 in Miami and in New York: inside the default 08:00–21:00, outside Florida's 08:00–20:00.
    moved_clock.set("2026-12-02 20:30", "America/New_York")
    florida = [
        {"day": day, "start": "08:00", "end": "20:00"}
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ]
    services.organization_region_rules_set(
        organization=org, by=owner, rules=[{"region": "US-FL", "windows": florida, "note": "Florida 8–20"}]
    )
    in_miami = services.CustomerInput(number="+12125550102", postal_code="33101", source="miami")
    campaign = services.campaign_start(
        campaign=make_campaign(customers=[in_miami, customer("+12125550103")], strategy=ONE_ATTEMPT),
        by=owner,
    )
    # A New York number whose callee lives in Miami: Florida's rule holds it, as it holds a 305.
    assert [call.customer.number for call in dial(campaign)] == ["+12125550103"]
    assert state(campaign, "+12125550102") == ("pending", "region_hours")

    # 21:30 in New York, 18:30 in Los Angeles: each callee's hours are those where they live.
    moved_clock.set("2026-12-02 21:30", "America/New_York")
    in_los_angeles = services.CustomerInput(number="+12125550104", region="US-CA", source="la")
    in_new_york = services.CustomerInput(number="+14155550105", postal_code="10001", source="ny")
    later = make_campaign(customers=[in_los_angeles, in_new_york], strategy=ONE_ATTEMPT, name="Later")
    later = services.campaign_start(campaign=later, by=owner)
    assert [call.customer.number for call in dial(later)] == ["+12125550104"]
    assert state(later, "+14155550105") == ("pending", "recipient_local_time")
    assert later.customers.get(number="+14155550105").zone_list == ("America/New_York",)
