"""Callbacks from callees in the browser: a manager sets the campaign to route callbacks to its
agent, a callee calls back through Vapi's assistant-request, and the customer's page shows it."""

from __future__ import annotations

import orjson
import pytest
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import Call, ProviderAccount
from campaigns.services.inputs import CallEvent
from tests.campaigns.test_call_events import ANY_TIME
from tests.e2e.browser import log_in, shoot
from tests.fakes.dialdeck_side import caller_on, queue_calls, vapi_campaign

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_routes_callbacks_and_sees_the_callees_call(
    live_server, page: Page, org, owner, client
) -> None:
    account = ProviderAccount.objects.create(
        organization=org, name="Vapi", kind="vapi", base_url="https://api.vapi.ai"
    )
    ana = services.CustomerInput(number="+14155551000", name="Ana Lima")
    campaign = vapi_campaign(caller_on(account), [ana], name="Renewals", strategy=ANY_TIME)
    [call] = queue_calls(campaign)
    done = CallEvent(
        kind="status-update", status="ended", ended_reason="customer-did-not-answer", call_id=str(call.pk)
    )
    services.record_call_event(account=account, event=done)

    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}/outcome-settings")
    section = page.get_by_role("region", name="Callbacks from callees")
    section.get_by_label("When a callee calls back").select_option("route")
    section.get_by_label("Rejection message").fill("We will call you again.")
    shoot(page, "inbound-settings")
    page.get_by_role("button", name="Save outcome settings").click()
    expect(page.get_by_text("Saved the outcome settings.")).to_be_visible()

    message = {
        "type": "assistant-request",
        "call": {"id": "vapi-in-1", "customer": {"number": "+14155551000"}},
    }
    message["phoneNumber"] = {"number": "+14155550142"}
    answer = client.post(
        f"/webhooks/vapi/{account.webhook_token}",
        orjson.dumps({"message": message}),
        content_type="application/json",
        HTTP_X_VAPI_SECRET=account.webhook_secret,
    ).json()
    assert answer["assistantOverrides"]["variableValues"]["customerName"] == "Ana Lima"
    assert Call.objects.filter(campaign=campaign, direction="inbound").count() == 1

    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    expect(page.get_by_text("Inbound callbacks 1")).to_be_visible()
    page.locator("#customer-rows").get_by_role("link", name="Ana Lima").first.click()
    inbound = page.locator("#inbound-calls")
    expect(inbound.get_by_role("heading", name="Calls from the customer")).to_be_visible()
    expect(inbound.get_by_role("table")).to_contain_text("Inbound #1")
    expect(inbound).to_contain_text("Routed to the agent")
    expect(page.get_by_role("heading", name="Every attempt")).to_contain_text("(1)")
    shoot(page, "inbound-customer")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(inbound.get_by_text("Inbound #1")).to_be_visible()
