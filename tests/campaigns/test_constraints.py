"""Every invariant the database holds: an insert or update that breaks it fails."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from campaigns.models import (
    Call,
    Campaign,
    Customer,
    DoNotCall,
    PhoneNumber,
)


def breaks(fn) -> bool:
    try:
        with transaction.atomic():
            fn()
    except IntegrityError:
        return True
    return False


@pytest.fixture
def campaign(make_campaign) -> Campaign:
    return make_campaign(2)


def _update(campaign: Campaign, **values) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(**values)


@pytest.mark.parametrize(
    "values",
    [
        {"assistant_id": None},  # no target
        {"workflow_id": "wf-1"},  # two targets
        {"squad_id": "sq-1"},
    ],
    ids=["no-target", "assistant-and-workflow", "assistant-and-squad"],
)
def test_a_campaign_has_exactly_one_voice_agent(campaign, values) -> None:
    assert breaks(lambda: _update(campaign, **values))


def test_a_campaign_has_a_phone_number_or_a_dial_plan_never_both(campaign) -> None:
    assert breaks(lambda: _update(campaign, uses_dial_plan=True))
    assert breaks(lambda: _update(campaign, phone_number=None))


@pytest.mark.parametrize(
    "field",
    [
        "calls_scheduled",
        "calls_queued",
        "calls_in_progress",
        "calls_ended",
        "calls_ended_voicemail",
        "customers_total",
        "customers_final",
    ],
)
def test_counters_never_go_below_zero(campaign, field) -> None:
    assert breaks(lambda: _update(campaign, **{field: F(field) - 100}))


def test_voicemail_calls_are_a_subset_of_ended_calls(campaign) -> None:
    assert breaks(lambda: _update(campaign, calls_ended_voicemail=1))


def test_latest_at_cannot_precede_earliest_at(campaign) -> None:
    now = timezone.now()
    assert breaks(lambda: _update(campaign, earliest_at=now, latest_at=now - timezone.timedelta(hours=1)))


def test_an_ended_campaign_has_an_ended_reason_and_only_then(campaign) -> None:
    assert breaks(lambda: _update(campaign, status="ended"))
    assert breaks(lambda: _update(campaign, ended_reason="campaign.ended.success"))


def test_ring_time_cannot_be_shorter_than_fifteen_seconds(campaign) -> None:
    assert breaks(lambda: _update(campaign, max_ring_seconds=10))


def test_a_number_appears_once_per_campaign(campaign) -> None:
    first = campaign.customers.first()
    assert breaks(
        lambda: Customer.objects.create(
            campaign=campaign, position=99, sort_key=99, number=first.number, next_attempt_at=timezone.now()
        )
    )


def test_a_customer_needs_a_number_or_a_sip_uri(campaign) -> None:
    assert breaks(
        lambda: Customer.objects.create(
            campaign=campaign, position=99, sort_key=99, next_attempt_at=timezone.now()
        )
    )


def test_a_number_is_on_the_do_not_call_list_once_per_organization(org, other_org) -> None:
    DoNotCall.objects.create(organization=org, number="+14155550123", source="manual")
    DoNotCall.objects.create(
        organization=other_org, number="+14155550123", source="manual"
    )  # other tenant: fine
    assert breaks(lambda: DoNotCall.objects.create(organization=org, number="+14155550123", source="import"))


def test_a_caller_id_is_listed_once_per_organization(org, caller_id) -> None:
    assert breaks(
        lambda: PhoneNumber.objects.create(
            organization=org, provider_account=caller_id.provider_account, number=caller_id.number
        )
    )


def _call(campaign: Campaign, customer: Customer, attempt: int, **values) -> Call:
    return Call.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        customer=customer,
        phone_number=campaign.phone_number,
        provider_account=campaign.phone_number.provider_account,
        attempt=attempt,
        **values,
    )


def test_a_customer_is_never_in_two_live_calls(campaign) -> None:
    customer = campaign.customers.first()
    _call(campaign, customer, 1)
    assert breaks(lambda: _call(campaign, customer, 2))


def test_an_ended_call_does_not_block_the_next_attempt(campaign) -> None:
    customer = campaign.customers.first()
    _call(campaign, customer, 1, status="ended", ended_reason="customer-busy")
    assert not breaks(lambda: _call(campaign, customer, 2))


def test_an_attempt_number_is_used_once_per_customer(campaign) -> None:
    customer = campaign.customers.first()
    _call(campaign, customer, 1, status="ended", ended_reason="customer-busy")
    assert breaks(lambda: _call(campaign, customer, 1, status="ended", ended_reason="customer-busy"))


def test_a_provider_call_id_names_one_call(campaign) -> None:
    first, second = campaign.customers.all()[:2]
    _call(campaign, first, 1, provider_call_id="prov-1")
    assert breaks(lambda: _call(campaign, second, 1, provider_call_id="prov-1"))


def test_an_ended_call_has_an_ended_reason(campaign) -> None:
    customer = campaign.customers.first()
    assert breaks(lambda: _call(campaign, customer, 1, status="ended"))
