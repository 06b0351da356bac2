"""Vapi's webhooks at /webhooks/vapi/<token>: parsed into the right events, recorded once whatever
the order or the number of deliveries, and refused when forged, malformed or too large."""

from __future__ import annotations

import copy
import json
import logging
import random
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse

from campaigns import services
from campaigns.models import Call, CallLog, ProviderAccount, TranscriptLine
from dialer import placement
from dialer.providers.vapi import VapiProvider
from dialer.webhooks import record_received_events
from tests.fakes.dialdeck_side import (
    counters,
    queue_calls,
    recount,
    vapi_account,
    vapi_caller_id,
    vapi_campaign,
)
from tests.fakes.vapi_server import FakeVapi
from tests.support import nested

FIXTURES = Path(__file__).resolve().parents[1] / "spec" / "fixtures" / "provider"
RINGING, IN_PROGRESS, ENDED, REPORT = "ringing", "in-progress", "ended", "report"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def vapi():
    with FakeVapi() as server:
        server.drop_webhooks = True  # these tests deliver the webhooks themselves
        yield server


@pytest.fixture
def account(org, vapi) -> ProviderAccount:
    return vapi_account(org, vapi)


@pytest.fixture
def placed(account):
    """Three calls of one campaign, placed at the fake provider and waiting for news."""
    people = [services.CustomerInput(number=f"+1415555{i:04d}", name=f"Person {i}") for i in range(3)]
    calls = queue_calls(vapi_campaign(vapi_caller_id(account), people, strategy={"max_attempts": 1}))
    for call in calls:
        assert placement.place_many([str(call.pk)])[0][1] is None
    return list(Call.objects.filter(pk__in=[c.pk for c in calls]).order_by("customer__position"))


def message(call: Call, step: str, reason: str = "customer-ended-call") -> dict:
    """A fixture's server message rewritten for one of our calls."""
    name = {
        RINGING: "webhook-status-update.json",
        IN_PROGRESS: "webhook-status-update.json",
        ENDED: "webhook-status-update-ended.json",
        REPORT: "webhook-end-of-call-report.json",
    }[step]
    body = copy.deepcopy(fixture(name))
    body["message"]["call"]["id"] = call.provider_call_id
    body["message"]["call"]["assistantOverrides"]["metadata"]["callId"] = str(call.pk)
    # Vapi echoes the overrides we sent, our secret included.
    secret = call.provider_account.webhook_secret
    body["message"]["call"]["assistantOverrides"]["server"]["headers"]["X-Vapi-Secret"] = secret
    if step == RINGING:
        body["message"]["status"] = "ringing"
    if step in (ENDED, REPORT):
        body["message"]["endedReason"] = reason
    return body


def post(client, account: ProviderAccount, body, *, secret: str | None = "", **headers):
    """POST to the account's webhook URL, then let the worker record what the endpoint stored.

    `secret` '' means the right one, None means none at all.
    """
    if secret is not None:
        headers["HTTP_X_VAPI_SECRET"] = secret or account.webhook_secret
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    response = client.post(
        f"/webhooks/vapi/{account.webhook_token}", data=data, content_type="application/json", **headers
    )
    record_received_events()
    return response


def webhook_rows() -> int:
    return CallLog.objects.filter(kind="webhook").count()


# -- parsing ---------------------------------------------------------------------------------------


def parse(account: ProviderAccount, body: dict | str) -> list:
    """The events of a webhook whose body is `body` (a dict, or the text as sent)."""
    request = RequestFactory().post(
        "/hook",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        HTTP_X_VAPI_SECRET=account.webhook_secret,
    )
    return VapiProvider(account=account).parse_webhook(request)


def test_each_fixture_is_parsed_into_the_events_it_describes(account) -> None:
    [in_progress] = parse(account, fixture("webhook-status-update.json"))
    [ended] = parse(account, fixture("webhook-status-update-ended.json"))
    [report] = parse(account, fixture("webhook-end-of-call-report.json"))

    assert (in_progress.kind, in_progress.status, in_progress.ended_reason) == (
        "status-update",
        "in-progress",
        "",
    )
    assert in_progress.provider_call_id == "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"
    assert in_progress.call_id == ""  # the fixture's metadata has no callId of ours
    assert in_progress.at == datetime(2026, 10, 5, 16, 0, 4, 512000, tzinfo=UTC)
    assert in_progress.started_at == datetime(2026, 10, 5, 16, 0, 4, 512000, tzinfo=UTC)
    assert (ended.status, ended.ended_reason) == ("ended", "customer-did-not-answer")
    assert ended.ended_at == datetime(2026, 10, 5, 16, 0, 35, tzinfo=UTC)
    assert (report.kind, report.status, report.ended_reason) == (
        "end-of-call-report",
        "ended",
        "customer-ended-call",
    )
    assert report.cost == Decimal("0.1875")
    assert report.summary == "John confirmed the password reset worked; rated 5/5."
    assert report.transcript.startswith("AI: Hi John")
    assert report.recording_url == "https://storage.example.com/rec/e1f2a3b4.wav"
    assert report.analysis["structuredData"] == {"satisfied": True, "score": 5}
    assert (report.started_at, report.ended_at) == (
        datetime(2026, 10, 5, 16, 0, 4, 512000, tzinfo=UTC),
        datetime(2026, 10, 5, 16, 2, 41, 90000, tzinfo=UTC),
    )
    assert "<per-campaign shared secret>" in report.raw


