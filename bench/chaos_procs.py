"""The chaos run's processes: start, SIGKILL, restart, and always clean up.

Each process runs in a session (process group) of its own, so a kill takes its children with it
(a Celery worker's pool, gunicorn's workers) exactly like an OOM kill or a lost container, and so
Ctrl-C in the terminal reaches only the chaos script, which then stops them all itself.
Each process's output is appended to <log_dir>/<name>.log, with a line marking every (re)start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def http_answers(url: str) -> bool:
    """Whether a web server answers `url` with any HTTP status (an error status counts)."""
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


class Proc:
    """One process of the run. `ready_line`, when given, is what the process prints once it has
    started up (a Celery worker's "ready."): `ready_after()` says whether it has, and how long it took."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        cwd: Path,
        log_dir: Path,
        ready_line: bytes = b"",
    ) -> None:
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.log_path = log_dir / f"{name}.log"
        self.ready_line = ready_line
        self.popen: subprocess.Popen | None = None
        self.starts = 0
        self.finished = True  # no group of ours to signal (never started, or stopped and reaped)
        self.started_at = 0.0
        self.ready_at: float | None = None
        self._log_from = 0  # where this start's output begins in the log

    def start(self) -> None:
        self.starts += 1
        self.finished = False
        self.started_at, self.ready_at = time.monotonic(), None
        with self.log_path.open("ab") as log:
            log.write(f"\n=== chaos: start #{self.starts} of {self.name} at {time.strftime('%X')}\n".encode())
            log.flush()
            self._log_from = log.tell()
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def ready_after(self) -> float | None:
        """Seconds this start took to print its ready line (as first seen here), or None if it
        has not yet (or has no ready line to print)."""
        if self.ready_at is None and self.ready_line and self.alive():
            with self.log_path.open("rb") as log:
                log.seek(self._log_from)
                if self.ready_line in log.read():
                    self.ready_at = time.monotonic()
        return None if self.ready_at is None else self.ready_at - self.started_at

    def signal_group(self, sig: int) -> None:
        if self.popen is None or self.finished:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)  # the group id is the leader's pid (start_new_session)

    def kill(self) -> None:
        """SIGKILL the process and its children, and reap it."""
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)
        self.finished = True
        with self.log_path.open("ab") as log:
            log.write(f"=== chaos: SIGKILLed {self.name} at {time.strftime('%X')}\n".encode())

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (warm shutdown), then SIGKILL whatever is left of the group."""
        if self.alive():
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)  # type: ignore[union-attr]
        self.signal_group(signal.SIGKILL)  # stragglers in the group, if any
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=5)
        self.finished = True


class Fleet:
    """Every process the run started, stopped together however the run ends."""

    def __init__(self) -> None:
        self.procs: list[Proc] = []

    def add(self, proc: Proc) -> Proc:
        self.procs.append(proc)
        proc.start()
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.alive():
                proc.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.procs:
            proc.stop(timeout=max(0.1, deadline - time.monotonic()))

    def dead(self) -> list[str]:
        return [p.name for p in self.procs if not p.alive()]


class Redis:
    """The broker's Redis: restart it (no persistence, so its queues are lost, as in a crash)."""

    START = (
        'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port {port} --save "" --appendonly no '
        "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
    )

    def __init__(self, broker_url: str) -> None:
        parts = urlsplit(broker_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.db = int((parts.path or "/0").strip("/") or 0)
        self.down_since: float | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        argv = ["redis-cli", "-h", self.host, "-p", str(self.port), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=10)

    def up(self) -> bool:
        try:
            return self.cli("ping").stdout.strip() == "PONG"
        except (OSError, subprocess.TimeoutExpired):
            return False

    def restart(self) -> float:
        """Shut Redis down without saving and start it again. Returns the seconds it was down."""
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise RuntimeError(f"refusing to restart a Redis that is not local ({self.host})")
        self.down_since = time.monotonic()
        self.cli("shutdown", "nosave")
        while self.up() and time.monotonic() - self.down_since < 10:
            time.sleep(0.05)
        return self.ensure_up()

    def forget(self, queue: str) -> int:
        """Delete the keys of one queue (the list and kombu's bindings); other keys are left alone."""
        import redis

        client = redis.Redis(host=self.host, port=self.port, db=self.db)
        keys = list(client.scan_iter(match=f"*{queue}*"))
        return client.delete(*keys) if keys else 0

    def ensure_up(self) -> float:
        """Start Redis if we took it down; returns how long it was down (0 if it never was)."""
        if self.down_since is None:
            return 0.0
        command = os.environ.get("CHAOS_REDIS_START") or self.START.format(port=self.port)
        subprocess.run(command, shell=True, check=False, capture_output=True, timeout=20)
        deadline = time.monotonic() + 20
        while not self.up():
            if time.monotonic() > deadline:
                raise RuntimeError(f"Redis did not come back: tried {command!r}")
            time.sleep(0.05)
        down, self.down_since = time.monotonic() - self.down_since, None
        return down
