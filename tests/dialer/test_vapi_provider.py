"""The Vapi provider against a local fake Vapi server over real HTTP: what it sends, and how it
copes when the provider fails, times out, refuses or forgets."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, CallLog, Campaign
from dialer import claims, placement
from dialer.providers.base import provider_for
from dialer.providers.vapi import FAILED, NOT_FOUND, OVERRIDES_CONFLICT, REJECTED, URL_REFUSED
from tests.fakes.dialdeck_side import (
    FIXTURE_ASSISTANT_ID,
    FIXTURE_PHONE_NUMBER_ID,
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
JOHN = services.CustomerInput(
    number="+14155551234", name="John Carter", assistant_overrides={"variableValues": {"first_name": "John"}}
)


def age(call: Call, by: timedelta) -> None:
    """As if the call had been queued, taken and placed `by` ago (the reaper's clock runs from placing)."""
    then = timezone.now() - by
    Call.objects.filter(pk=call.pk).update(created_at=then)
    Call.objects.filter(pk=call.pk, placing_at__isnull=False).update(placing_at=then)
    Call.objects.filter(pk=call.pk, placed_at__isnull=False).update(placed_at=then)


def fixture(name: str) -> dict:
    return {k: v for k, v in json.loads((FIXTURES / name).read_text()).items() if not k.startswith("_")}


@pytest.fixture
def vapi(settings):
    with FakeVapi() as server:
        server.drop_webhooks = True  # nobody listens here; test_webhooks covers the way back
        # The fake listens on loopback, which campaigns.egress refuses unless allowed: this one port.
        settings.PROVIDER_ALLOWED_HOSTS = [server.url.removeprefix("http://")]
        yield server


@pytest.fixture
def caller(org, vapi):
    return vapi_caller_id(vapi_account(org, vapi))


def place_until_done(call: Call, *, limit: int = 10) -> list[float]:
    """Run placement like the worker would, without waiting out the backoff. Returns the delays asked for."""
    delays = []
    for _ in range(limit):
        delay = placement.place_many([str(call.pk)])[0][1]
        if delay is None:
            return delays
        delays.append(delay)
    pytest.fail("placement never finished")


def log_of(call: Call) -> list[tuple[str, int | None, str]]:
    return list(CallLog.objects.filter(call=call).values_list("kind", "http_status", "summary"))


def test_it_sends_the_create_call_request_of_the_fixture(caller, vapi) -> None:
    campaign = vapi_campaign(caller, [JOHN])
    [call] = queue_calls(campaign)

    assert placement.place_many([str(call.pk)])[0][1] is None

    [request] = vapi.posts_to_create_calls()
    account = caller.provider_account
    assert request.headers["Authorization"] == f"Bearer {account.api_key}"
    expected = fixture("create-call-request.json")
    overrides = expected["assistantOverrides"]
    overrides["server"]["url"] = f"{settings.SITE_URL}/webhooks/vapi/{account.webhook_token}"
    overrides["server"]["headers"]["X-Vapi-Secret"] = account.webhook_secret
    overrides["metadata"]["campaignId"] = str(campaign.pk)
    # Beyond the fixture: our own ids, so a webhook finds its call even before we stored Vapi's id.
    overrides["metadata"] |= {"customerId": str(call.customer_id), "callId": str(call.pk)}
    expected["name"] = f"camp {str(campaign.pk)[:8]} #0"
    assert request.body == expected
    call.refresh_from_db()
    assert call.provider_call_id in vapi.calls
    assert call.customer.state == "dialing"


def test_squads_get_squad_overrides_workflows_only_variable_values_and_machine_detection_is_asked_for(
    caller, vapi
) -> None:
    everything = services.CustomerInput(
        number="4155550177",
        number_e164_check_enabled=False,
        extension="42",
        name="Ann",
        email="ann@example.com",
        external_id="crm-9",
        assistant_overrides={"variableValues": {"plan": "gold"}, "metadata": {"crm": "9"}},
    )
    squad = vapi_campaign(caller, [everything], squad_id="squad-7", strategy={"machine_detection": True})
    workflow = vapi_campaign(caller, [JOHN], name="Flow", workflow_id="wf-3")
    for campaign in (squad, workflow):
        [call] = queue_calls(campaign)
        assert placement.place_many([str(call.pk)])[0][1] is None

    to_squad, to_workflow = (r.body for r in vapi.posts_to_create_calls())
    assert to_squad["squadId"] == "squad-7" and "assistantOverrides" not in to_squad
    assert to_squad["customer"] == {
        "number": "4155550177",
        "numberE164CheckEnabled": False,
        "extension": "42",
        "name": "Ann",
        "email": "ann@example.com",
        "externalId": "crm-9",
    }
    overrides = to_squad["squadOverrides"]
    assert overrides["variableValues"] == {"plan": "gold"}
    assert overrides["metadata"]["crm"] == "9" and overrides["metadata"]["attempt"] == 1  # deep-merged
    assert overrides["voicemailDetection"] == {"provider": "vapi"}
    assert overrides["serverMessages"] == ["status-update", "end-of-call-report"]
    assert to_workflow["workflowId"] == "wf-3"
    assert to_workflow["workflowOverrides"] == {"variableValues": {"first_name": "John"}}


def test_a_500_is_retried_and_the_call_is_placed_exactly_once(caller, vapi) -> None:
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    vapi.fail_next(1, status=500)

    assert place_until_done(call) == [placement.backoff(1)]

    call.refresh_from_db()
    assert call.status == "queued" and call.provider_call_id in vapi.calls
    assert vapi.placed_counts() == {str(call.pk): 1}
    assert [(kind, status) for kind, status, _ in log_of(call)] == [
        ("request", None),
        ("response", 500),
        ("request", None),
        ("response", 201),
    ]


def test_a_429_is_retried_after_the_retry_after_the_provider_asked_for(caller, vapi) -> None:
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    vapi.fail_next(1, status=429, retry_after=7, body={"message": "Too Many Requests", "statusCode": 429})

    assert place_until_done(call) == [7]

    assert vapi.placed_counts() == {str(call.pk): 1}
    assert "POST /call -> 429" in [summary for _, _, summary in log_of(call)]


def test_a_dropped_connection_is_retried(caller, vapi) -> None:
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    vapi.close_next(1)

    assert len(place_until_done(call)) == 1

    assert vapi.placed_counts() == {str(call.pk): 1}
    assert "POST /call: ServerDisconnectedError: Server disconnected" in [s for _, _, s in log_of(call)]


def test_a_provider_that_never_answers_is_not_asked_twice_and_the_reaper_settles_the_call(
    caller, vapi, settings
) -> None:
    # The request went out and may have created a call: posting it again could ring John twice.
    settings.PROVIDER_HTTP_TIMEOUT = 0.2
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    vapi.hang_next(1, seconds=0.5)

    assert place_until_done(call) == []  # no retry asked for
    assert placement.place_many([str(call.pk)])[0][1] is None  # a redelivered task does not post again either
    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == ("queued", "")
    assert len(vapi.posts_to_create_calls()) == 1
    summaries = [summary for kind, _, summary in log_of(call) if kind in ("response", "note")]
    assert summaries == [
        "POST /call: no answer within 0.2 s (ReadTimeout)",
        "outcome unknown: waiting for the provider's callbacks",
    ]

    age(call, timedelta(days=1))
    assert placement.reap_stale_calls() == 1  # nothing came back: closed, its line freed
    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", placement.REAPED_REASON)
    customer = call.customer
    customer.refresh_from_db()
    assert customer.state == "pending" and customer.next_attempt_at > timezone.now()  # retry_delays.failed
    assert counters(call.campaign) == recount(call.campaign)


def test_a_refused_connection_ends_the_call_after_max_tries_with_the_reason_in_the_log(
    caller, settings
) -> None:
    settings.PROVIDER_ALLOWED_HOSTS = ["127.0.0.1"]  # any port of it
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    account = caller.provider_account
    account.base_url = f"http://127.0.0.1:{port}"
    account.save()
    [call] = queue_calls(vapi_campaign(caller, [JOHN], strategy={"max_attempts": 1}))

    place_until_done(call)

    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", FAILED)
    responses = [summary for kind, _, summary in log_of(call) if kind == "response"]
    assert len(responses) == placement.MAX_TRIES
    assert all("ConnectionRefusedError" in summary for summary in responses)
    assert call.customer.state == "failed"


def test_a_refused_request_ends_the_call_at_once_with_the_rejected_reason(caller, vapi) -> None:
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    vapi.fail_next(1, status=400, body={"message": ["assistantId must be a UUID"], "statusCode": 400})

    assert place_until_done(call) == []

    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", REJECTED)
    assert len(vapi.posts_to_create_calls()) == 1


def test_a_concurrency_limit_answer_carries_vapis_reason_and_is_retried(caller, vapi) -> None:
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    reason = "call.start.error-subscription-concurrency-limit-reached"
    vapi.fail_next(1, status=400, body={"message": "Concurrency limit reached", "endedReason": reason})

    assert len(place_until_done(call)) == 1

    assert vapi.placed_counts() == {str(call.pk): 1}


def test_a_wrong_api_key_is_refused_without_retry_and_no_secret_reaches_the_log(caller) -> None:
    account = caller.provider_account
    account.api_key = "not-the-key"
    account.save()
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))

    place_until_done(call)

    call.refresh_from_db()
    assert (call.ended_reason, [s for _, s, _ in log_of(call)]) == (REJECTED, [None, 401, None])
    bodies = " ".join(CallLog.objects.filter(call=call).values_list("body", flat=True))
    assert account.webhook_secret not in bodies and "not-the-key" not in bodies
    assert "[redacted]" in bodies


