"""Outcomes that drive the campaign, through the services: structured results checked and kept,
rules deciding, opt-outs reaching the do-not-call list and every campaign, callbacks scheduled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import AuditEvent, Call, Campaign, Customer, DoNotCall
from campaigns.rules.engine import Action, Reason, eligibility
from campaigns.rules.policy import campaign_policy, customer_facts
from campaigns.services import CampaignChanges, ValidationFailed
from dialer.dispatch import dispatch_campaign
from tests.campaigns.test_call_events import ANY_TIME, counters, deliver, event, placed, recount
from tests.conftest import customers

SCHEMA = {
    "type": "object",
    "properties": {
        "objectiveMet": {"type": "boolean"},
        "mood": {"enum": ["happy", "neutral", "angry"]},
        "callbackAt": {"type": "string"},
        "optOut": {"type": "boolean"},
    },
    "required": ["objectiveMet"],
}
OUTCOMES = {"objective": "Book a renewal call.", "analysis_schema": SCHEMA}


@pytest.fixture
def running(make_campaign, owner):
    def run(count=3, **outcomes) -> Campaign:
        campaign = make_campaign(count, strategy=ANY_TIME, outcomes={**OUTCOMES, **outcomes})
        campaign = services.campaign_start(campaign=campaign, by=owner)
        dispatch_campaign(campaign, enqueue=lambda ids: None)
        return campaign

    return run


def answered(call: Call, result: dict | None, *, seconds: int = 40, report_first: bool = False):
    started = timezone.now() - timedelta(seconds=seconds)
    ended = [
        event(
            call,
            "status-update",
            "ended",
            ended_reason="customer-ended-call",
            at=started + timedelta(seconds=seconds),
        ),
        event(
            call,
            "end-of-call-report",
            "ended",
            ended_reason="customer-ended-call",
            started_at=started,
            ended_at=started + timedelta(seconds=seconds),
            analysis={"structuredData": result},
            structured_data=result,
        ),
    ]
    deliver(
        call,
        event(call, "status-update", "in-progress", at=started),
        *(ended[::-1] if report_first else ended),
    )


def test_a_valid_result_is_kept_on_the_call_and_the_customer_and_counted(running):
    campaign = running()
    call = placed(campaign)
    answered(call, {"objectiveMet": True, "mood": "happy"})
    call.refresh_from_db()
    customer = Customer.objects.get(pk=call.customer_id)
    assert (call.structured_data_valid, call.objective_met, call.structured_data_error) == (True, True, "")
    assert (customer.state, customer.objective_met, customer.analysis["mood"]) == ("completed", True, "happy")
    campaign.refresh_from_db()
    assert (campaign.customers_analysed, campaign.customers_objective_met) == (1, 1)
    assert counters(campaign) == recount(campaign)


def test_a_result_against_the_schema_is_stored_with_why_and_never_trusted(running):
    campaign = running()
    call = placed(campaign)
    answered(call, {"objectiveMet": "yes", "optOut": True})
    call.refresh_from_db()
    assert call.structured_data_valid is False
    assert call.structured_data_error.startswith("objectiveMet: 'yes' is not of type 'boolean'")
    assert call.objective_met is None
    customer = Customer.objects.get(pk=call.customer_id)
    assert (customer.state, customer.analysis) == ("completed", None)  # its optOut is not believed
    assert not DoNotCall.objects.exists()


@pytest.mark.parametrize("report_first", [False, True], ids=["report-after-end", "report-first"])
def test_an_opt_out_in_the_result_lists_the_number_and_skips_it_in_every_campaign(
    running, make_campaign, owner, report_first
):
    other = make_campaign(2, name="Winback", customers=customers(2), strategy=ANY_TIME)
    campaign = running()
    call = placed(campaign)
    answered(call, {"objectiveMet": False, "optOut": True}, report_first=report_first)
    customer = Customer.objects.get(pk=call.customer_id)
    entry = DoNotCall.objects.get(number=customer.number)
    assert (entry.source, entry.call_id) == ("opt-out", call.pk)
    assert (customer.state, customer.reason) == ("skipped", "do_not_call")
    twin = Customer.objects.get(campaign=other, number=customer.number)
    assert (twin.state, twin.reason) == ("skipped", "do_not_call")
    other.refresh_from_db()
    assert (other.customers_skipped, other.customers_pending, other.customers_final) == (1, 1, 1)
    campaign.refresh_from_db()
    assert campaign.customers_skipped == 1 and campaign.customers_completed == 0
    assert AuditEvent.objects.filter(action="dnc.opt_out").count() == 1


def test_a_quick_hang_up_is_an_opt_out_when_the_campaign_says_so(running):
    campaign = running(hang_up_is_opt_out=True, hang_up_opt_out_seconds=5)
    call = placed(campaign)
    answered(call, None, seconds=3)
    customer = Customer.objects.get(pk=call.customer_id)
    assert (customer.state, customer.reason) == ("skipped", "do_not_call")
    assert "hung up within 5 s" in customer.reason_detail
    assert DoNotCall.objects.get(number=customer.number).call_id == call.pk


def test_a_callback_is_scheduled_at_the_time_asked_beyond_the_attempt_budget(running):
    campaign = running()
    Campaign.objects.filter(pk=campaign.pk).update(max_attempts=1)
    call = placed(campaign)
    asked = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    answered(call, {"objectiveMet": False, "callbackAt": asked.isoformat()})
    customer = Customer.objects.get(pk=call.customer_id)
    assert (customer.state, customer.reason, customer.callbacks) == ("pending", "callback", 1)
    assert customer.callback_at == customer.next_attempt_at == asked  # any time: no hours to respect
    campaign.refresh_from_db()
    assert (campaign.customers_pending, campaign.customers_completed) == (1, 0)
    # The engine (and so the last gate) lets the callback through then, though 1 of 1 attempts is used.
    policy, facts = campaign_policy(campaign), customer_facts(customer, do_not_call=False)
    assert eligibility(facts, policy, asked).action is Action.DIAL
    assert eligibility(facts, policy, asked - timedelta(minutes=1)).reason is Reason.RETRY_DELAY


def test_the_campaigns_rules_come_first(running):
    rules = [{"when": {"field": "mood", "equals": "angry"}, "then": "retry", "retry_in_seconds": 7200}]
    campaign = running(outcome_rules=rules)
    call = placed(campaign)
    answered(call, {"objectiveMet": False, "mood": "angry"})
    customer = Customer.objects.get(pk=call.customer_id)
    assert (customer.state, customer.reason_detail) == ("pending", "rule 1: retry in 7200 s")


@pytest.mark.parametrize(
    ("outcomes", "field"),
    [
        ({"analysis_schema": {"type": "array"}}, "analysis_schema.type"),
        (
            {"analysis_schema": {"type": "object", "properties": {"a": {"type": "nope"}}}},
            "analysis_schema.properties.a.type",
        ),
        ({"objective_field": "mood"}, "objective_field"),
        (
            {"outcome_rules": [{"when": {"field": "colour", "equals": 1}, "then": "completed"}]},
            "outcome_rules.0.when.field",
        ),
        ({"voicemail_plan": {"action": "leave-message", "then": "done"}}, "voicemail_plan.message"),
        # Regression (found by the property test): a list where a word is expected raised TypeError.
        ({"voicemail_plan": {"action": "hang-up", "then": ["done"]}}, "voicemail_plan.then"),
        ({"voicemail_plan": {"action": "hang-up", "then": {"done": 1}}}, "voicemail_plan.then"),
        ({"max_callbacks": 11}, "max_callbacks"),
    ],
)
def test_bad_outcome_settings_are_refused_naming_the_field_and_nothing_is_saved(
    make_campaign, outcomes, field
):
    with pytest.raises(ValidationFailed) as caught:
        make_campaign(2, outcomes={**OUTCOMES, **outcomes})
    assert field in [e.field for e in caught.value.errors]
    assert not Campaign.objects.exists()


def test_outcome_settings_change_until_the_campaign_ends(make_campaign, owner):
    campaign = make_campaign(2, outcomes=OUTCOMES)
    rules = [{"when": {"objective_met": True}, "then": "completed"}]
    changes = CampaignChanges(fields={"outcomes"}, outcomes={"outcome_rules": rules})
    updated = services.campaign_update(campaign=campaign, by=owner, changes=changes)
    assert updated.outcome_rules == rules
    bad = CampaignChanges(
        fields={"outcomes"}, outcomes={"analysis_schema": {"type": "object"}, "objective_field": "x"}
    )
    with pytest.raises(ValidationFailed):
        services.campaign_update(campaign=campaign, by=owner, changes=bad)
    services.campaign_end(campaign=campaign, by=owner)
    with pytest.raises(ValidationFailed):
        services.campaign_update(campaign=campaign, by=owner, changes=changes)


def test_an_opt_out_skips_the_number_even_where_the_same_batch_just_decided_a_retry(running):
    """Issue 18: a batch writes its customers together, at its end. A retry decided for a
    customer earlier in the batch must still be skipped by an opt-out of the same number later
    in it (in another campaign): the batch writes what it decided before the skip reads it."""
    # More customers than lines: some stay pending, so the skip's counter move (made at once)
    # never takes the count below zero before the batch adds its own at its end.
    first, second = running(15), running()
    Campaign.objects.filter(pk__in=[first.pk, second.pk]).update(max_attempts=3)
    busy, opted = placed(Campaign.objects.get(pk=first.pk)), placed(Campaign.objects.get(pk=second.pk))
    assert busy.customer.number == opted.customer.number
    started = timezone.now() - timedelta(seconds=40)
    account = busy.provider_account
    services.record_call_events(
        [
            (account, event(busy, "status-update", "ended", ended_reason="customer-busy", at=started)),
            (account, event(opted, "status-update", "in-progress", at=started)),
            (
                account,
                event(
                    opted,
                    "end-of-call-report",
                    "ended",
                    ended_reason="customer-ended-call",
                    started_at=started,
                    ended_at=started + timedelta(seconds=40),
                    analysis={"structuredData": {"objectiveMet": False, "optOut": True}},
                    structured_data={"objectiveMet": False, "optOut": True},
                ),
            ),
        ]
    )
    retried = Customer.objects.get(pk=busy.customer_id)
    assert (retried.state, retried.reason) == ("skipped", "do_not_call")  # not "pending", to be called again
    assert (Customer.objects.get(pk=opted.customer_id).reason) == "do_not_call"
    for campaign in (first, second):
        campaign.refresh_from_db()
        assert (
            campaign.customers_pending == Customer.objects.filter(campaign=campaign, state="pending").count()
        )
