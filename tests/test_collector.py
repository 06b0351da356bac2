"""The cyclic collector of the long-lived processes is settled once before they take work
(config/collector.py): what they loaded frozen, the youngest generation collected after
GEN0_THRESHOLD new containers. Checked in real processes: a gunicorn worker on the project's
config, and a Celery worker's pool process running a task."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from config import collector
from tests.support import wait_for

ROOT = Path(__file__).resolve().parent.parent


def env() -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "collector-test-key"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_state(*config: str) -> dict:
    """How the collector of a gunicorn worker serving tests/fakes/collector_probe.py is set."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "tests.fakes.collector_probe:application", *config]
    server = subprocess.Popen(
        [*argv, "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    return json.load(answer)
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not answer: {server.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_a_web_worker_on_the_project_config_freezes_what_it_loaded_and_collects_young_objects_late() -> None:
    settled = served_state("--config", "config/gunicorn.conf.py")
    assert settled["threshold"][0] == collector.GEN0_THRESHOLD
    assert settled["frozen"] > 10_000  # Django, the views, phonenumbers' metadata
    # The same worker without the project's config keeps CPython's defaults: the hook does it.
    plain = served_state()
    assert plain["threshold"][0] == 700
    assert plain["frozen"] == 0


@pytest.mark.worker
def test_a_celery_worker_process_settles_its_collector_before_it_takes_a_task(
    celery_processes, tmp_path
) -> None:
    from tests.fakes.collector_tasks import collector_state

    celery_processes.worker(concurrency=1, app="tests.fakes.collector_tasks")
    answer = tmp_path / "state.json"
    collector_state.delay(str(answer))
    wait_for(answer.exists, timeout=60, what=lambda: f"the worker's answer\n{celery_processes.logs()}")
    state = json.loads(answer.read_text())
    assert state["threshold"][0] == collector.GEN0_THRESHOLD
    assert state["frozen"] > 10_000
