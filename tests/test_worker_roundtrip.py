"""A real Celery worker, started by the test against the configured broker, runs a task."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from dialer import tasks
from tests.support import wait_for

pytestmark = pytest.mark.worker


def test_a_real_worker_runs_the_dialer_tick(celery_processes, make_campaign) -> None:
    campaign = make_campaign(2)  # scheduled, no schedulePlan: due at once
    worker = celery_processes.worker()
    tasks.tick.delay()
    started = wait_for(
        lambda: Campaign.objects.get(pk=campaign.pk).status != "scheduled",
        timeout=60,
        what=f"the worker to run tick (logs: {celery_processes.log_dir})",
    )
    assert started
    assert worker.poll() is None, celery_processes.logs()