def test_the_reaper_asks_the_provider_about_a_call_whose_webhooks_were_lost(caller, vapi) -> None:
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    placement.place_many([str(call.pk)])
    vapi.settle()
    age(call, timedelta(hours=1))

    assert placement.reap_stale_calls() == 0  # closed by what the provider said, not by force

    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "customer-ended-call")
    assert call.report_received and call.recording_url.endswith(".wav") and call.summary
    assert call.customer.state == "completed"
    polls = [summary for kind, _, summary in log_of(call) if kind == "poll"]
    assert f"GET /call/{call.provider_call_id} -> 200" in polls
    assert counters(call.campaign) == recount(call.campaign)


def test_the_reaper_closes_a_call_whose_provider_answer_is_nested_deeper_than_python_recurses(
    caller, vapi
) -> None:
    """GET /call/{id} answering with a field 900 levels deep: the redaction of the event made of
    it raised RecursionError on every run, and the call was never closed."""
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    placement.place_many([str(call.pk)])
    vapi.settle()
    call.refresh_from_db()
    vapi.calls[call.provider_call_id] |= {"extra": nested(900)}
    age(call, timedelta(hours=1))

    assert placement.reap_stale_calls() == 0

    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "customer-ended-call")


def test_a_call_the_provider_has_never_heard_of_ends_as_not_found(caller, vapi) -> None:
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    placement.place_many([str(call.pk)])
    vapi.settle()
    vapi.calls.clear()
    age(call, timedelta(hours=1))

    placement.reap_stale_calls()

    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", NOT_FOUND)
    assert counters(call.campaign) == recount(call.campaign)


