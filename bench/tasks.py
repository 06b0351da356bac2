"""The Celery baseline of bench_placement: a task that does nothing but say it ran.

Included in the worker with `--include bench.tasks` (bench is not a Django app, so autodiscovery
does not find it). Each run appends one byte to `path` with O_APPEND, so the producer counts
completions by the file's size without a result backend (research/stack.md §2 does the same).
"""

from __future__ import annotations

import os

from celery import shared_task


@shared_task(ignore_result=True)
def noop(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)
