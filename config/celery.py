"""The Celery application. Settings come from Django's (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# filesystem:// uses our atomic-write subclass of kombu's transport (see config/broker.py).
TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dialdeck")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