def people(n: int) -> list[services.CustomerInput]:
    return [services.CustomerInput(number=f"+1415555{1000 + i}", name=f"Caller {i}") for i in range(n)]


def test_a_batch_is_posted_once_per_call_and_each_stores_its_own_provider_id(caller, vapi) -> None:
    calls = queue_calls(vapi_campaign(caller, people(12)))
    ids = [str(call.pk) for call in calls]

    assert placement.place_many(ids) == [(call_id, None) for call_id in ids]
    assert placement.place_many(ids) == [(call_id, None) for call_id in ids]  # redelivered: nothing sent

    assert vapi.placed_counts() == {call_id: 1 for call_id in ids}
    created = {r.body["customer"]["number"] for r in vapi.posts_to_create_calls()}
    assert created == {call.customer.number for call in calls}
    stored = dict(Call.objects.filter(pk__in=ids).values_list("pk", "provider_call_id"))
    assert set(stored.values()) == set(vapi.calls)  # each call holds the id Vapi gave it
    for call in Call.objects.filter(pk__in=ids).select_related("customer"):
        assert call.placed_at is not None and call.customer.state == "dialing"
        assert [(kind, status) for kind, status, _ in log_of(call)] == [("request", None), ("response", 201)]


def test_in_a_batch_a_failed_request_is_retried_alone(caller, vapi) -> None:
    calls = queue_calls(vapi_campaign(caller, people(5)))
    vapi.fail_next(1, status=503, retry_after=7)

    outcome = dict(placement.place_many([str(call.pk) for call in calls]))

    assert sorted(outcome.values(), key=str) == [7, None, None, None, None]
    [failed] = [call_id for call_id, retry in outcome.items() if retry]
    call = Call.objects.get(pk=failed)
    assert (call.status, call.provider_call_id, call.placing_at) == ("queued", "", None)  # handed back
    assert Call.objects.exclude(pk=failed).filter(campaign=call.campaign, provider_call_id="").count() == 0


