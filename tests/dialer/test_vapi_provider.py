"""The Vapi provider against a local fake Vapi server over real HTTP: what it sends, and how it
copes when the provider fails, times out, refuses or forgets."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, CallLog
from dialer import placement
from dialer.providers.vapi import FAILED, NOT_FOUND, REJECTED
from tests.fakes.dialdeck_side import (
    counters,
    queue_calls,
    recount,
    vapi_account,
    vapi_caller_id,
    vapi_campaign,
)
from tests.fakes.vapi_server import FakeVapi

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
def vapi():
    with FakeVapi() as server:
        server.drop_webhooks = True  # nobody listens here; test_webhooks covers the way back
        yield server


@pytest.fixture
def caller(org, vapi):
    return vapi_caller_id(vapi_account(org, vapi))


def place_until_done(call: Call, *, limit: int = 10) -> list[float]:
    """Run placement like the worker would, without waiting out the backoff. Returns the delays asked for."""
    delays = []
    for _ in range(limit):
        delay = placement.place_one(str(call.pk))
        if delay is None:
            return delays
        delays.append(delay)
    pytest.fail("placement never finished")


def log_of(call: Call) -> list[tuple[str, int | None, str]]:
    return list(CallLog.objects.filter(call=call).values_list("kind", "http_status", "summary"))


def test_it_sends_the_create_call_request_of_the_fixture(caller, vapi) -> None:
    campaign = vapi_campaign(caller, [JOHN])
    [call] = queue_calls(campaign)

    assert placement.place_one(str(call.pk)) is None

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
        assert placement.place_one(str(call.pk)) is None

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
    assert any("RemoteDisconnected" in summary for _, _, summary in log_of(call))


def test_a_provider_that_never_answers_is_not_asked_twice_and_the_reaper_settles_the_call(
    caller, vapi, settings
) -> None:
    # The request went out and may have created a call: posting it again could ring John twice.
    settings.PROVIDER_HTTP_TIMEOUT = 0.2
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    vapi.hang_next(1, seconds=0.5)

    assert place_until_done(call) == []  # no retry asked for
    assert placement.place_one(str(call.pk)) is None  # a redelivered task does not post again either
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


def test_a_refused_connection_ends_the_call_after_max_tries_with_the_reason_in_the_log(caller) -> None:
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
    placement.place_one(str(call.pk))
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


def test_a_call_the_provider_has_never_heard_of_ends_as_not_found(caller, vapi) -> None:
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))
    placement.place_one(str(call.pk))
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
    stalled = services.calls_take_for_placing([str(call.pk) for call in calls])
    services.call_release_stalled(taken_before=timezone.now() + timedelta(seconds=1))  # looked dead
    assert placement.place_many([str(call.pk) for call in calls]) == [(str(c.pk), None) for c in calls]

    assert services.calls_confirm_placing([(call, "POST /call", "{}") for call in stalled]) == []
    assert vapi.placed_counts() == {str(call.pk): 1 for call in calls}
    assert CallLog.objects.filter(call__in=calls, kind="request").count() == 3


def test_requests_go_through_the_proxy_named_by_the_environment(caller, vapi, monkeypatch) -> None:
    from dialer.providers import vapi as module

    monkeypatch.setenv("HTTP_PROXY", vapi.url)
    monkeypatch.setenv("NO_PROXY", "bypassed.invalid")
    monkeypatch.setattr(module, "_pools", module._new_pools())
    account = caller.provider_account
    account.base_url = "http://vapi.invalid"  # resolvable by the proxy only
    account.save()
    [call] = queue_calls(vapi_campaign(caller, [JOHN]))

    place_until_done(call)

    assert [r.path for r in vapi.requests] == ["http://vapi.invalid/call"]  # the proxy was asked
    assert module._pool("http://bypassed.invalid/call") is module._pools[""]
