"""The campaign page with a caller-ID pool: its providers side by side, the pool in the setup, and
each call's caller ID and why."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import selectors, services
from campaigns.models import Call, Campaign, PhoneNumber, ProviderAccount
from dialer import claims
from dialer.dispatch import dispatch_campaign
from tests.conftest import customers

pytestmark = pytest.mark.django_db


def split_campaign(org, owner, caller_id, *, count: int = 40) -> tuple[Campaign, ProviderAccount]:
    """A split campaign over two provider accounts, its calls placed and ended: every call of the
    default account answered (objective met, 60 s, $0.10), one in two of the other's."""
    other = ProviderAccount.objects.create(organization=org, name="Agent B", kind="simulated")
    theirs = PhoneNumber.objects.create(organization=org, provider_account=other, number="+14155550188")
    data = services.CampaignInput(
        name="A/B",
        assistant_id="asst-1",
        phone_number_id=str(caller_id.pk),
        customers=customers(count),
        strategy={"respect_recipient_time_zone": False, "max_concurrent_calls": 100},
        caller_id_pool=services.CallerPoolInput(phone_number_ids=[str(theirs.pk)], mode="split"),
    )
    campaign = services.campaign_start(
        campaign=services.campaign_create(organization=org, by=owner, data=data), by=owner
    )
    dispatch_campaign(Campaign.objects.get(pk=campaign.pk), enqueue=lambda ids: None)
    queued = Call.objects.filter(campaign=campaign).order_by("created_at", "id").values_list("pk", flat=True)
    sent = claims.confirm_at_gate([(call, "POST /call", "{}") for call in claims.take(list(queued))])
    assert len(sent) == count  # the calls left through the last gate
    start = timezone.now() - timedelta(minutes=5)
    for i, call in enumerate(Call.objects.filter(campaign=campaign).order_by("created_at", "id")):
        mine = call.provider_account_id == caller_id.provider_account_id
        answered = mine or i % 2 == 0
        event = services.CallEvent(
            kind="end-of-call-report",
            status="ended",
            call_id=str(call.pk),
            ended_reason="customer-ended-call" if answered else "customer-did-not-answer",
            started_at=start,
            ended_at=start + timedelta(seconds=60 if mine else 30),
            cost=Decimal("0.10"),
            cost_unit="USD",
            structured_data={"objectiveMet": mine},
        )
        services.record_call_event(account=call.provider_account, event=event)
    return Campaign.objects.get(pk=campaign.pk), other


def test_the_comparison_puts_each_provider_side_by_side(org, owner, caller_id, provider) -> None:
    campaign, other = split_campaign(org, owner, caller_id)

    rows = {row.name: row for row in selectors.campaign_comparison(campaign)}

    assert set(rows) == {"Simulated", "Agent B"}
    ours, theirs = rows["Simulated"], rows["Agent B"]
    assert (ours.group, theirs.group) == ("A", "B")
    assert ours.calls + theirs.calls == 40
    assert ours.answer_rate == 1.0 and ours.objective_rate == 1.0
    assert ours.average_seconds == 60.0 and ours.cost_per_completed == Decimal("0.10")
    assert theirs.answered < theirs.calls and theirs.objective_rate == 0.0
    assert theirs.cost_per_completed == Decimal("0.10") * theirs.calls / theirs.answered


def test_a_campaign_with_one_caller_id_shows_no_comparison(as_viewer, campaign) -> None:
    assert selectors.campaign_comparison(campaign) == []
    assert (
        "Side by side" not in as_viewer.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    )


def test_the_campaign_page_shows_the_comparison_and_the_pool(as_viewer, org, owner, caller_id) -> None:
    campaign, _ = split_campaign(org, owner, caller_id)

    content = as_viewer.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    assert "Side by side" in content and "Agent B" in content and "100%" in content
    assert "a pool of 1 more (split across providers)" in content
    assert "+14155550188" in content


def test_a_call_page_says_which_caller_id_and_why(as_viewer, org, owner, caller_id) -> None:
    campaign, _ = split_campaign(org, owner, caller_id, count=4)
    call = Call.objects.filter(campaign=campaign).select_related("phone_number").first()

    content = as_viewer.get(reverse("campaigns:call", args=[campaign.pk, call.pk])).content.decode()

    assert call.phone_number.number in content
    assert call.caller_id_choice and call.caller_id_choice.startswith("split ")
    assert call.caller_id_choice.replace("·", "&middot;") in content or call.caller_id_choice in content


def test_customers_waiting_for_a_caller_id_say_so(as_viewer, org, owner, caller_id) -> None:
    services.phone_number_update(phone_number=caller_id, by=owner, changes={"max_concurrent_calls": 1})
    data = services.CampaignInput(
        name="Capped",
        assistant_id="asst-1",
        phone_number_id=str(caller_id.pk),
        customers=customers(3),
        strategy={"respect_recipient_time_zone": False},
        caller_id_pool=services.CallerPoolInput(phone_number_ids=[]),
    )
    campaign = services.campaign_start(
        campaign=services.campaign_create(organization=org, by=owner, data=data), by=owner
    )
    dispatch_campaign(Campaign.objects.get(pk=campaign.pk), enqueue=lambda ids: None)

    content = as_viewer.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    assert "No caller ID of the pool is usable now" in content