def test_a_stalled_worker_sends_nothing_of_a_batch_handed_to_another(caller, vapi) -> None:
    calls = queue_calls(vapi_campaign(caller, people(3)))
    stalled = claims.take([str(call.pk) for call in calls])
    services.call_release_stalled(taken_before=timezone.now() + timedelta(seconds=1))  # looked dead
    assert placement.place_many([str(call.pk) for call in calls]) == [(str(c.pk), None) for c in calls]

    assert claims.confirm_at_gate([(call, "POST /call", "{}") for call in stalled]) == []
    assert vapi.placed_counts() == {str(call.pk): 1 for call in calls}
    assert CallLog.objects.filter(call__in=calls, kind="request").count() == 3


def test_requests_go_through_the_proxy_named_by_the_environment(caller, vapi, monkeypatch, settings) -> None:
    from dialer.providers import transport

    monkeypatch.setenv("HTTP_PROXY", vapi.url)
    monkeypatch.setenv("NO_PROXY", "bypassed.invalid")
    account = caller.provider_account
    account.base_url = "http://vapi.invalid"  # resolvable by the proxy only: allowed by name
    account.save()
    settings.PROVIDER_ALLOWED_HOSTS = ["vapi.invalid"]
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))

    place_until_done(call)

    assert [r.path for r in vapi.requests] == ["http://vapi.invalid/call"]  # the proxy was asked
    assert transport.proxy_for("http://vapi.invalid/call") == vapi.url
    assert transport.proxy_for("http://bypassed.invalid/call") is None


def test_behind_a_proxy_the_target_is_still_checked(caller, vapi, monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", vapi.url)
    account = caller.provider_account
    account.base_url = "http://169.254.169.254/latest/meta-data"  # the proxy would reach it
    account.save()
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))

    assert place_until_done(call) == []

    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", URL_REFUSED)
    assert vapi.requests == []  # the proxy was never asked


# -- where requests may go (campaigns.egress, checked again before each request) -----------------


def test_a_loopback_provider_is_refused_before_anything_is_sent(caller, vapi, settings) -> None:
    settings.PROVIDER_ALLOWED_HOSTS = []  # the fake's port is no longer allowed
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))

    assert place_until_done(call) == []  # not retried: a loopback address stays one

    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", URL_REFUSED)
    assert vapi.requests == []
    exchange = CallLog.objects.filter(call=call, kind__in=["request", "response"]).order_by(
        "created_at", "id"
    )
    [request, response] = exchange
    assert (request.kind, response.kind, response.http_status, response.body) == (
        "request",
        "response",
        None,
        "",
    )
    assert response.summary.startswith("POST /call: not sent: 127.0.0.1 is a loopback address")


def test_another_port_of_an_allowed_address_is_refused(caller, vapi, settings) -> None:
    host, port = vapi.url.removeprefix("http://").split(":")
    settings.PROVIDER_ALLOWED_HOSTS = [f"{host}:{int(port) + 1}"]
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))

    place_until_done(call)

    call.refresh_from_db()
    assert call.ended_reason == URL_REFUSED and vapi.requests == []


def test_a_provider_host_that_resolves_elsewhere_after_it_was_accepted_is_refused(
    org, vapi, monkeypatch, settings
) -> None:
    # DNS rebinding: public when the account is created, the cloud's metadata address at dial time.
    answers = {"vapi.rebinding.example": "93.184.216.34"}
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    account = services.provider_account_create(
        organization=org, by=None, name="Rebinding", kind="vapi", base_url="http://vapi.rebinding.example"
    )
    answers["vapi.rebinding.example"] = "169.254.169.254"
    [call] = queue_calls(vapi_campaign(vapi_caller_id(account), [JOHN]))

    place_until_done(call)

    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", URL_REFUSED)
    [summary] = [summary for kind, _, summary in log_of(call) if kind == "response"]
    assert "vapi.rebinding.example resolves to 169.254.169.254, which is a link-local address" in summary


# -- what reaches the log (secrets redacted where they are, nothing else touched) ------------------


