"""The wallboard's reads: snapshots a minute apart, trends over a campaign's life, the overview."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import selectors, services
from campaigns.models import CallerIdPoolEntry, Campaign, CampaignSnapshot, PhoneNumber
from tests.dashboard.conftest import HTMX

pytestmark = pytest.mark.django_db


def test_a_snapshot_is_taken_once_a_minute_for_running_campaigns_only(running, make_campaign) -> None:
    make_campaign(2, name="Not started")
    now = timezone.now().replace(second=10)
    assert services.campaign_snapshots_take(now=now) == 1
    assert services.campaign_snapshots_take(now=now + timedelta(seconds=30)) == 0  # same minute
    assert services.campaign_snapshots_take(now=now + timedelta(minutes=1)) == 1
    assert CampaignSnapshot.objects.filter(campaign=running).count() == 2


def test_the_trend_gives_the_rates_of_the_calls_ended_between_points(running) -> None:
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=10)
    Campaign.objects.filter(pk=running.pk).update(
        calls_ended=10, calls_ended_answered=8, calls_ended_failed=1
    )
    services.campaign_snapshots_take(now=start)
    Campaign.objects.filter(pk=running.pk).update(
        calls_ended=20, calls_ended_answered=10, calls_ended_failed=6, calls_cost=Decimal("2.50")
    )
    running.refresh_from_db()
    points = selectors.campaign_trend(running, timezone.now())
    assert [(p.calls_ended, p.answer_rate, p.failed_rate) for p in points] == [(10, 0.8, 0.1), (20, 0.2, 0.5)]
    assert points[-1].cost == Decimal("2.50")


def test_rates_come_from_the_stored_counters(running) -> None:
    Campaign.objects.filter(pk=running.pk).update(
        calls_ended=10,
        calls_ended_answered=4,
        calls_ended_failed=2,
        calls_duration_seconds=400,
        calls_cost=Decimal("3.00"),
        customers_completed=3,
        customers_dialed=4,
    )
    running.refresh_from_db()
    rates = selectors.campaign_rates(running)
    assert (rates.answer_rate, rates.failed_rate, rates.average_handle_seconds) == (0.4, 0.2, 100.0)
    assert rates.cost_per_completed == Decimal("1.00") and rates.penetration == 4 / 5


def test_the_overview_shows_running_campaigns_with_rates_and_alerts(
    as_viewer, running, make_campaign, org, owner
) -> None:
    make_campaign(2, name="Not started yet")
    Campaign.objects.filter(pk=running.pk).update(
        calls_ended=20, calls_ended_failed=12, calls_ended_answered=8
    )
    services.organization_pause(organization=org, by=owner)
    content = as_viewer.get(reverse("campaigns:overview")).content.decode()
    assert "Renewals" in content and "Not started yet" not in content
    assert "60% of calls failed: check the provider" in content and "All dialing is paused" in content
    assert 'data-activity="organization_paused"' in content
    fragment = as_viewer.get(reverse("campaigns:overview"), **HTMX).content.decode()
    assert fragment.lstrip().startswith("<section") and 'hx-trigger="every 5s"' in fragment


def test_the_overview_names_rested_and_disabled_caller_ids_of_each_campaign_with_a_link(
    as_viewer, running, org
) -> None:
    own = running.phone_number
    pooled = PhoneNumber.objects.create(
        organization=org, provider_account=own.provider_account, number="+12125550199", disabled=True
    )
    CallerIdPoolEntry.objects.create(campaign=running, phone_number=pooled, position=0)
    PhoneNumber.objects.create(  # rested, but no campaign of the page dials from it
        organization=org,
        provider_account=own.provider_account,
        number="+13125550123",
        rested_at=timezone.now(),
    )
    PhoneNumber.objects.filter(pk=own.pk).update(
        rested_at=timezone.now(), rested_reason="4% of its last 50 calls answered"
    )

    content = as_viewer.get(reverse("campaigns:overview")).content.decode()

    caller_ids = reverse("campaigns:caller-ids")
    rested = f"Caller ID {own.number} rested: 4% of its last 50 calls answered"
    assert f'href="{caller_ids}#caller-{own.pk}">{rested}</a>' in content
    assert f'href="{caller_ids}#caller-{pooled.pk}">Caller ID +12125550199 disabled</a>' in content
    assert "+13125550123" not in content
    assert f'id="caller-{own.pk}"' in as_viewer.get(caller_ids).content.decode()  # where the link lands


def test_the_overview_reads_a_bounded_number_of_queries(
    as_viewer, make_campaign, owner, django_assert_max_num_queries
) -> None:
    for i in range(5):
        services.campaign_start(campaign=make_campaign(3, name=f"C{i}", customers=None), by=owner)
    # session, user, memberships, live calls, campaigns, unusable caller IDs + per campaign: 3 probes
    with django_assert_max_num_queries(6 + 5 * 3) as captured:
        assert as_viewer.get(reverse("campaigns:overview")).status_code == 200
    # The organization's live calls are counted once for the page and all its rows: at ten
    # million calls each count took 18 ms, and the page counted twice.
    live_counts = [
        q for q in captured.captured_queries if re.search(r"COUNT\(.*FROM .campaigns_call.", q["sql"])
    ]
    assert len(live_counts) == 1


def test_the_wallboard_estimates_the_finish_from_the_recent_pace_and_says_how_sure(
    as_viewer, running
) -> None:
    now = timezone.now()
    Campaign.objects.filter(pk=running.pk).update(
        calls_ended=0, customers_final=0, started_at=now - timedelta(hours=1)
    )
    services.campaign_snapshots_take(now=now - timedelta(minutes=40))
    Campaign.objects.filter(pk=running.pk).update(
        calls_ended=40, customers_final=3, customers_objective_met=1, customers_analysed=2
    )
    running.refresh_from_db()
    found = selectors.campaign_forecast(running, now)
    assert found.calls_per_minute and found.calls_per_minute > 0  # 40 calls over the last 40 minutes
    assert found.finish_at is not None and found.finish_at > now
    assert found.confidence == "low"  # 3 finished customers: said, not hidden
    page = as_viewer.get(reverse("campaigns:wallboard", args=[running.pk]), **HTMX).content.decode()
    assert "Estimated finish:" in page and "low confidence" in page
    assert 'data-rate="objective">50%' in page  # 1 of 2 customers with a result met the objective
