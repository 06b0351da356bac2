"""Recurring campaigns for real: two Celery beats and a worker sweeping many times at once make a
due run exactly once, and the run then dials like any campaign."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, CampaignSeries
from dialer.tasks import make_series_runs
from tests.dialer.test_end_to_end import FAST
from tests.support import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def due_now(series: CampaignSeries) -> None:
    """Move the series (and its first run) back a day, so its run 1 (today, a minute ago) is due now."""
    now = timezone.now()
    series.first_on = now.date() - timedelta(days=1)
    series.at = (now - timedelta(minutes=1)).time().replace(second=0, microsecond=0)
    series.next_run_at = now - timedelta(minutes=1)
    series.save()
    Campaign.objects.filter(pk=series.template_id).update(series_run_on=series.first_on)


def test_a_due_run_is_made_once_while_beats_and_workers_race(
    celery_processes, make_campaign, owner, tmp_path
):
    first = make_campaign(3, strategy=FAST, name="Daily check-in")
    first = services.campaign_end(
        campaign=first, by=owner
    )  # run 0 done; its customers are copied as imported
    series = services.series_create(
        campaign=first, by=owner, frequency="daily", time_zone="UTC", at=timezone.now().time(), max_runs=5
    )
    due_now(series)
    worker = celery_processes.worker(concurrency=3)
    celery_processes.beat()
    celery_processes.start(
        "beat2", "beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat2-schedule")
    )
    for _ in range(20):  # and twenty sweeps queued at once, taken by three worker processes
        make_series_runs.delay()
    runs = Campaign.objects.filter(series=series).exclude(pk=first.pk)
    wait_for(lambda: runs.exists(), timeout=120, interval=0.5, what="the run to be made")
    log = tmp_path / "worker.log"
    wait_for(
        lambda: log.read_text(errors="replace").count("make_series_runs[") >= 2 * 20,
        timeout=120,
        interval=0.5,
        what="every queued sweep to have run (received and succeeded)",
    )
    assert worker.poll() is None
    [run] = runs
    assert run.series_run_on == timezone.now().date()
    series.refresh_from_db()
    assert (series.next_index, series.runs_skipped) == (2, 0)
    assert series.next_run_at > timezone.now()
    # The run is a campaign like any other: it starts by itself and calls its customers.
    wait_for(
        lambda: Campaign.objects.get(pk=run.pk).status == "ended",
        timeout=180,
        interval=1,
        what="the run to dial and end",
    )
    run.refresh_from_db()
    assert (run.customers_total, run.customers_dialed) == (3, 3)
