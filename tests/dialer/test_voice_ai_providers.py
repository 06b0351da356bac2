"""Retell, Bland and ElevenLabs against their fakes over real HTTP: what each sends, forged
callbacks refused, reconciliation after lost callbacks, and a campaign end to end with a real worker."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, Campaign
from dialer import placement
from dialer.webhooks import record_received_events
from tests.fakes.dialdeck_side import (
    caller_on,
    counters,
    provider_account,
    queue_calls,
    recount,
    vapi_campaign,
)
from tests.fakes.voice_ai_servers import FakeBland, FakeElevenLabs, FakeRetell
from tests.support import nested, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
FAKES = {"retell": FakeRetell, "bland": FakeBland, "elevenlabs": FakeElevenLabs}


@pytest.fixture(params=sorted(FAKES))
def fake(request):
    with FAKES[request.param]() as server:
        server.kind = request.param
        yield server


def webhook_path(account) -> str:
    return f"/webhooks/{account.kind}/{account.webhook_token}"


def campaign_on(org, fake, people, **strategy):
    account = provider_account(org, fake.kind, fake)
    if hasattr(fake, "agent_webhook_url"):
        fake.agent_webhook_url = ""
    caller = caller_on(account, provider_id="phnum_0123" if fake.kind == "elevenlabs" else "")
    return vapi_campaign(caller, people, strategy={"max_attempts": 1, **strategy})


def point_webhooks(fake, url: str) -> None:
    """What the user pastes in the provider's console (Bland takes it on each call instead)."""
    for attribute in ("agent_webhook_url", "workspace_webhook_url"):
        if hasattr(fake, attribute):
            setattr(fake, attribute, url)


def test_it_places_a_call_carrying_our_id_and_learns_the_providers(org, fake) -> None:
    people = [
        services.CustomerInput(
            number="+14155551000", assistant_overrides={"variableValues": {"first": "Ana"}}
        )
    ]
    [call] = queue_calls(campaign_on(org, fake, people))
    assert placement.place_many([str(call.pk)]) == [(str(call.pk), None)]
    [created] = fake.creates()
    sent = json.loads(created.raw)
    call.refresh_from_db()
    assert call.provider_call_id in fake.calls and fake.placed == [str(call.pk)]
    if fake.kind == "retell":
        assert sent["metadata"]["callId"] == str(call.pk) and sent["retell_llm_dynamic_variables"] == {
            "first": "Ana"
        }
        assert (sent["from_number"], sent["to_number"]) == ("+14155550142", "+14155551000")
    if fake.kind == "bland":
        assert sent["webhook"].endswith(webhook_path(call.provider_account)) and sent["request_data"] == {
            "first": "Ana"
        }
        assert sent["max_duration"] == 10  # minutes, from the campaign's 600 s
    if fake.kind == "elevenlabs":
        variables = sent["conversation_initiation_client_data"]["dynamic_variables"]
        assert variables == {"first": "Ana", "dialdeck_call_id": str(call.pk)}
        assert sent["agent_phone_number_id"] == "phnum_0123"
    assert fake.api_key not in call.log.get(kind="request").body


def test_a_rate_limit_is_retried_and_a_refusal_ends_the_call(org, fake) -> None:
    people = [services.CustomerInput(number="+14155551000"), services.CustomerInput(number="+14155551001")]
    first, second = queue_calls(campaign_on(org, fake, people))
    fake.fail_next(1, status=429, retry_after=2)
    assert placement.place_many([str(first.pk)]) == [(str(first.pk), 2)]
    fake.fail_next(1, status=400, body={"message": "bad number"})
    assert placement.place_many([str(second.pk)]) == [(str(second.pk), None)]
    second.refresh_from_db()
    assert (second.status, second.ended_reason) == ("ended", "call.start.error-provider-rejected-request")


def test_forged_callbacks_are_refused_and_signed_ones_recorded(org, fake, client) -> None:
    fake.drop_webhooks = True
    [call] = queue_calls(campaign_on(org, fake, [services.CustomerInput(number="+14155551000")]))
    placement.place_many([str(call.pk)])
    call.refresh_from_db()
    fake.settle(timeout=120)
    if fake.kind == "retell":
        body, headers = fake.sign("call_ended", call.provider_call_id)
    elif fake.kind == "bland":
        body, headers = fake.sign(call.provider_call_id)
    else:
        body, headers = fake.sign("post_call_transcription", fake.calls[call.provider_call_id])
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    path = webhook_path(call.provider_account)
    forged = body.replace(b"+14155551000", b"+14155559999") if b"+14155551000" in body else body + b" "
    assert client.post(path, forged, content_type="application/json", **meta).status_code == 401
    assert client.post(path, body, content_type="application/json").status_code == 401
    record_received_events()
    call.refresh_from_db()
    assert call.status == "queued"
    assert client.post(path, body, content_type="application/json", **meta).status_code == 200
    record_received_events()
    call.refresh_from_db()
    assert call.status == "ended" and call.customer.state == "completed"


def test_a_call_whose_callbacks_were_lost_is_reconciled_with_the_provider(org, fake) -> None:
    fake.drop_webhooks = True
    [call] = queue_calls(campaign_on(org, fake, [services.CustomerInput(number="+14155551000")]))
    placement.place_many([str(call.pk)])
    fake.settle(timeout=120)
    then = timezone.now() - timedelta(hours=1)
    Call.objects.filter(pk=call.pk).update(created_at=then, placing_at=then, placed_at=then)
    assert placement.reap_stale_calls() == 0
    call.refresh_from_db()
    assert call.status == "ended" and call.customer.state == "completed" and call.report_received
    assert call.analysis and call.summary
    assert counters(call.campaign) == recount(call.campaign)


