"""A manager builds a contact list in the browser: a CSV with a bad line (listed, nothing saved),
the fixed file, a segment whose filter is first refused next to its field, contacts paged with
htmx; then a scheduled campaign targets the segment, gets a blackout date and its policy for
ambiguous numbers, and copies the segment when Start is pressed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Customer, ListContact
from tests.e2e.browser import log_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def contacts_csv(bad: bool) -> bytes:
    rows = ["number,name,plan,state"]
    for i in range(55):
        rows.append(
            f"+1702555{i:04d},Contact {i},{'premium' if i % 5 == 0 else 'basic'},{'NV' if i % 2 else 'CA'}"
        )
    if bad:
        rows[3] = "+1702,Typo,basic,NV"  # line 4
    return ("\n".join(rows) + "\n").encode()


def upload(page: Page, data: bytes) -> None:
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "c.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_role("button", name="Import").click()


def test_a_manager_builds_a_list_and_a_campaign_copies_its_segment(
    live_server, page: Page, manager, make_campaign
) -> None:
    campaign = make_campaign(2, name="Nevada renewals", strategy={"auto_start": False})
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm
    log_in(page, live_server.url, "manny")
    page.get_by_role("link", name="Contact lists").click()
    page.get_by_label("Name").fill("Renewals 2027")
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("heading", name="Renewals 2027", level=1)).to_be_visible()

    upload(page, contacts_csv(bad=True))
    expect(page.get_by_role("alert")).to_contain_text("line 4.number '+1702' too short for its country code")
    assert ListContact.objects.count() == 0
    upload(page, contacts_csv(bad=False))
    expect(page.get_by_text("Imported 55 contacts (0 already on the list, skipped).")).to_be_visible()

    page.get_by_label("Segment name").fill("Premium Nevada")
    page.get_by_label("Filter").fill("plan = premium AND state IN (NV")
    page.get_by_role("button", name="Save segment").click()
    expect(page.locator(".field.has-error")).to_contain_text("expected ')' after the values at the end")
    page.get_by_label("Filter").fill("plan = premium AND state IN (NV)")
    page.get_by_role("button", name="Save segment").click()
    segments = page.get_by_role("region", name="Segments")
    expect(segments.get_by_role("row", name="Premium Nevada").locator("td.num")).to_have_text(
        "5"
    )  # 5, 15 … 45

    contacts = page.locator("#list-contacts")
    expect(contacts).to_contain_text("+17025550049")
    page.get_by_role("link", name="Next").click()  # htmx swaps the rows only
    expect(contacts).to_contain_text("+17025550054")
    expect(contacts).not_to_contain_text("+17025550049")
    expect(page.get_by_role("heading", name="Renewals 2027", level=1)).to_be_visible()
    shoot(page, "contact-list")

    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    page.get_by_label("Renewals 2027 › Premium Nevada").check()
    page.get_by_role("button", name="Save lists").click()
    expect(
        page.get_by_text("When it starts, the campaign will copy: Renewals 2027 › Premium Nevada.")
    ).to_be_visible()
    page.get_by_label("Blackout dates").fill("2099-12-25")
    page.get_by_label("A number that may be in several time zones").select_option("campaign")
    page.get_by_role("button", name="Save calendar").click()
    expect(page.get_by_text("Saved the calling calendar.")).to_be_visible()
    expect(page.get_by_role("region", name="Calling calendar")).to_contain_text("Blackout dates: 2099-12-25.")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#campaign-status .badge")).to_have_text("In progress")
    page.reload()
    card = page.get_by_role("region", name="Contact lists")
    expect(card).to_contain_text("5 customers added, 0 already in the campaign, 0 on the do-not-call list")
    shoot(page, "campaign-with-lists")
    assert Customer.objects.filter(campaign=campaign).count() == 7