@pytest.mark.parametrize("api_key", ["a", "12"])
def test_a_short_api_key_is_redacted_where_it_is_and_nowhere_else(org, settings, api_key) -> None:
    with FakeVapi(api_key=api_key) as fake:
        fake.drop_webhooks = True
        settings.PROVIDER_ALLOWED_HOSTS = [fake.url.removeprefix("http://")]
        caller = vapi_caller_id(vapi_account(org, fake))
        [call] = queue_calls(vapi_campaign(caller, [JOHN]))
        fake.fail_next(1, status=400, body={"message": ["assistantId must be a UUID"], "echo": api_key})

        place_until_done(call)

        [sent] = fake.posts_to_create_calls()
    account = caller.provider_account
    logged = {kind: body for kind, body in CallLog.objects.filter(call=call).values_list("kind", "body")}
    request = json.loads(logged["request"])
    secret_header = request["assistantOverrides"]["server"]["headers"]
    assert secret_header == {"X-Vapi-Secret": "[redacted]"}
    secret_header["X-Vapi-Secret"] = account.webhook_secret
    assert request == sent.body  # every other byte as sent: "+14155551234", "John Carter", "attempt": 1
    assert json.loads(logged["response"]) == {"message": ["assistantId must be a UUID"], "echo": "[redacted]"}


def test_a_long_api_key_is_redacted_even_inside_a_message(caller, vapi) -> None:
    account = caller.provider_account
    account.api_key = "sk-live-3f9a0c1e77d2"
    account.save()
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    said = f"Invalid Key. Hot tip, {account.api_key} is not a valid key."
    vapi.fail_next(1, status=401, body={"message": said, "error": "Unauthorized", "statusCode": 401})

    place_until_done(call)

    bodies = " ".join(CallLog.objects.filter(call=call).values_list("body", flat=True))
    details = " ".join(CallLog.objects.filter(call=call).values_list("summary", flat=True))
    assert account.api_key not in bodies + details and account.webhook_secret not in bodies
    assert "Hot tip, [redacted] is not a valid key." in bodies


# -- a call whose request was cut: found again by our call id (GET /call) --------------------------


def cut_call(vapi: FakeVapi, call: Call, settings) -> None:
    """Place `call` as a worker killed mid-request would: Vapi creates it, we never hear its answer."""
    settings.PROVIDER_HTTP_TIMEOUT = 0.3
    vapi.lose_answer_next(1, seconds=0.6)
    assert placement.place_many([str(call.pk)])[0][1] is None
    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == ("queued", "")


def find(call: Call, **window) -> list:
    call.refresh_from_db()
    provider = provider_for(call.provider_account, record=placement.recorder(call))
    now = timezone.now()
    window = {"created_from": now - timedelta(minutes=5), "created_to": now + timedelta(seconds=1)} | window
    return provider.find_call(call, **window)


def vapi_id_of(vapi: FakeVapi, call: Call) -> str:
    [found] = [
        i for i, c in vapi.calls.items() if c["assistantOverrides"]["metadata"]["callId"] == str(call.pk)
    ]
    return found


def test_a_call_cut_by_a_worker_kill_is_found_by_our_call_id_and_recorded(caller, vapi, settings) -> None:
    lost, *others = queue_calls(vapi_campaign(caller, people(3)))
    cut_call(vapi, lost, settings)
    for other in others:
        assert placement.place_many([str(other.pk)])[0][1] is None
    vapi.settle()  # every call played to its end; no webhook was posted (drop_webhooks)

    events = find(lost)

    assert [(e.kind, e.status, e.ended_reason) for e in events] == [
        ("status-update", "ended", "customer-ended-call"),
        ("end-of-call-report", "ended", "customer-ended-call"),
    ]
    assert {(e.call_id, e.provider_call_id) for e in events} == {(str(lost.pk), vapi_id_of(vapi, lost))}
    for event in events:
        services.record_call_event(account=lost.provider_account, event=event)
    lost.refresh_from_db()
    assert (lost.status, lost.provider_call_id) == ("ended", vapi_id_of(vapi, lost))
    assert lost.report_received and lost.summary and lost.recording_url.endswith(".wav")
    assert lost.customer.state == "completed"
    assert counters(lost.campaign) == recount(lost.campaign)
    [asked] = [r for r in vapi.requests if r.method == "GET"]
    query = dict(parse_qsl(urlsplit(asked.path).query))
    assert query.keys() == {"phoneNumberId", "assistantId", "createdAtGe", "createdAtLe", "limit"}
    assert (query["phoneNumberId"], query["assistantId"]) == (FIXTURE_PHONE_NUMBER_ID, FIXTURE_ASSISTANT_ID)
    polls = CallLog.objects.filter(call=lost, kind="poll").order_by("created_at", "id")
    assert [p.http_status for p in polls] == [None, 200]
    assert lost.provider_account.webhook_secret not in polls[1].body and "[redacted]" in polls[1].body


