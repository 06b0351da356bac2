"""Every page an admin can open, in the browser: it works, it is labelled, it fits 1280 and 390 px.

Each page is checked (one main, one h1, a skip link, every control named, no
sideways scrolling) and photographed at both widths by `shoot`.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import ApiKey, DoNotCall, Membership, ProviderAccount
from tests.e2e.browser import log_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_visits_every_page(live_server, page: Page, org, owner, caller_id, make_campaign) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    services.dnc_add(organization=org, by=owner, numbers=[("+14155550199", "asked on the phone")])
    make_campaign(12, name="Spring renewals", strategy={"auto_start": False})

    page.goto(f"{live_server.url}/app/campaigns")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shoot(page, "login")
    log_in(page, live_server.url, "olivia")
    shoot(page, "campaigns")

    page.get_by_label("Search by name").fill("autumn")
    expect(page.locator("#campaign-rows")).to_contain_text("No campaign matches")
    assert "q=autumn" in page.url
    page.get_by_label("Search by name").fill("")
    expect(page.locator("#campaign-rows")).to_contain_text("Spring renewals")

    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()
    shoot(page, "builder")
    page.get_by_label("A dial plan: several caller IDs, each with its own customers").check()
    expect(page.locator("#dial-plan")).to_be_visible()
    expect(page.get_by_label("Caller ID to call from")).to_be_hidden()
    shoot(page, "builder-dial-plan")

    page.get_by_role("link", name="Do not call").click()
    page.get_by_label("Number", exact=True).fill("+1 212 555 0100")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Added to the list.")
    page.get_by_label("Search numbers and notes").fill("phone")
    expect(page.locator("#dnc-rows")).to_contain_text("+14155550199")
    expect(page.locator("#dnc-rows")).not_to_contain_text("+12125550100")
    shoot(page, "do-not-call")
    page.get_by_role("button", name="Remove +14155550199").click()
    expect(page.locator(".messages")).to_contain_text("it may be called again")
    assert list(DoNotCall.objects.values_list("number", flat=True)) == ["+12125550100"]

    page.get_by_role("link", name="Caller IDs").click()
    expect(page.get_by_role("heading", name="Caller IDs", level=1)).to_be_visible()
    shoot(page, "caller-ids")

    page.get_by_role("link", name="Providers").click()
    page.get_by_label("Name").fill("Vapi production")
    page.get_by_label("Vapi-compatible").check()
    page.get_by_label("Base URL").fill("https://api.vapi.ai")
    page.get_by_label("API key or auth token").fill("sk-test")
    page.get_by_role("button", name="Add account").click()
    account = ProviderAccount.objects.get(name="Vapi production")
    expect(page.get_by_test_id("webhook-url")).to_contain_text(f"/webhooks/vapi/{account.webhook_token}")
    expect(page.get_by_test_id("webhook-header")).to_have_text(f"X-Vapi-Secret: {account.webhook_secret}")
    shoot(page, "providers-secret-once")

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("api-key")).to_contain_text("dd_")
    shoot(page, "api-keys-once")
    page.get_by_role("link", name="API keys").click()
    page.get_by_role("button", name="Revoke CRM sync").click()
    expect(page.locator(".messages")).to_contain_text("now get 401")
    assert ApiKey.objects.get().revoked_at is not None

    page.get_by_role("link", name="Members").click()
    page.get_by_label("Username").fill("nina")
    page.get_by_label("Password").fill("a long enough phrase")
    page.get_by_label("Role", exact=True).select_option("manager")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".messages")).to_contain_text("Created the account nina as manager.")
    assert Membership.objects.get(user__username="nina").role == "manager"
    shoot(page, "members")

    assert errors == []
