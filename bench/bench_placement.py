"""Calls placed per second, end to end, against Celery no-op tasks per second on the same workers.

Ours: the bench process runs the dialer's claim loop (dialer.dispatch.dispatch_campaign with
enqueue=dialer.tasks.enqueue_placement, as beat's tick does, but without waiting a second between
passes); 2 Celery worker processes on Redis take the batches (place_calls), POST /call to a local
fake Vapi (bench/fake_provider.py: one asyncio loop in a process of its own, no webhooks, so its
own CPU stays small on the shared cores) and store the provider's call id. A call counts as
placed when its provider id is stored; the figure is N over the time from the first claim to
the last placed_at (past --budget seconds the loop stops claiming and the figure is over the
calls placed by then). Calls never end by themselves here (no
webhooks), so a "closer" in the bench loop ends placed calls in bulk with SQL (call, customer and
counters together, as an end-of-call would) to free lines under the concurrency cap, and, like
tick's last step, re-sends queued calls whose task was lost (a broker restart).
Baseline: N no-op tasks (bench/tasks.py) enqueued from this process in bursts the size of a claim
round, on the same broker, queue and worker processes, timed until the last one ran; measured
before and after ours, and the mean of the two is the baseline.

Fails loudly when a customer was dialed twice (the fake records our call id and number of every
POST /call: each must appear once), when the concurrency cap was exceeded (live calls sampled every
20 ms), or when the counters differ from a recount.

    python bench/bench_placement.py --calls 5000 --cap 1000
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, fail, report, setup_django  # noqa: E402

AREA_CODES = ["212", "312", "415", "303", "305", "206", "617", "702", "808", "907", "214", "404"]
API_KEY = "bench-vapi-key"
ENDED_REASON = "customer-ended-call"
ORPHAN = timedelta(seconds=15)  # queued, nobody took it this long, and the queue is empty: task lost


# -- the fake provider, in a process of its own (its threads must not share our GIL) -------------


def _serve_fake(conn) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.fake_provider import LeanVapi

    with LeanVapi(api_key=API_KEY) as fake:
        conn.send(fake.url)
        conn.recv()  # "report"
        conn.send({"placed": list(fake.placed), "numbers": list(fake.numbers), "requests": fake.requests})


class FakeProcess:
    def __enter__(self) -> FakeProcess:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve_fake, args=(child,), daemon=True)
        self.proc.start()
        self.url = self.conn.recv()
        return self

    def records(self) -> dict:
        self.conn.send("report")
        return self.conn.recv()

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.join(5)


# -- the Celery workers ---------------------------------------------------------------------------


class Workers:
    """`celery worker -c <n>` on the bench queue, with bench.tasks included; stopped on exit."""

    def __init__(self, concurrency: int, folder: Path) -> None:
        self.concurrency, self.log = concurrency, folder / "worker.log"

    def __enter__(self) -> Workers:
        env = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        self._log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--include", "bench.tasks"]
            + ["-c", str(self.concurrency), "-Q", os.environ["CELERY_TASK_DEFAULT_QUEUE"], "-l", "WARNING"]
            + [
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench-{os.getpid()}@%h",
            ],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    def tail(self) -> str:
        text = self.log.read_text(errors="replace")
        if "Connection to broker lost" in text:
            return "the worker lost its broker connection (was Redis restarted?)\n" + text[-3000:]
        return text[-3000:]

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


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


def baseline(calls: int, burst: int, folder: Path, log: Path) -> float:
    """No-op tasks per second: `calls` tasks, sent in bursts of `burst`, until the last one ran."""
    from bench.tasks import noop

    path = folder / "noop.count"
    start = time.perf_counter()
    for first in range(0, calls, burst):
        for _ in range(min(burst, calls - first)):
            noop.delay(str(path))
    return calls / (wait_for_file(path, calls, timeout=120, log=str(log)) - start)


# -- Dialdeck's side ------------------------------------------------------------------------------


def prepare(calls: int, cap: int, fake_url: str):
    """A started campaign of `calls` dialable customers on a Vapi account pointed at the fake."""
    from django.db import connection

    from campaigns import services
    from campaigns.models import Campaign, Organization, PhoneNumber, ProviderAccount

    org, _ = Organization.objects.get_or_create(slug="bench-placement", defaults={"name": "Bench placement"})
    Organization.objects.filter(pk=org.pk).update(
        max_concurrent_calls=cap, allow_ignoring_recipient_time=True
    )
    org.refresh_from_db()
    Campaign.objects.filter(organization=org).delete()  # calls, customers and logs of earlier runs
    account, _ = ProviderAccount.objects.update_or_create(
        organization=org,
        name="fake vapi",
        defaults={"kind": "vapi", "base_url": fake_url, "api_key": API_KEY},
    )
    caller, _ = PhoneNumber.objects.get_or_create(
        organization=org,
        number="+14155550142",
        deleted_at=None,
        defaults={"provider_account": account, "provider_phone_number_id": str(uuid.uuid4())},
    )
    people = [
        services.CustomerInput(number=f"+1{AREA_CODES[i % 12]}{2000000 + i // 12:07d}", name=f"Customer {i}")
        for i in range(calls)
    ]
    strategy = {"respect_recipient_time_zone": False, "max_attempts": 1, "max_concurrent_calls": 500}
    campaign = services.campaign_create(
        organization=org,
        by=None,
        data=services.CampaignInput(
            name=f"bench placement {calls}",
            assistant_id="bench-assistant",
            phone_number_id=str(caller.pk),
            customers=people,
            strategy=strategy,
        ),
    )
    # Above what the API allows (500): the bench wants the cap high, as the brief says.
    Campaign.objects.filter(pk=campaign.pk).update(max_concurrent_calls=cap)
    # The earlier runs' rows were just deleted: clear them and refresh the planner's statistics,
    # as autovacuum would on a live system, so this run does not pay for the last one's dead rows.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "VACUUM ANALYZE campaigns_call, campaigns_calllog, campaigns_customer, campaigns_campaign"
            )
        else:
            cursor.execute("ANALYZE")
    return services.campaign_start(campaign=campaign, by=None)


CLOSE_PLACED = """
WITH done AS (
    UPDATE campaigns_call SET status = 'ended', ended_reason = %(reason)s, ended_at = now()
    WHERE campaign_id = %(campaign)s AND status = 'queued' AND provider_call_id <> ''
    RETURNING customer_id
), customers AS (
    UPDATE campaigns_customer SET state = 'completed', last_outcome = %(reason)s, updated_at = now()
    WHERE id IN (SELECT customer_id FROM done) AND state = 'dialing'
    RETURNING 1
)
UPDATE campaigns_campaign SET
    calls_queued = calls_queued - (SELECT count(*) FROM done),
    calls_ended = calls_ended + (SELECT count(*) FROM done),
    customers_final = customers_final + (SELECT count(*) FROM customers)
