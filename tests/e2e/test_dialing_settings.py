"""Dialing settings in the browser: a supervisor narrows a running campaign's concurrency and hours
without pausing it, at 1280 and 390 px, and a refused value is said beside its field."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import Campaign
from tests.e2e.browser import log_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_changes_a_running_campaigns_concurrency_and_hours(
    live_server, page: Page, make_campaign, owner
) -> None:
    campaign = make_campaign(3, strategy={"respect_recipient_time_zone": False})
    services.campaign_start(campaign=campaign, by=owner)
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    page.get_by_role("link", name="Dialing settings").click()
    expect(page.get_by_role("heading", name="Dialing settings", level=1)).to_be_visible()
    page.get_by_label("Calls at the same time").fill("0")
    page.get_by_role("button", name="Save dialing settings").click()
    expect(page.get_by_text("Ensure this value is greater than or equal to 1")).to_be_visible()
    page.get_by_label("Calls at the same time").fill("4")
    page.get_by_role("checkbox", name="Monday").check()
    page.get_by_label("Monday from").fill("08:30")
    page.get_by_label("Monday to").fill("18:00")
    shoot(page, "dialing-settings")
    page.get_by_role("button", name="Save dialing settings").click()
    # Back on the campaign, which says it now waits for the new hours (unless it is Monday's now).
    expect(page.get_by_role("heading", name="Renewals", level=1)).to_be_visible()
    expect(page.get_by_text("What the dialer is doing")).to_be_visible()
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.status == "in-progress" and campaign.max_concurrent_calls == 4
    assert campaign.calling_hours == [{"day": "mon", "start": "08:30", "end": "18:00"}]
