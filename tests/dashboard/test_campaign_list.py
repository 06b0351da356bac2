"""The campaigns list: rows, filters, and rows that refresh themselves only while something runs."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign
from tests.dashboard.conftest import HTMX

pytestmark = pytest.mark.django_db
POLL = 'hx-trigger="every 2s"'


def test_it_lists_each_campaign_with_status_progress_and_the_five_counters(as_viewer, campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(
        calls_queued=2, calls_in_progress=3, calls_ended=7, calls_ended_voicemail=1, customers_dialed=2
    )
    content = as_viewer.get(reverse("campaigns:list")).content.decode()
    assert reverse("campaigns:detail", args=[campaign.pk]) in content
    assert 'data-status="scheduled"' in content
    assert '<progress max="5" value="2"' in content
    for label, value in [("Queued", 2), ("In progress", 3), ("Ended", 7), ("Voicemail", 1)]:
        assert f'data-label="{label}" class="num">{value}<' in content


def test_an_htmx_request_gets_only_the_rows(as_viewer, campaign) -> None:
    full = as_viewer.get(reverse("campaigns:list"))
    fragment = as_viewer.get(reverse("campaigns:list"), **HTMX)
    assert b"<html" in full.content and b'id="campaign-rows"' in full.content
    assert b"<html" not in fragment.content
    assert (
        fragment.content.decode().lstrip().startswith("<section") or b'id="campaign-rows"' in fragment.content
    )
    assert "HX-Request" in fragment["Vary"]


def test_a_boosted_navigation_gets_the_whole_page(as_viewer, campaign) -> None:
    response = as_viewer.get(reverse("campaigns:list"), HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    assert b"<html" in response.content


def test_it_filters_by_status_and_searches_by_name(as_viewer, make_campaign, owner) -> None:
    make_campaign(2, name="Spring renewals")
    autumn = make_campaign(2, name="Autumn survey", customers=None)
    services.campaign_end(campaign=autumn, by=owner)
    names = as_viewer.get(reverse("campaigns:list"), {"q": "spring"}, **HTMX).content.decode()
    assert "Spring renewals" in names and "Autumn survey" not in names
    ended = as_viewer.get(reverse("campaigns:list"), {"status": "ended"}, **HTMX).content.decode()
    assert "Autumn survey" in ended and "Spring renewals" not in ended
    nothing = as_viewer.get(reverse("campaigns:list"), {"q": "winter"}, **HTMX).content.decode()
    assert "No campaign matches" in nothing


def test_it_pages_by_25(as_viewer, make_campaign) -> None:
    for i in range(27):
        make_campaign(1, name=f"Campaign {i:02d}")
    first = as_viewer.get(reverse("campaigns:list")).content.decode()
    assert "Page 1 of 2" in first and "Campaign 26" in first and "Campaign 01" not in first
    second = as_viewer.get(reverse("campaigns:list"), {"page": 2}).content.decode()
    assert "Campaign 01" in second and "Campaign 00" in second


def test_the_rows_poll_only_while_a_campaign_runs(as_viewer, campaign, owner) -> None:
    assert POLL not in as_viewer.get(reverse("campaigns:list")).content.decode()
    services.campaign_start(campaign=campaign, by=owner)
    assert POLL in as_viewer.get(reverse("campaigns:list")).content.decode()
    services.campaign_end(campaign=Campaign.objects.get(pk=campaign.pk), by=owner)
    fragment = as_viewer.get(reverse("campaigns:list"), **HTMX).content.decode()
    assert POLL not in fragment and "hx-get" not in fragment.split(">", 1)[0]


def test_a_refresh_that_would_change_nothing_answers_204(as_viewer, running) -> None:
    fragment = as_viewer.get(reverse("campaigns:list"), **HTMX).content.decode()
    version = fragment.split("v=", 1)[1].split('"', 1)[0]
    assert as_viewer.get(reverse("campaigns:list"), {"v": version}, **HTMX).status_code == 204
    Campaign.objects.filter(pk=running.pk).update(calls_queued=1)
    changed = as_viewer.get(reverse("campaigns:list"), {"v": version}, **HTMX)
    assert changed.status_code == 200 and b'data-label="Queued" class="num">1<' in changed.content


def test_the_next_event_says_when_a_campaign_starts_in_the_organizations_zone(
    as_viewer, org, make_campaign
) -> None:
    org.time_zone = "Europe/Paris"
    org.save()
    at = (timezone.now() + timedelta(days=2)).replace(hour=7, minute=0, second=0, microsecond=0)  # 07:00 UTC
    make_campaign(1, name="Later", earliest_at=at, strategy={"auto_start": True})
    content = as_viewer.get(reverse("campaigns:list")).content.decode()
    local = at.astimezone(ZoneInfo("Europe/Paris"))
    assert f"starts {local.day} {local:%b %H:%M %Z}" in content  # a date and a zone, never a bare time


def test_the_next_event_explains_a_waiting_campaign(as_viewer, running) -> None:
    until = timezone.now() + timedelta(hours=3)
    Campaign.objects.filter(pk=running.pk).update(waiting_reason="outside_calling_hours", waiting_until=until)
    content = as_viewer.get(reverse("campaigns:list")).content.decode()
    assert "waiting: outside the campaign&#x27;s calling hours (UTC) until" in content


def test_a_campaign_waiting_for_start_says_so(as_viewer, campaign) -> None:
    assert "waits for Start" in as_viewer.get(reverse("campaigns:list")).content.decode()
