"""Campaign events reach the campaign's own server (dialer.outbound): in Vapi's envelope, with an
idempotency key and our signature (checked here with the README's own example); retried by the
server's backoffPlan or by our default, then given up; never sent into our own network; and under
a real Celery worker SIGKILLed mid-delivery, none is lost and repeats carry the same key."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from campaigns import clock, services
from campaigns.models import SERVER_MESSAGES, Call, Campaign, CampaignEvent, CampaignEventAttempt
from campaigns.rules import contacts
from campaigns.services.events import DeliveryAttempt, event_attempts_record, events_take
from campaigns.services.organization import organization_signing_secret_rotate
from dialer import outbound
from tests.fakes.receiver import Receiver
from tests.support import wait_for

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NO_AUTO_START = {"auto_start": False, "respect_recipient_time_zone": False}
ANY_AGE = 10**10  # the README's tolerance, for requests signed at a moved clock's time
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FINAL = (contacts.COMPLETED, contacts.FAILED, contacts.SKIPPED)


class Clock:
    """What campaigns.clock.now() answers while a test runs: `at`, moved by the test."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 2, 15, tzinfo=UTC)


@pytest.fixture
def moved_clock() -> Iterator[Clock]:
    moved = Clock()
    clock.set_now(lambda: moved.at)
    yield moved
    clock.set_now(None)


