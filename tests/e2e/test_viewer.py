"""A viewer, in the browser: sees the campaign, has no Start button, and a forged POST gets 403."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Campaign
from tests.e2e.browser import log_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_viewer_cannot_press_start_nor_forge_it(live_server, page: Page, viewer, make_campaign) -> None:
    campaign = make_campaign(3, name="Read only", strategy={"auto_start": False})
    log_in(page, live_server.url, "vera")
    page.get_by_role("link", name="Read only").click()
    expect(page.locator("#campaign-status .badge")).to_have_text("Scheduled")
    assert page.get_by_role("button", name="Start").count() == 0
    assert page.get_by_role("link", name="Edit").count() == 0
    assert page.get_by_role("link", name="New campaign").count() == 0
    shoot(page, "campaign-as-viewer")

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = page.request.post(
        f"{live_server.url}/app/campaigns/{campaign.pk}/start",
        headers={"X-CSRFToken": csrf, "HX-Request": "true"},
    )
    assert forged.status == 403
    assert Campaign.objects.get(pk=campaign.pk).status == "scheduled"
