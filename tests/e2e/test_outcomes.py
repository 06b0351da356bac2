"""Outcomes in the browser: the campaign's summary, each customer's result and callback, the
objective filter, and an opt-out on the do-not-call list linked to its call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import Call
from dialer.dispatch import dispatch_campaign
from tests.campaigns.test_call_events import ANY_TIME, accept
from tests.campaigns.test_outcomes import OUTCOMES, answered
from tests.e2e.browser import log_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_sees_what_the_calls_achieved(live_server, page: Page, owner, make_campaign) -> None:
    campaign = make_campaign(4, name="Renewals", strategy=ANY_TIME, outcomes=OUTCOMES)
    campaign = services.campaign_start(campaign=campaign, by=owner)
    dispatch_campaign(campaign, enqueue=lambda ids: None)
    results = [
        {"objectiveMet": True, "mood": "happy"},
        {"objectiveMet": False, "mood": "angry", "optOut": True},
        {"objectiveMet": False, "callbackAt": (timezone.now() + timedelta(days=1)).isoformat()},
    ]
    queued = Call.objects.filter(campaign=campaign).order_by("customer__position")
    for call, result in zip(queued, results, strict=False):
        answered(accept(call, f"prov-{call.pk}"), result)

    log_in(page, live_server.url, "olivia")
    page.get_by_role("link", name="Renewals").click()
    outcomes = page.locator("#campaign-outcomes")
    expect(outcomes.get_by_role("heading", name="Outcomes")).to_be_visible()
    expect(outcomes).to_contain_text("Book a renewal call.")
    expect(outcomes.locator("dd").nth(1)).to_have_text("1 (33%)")
    expect(outcomes.get_by_role("table", name="mood")).to_contain_text("angry")
    rows = page.locator("#customer-rows tbody tr")
    expect(rows.filter(has_text="Callback at")).to_have_count(1)
    shoot(page, "campaign-outcomes")

    page.get_by_label("Objective", exact=True).select_option("met")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Objective met")
    rows.first.get_by_text("Result").click()
    expect(rows.first.locator("dl")).to_contain_text("happy")

    outcomes.get_by_role("link", name="1").click()  # the opt-outs
    entry = page.locator("#dnc-rows tbody tr")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Opted out on a call")
    entry.get_by_role("link", name="the call").click()
    expect(page).to_have_url(f"{live_server.url}/app/campaigns/{campaign.pk}/calls/{entry_call(campaign)}")


def entry_call(campaign) -> str:
    from campaigns.models import DoNotCall

    return str(DoNotCall.objects.get(call__campaign=campaign).call_id)