WHERE id = %(campaign)s
RETURNING (SELECT count(*) FROM done), (SELECT count(*) FROM customers)
"""


def close_placed(campaign_id: object) -> int:
    """End the placed calls in bulk (CLOSE_PLACED; on SQLite, which has no UPDATE in a WITH, the
    same three statements in one transaction). Returns how many calls it ended."""
    from django.db import connection, transaction

    from campaigns.models import Call, Campaign, Customer

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(CLOSE_PLACED, {"reason": ENDED_REASON, "campaign": campaign_id})
            return cursor.fetchone()[0]
    from django.db.models import F
    from django.utils import timezone

    with transaction.atomic():
        placed = Call.objects.filter(campaign_id=campaign_id, status="queued").exclude(provider_call_id="")
        rows = list(placed.values_list("pk", "customer_id"))
        if not rows:
            return 0
        now = timezone.now()
        Call.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            status="ended", ended_reason=ENDED_REASON, ended_at=now
        )
        final = Customer.objects.filter(pk__in=[c for _, c in rows], state="dialing").update(
            state="completed", last_outcome=ENDED_REASON, updated_at=now
        )
        Campaign.objects.filter(pk=campaign_id).update(
            calls_queued=F("calls_queued") - len(rows),
            calls_ended=F("calls_ended") + len(rows),
            customers_final=F("customers_final") + final,
        )
    return len(rows)


class Broker:
    """The bench queue on the broker, whatever the transport (Redis, or kombu's filesystem one)."""

    def __init__(self) -> None:
        from config.celery import app

        self.app, self.queue = app, os.environ["CELERY_TASK_DEFAULT_QUEUE"]

    def idle(self) -> bool:
        """No task waiting in the queue (and, on Redis, none reserved by a worker)."""
        from kombu.exceptions import ChannelError

        with self.app.connection_for_read() as conn:
            channel = conn.default_channel
            try:
                waiting = channel.queue_declare(queue=self.queue, passive=True).message_count
            except ChannelError:  # Redis drops an emptied list: no such queue is an empty one
                waiting = 0
            reserved = channel.client.hlen("unacked") if conn.transport_cls == "redis" else 0
        return not waiting and not reserved

    def purge(self) -> None:
        with self.app.connection_for_write() as conn:
            conn.default_channel.queue_purge(self.queue)


class Sampler(threading.Thread):
    """Live calls of the organization every `every` seconds, on a connection of its own."""

    def __init__(self, org_id: object, every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.org_id, self.every, self.peak, self.samples = org_id, every, 0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from campaigns.models import Call

        live = Call.objects.filter(organization_id=self.org_id).exclude(status="ended")
        try:  # on this thread's own connection (Django opens one per thread)
            while not self.stop.is_set():
                self.peak, self.samples = max(self.peak, live.count()), self.samples + 1
                time.sleep(self.every)
        finally:
            connection.close()


def ours(campaign, calls: int, workers: Workers, budget: float) -> tuple[float, dict]:
    """Run the claim loop until every customer's call is placed. Returns (calls/s, figures).

    Past `budget` seconds it stops claiming, lets the calls already queued be placed, and
    measures over those: a slow product cannot hold `make bench` up.
    """
    from django.db.models import Max, Q
    from django.utils import timezone

    from campaigns.models import Call, Campaign
    from dialer.dispatch import dispatch_campaign
    from dialer.tasks import enqueue_placement

    broker = Broker()
    sampler = Sampler(campaign.organization_id)
    sampler.start()
    began, start = timezone.now(), time.perf_counter()
    created = closed = passes = resent = 0
    claiming, last_resend = True, time.perf_counter()
    while closed < calls and (claiming or closed < created):
        queued = 0
        if claiming:
            fresh = Campaign.objects.select_related("organization", "phone_number").get(pk=campaign.pk)
            queued = dispatch_campaign(fresh, enqueue=enqueue_placement)
            created, passes = created + queued, passes + 1
            claiming = time.perf_counter() - start < budget
        now_closed = close_placed(campaign.pk)
        closed += now_closed
        # What tick's step 5 does, for tasks a broker restart lost: only when the broker holds no
        # task at all (queued or reserved), so calls merely waiting behind a backlog are not sent twice.
        due = time.perf_counter() - last_resend > 5
        if due and broker.idle():
            last_resend = time.perf_counter()
            lost = Call.objects.filter(
                campaign=campaign,
                status="queued",
                placing_at__isnull=True,
                created_at__lt=timezone.now() - ORPHAN,
            ).filter(Q(not_before__isnull=True) | Q(not_before__lt=timezone.now()))
            lost_ids = [str(pk) for pk in lost.values_list("pk", flat=True)]
            if lost_ids:
                resent += len(lost_ids)
                enqueue_placement(lost_ids)
        if not queued and not now_closed:
            time.sleep(0.02)  # nothing moved: wait a little, as beat would (it ticks once a second)
        if time.perf_counter() - start > budget + 60:
            states = dict(Counter(Call.objects.filter(campaign=campaign).values_list("status", flat=True)))
            fail(
                f"only {closed} of {created} queued calls placed in time; calls by status {states}\n"
                + workers.tail()
            )
    sampler.stop.set()
    sampler.join()
    last = Call.objects.filter(campaign=campaign).aggregate(last=Max("placed_at"))["last"]
    elapsed = (last - began).total_seconds()
    return closed / elapsed, {
        "placed": closed,
        "seconds": elapsed,
        "passes": passes,
        "peak_live": sampler.peak,
        "samples": sampler.samples,
        "resent": resent,
    }


def check(campaign, cap: int, figures: dict, fake: dict) -> None:
    """No customer dialed twice, cap never exceeded, every call placed once, counters = recount."""
    from campaigns.models import Call
    from tests.fakes.dialdeck_side import counters, recount

    twice = [call_id for call_id, n in Counter(fake["placed"]).items() if n > 1]
    if twice:
        fail(f"{len(twice)} calls were POSTed to the provider more than once, e.g. {twice[:3]}")
    numbers_twice = [number for number, n in Counter(fake["numbers"]).items() if n > 1]
    if numbers_twice:
        fail(f"{len(numbers_twice)} customers were dialed more than once, e.g. {numbers_twice[:3]}")
    ours = {str(pk) for pk in Call.objects.filter(campaign=campaign).values_list("pk", flat=True)}
    if len(ours) != figures["placed"] or set(fake["placed"]) != ours:
        fail(
            f"{len(ours)} calls stored, {len(set(fake['placed']))} at the provider, "
            f"{figures['placed']} placed"
        )
    if Call.objects.filter(campaign=campaign, provider_call_id="").exists():
        fail("a call has no provider id")
    if figures["peak_live"] > cap:
        fail(f"{figures['peak_live']} live calls seen, above the cap of {cap}")
    if counters(campaign) != recount(campaign):
        fail(f"counters {counters(campaign)} differ from a recount {recount(campaign)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=5000, help="customers to call (default 5000)")
    parser.add_argument("--cap", type=int, default=1000, help="campaign and organization cap (default 1000)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--budget", type=float, default=30, help="stop claiming after this many seconds (30)")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the product's INFO lines would drown the figures
    os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"dialdeck-bench-{os.getpid()}")
    os.environ.setdefault("PROVIDER_ALLOWED_HOSTS", "127.0.0.1")  # the fake provider's host
    setup_django()

    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeProcess() as fake,
        Workers(args.concurrency, Path(tmp)) as workers,
    ):
        folder = Path(tmp)
        from bench.tasks import noop

        noop.delay(str(folder / "ready"))  # the worker is up once this ran
        wait_for_file(folder / "ready", 1, timeout=60, log=str(workers.log))
        campaign = prepare(args.calls, args.cap, fake.url)
        # The baseline runs before and after ours, and counts their mean: on a shared machine the
        # load moves within a minute, and this way it weighs on both sides alike.
        before = baseline(args.calls, args.cap, folder, workers.log)
        rate, figures = ours(campaign, args.calls, workers, args.budget)
        check(campaign, args.cap, figures, fake.records())
        (folder / "noop.count").unlink()
        after = baseline(args.calls, args.cap, folder, workers.log)
        raw = (before + after) / 2
    Broker().purge()
    report(
        f"calls placed end to end ({args.calls:,} calls, {args.concurrency} workers)",
        rate,
        "calls/s",
        raw,
        note=f"{figures['placed']:,} placed in {figures['seconds']:.1f}s, {figures['passes']} claim passes, "
        f"baseline {before:,.0f} before, {after:,.0f} after; peak {figures['peak_live']} live "
        f"(cap {args.cap}, {figures['samples']} samples), no customer dialed twice"
        + (f", {figures['resent']} re-sent after their task was lost" if figures["resent"] else "")
        + "; target ratio >= 1.0",
    )


if __name__ == "__main__":
    main()
