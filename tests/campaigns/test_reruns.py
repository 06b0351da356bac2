"""Re-runs: a new campaign calling again the customers an ended campaign's outcomes chose, with
every setting of the old one, linked to it and audited; nothing made when the request is bad."""

from __future__ import annotations

import pytest

from campaigns import selectors, services
from campaigns.models import AuditEvent, Call, Campaign, CampaignStatus, Customer, DoNotCall
from campaigns.services import InvalidTransition, ValidationFailed
from dialer.dispatch import dispatch_campaign
from tests.campaigns.test_call_events import accept, deliver, event
from tests.campaigns.test_outcomes import SCHEMA, answered

STRATEGY = {"respect_recipient_time_zone": False, "max_attempts": 1, "max_concurrent_calls": 10}
# How each of the five customers' one call ends, in customer order.
ENDINGS = ["no-answer", "busy", "failed", "not-met", "met"]


def _end(call: Call, how: str) -> None:
    reasons = {
        "no-answer": "customer-did-not-answer",
        "busy": "customer-busy",
        "failed": "call.in-progress.error-sip-outbound-call-failed-to-connect",
    }
    if how in reasons:
        deliver(call, event(call, "status-update", "ended", ended_reason=reasons[how]))
    else:
        answered(call, {"objectiveMet": how == "met"})


@pytest.fixture
def finished(make_campaign, owner) -> Campaign:
    """Five customers called once each, ended as ENDINGS says; a sixth never called; then ended."""
    campaign = make_campaign(
        6,
        strategy={**STRATEGY, "max_concurrent_calls": 5},
        outcomes={"objective": "Renew.", "analysis_schema": SCHEMA, "hang_up_is_opt_out": True},
        name="Renewals",
    )
    campaign = services.campaign_start(campaign=campaign, by=owner)
    dispatch_campaign(campaign, enqueue=lambda ids: None)
    calls = Call.objects.filter(campaign=campaign).order_by("customer__position")
    for call, how in zip(calls, ENDINGS, strict=True):
        _end(accept(call, f"prov-{call.pk}"), how)
    return services.campaign_end(campaign=campaign, by=owner)


def numbers(campaign: Campaign) -> list[str]:
    return list(
        Customer.objects.filter(campaign=campaign).order_by("position").values_list("number", flat=True)
    )


def test_it_counts_each_group_of_an_ended_campaign(finished):
    assert selectors.rerun_counts(finished) == {"not-answered": 2, "failed": 1, "objective-not-met": 1}


def test_a_rerun_calls_again_the_groups_asked_with_every_setting_linked_and_audited(finished, owner):
    source = numbers(finished)
    rerun = services.campaign_rerun(campaign=finished, by=owner, who=["not-answered", "objective-not-met"])
    assert numbers(rerun) == [source[0], source[1], source[3]]
    assert (rerun.rerun_of_id, rerun.rerun_who, rerun.status) == (
        finished.pk,
        ["not-answered", "objective-not-met"],
        "scheduled",
    )
    assert rerun.name == "Renewals (re-run)"
    assert (rerun.analysis_schema, rerun.hang_up_is_opt_out, rerun.max_attempts) == (SCHEMA, True, 1)
    assert rerun.phone_number_id == finished.phone_number_id
    fresh = Customer.objects.filter(campaign=rerun)
    assert {(c.state, c.attempts, c.objective_met, c.last_outcome) for c in fresh} == {
        ("pending", 0, None, "")
    }
    rerun.refresh_from_db()
    assert (rerun.customers_total, rerun.customers_pending) == (3, 3)
    audit = AuditEvent.objects.get(action="campaign.rerun")
    assert (audit.target_id, audit.after["rerun_of"], audit.after["customers"]) == (
        str(rerun.pk),
        str(finished.pk),
        3,
    )


def test_a_number_that_opted_out_since_is_skipped_in_the_rerun(finished, owner):
    first = numbers(finished)[0]
    services.dnc_add(organization=finished.organization, by=owner, numbers=[(first, "asked")])
    rerun = services.campaign_rerun(campaign=finished, by=owner, who=["not-answered"])
    skipped = Customer.objects.get(campaign=rerun, number=first)
    assert (skipped.state, skipped.reason) == ("skipped", "do_not_call")
    assert DoNotCall.objects.filter(number=first).exists()


@pytest.mark.parametrize(
    ("who", "field"),
    [([], "who"), (["nobody"], "who.0"), (["failed", "failed"], "who"), ("failed", "who")],
)
def test_a_bad_group_is_refused_naming_it_and_nothing_is_made(finished, owner, who, field):
    before = Campaign.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        services.campaign_rerun(campaign=finished, by=owner, who=who)
    assert [e.field for e in caught.value.errors] == [field]
    assert Campaign.objects.count() == before


def test_a_group_with_nobody_in_it_is_refused(make_campaign, owner):
    ended = services.campaign_end(campaign=make_campaign(2, strategy=STRATEGY), by=owner)
    with pytest.raises(ValidationFailed) as caught:
        services.campaign_rerun(campaign=ended, by=owner, who=["failed"])
    assert str(caught.value) == "who matches no customer of this campaign"


@pytest.mark.parametrize(
    "status", [CampaignStatus.SCHEDULED, CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED]
)
def test_a_campaign_that_may_still_call_them_is_not_rerun(make_campaign, owner, status):
    campaign = make_campaign(2, strategy=STRATEGY)
    if status != CampaignStatus.SCHEDULED:
        campaign = services.campaign_start(campaign=campaign, by=owner)
    if status == CampaignStatus.PAUSED:
        campaign = services.campaign_pause(campaign=campaign, by=owner)
    with pytest.raises(InvalidTransition) as caught:
        services.campaign_rerun(campaign=campaign, by=owner, who=["failed"])
    assert caught.value.current == status


def test_a_rerun_keeps_the_caller_id_pool_without_the_numbers_retired_since(
    make_campaign, owner, org, caller_id, second_caller_id, provider
) -> None:
    from campaigns.models import PhoneNumber

    retired = PhoneNumber.objects.create(organization=org, provider_account=provider, number="+12125550177")
    pool = services.CallerPoolInput(phone_number_ids=[str(second_caller_id.pk), str(retired.pk)])
    campaign = make_campaign(2, strategy=STRATEGY, caller_id_pool=pool)
    campaign = services.campaign_start(campaign=campaign, by=owner)
    dispatch_campaign(campaign, enqueue=lambda ids: None)
    for call in Call.objects.filter(campaign=campaign):
        _end(accept(call, f"prov-{call.pk}"), "no-answer")
    campaign = services.campaign_end(campaign=campaign, by=owner)
    services.phone_number_delete(phone_number=retired, by=owner)

    again = services.campaign_rerun(campaign=campaign, by=owner, who=["not-answered"])

    assert again.caller_id_mode == "local-presence"
    assert list(again.caller_pool.values_list("phone_number_id", flat=True)) == [second_caller_id.pk]