def test_our_call_id_is_found_in_squad_overrides_or_the_calls_own_metadata(account) -> None:
    ours = "0b3b7c1e-5a55-4d6e-9d55-2b1f2f6c3a10"
    squad = fixture("webhook-status-update.json")
    squad["message"]["call"]["squadOverrides"] = squad["message"]["call"].pop("assistantOverrides")
    squad["message"]["call"]["squadOverrides"]["metadata"]["callId"] = ours
    plain = fixture("webhook-status-update.json")
    plain["message"]["call"].pop("assistantOverrides")
    plain["message"]["call"]["metadata"] = {"callId": ours}

    assert [e.call_id for e in parse(account, squad) + parse(account, plain)] == [ours, ours]


def test_recordings_are_read_from_the_newer_artifact_recording_object_too(account) -> None:
    body = fixture("webhook-end-of-call-report.json")
    artifact = body["message"]["artifact"]
    del artifact["recordingUrl"]
    artifact["recording"] = {
        "mono": {"combinedUrl": "https://r.example/m.wav"},
        "stereoUrl": "https://r.example/s.wav",
    }

    [report] = parse(account, body)

    assert (report.recording_url, report.stereo_recording_url) == (
        "https://r.example/m.wav",
        "https://r.example/s.wav",
    )


def test_other_messages_and_unknown_statuses_are_acknowledged_and_ignored(account) -> None:
    odd = fixture("webhook-status-update.json")
    odd["message"]["status"] = "teleporting"

    assert parse(account, fixture("webhook-campaign-predial.json")) == []
    assert parse(account, odd) == []
    assert parse(account, {"message": {"type": "transcript", "transcript": "hi"}}) == []


# -- over HTTP -------------------------------------------------------------------------------------


def test_a_call_told_its_whole_story_ends_with_its_report(client, account, placed) -> None:
    call = placed[0]
    for step in (RINGING, IN_PROGRESS, ENDED, REPORT):
        answer = post(client, account, message(call, step))
        assert (answer.status_code, answer.json()) == (200, {"received": 1})

    call.refresh_from_db()
    assert (call.status, call.ended_reason, call.report_received) == ("ended", "customer-ended-call", True)
    assert call.cost == Decimal("0.1875") and call.duration_seconds > 0
    assert call.customer.state == "completed"
    assert counters(call.campaign) == recount(call.campaign)
    bodies = "".join(CallLog.objects.filter(call=call, kind="webhook").values_list("body", flat=True))
    assert '"X-Vapi-Secret":"[redacted]"' in bodies and account.webhook_secret not in bodies


def test_a_webhook_delivered_three_times_is_recorded_once(client, account, placed) -> None:
    call = placed[0]
    for step in (RINGING, IN_PROGRESS, ENDED, REPORT):
        for _ in range(3):
            assert post(client, account, message(call, step)).status_code == 200

    assert CallLog.objects.filter(call=call, kind="webhook").count() == 4
    assert counters(call.campaign) == recount(call.campaign)
    assert call.campaign.calls_ended == 1


def test_late_and_out_of_order_webhooks_never_move_a_call_backwards(client, account, placed) -> None:
    first, second = placed[0], placed[1]
    for step in (ENDED, IN_PROGRESS, RINGING):  # the end first
        post(client, account, message(first, step, reason="customer-busy"))
    for step in (RINGING, REPORT, IN_PROGRESS, ENDED):  # the report before the status says ended
        post(client, account, message(second, step))

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.ended_reason, first.customer.state) == ("ended", "customer-busy", "failed")
    assert (second.status, second.ended_reason, second.report_received) == (
        "ended",
        "customer-ended-call",
        True,
    )
    assert second.summary.startswith("John confirmed")
    assert counters(first.campaign) == recount(first.campaign)


