"""Webhook events ingested per second through gunicorn, against a trivial Django view on the same server.

Ours: N calls already placed (queued by the real dispatcher, provider ids stored), then for each
the four messages Vapi sends (status-update ringing, in-progress, ended; end-of-call-report),
POSTed to the account's webhook address (/webhooks/vapi/<token>) with X-Vapi-Secret. A call's
messages go in order on one connection at a time; --clients calls are in flight together.
Figure: events / wall time.
Baseline: the same bodies POSTed the same way to /bench/noop (bench/wsgi_bench.py), a Django view
that reads the body and answers JSON, on the same gunicorn (--workers sync workers), measured
before and after ours; the baseline is the mean of the two rates.
The load generator writes prebuilt requests on raw sockets (one connection per request, as sync
workers close it), so it costs little next to the server; it shares the 2 cores all the same.

Then the inbox is recorded by the default worker setup (the Procfile's `celery worker
--concurrency 2`, sent dialer.tasks.record_webhooks every half second as beat sends it): events
recorded per second, from the first task sent to the inbox empty, against the ingestion rate
above. Then it fails loudly unless every request was answered 200, every call ended, every
event was logged once, and the campaign's counters equal a recount.

Last, a sustained load: --rate events a second for --seconds (a new campaign of rate x seconds / 4
calls), with the same worker and a real `celery beat` on the project's schedule running, as
`make run` has them. Each call's "ended" status-update is timed when its answer comes back; a
thread reads the campaign's calls_ended counter every 10 ms; the k-th ended answer's delay is
the time until the counter first shows k. Figure: the p95 of those delays (what a supervisor's
live counters lag behind the provider).

    python bench/bench_webhooks.py --calls 300 --workers 2 --clients 8 --rate 1000 --seconds 20
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_DATABASE_URL,
    ROOT,
    Beat,
    Workers,
    embedded,
    fail,
    fresh_tables,
    percentile,
    report,
    setup_django,
)  # noqa: E402

# A webhook about a call we do not know: stored, then dropped by the recorder.
STRANGER = json.dumps(
    {"message": {"type": "status-update", "status": "ringing", "call": {"id": "x"}}}
).encode()
AREA_CODES = ["212", "312", "415", "303", "305", "206", "617", "702", "808", "907", "214", "404"]
ENDED_REASON = "customer-ended-call"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn bench.wsgi_bench:application on a free port, its workers readied as the web
    process's are (bench/gunicorn_bench.conf.py); stopped on exit."""

    def __init__(self, workers: int, log: Path, threads: int = 1) -> None:
        self.workers, self.threads, self.log, self.port = workers, threads, log, free_port()

    def __enter__(self) -> Gunicorn:
        env = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), "ALLOWED_HOSTS": "127.0.0.1"}
        self._log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "bench.wsgi_bench:application", "--workers", str(self.workers)]
            + ["--threads", str(self.threads)]
            + ["--config", str(ROOT / "bench" / "gunicorn_bench.conf.py")]
            + ["--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "--backlog", "2048"],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if post(self.port, "/bench/noop", b"{}", {})[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        fail(f"gunicorn did not answer within 30s\n{self.log.read_text(errors='replace')[-3000:]}")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def request_bytes(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(head).encode() + body


def send(port: int, raw: bytes) -> tuple[int, bytes]:
    """One request on its own connection; (status, body)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    return send(port, request_bytes(port, path, body, headers))


def fire(port: int, sequences: list[list[bytes]], clients: int) -> tuple[float, Counter, list[bytes]]:
    """Send every sequence (in order within one) with `clients` threads. (seconds, statuses, bodies)."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for sequence in sequences:
        todo.put(sequence)
    statuses: Counter = Counter()
    bodies: list[bytes] = []
    lock = threading.Lock()

    def client() -> None:
        seen, answers = Counter(), []
        while True:
            try:
                sequence = todo.get_nowait()
            except queue.Empty:
                break
            for raw in sequence:
                status, body = send(port, raw)
                seen[status] += 1
                answers.append(body)
        with lock:
            statuses.update(seen)
            bodies.extend(answers)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, statuses, bodies


# -- Dialdeck's side ------------------------------------------------------------------------------


def prepare(calls: int):
    """A running campaign whose `calls` calls the dispatcher queued and the provider accepted."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat
    from django.utils import timezone

    from campaigns import services
    from campaigns.models import Call, Campaign, Customer, Organization, PhoneNumber, ProviderAccount
    from dialer.dispatch import dispatch_campaign
    from dialer.models import WebhookEvent

    org, _ = Organization.objects.get_or_create(slug="bench-webhooks", defaults={"name": "Bench webhooks"})
    Organization.objects.filter(pk=org.pk).update(
        max_concurrent_calls=calls, allow_ignoring_recipient_time=True
    )
    org.refresh_from_db()
    Campaign.objects.filter(organization=org).delete()
    account, _ = ProviderAccount.objects.get_or_create(
        organization=org,
        name="vapi",
        defaults={"kind": "vapi", "base_url": "http://127.0.0.1:9", "api_key": "k"},
    )
    WebhookEvent.objects.filter(account=account).delete()  # events left by an earlier run
    # The inbox and the calls' tables carry every earlier run's dead rows otherwise (the recorder
    # measured here at half its rate after a dozen runs on a PostgreSQL without autovacuum).
    fresh_tables(WebhookEvent._meta.db_table, "campaigns_call", "campaigns_calllog", "campaigns_customer")
    caller, _ = PhoneNumber.objects.get_or_create(
        organization=org, number="+14155550142", deleted_at=None, defaults={"provider_account": account}
    )
    people = [
        services.CustomerInput(number=f"+1{AREA_CODES[i % 12]}{2000000 + i // 12:07d}", name=f"Customer {i}")
        for i in range(calls)
    ]
    campaign = services.campaign_create(
        organization=org,
        by=None,
        data=services.CampaignInput(
            name=f"bench webhooks {calls}",
            assistant_id="bench-assistant",
            phone_number_id=str(caller.pk),
            customers=people,
            strategy={"respect_recipient_time_zone": False, "max_attempts": 1},
        ),
    )
    Campaign.objects.filter(pk=campaign.pk).update(max_concurrent_calls=calls)
    campaign = services.campaign_start(campaign=campaign, by=None)
    queued = dispatch_campaign(Campaign.objects.get(pk=campaign.pk), enqueue=lambda ids: None)
    if queued != calls:
        fail(f"the dispatcher queued {queued} of {calls} calls")
    # What call_placed does, for all of them at once (portable SQL: PostgreSQL or SQLite).
    placed = timezone.now()
    Call.objects.filter(campaign=campaign).update(
        provider_call_id=Concat(Value("vapi-"), Cast("id", CharField())), placing_at=placed, placed_at=placed
    )
    Customer.objects.filter(campaign=campaign, state="queued").update(state="dialing")
    calls_ = list(Call.objects.filter(campaign=campaign).select_related("customer"))
    return campaign, account, calls_


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def webhook_path(account) -> str:
    """The account's own webhook address, as Dialdeck gives it to the provider."""
    from django.urls import reverse

    return reverse("provider-webhook", kwargs={"kind": account.kind, "token": account.webhook_token})


def messages(call, campaign, account, started: float) -> list[dict]:
    """Vapi's four server messages for one answered call (spec/fixtures/provider shapes)."""
    snapshot = {
        "id": call.provider_call_id,
        "orgId": "9f0e1d2c-3b4a-4596-8877-665544332211",
        "type": "outboundPhoneCall",
        "phoneCallProvider": "twilio",
        "phoneCallTransport": "pstn",
        "assistantId": campaign.assistant_id,
        "phoneNumberId": str(call.phone_number_id),
        "customer": {"number": call.customer.number, "name": call.customer.name},
        "assistantOverrides": {
            "serverMessages": ["status-update", "end-of-call-report"],
            "server": {  # as we sent it; Vapi echoes it, our secret included (the endpoint redacts it)
                "url": f"http://127.0.0.1{webhook_path(account)}",
                "timeoutSeconds": 20,
                "headers": {"X-Vapi-Secret": account.webhook_secret},
            },
            "metadata": {
                "campaignId": str(campaign.pk),
                "customerId": str(call.customer_id),
                "callId": str(call.pk),
                "customerIndex": call.customer.position,
                "attempt": call.attempt,
            },
        },
        "createdAt": _iso(started),
    }
    ended = {"endedReason": ENDED_REASON, "endedAt": _iso(started + 30), "startedAt": _iso(started + 3)}
    steps = [
        ("status-update", {"status": "ringing"}, 1),
        ("status-update", {"status": "in-progress", "startedAt": ended["startedAt"]}, 3),
        ("status-update", {"status": "ended", **ended, "cost": 0.11}, 30),
    ]
    out = []
    for kind, change, at in steps:
        call_now = {**snapshot, **change, "updatedAt": _iso(started + at)}
        extra = {"endedReason": ENDED_REASON} if change["status"] == "ended" else {}
        out.append(
            {
                "type": kind,
                "status": change["status"],
                **extra,
                "timestamp": int((started + at) * 1000),
                "call": call_now,
                "customer": snapshot["customer"],
            }
        )
    out.append(
        {
            "type": "end-of-call-report",
            **ended,
            "cost": 0.18,
            "timestamp": int((started + 31) * 1000),
            "artifact": {
                "transcript": "AI: Hi, this is Ava from TechFlow...\nUser: Yes, it works now, thanks.\n",
                "messages": [],
                "recordingUrl": f"https://storage.example.com/rec/{call.provider_call_id}.wav",
                "stereoRecordingUrl": f"https://storage.example.com/rec/{call.provider_call_id}-stereo.wav",
            },
            "analysis": {
                "summary": "Fake call ended.",
                "structuredData": {"answered": True},
                "successEvaluation": "true",
            },
            "call": {**snapshot, "status": "ended", **ended, "updatedAt": _iso(started + 31)},
            "customer": snapshot["customer"],
        }
    )
    return [{"message": m} for m in out]


def inbox() -> int:
    from dialer.models import WebhookEvent

    return WebhookEvent.objects.count()


def record_with_workers(log: Path) -> tuple[int, float]:
    """Record the inbox with the worker running: dialer.tasks.record_webhooks sent every half
    second, as beat sends it, until the inbox is empty. (events, seconds from the first send)."""
    from config.celery import app

    total, start = inbox(), time.perf_counter()
    beat = start
    while inbox():
        now = time.perf_counter()
        if now >= beat:
            app.send_task("dialer.tasks.record_webhooks")
            beat += 0.5
        if now - start > 300:
            fail(f"{inbox()} events still in the inbox after 300s\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.01)
    return total, time.perf_counter() - start


def paced(port: int, sequences: list[list[bytes]], rate: float, clients: int, mark: int):
    """Send every sequence at `rate` events a second (sequence k starts at k x its length / rate),
    in order within one, with `clients` threads. Returns (seconds, statuses, bodies, the perf_counter
    times at which event `mark` of each sequence was answered)."""
    statuses: Counter = Counter()
    bodies: list[bytes] = []
    marks: list[float] = []
    lock = threading.Lock()
    todo = iter(enumerate(sequences))
    start = time.perf_counter() + 0.1

    def client() -> None:
        seen, answers, answered = Counter(), [], []
        while True:
            with lock:
                k, sequence = next(todo, (None, None))
            if sequence is None:
                break
            if (wait := start + k * len(sequence) / rate - time.perf_counter()) > 0:
                time.sleep(wait)
            for i, raw in enumerate(sequence):
                status, body = send(port, raw)
                seen[status] += 1
                answers.append(body)
                if i == mark:
                    answered.append(time.perf_counter())
        with lock:
            statuses.update(seen)
            bodies.extend(answers)
            marks.extend(answered)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, statuses, bodies, sorted(marks)


class CounterWatch(threading.Thread):
    """The campaign's calls_ended counter every 10 ms, on a connection of its own: (time, value)
    whenever it moved."""

    def __init__(self, campaign_id: object) -> None:
        super().__init__(daemon=True)
        self.campaign_id, self.seen = campaign_id, [(time.perf_counter(), 0)]
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from campaigns.models import Campaign

        ended = Campaign.objects.filter(pk=self.campaign_id).values_list("calls_ended", flat=True)
        try:
            while not self.stop.is_set():
                value = ended.get()
                if value != self.seen[-1][1]:
                    self.seen.append((time.perf_counter(), value))
                time.sleep(0.01)
        finally:
            connection.close()

    def shown(self, k: int) -> float | None:
        """When the counter first showed k or more."""
        return next((at for at, value in self.seen if value >= k), None)


def sustained(server, rate: float, seconds: float, clients: int, folder: Path, workers) -> dict:
    """--rate events a second for --seconds, the worker and a real beat running; the delays from
    each ended answer to the counters showing it."""
    calls = max(1, int(rate * seconds / 4))
    campaign, account, calls_ = prepare(calls)
    headers = {"X-Vapi-Secret": account.webhook_secret}
    webhook = webhook_path(account)
    started = time.time()
    bodies = [[json.dumps(m).encode() for m in messages(c, campaign, account, started)] for c in calls_]
    requests = [[request_bytes(server.port, webhook, b, headers) for b in seq] for seq in bodies]
    watch = CounterWatch(campaign.pk)
    with Beat(folder) as beat:
        # Beat has sent the recording task, and the worker run it: a webhook about a call we do
        # not know is stored and gone. Otherwise the first seconds' events wait for beat to start,
        # which a running dialer's never do.
        post(server.port, webhook, STRANGER, headers)
        deadline = time.perf_counter() + 60
        while inbox():
            if time.perf_counter() > deadline:
                fail(f"nothing recorded within 60s\nworker: {workers.tail()}\nbeat: {beat.tail()}")
            time.sleep(0.05)
        watch.start()
        spent, statuses, answers, ended_at = paced(server.port, requests, rate, clients, mark=2)
        deadline = time.perf_counter() + 120
        while watch.shown(calls) is None:
            if time.perf_counter() > deadline:
                fail(
                    f"the counters showed {watch.seen[-1][1]} of {calls} ended calls 120s after the last "
                    f"event\nworker: {workers.tail()}\nbeat: {beat.tail()}"
                )
            time.sleep(0.05)
        watch.stop.set()
        watch.join()
    while inbox():  # the reports, after the ends (the counters do not wait for them)
        if time.perf_counter() > deadline:
            fail(f"{inbox()} events still in the inbox\n{workers.tail()}")
        time.sleep(0.05)
    check(campaign, calls, statuses, answers)
    delays = [watch.shown(k + 1) - at for k, at in enumerate(ended_at)]
    return {"events": 4 * calls, "seconds": spent, "p95": percentile(delays, 95), "max": max(delays)}


def check(campaign, calls: int, statuses: Counter, bodies: list[bytes]) -> None:
    from campaigns.models import Call, CallLog
    from tests.fakes.dialdeck_side import counters, recount

    if set(statuses) != {200}:
        fail(f"webhook answers {dict(statuses)}; all must be 200")
    received = Counter(json.loads(b).get("received") for b in bodies)
    if set(received) != {1}:
        fail(f"webhook bodies said received={dict(received)}; each must be 1")
    ended = Call.objects.filter(campaign=campaign, status="ended").count()
    if ended != calls:
        fail(f"{ended} of {calls} calls ended")
    logged = CallLog.objects.filter(call__campaign=campaign, kind="webhook").count()
    if logged != 4 * calls:
        fail(f"{logged} webhook events logged, {4 * calls} sent")
    if counters(campaign) != recount(campaign):
        fail(f"counters {counters(campaign)} differ from a recount {recount(campaign)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000, help="calls, 4 events each (default 1000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (default 1: sync workers)"
    )
    parser.add_argument("--clients", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (default 2)")
    parser.add_argument("--rate", type=float, default=1000, help="sustained events a second (default 1000)")
    parser.add_argument("--seconds", type=float, default=20, help="of sustained load (default 20; 0: none)")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the product's INFO lines would drown the figures
    os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"dialdeck-bench-{os.getpid()}")
    # A database of its own: the dialer's tick and reaper act on every campaign there, and would
    # reap and re-send the reads benchmark's synthetic calls "in flight" for hours.
    if not embedded():
        os.environ.setdefault("DATABASE_URL", f"{DEFAULT_DATABASE_URL}_dialer")
    setup_django()
    import tempfile

    campaign, account, calls = prepare(args.calls)
    started = time.time()
    headers = {"X-Vapi-Secret": account.webhook_secret}
    webhook = webhook_path(account)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Gunicorn(args.workers, Path(tmp) / "gunicorn.log", args.threads) as server,
        Workers(args.concurrency, Path(tmp)) as workers,
    ):
        workers.ready()  # the worker's start would otherwise share the machine with the figures
        bodies = [[json.dumps(m).encode() for m in messages(c, campaign, account, started)] for c in calls]
        noop = [[request_bytes(server.port, "/bench/noop", b, headers) for b in seq] for seq in bodies]
        ours = [[request_bytes(server.port, webhook, b, headers) for b in seq] for seq in bodies]
        # Warm both paths up on every worker: the no-op, and webhooks about calls we do not know.
        fire(server.port, [[request_bytes(server.port, webhook, STRANGER, headers)] * 10] * 4, 4)
        fire(server.port, noop[:10], 4)
        # The baseline before and after ours, and their mean: the machine's speed drifts (other
        # tenants of a shared host), and a baseline taken on one side only would carry the drift.
        before, before_statuses, _ = fire(server.port, noop, args.clients)
        seconds, statuses, answers = fire(server.port, ours, args.clients)
        after, after_statuses, _ = fire(server.port, noop, args.clients)
        if set(before_statuses + after_statuses) != {200}:
            fail(f"no-op answers {dict(before_statuses + after_statuses)}")
        events = 4 * args.calls
        rate_before, rate_after = events / before, events / after
        recorded, spent = record_with_workers(workers.log)
        check(campaign, args.calls, statuses, answers)
        report(
            f"webhook events ingested through gunicorn ({events:,} events, {args.workers} workers)",
            events / seconds,
            "events/s",
            (rate_before + rate_after) / 2,
            note=f"{seconds:.1f}s, {args.clients} clients, baseline {rate_before:,.0f} before, "
            f"{rate_after:,.0f} after; counters = recount; target ratio >= 0.7",
        )
        report(
            f"webhook events recorded by the worker (celery -c {args.concurrency}, batches)",
            recorded / spent,
            "events/s",
            events / seconds,
            note=f"{recorded:,} events (with the warm-up's) in {spent:.1f}s, after the ingestion above;"
            " baseline: the ingestion rate above; target ratio >= 1.0",
        )
        if args.seconds > 0:
            figures = sustained(server, args.rate, args.seconds, args.clients, Path(tmp), workers)
            report(
                f"webhook arrival to the counters at {args.rate:,.0f} events/s sustained",
                figures["p95"] * 1000,
                "ms p95",
                note=f"{figures['events']:,} events sent in {figures['seconds']:.1f}s "
                f"({figures['events'] / figures['seconds']:,.0f}/s); worker -c {args.concurrency} and beat "
                f"running; max {figures['max'] * 1000:,.0f} ms; counters = recount; target p95 < 2 s",
            )


if __name__ == "__main__":
    main()
