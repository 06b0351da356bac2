"""The dialer for real: a Celery worker and beat run campaigns on the simulated provider."""

from __future__ import annotations

import time

import pytest
from django.db.models import Count, Max, Min
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, Campaign, CustomerState
from tests.conftest import customers
from tests.support import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FAST = {
    "respect_recipient_time_zone": False,
    "max_concurrent_calls": 100,
    "max_attempts": 3,
    "retry_delays": {"busy": 1, "noAnswer": 1, "voicemail": 1, "failed": 1},
}


def recount(campaign: Campaign) -> dict[str, int]:
    by_status = dict(Call.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")))
    return {
        "calls_scheduled": 0,
        "calls_queued": by_status.get("queued", 0),
        "calls_in_progress": sum(by_status.get(s, 0) for s in ("ringing", "in-progress", "forwarding")),
        "calls_ended": by_status.get("ended", 0),
        "calls_ended_voicemail": Call.objects.filter(campaign=campaign, ended_reason="voicemail").count(),
        "customers_final": campaign.customers.filter(
            state__in=["completed", "voicemail", "failed", "skipped", "cancelled"]
        ).count(),
    }


def counters(campaign: Campaign) -> dict[str, int]:
    campaign.refresh_from_db()
    return {key: getattr(campaign, key) for key in recount(campaign)}


def where_it_stands(campaign: Campaign) -> str:
    """What a campaign that has not ended is waiting for, for a failure to say."""
    campaign.refresh_from_db()
    customers = list(campaign.customers.values_list("state", "reason").annotate(n=Count("id")))
    calls = dict(Call.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")))
    ended = dict(Call.objects.filter(campaign=campaign).values_list("ended_reason").annotate(n=Count("id")))
    due = campaign.customers.filter(state="pending").aggregate(first=Min("next_attempt_at"))["first"]
    return (
        f"status {campaign.status} {campaign.auto_paused_reason!r}, customers (state, reason, n) "
        f"{customers}, calls by status {calls}, by endedReason {ended}, first pending due {due}, "
        f"now {timezone.now()}"
    )


def test_a_500_customer_campaign_runs_to_the_end_under_a_real_worker_and_beat(
    celery_processes, make_campaign, org
) -> None:
    org.max_concurrent_calls = 200
    org.save()
    celery_processes.worker(concurrency=2)
    celery_processes.beat()
    began = time.monotonic()
    campaign = make_campaign(500, strategy=FAST)
    wait_for(
        lambda: Campaign.objects.get(pk=campaign.pk).status == "ended",
        timeout=240,
        interval=1,
        what=lambda: f"the campaign to end (see worker.log / beat.log); {where_it_stands(campaign)}",
    )
    elapsed = time.monotonic() - began
    campaign.refresh_from_db()
    assert campaign.ended_reason == "campaign.ended.success"
    states = dict(campaign.customers.values_list("state").annotate(n=Count("id")))
    assert set(states) <= {"completed", "voicemail", "failed", "skipped"}, states
    assert sum(states.values()) == 500
    assert campaign.customers.aggregate(m=Max("attempts"))["m"] <= 3
    per_attempt = Call.objects.filter(campaign=campaign).values("customer", "attempt").annotate(n=Count("id"))
    assert max(row["n"] for row in per_attempt) == 1
    assert counters(campaign) == recount(campaign)
    assert campaign.customers_final == 500
    calls = Call.objects.filter(campaign=campaign).count()
    print(f"\n{calls} calls in {elapsed:.1f}s = {calls / elapsed:.1f} calls/s; {where_it_stands(campaign)}")


def test_pause_stops_new_calls_while_calls_in_flight_finish_and_resume_continues(
    celery_processes, make_campaign, owner
) -> None:
    celery_processes.worker(concurrency=2)
    celery_processes.beat()
    campaign = make_campaign(60, strategy={**FAST, "max_concurrent_calls": 5})
    wait_for(lambda: Call.objects.filter(campaign=campaign).exists(), timeout=60, what="the first calls")
    campaign = services.campaign_pause(campaign=Campaign.objects.get(pk=campaign.pk), by=owner)
    paused_at = timezone.now()
    wait_for(
        lambda: not Call.objects.filter(campaign=campaign).exclude(status="ended").exists(),
        timeout=60,
        what="calls in flight to finish",
    )
    time.sleep(3)  # several ticks: nothing new may start while paused
    assert not Call.objects.filter(campaign=campaign, created_at__gt=paused_at).exists()
    # Calls queued but not yet at the provider were taken back, not placed.
    assert not campaign.customers.filter(state__in=["queued", "dialing"]).exists()
    assert counters(campaign) == recount(campaign)
    services.campaign_resume(campaign=campaign, by=owner)
    wait_for(
        lambda: Call.objects.filter(campaign=campaign, created_at__gt=paused_at).exists(),
        timeout=60,
        what="dialing to continue after resume",
    )
    campaign = services.campaign_end(campaign=Campaign.objects.get(pk=campaign.pk), by=owner)
    wait_for(
        lambda: not Call.objects.filter(campaign=campaign).exclude(status="ended").exists(),
        timeout=60,
        what="calls in flight to finish after end",
    )
    campaign.refresh_from_db()
    assert campaign.ended_reason == "campaign.in-progress.ended-by-user"
    assert campaign.customers.filter(state=CustomerState.CANCELLED).exists()
    assert not campaign.customers.filter(state__in=["pending", "queued", "dialing"]).exists()
    assert counters(campaign) == recount(campaign)
    assert campaign.customers_final == 60


def test_a_dial_plan_campaign_calls_each_customer_from_its_own_caller_id(
    celery_processes, org, owner, caller_id, second_caller_id
) -> None:
    celery_processes.worker(concurrency=2)
    celery_processes.beat()
    campaign = services.campaign_create(
        organization=org,
        by=owner,
        data=services.CampaignInput(
            name="Two lines",
            squad_id="squad-1",
            strategy=FAST,
            dial_plan=[
                services.DialPlanInput(str(caller_id.pk), customers(5)),
                services.DialPlanInput(str(second_caller_id.pk), customers(5, start=100, area="212")),
            ],
        ),
    )
    wait_for(lambda: Campaign.objects.get(pk=campaign.pk).status == "ended", timeout=120, what="the end")
    first_line = set(
        Call.objects.filter(campaign=campaign, phone_number=caller_id).values_list(
            "customer__number", flat=True
        )
    )
    second_line = set(
        Call.objects.filter(campaign=campaign, phone_number=second_caller_id).values_list(
            "customer__number", flat=True
        )
    )
    assert all(n.startswith("+1415") for n in first_line) and len(first_line) == 5
    assert all(n.startswith("+1212") for n in second_line) and len(second_line) == 5
