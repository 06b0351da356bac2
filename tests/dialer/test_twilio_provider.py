"""The Twilio provider against a fake Twilio over real HTTP: what it sends, how it reads refusals,
how it checks signed callbacks, and how it reconciles a call whose callbacks were lost."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlencode

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from campaigns import services
from campaigns.models import Call
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
from tests.fakes.twilio_server import FakeTwilio
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def twilio():
    with FakeTwilio() as server:
        yield server


def one_call(org, twilio, *, number="+14155551000", account_settings=None, **strategy) -> Call:
    account = provider_account(org, "twilio", twilio, **(account_settings or {}))
    people = [services.CustomerInput(number=number, name="Ana")]
    strategy = {"max_attempts": 1, **strategy}
    campaign = vapi_campaign(caller_on(account), people, strategy=strategy)
    [call] = queue_calls(campaign)
    return call


def form(received) -> dict[str, list[str]]:
    return parse_qs(received.raw.decode())


def test_it_creates_the_call_with_a_stream_to_the_agent_status_callbacks_and_limits(
    org, twilio, settings
) -> None:
    call = one_call(org, twilio, max_ring_seconds=25, max_duration_seconds=300, machine_detection=True)
    assert placement.place_many([str(call.pk)]) == [(str(call.pk), None)]

    [created] = twilio.creates()
    sent = form(created)
    assert created.path == f"/2010-04-01/Accounts/{twilio.account_sid}/Calls.json"
    assert created.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (sent["To"], sent["From"]) == (["+14155551000"], ["+14155550142"])
    assert sent["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert (sent["Timeout"], sent["TimeLimit"]) == (["25"], ["300"])
    assert (sent["MachineDetection"], sent["AsyncAmd"]) == (["Enable"], ["true"])
    token = call.provider_account.webhook_token
    assert sent["StatusCallback"] == [
        f"{settings.SITE_URL}/webhooks/twilio/{token}?callId={call.pk}&cb=status"
    ]
    assert sent["AsyncAmdStatusCallback"][0].endswith(f"callId={call.pk}&cb=amd")
    twiml = sent["Twiml"][0]
    assert '<Connect><Stream url="wss://agent.example.com/media">' in twiml
    assert f'<Parameter name="callId" value="{call.pk}" />' in twiml
    call.refresh_from_db()
    assert call.provider_call_id.startswith("CA") and call.provider_call_id in twilio.calls
    assert twilio.auth_token not in call.log.get(kind="request").body  # the token never logged


def test_without_machine_detection_no_amd_is_asked(org, twilio) -> None:
    call = one_call(org, twilio)
    placement.place_many([str(call.pk)])
    assert "MachineDetection" not in form(twilio.creates()[0])


def test_too_many_requests_20429_and_server_errors_are_retried_with_backoff(org, twilio) -> None:
    call = one_call(org, twilio)
    twilio.fail_next(1, status=429, retry_after=3)
    assert placement.place_many([str(call.pk)]) == [(str(call.pk), 3)]
    call.refresh_from_db()
    assert call.status == "queued" and "20429" in call.log.filter(kind="response").last().body
    twilio.fail_next(1, status=503)
    Call.objects.filter(pk=call.pk).update(not_before=None)
    [(_, retry_in)] = placement.place_many([str(call.pk)])
    assert retry_in == placement.backoff(2)


def test_an_invalid_number_is_refused_and_ends_the_call(org, twilio) -> None:
    call = one_call(org, twilio)
    twilio.fail_next(
        1, status=400, body={"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
    )
    assert placement.place_many([str(call.pk)]) == [(str(call.pk), None)]
    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "call.start.error-provider-rejected-request")
    assert "21211" in call.log.filter(kind="response").last().body


def test_a_wrong_auth_token_is_refused_by_twilio_and_not_retried(org, twilio) -> None:
    call = one_call(org, twilio)
    call.provider_account.api_key = "wrong"
    call.provider_account.save()
    placement.place_many([str(call.pk)])
    call.refresh_from_db()
    assert call.status == "ended" and call.log.filter(kind="response", http_status=401).exists()


def signed_post(client, url: str, params: dict, token: str, *, signature: str | None = None):
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    path = url.split("://", 1)[1].split("/", 1)[1]
    return client.post(
        "/" + path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def test_forged_and_altered_callbacks_are_refused_and_signed_ones_recorded(
    org, twilio, client, settings
) -> None:
    call = one_call(org, twilio)
    twilio.drop_webhooks = True
    placement.place_many([str(call.pk)])
    call.refresh_from_db()
    account = call.provider_account
    url = f"{settings.SITE_URL}/webhooks/twilio/{account.webhook_token}?callId={call.pk}&cb=status"
    params = {"CallSid": call.provider_call_id, "AccountSid": twilio.account_sid, "CallStatus": "busy"}

    assert signed_post(client, url, params, "not-the-token").status_code == 403
    assert signed_post(client, url, params, twilio.auth_token, signature="").status_code == 403
    genuine = RequestValidator(twilio.auth_token).compute_signature(url, params)
    elsewhere = url.replace(str(call.pk), "00000000-0000-4000-8000-000000000000")
    assert signed_post(client, elsewhere, params, twilio.auth_token, signature=genuine).status_code == 403
    altered = params | {"CallStatus": "completed"}
    assert signed_post(client, url, altered, twilio.auth_token, signature=genuine).status_code == 403
    record_received_events()
    call.refresh_from_db()
    assert call.status == "queued"

    assert signed_post(client, url, params, twilio.auth_token).status_code == 200
    record_received_events()
    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "customer-busy")


def test_a_call_whose_callbacks_were_lost_is_reconciled_from_the_call_resource(org, twilio) -> None:
    twilio.drop_webhooks = True
    call = one_call(org, twilio)
    placement.place_many([str(call.pk)])
    twilio.settle()
    then = timezone.now() - timedelta(hours=1)
    Call.objects.filter(pk=call.pk).update(created_at=then, placing_at=then, placed_at=then)

    assert placement.reap_stale_calls() == 0  # Twilio knew: nothing closed without an outcome

    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "call.in-progress.twilio-completed-call")
    assert call.cost is not None and (str(call.cost), call.cost_unit) == ("0.0130", "USD")  # price_unit
    assert call.report_received and call.customer.state == "completed"
    assert call.log.filter(
        kind="poll", summary__contains=f"Calls/{call.provider_call_id}.json -> 200"
    ).exists()
    assert counters(call.campaign) == recount(call.campaign)


def test_a_call_twilio_never_heard_of_is_ended_as_not_found(org, twilio) -> None:
    call = one_call(org, twilio)
    placement.place_many([str(call.pk)])
    call.refresh_from_db()
    del twilio.calls[call.provider_call_id]
    twilio.drop_webhooks = True
    then = timezone.now() - timedelta(hours=1)
    Call.objects.filter(pk=call.pk).update(created_at=then, placing_at=then, placed_at=then)
    placement.reap_stale_calls()
    call.refresh_from_db()
    assert call.ended_reason == "call.dialdeck.not-found-at-provider"


def test_a_machine_gets_the_voicemail_message_then_the_call_ends_as_voicemail(
    org, twilio, live_server, settings
):
    settings.SITE_URL = live_server.url
    twilio.outcome = lambda body: "voicemail"
    call = one_call(
        org,
        twilio,
        machine_detection=True,
        account_settings={"voicemail_message": "Hi, Acme here. Call us back."},
    )
    placement.place_many([str(call.pk)])
    wait_for(lambda: any(d.kind == "amd" for d in twilio.webhooks), timeout=10, what="the AMD callback")
    record_received_events()
    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", "voicemail")
    # The follow-up a worker runs (dialer.tasks.provider_follow_up), run here in the test.
    placement.follow_up(
        str(call.provider_account_id),
        {"call_id": str(call.pk), "provider_call_id": call.provider_call_id, "action": "voicemail"},
    )
    [update] = twilio.updates
    assert update["sid"] == call.provider_call_id
    assert (
        update["Twiml"].startswith("<?xml")
        and "<Say>Hi, Acme here. Call us back.</Say><Hangup />" in update["Twiml"]
    )
    twilio.settle()
    record_received_events()
    call.refresh_from_db()
    assert call.report_received and call.analysis == {"answeredBy": "machine_end_beep"}
    assert call.customer.state == "voicemail"
