"""Outcomes for real: a Celery worker and beat run a campaign on the simulated provider, whose
calls end with structured results (objective met or not, opt-outs) in a configured mix."""

from __future__ import annotations

import pytest
from django.db.models import Count

from campaigns.models import Call, Campaign, Customer, DoNotCall
from tests.dialer.test_end_to_end import FAST, counters, recount
from tests.support import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SCHEMA = {
    "type": "object",
    "properties": {
        "objectiveMet": {"type": "boolean"},
        "optOut": {"type": "boolean"},
        "mood": {"enum": ["ok", "bad"]},
    },
    "required": ["objectiveMet"],
}


def test_results_and_opt_outs_flow_from_the_simulated_provider(
    celery_processes, make_campaign, provider
) -> None:
    provider.settings = {
        "seed": 5,
        "mix": {"answered": 100},
        "analysisMix": {"objectiveMet": 60, "objectiveNotMet": 20, "optOut": 20},
    }
    provider.save()
    celery_processes.worker(concurrency=2)
    celery_processes.beat()
    campaign = make_campaign(40, strategy=FAST, outcomes={"objective": "Renew.", "analysis_schema": SCHEMA})
    wait_for(
        lambda: Campaign.objects.get(pk=campaign.pk).status == "ended",
        timeout=180,
        interval=1,
        what="the campaign to end (see worker.log / beat.log)",
    )
    calls = Call.objects.filter(campaign=campaign)
    # A call's report comes after its end (as Vapi's end-of-call-report follows the ended status):
    # the campaign may end before the last report is in.
    wait_for(
        lambda: not calls.filter(report_received=False).exists(),
        timeout=60,
        what=lambda: f"the last reports ({calls.filter(report_received=False).count()} missing)",
    )
    campaign.refresh_from_db()
    assert counters(campaign) == recount(campaign)
    assert calls.filter(structured_data_valid=True).count() == 40  # one answered call each
    customers = Customer.objects.filter(campaign=campaign)
    assert campaign.customers_analysed == customers.filter(analysis__isnull=False).count() == 40
    assert campaign.customers_objective_met == customers.filter(objective_met=True).count()
    opted = customers.filter(analysis__optOut=True)
    assert opted.exists() and campaign.customers_objective_met > 0
    assert set(opted.values_list("state", "reason").distinct()) == {("skipped", "do_not_call")}
    listed = DoNotCall.objects.filter(organization=campaign.organization, source="opt-out")
    assert sorted(listed.values_list("number", flat=True)) == sorted(opted.values_list("number", flat=True))
    assert all(
        entry.call.customer.number == entry.number for entry in listed.select_related("call__customer")
    )
    states = dict(customers.values_list("state").annotate(n=Count("id")))
    assert states == {"completed": 40 - opted.count(), "skipped": opted.count()}


def test_the_simulated_provider_leaves_the_voicemail_message_the_plan_says(
    celery_processes, make_campaign, provider
) -> None:
    provider.settings = {"seed": 2, "mix": {"voicemail": 100}}
    provider.save()
    celery_processes.worker(concurrency=2)
    celery_processes.beat()
    plan = {"action": "leave-message", "message": "Please call us back.", "then": "done"}
    campaign = make_campaign(6, strategy=FAST, outcomes={"voicemail_plan": plan})
    wait_for(
        lambda: (
            Campaign.objects.get(pk=campaign.pk).status == "ended"
            and not Call.objects.filter(campaign=campaign, report_received=False).exists()
        ),
        timeout=180,
        interval=1,
        what="the campaign to end with every report in",
    )
    calls = Call.objects.filter(campaign=campaign)
    assert calls.count() == 6  # "then": "done": one call each, none retried
    assert {c.ended_reason for c in calls} == {"voicemail"}
    assert all(c.transcript == "AI: Please call us back.\n" for c in calls)
    assert all(c.analysis["voicemailMessageLeft"] is True and "left a message" in c.summary for c in calls)
    assert set(Customer.objects.filter(campaign=campaign).values_list("state", flat=True)) == {"voicemail"}
