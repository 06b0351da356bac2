"""Re-runs and recurrence in the browser: an ended campaign's groups counted, a counted
confirmation, the new campaign linked back; a campaign made to recur with errors next to the
fields first, then its series with its runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import Campaign
from tests.campaigns.test_reruns import STRATEGY, finished  # noqa: F401 (a fixture)
from tests.e2e.browser import log_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_manager_calls_again_who_did_not_answer(live_server, page: Page, finished) -> None:  # noqa: F811
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{finished.pk}")
    again = page.locator("#campaign-again")
    expect(again).to_contain_text("Not answered: 2 · failed: 1 · objective not met: 1")
    again.get_by_role("link", name="Call again…").click()

    page.get_by_role("button", name="Review").click()  # nothing chosen: said next to the field
    expect(page.get_by_text("Choose at least one group of customers to call again.")).to_be_visible()
    page.get_by_label("Did not answer (no answer, busy, voicemail): 2").check()
    page.get_by_label("Answered, objective not met: 1").check()
    page.get_by_role("button", name="Review").click()
    expect(page.locator("#rerun-count")).to_contain_text("It calls 3 customers of “Renewals” again")
    shoot(page, "rerun-confirm")
    page.get_by_role("button", name="Create the re-run (3)").click()

    expect(page.get_by_role("heading", name="Renewals (re-run)", level=1)).to_be_visible()
    expect(page.get_by_text("calling 3 customers again")).to_be_visible()
    rerun = Campaign.objects.get(rerun_of=finished)
    assert rerun.customers_total == 3
    page.locator("#campaign-again").get_by_role("link", name="Renewals").click()
    expect(page).to_have_url(f"{live_server.url}/app/campaigns/{finished.pk}")


def test_a_manager_makes_a_campaign_recur_and_sees_its_runs(
    live_server, page: Page, make_campaign, owner
) -> None:
    campaign = make_campaign(3, strategy=STRATEGY, name="Weekly check-in")
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    page.get_by_role("link", name="Repeat this campaign daily, weekly or monthly…").click()

    page.get_by_label("Repeat", exact=True).select_option("daily")
    page.get_by_label("Start each run at").fill("09:30")
    page.get_by_role("button", name="Make it recur").click()  # no end: refused next to "Last day"
    last_day = page.locator(".field.has-error")
    expect(last_day).to_contain_text("Last day")
    expect(last_day).to_contain_text("or a number of runs is required: a series must end")
    page.get_by_label("Number of runs").fill("3")
    page.get_by_role("button", name="Make it recur").click()

    series = page.locator("#campaign-series")
    expect(series.get_by_role("heading", name="Series: daily at 09:30")).to_be_visible()
    expect(series).to_contain_text("Next run:")
    expect(series.locator("tbody tr")).to_have_count(1)
    run = services.series_run_due(series_id=campaign.series_made.pk, now=campaign.series_made.next_run_at)
    page.reload()
    expect(series.locator("tbody tr")).to_have_count(2)
    expect(series.locator("tbody tr").nth(1)).to_contain_text(run.name)
    shoot(page, "series")
    page.once("dialog", lambda dialog: dialog.accept())
    series.get_by_role("button", name="Stop recurring").click()
    expect(page.get_by_text("Stopped: no further run will be made.")).to_be_visible()
