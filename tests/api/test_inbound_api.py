"""The inbound settings on a campaign (our extension: inboundMode, inboundRejectionMessage,
inboundRouteDoNotCall), and an inbound call in the campaign's calls: `direction` and Vapi's
`type`, apart from the attempts."""

from __future__ import annotations

from campaigns import services
from campaigns.models import Campaign, ProviderAccount
from campaigns.services.inputs import CallEvent
from tests.api.conftest import messages
from tests.fakes.dialdeck_side import queue_calls


def test_the_inbound_settings_are_echoed_patched_and_checked(api, create) -> None:
    body = create(1, inboundMode="route", inboundRejectionMessage="Call us later.")
    assert (body["inboundMode"], body["inboundRejectionMessage"]) == ("route", "Call us later.")
    assert "inboundRouteDoNotCall" not in body  # left at its default: not shown

    response = api.patch(f"/campaign/{body['id']}", {"inboundRouteDoNotCall": True}, format="json")
    assert response.status_code == 200 and response.json()["inboundRouteDoNotCall"] is True

    bad = api.patch(
        f"/campaign/{body['id']}",
        {"inboundMode": "forward", "inboundRejectionMessage": "x" * 501},
        format="json",
    )
    assert bad.status_code == 400
    assert any(m.startswith("inboundMode must be one of") for m in messages(bad)), messages(bad)
    assert any(m.startswith("inboundRejectionMessage") for m in messages(bad)), messages(bad)
    campaign = Campaign.objects.get(pk=body["id"])
    assert (campaign.inbound_mode, campaign.inbound_rejection_message) == ("route", "Call us later.")


def test_a_vapi_client_that_sends_none_of_them_gets_a_rejecting_campaign(create) -> None:
    body = create(1)
    assert not {"inboundMode", "inboundRejectionMessage", "inboundRouteDoNotCall"} & set(body)
    assert Campaign.objects.get(pk=body["id"]).inbound_mode == "reject"


def test_an_inbound_call_is_listed_with_its_direction_and_type(api, create) -> None:
    body = create(1, inboundMode="route", dialingStrategy={"respectRecipientTimeZone": False})
    campaign = Campaign.objects.get(pk=body["id"])
    [call] = queue_calls(campaign)
    account = ProviderAccount.objects.get(pk=call.provider_account_id)
    ended = CallEvent(
        kind="status-update", status="ended", ended_reason="customer-busy", call_id=str(call.pk)
    )
    services.record_call_event(account=account, event=ended)
    customer = campaign.customers.get()
    result = services.inbound_call_receive(
        account=account, caller=customer.number, called=call.phone_number.number, provider_call_id="in-1"
    )
    assert result.answer.routed

    listed = api.get(f"/campaign/{body['id']}/calls").json()["results"]
    by_direction = {c["direction"]: c for c in listed}
    assert by_direction["inbound"]["type"] == "inboundPhoneCall"
    assert by_direction["inbound"]["attempt"] == 1 and by_direction["inbound"]["status"] == "ringing"
    assert by_direction["outbound"]["type"] == "outboundPhoneCall"
    document = api.get(f"/campaign/{body['id']}").json()
    types = {entry.get("type", "outboundPhoneCall") for entry in document.get("calls", {}).values()}
    assert "inboundPhoneCall" in types
    customers = api.get(f"/campaign/{body['id']}/customers").json()["results"]
    assert [c["attempts"] for c in customers] == [1]  # the callback spent no attempt
