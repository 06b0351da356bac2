"""Dialing settings while a campaign runs (issue 17): hours, concurrency, pacing and priority,
changed without a pause, applied from the dispatcher's next pass, audited; errors beside fields."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import AuditEvent, Campaign

pytestmark = pytest.mark.django_db

URL = "campaigns:dialing-settings"


def form(campaign: Campaign, **changes: str) -> dict[str, str]:
    data = {
        "time_zone": campaign.time_zone,
        "max_concurrent_calls": str(campaign.max_concurrent_calls),
        "calls_per_minute": str(campaign.calls_per_minute or ""),
        "priority": str(campaign.priority),
    }
    return data | changes


def test_a_running_campaigns_hours_and_concurrency_change_without_a_pause(as_manager, running) -> None:
    page = as_manager.get(reverse(URL, args=[running.pk]))
    assert page.status_code == 200 and "Calls at the same time" in page.content.decode()
    data = form(running, max_concurrent_calls="3", calls_per_minute="20")
    data |= {"hours_mon_on": "on", "hours_mon_start": "09:00", "hours_mon_end": "17:00"}
    response = as_manager.post(reverse(URL, args=[running.pk]), data)
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.status == "in-progress"
    assert (running.max_concurrent_calls, running.calls_per_minute) == (3, 20)
    assert running.calling_hours == [{"day": "mon", "start": "09:00", "end": "17:00"}]
    audit = AuditEvent.objects.filter(action="campaign.update", target_id=str(running.pk)).latest(
        "created_at"
    )
    assert audit.after["max_concurrent_calls"] == 3
    detail = as_manager.get(reverse("campaigns:detail", args=[running.pk])).content.decode()
    assert "Dialing settings" in detail


def test_refusals_are_said_beside_their_fields_and_nothing_is_saved(as_manager, running) -> None:
    before = (running.max_concurrent_calls, running.calling_hours)
    data = form(running, max_concurrent_calls="0") | {"hours_tue_on": "on", "hours_tue_start": "09:00"}
    response = as_manager.post(reverse(URL, args=[running.pk]), data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Ensure this value is greater than or equal to 1" in page
    assert "Give a time, or untick the day." in page
    running.refresh_from_db()
    assert (running.max_concurrent_calls, running.calling_hours) == before


def test_an_ended_campaign_has_no_dialing_settings(as_manager, running, owner) -> None:
    from campaigns import services

    services.campaign_end(campaign=running, by=owner)
    response = as_manager.post(reverse(URL, args=[running.pk]), form(running, max_concurrent_calls="3"))
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.max_concurrent_calls != 3