@pytest.mark.parametrize(
    "headers",
    [
        {"secret": "wrong"},
        {"secret": None},
        {"secret": None, "HTTP_AUTHORIZATION": "Bearer wrong"},
        {"secret": None, "HTTP_AUTHORIZATION": "Basic c2VjcmV0"},
    ],
    ids=["wrong-secret", "no-secret", "wrong-bearer", "not-bearer"],
)
def test_forged_webhooks_are_refused_and_change_nothing(client, account, placed, headers) -> None:
    call = placed[0]
    before = counters(call.campaign)

    answer = post(client, account, message(call, ENDED), **headers)

    assert answer.status_code == 401
    assert webhook_rows() == 0
    call.refresh_from_db()
    assert call.status == "queued" and counters(call.campaign) == before


def test_a_bearer_token_is_accepted_like_the_legacy_header(client, account, placed) -> None:
    answer = post(
        client,
        account,
        message(placed[0], RINGING),
        secret=None,
        HTTP_AUTHORIZATION=f"Bearer {account.webhook_secret}",
    )

    assert answer.status_code == 200 and webhook_rows() == 1


def test_another_accounts_secret_opens_nothing(client, org, account, placed) -> None:
    other = ProviderAccount.objects.create(organization=org, name="Other", kind="vapi", base_url="http://x")

    assert post(client, account, message(placed[0], ENDED), secret=other.webhook_secret).status_code == 401
    assert post(client, other, message(placed[0], ENDED)).json() == {"received": 1}  # not its call: ignored
    assert webhook_rows() == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"message": {"type": "status-update", "status": "end',
        b"",
        b"[]",
        b'{"msg": {}}',
        b'{"message": "ended"}',
        b"\xff\xfe",
    ],
    ids=["truncated", "empty", "array", "no-message", "message-not-object", "not-utf8"],
)
def test_malformed_webhooks_get_a_400_and_change_nothing(client, account, placed, body) -> None:
    assert post(client, account, body).status_code == 400
    assert webhook_rows() == 0


def test_a_10_mb_body_is_refused_before_it_is_parsed(client, account, placed) -> None:
    body = message(placed[0], REPORT)
    body["message"]["artifact"]["transcript"] = "x" * (10 * 1024 * 1024)

    answer = post(client, account, body)

    assert answer.status_code == 413 and webhook_rows() == 0


def test_a_webhook_about_a_call_we_do_not_know_gets_a_200_and_changes_nothing(
    client, account, placed, caplog
) -> None:
    stranger = message(placed[0], ENDED)
    stranger["message"]["call"]["id"] = "not-one-of-ours"
    stranger["message"]["call"]["assistantOverrides"]["metadata"]["callId"] = (
        "00000000-0000-4000-8000-000000000000"
    )
    before = counters(placed[0].campaign)

    with caplog.at_level(logging.INFO):
        answer = post(client, account, stranger)

    assert (answer.status_code, answer.json()) == (200, {"received": 1})
    assert webhook_rows() == 0 and counters(placed[0].campaign) == before
    assert "unknown call" in caplog.text or "name no call" in caplog.text
    assert "+1415" not in caplog.text and account.webhook_secret not in caplog.text


def test_an_unknown_address_is_404_and_only_post_is_allowed(client, account) -> None:
    assert client.post("/webhooks/vapi/nobody", data="{}", content_type="application/json").status_code == 404
    assert client.get(f"/webhooks/vapi/{account.webhook_token}").status_code == 405


def test_counters_equal_a_recount_after_duplicated_shuffled_forged_and_broken_deliveries(
    client, account, placed
) -> None:
    reasons = ["customer-ended-call", "voicemail", "customer-did-not-answer"]
    deliveries = [
        (call, step, reason)
        for call, reason in zip(placed, reasons, strict=True)
        for step in (RINGING, IN_PROGRESS, ENDED, REPORT)
    ]
    deliveries *= 3
    random.Random(4).shuffle(deliveries)
    refused = 0
    for i, (call, step, reason) in enumerate(deliveries):
        assert post(client, account, message(call, step, reason)).status_code == 200
        if i % 4 == 0:  # a forger and a broken sender in between
            refused += (
                post(client, account, message(call, ENDED, "manually-canceled"), secret="guess").status_code
                == 401
            )
            refused += post(client, account, b'{"message": {"type": "status-upd').status_code == 400

    assert refused == 2 * len(range(0, len(deliveries), 4))
    assert [
        c.ended_reason
        for c in Call.objects.filter(pk__in=[c.pk for c in placed]).order_by("customer__position")
    ] == reasons
    assert CallLog.objects.filter(kind="webhook").count() == 3 * 4
    campaign = placed[0].campaign
    assert counters(campaign) == recount(campaign)
    assert (campaign.calls_ended, campaign.calls_ended_voicemail, campaign.customers_final) == (3, 1, 3)


