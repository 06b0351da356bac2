"""The supervisor's operations in Chromium at 1280 and 390 px: alerts in the notification list,
the calls list filtered and sorted, an action on every customer a filter matches and a move, the
organization's calendar, and what the organization and a campaign have cost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from campaigns import clock, services
from campaigns.models import Call, Campaign, Customer, PhoneNumber
from tests.dashboard.test_sorting_and_filters import with_calls
from tests.dashboard.test_usage_and_costs import split as split  # noqa: F401 - the fixture
from tests.e2e.browser import log_in, shoot
from tests.e2e.test_wallboard import ANY_TIME, watch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def focused_id(page: Page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def test_an_alert_reaches_the_notification_list_with_a_link_to_its_campaign(
    live_server, page: Page, owner, make_campaign
) -> None:
    campaign = services.campaign_start(
        campaign=make_campaign(3, name="Renewals", strategy=ANY_TIME), by=owner
    )
    now = clock.now()
    Customer.objects.filter(campaign=campaign).update(next_attempt_at=now + timedelta(hours=3))
    services.alerts_sweep(now=now)  # as the beat does: seen now, said five minutes later, once
    services.alerts_sweep(now=now + timedelta(minutes=5))
    services.alerts_sweep(now=now + timedelta(minutes=6))
    problems = watch(page)
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/notifications")
    notices = page.locator("ul.notices li[data-kind='campaign.nobody-callable']")
    expect(notices).to_have_count(1)
    expect(notices.first).to_contain_text("“Renewals” is running with 3 customers left and nobody callable")
    shoot(page, "notifications-alerts")
    notices.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Renewals", level=1)).to_be_visible()
    assert problems == [], "\n".join(problems)


def test_a_supervisor_filters_and_sorts_the_calls_and_the_customers(
    live_server, page: Page, owner, make_campaign
) -> None:
    campaign = make_campaign(40, strategy=ANY_TIME)
    calls = with_calls(campaign)
    local = PhoneNumber.objects.create(
        organization=campaign.organization,
        provider_account=campaign.phone_number.provider_account,
        number="+12125550177",
    )
    Call.objects.filter(pk__in=[c.pk for c in calls[::3]]).update(phone_number=local)
    problems = watch(page)
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}/calls")
    rows = page.locator("#call-rows ol.calls > li")
    expect(rows).to_have_count(25)
    page.get_by_label("Outcome").select_option("busy")
    busy = sum(1 for c in calls if c.ended_reason == "customer-busy")
    expect(rows).to_have_count(busy)
    # ... and by the caller ID they were made from.
    busy_local = sum(1 for c in calls[::3] if c.ended_reason == "customer-busy")
    assert 0 < busy_local < busy
    page.get_by_label("Caller ID").select_option(label="+12125550177")
    expect(rows).to_have_count(busy_local)
    # A choice and then Filter at once: the second waits for the first (never aborts it, which
    # the browser would log as a failed request), and both end on every busy call.
    page.get_by_label("Caller ID").select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(busy)
    page.wait_for_load_state("networkidle")
    # The form's fields were replaced by its answers, and a list still applies as it changes.
    page.get_by_label("Caller ID").select_option(label="+12125550177")
    expect(rows).to_have_count(busy_local)
    page.get_by_label("Caller ID").select_option("")
    expect(rows).to_have_count(busy)
    page.wait_for_load_state("networkidle")
    # A search by the customer: a part of the name, applied with Enter, on top of the other filters.
    renamed = Customer.objects.filter(pk=calls[3].customer_id)
    named = renamed.get().name
    renamed.update(name="Zoë Quintana")
    search = page.get_by_label("Number, name or external id")
    search.fill("quintana")
    search.press("Enter")
    expect(rows).to_have_count(1 if calls[3].ended_reason == "customer-busy" else 0)
    page.get_by_label("Outcome").select_option("")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(calls[3].customer.number)
    search.fill("")
    search.press("Enter")
    page.get_by_label("Outcome").select_option("busy")  # chosen while the search's answer may be on its way
    expect(rows).to_have_count(busy)
    expect(page.get_by_label("Outcome")).to_have_value("busy")  # an older answer never puts back ""
    page.wait_for_load_state("networkidle")
    renamed.update(name=named)

    # A click on a header sorts by it, and says so to assistive technology.
    duration = page.get_by_role("columnheader", name="Duration")
    expect(duration).to_have_attribute("aria-sort", "none")
    duration.get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Duration")).to_have_attribute("aria-sort", "descending")
    expect(page.get_by_role("columnheader", name="Started")).to_have_attribute("aria-sort", "none")
    longest = max(c.duration_seconds or -1 for c in calls if c.ended_reason == "customer-busy")
    expect(rows.first).to_contain_text(f"Duration {longest:.0f} s")

    # A wrong date range is named beside its field, and focus goes there.
    page.get_by_label("From (day)").fill("2026-03-12")
    page.get_by_label("To (day, included)").fill("2026-03-10")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#id_call_to_error")).to_have_text("The last day comes on or after the first day.")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'id_call_to'")
    # (Screenshots last on a page: Playwright's resizing leaves style attributes that htmx's
    # settling would then copy, which the Content-Security-Policy rightly refuses.)
    shoot(page, "calls-filtered-sorted-error")

    # The customers sort by name, from the header (wide) or the Sort by list (narrow).
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}/customers")
    page.get_by_role("columnheader", name="Name").get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Name")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#customer-rows [data-customer]").first).to_contain_text("Customer 0")
    page.set_viewport_size({"width": 390, "height": 800})
    page.get_by_label("Sort by").select_option("-name")
    expect(page.locator("#customer-rows [data-customer]").first).to_contain_text("Customer 9")
    page.set_viewport_size({"width": 1280, "height": 800})
    shoot(page, "customers-sorted")
    assert problems == [], "\n".join(problems)


def test_a_supervisor_cancels_everyone_a_search_finds_then_moves_the_rest(
    live_server, page: Page, owner, make_campaign
) -> None:
    campaign = services.campaign_start(campaign=make_campaign(30, strategy=ANY_TIME), by=owner)
    winback = make_campaign(
        0, name="Winback", strategy=ANY_TIME, customers=[services.CustomerInput(number="+13125550100")]
    )
    problems = watch(page)
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}/customers")
    page.get_by_label("Number, name or external id").fill("Customer 1")
    expect(page.locator("#customer-rows [data-customer]")).to_have_count(11)  # 1 and 10-19
    page.wait_for_load_state("networkidle")
    page.get_by_label("Every one matching the filter, on every page").check()
    page.get_by_label("With the chosen customers").select_option("cancel")
    page.get_by_role("button", name="Continue…").click()
    question = page.locator("#bulk-confirm .bulk-question")
    expect(question).to_have_text(
        "Cancel all 11 customers matching search “Customer 1”? Those still waiting are never called."
    )
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'bulk-question'")
    assert Campaign.objects.get(pk=campaign.pk).customers_cancelled == 0  # nothing before the answer
    shoot(page, "customers-all-filtered-confirm")
    page.get_by_role("button", name="Yes, do it").click()
    expect(page.locator(".messages")).to_contain_text("Cancelled 11 of 11.")
    campaign.refresh_from_db()
    assert (campaign.customers_cancelled, campaign.customers_pending) == (11, 19)

    # The 19 still waiting move into a scheduled campaign of the organization.
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}/customers?state=pending")
    page.get_by_label("Every one matching the filter, on every page").check()
    page.get_by_label("With the chosen customers").select_option("move")
    page.get_by_label("Into campaign (for a move)").select_option(label="Winback (scheduled)")
    page.get_by_role("button", name="Continue…").click()
    expect(question).to_have_text(
        "Move all 19 customers matching state “pending” into “Winback”? Only those never called yet move."
    )
    page.get_by_role("button", name="Yes, do it").click()
    expect(page.locator(".messages")).to_contain_text("Moved 19 of 19 into “Winback”.")
    winback.refresh_from_db()
    assert (winback.customers_total, winback.customers_pending) == (20, 20)
    assert problems == [], "\n".join(problems)


def test_an_admin_keeps_the_organizations_calendar(live_server, page: Page, owner, org) -> None:
    problems = watch(page)
    log_in(page, live_server.url, "olivia")
    page.get_by_role("link", name="Organization").click()
    page.get_by_role("link", name="Calendar and region rules").click()
    expect(page.get_by_role("heading", name="Calendar and region rules", level=1)).to_be_visible()
    page.get_by_label("Date", exact=True).fill("2026-12-25")
    page.get_by_role("button", name="Add the date").click()
    expect(page.locator(".messages")).to_contain_text("Nobody is called on 2026-12-25 any more.")
    expect(page.locator("#blackout-dates [data-day]")).to_have_count(1)

    page.get_by_label("Region", exact=True).fill("Florida")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"):
        page.get_by_label(day).check()
    page.get_by_label("From (HH:MM)").fill("08:00")
    page.get_by_label("Until (HH:MM)").fill("20:00")
    page.get_by_role("button", name="Add the rule").click()
    expect(page.locator("#id_region_error")).to_contain_text(
        "must be a country (DE) or a country and subdivision (US-FL)"
    )
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'id_region'")
    page.get_by_label("Region", exact=True).fill("US-FL")
    page.get_by_role("button", name="Add the rule").click()
    row = page.locator("#region-rules tr[data-region='US-FL']")
    expect(row).to_contain_text("Mon, Tue, Wed, Thu, Fri, Sat 08:00–20:00")
    expect(row).to_contain_text("Sun")
    row.get_by_role("button", name="Remove the rule for US-FL").click()
    expect(page.locator(".messages")).to_contain_text("The rule for US-FL is removed.")
    expect(page.locator("#region-rules")).to_have_count(0)
    page.get_by_role("button", name="Remove 2026-12-25").click()
    expect(page.locator("#blackout-dates")).to_have_count(0)
    org.refresh_from_db()
    assert (org.blackout_dates, org.region_rules) == ([], [])
    # The page with a refused rule, at both widths.
    page.get_by_label("Region", exact=True).fill("Florida")
    page.get_by_label("Monday").check()
    page.get_by_role("button", name="Add the rule").click()
    expect(page.locator("#id_region_error")).to_be_visible()
    shoot(page, "calendar-rule-error")
    assert problems == [], "\n".join(problems)


def test_the_usage_page_and_a_campaigns_costs_read_what_the_providers_reported(
    live_server, page: Page, org, split
) -> None:
    org.included_minutes, org.quota_mode = 3, "warn"
    org.save(update_fields=["included_minutes", "quota_mode"])
    problems = watch(page)
    log_in(page, live_server.url, "olivia")
    page.get_by_role("link", name="Organization").click()
    usage = page.locator("#usage")
    expect(usage.locator("#usage-calls")).to_have_text("3")
    expect(usage.locator("#usage-minutes")).to_have_text("3.0")
    expect(usage.locator("#usage-cost")).to_have_text("$0.25, 412 credits")
    expect(page.locator("#quota-warning")).to_contain_text("The 3 included minutes are used.")
    expect(page.locator("#quota-warning")).to_contain_text("Calls go on; this is a warning only.")
    shoot(page, "organization-usage")

    page.goto(f"{live_server.url}/app/campaigns/{split.pk}")
    costs = page.locator("#campaign-costs")
    expect(costs.locator("caption")).to_contain_text("Total: $0.25, 412 credits.")
    expect(costs.get_by_role("row", name="A agent")).to_contain_text("$0.25")
    expect(costs.get_by_role("row", name="B agent")).to_contain_text("412 credits")
    costs.scroll_into_view_if_needed()
    shoot(page, "campaign-costs")
    assert problems == [], "\n".join(problems)
