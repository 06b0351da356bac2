"""Helpers for tests that run real processes: Celery workers and beat, live servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest


def isolate_celery() -> str:
    """Point this process's Celery app, and every process it starts, at a queue of its own."""
    from django.conf import settings

    from config.celery import app
    from config.settings import filesystem_broker_options

    run = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
    queue = f"dialdeck-test-{run}"
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = queue
    app.conf.task_default_queue = queue
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = Path(tempfile.gettempdir()) / f"dialdeck-broker-{run}"
        os.environ["CELERY_BROKER_DIR"] = str(folder)
        app.conf.broker_transport_options = filesystem_broker_options(folder)
    return run


def database_url_for_processes() -> str:
    """The URL of the database this test run uses, for processes we start (workers, servers)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_processes(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # The local fake providers listen on 127.0.0.1: workers may send there, as this process may.
        "PROVIDER_ALLOWED_HOSTS": ",".join(settings.PROVIDER_ALLOWED_HOSTS),
    }
    env.update(extra)
    return env


class Processes:
    """Start Celery worker/beat processes against the test database; stop them at teardown."""

    def __init__(self, log_dir: Path, *, run_id: str) -> None:
        self.log_dir = log_dir
        self.run_id = run_id
        self.running: list = []

    def start(self, name: str, *args: str, app: str = "config", **env: str):
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", app, *args],
            env=process_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).parent.parent,
        )
        self.running.append((proc, log))
        return proc

    def worker(self, name: str = "worker", concurrency: int = 2, app: str = "config", **env: str):
        return self.start(
            name,
            "worker",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}-{self.run_id}@%h",
            app=app,
            **env,
        )

    def beat(self, **env: str):
        schedule = self.log_dir / "celerybeat-schedule"
        return self.start("beat", "beat", "--loglevel", "INFO", "--schedule", str(schedule), **env)

    def stop(self) -> None:
        for proc, _ in self.running:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, log in self.running:
            try:
                proc.wait(timeout=15)
            except Exception:  # noqa: BLE001
                proc.kill()
                proc.wait()
            log.close()
        self.running = []

    def logs(self) -> str:
        files = sorted(self.log_dir.glob("*.log"))
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in files)


def wait_for(
    condition, *, timeout: float = 60.0, interval: float = 0.2, what: str | Callable[[], str] = "condition"
):
    """Poll until `condition()` is truthy; fail the test with `what` after `timeout` seconds
    (`what` may be a function: then it says, at that moment, where things stand)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what() if callable(what) else what}")


def nested(depth: int) -> dict:
    """A JSON object `depth` levels deep. orjson parses up to 1,024 levels and writes up to 254;
    a recursive walk in Python fails from about 500."""
    value: dict = {"leaf": "x"}
    for _ in range(depth):
        value = {"deeper": value}
    return value