def outcome(body: dict) -> str:
    number = body.get("to_number") or body.get("phone_number")
    return {"3": "busy", "7": "no-answer", "5": "voicemail"}.get(number[-1], "answered")


@pytest.mark.worker
def test_a_campaign_runs_to_the_end_on_each_provider(
    live_server, celery_processes, org, fake, settings
) -> None:
    settings.SITE_URL = live_server.url
    fake.outcome, fake.deliveries = outcome, 2
    fake.fail_next(1, status=429, retry_after=1)
    people = [services.CustomerInput(number=f"+1415555{i:04d}") for i in range(12)]
    campaign = campaign_on(
        org,
        fake,
        people,
        max_concurrent_calls=6,
        retry_voicemail=False,
        machine_detection=True,
        max_attempts=1,
    )
    point_webhooks(fake, live_server.url + webhook_path(campaign.phone_number.provider_account))
    celery_processes.worker(concurrency=2, SITE_URL=live_server.url)
    celery_processes.beat(SITE_URL=live_server.url)
    wait_for(
        lambda: Campaign.objects.get(pk=campaign.pk).status == "ended",
        timeout=240,
        what=f"the campaign to end (logs: {celery_processes.log_dir})",
    )
    fake.settle(timeout=120)
    campaign.refresh_from_db()
    states = dict(campaign.customers.values_list("state").annotate(n=Count("id")))
    # 12 numbers: ...0-...11; 3 and 7 end busy / unanswered (one attempt), 5 on a machine.
    assert states == {"completed": 9, "voicemail": 1, "failed": 2}
    calls = Call.objects.filter(campaign=campaign)
    assert fake.placed_counts() == {str(pk): 1 for pk in calls.values_list("pk", flat=True)}
    assert len(fake.creates()) == 12 + 1
    # Every callback was posted twice; on SQLite a web thread may wait out the fake's 60 s
    # timeout behind the workers' writes (seen once in Retell's 3 callbacks x 2 per call): the
    # other copy carried it, as the states above show.
    assert sum(d.answer != 200 for d in fake.webhooks) <= 1
    assert counters(campaign) == recount(campaign)
    # Each reached call's cost as the provider reported it, with its unit; credits are not money.
    amount, unit = {
        "retell": (Decimal("0.1250"), "USD"),  # call_cost.combined_cost, 12.5 cents
        "bland": (Decimal("0.0900"), "USD"),  # price
        "elevenlabs": (Decimal("412"), "credits"),  # metadata.cost
    }[fake.kind]
    reached = calls.filter(customer__state__in=["completed", "voicemail"])
    assert set(reached.values_list("cost", "cost_unit")) == {(amount, unit)}
    assert campaign.calls_cost == (amount * 10 if unit == "USD" else 0)


def test_a_signed_callback_nested_deeper_than_python_recurses_is_recorded_not_a_server_error(
    org, fake, client
) -> None:
    """Its body is redacted as text (the account's long secrets replaced) instead of value by
    value: the walk over its values raised RecursionError, a 500 to the provider, which retried."""
    fake.drop_webhooks = True
    [call] = queue_calls(campaign_on(org, fake, [services.CustomerInput(number="+14155551000")]))
    placement.place_many([str(call.pk)])
    call.refresh_from_db()
    fake.settle(timeout=120)
    deep = {"extra": nested(900), "echo": fake.api_key}
    if fake.kind == "retell":
        fake.calls[call.provider_call_id] |= deep
        body, headers = fake.sign("call_ended", call.provider_call_id)
    elif fake.kind == "bland":
        fake.calls[call.provider_call_id] |= deep
        body, headers = fake.sign(call.provider_call_id)
    else:
        body, headers = fake.sign("post_call_transcription", fake.calls[call.provider_call_id] | deep)
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    response = client.post(webhook_path(call.provider_account), body, content_type="application/json", **meta)
    assert response.status_code == 200, response.content[:200]
    record_received_events()
    call.refresh_from_db()
    assert call.status == "ended" and call.customer.state == "completed"
    logged = "".join(call.log.values_list("body", flat=True))
    assert '"deeper"' in logged and fake.api_key not in logged


def test_a_provider_answer_nested_deeper_than_python_recurses_still_reconciles_the_call(org, fake) -> None:
    """The reaper's GET of the call answered with a field 900 levels deep: its log and the event
    it makes of the answer were redacted by a recursive walk, which raised on every run."""
    fake.drop_webhooks = True
    [call] = queue_calls(campaign_on(org, fake, [services.CustomerInput(number="+14155551000")]))
    placement.place_many([str(call.pk)])
    fake.settle(timeout=120)
    call.refresh_from_db()
    fake.calls[call.provider_call_id] |= {"extra": nested(900)}
    then = timezone.now() - timedelta(hours=1)
    Call.objects.filter(pk=call.pk).update(created_at=then, placing_at=then, placed_at=then)
    assert placement.reap_stale_calls() == 0
    call.refresh_from_db()
    assert call.status == "ended" and call.customer.state == "completed"
    assert counters(call.campaign) == recount(call.campaign)
