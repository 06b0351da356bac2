"""Before a start, in Chromium at 1280 and 390 px: the pre-flight on a scheduled campaign's page
(who it could call under its hours, who never and why), and a typed campaign's CSV check (its data
fields as the preview's columns, rows that break its schema named by line)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import Campaign
from tests.e2e.browser import log_in, shoot
from tests.e2e.test_wallboard import watch

OFFICE = [
    {"day": d, "start": "09:00", "end": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
]
NEW_YORK_OFFICE = {"time_zone": "America/New_York", "calling_hours": OFFICE, "auto_start": False}


def people(*numbers: str, **extra: str) -> list[services.CustomerInput]:
    return [services.CustomerInput(number=n, source=str(i), **extra) for i, n in enumerate(numbers)]


def test_a_manager_sees_who_can_never_be_called_before_starting(
    live_server, page: Page, make_campaign
) -> None:
    numbers = [f"+1212555000{i}" for i in range(3)] + [f"+8131234567{i}" for i in range(2)]
    campaign = make_campaign(name="Office hours", customers=people(*numbers), strategy=NEW_YORK_OFFICE)
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    panel = page.get_by_role("region", name="Before you start: who can be called")
    expect(panel).to_contain_text("2 of 5 customers can never be called under these settings")
    expect(panel.locator('[data-preflight="held"]')).to_have_text("2")
    expect(
        panel.get_by_role("row", name="No time suits both the campaign's hours and the callee's")
    ).to_contain_text("Never, as set")
    shoot(page, "campaign-preflight")


def test_a_typed_campaigns_csv_check_shows_its_data_fields_as_columns(
    live_server, page: Page, owner, make_campaign
) -> None:
    campaign = make_campaign(name="Typed", customers=people("+12125550001"), strategy={"auto_start": False})
    schema = {"type": "object", "properties": {"plan": {"enum": ["basic", "premium"]}, "renewal": {}}}
    services.campaign_schema_set(campaign=campaign, by=owner, data_schema=schema)
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}/edit")
    page.get_by_label("…or paste CSV rows", exact=True).fill(
        "number,plan,renewal\n+14155550101,premium,2026-12-31\n+14155550102,gold,\n"
    )
    page.get_by_role("button", name="Check the customers").first.click()
    sample = page.get_by_role("region", name="First rows of Customers with the campaign's data fields")
    expect(sample.get_by_role("columnheader", name="renewal")).to_be_visible()
    expect(sample.locator('[data-sample-line="2"]')).to_contain_text("premium")
    expect(page.locator('tr[data-line="3"]')).to_contain_text("plan: 'gold' is not one of")
    shoot(page, "builder-typed-preview")


def test_the_builder_says_who_could_be_called_as_the_hours_change_before_saving(
    live_server, page: Page, make_campaign
) -> None:
    problems = watch(page)
    numbers = [f"+1212555000{i}" for i in range(3)]
    campaign = make_campaign(name="Office hours", customers=people(*numbers), strategy=NEW_YORK_OFFICE)
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}/edit")
    panel = page.locator("#builder-preflight")
    expect(panel.locator('[data-preflight="pending"]')).to_have_text("3")
    expect(panel.locator('[data-preflight="held"]')).to_have_text("0")

    # 09:00–17:00 in Kathmandu is 22:15–06:15 in New York: said at once, nothing saved.
    page.get_by_label("Time zone of the calling hours").select_option("Asia/Kathmandu")
    expect(panel.locator('[data-preflight="held"]')).to_have_text("3")
    expect(panel).to_contain_text("No time suits both the campaign's hours and the callee's")
    assert Campaign.objects.get(pk=campaign.pk).time_zone == "America/New_York"
    page.get_by_label("Time zone of the calling hours").select_option("America/New_York")
    expect(panel.locator('[data-preflight="held"]')).to_have_text("0")
    page.wait_for_load_state("networkidle")
    shoot(page, "builder-preflight")
    assert problems == [], "\n".join(problems)


def test_a_customers_page_says_where_they_live_and_the_zone_it_gives(
    live_server, page: Page, make_campaign
) -> None:
    problems = watch(page)
    moved = people("+12125550001", name="Ana", postal_code="79901")
    campaign = make_campaign(name="Movers", customers=moved, strategy={"auto_start": False})
    customer = campaign.customers.get()
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}/customers/{customer.pk}")
    expect(page.locator("[data-zones]")).to_have_text("America/Denver (where they live)")
    expect(page.locator("[data-place]")).to_have_text("US-TX 79901")  # the state, from the ZIP
    shoot(page, "customer-where-they-live")
    assert problems == [], "\n".join(problems)
