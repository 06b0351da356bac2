"""An admin adds a Twilio account in the browser, sees a bad setting refused next to its field,
copies the webhook URL with the copy button, and tests the connection against the fake Twilio;
on a desktop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import ProviderAccount
from tests.e2e.browser import log_in, shoot
from tests.fakes.twilio_server import FakeTwilio

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HTTP_STATUS_NOTE = "Failed to load resource: the server responded with a status of"  # the 422s


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_sets_up_twilio_copies_its_webhook_and_tests_the_connection(
    width, live_server, page: Page, org, owner
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and not msg.text.startswith(HTTP_STATUS_NOTE)
            else None
        ),
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server.url, "olivia")

    with FakeTwilio() as twilio:
        page.goto(f"{live_server.url}/app/providers")
        expect(page.get_by_label("Account SID")).to_be_hidden()  # a simulated account by default
        page.get_by_label("Twilio Programmable Voice").check()
        expect(page.get_by_label("Account SID")).to_be_visible()
        page.get_by_label("Name").fill("Twilio US")
        page.get_by_label("Base URL").fill(twilio.url)
        page.get_by_label("API key or auth token").fill(twilio.auth_token)
        page.get_by_label("Account SID").fill("AC123")
        page.get_by_label("Agent stream URL").fill("wss://agent.example.com/media")
        page.get_by_role("button", name="Add account").click()

        expect(page.locator("#id_account_sid_error")).to_contain_text("must be AC followed by 32 hex digits")
        assert not ProviderAccount.objects.filter(organization=org).exists()
        page.get_by_label("API key or auth token").fill(twilio.auth_token)  # never rendered back
        page.get_by_label("Account SID").fill(twilio.account_sid)
        page.get_by_role("button", name="Add account").click()

        url = page.get_by_test_id("webhook-url")
        expect(url).to_contain_text("/webhooks/twilio/")
        page.get_by_role("button", name="Copy the webhook URL").click()
        expect(page.get_by_role("button", name="Copy the webhook URL")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == url.inner_text().strip()
        shoot(page, "provider-added")

        page.get_by_role("link", name="the account's page").click()
        expect(page.get_by_role("heading", name="Twilio US", level=1)).to_be_visible()
        expect(page.get_by_test_id("api-key-mask")).to_have_text("••••1234")
        page.get_by_role("button", name="Test connection").click()
        result = page.get_by_test_id("connection-result")
        expect(result).to_contain_text("Connected.")
        expect(result).to_contain_text(f"GET /2010-04-01/Accounts/{twilio.account_sid}.json -> 200")
        shoot(page, "provider-account")

    assert twilio.auth_token not in page.content()
    assert problems == [], problems