def readme_verify() -> Callable[..., bool]:
    """The verification example of README.md's "Campaign events" section, as written there."""
    section = (ROOT / "README.md").read_text().split("## Campaign events", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code, "README's Campaign events section has no Python example"
    namespace: dict = {}
    exec(code.group(1), namespace)  # noqa: S102 (our own README)
    return namespace["verify"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def server_campaign(make_campaign, receiver) -> Callable[..., Campaign]:
    """A campaign whose server is the receiver, asking for every event."""

    def make(**server: object) -> Campaign:
        return make_campaign(
            2,
            strategy=NO_AUTO_START,
            server={"url": f"{receiver.url}/dialdeck/events", **server},
            server_messages=list(SERVER_MESSAGES),
        )

    return make


def emit(campaign: Campaign, event_type: str = "contact.completed", **data: object) -> CampaignEvent:
    event = services.event_emit(campaign=campaign, event_type=event_type, data=data or {"contactId": "c-1"})
    assert event is not None
    return event


def tries_until_settled(moved_clock: Clock, event: CampaignEvent, *, limit: int = 100) -> list[datetime]:
    """Deliver `event` at each time it asks to be tried again, until it is delivered or given up;
    the instants of the attempts."""
    at = []
    for _ in range(limit):
        event.refresh_from_db()
        if event.state != "pending":
            return at
        moved_clock.at = event.next_attempt_at
        at.append(moved_clock.at)
        assert outbound.deliver() == 1
    pytest.fail(f"still pending after {limit} attempts")


# -- what a request carries ----------------------------------------------------------------------


def test_events_arrive_in_vapis_envelope_with_an_idempotency_key_and_our_signature(
    server_campaign, receiver, org, owner
) -> None:
    campaign = server_campaign(headers={"Authorization": "Bearer crm-token", "X-Tenant": "acme"})
    services.campaign_start(campaign=campaign, by=owner)
    started = CampaignEvent.objects.get(campaign=campaign, event_type="campaign.started")

    assert outbound.deliver() == 1

    [request] = receiver.received()
    assert request.path == "/dialdeck/events"
    assert request.json == {
        "message": {
            "type": "campaign.event",
            "timestamp": (started.created_at - EPOCH) // timedelta(milliseconds=1),
            "campaignId": str(campaign.pk),
            "eventType": "campaign.started",
            "eventId": str(started.pk),
            "data": started.data,
        }
    }
    assert request.header("Content-Type") == "application/json"
    assert request.header("Idempotency-Key") == str(started.pk)
    assert (request.header("Authorization"), request.header("X-Tenant")) == ("Bearer crm-token", "acme")
    org.refresh_from_db()
    verify = readme_verify()
    assert verify(org.event_signing_secret, request.headers, request.body)
    assert not verify(org.event_signing_secret, request.headers, request.body.replace(b"started", b"ended"))
    assert not verify("another secret", request.headers, request.body)
    started.refresh_from_db()
    assert (started.state, started.attempts, started.last_error) == ("delivered", 1, "")
    [attempt] = CampaignEventAttempt.objects.filter(event=started)
    assert (attempt.http_status, attempt.url, attempt.response) == (
        200,
        f"{receiver.url}/dialdeck/events",
        '{"ok": true}',
    )


def test_static_headers_are_sent_but_cannot_stand_in_for_ours(server_campaign, receiver, org) -> None:
    forged = {"X-Dialdeck-Signature": "v1=forged", "idempotency-key": "mine", "Content-Length": "3"}
    event = emit(server_campaign(headers={**forged, "X-Ok": 7, "Bad\nName": "x", "X-Crlf": "a\r\nb"}))

    outbound.deliver()

    [request] = receiver.received()
    assert request.headers.get_all("Idempotency-Key") == [str(event.pk)]
    assert request.headers.get_all("X-Dialdeck-Signature") != ["v1=forged"]
    assert readme_verify()(org.event_signing_secret, request.headers, request.body)
    assert request.header("X-Ok") == "7" and "X-Crlf" not in request.headers
    assert request.json["message"]["eventId"] == str(event.pk)


def test_after_a_rotation_both_secrets_sign_for_a_day(
    server_campaign, receiver, org, owner, moved_clock
) -> None:
    old = org.event_signing_secret
    org, new = organization_signing_secret_rotate(organization=org, by=owner)
    campaign, verify = server_campaign(), readme_verify()

    emit(campaign)
    outbound.deliver()
    moved_clock.at += timedelta(days=1, minutes=1)
    emit(campaign)
    outbound.deliver()

    first, second = receiver.received()
    assert first.header("X-Dialdeck-Signature").count("v1=") == 2
    assert verify(new, first.headers, first.body, ANY_AGE) and verify(old, first.headers, first.body, ANY_AGE)
    assert verify(new, second.headers, second.body, ANY_AGE)
    assert not verify(old, second.headers, second.body, ANY_AGE)
    assert first.header("X-Dialdeck-Timestamp") == str(int(datetime(2026, 12, 2, 15, tzinfo=UTC).timestamp()))


# -- retries -------------------------------------------------------------------------------------


def test_without_a_backoff_plan_a_failing_event_is_retried_for_a_day_then_given_up(
    server_campaign, receiver, moved_clock
) -> None:
    receiver.status = 503
    event = emit(server_campaign())

    tried = tries_until_settled(moved_clock, event)

    gaps = [(b - a).total_seconds() for a, b in zip(tried, tried[1:], strict=False)]
    assert gaps[:9] == [10, 20, 40, 80, 160, 320, 640, 1280, 2560]
    assert set(gaps[9:]) == {3600}
    assert tried[-1] - tried[0] <= timedelta(hours=24) < tried[-1] - tried[0] + timedelta(hours=1)
    event.refresh_from_db()
    assert (event.state, event.attempts, event.last_error) == ("failed", len(tried), "answered 503")
    assert len(receiver.received()) == len(tried)
    moved_clock.at += timedelta(days=3)
    assert outbound.deliver() == 0  # given up: never sent again


def test_any_2xx_acknowledges_and_each_attempt_is_logged(server_campaign, receiver, moved_clock) -> None:
    receiver.answer(500, body=b"database is down")
    receiver.answer(302)
    receiver.answer(204)
    event = emit(server_campaign())

    tried = tries_until_settled(moved_clock, event)

    event.refresh_from_db()
    assert (event.state, event.attempts, len(tried)) == ("delivered", 3, 3)
    assert event.delivered_at == tried[-1]
    log = CampaignEventAttempt.objects.filter(event=event).order_by("attempted_at")
    assert [(a.http_status, a.error, a.response) for a in log] == [
        (500, "answered 500", "database is down"),
        (302, "answered 302 (redirects are not followed)", ""),
        (204, "", ""),
    ]


@pytest.mark.parametrize(
    ("plan", "gaps"),
    [
        ({}, []),  # Vapi's default: no retry
        ({"maxRetries": 2, "baseDelaySeconds": 5}, [5, 5]),  # fixed, Vapi's default type
        ({"type": "fixed", "maxRetries": 3, "baseDelaySeconds": 0}, [0, 0, 0]),
        ({"type": "exponential", "maxRetries": 4, "baseDelaySeconds": 1.5}, [1.5, 3, 6, 12]),
        ({"type": "exponential", "maxRetries": 3}, [1, 2, 4]),  # baseDelaySeconds: 1 when not given
    ],
)
def test_a_backoff_plan_says_how_often_and_when_to_retry(
    server_campaign, receiver, moved_clock, plan, gaps
) -> None:
    receiver.status = 500
    event = emit(server_campaign(backoffPlan=plan))

    tried = tries_until_settled(moved_clock, event)

    assert [(b - a).total_seconds() for a, b in zip(tried, tried[1:], strict=False)] == gaps
    event.refresh_from_db()
    assert (event.state, event.attempts) == ("failed", len(gaps) + 1)


def test_an_excluded_status_code_is_not_retried_and_others_are(
    server_campaign, receiver, moved_clock
) -> None:
    campaign = server_campaign(
        backoffPlan={"maxRetries": 5, "baseDelaySeconds": 2, "excludedStatusCodes": [410]}
    )
    receiver.answer(500)
    receiver.answer(410)
    event = emit(campaign)

    tried = tries_until_settled(moved_clock, event)

    assert len(tried) == 2
    event.refresh_from_db()
    assert (event.state, event.last_error) == ("failed", "answered 410")


@pytest.mark.parametrize(
    ("server", "status", "expected"),
    [
        ({}, 500, 10),
        ({}, None, 10),
        ({"backoffPlan": {"maxRetries": 1, "baseDelaySeconds": 3}}, 500, 3),
        ({"backoffPlan": {"maxRetries": 1, "excludedStatusCodes": [500]}}, 500, None),
        ({"backoffPlan": {"maxRetries": 1, "excludedStatusCodes": [500]}}, None, 1),  # no answer: retried
        ({"backoffPlan": {"maxRetries": 99, "baseDelaySeconds": 99}}, 500, 10),  # Vapi's bounds hold
        ({"backoffPlan": {"maxRetries": "3", "baseDelaySeconds": True}}, 500, None),  # nonsense: defaults
    ],
)
def test_retry_at_after_a_first_failure(server, status, expected) -> None:
    now = datetime(2026, 12, 2, 15, tzinfo=UTC)
    at = outbound.retry_at(server, attempts=1, http_status=status, created_at=now, now=now)
    assert at == (None if expected is None else now + timedelta(seconds=expected))


def test_a_server_that_does_not_answer_in_time_is_tried_again_later(server_campaign, receiver) -> None:
    receiver.delay = 3
    event = emit(server_campaign(timeoutSeconds=1))

    assert outbound.deliver() == 1

    event.refresh_from_db()
    assert (event.state, event.attempts, event.last_error) == ("pending", 1, "no answer within 1 s")
    assert timedelta(seconds=9) < event.next_attempt_at - event.created_at < timedelta(seconds=12)


def test_a_refused_connection_is_tried_again_later(server_campaign, receiver) -> None:
    event = emit(server_campaign())
    with Receiver() as closed:
        url = f"{closed.url}/gone"
    Campaign.objects.filter(pk=event.campaign_id).update(server={"url": url})  # its port now closed

    outbound.deliver()

    event.refresh_from_db()
    assert event.state == "pending" and event.attempts == 1
    assert "ConnectionRefusedError" in event.last_error


def test_a_private_target_is_refused_when_the_request_would_leave(
    server_campaign, receiver, settings
) -> None:
    event = emit(server_campaign())  # created while the operator allowed 127.0.0.1
    settings.PROVIDER_ALLOWED_HOSTS = []

    outbound.deliver()

    assert receiver.received() == []
    event.refresh_from_db()
    assert event.state == "failed"  # a private address stays private: not tried again
    assert event.last_error.startswith("not sent: the server URL 127.0.0.1 is a loopback address")
    [attempt] = CampaignEventAttempt.objects.filter(event=event)
    assert attempt.http_status is None and attempt.error == event.last_error


# -- leases and concurrency ----------------------------------------------------------------------


def test_an_event_taken_by_a_worker_that_died_is_sent_again_after_its_lease(
    server_campaign, receiver, moved_clock
) -> None:
    event = emit(server_campaign(timeoutSeconds=5))
    [taken] = events_take(limit=10, lease_seconds=outbound.LEASE_MARGIN_SECONDS)  # then the worker died

    assert outbound.deliver() == 0  # leased: nobody else sends it meanwhile
    moved_clock.at = taken.next_attempt_at - timedelta(seconds=1)
    assert outbound.deliver() == 0
    moved_clock.at = taken.next_attempt_at
    assert outbound.deliver() == 1

    [request] = receiver.received()
    assert taken.next_attempt_at == event.created_at + timedelta(seconds=5 + outbound.LEASE_MARGIN_SECONDS)
    assert request.header("Idempotency-Key") == str(event.pk)
    event.refresh_from_db()
    assert (event.state, event.attempts) == ("delivered", 1)


def test_a_late_failure_does_not_undo_a_delivery(server_campaign) -> None:
    event = emit(server_campaign())
    at = event.created_at
    sent = DeliveryAttempt(event_id=event.pk, attempted_at=at, url="u", http_status=200, delivered=True)
    late = DeliveryAttempt(
        event_id=event.pk, attempted_at=at, url="u", error="no answer within 20 s", retry_at=at
    )

    event_attempts_record(attempts=[sent])
    event_attempts_record(attempts=[late])  # a worker whose lease ran out, answering last

    event.refresh_from_db()
    assert (event.state, event.attempts, event.last_error) == ("delivered", 1, "")
    assert CampaignEventAttempt.objects.filter(event=event).count() == 2


@pytest.mark.django_db(transaction=True)
def test_workers_taking_at_once_share_the_due_events(server_campaign) -> None:
    campaign = server_campaign()
    services.events_emit(
        campaign=campaign, event_type="contact.dispatched", items=[{"contactId": str(i)} for i in range(60)]
    )
    start, taken = threading.Barrier(3), []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(4):
                taken.extend(str(e.pk) for e in events_take(limit=10, lease_seconds=30))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(taken) == 60 and set(taken) == {
        str(pk) for pk in CampaignEvent.objects.values_list("pk", flat=True)
    }


# -- a real worker, killed mid-delivery ----------------------------------------------------------


def kill_with_its_pool(process) -> None:
    """SIGKILL a Celery worker and its pool's processes, as a crash or an OOM kill would."""
    pool = [
        int(pid)
        for task in Path(f"/proc/{process.pid}/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]
    for pid in [*pool, process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_no_event_and_repeats_only_under_the_same_key(
    celery_processes, make_campaign, org, receiver
) -> None:
    receiver.delay = 2  # every answer takes a while: the kill finds deliveries under way
    worker = celery_processes.worker(concurrency=2)
    celery_processes.beat()
    # One attempt per customer and room for all at once: every call is placed in the first ticks.
    strategy = {"respect_recipient_time_zone": False, "max_concurrent_calls": 20, "max_attempts": 1}
    campaign = make_campaign(
        20,
        strategy=strategy,
        server={"url": f"{receiver.url}/events", "timeoutSeconds": 5},
        server_messages=list(SERVER_MESSAGES),
    )

    def all_placed_and_events_under_way() -> bool:
        placed = Call.objects.filter(campaign=campaign).exclude(status="queued").count() == 20
        return placed and receiver.in_flight > 0

    # Killed mid-campaign (calls ringing, outcomes and their events to come) and mid-delivery. Once
    # every call has left, the dialer has nothing of its own to recover (its tests hold that).
    wait_for(all_placed_and_events_under_way, timeout=90, interval=0.05, what="events under way")
    kill_with_its_pool(worker)
    cut = [r for r in receiver.received() if r.answered is None]  # requests its answer never reached
    celery_processes.worker(name="restarted", concurrency=2)

    def settled() -> bool:
        done = Campaign.objects.get(pk=campaign.pk).has_ended
        return (
            done and not CampaignEvent.objects.filter(campaign=campaign).exclude(state="delivered").exists()
        )

    try:
        wait_for(settled, timeout=180, interval=1, what="the campaign to end and every event to be delivered")
    except pytest.fail.Exception:
        states = Counter(CampaignEvent.objects.filter(campaign=campaign).values_list("state", "last_error"))
        pytest.fail(f"campaign {Campaign.objects.get(pk=campaign.pk).status}; events {states}")
    wait_for(lambda: receiver.in_flight == 0, timeout=10, what="the last answers")

    events = {str(e.pk): e for e in CampaignEvent.objects.filter(campaign=campaign)}
    sent, verify = receiver.by_key(), readme_verify()
    assert set(sent) == set(events)  # every event arrived, and nothing else did
    for key, requests in sent.items():
        assert len({r.body for r in requests}) == 1, "a repeat is the same event, byte for byte"
        message = requests[0].json["message"]
        assert (message["eventId"], message["eventType"], message["data"]) == (
            key,
            events[key].event_type,
            events[key].data,
        )
        assert all(verify(org.event_signing_secret, r.headers, r.body) for r in requests)
    assert cut and all(len(sent[r.header("Idempotency-Key")]) > 1 for r in cut), (
        "cut deliveries are sent again"
    )
    # Nothing the campaign did went unreported: every call it placed, every contact's end, its start and end.
    types = Counter(e.event_type for e in events.values())
    assert types["campaign.started"] == types["campaign.ended"] == 1
    assert (
        types["contact.dispatched"]
        == Call.objects.filter(campaign=campaign, confirmed_at__isnull=False).count()
    )
    reported = sorted(e.data["contactId"] for e in events.values() if e.event_type in FINAL)
    final = [c for c in campaign.customers.all() if contacts.contact_status(c.state, c.reason) in FINAL]
    assert reported == sorted(str(c.pk) for c in final) and len(final) == 20