def test_find_call_ignores_other_calls_and_calls_outside_the_window(caller, vapi, settings) -> None:
    lost, placed, never_sent = queue_calls(vapi_campaign(caller, people(3)))
    cut_call(vapi, lost, settings)
    assert placement.place_many([str(placed.pk)])[0][1] is None

    assert find(never_sent) == []  # two calls listed, neither carries its id
    long_ago = timezone.now() - timedelta(hours=2)
    assert find(lost, created_from=long_ago, created_to=long_ago + timedelta(minutes=5)) == []

    notes = [s for k, _, s in log_of(never_sent) if k == "poll" and "carries" in s]
    assert notes == ["GET /call: none of 2 calls listed carries our call id"]
    assert {e.provider_call_id for e in find(lost)} == {vapi_id_of(vapi, lost)}


@pytest.mark.parametrize("order", ["newest", "oldest", "id"])
def test_a_busy_window_is_searched_part_by_part_whatever_the_order(
    caller, vapi, settings, monkeypatch, order
) -> None:
    from dialer.providers import vapi as module

    monkeypatch.setattr(module, "FIND_PAGE", 3)
    vapi.list_order = order
    calls = queue_calls(vapi_campaign(caller, people(7)))
    lost = calls[0 if order == "newest" else -1]  # by time, never on the first page
    for call in calls:
        if call is lost:
            cut_call(vapi, call, settings)
        else:
            assert placement.place_many([str(call.pk)])[0][1] is None

    assert {e.provider_call_id for e in find(lost)} == {vapi_id_of(vapi, lost)}
    asked = [r for r in vapi.requests if r.method == "GET"]
    assert len(asked) <= module.FIND_REQUESTS
    if order != "id":  # ids are random: the lost call may come first
        assert len(asked) > 1
        monkeypatch.setattr(module, "FIND_REQUESTS", 1)
        assert find(lost) == []
        assert log_of(lost)[-1][2].endswith("stopped after 1 requests, part of the window unasked")


def at(second: float) -> datetime:
    return datetime(2026, 3, 2, 10, 0, tzinfo=UTC) + timedelta(seconds=second)


MS = 0.001


@pytest.mark.parametrize(
    "seconds, window, parts",
    [
        # Newest first: the older calls were left out (asked first), the newer ones just in case.
        ([50, 40, 30], (0, 59), [(30 + MS, 59), (0, 30)]),
        ([30, 40, 50], (0, 59), [(0, 50 - MS), (50, 59)]),  # oldest first: the newer ones
        ([40, 30, 50], (0, 59), [(40 + MS, 59), (0, 40)]),  # any other order: around the median
        ([59, 59, 59], (0, 59), [(0, 59 - MS), (59, 59)]),  # a crowd at the window's end
        ([7, 7, 7], (7, 7), []),  # a page of calls in one millisecond: nothing narrower to ask
        ([], (0, 59), []),
    ],
)
def test_a_full_page_narrows_the_window_to_where_the_left_out_calls_may_be(seconds, window, parts) -> None:
    from dialer.providers.vapi import _unlisted

    page = [{"createdAt": at(s).isoformat()} for s in seconds]
    assert _unlisted(page, at(window[0]), at(window[1])) == [(at(a), at(b)) for a, b in parts]


def test_the_list_answers_like_vapis_including_its_refusals(vapi) -> None:
    key = {"Authorization": f"Bearer {vapi.api_key}"}
    bad = requests.get(f"{vapi.url}/call", params={"limit": 1001, "sort": "x"}, headers=key, timeout=5)
    assert bad.status_code == 400 and bad.json()["message"] == [
        "property sort should not exist",
        "limit must not be greater than 1000",
    ]
    assert requests.get(f"{vapi.url}/call", timeout=5).status_code == 401
    assert requests.get(f"{vapi.url}/call", headers=key, timeout=5).json() == []


