"""A campaign on Twilio, for real: a live Dialdeck server, a real Celery worker and beat, and a fake
Twilio that answers Calls.json and posts its signed status and AMD callbacks back over HTTP."""

from __future__ import annotations

import pytest
from django.db.models import Count

from campaigns import services
from campaigns.models import Call, Campaign
from tests.fakes.dialdeck_side import caller_on, counters, provider_account, recount, vapi_campaign
from tests.fakes.twilio_server import FakeTwilio
from tests.support import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def outcome(form: dict) -> str:
    """Numbers ending in 3 are busy the first time, in 7 unanswered the first time; 5 reach a machine."""
    last = form["To"][-1]
    first = form["To"] not in seen
    seen.add(form["To"])
    if last == "3" and first:
        return "busy"
    if last == "7" and first:
        return "no-answer"
    return "voicemail" if last == "5" else "answered"


seen: set[str] = set()


def test_a_20_customer_campaign_runs_to_the_end_on_twilio_with_machine_detection(
    live_server, celery_processes, org, settings
) -> None:
    settings.SITE_URL = live_server.url  # the URL Twilio signs is the one we check against
    seen.clear()
    with FakeTwilio() as twilio:
        twilio.outcome = outcome
        twilio.deliveries = 2  # every callback twice: recorded once
        twilio.fail_next(1, status=429, retry_after=1)
        twilio.fail_next(1, status=500)
        account = provider_account(org, "twilio", twilio, voicemail_message="Acme here, please call back.")
        celery_processes.worker(concurrency=2, SITE_URL=live_server.url)
        celery_processes.beat(SITE_URL=live_server.url)
        people = [services.CustomerInput(number=f"+1415555{i:04d}", name=f"P{i}") for i in range(20)]
        campaign = vapi_campaign(
            caller_on(account),
            people,
            strategy={"max_concurrent_calls": 8, "retry_voicemail": False, "machine_detection": True},
        )

        wait_for(
            lambda: Campaign.objects.get(pk=campaign.pk).status == "ended",
            timeout=240,
            what=f"the campaign to end (logs: {celery_processes.log_dir})",
        )
        wait_for(lambda: len(twilio.updates) == 2, timeout=120, what="the two voicemail drops")
        twilio.settle(timeout=120)
        wait_for(
            lambda: not Call.objects.filter(campaign=campaign, report_received=False).exists(),
            timeout=120,
            what="every call's final callback recorded",
        )

    campaign.refresh_from_db()
    states = dict(campaign.customers.values_list("state").annotate(n=Count("id")))
    assert states == {"completed": 18, "voicemail": 2}
    calls = Call.objects.filter(campaign=campaign)
    assert calls.count() == 20 + 4  # two busy and two unanswered the first time, called again
    assert twilio.placed_counts() == {str(pk): 1 for pk in calls.values_list("pk", flat=True)}
    assert len(twilio.creates()) == 24 + 2  # and the 429 and the 500, retried
    assert calls.filter(ended_reason="voicemail").count() == 2
    assert sorted(u["Twiml"].count("<Say>Acme here, please call back.</Say>") for u in twilio.updates) == [
        1,
        1,
    ]
    assert {d.answer for d in twilio.webhooks} == {200}
    assert calls.filter(ended_reason="customer-busy").count() == 2
    assert calls.filter(ended_reason="customer-did-not-answer").count() == 2
    assert counters(campaign) == recount(campaign)
