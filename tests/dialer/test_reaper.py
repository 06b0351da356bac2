"""The reaper closes calls the provider never finished telling us about, so no line is leaked."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, Campaign, Customer
from dialer import claims
from dialer.dispatch import dispatch_campaign
from dialer.models import SimulatedEvent
from dialer.placement import REAPED_REASON, place_many, reap_stale_calls

pytestmark = pytest.mark.django_db(transaction=True)

ANY_TIME = {"respect_recipient_time_zone": False, "max_attempts": 2, "max_concurrent_calls": 2}


@pytest.fixture
def placed(make_campaign, owner) -> Call:
    campaign = services.campaign_start(campaign=make_campaign(2, strategy=ANY_TIME), by=owner)
    call_ids: list[str] = []
    dispatch_campaign(campaign, enqueue=call_ids.extend)
    for call_id in call_ids:
        assert place_many([call_id])[0][1] is None
    return Call.objects.get(pk=call_ids[0])


def age(call: Call, seconds: int) -> None:
    """As if the call had been queued, taken and placed `seconds` ago."""
    then = timezone.now() - timedelta(seconds=seconds)
    Call.objects.filter(pk=call.pk).update(created_at=then)
    Call.objects.filter(pk=call.pk, placing_at__isnull=False).update(placing_at=then)
    Call.objects.filter(pk=call.pk, placed_at__isnull=False).update(placed_at=then)


def test_a_young_call_is_left_alone(placed) -> None:
    assert reap_stale_calls() == 0
    placed.refresh_from_db()
    assert placed.status == "queued" and placed.provider_call_id.startswith("sim-")


def test_a_call_whose_callbacks_were_lost_is_closed_and_its_line_freed(placed) -> None:
    SimulatedEvent.objects.filter(payload__call_id=str(placed.pk)).delete()  # the provider forgot it
    age(placed, 30 + 600 + 121)
    assert reap_stale_calls() == 1
    placed.refresh_from_db()
    assert (placed.status, placed.ended_reason) == ("ended", REAPED_REASON)
    assert placed.log.filter(kind="note", summary__contains=REAPED_REASON).exists()
    campaign = Campaign.objects.get(pk=placed.campaign_id)
    assert (campaign.calls_queued, campaign.calls_ended) == (1, 1)
    assert Customer.objects.get(pk=placed.customer_id).state == "pending"  # retried per policy


def test_the_reaper_asks_the_provider_first_and_takes_its_answer(placed) -> None:
    age(placed, 30 + 600 + 121)
    reap_stale_calls()
    placed.refresh_from_db()
    assert placed.status == "ended"
    assert placed.ended_reason != REAPED_REASON  # the provider knew how it ended
    assert not SimulatedEvent.objects.filter(payload__call_id=str(placed.pk)).exists()


def test_a_call_whose_worker_died_before_sending_it_is_placed_again_not_closed(make_campaign, owner) -> None:
    campaign = services.campaign_start(campaign=make_campaign(1, strategy=ANY_TIME), by=owner)
    call_ids: list[str] = []
    dispatch_campaign(campaign, enqueue=call_ids.extend)
    [taken] = claims.take([call_ids[0]])  # a worker takes it, then is killed
    Call.objects.filter(pk=taken.pk).update(placing_at=timezone.now() - timedelta(minutes=5))
    assert reap_stale_calls() == 0
    assert place_many([call_ids[0]])[0][1] is None  # the next try (the tick's re-send) places it
    call = Call.objects.get(pk=call_ids[0])
    assert call.provider_call_id.startswith("sim-") and call.attempt == 1
    assert call.log.filter(kind="request").count() == 1


def test_a_stalled_worker_cannot_send_a_call_handed_to_another(make_campaign, owner) -> None:
    campaign = services.campaign_start(campaign=make_campaign(1, strategy=ANY_TIME), by=owner)
    call_ids: list[str] = []
    dispatch_campaign(campaign, enqueue=call_ids.extend)
    [stalled] = claims.take([call_ids[0]])
    services.call_release_stalled(taken_before=timezone.now() + timedelta(seconds=1))  # looked dead
    assert place_many([call_ids[0]])[0][1] is None  # a second worker places it
    # The first one wakes up: its gate finds the call no longer its own, so it may not send.
    assert claims.confirm_at_gate([(stalled, "POST /call", "{}")]) == []
    assert Call.objects.get(pk=call_ids[0]).log.filter(kind="request").count() == 1


def test_a_call_placed_long_after_it_was_queued_is_not_overdue_while_it_rings(placed) -> None:
    Call.objects.filter(pk=placed.pk).update(created_at=timezone.now() - timedelta(seconds=30 + 600 + 121))
    assert reap_stale_calls() == 0  # its clock runs from placing: closing it now would free its line
    placed.refresh_from_db()  # while the person is still on the phone, and let the retry ring them again
    assert placed.status == "queued" and placed.provider_call_id.startswith("sim-")


def test_a_call_that_never_left_us_is_never_closed_as_an_attempt(make_campaign, owner) -> None:
    campaign = services.campaign_start(campaign=make_campaign(1, strategy=ANY_TIME), by=owner)
    call_ids: list[str] = []
    dispatch_campaign(campaign, enqueue=call_ids.extend)  # its task is lost: no worker ever takes it
    age(Call.objects.get(pk=call_ids[0]), 30 + 600 + 121)
    assert reap_stale_calls() == 0
    assert place_many([call_ids[0]])[0][1] is None  # the tick's re-send places it
    call = Call.objects.get(pk=call_ids[0])
    assert call.provider_call_id.startswith("sim-") and call.attempt == 1


def test_beat_asks_often_and_a_completed_run_holds_the_next_back_but_a_killed_one_does_not(placed) -> None:
    """dialer.tasks.reap_stale_calls: asked every few seconds; after a completed run the next ones
    skip until REAP_EVERY_SECONDS have passed; a run that never completed (its worker was killed)
    holds nothing back."""
    from django.core.cache import cache

    from dialer import tasks

    cache.delete("dialer:reaped-at")
    SimulatedEvent.objects.filter(payload__call_id=str(placed.pk)).delete()
    age(placed, 30 + 600 + 121)
    tasks.reap_stale_calls()  # a completed run: the lost call is closed
    placed.refresh_from_db()
    assert placed.status == "ended"
    second = Call.objects.filter(campaign_id=placed.campaign_id, status="queued").first()
    SimulatedEvent.objects.filter(payload__call_id=str(second.pk)).delete()
    age(second, 30 + 600 + 121)
    tasks.reap_stale_calls()  # asked again at once: skipped
    second.refresh_from_db()
    assert second.status == "queued"
    cache.set("dialer:reaped-at", time.time() - tasks.REAP_EVERY_SECONDS - 1)  # the period is over
    tasks.reap_stale_calls()
    second.refresh_from_db()
    assert second.status == "ended"
