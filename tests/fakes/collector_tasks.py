"""The project's Celery app with one task more, which writes how the cyclic collector of the worker
process that runs it is set (tests/test_collector.py). Started as `celery -A tests.fakes.collector_tasks`."""

from __future__ import annotations

import gc
import json
from pathlib import Path

from config.celery import app


@app.task
def collector_state(path: str) -> None:
    state = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}
    Path(path).write_text(json.dumps(state))
