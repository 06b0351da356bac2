"""Callbacks from callees, through the real webhook endpoint: Vapi's assistant-request and
Twilio's incoming-call webhook, answered in the request; the inbound call stored as the
customer's, never an attempt, never counted; unknown and do-not-call callers."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlencode

import orjson
import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from campaigns import services
from campaigns.models import Call, Campaign, DoNotCall, ProviderAccount
from campaigns.rules.inbound import DO_NOT_CALL, REJECTED, UNKNOWN_MESSAGE
from campaigns.services.inputs import CallEvent
from dialer import placement
from dialer.webhooks import record_received_events
from tests.fakes.dialdeck_side import (
    FIXTURE_ASSISTANT_ID,
    caller_on,
    counters,
    queue_calls,
    recount,
    vapi_campaign,
)

pytestmark = pytest.mark.django_db

CALLEE = "+14155551000"
STRANGER = "+14155559999"
CALLER_ID = "+14155550142"
VAPI_NUMBER_ID = "pn-vapi-1"


def account_of(org, kind: str, **settings) -> ProviderAccount:
    return ProviderAccount.objects.create(
        organization=org,
        name=f"Real {kind}",
        kind=kind,
        base_url="https://api.vapi.ai",
        api_key="twilio-auth-token-0123456789" if kind == "twilio" else "vapi-key",
        settings=settings,
    )


def called_back_campaign(account: ProviderAccount, **fields) -> Campaign:
    """A running campaign whose one call to Ana (with her variables) went unanswered."""
    ana = services.CustomerInput(
        number=CALLEE,
        name="Ana",
        assistant_overrides={"variableValues": {"plan": "gold", "renewalDate": "2026-07-01"}},
    )
    caller = account.phone_numbers.first() or caller_on(account, CALLER_ID, VAPI_NUMBER_ID)
    campaign = vapi_campaign(caller, [ana], **fields)
    [call] = queue_calls(campaign)
    event = CallEvent(
        kind="status-update", status="ended", ended_reason="customer-did-not-answer", call_id=str(call.pk)
    )
    services.record_call_event(account=account, event=event)
    return Campaign.objects.get(pk=campaign.pk)


def assistant_request(caller: str = CALLEE, *, call_id: str = "vapi-call-1", number: str = CALLER_ID) -> dict:
    return {
        "message": {
            "type": "assistant-request",
            "timestamp": 1780000000000,
            "call": {"id": call_id, "type": "inboundPhoneCall", "customer": {"number": caller}},
            "phoneNumber": {"id": VAPI_NUMBER_ID, "number": number},
        }
    }


def post_vapi(client, account: ProviderAccount, body: dict, *, secret: str | None = None):
    return client.post(
        f"/webhooks/vapi/{account.webhook_token}",
        orjson.dumps(body),
        content_type="application/json",
        HTTP_X_VAPI_SECRET=account.webhook_secret if secret is None else secret,
    )


def inbound_calls(campaign: Campaign) -> list[Call]:
    return list(Call.objects.filter(campaign=campaign, direction="inbound"))


# -- Vapi ------------------------------------------------------------------------------------------


def test_a_callee_calling_back_is_routed_to_the_agent_with_their_context_and_never_counted(
    org, client, settings
) -> None:
    account = account_of(org, "vapi")
    campaign = called_back_campaign(account, outcomes={"inbound_mode": "route"})
    before = counters(campaign)
    ana = campaign.customers.get()

    response = post_vapi(client, account, assistant_request("+1 (415) 555-1000"))

    assert response.status_code == 200
    answer = response.json()
    [call] = inbound_calls(campaign)
    assert answer["assistantId"] == FIXTURE_ASSISTANT_ID
    overrides = answer["assistantOverrides"]
    assert overrides["variableValues"] == {
        "plan": "gold",
        "renewalDate": "2026-07-01",
        "customerName": "Ana",
        "lastOutcome": "customer-did-not-answer",
        "direction": "inbound",
        "callId": str(call.pk),
        "campaignId": str(campaign.pk),
        "customerId": str(ana.pk),
    }
    assert overrides["metadata"]["callId"] == str(call.pk)
    assert overrides["server"]["url"] == f"{settings.SITE_URL}/webhooks/vapi/{account.webhook_token}"
    assert (call.customer_id, call.attempt, call.status, call.provider_call_id) == (
        ana.pk,
        1,
        "ringing",
        "vapi-call-1",
    )

    # Vapi then reports on the call like any other: it ends, and only the inbound call moves.
    for message in (
        {"type": "status-update", "status": "in-progress"},
        {
            "type": "end-of-call-report",
            "endedReason": "customer-ended-call",
            "analysis": {"summary": "Renewed"},
        },
    ):
        message["call"] = {"id": "vapi-call-1", "metadata": overrides["metadata"]}
        assert post_vapi(client, account, {"message": message}).status_code == 200
    record_received_events()
    call.refresh_from_db()
    assert (call.status, call.ended_reason, call.summary) == ("ended", "customer-ended-call", "Renewed")
    ana_after = campaign.customers.get()
    assert (ana_after.attempts, ana_after.state, ana_after.last_outcome) == (
        ana.attempts,
        ana.state,
        "customer-did-not-answer",
    )
    assert counters(campaign) == before == recount(campaign)
    campaign.refresh_from_db()
    assert campaign.calls_ended == 1  # the one outbound call, not the callback


def test_reject_mode_answers_with_the_message_vapi_says_and_stores_the_call_ended(org, client) -> None:
    account = account_of(org, "vapi")
    campaign = called_back_campaign(account, outcomes={"inbound_rejection_message": "We will call you."})
    before = counters(campaign)

    response = post_vapi(client, account, assistant_request())

    assert response.json() == {"error": "We will call you."}
    [call] = inbound_calls(campaign)
    assert (call.status, call.ended_reason, call.attempt) == ("ended", REJECTED, 1)
    assert counters(campaign) == before == recount(campaign)
    # Asked again about the same call (a retry): the same answer, nothing stored twice.
    assert post_vapi(client, account, assistant_request()).json() == {"error": "We will call you."}
    assert len(inbound_calls(campaign)) == 1


def test_an_unknown_caller_gets_the_organizations_default_and_nothing_is_stored(org, client) -> None:
    account = account_of(org, "vapi")
    campaign = called_back_campaign(account, outcomes={"inbound_mode": "route"})

    assert post_vapi(client, account, assistant_request(STRANGER)).json() == {"error": UNKNOWN_MESSAGE}
    # Ana calling a number that is not this account's caller ID is no callback either.
    other = post_vapi(client, account, assistant_request(number="+14155550177"))
    assert other.json() == {"error": UNKNOWN_MESSAGE}
    assert not Call.objects.filter(direction="inbound").exists()
    assert campaign.customers.get().attempts == 1


def test_a_do_not_call_caller_is_not_routed_unless_the_campaign_allows_it(org, client) -> None:
    account = account_of(org, "vapi")
    campaign = called_back_campaign(
        account, outcomes={"inbound_mode": "route", "inbound_rejection_message": "Goodbye."}
    )
    DoNotCall.objects.create(organization=org, number=CALLEE, source="manual")

    assert post_vapi(client, account, assistant_request(call_id="v-1")).json() == {"error": "Goodbye."}
    assert [c.ended_reason for c in inbound_calls(campaign)] == [DO_NOT_CALL]

    Campaign.objects.filter(pk=campaign.pk).update(inbound_route_do_not_call=True)
    routed = post_vapi(client, account, assistant_request(call_id="v-2")).json()
    assert routed["assistantId"] == FIXTURE_ASSISTANT_ID
    assert sorted(c.attempt for c in inbound_calls(campaign)) == [1, 2]


def test_an_assistant_request_without_the_secret_is_refused_and_stores_nothing(org, client) -> None:
    account = account_of(org, "vapi")
    campaign = called_back_campaign(account, outcomes={"inbound_mode": "route"})

    assert post_vapi(client, account, assistant_request(), secret="wrong").status_code == 401
    assert post_vapi(client, account, assistant_request(), secret="").status_code == 401
    assert inbound_calls(campaign) == []


def test_the_most_recent_campaign_that_called_the_number_answers(org, client) -> None:
    account = account_of(org, "vapi")
    first = called_back_campaign(account, name="Spring", outcomes={"inbound_mode": "route"})
    second = called_back_campaign(account, name="Summer", outcomes={"inbound_rejection_message": "Later."})

    assert post_vapi(client, account, assistant_request()).json() == {"error": "Later."}
    assert (len(inbound_calls(first)), len(inbound_calls(second))) == (0, 1)


# -- Twilio ----------------------------------------------------------------------------------------


def post_twilio(
    client, settings, account: ProviderAccount, params: dict, *, token: str | None = None, query=""
):
    url = f"{settings.SITE_URL}/webhooks/twilio/{account.webhook_token}{query}"
    signature = RequestValidator(token or account.api_key).compute_signature(url, params)
    return client.post(
        url.split(settings.SITE_URL, 1)[1],
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def incoming(caller: str = CALLEE, sid: str = "CA0001") -> dict:
    return {"CallSid": sid, "From": caller, "To": CALLER_ID, "Direction": "inbound", "CallStatus": "ringing"}


def twilio_account(org) -> ProviderAccount:
    return account_of(org, "twilio", account_sid="AC123", stream_url="wss://agent.example.com/media")


def test_twilio_incoming_call_with_a_valid_signature_is_streamed_to_the_agent_with_parameters(
    org, client, settings
) -> None:
    account = twilio_account(org)
    campaign = called_back_campaign(account, outcomes={"inbound_mode": "route"})

    response = post_twilio(client, settings, account, incoming())

    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    twiml = response.content.decode()
    [call] = inbound_calls(campaign)
    assert '<Connect><Stream url="wss://agent.example.com/media">' in twiml
    assert f'<Parameter name="assistantId" value="{FIXTURE_ASSISTANT_ID}" />' in twiml
    assert '<Parameter name="customerName" value="Ana" />' in twiml
    assert '<Parameter name="lastOutcome" value="customer-did-not-answer" />' in twiml
    assert '<Parameter name="plan" value="gold" />' in twiml
    assert f'<Parameter name="callId" value="{call.pk}" />' in twiml
    assert call.provider_call_id == "CA0001"

    # The number's status callback (?cb=status, no call id of ours) ends the inbound call.
    done = {"CallSid": "CA0001", "CallStatus": "completed", "CallDuration": "42", "Direction": "inbound"}
    assert post_twilio(client, settings, account, done, query="?cb=status").status_code == 200
    record_received_events()
    call.refresh_from_db()
    assert call.status == "ended"
    assert counters(campaign) == recount(campaign)
    assert campaign.customers.get().attempts == 1


def test_twilio_incoming_call_with_a_wrong_signature_is_refused(org, client, settings) -> None:
    account = twilio_account(org)
    campaign = called_back_campaign(account, outcomes={"inbound_mode": "route"})

    response = post_twilio(client, settings, account, incoming(), token="not-the-auth-token")

    assert response.status_code == 403
    assert inbound_calls(campaign) == []


def test_twilio_reject_says_the_message_then_hangs_up_or_rejects_at_once(org, client, settings) -> None:
    account = twilio_account(org)
    campaign = called_back_campaign(
        account, outcomes={"inbound_rejection_message": "Please wait for our call."}
    )

    said = post_twilio(client, settings, account, incoming(sid="CA1"), query="?cb=inbound").content.decode()
    assert "<Say>Please wait for our call.</Say><Hangup />" in said

    Campaign.objects.filter(pk=campaign.pk).update(inbound_rejection_message="")
    busy = post_twilio(client, settings, account, incoming(sid="CA2")).content.decode()
    assert '<Reject reason="busy" />' in busy
    unknown = post_twilio(client, settings, account, incoming(STRANGER, sid="CA3")).content.decode()
    assert f"<Say>{UNKNOWN_MESSAGE}</Say><Hangup />" in unknown
    assert [c.ended_reason for c in inbound_calls(campaign)] == [REJECTED, REJECTED]


# -- the simulated provider ------------------------------------------------------------------------


def test_the_simulated_provider_makes_callees_call_back_answered_like_real_ones(
    org, owner, caller_id
) -> None:
    account = caller_id.provider_account
    account.settings = {"seed": 3, "mix": {"noAnswer": 100}, "callbacks": 100}
    account.save()
    people = [services.CustomerInput(number=f"+1415555{i:04d}", name=f"C{i}") for i in range(3)]
    campaign = vapi_campaign(
        caller_id,
        people,
        strategy={"max_attempts": 1},
        outcomes={"inbound_mode": "route"},
        assistant_id="a-1",
    )
    queued = queue_calls(campaign)
    assert placement.place_many([str(c.pk) for c in queued]) == [(str(c.pk), None) for c in queued]

    later = timezone.now() + timedelta(hours=1)
    deadline = time.monotonic() + 60
    while Call.objects.filter(campaign=campaign, direction="inbound", status="ended").count() < 3:
        assert time.monotonic() < deadline, list(Call.objects.values_list("direction", "status"))
        placement.deliver_simulated_events(now=later)

    inbound = Call.objects.filter(campaign=campaign, direction="inbound")
    assert {c.ended_reason for c in inbound} == {"customer-ended-call"}
    assert sorted(c.customer.attempts for c in inbound) == [1, 1, 1]
    assert counters(campaign) == recount(campaign)
    campaign.refresh_from_db()
    assert campaign.calls_ended == 3
    assert services.campaign_is_exhausted(campaign)  # nothing left to dial: it can finish


def test_a_callback_in_progress_never_keeps_the_campaign_from_finishing(org, client) -> None:
    account = account_of(org, "vapi")
    campaign = called_back_campaign(account, strategy={"max_attempts": 1}, outcomes={"inbound_mode": "route"})
    assert campaign.customers.get().state == "failed"  # nobody left to call

    post_vapi(client, account, assistant_request())

    assert [c.status for c in inbound_calls(campaign)] == ["ringing"]
    assert services.campaign_is_exhausted(campaign)
