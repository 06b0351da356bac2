"""The Celery application. Settings come from Django's (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init, worker_process_init
from kombu.transport import TRANSPORT_ALIASES

# filesystem:// uses our atomic-write subclass of kombu's transport (see config/broker.py).
TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dialdeck")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery's Django fixup closes every database connection before and after each task unless told
# to reuse them: each placement batch would open a new PostgreSQL backend (a fork, and cold
# catalog caches). Tasks treat connections as Django treats requests instead: closed when older
# than CONN_MAX_AGE or broken (CONN_HEALTH_CHECKS), kept otherwise.
app.conf.update(CELERY_DB_REUSE_MAX=2**62)


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(**kwargs) -> None:
    from django.db import close_old_connections

    close_old_connections()


@worker_init.connect
def _load_region_data(**kwargs) -> None:
    """The worker, before it forks its processes: the callee regions' data loaded once, shared by
    every process (each would otherwise load it, 0.7 s, at its first dispatch or gate)."""
    from campaigns import phone

    phone.load_region_data()


@worker_process_init.connect
def _settle_collector(**kwargs) -> None:
    """Each worker process, once it is forked and before it takes a task: the cyclic collector
    settled as the web workers' is (config/collector.py). It took ~20% of a recording
    worker's CPU at CPython's defaults."""
    from config import collector

    collector.settle()