def test_campaign_overrides_are_deep_merged_under_each_customers_with_ours_on_top(caller, vapi) -> None:
    campaign_level = {
        "variableValues": {"company": "TechFlow", "plan": "silver"},
        "endCallPhrases": ["goodbye", "talk soon"],
        "voice": {"provider": "11labs", "voiceId": "ava", "stability": 0.5},
        "firstMessage": "Hello from TechFlow",
        "metadata": {"team": "renewals", "callId": "not ours"},
    }
    ann = services.CustomerInput(
        number="+14155550101",
        name="Ann",
        assistant_overrides={
            "variableValues": {"plan": "gold", "customer_issue": "billing"},
            "endCallPhrases": ["ciao"],
            "voice": {"voiceId": "bella"},
            "firstMessage": None,
        },
    )
    bob = services.CustomerInput(number="+14155550102", name="Bob")
    campaign = vapi_campaign(caller, [ann, bob], assistant_overrides=campaign_level)
    calls = queue_calls(campaign)

    placement.place_many([str(call.pk) for call in calls])

    sent = {r.body["customer"]["name"]: r.body["assistantOverrides"] for r in vapi.posts_to_create_calls()}
    to_ann, to_bob = sent["Ann"], sent["Bob"]
    # Vapi's example: the campaign's variables and the customer's both arrive; the customer's win.
    assert to_ann["variableValues"] == {"company": "TechFlow", "plan": "gold", "customer_issue": "billing"}
    assert to_ann["endCallPhrases"] == ["ciao"]  # arrays are replaced, not concatenated
    assert to_ann["voice"] == {"provider": "11labs", "voiceId": "bella", "stability": 0.5}  # any depth
    assert "firstMessage" in to_ann and to_ann["firstMessage"] is None  # null is a value, kept
    assert to_bob["variableValues"] == {"company": "TechFlow", "plan": "silver"}
    assert to_bob["firstMessage"] == "Hello from TechFlow"
    for overrides, call in zip((to_ann, to_bob), calls, strict=True):
        assert overrides["metadata"]["team"] == "renewals"
        assert overrides["metadata"]["callId"] == str(call.pk)  # ours on top
        assert overrides["server"]["url"].endswith(f"/webhooks/vapi/{caller.provider_account.webhook_token}")
    assert campaign.assistant_overrides == campaign_level  # nothing merged into what is stored


def test_squad_campaigns_merge_the_campaigns_squad_overrides_under_each_customers(caller, vapi) -> None:
    new = services.CustomerInput(
        number="+14155550101", name="New", squad_overrides={"variableValues": {"slot": "9am"}}
    )
    # Stored before customers had squadOverrides: v1's assistantOverrides stand in for them.
    old = services.CustomerInput(
        number="+14155550102", name="Old", assistant_overrides={"variableValues": {"plan": "gold"}}
    )
    squad_level = {
        "variableValues": {"company": "TechFlow", "slot": "noon"},
        "transcriber": {"language": "en"},
    }
    campaign = vapi_campaign(caller, [new, old], squad_id="squad-7", squad_overrides=squad_level)

    placement.place_many([str(call.pk) for call in queue_calls(campaign)])

    sent = {r.body["customer"]["name"]: r.body for r in vapi.posts_to_create_calls()}
    assert all("assistantOverrides" not in body and body["squadId"] == "squad-7" for body in sent.values())
    assert sent["New"]["squadOverrides"]["variableValues"] == {"company": "TechFlow", "slot": "9am"}
    assert sent["Old"]["squadOverrides"]["variableValues"] == {
        "company": "TechFlow",
        "slot": "noon",
        "plan": "gold",
    }
    assert sent["New"]["squadOverrides"]["transcriber"] == {"language": "en"}
    assert sent["New"]["squadOverrides"]["serverMessages"] == ["status-update", "end-of-call-report"]


@pytest.mark.parametrize(
    "whose, overrides, named",
    [
        (
            "customer",
            {"server": {"url": "https://crm.example.com/vapi"}},
            "the customer's assistantOverrides.server",
        ),
        (
            "campaign",
            {"server": {"url": "https://crm.example.com/x"}},
            "the campaign's assistantOverrides.server",
        ),
    ],
)
def test_stored_overrides_with_their_own_server_end_the_call_unsent_and_say_why(
    caller, vapi, whose, overrides, named
) -> None:
    # The API refuses these now; rows stored before would have lost their server to ours.
    campaign = vapi_campaign(caller, [JOHN])
    if whose == "customer":
        campaign.customers.update(assistant_overrides={**JOHN.assistant_overrides, **overrides})
    else:
        Campaign.objects.filter(pk=campaign.pk).update(assistant_overrides=overrides)
    [call] = queue_calls(campaign)

    assert placement.place_many([str(call.pk)])[0][1] is None

    assert vapi.posts_to_create_calls() == []
    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", OVERRIDES_CONFLICT)
    [note] = CallLog.objects.filter(call=call)
    assert note.kind == "note" and note.summary == f"dialer ended {OVERRIDES_CONFLICT}"
    assert note.body.startswith(f"not sent: {named}, which our status callbacks would replace")
    assert call.customer.last_outcome == OVERRIDES_CONFLICT
    assert counters(campaign) == recount(campaign)


