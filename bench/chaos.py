"""The chaos run: a campaign dialed through faults, then checked for anything lost or doubled.

    make chaos                                   # 5,000 customers on Vapi
    make chaos CHAOS_ARGS="--customers 600 --small"
    make chaos CHAOS_ARGS="--small --provider twilio"    # or retell, bland, elevenlabs

Setup (numbered as it happens):
1. a fresh database (dialdeck_chaos on DATABASE_URL's server: dropped, created, migrated) and a
   Celery queue of its own on CELERY_BROKER_URL's Redis (default redis://127.0.0.1:6379/6);
2. a fake provider (Vapi: bench/chaos_fake.py; Twilio, Retell, Bland, ElevenLabs:
   bench/chaos_providers.py; each with latencies, refusals, an outcome mix, callbacks signed as the
   real one signs them, duplicated, late, reordered and partly dropped) and a campaign on it, its
   account set up as a user would (credentials, webhook URL and secret; machine detection on for
   the REST providers): caps of 100 calls, 3 attempts, retries after 1-3 s, any hour, ring 15 s +
   max duration 10 s + DIALER_REAP_GRACE_SECONDS=20, so the reaper reconciles lost webhooks
   through the provider's GET within the run;
3. gunicorn (SITE_URL points at it: webhooks come back over HTTP), Celery beat, 2 Celery workers.
Chaos while it runs: each worker is SIGKILLed (with its pool) a few seconds into its working life
and started again (the seconds counted from its "ready", so a slow machine, whose workers take
longer to start, still gives them that much time to work, and the campaign can end);
Redis is restarted once (no persistence: its queues are lost) at ~30% progress; the web server is
SIGKILLed and started again once at ~50%, while webhooks flow (the fake retries deliveries that
cannot connect for up to 20 s; it never retries one that got an HTTP answer).
Verdict once the campaign has ended and the fake is quiet (bench/chaos_checks.py): every customer
final; no customer ever in two live calls (sampled every 0.5 s, plus the database constraint); no
attempt beyond max; each call id placed at the provider once; counters equal a recount (sampled in
snapshots, and at the end); every ended provider call reflected with its endedReason; the cap held
(sampled at our side, exact at the provider's). Figures go to bench/out/chaos.json; any violation
exits 1 with a loud message. Findings (a process that died by itself, an outcome no code could have
heard of) are printed as loudly but do not fail the run. Every process is stopped however the run
ends (also Ctrl-C, SIGTERM); each one's log is under bench/out/chaos-logs/, with chaos.log, the
timeline of kills and restarts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chaos_fake import ChaosVapi  # noqa: E402
from bench.chaos_procs import Fleet, Proc, Redis, free_port, http_answers, port_open  # noqa: E402
from bench.chaos_providers import PROVIDERS, ChaosRest  # noqa: E402
from bench.chaos_watch import Watcher  # noqa: E402

OUT = ROOT / "bench" / "out"
LOGS = OUT / "chaos-logs"
CAP = 100
AREA_CODES = ["212", "312", "415", "303", "305", "206", "617", "702", "808", "907", "214", "404"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=None, help="default 5000 (600 with --small)")
    parser.add_argument("--small", action="store_true", help="CI size: fewer customers, shorter calls")
    parser.add_argument("--provider", choices=["vapi", *PROVIDERS], default="vapi", help="default vapi")
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument(
        "--kill-every",
        type=float,
        default=None,
        help="seconds a worker works, once ready, before it is killed (on average; spread ±50%%)",
    )
    parser.add_argument("--timeout", type=float, default=None, help="seconds for the campaign to end")
    args = parser.parse_args()
    args.customers = args.customers or (600 if args.small else 5000)
    args.kill_every = args.kill_every or (4.0 if args.small else 8.0)
    args.timeout = args.timeout or max(600.0, args.customers * 0.6)
    args.talk = (0.5, 3.0) if args.small else (1.0, 6.0)
    return args


def chaos_database_url() -> str:
    """dialdeck_chaos on DATABASE_URL's PostgreSQL (or the local one); never any other database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return "postgres://postgres@127.0.0.1:5432/dialdeck_chaos"
    base, _, name = url.rpartition("/")
    return url if "chaos" in name else f"{base}/dialdeck_chaos"


def broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    return url if url.startswith("redis://") else "redis://127.0.0.1:6379/6"


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.id = uuid.uuid4().hex[:8]
        self.db_url, self.broker = chaos_database_url(), broker_url()
        self.dsn = self.db_url.replace("postgres://", "postgresql://", 1)
        self.fleet, self.redis = Fleet(), Redis(self.broker)
        self.kills = 0
        self.boots: list[float] = []  # seconds each worker start took to be ready
        self.restarts: dict[str, float] = {}  # what was restarted -> seconds it was down
        self.unexpected_exits: list[str] = []
        self.began = time.monotonic()

    def note(self, text: str) -> None:
        line = f"[{time.monotonic() - self.began:7.1f}s] {text}"
        print(line, flush=True)
        with (LOGS / "chaos.log").open("a") as log:
            log.write(line + "\n")

    # -- 1. database ---------------------------------------------------------------------------

    def fresh_database(self) -> None:
        import psycopg

        base, _, name = self.dsn.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ.update(DATABASE_URL=self.db_url, CELERY_BROKER_URL=self.broker)
        os.environ["CELERY_TASK_DEFAULT_QUEUE"] = self.queue
        os.environ.setdefault("PROVIDER_ALLOWED_HOSTS", "127.0.0.1")  # the fake provider's host
        from bench.common import setup_django

        setup_django()

    @property
    def queue(self) -> str:
        return f"dialdeck-chaos-{self.id}"

    # -- 2. the campaign -----------------------------------------------------------------------

    def campaign(self, fake: ChaosVapi | ChaosRest, site: str):
        from campaigns import services
        from campaigns.models import Organization
        from tests.fakes.dialdeck_side import (
            caller_on,
            provider_account,
            vapi_account,
            vapi_caller_id,
            vapi_campaign,
        )

        org = Organization.objects.create(
            name="Chaos",
            slug=f"chaos-{self.id}",
            max_concurrent_calls=CAP,
            allow_ignoring_recipient_time=True,
        )
        if isinstance(fake, ChaosRest):
            account = provider_account(org, fake.kind, fake)
            fake.point_webhooks(f"{site}/webhooks/{account.kind}/{account.webhook_token}")
            caller = caller_on(account, provider_id="phnum_chaos" if fake.kind == "elevenlabs" else "")
        else:
            caller = vapi_caller_id(vapi_account(org, fake))
        people = [
            services.CustomerInput(
                number=f"+1{AREA_CODES[i % len(AREA_CODES)]}{2000000 + i // len(AREA_CODES):07d}",
                name=f"Person {i}",
            )
            for i in range(self.args.customers)
        ]
        strategy = {
            "max_concurrent_calls": CAP,
            "max_attempts": 3,
            "retry_delays": {"busy": 1, "noAnswer": 2, "voicemail": 3, "failed": 1},
            "retry_voicemail": False,
            "max_ring_seconds": 15,
            "max_duration_seconds": 10,
            "auto_start": False,
            "machine_detection": isinstance(fake, ChaosRest),
        }
        return vapi_campaign(caller, people, name=f"Chaos {self.id}", strategy=strategy)

    # -- 3. processes --------------------------------------------------------------------------

    def start_processes(self, site_port: int) -> tuple[Proc, list[Proc]]:
        env = {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "CELERY_BROKER_URL": self.broker,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "SITE_URL": f"http://127.0.0.1:{site_port}",
            "DIALER_REAP_GRACE_SECONDS": "20",
            "DIALER_TICK_SECONDS": "0.5",
            "PROVIDER_HTTP_TIMEOUT": "5",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONUNBUFFERED": "1",
        }
        py, kw = sys.executable, dict(env=env, cwd=ROOT, log_dir=LOGS)
        web = Proc(
            "web",
            [py, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{site_port}", "--workers", "2"]
            + ["--threads", "4", "--access-logfile", "-"],
            **kw,
        )
        schedule = LOGS / "celerybeat-schedule"
        beat = Proc(
            "beat",
            [py, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO", "-s", str(schedule)],
            **kw,
        )
        workers = [
            Proc(
                f"worker-{n}",
                [py, "-m", "celery", "-A", "config", "worker", "--concurrency", "2", "--loglevel", "INFO"]
                + ["--without-gossip", "--without-mingle", "-n", f"chaos{n}-{self.id}@%h"],
                ready_line=b" ready.\n",  # Celery's "<name>@<host> ready." once it consumes
                **kw,
            )
            for n in (1, 2)
        ]
        for proc in (web, beat, *workers):
            self.fleet.add(proc)
        self.site = env["SITE_URL"]
        self.wait_web()
        return web, workers

    def wait_web(self, timeout: float = 60) -> None:
        """Until the web server answers HTTP (a listening socket alone may be a dying one's)."""
        deadline = time.monotonic() + timeout
        while not http_answers(f"{self.site}/webhooks/vapi/chaos-ready"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web server did not answer at {self.site} within {timeout:.0f}s")
            time.sleep(0.05)

    def restart_web(self, web: Proc) -> float:
        """SIGKILL gunicorn (master and workers, requests in flight die mid-transaction), start it again.

        Returns the seconds during which webhooks could not be delivered.
        """
        down = time.monotonic()
        web.kill()
        port = int(self.site.rsplit(":", 1)[1])
        while port_open("127.0.0.1", port) and time.monotonic() - down < 10:
            time.sleep(0.02)
        web.start()
        self.wait_web()
        return time.monotonic() - down

    # -- chaos ---------------------------------------------------------------------------------

    def run(self) -> int:
        args = self.args
        make = PROVIDERS.get(args.provider, ChaosVapi)
        with make(seed=args.seed, talk=args.talk) as fake:
            self.fresh_database()  # 1.
            port = free_port()
            campaign = self.campaign(fake, f"http://127.0.0.1:{port}")  # 2.
            self.note(
                f"campaign {campaign.pk}: {args.customers} customers on fake {args.provider} {fake.url}"
            )
            web, workers = self.start_processes(port)  # 3.
            watcher = Watcher(self.dsn, org_id=str(campaign.organization_id), campaign_id=str(campaign.pk))
            watcher.start()
            from campaigns import services

            services.campaign_start(campaign=campaign, by=None)
            started = time.monotonic()
            self.note(f"started; web on :{port}, queue {self.queue}, broker {self.broker}")
            ended = self.chaos_loop(fake, web, workers, watcher, started)
            duration = time.monotonic() - started
            outcome = "ended" if ended else "DID NOT END"
            self.note(f"campaign {outcome} after {duration:.1f}s; letting the fake settle")
            try:
                fake.settle(timeout=60)
            except TimeoutError as exc:
                self.note(f"fake still busy: {exc}")
            time.sleep(1.0)
            watcher.stop()
            self.fleet.stop_all()

            from django.db import close_old_connections

            from bench import chaos_checks as checks

            close_old_connections()
            v = checks.judge(campaign, fake, watcher, cap=CAP)
            if not ended:
                v.broken(f"the campaign did not end within {args.timeout:.0f}s")
            if self.unexpected_exits:  # restarted by the loop, as a supervisor would; see their logs
                v.finding("processes exited by themselves (restarted)", self.unexpected_exits)
            crashes = self.crashes_in_logs()  # also those our next SIGKILL overtook
            if crashes:
                v.finding("Celery gave up (Unrecoverable error): the process exits", crashes)
            calls = sum(checks.outcomes(campaign).values())
            return self.report(v, campaign, fake, watcher, duration, calls)

    def crashes_in_logs(self) -> list[str]:
        found = []
        for proc in self.fleet.procs:
            for line in proc.log_path.read_text(errors="replace").splitlines():
                if "Unrecoverable error" in line:
                    found.append(f"{proc.name}: {line.strip()[:160]}")
        return found

    def chaos_loop(
        self, fake: ChaosVapi | ChaosRest, web: Proc, workers: list[Proc], watcher: Watcher, started: float
    ) -> bool:
        """Kill and restart until the campaign ends. Returns whether it ended within the timeout."""
        rng = random.Random(self.args.seed)
        kill_at: dict[tuple[str, int], float] = {}  # (worker, its start) -> when it is killed
        next_print, seen_posts = started, 0
        while time.monotonic() - started < self.args.timeout:
            if watcher.status == "ended":
                return True
            now = time.monotonic()
            progress = watcher.final / watcher.total if watcher.total else 0.0
            posts, seen_posts = len(fake.webhooks) - seen_posts, len(fake.webhooks)
            for proc in self.fleet.procs:  # a process that died without us is a finding
                if not proc.alive() and proc.popen is not None:
                    self.unexpected_exits.append(f"{proc.name} exited with {proc.popen.returncode}")
                    self.note(
                        f"!!! {proc.name} exited by itself ({proc.popen.returncode}); starting it again"
                    )
                    proc.start()
            for worker in workers:
                life = (worker.name, worker.starts)
                if life not in kill_at and (boot := worker.ready_after()) is not None:
                    self.boots.append(boot)
                    kill_at[life] = now + self.args.kill_every * rng.uniform(0.5, 1.5)
                if now >= kill_at.get(life, float("inf")):
                    worker.kill()
                    worker.start()
                    self.kills += 1
                    self.note(f"SIGKILLed {worker.name} (kill #{self.kills}) and started it again")
            if "redis" not in self.restarts and progress >= 0.3:
                self.restarts["redis"] = round(self.redis.restart(), 2)
                self.note(f"restarted Redis (down {self.restarts['redis']:.2f}s, its queues lost)")
            if "web" not in self.restarts and "redis" in self.restarts and progress >= 0.5 and posts:
                self.restarts["web"] = round(self.restart_web(web), 2)
                self.note(
                    f"SIGKILLed the web server while webhooks flowed; back after {self.restarts['web']}s"
                )
            if now >= next_print:
                self.note(
                    f"{watcher.final}/{watcher.total} final, live {fake.live_now()} at provider, "
                    f"{len(fake.placed)} placed, {len(fake.webhooks)} webhook posts"
                )
                next_print = now + 10
            time.sleep(0.2)
        return False

    def report(
        self, v, campaign, fake: ChaosVapi | ChaosRest, watcher: Watcher, duration: float, calls: int
    ) -> int:
        from bench import chaos_checks as checks

        polls = sum(1 for r in fake.requests if r.method == "GET")
        figures = {
            "customers": self.args.customers,
            "calls": calls,
            "duration_seconds": round(duration, 1),
            "calls_per_second": round(calls / duration, 2) if duration else None,
            "worker_kills": self.kills,
            "worker_ready_after_seconds": {
                "median": round(statistics.median(self.boots), 1) if self.boots else None,
                "max": round(max(self.boots), 1) if self.boots else None,
            },
            "restarts": self.restarts,
            "max_concurrency_seen": {
                "cap": CAP,
                "ours_sampled_org": watcher.max_live_org,
                "ours_sampled_campaign": watcher.max_live_campaign,
                "provider_exact": v.figures.get("max_concurrency_at_provider"),
                "ours_queued_not_taken_by_a_worker": watcher.max_untaken,
            },
            "samples": watcher.samples,
            "provider": self.args.provider,
            "provider_requests": {"create_call": len(fake.posts_to_create_calls()), "get_call": polls},
            "outcomes": checks.outcomes(campaign),
            **v.figures,
            "connections_reset_at_provider": fake.resets,
            "findings": v.findings,
            "violations": v.violations,
            "seed": self.args.seed,
            "small": self.args.small,
        }
        OUT.mkdir(parents=True, exist_ok=True)
        name = "chaos.json" if self.args.provider == "vapi" else f"chaos-{self.args.provider}.json"
        (OUT / name).write_text(json.dumps(figures, indent=2, default=str))
        shown = {k: val for k, val in figures.items() if k not in ("violations", "findings")}
        print(json.dumps(shown, indent=2, default=str))
        bar = "!" * 78
        for line in v.findings:
            print(f"\n{bar}\nFINDING (not an invariant): {line}\n{bar}", file=sys.stderr, flush=True)
        if v.violations:
            print(f"\n{bar}\nCHAOS RUN FAILED: {len(v.violations)} invariant(s) broken", file=sys.stderr)
            for line in v.violations:
                print(f"  - {line}", file=sys.stderr)
            print(f"logs: {LOGS}\n{bar}", file=sys.stderr, flush=True)
            return 1
        print(f"\nchaos run passed: {calls} calls, {self.kills} worker kills, restarts {self.restarts}")
        return 0


def main() -> int:
    args = parse_args()
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    run = Run(args)

    def interrupted(signum, frame):  # Ctrl-C, SIGTERM, SIGHUP: unwind through the finally below
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, interrupted)  # also when started in the background, where it is ignored
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    try:
        return run.run()
    except KeyboardInterrupt:
        print("chaos run interrupted", file=sys.stderr)
        return 130
    finally:
        run.fleet.stop_all()
        try:
            run.redis.ensure_up()
            run.redis.forget(run.queue)
        except Exception as exc:  # noqa: BLE001
            print(f"!!! could not make sure Redis is up: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
