"""The campaign's events panel in a real browser, under the Content-Security-Policy: an event's
delivery attempts open beside the list, the list refreshes by itself while events wait, and a
refresh leaves the opened attempts alone; the organization page shows a rotated secret once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import SERVER_MESSAGES, CampaignEvent
from campaigns.services.events import DeliveryAttempt, event_attempts_record
from tests.e2e.browser import log_in, shoot
from tests.e2e.test_csp import refusals  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def attempt(event: CampaignEvent, status: int, **outcome: object) -> None:
    event_attempts_record(
        attempts=[
            DeliveryAttempt(
                event_id=event.pk,
                attempted_at=event.created_at,
                url="https://api.vapi.ai/hooks",
                http_status=status,
                duration_ms=87,
                **outcome,
            )
        ]
    )


def test_an_admin_follows_a_campaigns_events_and_their_attempts(
    live_server,
    page: Page,
    refusals,  # noqa: F811
    org,
    owner,
    make_campaign,
) -> None:
    campaign = make_campaign(
        3,
        name="Spring renewals",
        strategy={"auto_start": False},
        server={"url": "https://api.vapi.ai/hooks"},
        server_messages=list(SERVER_MESSAGES),
    )
    started = services.event_emit(campaign=campaign, event_type="campaign.started", data={"workflowId": "r1"})
    waiting = services.event_emit(
        campaign=campaign, event_type="contact.dispatched", data={"contactId": "c1"}
    )
    attempt(started, 200, delivered=True)
    attempt(waiting, 503, error="answered 503", response="try again later", retry_at=waiting.created_at)

    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    events = page.locator("#campaign-events")
    expect(events).to_contain_text("1 waiting · 0 given up")
    row = events.locator(f'tr[data-event="{waiting.pk}"]')
    expect(row).to_contain_text("Waiting to be delivered")
    row.get_by_role("link", name="attempts: show them").click()
    attempts = page.locator("#event-attempts")
    expect(attempts).to_contain_text("HTTP 503")
    expect(attempts).to_contain_text("try again later")
    shoot(page, "campaign-events")

    attempt(CampaignEvent.objects.get(pk=waiting.pk), 200, delivered=True)  # delivered meanwhile

    expect(row).to_contain_text("Delivered", timeout=12_000)  # the panel refreshed by itself
    expect(events).to_contain_text("0 waiting · 0 given up")
    expect(attempts).to_contain_text("try again later")  # and left the opened attempts alone

    page.goto(f"{live_server.url}/app/organization/settings")
    page.get_by_role("button", name="Rotate the signing secret").click()
    org.refresh_from_db()
    expect(page.get_by_test_id("signing-secret")).to_have_text(org.event_signing_secret)
    shoot(page, "signing-secret-once")
    refusals.assert_none()