# -- the inbox between the endpoint and the recorder -----------------------------------------------


def test_an_accepted_webhook_is_kept_until_a_worker_records_it(client, account, placed) -> None:
    call = placed[0]
    response = client.post(
        f"/webhooks/vapi/{account.webhook_token}",
        data=json.dumps(message(call, ENDED)),
        content_type="application/json",
        HTTP_X_VAPI_SECRET=account.webhook_secret,
    )
    assert response.status_code == 200 and response.json() == {"received": 1}
    call.refresh_from_db()
    assert call.status != "ended"  # no worker yet: stored, not lost
    assert record_received_events() == 1
    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "customer-ended-call")
    assert record_received_events() == 0  # recorded once


def test_an_event_that_cannot_be_recorded_is_dropped_without_blocking_the_next(
    account, placed, caplog
) -> None:
    from campaigns.services.inputs import CallEvent
    from dialer.models import WebhookEvent

    call = placed[0]
    WebhookEvent.objects.create(
        account=account, payload=json.dumps({"kind": "status-update", "status": "ended", "at": "not a time"})
    )
    WebhookEvent.objects.create(account=account, payload='{"kind": "status-update", "stat')  # cut short
    good = CallEvent(kind="status-update", status="ended", call_id=str(call.pk), ended_reason="customer-busy")
    WebhookEvent.objects.create(account=account, payload=json.dumps(good.to_json()))
    with caplog.at_level(logging.ERROR):
        assert record_received_events() == 3
    call.refresh_from_db()
    assert call.ended_reason == "customer-busy"
    assert "could not be recorded" in caplog.text
    assert not WebhookEvent.objects.exists()


def test_a_status_message_is_kept_as_received_and_read_only_when_recorded(client, account, placed) -> None:
    """The callback stores Vapi's message, the secret it echoes redacted and nothing else changed
    (byte for byte when it echoes none); the worker reads it into the event parse_webhook gives."""
    from dialer.models import WebhookEvent

    call, secret = placed[0], account.webhook_secret
    body = message(call, ENDED)
    sent = json.dumps(body, indent=1)  # as Vapi wrote it, spaces and all
    assert post_hook_text(client, account, sent).json() == {"received": 1}
    [row] = WebhookEvent.objects.all()
    assert row.as_received and secret not in row.payload
    body["message"]["call"]["assistantOverrides"]["server"]["headers"] = {"X-Vapi-Secret": "[redacted]"}
    assert json.loads(row.payload) == body
    assert str(row).startswith("provider message received ")
    [event] = VapiProvider(account=account).stored_events(row.payload)
    assert event == parse(account, sent)[0] and event.raw == row.payload
    with pytest.raises(ValueError):  # only what accept_webhook keeps is read
        VapiProvider(account=account).stored_events(json.dumps(fixture("webhook-campaign-predial.json")))
    call.refresh_from_db()
    assert call.status != "ended"  # read by the worker, not by the callback
    assert record_received_events() == 1
    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "customer-ended-call")
    del body["message"]["call"]["assistantOverrides"]["server"]["headers"]
    unsecret = json.dumps(body, indent=1)
    assert post_hook_text(client, account, unsecret).json() == {"received": 1}
    assert WebhookEvent.objects.get().payload == unsecret


def post_hook_text(client, account, text: str):
    """`text` posted to the account's address as Vapi posts its messages (not recorded yet)."""
    return client.post(
        f"/webhooks/vapi/{account.webhook_token}",
        data=text,
        content_type="application/json",
        HTTP_X_VAPI_SECRET=account.webhook_secret,
    )


def test_messages_not_acted_on_are_answered_and_never_stored(client, account, placed) -> None:
    """An unknown status, another message type, a draft transcript line: {"received": 0}, nothing
    kept for the worker."""
    from dialer.models import WebhookEvent

    odd = message(placed[0], RINGING)
    odd["message"]["status"] = "teleporting"
    draft = line(placed[0], "user", "Hel", at=T0, kind="partial")
    for body in (odd, fixture("webhook-campaign-predial.json"), draft):
        assert post_hook_text(client, account, json.dumps(body)).json() == {"received": 0}
    assert not WebhookEvent.objects.exists()


