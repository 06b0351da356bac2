"""Caller-ID pools in the dialer: each call gets a local, usable caller ID under its caps, keeps it
across retries, and a number disabled or rested meanwhile never carries a call out."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from campaigns import clock, services
from campaigns.models import Call, Campaign, Customer, PhoneNumber, ProviderAccount
from campaigns.rules import hours
from campaigns.rules.caller_ids import HEALTH_WINDOW, WAIT_SECONDS
from dialer import claims
from dialer.dispatch import dispatch_campaign
from tests.conftest import customers

pytestmark = pytest.mark.django_db(transaction=True)

ANY_TIME = {"respect_recipient_time_zone": False, "max_concurrent_calls": 20}
AT_ONCE = {"busy": 0, "noAnswer": 0, "voicemail": 0, "failed": 0}
RETRY_AT_ONCE = {**ANY_TIME, "max_attempts": 3, "retry_delays": AT_ONCE}


@pytest.fixture
def second_provider(org) -> ProviderAccount:
    return ProviderAccount.objects.create(organization=org, name="Other agent", kind="simulated")


def number(org, account: ProviderAccount, e164: str) -> PhoneNumber:
    return PhoneNumber.objects.create(organization=org, provider_account=account, number=e164)


def pooled(
    org,
    owner,
    caller_id,
    pool: list[PhoneNumber],
    people,
    *,
    mode="local-presence",
    weights=None,
    strategy=ANY_TIME,
) -> Campaign:
    data = services.CampaignInput(
        name="Local presence",
        assistant_id="asst-1",
        phone_number_id=str(caller_id.pk),
        customers=people,
        strategy=strategy,
        caller_id_pool=services.CallerPoolInput(
            phone_number_ids=[str(n.pk) for n in pool], mode=mode, weights=weights
        ),
    )
    campaign = services.campaign_create(organization=org, by=owner, data=data)
    return services.campaign_start(campaign=campaign, by=owner)


def dispatched(campaign: Campaign, now=None) -> list[str]:
    queued: list[str] = []
    dispatch_campaign(Campaign.objects.get(pk=campaign.pk), enqueue=queued.extend, now=now)
    return queued


def end(call: Call, reason: str = "customer-ended-call") -> None:
    event = services.CallEvent(
        kind="end-of-call-report", status="ended", call_id=str(call.pk), ended_reason=reason
    )
    services.record_call_event(account=call.provider_account, event=event)


def test_each_callee_is_called_from_a_number_of_its_own_area_or_region(
    org, owner, caller_id, provider
) -> None:
    new_york = number(org, provider, "+12125550100")
    la = number(org, provider, "+12135550100")
    people = (
        customers(2, area="212") + customers(2, start=10, area="415") + customers(1, start=20, area="619")
    )
    campaign = pooled(org, owner, caller_id, [new_york, la], people)

    dispatched(campaign)

    calls = {c.customer.number: c for c in Call.objects.filter(campaign=campaign).select_related("customer")}
    assert calls["+12125550000"].phone_number_id == new_york.pk
    assert calls["+12125550000"].caller_id_choice == "area code 212"
    assert calls["+14155550010"].phone_number_id == caller_id.pk  # the default is local to 415
    assert calls["+16195550020"].caller_id_choice == "region US-CA"
    assert calls["+16195550020"].phone_number_id in (caller_id.pk, la.pk)


def test_a_disabled_number_is_never_used(org, owner, caller_id, provider) -> None:
    local = number(org, provider, "+14155550122")
    services.phone_number_update(phone_number=local, by=owner, changes={"disabled": True})
    campaign = pooled(org, owner, caller_id, [local], customers(12))

    assert len(dispatched(campaign)) == 12
    assert set(Call.objects.filter(campaign=campaign).values_list("phone_number_id", flat=True)) == {
        caller_id.pk
    }


def test_a_number_disabled_while_its_calls_wait_never_carries_them_out(
    org, owner, caller_id, provider
) -> None:
    other = number(org, provider, "+14155550133")
    campaign = pooled(org, owner, caller_id, [other], customers(6))
    taken = claims.take(dispatched(campaign))  # a worker has them, about to send
    on_other = [c for c in taken if c.phone_number_id == other.pk]
    assert on_other and len(on_other) < 6  # spread over both

    services.phone_number_update(phone_number=other, by=owner, changes={"disabled": True})
    sent = claims.confirm_at_gate([(call, "POST /call", "{}") for call in taken])

    assert {c.phone_number_id for c in sent} == {caller_id.pk}
    waiting = Customer.objects.filter(pk__in=[c.customer_id for c in on_other])
    assert set(waiting.values_list("state", "reason")) == {("pending", "no_caller_id")}
    assert not Call.objects.filter(phone_number=other).exists()  # withdrawn, never sent
    later = clock.now() + timedelta(seconds=WAIT_SECONDS + 1)
    again = Call.objects.filter(pk__in=dispatched(campaign, now=later))
    assert again.count() == len(on_other)
    assert set(again.values_list("phone_number_id", flat=True)) == {caller_id.pk}


def test_caps_hold_and_those_left_wait_for_a_caller_id(org, owner, caller_id, provider) -> None:
    services.phone_number_update(phone_number=caller_id, by=owner, changes={"max_concurrent_calls": 2})
    second = number(org, provider, "+14155550144")
    services.phone_number_update(phone_number=second, by=owner, changes={"max_daily_calls": 3})
    campaign = pooled(org, owner, caller_id, [second], customers(8))

    assert len(dispatched(campaign)) == 5
    used = Counter(Call.objects.filter(campaign=campaign).values_list("phone_number_id", flat=True))
    assert used == {caller_id.pk: 2, second.pk: 3}
    waiting = campaign.customers.filter(state="pending")
    assert set(waiting.values_list("reason", flat=True)) == {"no_caller_id"}
    assert "at their caps" in waiting.first().reason_detail


def test_a_retry_keeps_the_caller_id_of_the_last_call(org, owner, caller_id, provider) -> None:
    second = number(org, provider, "+14155550155")
    campaign = pooled(org, owner, caller_id, [second], customers(6), strategy=RETRY_AT_ONCE)
    first = {c.customer_id: c.phone_number_id for c in Call.objects.filter(pk__in=dispatched(campaign))}
    for call in Call.objects.filter(campaign=campaign):
        end(call, "customer-did-not-answer")

    retries = Call.objects.filter(pk__in=dispatched(campaign, now=clock.now() + timedelta(seconds=5)))

    assert retries.count() == 6
    assert {c.customer_id: c.phone_number_id for c in retries} == first
    assert set(retries.values_list("caller_id_choice", flat=True)) == {"same as the last call"}


def test_a_number_whose_answers_collapsed_is_rested_until_a_user_lifts_it(
    org, owner, caller_id, provider
) -> None:
    flagged = number(org, provider, "+14155550166")
    old = services.campaign_create(
        organization=org,
        by=owner,
        data=services.CampaignInput(
            name="Before",
            assistant_id="a",
            phone_number_id=str(flagged.pk),
            customers=customers(HEALTH_WINDOW, start=100),
            strategy={**ANY_TIME, "max_concurrent_calls": 100},
        ),
    )
    old = services.campaign_start(campaign=old, by=owner)
    for call in Call.objects.filter(pk__in=dispatched(old)):
        end(call, "customer-did-not-answer")
    services.campaign_pause(campaign=old, by=owner)

    campaign = pooled(org, owner, caller_id, [flagged], customers(4))
    dispatched(campaign)

    flagged.refresh_from_db()
    assert flagged.rested_at is not None
    assert "answer rate 0%" in flagged.rested_reason
    assert not Call.objects.filter(campaign=campaign, phone_number=flagged).exists()

    services.phone_number_update(phone_number=flagged, by=owner, changes={}, lift_rest=True)
    for call in Call.objects.filter(campaign=campaign):
        end(call)
    more = pooled(org, owner, caller_id, [flagged], customers(4, start=50))
    dispatched(more)
    flagged.refresh_from_db()
    assert flagged.rested_at is None  # its old calls no longer count
    assert Call.objects.filter(campaign=more, phone_number=flagged).exists()


def test_split_mode_divides_customers_between_providers_by_weight(
    org, owner, caller_id, provider, second_provider
) -> None:
    org.max_concurrent_calls = 1000
    org.save(update_fields=["max_concurrent_calls"])
    theirs = number(org, second_provider, "+14155550177")
    weights = {str(provider.pk): 1, str(second_provider.pk): 1}
    strategy = {"respect_recipient_time_zone": False, "max_concurrent_calls": 500}
    campaign = pooled(
        org, owner, caller_id, [theirs], customers(1000), mode="split", weights=weights, strategy=strategy
    )

    for _ in range(2):
        for call in Call.objects.filter(pk__in=dispatched(campaign)):
            end(call)

    calls = Call.objects.filter(campaign=campaign)
    assert calls.count() == 1000
    by_account = Counter(calls.values_list("provider_account_id", flat=True))
    assert 430 <= by_account[second_provider.pk] <= 570
    assert by_account[provider.pk] + by_account[second_provider.pk] == 1000
    groups = Counter(label.split(" · ")[0] for label in calls.values_list("caller_id_choice", flat=True))
    assert groups == {"split A": by_account[provider.pk], "split B": by_account[second_provider.pk]}
    # A customer's group is its provider, every time.
    for call in calls.filter(provider_account=second_provider)[:20]:
        assert call.phone_number_id == theirs.pk


def test_a_daily_cap_counts_the_organizations_day_not_utcs(org, owner, caller_id) -> None:
    """Los Angeles: a caller ID capped at 2 calls a day that made them at 22:30 may call again
    after local midnight (08:00 UTC), though the UTC day has not turned."""
    org.time_zone = "America/Los_Angeles"
    org.save(update_fields=["time_zone"])
    services.phone_number_update(phone_number=caller_id, by=owner, changes={"max_daily_calls": 2})
    campaign = services.campaign_start(
        campaign=services.campaign_create(
            organization=org,
            by=owner,
            data=services.CampaignInput(
                name="Daily cap",
                assistant_id="asst-1",
                phone_number_id=str(caller_id.pk),
                customers=customers(6),
                strategy=ANY_TIME,
            ),
        ),
        by=owner,
    )
    midnight = hours.day_start(clock.now() + timedelta(days=2), "America/Los_Angeles")
    assert midnight.hour == 8  # PST: one UTC day holds both sides of it
    first = Call.objects.filter(pk__in=dispatched(campaign))
    assert first.count() == 2
    first.update(created_at=midnight - timedelta(minutes=90))  # 22:30 the evening before
    for call in first:
        end(call)

    assert dispatched(campaign, now=midnight - timedelta(minutes=30)) == []  # 23:30: cap spent
    assert len(dispatched(campaign, now=midnight + timedelta(minutes=30))) == 2  # 00:30: a new day
