"""The organization's quota at the last gate: once its included minutes of the billing period are
spent, "pause" mode refuses new calls (quota_spent) and "warn" only says so.

Calls are placed in this process through the real dispatcher, the real gate and the simulated
provider; the minutes are spent by the provider's own end-of-call reports.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from campaigns import clock, selectors, services
from campaigns.models import Call, Campaign
from campaigns.services.inputs import CallEvent
from dialer import claims
from tests.compliance.conftest import dial, dispatched

pytestmark = pytest.mark.django_db(transaction=True)

ANY_HOUR = {"respect_recipient_time_zone": False, "max_attempts": 1}


def talked(call: Call, seconds: int, *, cost: str = "0.20", unit: str = "USD") -> None:
    """The provider reports the call over, after `seconds` of conversation."""
    ended = clock.now()
    event = CallEvent(
        kind="end-of-call-report",
        status="ended",
        call_id=str(call.pk),
        ended_reason="customer-ended-call",
        started_at=ended - timedelta(seconds=seconds),
        ended_at=ended,
        cost=Decimal(cost),
        cost_unit=unit,
    )
    services.record_call_event(account=call.provider_account, event=event)


def with_quota(org, mode: str, minutes: int | None = 1) -> None:
    org.quota_mode, org.included_minutes = mode, minutes
    org.save(update_fields=["quota_mode", "included_minutes"])


def test_once_the_minutes_are_spent_a_paused_quota_refuses_new_calls(org, owner, make_campaign) -> None:
    with_quota(org, "pause", minutes=1)
    campaign = make_campaign(3, strategy=ANY_HOUR | {"max_concurrent_calls": 1})
    campaign = services.campaign_start(campaign=campaign, by=owner)
    [first] = dial(campaign)
    talked(first, 90)

    assert dial(campaign) == []
    campaign.refresh_from_db()
    assert campaign.waiting_reason == "quota_spent"
    waiting = campaign.customers.exclude(pk=first.customer_id)
    assert set(waiting.values_list("state", flat=True)) == {"pending"}
    usage = selectors.organization_usage(org, clock.now())
    assert (usage.calls, usage.conversation_seconds) == (1, pytest.approx(90))
    assert (usage.quota.spent, usage.quota.refuses_calls) == (True, True)


def test_calls_a_worker_took_before_the_minutes_ran_out_are_stopped_at_the_gate(
    org, owner, make_campaign
) -> None:
    with_quota(org, "pause", minutes=1)
    campaign = services.campaign_start(
        campaign=make_campaign(3, strategy=ANY_HOUR | {"max_concurrent_calls": 1}), by=owner
    )
    [first] = dial(campaign)
    other = services.campaign_start(campaign=make_campaign(2, strategy=ANY_HOUR, name="Other"), by=owner)
    taken = claims.take(dispatched(other))  # a worker has them, about to send
    assert len(taken) == 2
    talked(first, 61)  # meanwhile the first call ends past the included minute

    assert claims.confirm_at_gate([(call, "POST /call", "{}") for call in taken]) == []
    assert set(other.customers.values_list("state", "reason", "attempts")) == {("pending", "quota_spent", 0)}
    assert not Call.objects.filter(campaign=other, log__kind="request").exists()


def test_a_warning_quota_keeps_dialing(org, owner, make_campaign) -> None:
    with_quota(org, "warn", minutes=1)
    campaign = services.campaign_start(
        campaign=make_campaign(2, strategy=ANY_HOUR | {"max_concurrent_calls": 1}), by=owner
    )
    [first] = dial(campaign)
    talked(first, 90)
    assert len(dial(campaign)) == 1
    quota = selectors.organization_usage(org, clock.now()).quota
    assert (quota.warn, quota.refuses_calls) == (True, False)


def test_more_included_minutes_or_a_new_period_lets_calls_through_again(org, owner, make_campaign) -> None:
    with_quota(org, "pause", minutes=1)
    campaign = services.campaign_start(
        campaign=make_campaign(3, strategy=ANY_HOUR | {"max_concurrent_calls": 1}), by=owner
    )
    [first] = dial(campaign)
    talked(first, 90)
    assert dial(campaign) == []

    with_quota(org, "pause", minutes=2)
    [second] = dial(campaign)
    talked(second, 60)
    assert dial(campaign) == []

    # As if both calls had been made in the last billing period.
    Call.objects.filter(campaign=campaign).update(created_at=clock.now() - timedelta(days=40))
    assert len(dial(campaign)) == 1


def test_costs_are_kept_per_unit_and_only_money_is_the_campaigns_cost(org, owner, make_campaign) -> None:
    campaign = services.campaign_start(campaign=make_campaign(3, strategy=ANY_HOUR), by=owner)
    one, two, three = dial(campaign)
    talked(one, 30, cost="0.20")
    talked(two, 30, cost="0.0500")
    talked(three, 30, cost="412", unit="credits")

    assert Call.objects.get(pk=three.pk).cost_unit == "credits"
    assert Campaign.objects.get(pk=campaign.pk).calls_cost == Decimal("0.25")
    costs = [(c.amount, c.unit) for c in selectors.campaign_costs(campaign)]
    assert costs == [(Decimal("0.25"), "USD"), (Decimal("412"), "credits")]
    [simulated] = selectors.campaign_costs_by_provider(campaign)
    assert (simulated.kind, simulated.calls, simulated.conversation_seconds) == ("simulated", 3, 90)
    assert [(c.amount, c.unit) for c in simulated.costs] == costs
    usage = selectors.organization_usage(org, clock.now())
    assert [(c.amount, c.unit) for c in usage.costs] == costs
    assert usage.quota.included_minutes is None and not usage.quota.warn