def test_their_server_messages_are_kept_and_ours_added_once(caller, vapi) -> None:
    # The campaign asks for transcripts, the customer for end-of-call reports and hangs: the
    # customer's list wins (arrays are replaced), and status updates, which we need, are added.
    campaign = vapi_campaign(caller, [JOHN])
    Campaign.objects.filter(pk=campaign.pk).update(assistant_overrides={"serverMessages": ["transcript"]})
    campaign.customers.update(
        assistant_overrides={**JOHN.assistant_overrides, "serverMessages": ["end-of-call-report", "hang"]}
    )
    [call] = queue_calls(campaign)

    assert placement.place_many([str(call.pk)])[0][1] is None

    [sent] = vapi.posts_to_create_calls()
    overrides = sent.body["assistantOverrides"]
    assert overrides["serverMessages"] == ["end-of-call-report", "hang", "status-update"]
    assert overrides["server"]["url"].endswith(
        f"/webhooks/vapi/{campaign.phone_number.provider_account.webhook_token}"
    )


def test_the_analysis_plan_and_voicemail_plan_are_sent_and_the_structured_result_drives_the_outcome(
    caller, vapi
) -> None:
    schema = {
        "type": "object",
        "properties": {"objectiveMet": {"type": "boolean"}, "optOut": {"type": "boolean"}},
    }
    ann = services.CustomerInput(number="+14155550101", name="Ann")
    bob = services.CustomerInput(
        number="+14155550102", name="Bob", assistant_overrides={"voicemailMessage": "Bob's"}
    )
    voicemail = {"action": "leave-message", "message": "Please call us back.", "then": "done"}
    campaign = vapi_campaign(
        caller,
        [ann, bob],
        outcomes={
            "objective": "Confirm the renewal.",
            "analysis_schema": schema,
            "voicemail_plan": voicemail,
        },
    )
    vapi.structured_data = lambda body: {"objectiveMet": False, "optOut": body["customer"]["name"] == "Ann"}
    calls = queue_calls(campaign)
    placement.place_many([str(call.pk) for call in calls])
    vapi.settle()

    sent = {r.body["customer"]["name"]: r.body["assistantOverrides"] for r in vapi.posts_to_create_calls()}
    assert sent["Ann"]["analysisPlan"] == {
        "structuredDataSchema": schema,
        "structuredDataPrompt": "Confirm the renewal.",
    }
    assert sent["Ann"]["voicemailDetection"] == {"provider": "vapi"}
    assert sent["Ann"]["voicemailMessage"] == "Please call us back."
    assert sent["Bob"]["voicemailMessage"] == "Bob's"  # the customer's own overrides win

    for call in calls:  # what GET /call answers, recorded as the reaper would
        call.refresh_from_db()
        for event in provider_for(caller.provider_account).fetch_status(call):
            services.record_call_event(account=caller.provider_account, event=event)
    ann_call, bob_call = (Call.objects.get(pk=c.pk) for c in calls)
    assert ann_call.structured_data == {"objectiveMet": False, "optOut": True}
    assert (ann_call.customer.state, ann_call.customer.reason) == ("skipped", "do_not_call")
    assert caller.organization.do_not_call.get(number="+14155550101").call_id == ann_call.pk
    assert (bob_call.customer.state, bob_call.customer.objective_met) == ("completed", False)


def test_a_call_every_request_of_which_was_refused_is_sent_again_not_closed(caller, vapi) -> None:
    """Its worker stored Vapi's refusal, then died before handing the call back: the reaper finds
    no such call at Vapi, so the call never left and is queued again, its attempt not spent (the
    chaos run's invariant "a call that never left us is never closed as an attempt")."""
    [call] = queue_calls(vapi_campaign(caller, people(1)))
    vapi.fail_next(1, status=500, body={"message": "upstream trouble"})
    placement.place_many([str(call.pk)])
    then = timezone.now() - timedelta(hours=1)  # as its dead worker left it, long ago
    Call.objects.filter(pk=call.pk).update(placing_at=then, confirmed_at=then, created_at=then)

    assert placement.reap_stale_calls() == 0

    call.refresh_from_db()
    assert (call.status, call.ended_reason, call.confirmed_at, call.placing_at) == ("queued", "", None, None)
    assert [r.method for r in vapi.requests if r.method == "GET"]  # Vapi was asked first
