"""The pre-flight on a scheduled campaign's page, in Chromium at 1280 and 390 px: who it could call
under its hours, who never and why, before anyone presses Start."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from campaigns import services
from tests.e2e.browser import log_in, shoot

OFFICE = [
    {"day": d, "start": "09:00", "end": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
]


def test_a_manager_sees_who_can_never_be_called_before_starting(
    live_server, page: Page, org, owner, caller_id
) -> None:
    campaign = services.campaign_create(
        organization=org,
        by=owner,
        data=services.CampaignInput(
            name="Office hours",
            assistant_id="a",
            phone_number_id=str(caller_id.pk),
            customers=[services.CustomerInput(number=f"+1212555000{i}") for i in range(3)]
            + [services.CustomerInput(number=f"+8131234567{i}") for i in range(2)],
            strategy={"time_zone": "America/New_York", "calling_hours": OFFICE, "auto_start": False},
        ),
    )
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    panel = page.get_by_role("region", name="Before you start: who can be called")
    expect(panel).to_contain_text("2 of 5 customers can never be called under these settings")
    expect(panel.locator('[data-preflight="held"]')).to_have_text("2")
    expect(
        panel.get_by_role("row", name="No time suits both the campaign's hours and the callee's")
    ).to_contain_text("Never, as set")
    shoot(page, "campaign-preflight")
