"""Shared by the benchmarks: Django on the benchmark database, timing, and the results file.

Benchmarks run on PostgreSQL (and Redis where a broker is involved), the production
pair: DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/dialdeck_bench and
CELERY_BROKER_URL to redis://127.0.0.1:6379/9. With BENCH_STACK=embedded (run_all.py
--embedded) they run on the embedded defaults instead, SQLite and kombu's filesystem broker under
var/bench/, and every figure's name says "[SQLite]". Each prints its figure, the raw baseline
it measured in the same run, and their ratio, and appends a row to bench/out/results.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/dialdeck_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/9"


def fresh_tables(*tables: str) -> None:
    """The earlier runs' rows, just deleted, cleared: the tables and their indexes rewritten
    without them and the planner's statistics refreshed, so a run pays for none of the runs
    before it. VACUUM FULL, not VACUUM: a plain one leaves the indexes as large as the earlier
    runs made them (every run updates each call four times, each update a new entry in every
    index). PostgreSQL here runs without autovacuum (CI's configuration), so nothing else clears
    them; a long-lived table carries such bloat only as far as autovacuum and a periodic REINDEX
    let it (README, Performance). SQLite: statistics only."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM (FULL, ANALYZE) {', '.join(tables)}")
        else:
            cursor.execute("ANALYZE")


def setup_django() -> None:
    """Configure Django for the benchmark database, creating and migrating it when needed.

    First, as `make run` does, `manage.py prepare_local`: the var folder (beat's schedule) and,
    unless SECRET_KEY is set, the development key, which this process and every process it
    starts then read (settings write nothing themselves)."""
    if embedded():
        folder = ROOT / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
        os.environ.setdefault("CELERY_BROKER_URL", "filesystem://")
        os.environ.setdefault("CELERY_BROKER_DIR", str(folder / "broker"))
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("CELERY_BROKER_URL", DEFAULT_BROKER_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    subprocess.run([sys.executable, "manage.py", "prepare_local", "--verbosity", "0"], cwd=ROOT, check=True)
    _create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def draft_campaign(org, name: str):
    """A campaign of `org` that does not start by itself, made through the services as the API
    would, with one seed customer, calling from the organization's simulated caller ID."""
    from campaigns import services
    from campaigns.models import PhoneNumber, ProviderAccount

    account, _ = ProviderAccount.objects.get_or_create(organization=org, name="sim", kind="simulated")
    caller, _ = PhoneNumber.objects.get_or_create(
        organization=org, number="+14155550100", deleted_at=None, defaults={"provider_account": account}
    )
    data = services.CampaignInput(
        name=name,
        assistant_id="a",
        phone_number_id=str(caller.pk),
        customers=[services.CustomerInput(number="+14155550000", source="seed")],
        strategy={"auto_start": False},
    )
    return services.campaign_create(organization=org, by=None, data=data)


def embedded() -> bool:
    """Whether this run measures the embedded stack (SQLite + the filesystem broker)."""
    return os.environ.get("BENCH_STACK", "") == "embedded"


def _create_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def raw_dsn() -> str:
    """The benchmark database as a libpq URL, for raw psycopg baselines."""
    return os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    elapsed: list[float] = []
    yield lambda: elapsed[0] if elapsed else time.perf_counter() - start
    elapsed.append(time.perf_counter() - start)


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def report(name: str, value: float, unit: str, baseline: float | None = None, note: str = "") -> dict:
    """Print one figure with its baseline and ratio, and append it to bench/out/results.json."""
    if embedded():
        name = f"{name} [SQLite]"
    ratio = (value / baseline) if baseline else None
    row = {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": round(baseline, 3) if baseline else None,
        "ratio": round(ratio, 3) if ratio is not None else None,
    }
    text = f"{name}: {value:,.2f} {unit}"
    if baseline:
        text += f"  (baseline {baseline:,.2f} {unit}, ratio {ratio:.2f})"
    if note:
        text += f"  [{note}]"
    print(text, flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    results = OUT / "results.json"
    rows = json.loads(results.read_text()) if results.exists() else []
    rows = [r for r in rows if r["name"] != name] + [row]
    results.write_text(json.dumps(rows, indent=2))
    return row


def fail(message: str) -> None:
    print(f"FAILED: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def wait_for_file(path: Path, size: int, timeout: float, log: str = "") -> float:
    """Seconds (perf_counter) at which `path` reached `size` bytes; fails after `timeout`."""
    deadline = time.perf_counter() + timeout
    while True:
        now = time.perf_counter()
        if path.exists() and path.stat().st_size >= size:
            return now
        if now > deadline:
            got = path.stat().st_size if path.exists() else 0
            fail(
                f"{got} of {size} no-op tasks ran within {timeout:.0f}s\n"
                + (Path(log).read_text()[-3000:] if log else "")
            )
        time.sleep(0.002)


# -- Celery processes of the benchmarks, on a private queue (CELERY_TASK_DEFAULT_QUEUE) -------------


class _Process(ABC):
    """A command of ours in the background, its output in a log file; stopped on exit."""

    log: Path

    @abstractmethod
    def command(self) -> list[str]:
        """The command line (Workers: a Celery worker; Beat: celery beat)."""

    def __enter__(self):
        env = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        self._log = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.command(), env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )
        return self

    def tail(self) -> str:
        text = self.log.read_text(errors="replace")
        if "Connection to broker lost" in text:
            return "lost its broker connection (was Redis restarted?)\n" + text[-3000:]
        return text[-3000:]

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


class Workers(_Process):
    """`celery worker -c <n>` on the bench queue, with bench.tasks included (the Procfile's worker
    is `-c 2`)."""

    def __init__(self, concurrency: int, folder: Path) -> None:
        self.concurrency, self.log = concurrency, folder / "worker.log"

    def command(self) -> list[str]:
        return [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "--include", "bench.tasks"),
            *("-c", str(self.concurrency), "-Q", os.environ["CELERY_TASK_DEFAULT_QUEUE"], "-l", "WARNING"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"bench-{os.getpid()}@%h"),
        ]

    def ready(self, timeout: float = 60) -> None:
        """Return once the worker has run `concurrency` no-op tasks (bench.tasks.noop): its pool
        is up, so nothing measured afterwards shares the machine with its start (its imports,
        its processes). Which process ran each task is the pool's choice."""
        from bench.tasks import noop

        path = self.log.parent / "ready.count"
        for _ in range(self.concurrency):
            noop.delay(str(path))
        wait_for_file(path, self.concurrency, timeout=timeout, log=str(self.log))


class Beat(_Process):
    """`celery beat` with the project's schedule (config/settings.py CELERY_BEAT_SCHEDULE), sending
    to the bench queue; its schedule file in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.log = folder, folder / "beat.log"

    def command(self) -> list[str]:
        schedule = str(self.folder / "celerybeat-schedule")
        return [sys.executable, "-m", "celery", "-A", "config", "beat", "-s", schedule, "-l", "WARNING"]