def test_rows_of_the_release_before_and_kept_messages_are_recorded_together(account, placed, caplog) -> None:
    """A CallEvent row inserted as a web process of the release before inserts it (no as_received
    column named: the database's default says it is an event), then kept messages, one of them
    text that is no message: all recorded in one run, the unreadable one dropped with a log line."""
    from django.db import connection

    from campaigns.services.inputs import CallEvent
    from dialer.models import WebhookEvent

    first, second = placed[0], placed[1]
    old = CallEvent(kind="status-update", status="in-progress", call_id=str(first.pk), at=datetime.now(UTC))
    table = WebhookEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, payload, received_at) VALUES (%s, %s, %s)",
            [
                account.pk.hex if connection.vendor == "sqlite" else account.pk,
                json.dumps(old.to_json()),
                datetime.now(UTC),
            ],
        )
    WebhookEvent.objects.create(account=account, as_received=True, payload='{"message": ["not one"]}')
    WebhookEvent.objects.create(account=account, as_received=True, payload=json.dumps(message(first, REPORT)))
    WebhookEvent.objects.create(account=account, as_received=True, payload=json.dumps(message(second, ENDED)))
    assert [row.as_received for row in WebhookEvent.objects.order_by("id")] == [False, True, True, True]
    with caplog.at_level(logging.ERROR):
        assert record_received_events() == 4
    assert caplog.text.count("could not be recorded") == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.ended_reason, first.started_at is not None) == (
        "ended",
        "customer-ended-call",
        True,
    )
    assert (second.status, second.ended_reason) == ("ended", "customer-ended-call")
    assert not WebhookEvent.objects.exists()


def post_hook(client, account, call, step: str):
    """Vapi's `step` message about `call`, posted to the account's address as Vapi posts it."""
    return post_hook_text(client, account, json.dumps(message(call, step)))


def inbox_statements() -> list[str]:
    """The inbox inserts prepared on this connection's server session."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%INSERT%"])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)  # callbacks arrive in autocommit, as in a web process
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "behind-a-pooler"])
def test_the_inbox_insert_is_prepared_once_per_connection_unless_turned_off(
    client, account, placed, prepared
) -> None:
    """DATABASE_PREPARED_STATEMENTS: on, the server parses and plans the insert once per
    connection; off (a pooler that cannot keep prepared statements), callbacks are still stored."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # whatever an earlier test on this connection prepared
    threshold = connection.connection.prepare_threshold
    if not prepared:
        connection.connection.prepare_threshold = None  # what DATABASE_PREPARED_STATEMENTS=false sets
    try:
        for step in (RINGING, IN_PROGRESS, ENDED):
            assert post_hook(client, account, placed[0], step).json() == {"received": 1}
    finally:
        connection.connection.prepare_threshold = threshold  # the connection outlives this test
    statements = inbox_statements()
    assert len(statements) == (1 if prepared else 0)
    assert all("dialer_webhookevent" in s for s in statements)
    assert record_received_events() == 3
    placed[0].refresh_from_db()
    assert placed[0].status == "ended"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("forget", ["DEALLOCATE ALL", "DISCARD ALL"])
