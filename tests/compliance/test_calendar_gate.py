"""Blackout dates and the ambiguous-number policy are held by the last gate: calls a worker took
before a holiday was declared never leave, through the real dispatcher and gate."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import Call
from dialer import claims
from tests.compliance.conftest import customer, dial, dispatched
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
