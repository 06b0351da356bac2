"""Everyday operations in Chromium at 1280 and 390 px: find a customer, open their page, act on
several at once after a counted confirmation, archive an ended campaign, read the audit log."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import Campaign, Customer
from tests.e2e.browser import log_in, shoot
from tests.e2e.test_wallboard import ANY_TIME, watch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_finds_customers_and_cancels_two_after_a_counted_confirmation(
    live_server, page: Page, org, owner, make_campaign
) -> None:
    campaign = services.campaign_start(campaign=make_campaign(6, strategy=ANY_TIME), by=owner)
    Customer.objects.filter(campaign=campaign, position=4).update(external_id="crm-404")
    problems = watch(page)
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}/customers")
    rows = page.locator("#customer-rows [data-customer]")
    expect(rows).to_have_count(6)
    shoot(page, "customers-bulk")

    page.get_by_label("Number, name or external id").fill("crm-404")
    page.get_by_role("button", name="Filter").first.click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Customer 4")
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Customer 4", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("crm-404")
    shoot(page, "customer-page")

    page.go_back()
    page.get_by_label("Number, name or external id").fill("")  # the list follows as one types
    expect(rows).to_have_count(6)
    page.wait_for_load_state("networkidle")  # no refresh still on its way to undo the ticks below
    page.get_by_label("Choose customer 1 Customer 0").check()
    page.get_by_label("Choose customer 2 Customer 1").check()
    page.get_by_label("With the chosen customers").select_option("cancel")
    page.get_by_role("button", name="Continue…").click()
    expect(page.locator(".bulk-question")).to_have_text(
        "Cancel 2 customers? Those still waiting are never called."
    )
    assert Campaign.objects.get(pk=campaign.pk).customers_cancelled == 0  # nothing before the answer
    shoot(page, "customers-bulk-confirm")
    page.get_by_role("button", name="Yes, do it").click()
    expect(page.locator(".messages")).to_contain_text("Cancelled 2 of 2.")
    campaign.refresh_from_db()
    assert (campaign.customers_cancelled, campaign.customers_pending) == (2, 4)

    # The audit log says who did it, filterable.
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action starts with").fill("customers.")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-rows [data-action]")).to_have_count(1)
    expect(page.locator("#audit-rows")).to_contain_text("olivia")
    shoot(page, "audit-log")

    # An ended campaign is archived from its page, and unarchived.
    services.campaign_end(campaign=campaign, by=owner)
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("img", name="Campaign status: Archived")).to_be_visible()
    page.get_by_role("button", name="Unarchive").click()
    expect(page.get_by_role("img", name="Campaign status: Ended")).to_be_visible()
    assert problems == []