def test_an_inbox_insert_deallocated_behind_its_back_is_prepared_again(
    client, account, placed, forget
) -> None:
    """The insert is prepared once per connection and then only executed. A pooler's DISCARD
    ALL, or psycopg's DEALLOCATE ALL after rolling back statements of its own, drops it from the
    server while the web process still counts it as prepared: the next callback must still be
    stored (prepared again), never answered 500."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")

    assert post_hook(client, account, placed[0], RINGING).json() == {"received": 1}
    assert len(inbox_statements()) == 1
    with connection.cursor() as cursor:
        cursor.execute(forget)
    assert inbox_statements() == []
    assert post_hook(client, account, placed[0], IN_PROGRESS).json() == {"received": 1}
    assert post_hook(client, account, placed[0], ENDED).json() == {"received": 1}
    assert len(inbox_statements()) == 1
    assert record_received_events() == 3
    placed[0].refresh_from_db()
    assert placed[0].status == "ended"


@pytest.mark.django_db(transaction=True)
def test_a_web_process_whose_database_connection_died_answers_again_from_the_next_callback(
    client, account, placed
) -> None:
    """The inbox insert is sent through libpq (psycopg's PGconn, to be prepared): its errors must
    still reach Django as database errors, so the connection it broke is dropped when the request ends and
    the next callback opens a new one. Before, the dead connection was kept (CONN_MAX_AGE, 60 s)
    and every callback to that web process answered 500 until it expired."""
    from django.core.signals import request_finished
    from django.db import OperationalError, close_old_connections, connection

    if connection.vendor != "postgresql":
        pytest.skip("the insert through libpq is PostgreSQL's")

    def deliver(step: str):
        return post_hook(client, account, placed[0], step)

    def request_ends() -> None:  # what Django's WSGI handler does after each answer
        request_finished.send(sender=None)  # the test client disconnects close_old_connections
        close_old_connections()

    assert deliver(RINGING).status_code == 200
    request_ends()
    pid = connection.connection.info.backend_pid
    with psycopg_connection() as other:  # the server ends the web process's session (a restart, a kill)
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(OperationalError):
        deliver(IN_PROGRESS)
    request_ends()
    assert deliver(ENDED).json() == {"received": 1}
    assert connection.connection.info.backend_pid != pid
    assert record_received_events() == 2  # ringing and ended; the refused one was never stored
    placed[0].refresh_from_db()
    assert placed[0].status == "ended"


def psycopg_connection():
    """A connection of its own to the test database, beside Django's."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


@pytest.mark.django_db(transaction=True)
def test_an_event_that_meets_a_passing_lock_wait_stays_in_the_inbox_for_the_next_run(
    client, account, placed
) -> None:
    """A deadlock or lock timeout is not the event's fault: it must not be dropped like a
    malformed one, or its call would never end."""
    import psycopg
    from django.db import connection

    from dialer.models import WebhookEvent

    if connection.vendor != "postgresql":
        pytest.skip("SQLite writers never wait on a row lock")
    call = placed[0]
    response = client.post(
        f"/webhooks/vapi/{account.webhook_token}",
        data=json.dumps(message(call, ENDED, "customer-busy")),
        content_type="application/json",
        HTTP_X_VAPI_SECRET=account.webhook_secret,
    )
    assert response.json() == {"received": 1}
    params = {k: v for k, v in connection.get_connection_params().items() if k != "context"}
    with psycopg.connect(**params) as other:
        other.execute("SELECT 1 FROM campaigns_call WHERE id = %s FOR UPDATE", [call.pk])  # someone busy
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        try:
            assert record_received_events() == 0
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert WebhookEvent.objects.count() == 1  # kept, not dropped
    assert record_received_events() == 1  # the lock is gone: recorded now
    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "customer-busy")
    assert not WebhookEvent.objects.exists()


def test_a_webhook_with_hostile_timestamps_and_nul_characters_is_recorded_and_breaks_nothing(
    client, placed, owner
) -> None:
    """«Compliance holes» 5: `"startedAt": "9999-12-31T23:59:59-12:00"` was stored as year 10000,
    and from then on the reaper and the call pages answered 500 for every organization."""
    call = placed[0]
    body = message(call, REPORT)
    body["message"]["startedAt"] = body["message"]["call"]["startedAt"] = "9999-12-31T23:59:59-12:00"
    body["message"]["endedAt"] = "0001-01-01T00:00:00+14:00"
    body["message"]["timestamp"] = 253402300799999
    body["message"]["analysis"] = {"summary": "caller said \u0000 nothing", "structuredData": {"k": "\u0000"}}
    body["message"]["artifact"]["transcript"] = "AI: hi\u0000"
    assert post(client, call.provider_account, body).status_code == 200
    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "customer-ended-call")
    assert call.started_at is None or call.started_at.year == datetime.now(UTC).year
    assert call.ended_at.year == datetime.now(UTC).year  # the report's own date was refused: now
    assert "\x00" not in call.transcript and call.analysis["structuredData"] == {"k": ""}
    assert placement.reap_stale_calls() == 0  # the reaper still runs
    client.force_login(owner)
    assert client.get(f"/app/campaigns/{call.campaign_id}/calls/{call.pk}").status_code == 200
    assert client.get(f"/campaign/{call.campaign_id}").status_code == 200


def test_the_echoed_secret_is_redacted_however_the_json_writes_it(account, placed) -> None:
    """Written plainly or with JSON escapes (\\u0073, \\/), the secret Vapi echoes is redacted;
    a body without it is kept byte for byte."""
    secret = account.webhook_secret
    body = message(placed[0], ENDED)
    plain = json.dumps(body)
    assert secret in plain
    escaped = plain.replace(secret, "".join(f"\\u{ord(c):04x}" for c in secret))
    for text in (plain, escaped, plain.replace("/", "\\/")):
        [event] = parse(account, text)
        kept = event.raw  # what the call's log keeps (before its 2,000-character cut)
        assert secret not in json.dumps(json.loads(kept)) and secret not in kept
        headers = json.loads(kept)["message"]["call"]["assistantOverrides"]["server"]["headers"]
        assert headers == {"X-Vapi-Secret": "[redacted]"}
    body["message"]["call"]["assistantOverrides"]["server"]["headers"] = {}
    unsecret = json.dumps(body, indent=1)  # as sent, spaces and all
    assert parse(account, unsecret)[0].raw == unsecret


@pytest.mark.parametrize("depth", [40, 250, 300])
def test_a_report_nested_deeper_than_json_is_written_is_recorded_and_breaks_nothing(
    client, placed, owner, depth
) -> None:
    """An analysis nested beyond jsonlimits.MAX_DEPTH: 300 levels (orjson writes at most 254: the
    inbox insert raised, a 500 on every retry, the report never recorded), 250 (stored, then the
    campaign's document, three levels above it, answered 500), 40; and a field 900 levels deep
    (deeper than the redaction's walk recursed). The report is recorded without the analysis;
    the campaign's document and pages answer."""
    call = placed[0]
    body = message(call, REPORT)
    body["message"]["analysis"] = {"summary": "fine", "structuredData": nested(depth)}
    body["message"]["extra"] = nested(900)
    assert post(client, call.provider_account, body).status_code == 200
    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "customer-ended-call")
    assert call.analysis is None and call.summary == "fine"
    assert call.provider_account.webhook_secret not in "".join(call.log.values_list("body", flat=True))
    client.force_login(owner)
    assert client.get(f"/app/campaigns/{call.campaign_id}/calls/{call.pk}").status_code == 200
    assert client.get(f"/campaign/{call.campaign_id}").status_code == 200


# -- live transcripts ------------------------------------------------------------------------------
# Vapi's `transcript` server messages: each final line kept once on its call, in the order said;
# drafts, unknown speakers, empty lines and strangers' calls dropped; recorded beside status events.

T0 = int(
    time.time() * 1000
)  # a Vapi timestamp (ms since the epoch): now, as the recorder takes only recent ones


def line(call: Call, role: str, text: object, *, at: int, kind: str = "final") -> dict:
    """Vapi's `transcript` server message for one of our calls (its call object as a status update's)."""
    body = copy.deepcopy(message(call, IN_PROGRESS))
    call_object = body["message"]["call"]
    body["message"] = {
        "type": "transcript",
        "role": role,
        "transcriptType": kind,
        "transcript": text,
        "timestamp": at,
        "call": call_object,
    }
    return body


def said(call: Call) -> list[tuple[str, str]]:
    return list(TranscriptLine.objects.filter(call=call).order_by("at", "id").values_list("role", "text"))


def test_final_lines_are_kept_once_in_the_order_said_and_the_rest_dropped(client, placed, account) -> None:
    call = placed[0]
    for step in (RINGING, IN_PROGRESS):
        assert post(client, account, message(call, step)).status_code == 200
    logged = CallLog.objects.filter(call=call).count()
    bodies = [
        line(call, "user", "Hello, who", at=T0 + 2000, kind="partial"),  # a draft: not kept
        line(call, "assistant", "Hi, this is Ava.", at=T0 + 1000),
        line(call, "user", "Hello, who is this?", at=T0 + 2000),
        line(call, "assistant", "Ava, from TechFlow.", at=T0 + 3000),
        line(call, "assistant", "Ava, from TechFlow.", at=T0 + 3000),  # delivered twice
        line(call, "system", "You are a helpful agent", at=T0 + 3500),  # no speaker of the call
        line(call, "user", "   ", at=T0 + 3600),  # no words
        line(call, "user", {"text": "no"}, at=T0 + 3700),  # not text
        line(call, "user", "x" * 5000, at=T0 + 4000),  # too long: cut
    ]
    stranger = line(call, "user", "Not yours.", at=T0 + 5000)
    stranger["message"]["call"]["id"] = "someone-elses"
    stranger["message"]["call"]["assistantOverrides"]["metadata"]["callId"] = (
        "6d1f7e4b-0000-4000-8000-000000000000"
    )
    for body in [*bodies, stranger]:
        assert post(client, account, body).status_code == 200
    assert said(call) == [
        ("assistant", "Hi, this is Ava."),
        ("user", "Hello, who is this?"),
        ("assistant", "Ava, from TechFlow."),
        ("user", "x" * TranscriptLine.TEXT_LIMIT),
    ]
    assert TranscriptLine.objects.count() == 4  # the stranger's line named no call of this account
    call.refresh_from_db()
    assert call.status == "in-progress"  # a line moves nothing
    assert CallLog.objects.filter(call=call).count() == logged  # and is its own record, not the log's
    assert counters(call.campaign) == recount(call.campaign)


def test_a_forged_line_is_refused_like_any_webhook(client, placed, account) -> None:
    response = post(client, account, line(placed[0], "user", "Forged", at=T0), secret="wrong")
    assert response.status_code == 401
    assert not TranscriptLine.objects.exists()


def test_lines_and_status_events_in_one_batch_are_both_recorded(client, placed, account) -> None:
    first, second = placed[0], placed[1]
    url = f"/webhooks/vapi/{account.webhook_token}"
    bodies = [
        message(first, IN_PROGRESS),
        line(first, "assistant", "Good morning.", at=T0 + 1000),
        message(second, IN_PROGRESS),
        line(second, "user", "Yes?", at=T0 + 1500),
        line(first, "user", "Morning!", at=T0 + 2000),
        message(first, ENDED),
        line(first, "user", "Bye.", at=T0 + 2500),  # after the end, as a late delivery comes
    ]
    for body in bodies:
        response = client.post(
            url,
            data=json.dumps(body),
            content_type="application/json",
            HTTP_X_VAPI_SECRET=account.webhook_secret,
        )
        assert response.status_code == 200
    assert record_received_events() == len(bodies)  # one batch
    assert said(first) == [("assistant", "Good morning."), ("user", "Morning!"), ("user", "Bye.")]
    assert said(second) == [("user", "Yes?")]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("ended", "in-progress")
    assert counters(first.campaign) == recount(first.campaign)


def test_the_call_page_shows_the_lines_and_its_poll_brings_only_new_ones(
    client, placed, account, owner
) -> None:
    call = placed[0]
    post(client, account, message(call, IN_PROGRESS))
    post(client, account, line(call, "assistant", "Hi, this is Ava.", at=T0 + 1000))
    client.force_login(owner)
    page = client.get(reverse("campaigns:call", args=[call.campaign_id, call.pk])).content.decode()
    assert "Hi, this is Ava." in page and ">Live<" in page
    first = TranscriptLine.objects.get(call=call).pk
    assert f"transcript?after={first}" in page  # the poll asks for what came after it
    poll = reverse("campaigns:call-transcript", args=[call.campaign_id, call.pk])
    quiet = client.get(f"{poll}?after={first}").content.decode()
    assert "transcript-line" not in quiet and 'hx-trigger="every 2s"' in quiet
    post(client, account, line(call, "user", "Hello?", at=T0 + 2000))
    post(client, account, message(call, ENDED))
    news = client.get(f"{poll}?after={first}").content.decode()
    assert "Hello?" in news and "Hi, this is Ava." not in news
    assert 'hx-swap-oob="beforeend:#transcript-lines"' in news
    assert "every 2s" not in news  # the call has ended: the poll stops, and the Live badge goes
    assert ">Live<" not in news
    for hostile in ("junk", "²", "-5", "9" * 30):  # a link edited by hand reads "from the start"
        again = client.get(f"{poll}?after={hostile}")
        assert again.status_code == 200 and "Hi, this is Ava." in again.content.decode()


@pytest.mark.django_db(transaction=True)  # in autocommit, as a web process stores callbacks
@pytest.mark.parametrize("size", [1, 2, 8, 9, 40])
def test_a_callback_of_any_number_of_events_is_stored_whole(account, placed, size) -> None:
    """One statement for every event of a callback, whatever their number, events and messages
    kept as received alike: prepared for up to webhooks.PREPARED_SIZES (one statement kept per
    size), sent unprepared beyond."""
    from django.db import connection

    from dialer import webhooks
    from dialer.models import WebhookEvent
    from dialer.providers.base import Received

    postgresql = connection.vendor == "postgresql"
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
    accepted = [
        services.CallEvent(
            kind="status-update",
            status="ringing",
            call_id=str(placed[n % len(placed)].pk),
            provider_call_id=placed[n % len(placed)].provider_call_id,
            at=datetime(2026, 12, 5, 10, 0, n % 60, tzinfo=UTC),
        )
        if n % 3
        else Received(json.dumps(message(placed[n % len(placed)], RINGING)) + " " * n)
        for n in range(size)
    ]
    webhooks._store(account, accepted)
    stored = WebhookEvent.objects.order_by("id").values_list("account_id", "payload", "as_received")
    assert [(owner, text if kept else json.loads(text), kept) for owner, text, kept in stored] == [
        (account.pk, item.text, True) if isinstance(item, Received) else (account.pk, item.to_json(), False)
        for item in accepted
    ]
    if postgresql:
        assert len(inbox_statements()) == (1 if size <= webhooks.PREPARED_SIZES else 0)
